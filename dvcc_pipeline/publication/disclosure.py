"""Disclosure control of one table, set-based in DuckDB SQL: from a mart to its published form.

Following `data_contracts/published.yaml` (`publicationPolicy` and each table's `disclosure`):

- every count is published through the keyed rounding of rounding.py (never NULL; a total is
  rounded from its own true value, not summed from rounded parts);
- an amount is hidden (NULL, `onderdrukt` = true) where its true count is below k or one
  registration contributes more than the dominance threshold (primary); amounts.py hides more
  where a hidden amount could be estimated too closely (secondary);
- derived columns are computed from the published counts here, after rounding: the rank
  (ties share a rank), the change in percent, and a count per percentage (the dark number).
  The marts keep their own derived columns over the true counts for internal use; what is
  published must follow the final draws, which only exist at publication (the secret and the
  audit's redraws live here), so this module is the one home of the published derivations.

Each table is first prepared (`prepare_table`: its rows, region, cell identities and hidden
amounts in a temp table `_dc_<table>`) and then written (`write_table`) — again after a redraw
or after more amounts were hidden, without preparing anew.

The largest single damage of a cell comes from a mart column `max_schade` when the mart has
one, otherwise from the registrations in `intermediate.int_meldingen` (`schadebedrag_eur`, by
`gemeentecode` and the table's dominance keys).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import duckdb

from dvcc_pipeline.publication.contract import (
    SUPPRESSED_FLAG,
    PublicationPolicy,
    PublishedTable,
    identifier,
)
from dvcc_pipeline.publication.rounding import (
    DRAWS_TABLE,
    create_draws_table,
    identity_sql,
    rounded_sql,
    rounding_parameters,
)

MAX_DAMAGE_COLUMN = "max_schade"
REGISTRATION_DAMAGE_COLUMN = "schadebedrag_eur"
REGISTRATION_REGION_COLUMN = "gemeentecode"
# dim_gemeente names each level's code column after the level, except the gemeente itself.
LEVEL_CODE_COLUMNS = {"gemeente": "gemeentecode"}


@dataclass(frozen=True)
class DisclosureStats:
    """What disclosure control did to one table; shown in the publication's metadata."""

    table: str
    rows: int
    counts: int  # count cells published
    rounded_changed: int  # counts whose figure differs from the true count
    amounts_hidden: int  # amounts hidden for a small count or dominance
    dominance: int


def state(table: PublishedTable) -> str:
    return f"_dc_{table.name}"


def hidden_flag(amount: str) -> str:
    return identifier(f"dc_verborgen_{amount}")


def true_column(count: str) -> str:
    return identifier(f"dc_waar_{count}")


def identity_column(count: str) -> str:
    return identifier(f"dc_id_{count}")


def _level_code_column(level: str) -> str:
    return identifier(LEVEL_CODE_COLUMNS.get(level, level))


def create_region_tables(conn: duckdb.DuckDBPyConnection, regions: str, policy: PublicationPolicy) -> None:
    """Parent of every region, and every region each gemeente lies in, from dim_gemeente."""
    hierarchy = policy.region_hierarchy
    parents = " UNION ".join(
        f"SELECT DISTINCT CAST(? AS VARCHAR) AS niveau, CAST({_level_code_column(child)} AS VARCHAR) AS code, "
        f"CAST(? AS VARCHAR) AS ouder_niveau, CAST({_level_code_column(parent)} AS VARCHAR) AS ouder_code "
        f"FROM {regions}"
        for child, parent in itertools.pairwise(hierarchy)
    )
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE _dc_regio AS {parents}",
        [name for pair in itertools.pairwise(hierarchy) for name in pair],
    )
    within = " UNION ALL ".join(
        f"SELECT CAST(gemeentecode AS VARCHAR) AS gemeentecode, CAST(? AS VARCHAR) AS niveau, "
        f"CAST({_level_code_column(level)} AS VARCHAR) AS code FROM {regions}"
        for level in hierarchy
    )
    conn.execute(f"CREATE OR REPLACE TEMP TABLE _dc_gemeente_regio AS {within}", list(hierarchy))


def _columns_of(conn: duckdb.DuckDBPyConnection, relation: str) -> set[str]:
    return {row[0] for row in conn.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}


