"""Fraudehelpdesk reports: one Excel workbook per month (sheet `Meldingen` + `Toelichting`)."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dvcc_pipeline.demo import calibration as cal
from dvcc_pipeline.demo.municipalities import Gemeente
from dvcc_pipeline.demo.sampling import WeightedChoice, month_bounds, sorted_days
from dvcc_pipeline.demo.writers import write_xlsx

FEED_ID = "fraudehelpdesk_meldingen"
SHEET = "Meldingen"
HEADER: tuple[str, ...] = (
    "Meldingnummer",
    "Datum melding",
    "Soort melding",
    "Categorie",
    "Gemeente",
    "Leeftijd",
    "Contactkanaal",
    "Schade",
    "Schadebedrag",
)
MONTHLY_TOTAL_2022 = 560
YEARLY_GROWTH = 1.06
INVALID_MONTH = (2024, 3)

# Categorie -> (weight, age profile, mean damage EUR, contact channels with weights)
CATEGORIES: dict[str, tuple[float, str, float, dict[str, float]]] = {
    "Aankoopfraude": (0.16, "jong_handel", 150, {"Marktplaats": 0.5, "Website": 0.3, "Social media": 0.2}),
    "Verkoopfraude": (0.05, "jong_handel", 220, {"Marktplaats": 0.8, "WhatsApp": 0.2}),
    "Webwinkelfraude": (0.07, "jong_handel", 120, {"Website": 0.9, "E-mail": 0.1}),
    "Bankhelpdeskfraude": (0.10, "senioren", 4_000, {"Telefoon": 0.7, "SMS": 0.2, "WhatsApp": 0.1}),
    "Phishing": (0.22, "algemeen", 900, {"E-mail": 0.45, "SMS": 0.35, "WhatsApp": 0.1, "Website": 0.1}),
    "Vriend-in-nood": (0.09, "senioren", 2_100, {"WhatsApp": 0.85, "SMS": 0.15}),
    "Beleggingsfraude": (0.03, "beleggen", 16_000, {"Website": 0.4, "Social media": 0.4, "Telefoon": 0.2}),
    "Datingfraude": (0.02, "dating", 6_500, {"Social media": 0.6, "Website": 0.4}),
    "Voorschotfraude": (0.04, "algemeen", 1_200, {"E-mail": 0.5, "Website": 0.3, "Social media": 0.2}),
    "CEO-fraude": (0.01, "algemeen", 12_000, {"E-mail": 0.9, "Telefoon": 0.1}),
    "Factuurfraude": (0.03, "algemeen", 3_500, {"E-mail": 0.9, "Overig": 0.1}),
    "Vacaturefraude": (0.02, "jong_handel", 400, {"WhatsApp": 0.5, "Social media": 0.3, "Website": 0.2}),
    "Identiteitsfraude": (0.04, "algemeen", 800, {"Website": 0.4, "E-mail": 0.3, "Overig": 0.3}),
    "Hacken": (0.05, "algemeen", 500, {"Social media": 0.4, "E-mail": 0.3, "WhatsApp": 0.3}),
    "Malware": (0.02, "algemeen", 700, {"E-mail": 0.6, "Website": 0.4}),
    "Overig": (0.05, "algemeen", 500, {"Overig": 0.6, "Telefoon": 0.4}),
}
SOORT = WeightedChoice(["Slachtoffer", "Poging", "Informatie"], [0.55, 0.35, 0.10])

# Valid spellings callers give, matched to the reference ignoring case and spaces.
ODD_SPELLINGS: dict[str, tuple[str, ...]] = {
    "Utrecht": ("  utrecht ", "UTRECHT"),
    "De Bilt": ("De  Bilt", " de bilt"),
    "Amersfoort": ("amersfoort", "Amersfoort  "),
    "Almere": (" almere",),
}
# Designed invalid rows for INVALID_MONTH: column -> value.
_INVALID: tuple[tuple[str, Any], ...] = (
    ("Gemeente", "Amsterdam"),  # not in Midden-Nederland: no match
    ("Categorie", "Spoofing"),
    ("Schadebedrag", -80.0),
    ("Leeftijd", "65-plus"),
)


def file_name(year: int, month: int, version: int = 1) -> str:
    suffix = f"_v{version}" if version > 1 else ""
    return f"fhd_meldingen_{year}-{month:02d}{suffix}.xlsx"


def fhd_rows(year: int, month: int, scale: float, seed: int, gemeenten: tuple[Gemeente, ...]) -> Iterator[list[Any]]:
    rng = random.Random(f"{seed}:{file_name(year, month)}")
    pick_cat = WeightedChoice(list(CATEGORIES), [c[0] for c in CATEGORIES.values()])
    ages = {k: WeightedChoice(cal.AGE_CLASSES, cal.AGE_PROFILES[c[1]]) for k, c in CATEGORIES.items()}
    channels = {k: WeightedChoice(list(c[3]), list(c[3].values())) for k, c in CATEGORIES.items()}
    where = WeightedChoice([g.naam for g in gemeenten], [g.inwoners for g in gemeenten])
    seasonal = 1 + 0.1 * math.sin((month - 2) / 12 * 2 * math.pi)
    n = max(1, round(MONTHLY_TOTAL_2022 * YEARLY_GROWTH ** (year - 2022) * seasonal * scale))
    start, end = month_bounds(year, month)
    for seq, day in enumerate(sorted_days(rng, start, end, n), start=1):
        cat = pick_cat.pick(rng)
        soort = SOORT.pick(rng)
        gemeente = where.pick(rng)
        if gemeente in ODD_SPELLINGS and rng.random() < 0.05:
            gemeente = rng.choice(ODD_SPELLINGS[gemeente])
        schade = soort == "Slachtoffer" and rng.random() < 0.75
        amount = None
        if schade:
            mean = CATEGORIES[cat][2]
            amount = round(rng.lognormvariate(math.log(mean) - 0.6, 1.1), 2)
        yield [
            year * 100_000_000 + month * 1_000_000 + seq,
            dt.date.fromordinal(day),
            soort,
            cat,
            gemeente,
            None if rng.random() < 0.12 else ages[cat].pick(rng),
            channels[cat].pick(rng),
            "Ja" if schade else "Nee",
            amount,
        ]


def _with_invalid_rows(rows: Iterator[list[Any]]) -> Iterator[list[Any]]:
    for n, row in enumerate(rows, start=1):
        yield row
        if n % 120 == 0 and n // 120 <= len(_INVALID):
            column, value = _INVALID[n // 120 - 1]
            bad = list(row)
            bad[0] = row[0] + 900_000
            if column == "Schadebedrag":
                bad[HEADER.index("Schade")] = "Ja"
            bad[HEADER.index(column)] = value
            yield bad


TOELICHTING = (
    ("Bron", "Fraudehelpdesk, meldingen uit de gemeenten van eenheid Midden-Nederland"),
    ("Schade", "Ja/Nee; Schadebedrag in euro's, alleen bij Schade = Ja"),
    ("Soort melding", "Alleen 'Slachtoffer' telt als slachtoffer"),
)


def write_month(
    landing: Path, year: int, month: int, scale: float, seed: int, gemeenten: tuple[Gemeente, ...]
) -> list[tuple[Path, int]]:
    path = landing / file_name(year, month)
    rows = fhd_rows(year, month, scale, seed, gemeenten)
    if (year, month) == INVALID_MONTH:
        rows = _with_invalid_rows(rows)
    n = write_xlsx(path, [(SHEET, HEADER, rows), ("Toelichting", ("Onderwerp", "Toelichting"), TOELICHTING)])
    return [(path, n)]
