"""The interval audit: what an attacker can compute for a hidden cell from everything published.

Every published count of a table with disclosure rules is a cell; every additive identity
between published cells (derived from the `disclosure` rules of `data_contracts/published.yaml`:
a region and the regions directly below it, a categorie total and its parts, a year and its
quarters, last year's figure repeated, and the `links` between tables) is an equation. The
attacker's knowledge is what the spec says: counts are whole numbers ≥ 0 and, because zeros are
always shown, a hidden count is ≥ 1. Linear programming (HiGHS) then gives the smallest and
largest value of each hidden cell, per connected block of hidden cells, so the work grows with
the blocks, not with the whole publication.

Each identity kind is first verified on its fully visible instances: an identity the data
model declares but the data does not satisfy is an error (a wrong link), and a table with
counts but no identity linking it to another table is reported, so a new table's links cannot
be forgotten silently.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import duckdb
import highspy
import numpy as np
import pandas as pd
from scipy.sparse import bmat, coo_matrix
from scipy.sparse.csgraph import connected_components

from dvcc_pipeline.publication.contract import (
    SUPPRESSED_FLAG,
    PublicationPolicy,
    PublishedContract,
    PublishedTable,
    identifier,
)
from dvcc_pipeline.publication.disclosure import create_region_tables

_TOLERANCE = 1e-6
# Upper bound of a hidden count in the LP: keeps every LP bounded; reached means "no upper limit".
_CAP = 1e7
# How often all open cells of a block are pushed down and up together before each open cell
# gets an LP of its own.
_SPREAD_ROUNDS = 60
_SPREAD = 12.0  # weights e^0 … e^12: the largest in an identity dominates


@dataclass
class AuditResult:
    """The audit's verdict and figures (shown in the asset metadata and the publicatie row)."""

    hidden: int = 0
    primary: int = 0
    recovered: int = 0
    narrow: int = 0
    identities: int = 0
    blocks: int = 0
    largest_block: int = 0
    hidden_total: int = 0  # the sum of the true counts hidden (information loss)
    seconds: float = 0.0
    identity_kinds: dict[str, dict[str, int]] = field(default_factory=dict)
    wrong_identities: list[str] = field(default_factory=list)
    unlinked_tables: list[str] = field(default_factory=list)
    infeasible_blocks: int = 0
    lps: int = 0
    intervals: bool = True  # False: cells and identities only, no LP (recovered/narrow unknown)
    spread_only: bool = False  # spread LPs only: `failures` are the cells not shown to be protected
    failures: pd.DataFrame = field(default_factory=pd.DataFrame)
    cells: pd.DataFrame = field(default_factory=pd.DataFrame)
    equations: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def passed(self) -> bool:
        problems = self.wrong_identities or self.unlinked_tables or self.infeasible_blocks
        return not (self.recovered or self.narrow or problems)

    def summary(self) -> str:
        """One Dutch line on what fails, for an error message."""
        parts = [f"{self.recovered} cellen terug te rekenen", f"{self.narrow} kleine cellen met een te smalle marge"]
        if self.wrong_identities:
            parts.append("optelrelaties die niet kloppen: " + "; ".join(self.wrong_identities))
        if self.unlinked_tables:
            parts.append("tabellen zonder koppeling: " + ", ".join(self.unlinked_tables))
        if self.infeasible_blocks:
            parts.append(f"{self.infeasible_blocks} tegenstrijdige blokken")
        return ", ".join(parts)

    def figures(self) -> dict[str, int | float | None]:
        return {
            "cellen_onderdrukt": self.hidden,
            "cellen_primair": self.primary,
            "aantal_onderdrukt": self.hidden_total,
            "cellen_terug_te_rekenen": self.recovered if self.intervals else None,
            "cellen_te_smal": self.narrow if self.intervals else None,
            # without exact LPs: cells the fast audit cannot show to be protected (an upper bound)
            "cellen_niet_aangetoond": len(self.failures) if self.spread_only else None,
            "identiteiten": self.identities,
            "blokken": self.blocks,
            "grootste_blok": self.largest_block,
            "lp_oplossingen": self.lps,
            "duur_s": round(self.seconds, 3),
        }


