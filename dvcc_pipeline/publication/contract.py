"""The published-tables contract (`data_contracts/published.yaml`) as typed objects.

Publication, disclosure control and the quality gate all read tables, columns, types, k, the
rounding base, the dominance threshold and the amounts' protection from here, so the contract
stays the single source of truth.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from open_data_contract_standard.model import OpenDataContractStandard, SchemaObject

from dvcc_pipeline.config import CONTRACTS_DIR
from dvcc_pipeline.contracts.loader import read_yaml

PUBLISHED_CONTRACT_PATH = CONTRACTS_DIR / "published.yaml"

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_SCALAR = r"VARCHAR|BOOLEAN|INTEGER|BIGINT|DOUBLE|DATE|TIMESTAMP|DECIMAL\(\d{1,2},\d{1,2}\)"
_PHYSICAL_TYPE = re.compile(rf"^({_SCALAR})$")
_VERSION = re.compile(r"^\d{1,2}\.\d{1,2}\.\d{1,2}$")


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

    kind: str  # categorie | regio | periode | vorig
    column: str | None = None
    values: tuple[str, ...] = ()
    total: str | None = None  # categorie: the value of `column` whose row is the group's total
    measure: str | None = None  # vorig: the measure that repeats the previous year's `of`
    of: str | None = None


@dataclass(frozen=True)
class DominanceSpec:
    amount: str
    keys: dict[str, str]  # table column -> int_meldingen column
    filter: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LinkMeasure:
    """One measure of this table whose cells (rows matching `where`) add up to `linked` there."""

    measure: str
    linked: str
    where: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class LookupSpec:
    """A table joined to this table's rows on one column, for match or filter columns it lacks."""

    table: str
    key: str


@dataclass(frozen=True)
class LinkSpec:
    """An additive relation with a table published earlier (see disclosure.py)."""

    table: str
    match: dict[str, str]  # this table's (or lookup's) column -> the linked table's column
    where: dict[str, tuple[str, ...]]  # which rows of the linked table take part
    lookup: LookupSpec | None
    measures: tuple[LinkMeasure, ...]

    @property
    def references(self) -> tuple[str, ...]:
        return (self.table, self.lookup.table) if self.lookup else (self.table,)


@dataclass(frozen=True)
class RankSpec:
    """A rank recomputed on published values only: hidden counts get no rank and move no rank."""

    column: str
    measure: str
    within: tuple[str, ...]


@dataclass(frozen=True)
class IdentityPart:
    """One part of a count's table-independent identity: a column's value or a fixed value."""

    column: str | None = None
    value: str | None = None
    offset: int = 0  # added to an integer period column (last year's figure: -1)


@dataclass(frozen=True)
class CellIdentity:
    """What a count is, whichever table shows it: the rounding draw depends on this (rounding.py).

    Region level and code come from the table's region; `categorie` is a list of columns whose
    `name=value` pairs name the category, or one fixed value (a total).
    """

    periode: IdentityPart
    bron: IdentityPart
    soort: IdentityPart
    categorie: tuple[IdentityPart, ...]


@dataclass(frozen=True)
class DerivedSpec:
    """A column computed from published counts (derived.py): `verandering` is
    100 × (measure − other) / other with one decimal, `per_pct` is measure × 100 / other."""

    column: str
    kind: str
    measure: str
    other: str


@dataclass(frozen=True)
class DisclosureSpec:
    counts: tuple[str, ...]
    amounts: dict[str, str]  # amount column -> its count column
    derived: tuple[DerivedSpec, ...]
    groups: tuple[GroupSpec, ...]
    dominance: DominanceSpec | None
    identity: dict[str, CellIdentity] = field(default_factory=dict)  # count column -> identity
    publish_amounts: bool = True  # False: the amounts of this grain are never published (coarser grain)
    links: tuple[LinkSpec, ...] = ()
    rank: RankSpec | None = None


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
    min_cell_size: int  # k
    rounding_base: int  # b
    dominance_threshold: float
    amount_protection_pct: float  # p
    rounded_levels: tuple[str, ...]  # every count rounded; above them only counts 1 … k−1
    region_hierarchy: tuple[str, ...]
    max_redraws: int = 5  # rounds of redraws where the audit pins a small count


