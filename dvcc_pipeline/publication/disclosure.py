"""Disclosure control, in one place, set-based in DuckDB SQL.

The marts carry exact counts; this module turns one mart into its publishable form, following
the table's `disclosure` rules and the `publicationPolicy` of `data_contracts/published.yaml`:

- primary: a count 1 … k−1 becomes NULL (zero stays 0), at every region level (district and
  eenheid are only ever suppressed this way);
- secondary: cells that add up to a published or derivable total form a group (the categories
  of one region-year, the regions below one higher region plus that region, the quarters of
  one year). If exactly one cell of a group is suppressed it could be recovered by subtraction,
  so the next-smallest cell of the group (non-zero first) at a gemeente/basisteam level is
  suppressed too, repeated until stable (a zero only when nothing else is left; district and
  eenheid cells never, as the spec publishes them unless they are below k themselves);
- an amount is suppressed with its count, and where one registration contributes more than the
  dominance threshold of the cell's total (gemeente/basisteam levels); amounts then get the
  same secondary suppression over the same groups;
- derived columns (rank, change, estimates) are NULL when a measure they reveal is suppressed;
- links: a sum that another published table also shows is a group across the two tables. The
  other table is suppressed first and its cells take part as they were published (fixed), so
  only this table's cells are added. Without this, a year hidden in one table could be added up
  from its visible quarters in another, and with it the cell it protected.

The largest single damage of a cell comes from a mart column `max_schade` when the mart has
one, otherwise it is computed from the registrations in `intermediate.int_meldingen`
(`schadebedrag_eur`, by `gemeentecode` and the table's dominance keys).

Counts and amounts are treated per column: a row may keep its bank count while its police
count is suppressed. `onderdrukt` is true when any value of the row was withheld.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

import duckdb

from dvcc_pipeline.publication.contract import (
    SUPPRESSED_FLAG,
    LinkSpec,
    PublicationPolicy,
    PublishedTable,
    identifier,
)

MAX_DAMAGE_COLUMN = "max_schade"
REGISTRATION_DAMAGE_COLUMN = "schadebedrag_eur"
REGISTRATION_REGION_COLUMN = "gemeentecode"
# dim_gemeente names each level's code column after the level, except the gemeente itself.
LEVEL_CODE_COLUMNS = {"gemeente": "gemeentecode"}
_MAX_ROUNDS = 1000


@dataclass(frozen=True)
class DisclosureStats:
    """How much was withheld; shown in the publication's metadata."""

    table: str
    rows: int
    primary: int
    secondary: int
    dominance: int
    rounds: int


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


def _create_source(conn: duckdb.DuckDBPyConnection, table: PublishedTable, source: str) -> None:
    """The rows with an id and their region level and code normalised.

    The id follows the primary key, not the table's physical row order (which a parallel
    rebuild changes): it breaks ties when secondary suppression picks a cell, so the same
    figures must always give the same id, or two publications of the same data would hide
    different cells and together reveal both.
    """
    region = table.region
    if region is None:
        raise ValueError(f"{table.name}: onthullingscontrole vraagt een regio")
    if not table.primary_key:
        raise ValueError(f"{table.name}: onthullingscontrole vraagt een primaire sleutel in het contract")
    level = identifier(region.level_column) if region.level_column else "CAST(? AS VARCHAR)"
    params = [] if region.level_column else [region.level]
    order = ", ".join(identifier(c) for c in table.primary_key)
    conn.execute(
        f"""CREATE OR REPLACE TEMP TABLE _dc_src AS
            SELECT row_number() OVER (ORDER BY {order}) AS _rid, *, {level} AS _niveau,
                   CAST({identifier(region.code_column)} AS VARCHAR) AS _code
            FROM {source}""",
        params,
    )


def _measures(table: PublishedTable) -> list[str]:
    assert table.disclosure is not None
    return [*table.disclosure.counts, *table.disclosure.amounts]