def audited_tables(contract: PublishedContract) -> list[PublishedTable]:
    return [t for t in contract.publication_order if t.disclosure is not None and t.disclosure.counts]


def _keys(columns: list[str], alias: str = "s") -> str:
    return ", ".join(f"coalesce(CAST({alias}.{identifier(c)} AS VARCHAR), '∅')" for c in columns) or "''"


def _where(columns: Mapping[str, tuple[str, ...]], alias: str = "") -> tuple[str, list[object]]:
    prefix = f"{alias}." if alias else ""
    sql = "".join(f" AND list_contains(?, CAST({prefix}{identifier(c)} AS VARCHAR))" for c in columns)
    return sql, [list(values) for values in columns.values()]


class _Cells:
    """Cell ids per table: offset + row id × number of counts + the count's position."""

    def __init__(self) -> None:
        self.offset: dict[str, int] = {}
        self.width: dict[str, int] = {}

    def expr(self, table: PublishedTable, measure: str, alias: str = "s") -> str:
        assert table.disclosure is not None
        number = table.disclosure.counts.index(measure)
        return f"({self.offset[table.name]} + {alias}._rid * {self.width[table.name]} + {number})"


def _source(name: str) -> str:
    return f"_au_src_{name}"


def _create_cells(
    conn: duckdb.DuckDBPyConnection,
    tables: list[PublishedTable],
    policy: PublicationPolicy,
    relations: Mapping[str, str],
    truth: Mapping[str, str],
) -> _Cells:
    cells = _Cells()
    conn.execute(
        """CREATE OR REPLACE TEMP TABLE _au_cel (cel_id BIGINT, tabel VARCHAR, maat VARCHAR, _rid BIGINT,
           niveau VARCHAR, code VARCHAR, sleutel VARCHAR, waarde DOUBLE, waar DOUBLE, verborgen BOOLEAN,
           onderdrukbaar BOOLEAN)"""
    )
    offset = 0
    for table in tables:
        assert table.disclosure is not None and table.region is not None
        region = table.region
        level = f"p.{identifier(region.level_column)}" if region.level_column else "CAST(? AS VARCHAR)"
        params = [] if region.level_column else [region.level]
        join = " AND ".join(f"p.{identifier(c)} IS NOT DISTINCT FROM m.{identifier(c)}" for c in table.primary_key)
        true_columns = ", ".join(f"m.{identifier(c)} AS {identifier('waar_' + c)}" for c in table.disclosure.counts)
        conn.execute(
            f"""CREATE OR REPLACE TEMP TABLE {_source(table.name)} AS
                SELECT row_number() OVER (ORDER BY {", ".join("p." + identifier(c) for c in table.primary_key)})
                       AS _rid, p.*, {level} AS _niveau, CAST(p.{identifier(region.code_column)} AS VARCHAR) AS _code,
                       {true_columns}
                FROM {relations[table.name]} AS p LEFT JOIN {truth[table.name]} AS m ON {join}""",
            params,
        )
        rows = conn.execute(f"SELECT count(*) FROM {_source(table.name)}").fetchone()[0]
        cells.offset[table.name] = offset
        cells.width[table.name] = len(table.disclosure.counts)
        offset += (int(rows) + 1) * len(table.disclosure.counts)
        for measure in table.disclosure.counts:
            column = identifier(measure)
            conn.execute(
                f"""INSERT INTO _au_cel
                    SELECT {cells.expr(table, measure)}, ?, ?, s._rid, s._niveau, s._code,
                           concat_ws(' | ', {_keys(table.primary_key)}), CAST(s.{column} AS DOUBLE),
                           CAST(s.{identifier("waar_" + measure)} AS DOUBLE),
                           s.{column} IS NULL AND coalesce(s.{identifier(SUPPRESSED_FLAG)}, false),
                           list_contains(?, s._niveau)
                    FROM {_source(table.name)} AS s ORDER BY s._rid""",
                [table.name, measure, list(policy.region_hierarchy)],
            )
    return cells


def _insert(conn: duckdb.DuckDBPyConnection, kind: str, sql: str, params: list[object] | None = None) -> None:
    conn.execute(f"INSERT INTO _au_eq SELECT vgl, ? AS soort, cel_id, coef FROM ({sql})", [kind, *(params or [])])