def _create_max_damage(conn: duckdb.DuckDBPyConnection, table: PublishedTable, registrations: str | None) -> None:
    """`_dc_max`: the largest single damage of each row of `_dc_bron`, from the registrations."""
    assert table.disclosure is not None and table.disclosure.dominance is not None
    if registrations is None:
        raise ValueError(f"{table.name}: dominantie vraagt een kolom max_schade of de registraties")
    dominance = table.disclosure.dominance
    joins = " AND ".join(
        f"CAST(i.{identifier(reg)} AS VARCHAR) = CAST(s.{identifier(col)} AS VARCHAR)"
        for col, reg in dominance.keys.items()
    )
    filters = "".join(f" AND CAST(i.{identifier(col)} AS VARCHAR) = ?" for col in dominance.filter)
    conn.execute(
        f"""CREATE OR REPLACE TEMP TABLE _dc_max AS
            SELECT s._rid, max(CAST(i.{identifier(REGISTRATION_DAMAGE_COLUMN)} AS DOUBLE)) AS max_schade
            FROM _dc_bron AS s
            JOIN _dc_gemeente_regio AS g ON g.niveau = s._niveau AND g.code = s._code
            JOIN {registrations} AS i
              ON CAST(i.{identifier(REGISTRATION_REGION_COLUMN)} AS VARCHAR) = g.gemeentecode AND {joins}
            WHERE true {filters}
            GROUP BY s._rid""",
        [str(v) for v in dominance.filter.values()],
    )


def prepare_table(
    conn: duckdb.DuckDBPyConnection,
    table: PublishedTable,
    policy: PublicationPolicy,
    *,
    source: str,
    registrations: str | None,
) -> int:
    """The state table of `table`: the mart's rows with an id (following the primary key, so the
    same figures always get the same id), region level and code, each count's identity and
    true value, and each amount's primary hiding. Returns the number of dominated amounts."""
    spec = table.disclosure
    region = table.region
    if spec is None:
        raise ValueError(f"{table.name} heeft geen regels voor onthullingscontrole")
    if region is None:
        raise ValueError(f"{table.name}: onthullingscontrole vraagt een regio")
    if not table.primary_key:
        raise ValueError(f"{table.name}: onthullingscontrole vraagt een primaire sleutel in het contract")
    source_columns = _columns_of(conn, source)
    missing = [c.name for c in table.mart_columns if c.name not in source_columns]
    if missing:
        raise ValueError(f"{table.name}: kolommen ontbreken in de mart: {', '.join(missing)}")
    level = identifier(region.level_column) if region.level_column else "CAST($niveau AS VARCHAR)"
    order = ", ".join(identifier(c) for c in table.primary_key)
    conn.execute(
        f"""CREATE OR REPLACE TEMP TABLE _dc_bron AS
            SELECT row_number() OVER (ORDER BY {order}) AS _rid, *, {level} AS _niveau,
                   CAST({identifier(region.code_column)} AS VARCHAR) AS _code
            FROM {source}""",
        {} if region.level_column else {"niveau": region.level},
    )
    extra = []
    for count in spec.counts:
        extra.append(f"{identity_sql(table, count)} AS {identity_column(count)}")
        extra.append(f"CAST(s.{identifier(count)} AS BIGINT) AS {true_column(count)}")
    k = int(policy.min_cell_size)
    dominated = {}
    damage = "NULL"
    if spec.dominance is not None:
        if MAX_DAMAGE_COLUMN in source_columns:
            damage = f"CAST(s.{identifier(MAX_DAMAGE_COLUMN)} AS DOUBLE)"
        else:
            _create_max_damage(conn, table, registrations)
            damage = "(SELECT m.max_schade FROM _dc_max AS m WHERE m._rid = s._rid)"
    for amount, count in spec.amounts.items():
        small = f"coalesce(s.{identifier(count)} < {k}, true)"
        if not spec.publish_amounts:
            small = "true"  # a grain whose amounts are published only in coarser tables
        if spec.dominance is not None and spec.dominance.amount == amount:
            share = f"{damage} > {float(policy.dominance_threshold)} * s.{identifier(amount)}"
            dominant = f"coalesce(s.{identifier(amount)} > 0 AND {share}, false)"
            dominated[amount] = f"NOT {small} AND {dominant}"
            extra.append(f"({small} OR {dominant}) AS {hidden_flag(amount)}")
        else:
            extra.append(f"{small} AS {hidden_flag(amount)}")
    conn.execute(f"CREATE OR REPLACE TEMP TABLE {state(table)} AS SELECT s.*, {', '.join(extra)} FROM _dc_bron AS s")
    if not dominated:
        return 0
    counted = " + ".join(f"count_if({condition})" for condition in dominated.values())
    return int(conn.execute(f"SELECT {counted} FROM {state(table)} AS s").fetchone()[0])


