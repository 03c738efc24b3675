"""Programme office registrations: what the programme did, per quarter (unscaled)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from dvcc_pipeline.demo import calibration as cal
from dvcc_pipeline.demo.municipalities import Gemeente
from dvcc_pipeline.demo.writers import csv_rows

FEED_ID = "programma_registraties"
HEADER: tuple[str, ...] = (
    "registratie_id",
    "datum",
    "actie",
    "activiteit",
    "niveau",
    "gebied",
    "aantal",
    "omschrijving",
)
REGIO = "Midden-Nederland"
PII_PERIOD = (2025, 3)

ACTIE: dict[str, int] = {
    "informatiebeeld_besproken": 1,
    "communicatie_uiting": 3,
    "regionale_media": 3,
    "nieuwsbrief": 3,
    "mailupdate": 3,
    "bestuurlijke_rapportage": 5,
    "kennisbijeenkomst": 6,
    "ciso_bijeenkomst": 6,
    "cyberoefening": 7,
    "riec_casus": 8,
    "echt_nep_bijeenkomst": 9,
    "actiedag_actie": 10,
    "huisbezoek": 11,
}
OMSCHRIJVING: dict[str, str] = {
    "informatiebeeld_besproken": "Informatiebeeld online criminaliteit besproken in de basisteamdriehoek",
    "communicatie_uiting": "Lokale communicatie-uiting over online oplichting",
    "regionale_media": "Regionale media-aandacht voor de samenwerking tegen online criminaliteit",
    "nieuwsbrief": "Externe nieuwsbrief DVCC verstuurd",
    "mailupdate": "Mailupdate aan het netwerk",
    "bestuurlijke_rapportage": "Bestuurlijke rapportage opgeleverd over een pand met online criminaliteit",
    "kennisbijeenkomst": "Kennisbijeenkomst leerlijn DVCC",
    "ciso_bijeenkomst": "Bijeenkomst CISO-netwerk Midden-Nederland",
    "cyberoefening": "Cyberoefendriehoek in Amersfoort, deelnemende basisteamdriehoeken",
    "riec_casus": "Gecombineerde RIEC-casus op online criminaliteit",
    "echt_nep_bijeenkomst": "Echt-Nep bijeenkomst voor senioren, aantal bereikte deelnemers",
    "actiedag_actie": "Acties tijdens de actiedag #echtnietvandaag",
    "huisbezoek": "Huisbezoeken bij slachtoffers van online criminaliteit",
}
# Personal data that must never be delivered: put in the first version of PII_PERIOD.
PII_TEXTS: tuple[str, ...] = (
    "Terugbellen via 06-12345678 (mevrouw van de huisbezoeken)",
    "Verslag gemaild naar j.devries@voorbeeld.nl",
    "Contact: 0612345678",
)

Event = tuple[dt.date, str, str, str, int]  # datum, activiteit, niveau, gebied, aantal


def file_name(year: int, quarter: int, version: int = 1) -> str:
    suffix = f"_v{version}" if version > 1 else ""
    return f"programma_registraties_{year}Q{quarter}{suffix}.csv"


def _day(rng: random.Random, year: int, months: tuple[int, ...] = tuple(range(1, 13))) -> dt.date:
    return dt.date(year, rng.choice(months), rng.randint(1, 28))


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    cuts = sorted(rng.sample(range(1, total), parts - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]


def _events_2025(rng: random.Random, gemeenten: tuple[Gemeente, ...]) -> list[Event]:
    p = cal.PROGRAMMA_2025
    codes = [g.code for g in gemeenten]
    basisteams = sorted({g.basisteam for g in gemeenten})
    districts = sorted({g.district for g in gemeenten})
    ev: list[Event] = []
    for team in basisteams:
        times = 1 if team in cal.INFORMATIEBEELD_EENMAAL else 2
        for months in ((2, 3, 4, 5, 6), (8, 9, 10, 11))[:times]:
            ev.append((_day(rng, 2025, months), "informatiebeeld_besproken", "basisteam", team, 1))
    meeting_months = (1, 3, 4, 5, 6, 7, 7, 7, 8, 8, 9, 10, 11, 12)[: p["kennisbijeenkomst"]]
    ev += [(_day(rng, 2025, (m,)), "kennisbijeenkomst", "regio", REGIO, 1) for m in meeting_months]
    ev += [
        (_day(rng, 2025), "bestuurlijke_rapportage", "gemeente", rng.choice(codes), 1)
        for _ in range(p["bestuurlijke_rapportage"])
    ]
    ev += [
        (_day(rng, 2025), "riec_casus", "district", d, 1) for d in rng.sample(districts, p["districten_met_riec_casus"])
    ]
    ev += [
        (_day(rng, 2025), "huisbezoek", "gemeente", rng.choice(codes[:20]), n) for n in _split(rng, p["huisbezoek"], 4)
    ]
    ev += [
        (_day(rng, 2025), "communicatie_uiting", "gemeente", c, 1)
        for c in sorted(rng.sample(codes, p["gemeenten_met_communicatie"]))
    ]
    ev += [(_day(rng, 2025), "regionale_media", "regio", REGIO, 1) for _ in range(p["regionale_media"])]
    ev += [
        (_day(rng, 2025), "echt_nep_bijeenkomst", "gemeente", rng.choice(codes), n)
        for n in _split(rng, p["echt_nep_bereik"], 12)
    ]
    ev += [
        (dt.date(2025, 10, rng.randint(6, 10)), "actiedag_actie", "gemeente", rng.choice(codes), n)
        for n in _split(rng, p["actiedag_acties"], 25)
    ]
    ev += [(_day(rng, 2025, (m,)), "nieuwsbrief", "regio", REGIO, 1) for m in (1, 3, 5, 7, 9, 11)[: p["nieuwsbrief"]]]
    ev += [(_day(rng, 2025, (m,)), "mailupdate", "regio", REGIO, 1) for m in (2, 6, 10, 12)[: p["mailupdate"]]]
    ev += [(_day(rng, 2025, (m,)), "ciso_bijeenkomst", "regio", REGIO, 1) for m in (4, 10)[: p["ciso_bijeenkomst"]]]
    ev.append((dt.date(2025, 3, 5), "cyberoefening", "regio", REGIO, 12))
    return ev


def _events_earlier(rng: random.Random, year: int, gemeenten: tuple[Gemeente, ...]) -> list[Event]:
    """Before 2025: a warm-up year (2022), the start in April 2023, and a first full year."""
    codes = [g.code for g in gemeenten]
    ev: list[Event] = []
    per_quarter = {2022: 1, 2023: 2, 2024: 4}[year]
    for q in range(4):
        months = (3 * q + 1, 3 * q + 2, 3 * q + 3)
        ev.append((_day(rng, year, months), "kennisbijeenkomst", "regio", REGIO, 1))
        ev.append((_day(rng, year, months), "nieuwsbrief", "regio", REGIO, 1))
        if year == 2023 and q == 0:
            continue
        for _ in range(per_quarter):
            activity = rng.choice(("communicatie_uiting", "echt_nep_bijeenkomst", "huisbezoek"))
            aantal = rng.randint(10, 40) if activity == "echt_nep_bijeenkomst" else 1
            ev.append((_day(rng, year, months), activity, "gemeente", rng.choice(codes), aantal))
    if year == 2024:
        ev.append((dt.date(2024, 10, 8), "actiedag_actie", "gemeente", rng.choice(codes), 60))
        ev.append((dt.date(2024, 11, 14), "bestuurlijke_rapportage", "gemeente", rng.choice(codes), 1))
    return ev


def write_year(
    landing: Path, wave2: Path, year: int, seed: int, gemeenten: tuple[Gemeente, ...]
) -> list[tuple[Path, int]]:
    rng = random.Random(f"{seed}:programma_registraties_{year}")
    events = _events_2025(rng, gemeenten) if year == 2025 else _events_earlier(rng, year, gemeenten)
    written = []
    for quarter in range(1, 5):
        rows = sorted(e for e in events if (e[0].month - 1) // 3 + 1 == quarter)
        lines = [
            [f"PRG-{year}Q{quarter}-{i:04d}", d.isoformat(), str(ACTIE[a]), a, niveau, gebied, str(n), OMSCHRIJVING[a]]
            for i, (d, a, niveau, gebied, n) in enumerate(rows, start=1)
        ]
        path = landing / file_name(year, quarter)
        if (year, quarter) != PII_PERIOD:
            _write(path, lines)
            written.append((path, len(lines)))
            continue
        leaky = [list(line) for line in lines]
        for i, text in enumerate(PII_TEXTS):
            leaky[(i + 1) * len(lines) // (len(PII_TEXTS) + 1)][-1] = text
        clean = wave2 / file_name(year, quarter, 2)
        _write(path, leaky)
        _write(clean, lines)
        written += [(path, len(lines)), (clean, len(lines))]
    return written


def _write(path: Path, lines: list[list[str]]) -> None:
    with csv_rows(path, HEADER) as writer:
        writer.writerows(lines)
