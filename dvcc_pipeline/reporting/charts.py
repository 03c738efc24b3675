"""Inline SVG charts for the reports: no scripts, no fonts, nothing fetched.

Each function returns one `<svg>` element as text, with a `<title>` so a screen reader and a
printed page still say what the chart shows. A value without a figure (a hidden amount, a
quarter not yet published) is passed as None and drawn as an empty slot with the caller's text;
published counts are never None, so lines of counts run unbroken.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from dvcc_pipeline.reporting.numbers import getal

PALETTE = ("#1f5f8b", "#c8553d", "#2a9d8f", "#8d6a9f", "#e9a03b", "#5c6b73")


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    text: str  # the value as the reader sees it ("1.234", "€ 1.234", "afgeschermd")


def bar_chart(title: str, bars: Sequence[Bar], width: int = 640) -> str:
    """Horizontal bars, one per label; a value without a figure gets no bar but keeps its text."""
    row, label_w, pad = 26, 230, 8
    height = row * len(bars) + 2 * pad
    top = max((b.value for b in bars if b.value is not None), default=0) or 1
    bar_w = width - label_w - 130
    parts = [_open(title, width, height)]
    for i, bar in enumerate(bars):
        y = pad + i * row
        length = 0 if bar.value is None else max(1.0, bar_w * bar.value / top)
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end">{escape(bar.label)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{length:.1f}" height="{row - 8}" fill="{PALETTE[0]}"/>'
            f'<text x="{label_w + length + 6:.1f}" y="{y + 17}">{escape(bar.text)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]  # one per x label; None breaks the line


def line_chart(
    title: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    marker_at: int | None = None,
    marker_text: str = "",
    width: int = 680,
    height: int = 280,
) -> str:
    """Lines over quarters; an optional dashed vertical marker (the series break) before x index `marker_at`."""
    left, right, top, bottom = 52, 210, 16, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    highest = max((v for s in series for v in s.values if v is not None), default=0)
    tick = _tick(highest)
    peak = tick * max(1, math.ceil(highest / tick))  # the axis ends on a gridline
    step = plot_w / max(1, len(x_labels) - 1)

    def x(i: float) -> float:
        return left + i * step

    def y(v: float) -> float:
        return top + plot_h - plot_h * v / peak

    parts = [_open(title, width, height)]
    for value in (tick * i for i in range(round(peak / tick) + 1)):
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#ddd"/>'
            f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{_short(value)}</text>'
        )
    for i, label in enumerate(x_labels):
        if label.endswith("Q1") or len(x_labels) <= 8:
            parts.append(f'<text x="{x(i):.1f}" y="{height - bottom + 18}" text-anchor="middle">{escape(label)}</text>')
    if marker_at is not None and 0 < marker_at < len(x_labels):
        mx = x(marker_at - 0.5)
        parts.append(
            f'<line x1="{mx:.1f}" x2="{mx:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#000" stroke-dasharray="5,4"/>'
            f'<text x="{mx + 4:.1f}" y="{top + 12}" class="marker">{escape(marker_text)}</text>'
        )
    for n, s in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        segments: list[list[str]] = [[]]
        for i, v in enumerate(s.values):
            if v is None:
                segments.append([])
            else:
                segments[-1].append(f"{x(i):.1f},{y(v):.1f}")
        for seg in segments:
            if len(seg) > 1:
                parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2.5" points="{" ".join(seg)}"/>')
        ly = top + 14 + n * 18
        parts.append(
            f'<rect x="{left + plot_w + 12}" y="{ly - 9}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{left + plot_w + 30}" y="{ly + 1}">{escape(s.name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class Interval:
    label: str
    value: float | None
    low: float | None
    high: float | None
    target: float | None = None


def interval_chart(title: str, rows: Sequence[Interval], width: int = 720, scale_max: float = 50.0) -> str:
    """Percentages as a dot with its confidence interval; a target, if any, as a red tick."""
    row, label_w, pad = 30, 300, 10
    plot_w = width - label_w - 30
    height = row * len(rows) + 2 * pad + 18

    def x(v: float) -> float:
        return label_w + plot_w * min(v, scale_max) / scale_max

    parts = [_open(title, width, height)]
    for tick in range(0, int(scale_max) + 1, 10):
        parts.append(
            f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{pad}" y2="{height - 22}" stroke="#eee"/>'
            f'<text x="{x(tick):.1f}" y="{height - 6}" text-anchor="middle">{tick}%</text>'
        )
    for i, r in enumerate(rows):
        cy = pad + i * row + row / 2
        parts.append(f'<text x="{label_w - 8}" y="{cy + 4:.1f}" text-anchor="end">{escape(r.label)}</text>')
        if r.low is not None and r.high is not None:
            parts.append(
                f'<line x1="{x(r.low):.1f}" x2="{x(r.high):.1f}" y1="{cy:.1f}" y2="{cy:.1f}" '
                f'stroke="{PALETTE[0]}" stroke-width="3"/>'
            )
        if r.value is not None:
            parts.append(f'<circle cx="{x(r.value):.1f}" cy="{cy:.1f}" r="5" fill="{PALETTE[0]}"/>')
        if r.target is not None:
            parts.append(
                f'<line x1="{x(r.target):.1f}" x2="{x(r.target):.1f}" y1="{cy - 9:.1f}" y2="{cy + 9:.1f}" '
                f'stroke="{PALETTE[1]}" stroke-width="3"/>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _open(title: str, width: int, height: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" class="chart"><title>{escape(title)}</title>'
    )


def _tick(peak: float) -> float:
    """A whole, round step (1, 2 or 5 times a power of ten) giving at most five steps up to `peak`.

    Counts below eenheid are multiples of five, so round steps keep the axis in the same numbers.
    """
    if peak <= 5:
        return 1
    power = 10 ** math.floor(math.log10(peak / 5))
    return next(f * power for f in (1, 2, 5, 10) if f * power >= peak / 5)


def _short(value: float) -> str:
    """An axis label in the report's Dutch number format."""
    return getal(value)