def _create_cells(
    conn: duckdb.DuckDBPyConnection, table: PublishedTable, policy: PublicationPolicy, *, published: bool
) -> None:
    """One cell per row × measure. Freshly from a mart, counts 1..k−1 start suppressed;
    from a published table, a cell is suppressed where it is NULL in a suppressed row."""
    measures = _measures(table)
    counts = set(table.disclosure.counts) if table.disclosure else set()
    largest_small = int(policy.min_cell_size) - 1
    parts = []
    for number, measure in enumerate(measures):
        column = identifier(measure)
        if published:
            state = f"({column} IS NULL AND coalesce({identifier(SUPPRESSED_FLAG)}, false))"
        elif measure in counts:
            state = f"coalesce({column} BETWEEN 1 AND {largest_small}, false)"
        else:
            state = "false"
        parts.append(
            f"SELECT _rid * {len(measures)} + {number} AS cel_id, _rid, {number} AS maat_nr, "
            f"CAST({column} AS DOUBLE) AS waarde, list_contains($niveaus, _niveau) AS onderdrukbaar, "
            f"{state} AS onderdrukt, {state} AS primair, false AS vastgepind FROM _dc_src"
        )
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE _dc_cel AS {' UNION ALL '.join(parts)}",
        {"niveaus": list(policy.suppressed_levels)},
    )


def _key_text(columns: list[str]) -> str:
    return ", ".join(f"coalesce(CAST(s.{identifier(c)} AS VARCHAR), '∅')" for c in columns)


def _create_groups(conn: duckdb.DuckDBPyConnection, table: PublishedTable) -> None:
    """Which cells belong to which additive group (a cell may be in several)."""
    assert table.disclosure is not None and table.region is not None
    measures = _measures(table)
    region_columns = {table.region.code_column, table.region.level_column} - {None}
    parts: list[str] = []
    params: list[object] = []
    for number, spec in enumerate(table.disclosure.groups):
        if spec.kind == "vorig":  # a pair across measures: the interval audit's protection handles it
            continue
        tag = f"'{spec.kind}{number}'"
        cel = f"s._rid * {len(measures)} + m.maat_nr"
        measure_list = f"(SELECT unnest(range({len(measures)})) AS maat_nr) AS m"
        if spec.kind in ("categorie", "periode"):
            assert spec.column is not None
            others = [c for c in table.primary_key if c != spec.column]
            extra = f", left(CAST(s.{identifier(spec.column)} AS VARCHAR), 4)" if spec.kind == "periode" else ""
            where = ""
            if spec.values:
                where = f"WHERE list_contains(?, CAST(s.{identifier(spec.column)} AS VARCHAR))"
                params.append(list(spec.values))
            parts.append(
                f"SELECT {cel} AS cel_id, concat_ws(chr(31), {tag}, m.maat_nr{extra}, {_key_text(others)}) AS groep "
                f"FROM _dc_src AS s, {measure_list} {where}"
            )
        else:  # regio: a region's cells with the cells of the regions directly below it
            others = [c for c in table.primary_key if c not in region_columns]
            keys = _key_text(others)
            parts.append(
                f"SELECT {cel} AS cel_id, concat_ws(chr(31), {tag}, m.maat_nr, r.ouder_niveau, r.ouder_code, {keys}) "
                f"AS groep FROM _dc_src AS s JOIN _dc_regio AS r ON r.niveau = s._niveau AND r.code = s._code, "
                f"{measure_list}"
            )
            parts.append(
                f"SELECT {cel} AS cel_id, concat_ws(chr(31), {tag}, m.maat_nr, s._niveau, s._code, {keys}) AS groep "
                f"FROM _dc_src AS s, {measure_list}"
            )
    conn.execute("CREATE OR REPLACE TEMP TABLE _dc_lid (cel_id BIGINT, groep VARCHAR)")
    if parts:
        conn.execute(f"INSERT INTO _dc_lid {' UNION ALL '.join(parts)}", params)


def _where(columns: Mapping[str, tuple[str, ...]], alias: str = "") -> tuple[str, list[object]]:
    prefix = f"{alias}." if alias else ""
    sql = "".join(f" AND list_contains(?, CAST({prefix}{identifier(c)} AS VARCHAR))" for c in columns)
    return sql, [list(values) for values in columns.values()]