@dataclass(frozen=True)
class PublishedContract:
    id: str
    version: str
    policy: PublicationPolicy
    tables: tuple[PublishedTable, ...]
    minimum_reader_version: str  # the oldest DuckDB that must open every published file

    @property
    def storage_version(self) -> str:
        """The DuckDB STORAGE_VERSION the published files are written with."""
        return f"v{self.minimum_reader_version}"

    def table(self, name: str) -> PublishedTable:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(name)

    @property
    def mart_tables(self) -> list[PublishedTable]:
        return [t for t in self.tables if t.from_mart]

    @property
    def publication_order(self) -> list[PublishedTable]:
        """The mart tables, each after the tables its disclosure links refer to."""
        done: list[PublishedTable] = []
        pending = self.mart_tables
        while pending:
            names = {t.name for t in done}
            ready = [t for t in pending if set(_references(t)) <= names]
            if not ready:
                raise ValueError(
                    "koppelingen in het publicatiecontract vormen een kring: " + ", ".join(t.name for t in pending)
                )
            done.append(ready[0])
            pending = [t for t in pending if t is not ready[0]]
        return done

    def dependencies(self, table: PublishedTable) -> list[PublishedTable]:
        """The tables with disclosure that must be suppressed before `table`, in order."""
        needed: set[str] = set()
        stack = list(_references(table))
        while stack:
            name = stack.pop()
            if name not in needed:
                needed.add(name)
                stack.extend(_references(self.table(name)))
        return [t for t in self.publication_order if t.name in needed and t.disclosure is not None]


def _references(table: PublishedTable) -> tuple[str, ...]:
    if table.disclosure is None:
        return ()
    return tuple(name for link in table.disclosure.links for name in link.references)


def _custom(props: list[Any] | None) -> dict[str, Any]:
    return {p.property: p.value for p in props or []}


def _scalar_type(prop: Any) -> str:
    physical = (prop.physicalType or "").replace(" ", "").upper()
    if not _PHYSICAL_TYPE.match(physical):
        raise ValueError(f"onbekend type {prop.physicalType!r} voor kolom {prop.name!r}")
    return physical


def _physical_type(prop: Any) -> str:
    """A scalar type, or for an array (LIST) of objects the DuckDB list of structs its `items`
    describe, spelled as DuckDB's DESCRIBE prints it. LIST/STRUCT is how datacontract-cli reads it."""
    if prop.logicalType != "array":
        return _scalar_type(prop)
    items = prop.items
    if items is None or items.logicalType != "object" or not items.properties:
        raise ValueError(f"kolom {prop.name!r}: een array heeft items met logicalType object en properties")
    for field_ in items.properties:
        identifier(field_.name)
    if (prop.physicalType or "").upper() != "LIST" or (items.physicalType or "").upper() != "STRUCT":
        raise ValueError(f"kolom {prop.name!r}: een array is physicalType LIST met items van physicalType STRUCT")
    return "STRUCT(" + ", ".join(f"{p.name} {_scalar_type(p)}" for p in items.properties) + ")[]"


def _column(prop: Any) -> Column:
    options = prop.logicalTypeOptions or {}
    physical = _physical_type(prop)
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


def _values(where: dict[str, Any] | None) -> dict[str, tuple[str, ...]]:
    """A filter: column -> one value or a list of values, all compared as text."""
    return {
        column: tuple(str(v) for v in (value if isinstance(value, list) else [value]))
        for column, value in (where or {}).items()
    }


def _link(value: dict[str, Any]) -> LinkSpec:
    lookup = value.get("lookup")
    return LinkSpec(
        table=value["table"],
        match=dict(value["match"]),
        where=_values(value.get("where")),
        lookup=LookupSpec(table=lookup["table"], key=lookup["key"]) if lookup else None,
        measures=tuple(
            LinkMeasure(measure=m["measure"], linked=m["linked"], where=_values(m.get("where")))
            for m in value["measures"]
        ),
    )


_IDENTITY_VALUE = re.compile(r"^[a-z0-9_]{1,40}$")


def _part(value: Any) -> IdentityPart:
    if isinstance(value, dict):
        if "value" in value:
            # becomes a SQL literal (rounding.py): only this strict pattern is accepted
            if not _IDENTITY_VALUE.match(str(value["value"])):
                raise ValueError(f"ongeldige waarde in een identiteit van het publicatiecontract: {value['value']!r}")
            return IdentityPart(value=str(value["value"]))
        identifier(str(value["column"]))
        return IdentityPart(column=str(value["column"]), offset=int(value.get("offset", 0)))
    identifier(str(value))
    return IdentityPart(column=str(value))


def _identity(value: dict[str, Any]) -> CellIdentity:
    categorie = value.get("categorie", {"value": "totaal"})
    parts = categorie if isinstance(categorie, list) else [categorie]
    return CellIdentity(
        periode=_part(value["periode"]),
        bron=_part(value["bron"]),
        soort=_part(value["soort"]),
        categorie=tuple(_part(p) for p in parts),
    )


def _derived(column: str, value: dict[str, Any]) -> DerivedSpec:
    if value.get("kind") not in ("verandering", "per_pct"):
        raise ValueError(f"onbekende afgeleide kolom {column!r} in het publicatiecontract: {value.get('kind')!r}")
    return DerivedSpec(column=column, kind=value["kind"], measure=value["measure"], other=value["other"])