def _derived_sql(table: PublishedTable, column: str, value: str) -> str:
    """The published value of a derived column, from the rounded counts `r.<measure>`."""
    assert table.disclosure is not None
    for spec in table.disclosure.derived:
        if spec.column != column:
            continue
        measure = f"r.{identifier(spec.measure)}"
        other = f"r.{identifier(spec.other)}"
        if spec.kind == "verandering":
            return f"round(100.0 * ({measure} - {other}) / nullif({other}, 0), 1)"
        return f"round({measure} * 100.0 / nullif({other}, 0))"
    rank = table.disclosure.rank
    if rank is not None and rank.column == column:
        within = ", ".join(f"r.{identifier(c)}" for c in rank.within)
        # ranked where the mart ranks (its choice of rows), on the published counts; ties share
        return (
            f"CASE WHEN {value} IS NOT NULL THEN rank() OVER (PARTITION BY {within}, {value} IS NULL "
            f"ORDER BY r.{identifier(rank.measure)} DESC) END"
        )
    return value


def write_table(
    conn: duckdb.DuckDBPyConnection, table: PublishedTable, policy: PublicationPolicy, *, target: str, secret: bytes
) -> None:
    """Write `target` from the state table: rounded counts (with the current draws), amounts
    (NULL where hidden), derived columns from the rounded counts, the contract's types."""
    spec = table.disclosure
    assert spec is not None
    create_draws_table(conn)
    joins, rounded = [], []
    for number, count in enumerate(spec.counts):
        joins.append(f"LEFT JOIN {DRAWS_TABLE} AS d{number} ON d{number}.identiteit = s.{identity_column(count)}")
        figure = rounded_sql(
            f"s.{true_column(count)}",
            "s._niveau",
            f"s.{identity_column(count)}",
            f"coalesce(d{number}.trekking, 0)",
            policy,
        )
        rounded.append(f"{figure} AS {identifier(count)}")
    selected = []
    for column in table.columns:
        name = identifier(column.name)
        value = f"r.{name}"
        if column.name == SUPPRESSED_FLAG:
            flags = " OR ".join(f"r.{hidden_flag(a)}" for a in spec.amounts) or "false"
            value = f"({flags})"
        elif column.name in spec.amounts:
            value = f"CASE WHEN r.{hidden_flag(column.name)} THEN NULL ELSE r.{name} END"
        else:
            value = _derived_sql(table, column.name, value)
        selected.append(f"CAST({value} AS {column.physical_type}) AS {name}")
    order = ", ".join(identifier(c) for c in table.primary_key)
    conn.execute(
        f"""CREATE OR REPLACE TABLE {target} AS
            WITH r AS (
              SELECT s.* REPLACE ({", ".join(rounded)}) FROM {state(table)} AS s {" ".join(joins)}
            )
            SELECT {", ".join(selected)} FROM r ORDER BY {order}""",
        rounding_parameters(policy, secret),
    )


def table_stats(conn: duckdb.DuckDBPyConnection, table: PublishedTable, target: str, dominated: int) -> DisclosureStats:
    spec = table.disclosure
    assert spec is not None
    keys = " AND ".join(f"p.{identifier(c)} IS NOT DISTINCT FROM s.{identifier(c)}" for c in table.primary_key)
    changed = " + ".join(
        f"count_if(p.{identifier(c)} IS DISTINCT FROM s.{true_column(c)} AND s.{true_column(c)} IS NOT NULL)"
        for c in spec.counts
    )
    cells = " + ".join(f"count(s.{true_column(c)})" for c in spec.counts)
    hidden = " + ".join(f"count_if(s.{hidden_flag(a)})" for a in spec.amounts) or "0"
    rows, counts, differ, amounts = conn.execute(
        f"SELECT count(*), {cells}, {changed}, {hidden} FROM {state(table)} AS s JOIN {target} AS p ON {keys}"
    ).fetchone()
    return DisclosureStats(  # `or 0`: a mart still without rows (its source has not delivered yet)
        table=table.name,
        rows=int(rows or 0),
        counts=int(counts or 0),
        rounded_changed=int(differ or 0),
        amounts_hidden=int(amounts or 0),
        dominance=dominated,
    )
