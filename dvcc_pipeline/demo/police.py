"""Police registrations: one CSV per quarter, calibrated by :mod:`calibration`."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dvcc_pipeline.demo import calibration as cal
from dvcc_pipeline.demo.municipalities import Gemeente
from dvcc_pipeline.demo.sampling import (
    WeightedChoice,
    heavy_tailed_amounts,
    quarter_bounds,
    sorted_days,
    valid_bsn,
)
from dvcc_pipeline.demo.writers import csv_rows

FEED_ID = "politie_registraties"
HEADER: tuple[str, ...] = (
    "registratie_id",
    "registratiedatum",
    "pleegdatum",
    "soort_registratie",
    "maatschappelijke_klasse",
    "classificatie",
    "online_kenmerk",
    "modus_operandi",
    "gemeentecode",
    "slachtoffer_type",
    "leeftijdsklasse",
    "schadebedrag_eur",
    "verdachte_bekend",
    "doorgestuurd_om",
)
COL = {name: i for i, name in enumerate(HEADER)}

# Designed defects, each appended once after a valid row of the quarter that carries them:
# (column, value or None for "derived", Dutch reason for the scenario list).
INVALID_ROWS: tuple[tuple[str, str | None], ...] = (
    ("soort_registratie", "aangfite"),
    ("registratiedatum", "2023-04-31"),
    ("schadebedrag_eur", "-250.00"),
    ("gemeentecode", "GM0363"),
    ("pleegdatum", None),  # after registratiedatum
    ("online_kenmerk", "online"),
)
INVALID_PERIOD = (2023, 2)


def file_name(year: int, quarter: int, version: int = 1) -> str:
    suffix = f"_v{version}" if version > 1 else ""
    return f"politie_registraties_{year}Q{quarter}{suffix}.csv"


@dataclass(frozen=True)
class _QuarterCell:
    cell: cal.PoliceCell
    n: int
    amounts: list[float | None]
    doorgestuurd: int
    ages: WeightedChoice


def _quarter_cells(rng: random.Random, year: int, quarter: int, scale: float) -> list[_QuarterCell]:
    out = []
    share_online = cal.doorgestuurd_share(year)
    for cell in cal.police_plan(year):
        n_year = round(cell.aantal * scale)
        n = cal.apportion(n_year, cal.QUARTER_WEIGHTS)[quarter - 1]
        if n == 0:
            continue
        with_damage = n - round(n * cell.form.zonder_schade)
        target = cell.schade_totaal * n / cell.aantal
        amounts: list[float | None] = [
            *heavy_tailed_amounts(rng, with_damage, target, cell.form.spreiding, cents=False),
            *([None] * (n - with_damage)),
        ]
        rng.shuffle(amounts)
        online = cell.online_kenmerk in ("cybercrime", "gedigitaliseerd")
        share = share_online if online else cal.DOORGESTUURD_OFFLINE
        ages = WeightedChoice(cal.AGE_CLASSES, cal.AGE_PROFILES[cell.form.leeftijd])
        out.append(_QuarterCell(cell, n, amounts, round(n * share), ages))
    return out


def police_rows(
    year: int, quarter: int, scale: float, seed: int, gemeenten: tuple[Gemeente, ...]
) -> Iterator[list[str]]:
    """The calibrated rows of one quarter, in registration-date order."""
    rng = random.Random(f"{seed}:{file_name(year, quarter)}")
    cells = _quarter_cells(rng, year, quarter, scale)
    order = [i for i, qc in enumerate(cells) for _ in range(qc.n)]
    rng.shuffle(order)
    start, end = quarter_bounds(year, quarter)
    days = sorted_days(rng, start, end, len(order))
    where = WeightedChoice([g.code for g in gemeenten], [g.inwoners for g in gemeenten])
    used = [0] * len(cells)
    iso: dict[int, str] = {}

    def fmt(ordinal: int) -> str:
        text = iso.get(ordinal)
        if text is None:
            text = iso[ordinal] = dt.date.fromordinal(ordinal).isoformat()
        return text

    for index, day in zip(order, days, strict=True):
        qc = cells[index]
        cell, form = qc.cell, qc.cell.form
        k = used[index]
        used[index] = k + 1
        pleeg = "" if rng.random() < 0.06 else fmt(day - min(365, int(rng.expovariate(1 / 12))))
        organisatie = rng.random() < form.organisatie
        amount = qc.amounts[k]
        yield [
            f"P{rng.getrandbits(64):016X}",
            fmt(day),
            pleeg,
            cell.soort,
            form.klasse,
            cell.classificatie,
            cell.online_kenmerk,
            form.modus_operandi,
            where.pick(rng),
            "organisatie" if organisatie else "persoon",
            "" if organisatie else qc.ages.pick(rng),
            "" if amount is None else f"{amount:.2f}",
            "J" if rng.random() < form.verdachte_bekend else "N",
            "J" if k < qc.doorgestuurd else "N",
        ]


def write_quarter(
    landing: Path, wave2: Path, year: int, quarter: int, scale: float, seed: int, gemeenten: tuple[Gemeente, ...]
) -> list[tuple[Path, int]]:
    """Write the quarter's file(s), including the designed scenarios; returns (path, rows)."""
    rows = police_rows(year, quarter, scale, seed, gemeenten)
    if (year, quarter) == (2024, 2):
        return _write_with_faulty_first_version(landing, wave2, year, quarter, seed, rows)
    if (year, quarter) == (2025, 1):
        return _write_with_bsn_first_version(landing, wave2, year, quarter, seed, rows)
    path = landing / file_name(year, quarter)
    count = 0
    invalid = (year, quarter) == INVALID_PERIOD
    rng = random.Random(f"{seed}:{path.name}:ongeldig")
    with csv_rows(path, HEADER) as writer:
        for row in rows:
            writer.writerow(row)
            count += 1
            if invalid and count % 700 == 0 and count // 700 <= len(INVALID_ROWS):
                writer.writerow(_corrupt(row, INVALID_ROWS[count // 700 - 1], rng))
                count += 1
    return [(path, count)]


def _corrupt(row: list[str], defect: tuple[str, str | None], rng: random.Random) -> list[str]:
    column, value = defect
    bad = list(row)
    bad[COL["registratie_id"]] = f"P{rng.getrandbits(64):016X}"
    if value is None:  # pleegdatum after registratiedatum
        reg = dt.date.fromisoformat(row[COL["registratiedatum"]])
        value = (reg + dt.timedelta(days=5)).isoformat()
    if column == "schadebedrag_eur" and not row[COL["schadebedrag_eur"]]:
        bad[COL["soort_registratie"]] = "aangifte"
    bad[COL[column]] = value
    return bad


def _write_with_faulty_first_version(
    landing: Path, wave2: Path, year: int, quarter: int, seed: int, rows: Iterator[list[str]]
) -> list[tuple[Path, int]]:
    """v1 misses ~3% of the rows and has some labels swapped; v2 (wave 2) is the truth."""
    v1, v2 = landing / file_name(year, quarter), wave2 / file_name(year, quarter, 2)
    rng = random.Random(f"{seed}:{v1.name}:v1")
    swap = {"gedigitaliseerd": "cybercrime", "cybercrime": "gedigitaliseerd"}
    n1 = n2 = 0
    with csv_rows(v1, HEADER) as w1, csv_rows(v2, HEADER) as w2:
        for row in rows:
            w2.writerow(row)
            n2 += 1
            if rng.random() < 0.03:
                continue
            if rng.random() < 0.04:
                label = row[COL["online_kenmerk"]]
                row = [*row]
                row[COL["online_kenmerk"]] = swap.get(label, label)
            w1.writerow(row)
            n1 += 1
    return [(v1, n1), (v2, n2)]


def _write_with_bsn_first_version(
    landing: Path, wave2: Path, year: int, quarter: int, seed: int, rows: Iterator[list[str]]
) -> list[tuple[Path, int]]:
    """v1 carries an extra `bsn` column with real-looking citizen service numbers."""
    v1, v2 = landing / file_name(year, quarter), wave2 / file_name(year, quarter, 2)
    rng = random.Random(f"{seed}:{v1.name}:bsn")
    n = 0
    with csv_rows(v1, (*HEADER, "bsn")) as w1, csv_rows(v2, HEADER) as w2:
        for row in rows:
            w2.writerow(row)
            w1.writerow([*row, valid_bsn(rng)])
            n += 1
    return [(v1, n), (v2, n)]