def _disclosure(value: dict[str, Any] | None) -> DisclosureSpec | None:
    if value is None:
        return None
    dominance = value.get("dominance")
    identity = {count: _identity(spec) for count, spec in (value.get("identity") or {}).items()}
    missing = [c for c in value["counts"] if c not in identity]
    if missing:
        raise ValueError(f"disclosure noemt geen identiteit voor {', '.join(missing)} in het publicatiecontract")
    spec = DisclosureSpec(
        counts=tuple(value["counts"]),
        amounts=dict(value.get("amounts") or {}),
        derived=tuple(_derived(c, v) for c, v in (value.get("derived") or {}).items()),
        identity=identity,
        publish_amounts=bool(value.get("publishAmounts", True)),
        groups=tuple(
            GroupSpec(
                kind=g["kind"],
                column=g.get("column"),
                values=tuple(g.get("values") or ()),
                total=g.get("total"),
                measure=g.get("measure"),
                of=g.get("of"),
            )
            for g in value.get("groups") or ()
        ),
        dominance=DominanceSpec(
            amount=dominance["amount"], keys=dict(dominance["keys"]), filter=dict(dominance.get("filter") or {})
        )
        if dominance
        else None,
        links=tuple(_link(link) for link in value.get("links") or ()),
        rank=RankSpec(
            column=value["rank"]["column"], measure=value["rank"]["measure"], within=tuple(value["rank"]["within"])
        )
        if value.get("rank")
        else None,
    )
    for group in spec.groups:
        if group.kind == "vorig" and not (group.column and group.measure and group.of):
            raise ValueError("groep 'vorig' vraagt column, measure en of in het publicatiecontract")
        if group.kind not in {"categorie", "regio", "periode", "vorig"}:
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
        revealed = (c for spec in d.derived for c in (spec.column, spec.measure, spec.other))
        identities = (p.column for i in d.identity.values() for p in (i.periode, i.bron, i.soort, *i.categorie))
        mentioned = {*d.counts, *d.amounts, *d.amounts.values(), *revealed, *(c for c in identities if c)}
        mentioned |= {m.measure for link in d.links for m in link.measures}
        mentioned |= {c for g in d.groups for c in (g.column, g.measure, g.of) if c}
        if d.rank:
            mentioned |= {d.rank.column, d.rank.measure, *d.rank.within}
        if not mentioned <= names or SUPPRESSED_FLAG not in names:
            raise ValueError(f"disclosure van {table.name} noemt kolommen die de tabel niet heeft")
    return table


def _check_links(tables: tuple[PublishedTable, ...]) -> None:
    """Every link names known tables and measures, so a typo fails at load, not at publication."""
    by_name = {t.name: t for t in tables}
    for table in tables:
        for link in table.disclosure.links if table.disclosure else ():
            unknown = [name for name in link.references if name not in by_name]
            if unknown:
                raise ValueError(f"koppeling van {table.name} noemt onbekende tabel {', '.join(unknown)}")
            linked = by_name[link.table]
            if linked.disclosure is None:
                raise ValueError(f"koppeling van {table.name}: {linked.name} heeft geen onthullingscontrole")
            own = set(table.column_names) | (set(by_name[link.lookup.table].column_names) if link.lookup else set())
            sides = (
                (own, {*link.match, *(c for m in link.measures for c in m.where)}),
                (set(linked.column_names), {*link.match.values(), *link.where, *(m.linked for m in link.measures)}),
            )
            for columns, wanted in sides:
                if not wanted <= columns:
                    missing = ", ".join(sorted(wanted - columns))
                    raise ValueError(f"koppeling {table.name}–{linked.name} noemt onbekende kolommen: {missing}")
                for name in wanted:
                    identifier(name)


def parse_published_contract(path: Path) -> PublishedContract:
    """Parse and validate the contract with the ODCS pydantic model."""
    raw = read_yaml(path.read_text(encoding="utf-8"))  # libyaml: loaded by every run, ten times faster
    model = OpenDataContractStandard.model_validate(raw)
    custom = _custom(model.customProperties)
    policy = custom["publicationPolicy"]
    reader = str((custom.get("readerCompatibility") or {}).get("minimumDuckdbVersion", ""))
    if not _VERSION.match(reader):
        raise ValueError(f"readerCompatibility.minimumDuckdbVersion ontbreekt of is ongeldig: {reader!r}")
    tables = tuple(_table(obj) for obj in model.schema_ or [])
    _check_links(tables)
    return PublishedContract(
        id=model.id,
        version=model.version,
        policy=PublicationPolicy(
            min_cell_size=int(policy["minCellSize"]),
            rounding_base=int(policy.get("roundingBase", 5)),
            dominance_threshold=float(policy["dominanceThreshold"]),
            amount_protection_pct=float(policy.get("amountProtectionPct", 15)),
            rounded_levels=tuple(policy["roundedLevels"]),
            region_hierarchy=tuple(policy["regionHierarchy"]),
            max_redraws=int(policy.get("maxRedraws", 5)),
        ),
        tables=tables,
        minimum_reader_version=reader,
    )


@cache
def load_published_contract() -> PublishedContract:
    """The repository's published contract (parsed once per process)."""
    return parse_published_contract(PUBLISHED_CONTRACT_PATH)