def _region_equations(conn: duckdb.DuckDBPyConnection, table: PublishedTable, cells: _Cells) -> None:
    assert table.disclosure is not None and table.region is not None
    others = [c for c in table.primary_key if c not in {table.region.code_column, table.region.level_column}]
    src = _source(table.name)
    for measure in table.disclosure.counts:
        tag = f"{table.name}.{measure}: regio = som van de regio's eronder"
        _insert(
            conn,
            tag,
            f"""SELECT concat_ws(chr(31), ?, r.ouder_niveau, r.ouder_code, {_keys(others)}) AS vgl,
                       {cells.expr(table, measure)} AS cel_id, -1 AS coef
                FROM {src} AS s JOIN _dc_regio AS r ON r.niveau = s._niveau AND r.code = s._code
                UNION ALL
                SELECT concat_ws(chr(31), ?, s._niveau, s._code, {_keys(others)}), {cells.expr(table, measure)}, 1
                FROM {src} AS s""",
            [tag, tag],
        )


def _total_equations(
    conn: duckdb.DuckDBPyConnection, table: PublishedTable, cells: _Cells, column: str, total: str, values: tuple
) -> None:
    assert table.disclosure is not None
    others = [c for c in table.primary_key if c != column]
    col = f"CAST(s.{identifier(column)} AS VARCHAR)"
    where, params = ("", []) if not values else (f"WHERE list_contains(?, {col})", [list(values)])
    for measure in table.disclosure.counts:
        tag = f"{table.name}.{measure}: {column} {total} = som van de andere"
        _insert(
            conn,
            tag,
            f"""SELECT concat_ws(chr(31), ?, {_keys(others)}) AS vgl, {cells.expr(table, measure)} AS cel_id,
                       CASE WHEN {col} = ? THEN 1 ELSE -1 END AS coef
                FROM {_source(table.name)} AS s {where}""",
            [tag, total, *params],
        )


def _period_equations(conn: duckdb.DuckDBPyConnection, table: PublishedTable, cells: _Cells, column: str) -> None:
    assert table.disclosure is not None
    others = [c for c in table.primary_key if c != column]
    col = f"CAST(s.{identifier(column)} AS VARCHAR)"
    for measure in table.disclosure.counts:
        tag = f"{table.name}.{measure}: jaar = som van de kwartalen"
        _insert(
            conn,
            tag,
            f"""SELECT concat_ws(chr(31), ?, left({col}, 4), {_keys(others)}) AS vgl,
                       {cells.expr(table, measure)} AS cel_id, CASE WHEN length({col}) = 4 THEN 1 ELSE -1 END AS coef
                FROM {_source(table.name)} AS s""",
            [tag],
        )


def _previous_equations(
    conn: duckdb.DuckDBPyConnection, table: PublishedTable, cells: _Cells, column: str, measure: str, of: str
) -> None:
    others = [c for c in table.primary_key if c != column]
    tag = f"{table.name}.{measure} = {of} van het jaar ervoor"
    col = f"CAST(s.{identifier(column)} AS BIGINT)"
    _insert(
        conn,
        tag,
        f"""SELECT concat_ws(chr(31), ?, {col}, {_keys(others)}) AS vgl, {cells.expr(table, measure)} AS cel_id,
                   1 AS coef FROM {_source(table.name)} AS s
            UNION ALL
            SELECT concat_ws(chr(31), ?, {col} + 1, {_keys(others)}), {cells.expr(table, of)}, -1
            FROM {_source(table.name)} AS s""",
        [tag, tag],
    )