def _create_links(conn: duckdb.DuckDBPyConnection, table: PublishedTable, relations: Mapping[str, str]) -> None:
    """Add the cross-table groups: this table's cells with the linked table's published cell.

    The linked cells get negative ids and cannot be suppressed here (that table is published
    already); a linked cell is suppressed where it is NULL in a suppressed row.
    """
    assert table.disclosure is not None
    measures = _measures(table)
    for number, link in enumerate(table.disclosure.links):
        missing = [name for name in link.references if name not in relations]
        if missing:
            raise ValueError(f"{table.name}: gekoppelde tabel ontbreekt: {', '.join(missing)}")
        this_keys = ", ".join(f"CAST({identifier(c)} AS VARCHAR)" for c in link.match)
        that_keys = ", ".join(f"CAST(l.{identifier(c)} AS VARCHAR)" for c in link.match.values())
        rows = "_dc_src AS s"
        if link.lookup:
            rows += f" JOIN {relations[link.lookup.table]} AS k USING ({identifier(link.lookup.key)})"
        for measure_number, measure in enumerate(link.measures):
            # the group's name, as the gate shows it for a failing group
            tag = f"koppeling {number}.{measure_number}: {measure.measure} = {link.table}.{measure.linked}"
            offset = conn.execute("SELECT coalesce(-min(cel_id), 0) FROM _dc_cel").fetchone()[0]
            _insert_linked_cells(conn, link, relations[link.table], measure.linked, tag, that_keys, int(offset))
            condition, params = _where(measure.where)
            conn.execute(
                f"""INSERT INTO _dc_lid
                    SELECT s._rid * {len(measures)} + {measures.index(measure.measure)},
                           concat_ws(chr(31), ?, {this_keys})
                    FROM {rows} WHERE true {condition}""",
                [tag, *params],
            )


def _insert_linked_cells(
    conn: duckdb.DuckDBPyConnection,
    link: LinkSpec,
    relation: str,
    linked_measure: str,
    tag: str,
    keys: str,
    offset: int,
) -> None:
    condition, params = _where(link.where, "l")
    value = f"l.{identifier(linked_measure)}"
    conn.execute(
        f"""CREATE OR REPLACE TEMP TABLE _dc_vast AS
            SELECT -({offset} + row_number() OVER (ORDER BY {keys})) AS cel_id,
                   concat_ws(chr(31), ?, {keys}) AS groep, CAST({value} AS DOUBLE) AS waarde,
                   ({value} IS NULL AND coalesce(l.{identifier(SUPPRESSED_FLAG)}, false)) AS onderdrukt
            FROM {relation} AS l WHERE true {condition}""",
        [tag, *params],
    )
    conn.execute(
        """INSERT INTO _dc_cel BY NAME
           SELECT cel_id, NULL AS _rid, -1 AS maat_nr, waarde, false AS onderdrukbaar, onderdrukt,
                  false AS primair, false AS vastgepind
           FROM _dc_vast"""
    )
    conn.execute("INSERT INTO _dc_lid SELECT cel_id, groep FROM _dc_vast")


def _drop_lone_cells(conn: duckdb.DuckDBPyConnection) -> None:
    """A group of one cell has no total to subtract from."""
    conn.execute("DELETE FROM _dc_lid WHERE groep IN (SELECT groep FROM _dc_lid GROUP BY groep HAVING count(*) < 2)")


def _build_groups(conn: duckdb.DuckDBPyConnection, table: PublishedTable, relations: Mapping[str, str] | None) -> None:
    _create_groups(conn, table)
    _create_links(conn, table, relations or {})
    _drop_lone_cells(conn)


def _mark_pinned(conn: duckdb.DuckDBPyConnection) -> None:
    """A cell is pinned when a group of it has no other cell that is or can be suppressed
    (a linked table's visible total of this one cell, a district over a single basisteam):
    suppressing it would leave it recoverable, so secondary suppression takes it last."""
    conn.execute(
        """UPDATE _dc_cel SET vastgepind = true WHERE cel_id IN (
             SELECT l.cel_id FROM _dc_lid AS l JOIN (
               SELECT l.groep FROM _dc_lid AS l JOIN _dc_cel AS c USING (cel_id)
               GROUP BY l.groep HAVING count_if(c.onderdrukbaar OR c.onderdrukt) = 1
             ) USING (groep)
             JOIN _dc_cel AS c USING (cel_id)
             WHERE c.onderdrukbaar AND NOT c.onderdrukt)"""
    )


def _secondary_round(conn: duckdb.DuckDBPyConnection) -> int:
    """Suppress one more cell in every group that has exactly one suppressed cell.

    The candidate is the smallest non-zero cell at a gemeente/basisteam level. District and
    eenheid cells are never taken: published_tables.md publishes them unless they are
    themselves below k, so a group without a suppressible cell (a district below k among the
    districts of the eenheid) keeps its single suppressed cell (see the audit's `lek`).
    """
    updated = conn.execute(
        """UPDATE _dc_cel SET onderdrukt = true WHERE cel_id IN (
             WITH enkel AS (
               SELECT l.groep FROM _dc_lid AS l JOIN _dc_cel AS c USING (cel_id)
               GROUP BY l.groep HAVING count_if(c.onderdrukt) = 1
             ),
             kandidaat AS (
               SELECT c.cel_id, row_number() OVER (
                        PARTITION BY l.groep
                        ORDER BY NOT c.onderdrukbaar, c.vastgepind, c.waarde = 0, c.waarde, c.cel_id) AS nr
               FROM _dc_lid AS l JOIN enkel USING (groep) JOIN _dc_cel AS c USING (cel_id)
               WHERE NOT c.onderdrukt AND c.waarde > 0 AND c.onderdrukbaar
             )
             SELECT cel_id FROM kandidaat WHERE nr = 1)"""
    ).fetchone()
    return int(updated[0]) if updated else 0


