"""The published-tables contract (`data_contracts/published.yaml`) as typed objects.

Publication, disclosure control and the quality gate all read tables, columns, types, k and
the dominance threshold from here, so the contract stays the single source of truth.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from open_data_contract_standard.model import OpenDataContractStandard, SchemaObject

from dvcc_pipeline.config import CONTRACTS_DIR

PUBLISHED_CONTRACT_PATH = CONTRACTS_DIR / "published.yaml"

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_PHYSICAL_TYPE = re.compile(r"^(VARCHAR|BOOLEAN|INTEGER|BIGINT|DOUBLE|DATE|TIMESTAMP|JSON|DECIMAL\(\d{1,2},\d{1,2}\))$")


def identifier(name: str) -> str:
    """Check a contract name against a strict pattern and return it double-quoted for SQL."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"ongeldige naam in het publicatiecontract: {name!r}")
    return f'"{name}"'


@dataclass(frozen=True)
class Column:
    name: str
    physical_type: str
    required: bool
    primary_key_position: int | None
    minimum: float | None
    maximum: float | None
    allowed: tuple[str, ...] = ()


@dataclass(frozen=True)
class RegionSpec:
    """How a table names its region: a level column, or one fixed level."""

    code_column: str
    level_column: str | None = None
    level: str | None = None


@dataclass(frozen=True)
class GroupSpec:
    """Cells that add up to a (published or derivable) total; see disclosure.py."""

    kind: str  # categorie | regio | periode
    column: str | None = None
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class DominanceSpec:
    amount: str
    keys: dict[str, str]  # table column -> int_meldingen column
    filter: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DisclosureSpec:
    counts: tuple[str, ...]
    amounts: dict[str, str]  # amount column -> its count column
    derived: dict[str, tuple[str, ...]]  # column -> measures it would reveal
    groups: tuple[GroupSpec, ...]
    dominance: DominanceSpec | None


@dataclass(frozen=True)
class PublishedTable:
    name: str
    description: str
    columns: tuple[Column, ...]
    region: RegionSpec | None
    disclosure: DisclosureSpec | None
    from_mart: bool

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def primary_key(self) -> list[str]:
        keyed = [c for c in self.columns if c.primary_key_position is not None]
        return [c.name for c in sorted(keyed, key=lambda c: c.primary_key_position or 0)]

    @property
    def mart_columns(self) -> list[Column]:
        """Columns read from the mart: everything but the flag publication adds itself."""
        if self.disclosure is None:
            return list(self.columns)
        return [c for c in self.columns if c.name != SUPPRESSED_FLAG]


SUPPRESSED_FLAG = "onderdrukt"


@dataclass(frozen=True)
class PublicationPolicy:
    min_cell_size: int
    dominance_threshold: float
    suppressed_levels: tuple[str, ...]
    region_hierarchy: tuple[str, ...]


@dataclass(frozen=True)
class PublishedContract:
    id: str
    version: str
    policy: PublicationPolicy
    tables: tuple[PublishedTable, ...]

    def table(self, name: str) -> PublishedTable:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(name)

    @property
    def mart_tables(self) -> list[PublishedTable]:
        return [t for t in self.tables if t.from_mart]


def _custom(props: list[Any] | None) -> dict[str, Any]:
    return {p.property: p.value for p in props or []}


def _column(prop: Any) -> Column:
    options = prop.logicalTypeOptions or {}
    physical = (prop.physicalType or "").replace(" ", "").upper()
    if not _PHYSICAL_TYPE.match(physical):
        raise ValueError(f"onbekend type {prop.physicalType!r} voor kolom {prop.name!r}")
    identifier(prop.name)
    return Column(
        name=prop.name,
        physical_type=physical,
        required=bool(prop.required),
        primary_key_position=prop.primaryKeyPosition if prop.primaryKey else None,
        minimum=options.get("minimum"),
        maximum=options.get("maximum"),
        allowed=tuple(str(e.value) for e in prop.enum or []),
    )


def _disclosure(value: dict[str, Any] | None) -> DisclosureSpec | None:
    if value is None:
        return None
    dominance = value.get("dominance")
    spec = DisclosureSpec(
        counts=tuple(value["counts"]),
        amounts=dict(value.get("amounts") or {}),
        derived={k: tuple(v) for k, v in (value.get("derived") or {}).items()},
        groups=tuple(
            GroupSpec(kind=g["kind"], column=g.get("column"), values=tuple(g.get("values") or ()))
            for g in value.get("groups") or ()
        ),
        dominance=DominanceSpec(
            amount=dominance["amount"], keys=dict(dominance["keys"]), filter=dict(dominance.get("filter") or {})
        )
        if dominance
        else None,
    )
    for group in spec.groups:
        if group.kind not in {"categorie", "regio", "periode"}:
            raise ValueError(f"onbekende groep {group.kind!r} in het publicatiecontract")
    return spec


def _table(obj: SchemaObject) -> PublishedTable:
    custom = _custom(obj.customProperties)
    region = custom.get("region")
    table = PublishedTable(
        name=obj.physicalName or obj.name,
        description=obj.description or "",
        columns=tuple(_column(p) for p in obj.properties or []),
        region=RegionSpec(
            code_column=region["codeColumn"], level_column=region.get("levelColumn"), level=region.get("level")
        )
        if region
        else None,
        disclosure=_disclosure(custom.get("disclosure")),
        from_mart=custom.get("source") != "pipeline",
    )
    identifier(table.name)
    names = set(table.column_names)
    if table.disclosure is not None:
        d = table.disclosure
        revealed = (m for ms in d.derived.values() for m in ms)
        mentioned = {*d.counts, *d.amounts, *d.amounts.values(), *d.derived, *revealed}
        if not mentioned <= names or SUPPRESSED_FLAG not in names:
            raise ValueError(f"disclosure van {table.name} noemt kolommen die de tabel niet heeft")
    return table


def parse_published_contract(path: Path) -> PublishedContract:
    """Parse and validate the contract with the ODCS pydantic model."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    model = OpenDataContractStandard.model_validate(raw)
    policy = _custom(model.customProperties)["publicationPolicy"]
    return PublishedContract(
        id=model.id,
        version=model.version,
        policy=PublicationPolicy(
            min_cell_size=int(policy["minCellSize"]),
            dominance_threshold=float(policy["dominanceThreshold"]),
            suppressed_levels=tuple(policy["suppressedLevels"]),
            region_hierarchy=tuple(policy["regionHierarchy"]),
        ),
        tables=tuple(_table(obj) for obj in model.schema_ or []),
    )


@cache
def load_published_contract() -> PublishedContract:
    """The repository's published contract (parsed once per process)."""
    return parse_published_contract(PUBLISHED_CONTRACT_PATH)
