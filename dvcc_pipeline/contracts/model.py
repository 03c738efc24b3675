"""Typed view of one ODCS contract, holding exactly what the validator and loader need.

The ODCS pydantic model is general; these small frozen dataclasses make the feed's rules
explicit (columns, file format, rules, threshold, SLA, retention, publication policy) so
the ingestion code never digs through custom properties itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any


class ContractError(ValueError):
    """A contract is missing something or holds something the pipeline refuses to run."""


@dataclass(frozen=True)
class Reference:
    """A column's values must occur in a column of a reference seed.

    Either a plain lookup (`column`), optionally matching names loosely (`match == "name"`:
    case-insensitive, repeated and surrounding spaces ignored) and writing the matched
    `output_column` value to the raw column `output`; or a keyed lookup where the seed
    column depends on the value of another column (`key_column` → `columns_by_key`).
    """

    seed: str
    column: str | None = None
    match: str = "exact"
    output: str | None = None
    output_column: str | None = None
    key_column: str | None = None
    columns_by_key: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Column:
    name: str
    logical_type: str
    physical_type: str
    required: bool
    unique: bool
    classification: str
    pseudonym: bool
    enum: tuple[str, ...] = ()
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    exclusive_maximum: float | None = None
    date_format: str | None = None
    null_markers: tuple[str, ...] = ()
    reference: Reference | None = None

    @property
    def decimal_scale(self) -> int | None:
        """Scale of a DECIMAL(p,s) physical type; None for other types."""
        match = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", self.physical_type)
        return int(match.group(2)) if match else None

    @property
    def decimal_precision(self) -> int | None:
        match = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", self.physical_type)
        return int(match.group(1)) if match else None

    @property
    def raw_type(self) -> str:
        """Type of the column in `raw.<feed>`: pseudonyms are HMAC hex strings."""
        return "VARCHAR" if self.pseudonym else self.physical_type


@dataclass(frozen=True)
class RowRule:
    """A cross-column rule: a DuckDB boolean over quoted contract column names.

    NULL counts as satisfied, as in an SQL CHECK constraint, so a value that already
    failed its own type check is not reported twice.
    """

    code: str
    column: str
    expression: str
    message: str


@dataclass(frozen=True)
class FileFormat:
    name_pattern: re.Pattern[str]
    name_example: str
    period_grain: str
    format: str
    delimiter: str = ","
    quote: str = '"'
    escape: str = '"'
    encoding: str = "UTF-8"
    byte_order_mark: str = "allowed"
    decimal_separator: str = "."
    sheet_name: str | None = None
    max_size_bytes: int | None = None


@dataclass(frozen=True)
class PublicationPolicy:
    min_cell_size: int
    dominance_threshold: float


@dataclass(frozen=True)
class Sla:
    frequency: str
    due_days_after_period_end: int
    retention_value: int
    retention_unit: str
    retention_description: str

    def retention_expires(self, period_end: date) -> date:
        """First day on which the raw data of a period that ended on `period_end` must go."""
        if self.retention_unit in ("y", "yr", "years"):
            try:
                until = period_end.replace(year=period_end.year + self.retention_value)
            except ValueError:  # 29 February
                until = period_end.replace(year=period_end.year + self.retention_value, day=28)
        elif self.retention_unit in ("d", "day", "days"):
            until = period_end + timedelta(days=self.retention_value)
        else:
            raise ContractError(f"onbekende eenheid voor bewaartermijn: {self.retention_unit}")
        return until + timedelta(days=1)


@dataclass(frozen=True)
class FileIdentity:
    """What the file name says about a delivery."""

    period: str
    supplier: str
    version: int


@dataclass(frozen=True)
class FeedContract:
    feed_id: str
    version: str
    status: str
    name: str
    default_supplier: str
    columns: tuple[Column, ...]
    file: FileFormat
    rules: tuple[RowRule, ...]
    invalid_row_threshold: float
    sla: Sla
    publication: PublicationPolicy
    legal_basis: str
    covenant: dict[str, Any]
    source_path: str

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def name_in_words(self) -> str:
        """The delivery name explained in words with an example, derived from the contract's
        pattern and example (so the explanation cannot drift from the rule)."""
        example = self.file.name_example
        match = self.file.name_pattern.fullmatch(example)
        if match is None:  # the loader checks the example; this is a safety net
            return f"een naam zoals `{example}`"
        groups = self.file.name_pattern.groupindex
        has_supplier = "supplier" in groups and match.start("supplier") >= 0
        start = match.start("supplier") if has_supplier else match.start("period")
        prefix, suffix = example[:start], example[match.end("period") :]
        parts = [f"de naam begint met `{prefix}`"]
        if has_supplier:
            codes = _alternatives(self.file.name_pattern.pattern, "supplier")
            which = f" ({', '.join(codes)})" if codes else ""
            parts.append(f"dan de code van de leverancier{which} en een liggend streepje")
        parts.append(f"dan {_GRAIN_WORDS.get(self.file.period_grain, 'de periode')}")
        parts.append(f"bij een correctie `_v2`, `_v3` enzovoort, en de naam eindigt op `{suffix}`")
        return ", ".join(parts) + f"; bijvoorbeeld `{example}`"

    def identify(self, file_name: str) -> FileIdentity | None:
        """Period, supplier and version from a file name, or None if it is not ours."""
        match = self.file.name_pattern.fullmatch(file_name)
        if match is None:
            return None
        groups = match.groupdict()
        period = groups.get("period")
        if period is None or period_bounds(period, self.file.period_grain) is None:
            return None
        version = groups.get("version")
        return FileIdentity(
            period=period,
            supplier=groups.get("supplier") or self.default_supplier,
            version=int(version) if version else 1,
        )


_GRAIN_WORDS = {
    "quarter": "het jaar en kwartaal (zoals `2024Q3`)",
    "month": "het jaar en de maand (zoals `2024-07`)",
    "year": "het jaar (zoals `2023`)",
}


def _alternatives(pattern: str, group: str) -> list[str]:
    """The fixed choices of a named group written as `(?P<group>A|B|C)`, else none."""
    found = re.search(rf"\(\?P<{group}>([A-Za-z0-9|]+)\)", pattern)
    return found[1].split("|") if found else []


def period_bounds(period: str, grain: str) -> tuple[date, date] | None:
    """First and last day of a period string (`2024Q3`, `2024-07`, `2023`)."""
    try:
        if grain == "quarter":
            year, quarter = int(period[:4]), int(period[5:])
            if period[4] != "Q" or not 1 <= quarter <= 4:
                return None
            start = date(year, 3 * quarter - 2, 1)
            end = date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1) - timedelta(days=1)
        elif grain == "month":
            year, month = int(period[:4]), int(period[5:7])
            if period[4] != "-" or len(period) != 7:
                return None
            start = date(year, month, 1)
            end = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
        elif grain == "year":
            year = int(period)
            start, end = date(year, 1, 1), date(year, 12, 31)
        else:
            return None
    except (ValueError, IndexError):
        return None
    return start, end