def _secondary(conn: duckdb.DuckDBPyConnection) -> int:
    for rounds in range(1, _MAX_ROUNDS + 1):
        if _secondary_round(conn) == 0:
            return rounds
    raise RuntimeError("secundaire onderdrukking wordt niet stabiel")


def _max_damage(
    conn: duckdb.DuckDBPyConnection, table: PublishedTable, registrations: str | None, source_columns: set[str]
) -> None:
    """The largest single damage per row, from the mart or from the registrations."""
    assert table.disclosure is not None and table.disclosure.dominance is not None
    if MAX_DAMAGE_COLUMN in source_columns:
        conn.execute(
            f"CREATE OR REPLACE TEMP TABLE _dc_max AS SELECT _rid, CAST({identifier(MAX_DAMAGE_COLUMN)} AS DOUBLE) "
            "AS max_schade FROM _dc_src"
        )
        return
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
            FROM _dc_src AS s
            JOIN _dc_gemeente_regio AS g ON g.niveau = s._niveau AND g.code = s._code
            JOIN {registrations} AS i
              ON CAST(i.{identifier(REGISTRATION_REGION_COLUMN)} AS VARCHAR) = g.gemeentecode AND {joins}
            WHERE true {filters}
            GROUP BY s._rid""",
        list(dominance.filter.values()),
    )


def _suppress_amounts(
    conn: duckdb.DuckDBPyConnection,
    table: PublishedTable,
    policy: PublicationPolicy,
    registrations: str | None,
    source_columns: set[str],
) -> int:
    """Amounts follow their count; dominated amounts go too. Returns the dominance count."""
    assert table.disclosure is not None
    measures = _measures(table)
    for amount, count in table.disclosure.amounts.items():
        conn.execute(
            """UPDATE _dc_cel AS a SET onderdrukt = true, primair = true FROM _dc_cel AS c
               WHERE a._rid = c._rid AND a.maat_nr = ? AND c.maat_nr = ? AND c.onderdrukt""",
            [measures.index(amount), measures.index(count)],
        )
    dominance = table.disclosure.dominance
    if dominance is None:
        return 0
    _max_damage(conn, table, registrations, source_columns)
    result = conn.execute(
        """UPDATE _dc_cel AS a SET onderdrukt = true, primair = true FROM _dc_max AS m
           WHERE a._rid = m._rid AND a.maat_nr = ? AND a.onderdrukbaar AND NOT a.onderdrukt
             AND a.waarde > 0 AND m.max_schade > ? * a.waarde""",
        [measures.index(dominance.amount), policy.dominance_threshold],
    ).fetchone()
    return int(result[0]) if result else 0


def _write_output(conn: duckdb.DuckDBPyConnection, table: PublishedTable, target: str) -> None:
    """The contract's columns, cast to the contract's types, with suppressed values NULL."""
    assert table.disclosure is not None
    measures = _measures(table)
    flags = ", ".join(
        f"coalesce(bool_or(onderdrukt) FILTER (WHERE maat_nr = {n}), false) AS m{n}" for n in range(len(measures))
    )
    selected = []
    for column in table.columns:
        name = identifier(column.name)
        value = f"CAST(s.{name} AS {column.physical_type})"
        if column.name == SUPPRESSED_FLAG:
            selected.append(f"coalesce(f.elk, false) AS {name}")
        elif column.name in measures:
            selected.append(f"CASE WHEN f.m{measures.index(column.name)} THEN NULL ELSE {value} END AS {name}")
        elif column.name in table.disclosure.derived:
            hidden = " OR ".join(f"f.m{measures.index(m)}" for m in table.disclosure.derived[column.name])
            selected.append(f"CASE WHEN {hidden} THEN NULL ELSE {value} END AS {name}")
        else:
            selected.append(f"{value} AS {name}")
    order = ", ".join(identifier(c) for c in table.primary_key) or "1"
    conn.execute(
        f"""CREATE OR REPLACE TABLE {target} AS
            SELECT {", ".join(selected)}
            FROM _dc_src AS s
            LEFT JOIN (SELECT _rid, {flags}, bool_or(onderdrukt) AS elk FROM _dc_cel GROUP BY _rid) AS f
              USING (_rid)
            ORDER BY {order}"""
    )


def _columns_of(conn: duckdb.DuckDBPyConnection, relation: str) -> set[str]:
    return {row[0] for row in conn.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}


def apply_disclosure(
    conn: duckdb.DuckDBPyConnection,
    table: PublishedTable,
    policy: PublicationPolicy,
    *,
    source: str,
    target: str,
    regions: str,
    registrations: str | None,
    relations: Mapping[str, str] | None = None,
) -> DisclosureStats:
    """Write `target` as the suppressed version of the mart relation `source`.

    `regions` is a relation with dim_gemeente's columns, `registrations` one with
    int_meldingen's (only needed when the mart has no `max_schade`), `relations` the already
    suppressed version of every table the contract links this one to (by table name; see
    `PublishedContract.dependencies`). Relation names come from the caller's own code, never
    from data.
    """
    if table.disclosure is None:
        raise ValueError(f"{table.name} heeft geen regels voor onthullingscontrole")
    source_columns = _columns_of(conn, source)
    missing = [c.name for c in table.mart_columns if c.name not in source_columns]
    if missing:
        raise ValueError(f"{table.name}: kolommen ontbreken in de mart: {', '.join(missing)}")
    create_region_tables(conn, regions, policy)
    _create_source(conn, table, source)
    _create_cells(conn, table, policy, published=False)
    _build_groups(conn, table, relations)
    _mark_pinned(conn)
    rounds = _secondary(conn)
    dominated = _suppress_amounts(conn, table, policy, registrations, source_columns)
    rounds += _secondary(conn)
    _write_output(conn, table, target)
    primary, secondary, rows = conn.execute(
        # coalesce: a mart still without rows (its source has not delivered yet) has no cells
        "SELECT coalesce(count_if(primair), 0), coalesce(count_if(onderdrukt AND NOT primair), 0), "
        "count(DISTINCT _rid) FROM _dc_cel WHERE cel_id >= 0"
    ).fetchone()
    return DisclosureStats(
        table=table.name,
        rows=int(rows),
        primary=int(primary),
        secondary=int(secondary),
        dominance=dominated,
        rounds=rounds,
    )


def disclosure_violations(
    conn: duckdb.DuckDBPyConnection,
    table: PublishedTable,
    policy: PublicationPolicy,
    *,
    published: str,
    regions: str,
    relations: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """Build two temp tables that audit a published table; returns their names.

    `relations` gives the published version of the tables this one is linked to, so the audit
    covers the groups across tables too.

    `_dc_kleine_cellen`: every visible count with whether it lies in 1 … k−1;
    `_dc_groepen`: every additive group with its number of suppressed cells; `lek` marks a group
    with exactly one suppressed cell that still had a suppressible (gemeente/basisteam) cell.
    """
    create_region_tables(conn, regions, policy)
    _create_source(conn, table, published)
    _create_cells(conn, table, policy, published=True)
    _build_groups(conn, table, relations)
    assert table.disclosure is not None
    measures = _measures(table)
    counts = [measures.index(c) for c in table.disclosure.counts]
    conn.execute(
        f"""CREATE OR REPLACE TEMP TABLE _dc_kleine_cellen AS
            SELECT s._niveau AS regio_niveau, s._code AS regio_code, c.cel_id,
                   c.waarde AS aantal, c.waarde BETWEEN 1 AND ? AS klein
            FROM _dc_cel AS c JOIN _dc_src AS s USING (_rid)
            WHERE c.maat_nr IN ({", ".join(str(n) for n in counts)}) AND c.waarde IS NOT NULL""",
        [policy.min_cell_size - 1],
    )
    conn.execute(
        """CREATE OR REPLACE TEMP TABLE _dc_groepen AS
           SELECT replace(l.groep, chr(31), ' | ') AS groep, count(*) AS cellen,
                  count_if(c.onderdrukt) AS onderdrukt_in_groep,
                  count_if(c.onderdrukt) = 1 AND count_if(c.onderdrukbaar AND NOT c.onderdrukt) > 0 AS lek
           FROM _dc_lid AS l JOIN _dc_cel AS c USING (cel_id) GROUP BY l.groep"""
    )
    return "_dc_kleine_cellen", "_dc_groepen"
