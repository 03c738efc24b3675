"""The 38 municipalities of Midden-Nederland as the demo generator needs them.

The codes, names, districts and basisteams come from the reference seed (the single source of
truth); only the approximate population, which the seed does not hold, lives here. It weights
where victims live so that big cities get many registrations and small villages few.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from dvcc_pipeline import config

REFERENCE_SEED = "gemeenten_midden_nederland.csv"

# Approximate number of inhabitants (CBS, 2024, rounded). Only used as a sampling weight.
POPULATION: dict[str, int] = {
    "GM0034": 226_000,  # Almere
    "GM0303": 43_000,  # Dronten
    "GM0995": 82_000,  # Lelystad
    "GM0171": 49_000,  # Noordoostpolder
    "GM0184": 22_000,  # Urk
    "GM0050": 23_000,  # Zeewolde
    "GM0376": 12_000,  # Blaricum
    "GM1942": 59_000,  # Gooise Meren
    "GM0402": 93_000,  # Hilversum
    "GM0406": 42_000,  # Huizen
    "GM0417": 11_000,  # Laren
    "GM1696": 24_000,  # Wijdemeren
    "GM0307": 161_000,  # Amersfoort
    "GM0308": 25_000,  # Baarn
    "GM0312": 15_000,  # Bunnik
    "GM0313": 22_000,  # Bunschoten
    "GM0310": 44_000,  # De Bilt
    "GM0317": 9_500,  # Eemnes
    "GM0327": 31_000,  # Leusden
    "GM0339": 5_600,  # Renswoude
    "GM0340": 20_000,  # Rhenen
    "GM0342": 47_000,  # Soest
    "GM1581": 50_000,  # Utrechtse Heuvelrug
    "GM0345": 68_000,  # Veenendaal
    "GM0352": 24_000,  # Wijk bij Duurstede
    "GM0351": 14_000,  # Woudenberg
    "GM0355": 66_000,  # Zeist
    "GM0344": 370_000,  # Utrecht
    "GM0736": 45_000,  # De Ronde Venen
    "GM0321": 51_000,  # Houten
    "GM0353": 35_000,  # IJsselstein
    "GM0331": 15_000,  # Lopik
    "GM0335": 14_000,  # Montfoort
    "GM0356": 66_000,  # Nieuwegein
    "GM0589": 10_500,  # Oudewater
    "GM1904": 66_000,  # Stichtse Vecht
    "GM1961": 58_000,  # Vijfheerenlanden
    "GM0632": 53_000,  # Woerden
}


@dataclass(frozen=True)
class Gemeente:
    """One row of the reference list plus its population weight."""

    code: str
    naam: str
    district: str
    basisteam: str
    inwoners: int


def load_gemeenten(seeds_dir: Path | None = None) -> tuple[Gemeente, ...]:
    """Read the reference seed; fail loudly if a code has no population (list changed)."""
    path = (seeds_dir or config.SEEDS_DIR) / REFERENCE_SEED
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    missing = sorted({r["gemeentecode"] for r in rows} - POPULATION.keys())
    if missing:
        raise ValueError(f"Geen inwonertal bekend voor gemeente(n): {', '.join(missing)}")
    return tuple(
        Gemeente(r["gemeentecode"], r["gemeente"], r["district"], r["basisteam"], POPULATION[r["gemeentecode"]])
        for r in rows
    )
