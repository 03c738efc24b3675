"""Small, fast sampling helpers shared by the feed generators (deterministic given the rng)."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from bisect import bisect
from collections.abc import Sequence


class WeightedChoice:
    """Pick from values by weights with one random draw and a bisect (fast per row)."""

    def __init__(self, values: Sequence[str], weights: Sequence[float]) -> None:
        self.values = tuple(values)
        self.cumulative = list(itertools.accumulate(weights))
        self.total = self.cumulative[-1]

    def pick(self, rng: random.Random) -> str:
        return self.values[bisect(self.cumulative, rng.random() * self.total)]


def sorted_days(rng: random.Random, start: dt.date, end: dt.date, n: int) -> list[int]:
    """n random day ordinals in [start, end], sorted: files list rows in date order."""
    first, last = start.toordinal(), end.toordinal()
    return sorted(rng.randint(first, last) for _ in range(n))


def heavy_tailed_amounts(rng: random.Random, n: int, total: float, sigma: float, cents: bool) -> list[float]:
    """n lognormal amounts rescaled to sum to total (rounded to euros or cents)."""
    if n == 0:
        return []
    raw = [rng.lognormvariate(0.0, sigma) for _ in range(n)]
    factor = total / sum(raw)
    unit = 0.01 if cents else 1.0
    return [max(unit, round(x * factor / unit) * unit) for x in raw]


def quarter_bounds(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    start = dt.date(year, 3 * quarter - 2, 1)
    end = dt.date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1) - dt.timedelta(days=1)
    return start, end


def month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    start = dt.date(year, month, 1)
    end = dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
    return start, end


def valid_bsn(rng: random.Random) -> str:
    """A 9-digit number passing the 11-test (as the personal-data screen must detect)."""
    while True:
        digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(7)]
        check = sum(d * w for d, w in zip(digits, range(9, 1, -1), strict=True)) % 11
        if check < 10:
            return "".join(map(str, [*digits, check]))
