"""The informatiebeeld: a quarterly HTML report per basisteam and municipality for the driehoek.

Reads only the published file, so disclosure control holds by construction (counts below eenheid
arrive rounded, hidden amounts as NULL); see `data.py` for what is read and `render.py` for how
it is shown.
"""

from __future__ import annotations

import os
from pathlib import Path

from dvcc_pipeline.config import Settings
from dvcc_pipeline.publication.contract import load_published_contract
from dvcc_pipeline.reporting.data import Region, connect, load_report, published_quarters, regions
from dvcc_pipeline.reporting.render import render_index, render_report

__all__ = ["select_regions", "write_reports"]


def select_regions(all_regions: list[Region], basisteam: str | None, gemeente: str | None) -> list[Region]:
    """The regions asked for: one basisteam, one municipality (by code), or all of them."""
    if basisteam:
        chosen = [r for r in all_regions if r.niveau == "basisteam" and r.naam.lower() == basisteam.lower()]
    elif gemeente:
        chosen = [r for r in all_regions if r.niveau == "gemeente" and r.code.upper() == gemeente.upper()]
    else:
        chosen = all_regions
    if not chosen and basisteam:
        valid = ", ".join(sorted(r.naam for r in all_regions if r.niveau == "basisteam"))
        raise ValueError(f"onbekend basisteam {basisteam!r}; kies uit: {valid}")
    if not chosen:
        valid = ", ".join(f"{r.code} ({r.naam})" for r in all_regions if r.niveau == "gemeente")
        raise ValueError(f"onbekende gemeente {gemeente!r}; kies een gemeentecode uit: {valid}")
    return chosen


def write_reports(
    settings: Settings, quarter: str | None = None, basisteam: str | None = None, gemeente: str | None = None
) -> list[Path]:
    """Write the reports of one quarter (default: the latest published) and the index pages.

    Files go to `reports/<kwartaal>/`; `reports/index.html` is the overview of the quarter just
    written. Returns the report files written (empty when nothing is published yet).
    """
    if not settings.published_path.exists():
        return []
    policy = load_published_contract().policy
    k, base = policy.min_cell_size, policy.rounding_base
    with connect(settings.published_path) as conn:
        quarters = published_quarters(conn)
        if not quarters:
            return []
        kwartaal = (quarter or quarters[-1]).upper()
        if kwartaal not in quarters:
            raise ValueError(f"kwartaal {kwartaal} is niet gepubliceerd (beschikbaar: {quarters[0]} – {quarters[-1]})")
        all_regions = regions(conn)
        chosen = select_regions(all_regions, basisteam, gemeente)
        pages = [(region, render_report(load_report(conn, region, kwartaal, k, base))) for region in chosen]

    folder = settings.reports_dir / kwartaal
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for region, html in pages:
        written.append(_write(folder / f"{region.slug}.html", html))
    # the index lists every report of this quarter that exists, also from earlier partial runs
    present = [(r, f"{r.slug}.html") for r in all_regions if (folder / f"{r.slug}.html").exists()]
    others = sorted(p.name for p in settings.reports_dir.iterdir() if p.is_dir() and p.name != kwartaal)
    _write(folder / "index.html", render_index(kwartaal, present, others, prefix=""))
    _write(settings.reports_dir / "index.html", render_index(kwartaal, present, others, prefix=f"{kwartaal}/"))
    return written


def _write(path: Path, text: str) -> Path:
    """Write beside the target and rename, so a reader never sees half a page."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
