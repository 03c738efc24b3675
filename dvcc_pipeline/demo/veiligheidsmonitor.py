"""CBS Veiligheidsmonitor: a StatLine-shaped long table per survey year."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from pathlib import Path

from dvcc_pipeline.demo import calibration as cal
from dvcc_pipeline.demo.municipalities import Gemeente
from dvcc_pipeline.demo.writers import csv_rows

FEED_ID = "veiligheidsmonitor"
HEADER: tuple[str, ...] = ("ID", "RegioS", "Perioden", "Marges", "Onderwerp", "Waarde")
ONBEKEND = "."
NL01_RESPONDENTEN = 182_000
# Subjects measured among victims, not all residents: need more respondents to be reliable.
AMONG_VICTIMS = frozenset({"aangifte_online", "melding_elders_online"})


def file_name(year: int, version: int = 1) -> str:
    suffix = f"_v{version}" if version > 1 else ""
    return f"veiligheidsmonitor_{year}{suffix}.csv"


def _interval(value: float, n: float) -> tuple[float, float]:
    half = 1.96 * math.sqrt(max(value, 0.5) * (100 - value) / n) * 1.3  # design effect
    return round(max(0.0, value - half), 1), round(min(100.0, value + half), 1)


def _region_rows(
    rng: random.Random,
    regio: str,
    year: int,
    respondenten: int,
    base: dict[str, tuple[float, float, float]],
    exact: bool,
    offset: float = 0.0,
) -> Iterator[tuple[str, str, str, str]]:
    victim_share = base["slachtoffer_online_totaal"][0] / 100
    for subject in cal.VM_SUBJECTS:
        if subject == "respondenten":
            yield regio, "MW00000", subject, str(respondenten)
            continue
        n = respondenten * (victim_share if subject in AMONG_VICTIMS else 1)
        if n < cal.VM_MIN_RESPONDENTEN_BETROUWBAAR * (0.4 if subject in AMONG_VICTIMS else 1):
            yield regio, "MW00000", subject, ONBEKEND
            continue
        value, low, high = base[subject]
        if not exact:
            value = round(min(99.0, max(0.5, value + offset + rng.gauss(0, value * 0.08))), 1)
            low, high = _interval(value, n)
        yield regio, "MW00000", subject, f"{value:.1f}"
        yield regio, "MOG0095", subject, f"{low:.1f}"
        yield regio, "MBG0095", subject, f"{high:.1f}"


def write_year(landing: Path, year: int, seed: int, gemeenten: tuple[Gemeente, ...]) -> list[tuple[Path, int]]:
    """Unscaled: the survey has a fixed shape (regions x subjects x margins)."""
    path = landing / file_name(year)
    rng = random.Random(f"{seed}:{path.name}")
    base = cal.VM_RE03[year]
    per_gemeente = {g.code: round(g.inwoners / 1000 * cal.VM_RESPONDENTEN_PER_1000_INWONERS) for g in gemeenten}
    parts = [
        _region_rows(rng, "NL01", year, NL01_RESPONDENTEN, base, False, cal.VM_NL01_OFFSET),
        _region_rows(rng, "RE03", year, sum(per_gemeente.values()), base, True),
        *(_region_rows(rng, code, year, per_gemeente[code], base, False) for code in sorted(per_gemeente)),
    ]
    n = 0
    with csv_rows(path, HEADER, delimiter=";", quote_all=True) as writer:
        for part in parts:
            for regio, marge, subject, waarde in part:
                n += 1
                writer.writerow([str(n), regio, f"{year}JJ00", marge, subject, waarde])
    return [(path, n)]