def _link_equations(
    conn: duckdb.DuckDBPyConnection,
    contract: PublishedContract,
    table: PublishedTable,
    cells: _Cells,
    relations: Mapping[str, str],
) -> None:
    assert table.disclosure is not None
    for number, link in enumerate(table.disclosure.links):
        linked = contract.table(link.table)
        assert linked.disclosure is not None
        this_keys = ", ".join(f"CAST({identifier(c)} AS VARCHAR)" for c in link.match)
        that_keys = ", ".join(f"CAST(l.{identifier(c)} AS VARCHAR)" for c in link.match.values())
        rows = f"{_source(table.name)} AS s"
        if link.lookup:
            rows += f" JOIN {relations[link.lookup.table]} AS k USING ({identifier(link.lookup.key)})"
        linked_where, linked_params = _where(link.where, "l")
        for measure_number, measure in enumerate(link.measures):
            if measure.measure not in table.disclosure.counts or measure.linked not in linked.disclosure.counts:
                continue  # amounts are protected with their counts, not audited
            tag = f"{link.table}.{measure.linked} = som van {table.name}.{measure.measure} (koppeling {number})"
            key = f"{table.name}{number}.{measure_number}"
            where, params = _where(measure.where)
            _insert(
                conn,
                tag,
                f"""SELECT concat_ws(chr(31), ?, {this_keys}) AS vgl, {cells.expr(table, measure.measure)} AS cel_id,
                           -1 AS coef FROM {rows} WHERE true {where}
                    UNION ALL
                    SELECT concat_ws(chr(31), ?, {that_keys}), {cells.expr(linked, measure.linked, "l")}, 1
                    FROM {_source(linked.name)} AS l WHERE true {linked_where}""",
                [key, *params, key, *linked_params],
            )


def _create_equations(
    conn: duckdb.DuckDBPyConnection,
    contract: PublishedContract,
    tables: list[PublishedTable],
    cells: _Cells,
    relations: Mapping[str, str],
) -> None:
    conn.execute("CREATE OR REPLACE TEMP TABLE _au_eq (vgl VARCHAR, soort VARCHAR, cel_id BIGINT, coef INTEGER)")
    for table in tables:
        assert table.disclosure is not None
        for group in table.disclosure.groups:
            if group.kind == "regio" and table.region and table.region.level_column:
                _region_equations(conn, table, cells)
            elif group.kind == "categorie" and group.total and group.column:
                _total_equations(conn, table, cells, group.column, group.total, group.values)
            elif group.kind == "periode" and group.column:
                _period_equations(conn, table, cells, group.column)
            elif group.kind == "vorig" and group.column and group.measure and group.of:
                _previous_equations(conn, table, cells, group.column, group.measure, group.of)
        _link_equations(conn, contract, table, cells, relations)
    # An equation needs exactly one total and at least one part; a cell with no value that was
    # not suppressed (no previous year) makes its equation meaningless.
    conn.execute(
        """CREATE OR REPLACE TEMP TABLE _au_vgl AS
           SELECT e.vgl, any_value(e.soort) AS soort, e.cel_id, sum(e.coef) AS coef
           FROM _au_eq AS e GROUP BY e.vgl, e.cel_id"""
    )
    # A declared identity whose total is not one published cell (a link matching several rows)
    # is no identity: the audit reports it instead of silently leaving it out.
    conn.execute(
        """CREATE OR REPLACE TEMP TABLE _au_dubbel AS
           SELECT DISTINCT soort FROM _au_vgl GROUP BY vgl, soort HAVING count_if(coef > 0) > 1"""
    )
    conn.execute(
        """CREATE OR REPLACE TEMP TABLE _au_vgl AS
           WITH goed AS (
             SELECT v.vgl FROM _au_vgl AS v JOIN _au_cel AS c USING (cel_id)
             GROUP BY v.vgl
             HAVING count_if(v.coef > 0) = 1 AND count_if(v.coef < 0) >= 1
                AND NOT bool_or(c.waarde IS NULL AND NOT c.verborgen)
           )
           SELECT dense_rank() OVER (ORDER BY v.vgl) - 1 AS vgl_nr, v.soort, v.cel_id, v.coef
           FROM _au_vgl AS v JOIN goed USING (vgl)"""
    )


def _verify(equations: pd.DataFrame, result: AuditResult) -> None:
    """Each identity kind on its instances without a hidden cell: the residual must be 0."""
    visible = equations.groupby("vgl_nr").agg(
        soort=("soort", "first"), verborgen=("verborgen", "any"), rest=("bijdrage", "sum")
    )
    for kind, rows in visible.groupby("soort"):
        checked = rows[~rows["verborgen"]]
        failed = int((checked["rest"].abs() > 0.5).sum())
        result.identity_kinds[str(kind)] = {"vergelijkingen": len(rows), "gecontroleerd": len(checked), "fout": failed}
        if failed:
            result.wrong_identities.append(str(kind))


