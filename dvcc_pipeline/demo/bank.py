"""Bank fraud reports: one Dutch Excel-style CSV per bank per month."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dvcc_pipeline.demo import calibration as cal
from dvcc_pipeline.demo.municipalities import Gemeente
from dvcc_pipeline.demo.sampling import WeightedChoice, month_bounds, sorted_days
from dvcc_pipeline.demo.writers import csv_rows

FEED_ID = "bank_fraudemeldingen"
HEADER: tuple[str, ...] = (
    "melding_id",
    "bank",
    "meldingsdatum",
    "fraudetype",
    "kanaal",
    "gemeentecode",
    "klanttype",
    "leeftijdsklasse",
    "schadebedrag",
    "vergoed_bedrag",
    "aangifte_gedaan",
)
# Share of the region's bank fraud reports per bank: different sizes on purpose.
BANK_SHARES: dict[str, float] = {
    "ABNA": 0.21,
    "INGB": 0.30,
    "RABO": 0.26,
    "SNSB": 0.08,
    "ASNB": 0.04,
    "BUNQ": 0.05,
    "KNAB": 0.03,
    "TRIO": 0.03,
}
MONTHLY_TOTAL_2022 = 1_700  # reports per month over all banks at scale 1
YEARLY_GROWTH = 1.07

INVALID_FILE = ("INGB", 2024, 5)
DUPLICATE_FILE = ("ABNA", 2024, 11)
WRONG_DELIMITER_FILE = ("KNAB", 2025, 2)


@dataclass(frozen=True)
class _Type:
    weight: float
    kanaal: dict[str, float]
    leeftijd: str
    zakelijk: float
    gem_schade: float
    spreiding: float
    vergoed: tuple[float, float, float, float]  # shares: none (NULL), 0, half, full
    aangifte: float  # share that also filed an aangifte


TYPES: dict[str, _Type] = {
    "bankhelpdeskfraude": _Type(
        0.22,
        {"telefoon": 0.6, "sms": 0.2, "whatsapp": 0.1, "email": 0.05, "overig": 0.05},
        "senioren",
        0.02,
        4_200,
        1.0,
        (0.1, 0.25, 0.2, 0.45),
        0.35,
    ),
    "phishing": _Type(
        0.20,
        {"sms": 0.35, "email": 0.35, "whatsapp": 0.1, "website": 0.2},
        "algemeen",
        0.05,
        1_200,
        1.0,
        (0.2, 0.3, 0.0, 0.5),
        0.2,
    ),
    "vriend_in_nood": _Type(
        0.10, {"whatsapp": 0.85, "sms": 0.1, "overig": 0.05}, "senioren", 0.0, 2_300, 0.8, (0.2, 0.7, 0.0, 0.1), 0.25
    ),
    "aankoopfraude": _Type(
        0.22,
        {"marktplaats": 0.55, "website": 0.3, "sociale_media": 0.15},
        "jong_handel",
        0.03,
        180,
        1.0,
        (0.4, 0.6, 0.0, 0.0),
        0.2,
    ),
    "verkoopfraude": _Type(
        0.06, {"marktplaats": 0.9, "overig": 0.1}, "jong_handel", 0.02, 250, 1.0, (0.4, 0.6, 0.0, 0.0), 0.15
    ),
    "beleggingsfraude": _Type(
        0.04,
        {"website": 0.4, "sociale_media": 0.4, "telefoon": 0.2},
        "beleggen",
        0.03,
        18_000,
        1.3,
        (0.2, 0.8, 0.0, 0.0),
        0.45,
    ),
    "datingfraude": _Type(
        0.03,
        {"sociale_media": 0.6, "website": 0.3, "whatsapp": 0.1},
        "dating",
        0.0,
        7_000,
        1.2,
        (0.3, 0.7, 0.0, 0.0),
        0.2,
    ),
    "identiteitsfraude": _Type(
        0.05, {"website": 0.4, "email": 0.3, "overig": 0.3}, "algemeen", 0.05, 900, 1.0, (0.3, 0.4, 0.0, 0.3), 0.3
    ),
    "factuurfraude": _Type(0.04, {"email": 0.9, "overig": 0.1}, "algemeen", 0.7, 8_500, 1.2, (0.3, 0.6, 0.0, 0.1), 0.3),
    "overig": _Type(
        0.04, {"overig": 0.5, "telefoon": 0.2, "email": 0.3}, "algemeen", 0.1, 600, 1.0, (0.3, 0.6, 0.0, 0.1), 0.15
    ),
}
HELPDESK_TREND = {2022: 1.0, 2023: 1.1, 2024: 1.2, 2025: 1.15}


def file_name(bank: str, year: int, month: int, version: int = 1) -> str:
    suffix = f"_v{version}" if version > 1 else ""
    return f"bank_{bank}_{year}-{month:02d}{suffix}.csv"


def month_count(bank: str, year: int, month: int, scale: float) -> int:
    """Reports of one bank in one month; at least one so no file is header-only."""
    seasonal = 1 + 0.08 * math.sin((month - 3) / 12 * 2 * math.pi)
    total = MONTHLY_TOTAL_2022 * YEARLY_GROWTH ** (year - 2022) * seasonal
    return max(1, round(total * BANK_SHARES[bank] * scale))


def _money(value: float) -> str:
    cents = round(value * 100)
    return f"{cents // 100},{cents % 100:02d}"


def bank_rows(
    bank: str, year: int, month: int, scale: float, seed: int, gemeenten: tuple[Gemeente, ...]
) -> Iterator[list[str]]:
    rng = random.Random(f"{seed}:{file_name(bank, year, month)}")
    names = list(TYPES)
    weights = [t.weight * (HELPDESK_TREND[year] if n == "bankhelpdeskfraude" else 1.0) for n, t in TYPES.items()]
    pick_type = WeightedChoice(names, weights)
    kanaal = {n: WeightedChoice(list(t.kanaal), list(t.kanaal.values())) for n, t in TYPES.items()}
    ages = {n: WeightedChoice(cal.AGE_CLASSES, cal.AGE_PROFILES[t.leeftijd]) for n, t in TYPES.items()}
    where = WeightedChoice([g.code for g in gemeenten], [g.inwoners for g in gemeenten])
    start, end = month_bounds(year, month)
    n = month_count(bank, year, month, scale)
    for seq, day in enumerate(sorted_days(rng, start, end, n), start=1):
        name = pick_type.pick(rng)
        t = TYPES[name]
        zakelijk = rng.random() < t.zakelijk
        mu = math.log(t.gem_schade) - t.spreiding**2 / 2
        schade = round(rng.lognormvariate(mu, t.spreiding), 2)
        r = rng.random()
        none, zero, half, _ = t.vergoed
        if r < none:
            vergoed = ""
        elif r < none + zero:
            vergoed = "0,00"
        elif r < none + zero + half:
            vergoed = _money(schade / 2)
        else:
            vergoed = _money(schade)
        r = rng.random()
        aangifte = "ja" if r < t.aangifte else ("onbekend" if r > 0.8 else "nee")
        yield [
            f"{bank}{year}{month:02d}-{seq:06d}-{rng.getrandbits(20):05X}",
            bank,
            dt.date.fromordinal(day).strftime("%d-%m-%Y"),
            name,
            kanaal[name].pick(rng),
            where.pick(rng),
            "zakelijk" if zakelijk else "particulier",
            "" if zakelijk else ages[name].pick(rng),
            _money(schade),
            vergoed,
            aangifte,
        ]


# Designed invalid rows for INVALID_FILE: (column, value, Dutch reason).
_INVALID: tuple[tuple[str, str], ...] = (
    ("fraudetype", "spoofing"),
    ("meldingsdatum", "31-04-2024"),
    ("schadebedrag", "-125,00"),
    ("vergoed_bedrag", "999999,00"),
)


def write_month(
    landing: Path,
    wave2: Path,
    bank: str,
    year: int,
    month: int,
    scale: float,
    seed: int,
    gemeenten: tuple[Gemeente, ...],
) -> list[tuple[Path, int]]:
    rows = bank_rows(bank, year, month, scale, seed, gemeenten)
    name = file_name(bank, year, month)
    if (bank, year, month) == WRONG_DELIMITER_FILE:
        v1, v2 = landing / name, wave2 / file_name(bank, year, month, 2)
        n = 0
        with (
            csv_rows(v1, HEADER, delimiter=",", bom=True, crlf=True) as w1,
            csv_rows(v2, HEADER, delimiter=";", bom=True, crlf=True) as w2,
        ):
            for row in rows:
                w1.writerow(row)
                w2.writerow(row)
                n += 1
        return [(v1, n), (v2, n)]
    path = landing / name
    invalid = (bank, year, month) == INVALID_FILE
    n = 0
    with csv_rows(path, HEADER, delimiter=";", bom=True, crlf=True) as writer:
        for row in rows:
            writer.writerow(row)
            n += 1
            if invalid and n % 100 == 0 and n // 100 <= len(_INVALID):
                column, value = _INVALID[n // 100 - 1]
                bad = list(row)
                bad[0] = f"{row[0]}-X"
                bad[HEADER.index(column)] = value
                writer.writerow(bad)
                n += 1
    written = [(path, n)]
    if (bank, year, month) == DUPLICATE_FILE:
        copy = wave2 / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(path.read_bytes())
        written.append((copy, n))
    return written