def _new_solver(csc: object, rhs: np.ndarray, n: int) -> highspy.Highs:
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = csc.shape[0]  # type: ignore[attr-defined]
    lp.col_cost_ = np.zeros(n)
    lp.col_lower_ = np.ones(n)
    lp.col_upper_ = np.full(n, _CAP)
    lp.row_lower_ = rhs
    lp.row_upper_ = rhs
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr  # type: ignore[attr-defined]
    lp.a_matrix_.index_ = csc.indices  # type: ignore[attr-defined]
    lp.a_matrix_.value_ = csc.data  # type: ignore[attr-defined]
    solver = highspy.Highs()
    solver.setOptionValue("output_flag", False)
    solver.passModel(lp)
    return solver


def _optimum(solver: highspy.Highs, cost: np.ndarray, sense: highspy.ObjSense) -> np.ndarray | None:
    """The optimal vertex for this objective, or None when the block is infeasible."""
    solver.changeColsCost(len(cost), np.arange(len(cost), dtype=np.int32), cost)
    solver.changeObjectiveSense(sense)
    solver.run()
    if solver.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return np.asarray(solver.getSolution().col_value)


def _solve_block(matrix: object, rhs: np.ndarray, needed: np.ndarray, truth: np.ndarray, exact: bool = True) -> _Block:
    """Interval of each variable (≥ 1, capped at _CAP) subject to matrix · x = rhs.

    Every vertex an LP returns is a feasible table, so the values seen over all solutions are an
    inner bound of each interval. A variable whose seen range is already `needed` wide passes
    without an LP of its own; only the others get their exact minimum and maximum. The true
    counts, when known, are one more feasible point. With `exact=False` the cells still open
    after the spread LPs keep their inner bound (conservative: they count as failing), which
    is all the protection rounds need.
    """
    n = len(needed)
    solver = _new_solver(matrix.tocsc(), rhs, n)  # type: ignore[attr-defined]
    block = _Block(low=np.full(n, np.inf), high=np.full(n, -np.inf), exact=np.zeros(n, dtype=bool))

    def seen(point: np.ndarray) -> None:
        np.minimum(block.low, point, out=block.low)
        np.maximum(block.high, point, out=block.high)

    def width(index: int | slice) -> np.ndarray:
        """Width of the seen range, in whole numbers."""
        return np.floor(block.high[index] + _TOLERANCE) - np.ceil(block.low[index] - _TOLERANCE)

    def open_cells() -> np.ndarray:
        return width(slice(None)) < needed

    def push(weight: np.ndarray, sense: highspy.ObjSense) -> bool:
        """One LP; its solution widens the seen ranges. False: the block is infeasible."""
        point = _optimum(solver, weight, sense)
        block.lps += 1
        if point is None:
            block.infeasible = True
            return False
        seen(point)
        return True

    if not np.isnan(truth).any():
        seen(truth)
    # Push the open cells down and up together first, then with strongly different random
    # weights: within one identity the cell with the largest weight takes the slack, so one LP
    # settles about one cell per identity. The weights come from a fixed seed, so the same
    # publication always takes the same steps.
    weights = np.random.default_rng(0)
    remaining = open_cells()
    for round_number in range(_SPREAD_ROUNDS):
        before = int(remaining.sum())
        if before == 0:
            break
        weight = remaining.astype(float)
        if round_number:
            weight *= np.exp(_SPREAD * weights.random(n))
        senses = (highspy.ObjSense.kMinimize, highspy.ObjSense.kMaximize)
        for sense in senses if round_number % 4 == 0 else senses[1:]:
            if not push(weight, sense):
                return block
        remaining = open_cells()
        if round_number > 2 and before - remaining.sum() < max(1, 0.005 * before):
            break
    unit = np.zeros(n)
    if not exact:
        block.exact[:] = False
        return block
    for i in np.flatnonzero(remaining):
        if width(i) >= needed[i]:
            continue  # settled by an earlier LP's solution
        unit[i] = 1.0
        for sense in (highspy.ObjSense.kMinimize, highspy.ObjSense.kMaximize):
            settled = width(i) >= needed[i]
            if settled and sense == highspy.ObjSense.kMaximize:
                break
            if not push(unit, sense):
                return block
        block.exact[i] = not settled
        if not settled:
            # The identities with a non-zero dual pin this cell: where a complement helps.
            duals = np.asarray(solver.getSolution().row_dual)
            block.binding[int(i)] = np.flatnonzero(np.abs(duals) > _TOLERANCE)
        unit[i] = 0.0
    return block


@dataclass
class _Block:
    low: np.ndarray
    high: np.ndarray
    exact: np.ndarray
    binding: dict[int, np.ndarray] = field(default_factory=dict)
    lps: int = 0
    infeasible: bool = False


def _signature(cel_ids: np.ndarray, matrix: object, rhs: np.ndarray, needed: np.ndarray) -> str:
    """What determines a block's intervals: its cells, identities and visible sums."""
    csr = matrix.tocsr()  # type: ignore[attr-defined]
    digest = hashlib.sha256()
    for part in (cel_ids, csr.indptr, csr.indices, csr.data, rhs, needed):
        digest.update(np.ascontiguousarray(part).tobytes())
    return digest.hexdigest()


def _intervals(
    equations: pd.DataFrame,
    cells: pd.DataFrame,
    result: AuditResult,
    k: int,
    cache: dict[str, _Block] | None,
    exact: bool = True,
) -> pd.DataFrame:
    hidden = cells[cells["verborgen"]].reset_index(drop=True)
    hidden["ondergrens"] = 1.0
    hidden["bovengrens"] = math.inf
    hidden["exact"] = False
    hidden["bindend"] = None
    involved = equations[equations.groupby("vgl_nr")["verborgen"].transform("any")]
    variables = involved[involved["verborgen"]]
    if variables.empty:
        return hidden
    position = pd.Series(np.arange(len(hidden)), index=hidden["cel_id"])
    rows_index = pd.Series(np.arange(variables["vgl_nr"].nunique()), index=np.sort(variables["vgl_nr"].unique()))
    rhs_all = -involved[~involved["verborgen"]].groupby("vgl_nr")["bijdrage"].sum()
    rhs = rhs_all.reindex(rows_index.index, fill_value=0.0).to_numpy()
    row = rows_index[variables["vgl_nr"]].to_numpy()
    col = position[variables["cel_id"]].to_numpy()
    a = coo_matrix((variables["coef"].to_numpy(dtype=float), (row, col)), shape=(len(rows_index), len(hidden)))
    graph = bmat([[None, a.T], [a, None]]).tocsr()
    _, labels = connected_components(graph, directed=False)
    var_block = labels[: len(hidden)]  # bmat's first block row holds the variables
    row_block = labels[len(hidden) :]
    a = a.tocsr()
    in_equation = np.zeros(len(hidden), dtype=bool)
    in_equation[col] = True
    needed = np.where(hidden["primair"].to_numpy(), k, 1)
    truth = hidden["waar"].to_numpy(dtype=float)
    sizes = []
    for number in np.unique(var_block[in_equation]):
        cols = np.flatnonzero((var_block == number) & in_equation)
        rows = np.flatnonzero(row_block == number)
        matrix = a[rows][:, cols]
        key = _signature(hidden["cel_id"].to_numpy()[cols], matrix, rhs[rows], needed[cols]) + str(exact)
        block = cache.get(key) if cache is not None else None
        if block is None:
            block = _solve_block(matrix, rhs[rows], needed[cols], truth[cols], exact)
            result.lps += block.lps
            if cache is not None:
                cache[key] = block
        if block.infeasible:
            result.infeasible_blocks += 1
            continue
        hidden.loc[cols, "ondergrens"] = block.low
        hidden.loc[cols, "bovengrens"] = np.where(block.high >= _CAP - _TOLERANCE, math.inf, block.high)
        hidden.loc[cols, "exact"] = block.exact
        for local, local_rows in block.binding.items():
            hidden.at[cols[local], "bindend"] = [int(e) for e in rows_index.index[rows[local_rows]]]
        sizes.append(len(cols))
    result.blocks = len(sizes)
    result.largest_block = max(sizes, default=0)
    return hidden


def interval_audit(
    conn: duckdb.DuckDBPyConnection,
    contract: PublishedContract,
    *,
    relations: Mapping[str, str],
    truth: Mapping[str, str],
    regions: str,
    cache: dict[str, _Block] | None = None,
    intervals: bool = True,
    exact: bool = True,
) -> AuditResult:
    """Audit the published tables (`relations`, by table name) against the marts (`truth`).

    `cache` keeps each block's intervals between audits of one publication: a block no newly
    hidden cell touched is not solved again.

    The true counts only tell which hidden cells are primary (1 … k−1) and the information lost;
    the intervals are computed from the published values alone. With `intervals=False` only the
    cells and identities are built (no LP): enough for the cheap first pass of the protection.
    With `exact=False` a cell the spread LPs do not settle counts as failing without its own
    min/max LPs (an upper bound on the failures; the protection rounds use it).
    """
    started = time.perf_counter()
    policy = contract.policy
    k = int(policy.min_cell_size)
    tables = audited_tables(contract)
    create_region_tables(conn, regions, policy)
    cells_ids = _create_cells(conn, tables, policy, relations, truth)
    _create_equations(conn, contract, tables, cells_ids, relations)
    result = AuditResult()
    cells = conn.execute("SELECT * FROM _au_cel ORDER BY cel_id").df()
    equations = conn.execute(
        """SELECT v.vgl_nr, v.soort, v.cel_id, v.coef, c.verborgen,
                  CASE WHEN c.verborgen THEN 0 ELSE v.coef * c.waarde END AS bijdrage
           FROM _au_vgl AS v JOIN _au_cel AS c USING (cel_id) ORDER BY v.vgl_nr, v.cel_id"""
    ).df()
    result.identities = int(equations["vgl_nr"].nunique()) if not equations.empty else 0
    _verify(equations, result)
    for (kind,) in conn.execute("SELECT soort FROM _au_dubbel ORDER BY 1").fetchall():
        result.wrong_identities.append(f"{kind}: totaal is niet één gepubliceerde cel")
    linked = {kind.split(".")[0] for kind in result.identity_kinds if "koppeling" in kind}
    linked |= {kind.split(" som van ")[1].split(".")[0] for kind in result.identity_kinds if "koppeling" in kind}
    result.unlinked_tables = [t.name for t in tables if t.name not in linked]
    cells["primair"] = cells["verborgen"] & cells["waar"].between(1, k - 1)
    result.cells = cells
    result.equations = equations
    if not intervals:
        result.intervals = False
        result.hidden = int(cells["verborgen"].sum())
        result.primary = int(cells["primair"].sum())
        result.hidden_total = int(cells.loc[cells["verborgen"], "waar"].fillna(0).sum())
        result.seconds = time.perf_counter() - started
        return result
    hidden = _intervals(equations, cells, result, k, cache, exact)
    result.intervals = exact
    result.spread_only = not exact
    low = np.ceil(hidden["ondergrens"] - _TOLERANCE)
    high = np.floor(hidden["bovengrens"] + _TOLERANCE)
    hidden["teruggerekend"] = (high - low) < 0.5
    hidden["te_smal"] = hidden["primair"] & ~hidden["teruggerekend"] & ((high - low) < k)
    result.hidden = len(hidden)
    result.primary = int(hidden["primair"].sum())
    result.hidden_total = int(hidden["waar"].fillna(0).sum())
    result.recovered = int(hidden["teruggerekend"].sum())
    result.narrow = int(hidden["te_smal"].sum())
    failing = hidden[hidden["teruggerekend"] | hidden["te_smal"]]
    result.failures = failing[
        [
            "cel_id",
            "tabel",
            "maat",
            "sleutel",
            "niveau",
            "waar",
            "ondergrens",
            "bovengrens",
            "primair",
            "teruggerekend",
            "bindend",
        ]
    ].reset_index(drop=True)
    result.seconds = time.perf_counter() - started
    return result
