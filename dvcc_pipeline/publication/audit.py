"""The interval audit: what an attacker who knows the method can compute from everything published.

Every published count of a table with disclosure rules is a cell; every additive identity
between published cells is an equation, derived from the `disclosure` rules of
`data_contracts/published.yaml`: a region and the regions directly below it, a categorie total
and its parts, a year and its quarters, last year's figure repeated, and the `links` between
tables. The attacker knows that a rounded count r lies in [max(0, r−(b−1)), r+(b−1)], that an
`eenheid` count of k or more is exact (a figure that could be a rounded small count is not),
and that counts are whole numbers. The audit must show that no count whose true value is
1 … k−1 is determined exactly (`pinned`, blocking); it also reports how many of those are
shown to lie in 1 … k−1 without their value (`shown_small`, not blocking).

Speed: interval propagation over the identities first (outer bounds, vectorised; a bound that
closes on a small count pins it without any LP), then per connected block group LPs whose
solutions (each a feasible table) move many small counts away from their true value at once,
and only then an LP of its own for a count no group LP moved. Only small counts need proof:
a count whose true value is 0 or k or more lies outside 1 … k−1 in the truth, a feasible point.

Each identity kind is first verified on the true counts: an identity the data model declares
but the data does not satisfy is an error (a wrong link), and a table with counts but no
identity linking it to another table is reported, so a new table's links cannot be forgotten.
The same cells and equations, over amounts, serve the amounts' protection (amounts.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import duckdb
import highspy
import numpy as np
import pandas as pd
from scipy.sparse import bmat, coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components

from dvcc_pipeline.publication.contract import PublicationPolicy, PublishedContract, PublishedTable, identifier
from dvcc_pipeline.publication.disclosure import create_region_tables
from dvcc_pipeline.publication.rounding import identity_sql

_TOLERANCE = 1e-6
_GROUP_ROUNDS = 6  # LPs over a whole block for the counts the restricted LPs left unmoved
_PROPAGATION_ROUNDS = 60


@dataclass
class AuditResult:
    """The audit's verdict and figures (asset metadata and the publicatie row)."""

    cells: int = 0
    small: int = 0  # counts whose true value is 1 … k−1
    pinned: int = 0
    shown_small: int = 0
    identities: int = 0
    blocks: int = 0
    largest_block: int = 0
    lps: int = 0
    seconds: float = 0.0
    identity_kinds: dict[str, dict[str, int]] = field(default_factory=dict)
    wrong_identities: list[str] = field(default_factory=list)
    unlinked_tables: list[str] = field(default_factory=list)
    failures: pd.DataFrame = field(default_factory=pd.DataFrame)
    redraw_identities: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not (self.pinned or self.wrong_identities or self.unlinked_tables)

    def summary(self) -> str:
        """One Dutch line on what fails, for an error message ('' when nothing fails)."""
        parts = [f"{self.pinned} kleine aantallen exact terug te rekenen"] if self.pinned else []
        if self.wrong_identities:
            parts.append("optelrelaties die niet kloppen: " + "; ".join(self.wrong_identities))
        if self.unlinked_tables:
            parts.append("tabellen zonder koppeling: " + ", ".join(self.unlinked_tables))
        return ", ".join(parts)

    def figures(self) -> dict[str, int | float]:
        return {
            "cellen": self.cells,
            "kleine_aantallen": self.small,
            "aantallen_vastgepind": self.pinned,
            "aantallen_klein_aangetoond": self.shown_small,
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


def _measures(table: PublishedTable, amounts: bool) -> list[str]:
    """The cells of a table: its counts, or its amounts (none where they are never published:
    hidden and unbounded, they add no identity the other tables' links do not already give)."""
    assert table.disclosure is not None
    if amounts:
        return list(table.disclosure.amounts) if table.disclosure.publish_amounts else []
    return list(table.disclosure.counts)


class _Cells:
    """Cell ids per table: offset + row id × number of measures + the measure's position."""

    def __init__(self, amounts: bool) -> None:
        self.amounts = amounts
        self.offset: dict[str, int] = {}
        self.width: dict[str, int] = {}

    def has(self, table: PublishedTable, measure: str) -> bool:
        return measure in _measures(table, self.amounts)

    def expr(self, table: PublishedTable, measure: str, alias: str = "s") -> str:
        number = _measures(table, self.amounts).index(measure)
        return f"({self.offset[table.name]} + {alias}._rid * {self.width[table.name]} + {number})"


def _source(name: str) -> str:
    return f"_au_src_{name}"


def _create_cells(
    conn: duckdb.DuckDBPyConnection,
    tables: list[PublishedTable],
    relations: Mapping[str, str],
    truth: Mapping[str, str],
    amounts: bool,
) -> _Cells:
    cells = _Cells(amounts)
    conn.execute(
        """CREATE OR REPLACE TEMP TABLE _au_cel (cel_id BIGINT, tabel VARCHAR, maat VARCHAR, _rid BIGINT,
           niveau VARCHAR, code VARCHAR, sleutel VARCHAR, identiteit VARCHAR, waarde DOUBLE, waar DOUBLE)"""
    )
    offset = 0
    for table in tables:
        assert table.disclosure is not None and table.region is not None
        measures = _measures(table, amounts)
        region = table.region
        level = f"p.{identifier(region.level_column)}" if region.level_column else "CAST(? AS VARCHAR)"
        params = [] if region.level_column else [region.level]
        join = " AND ".join(f"p.{identifier(c)} IS NOT DISTINCT FROM m.{identifier(c)}" for c in table.primary_key)
        true_columns = ", ".join(f"m.{identifier(c)} AS {identifier('waar_' + c)}" for c in measures) or "NULL AS _x"
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
        cells.width[table.name] = max(1, len(measures))
        offset += (int(rows) + 1) * max(1, len(measures))
        for measure in measures:
            column = identifier(measure)
            ident = "NULL" if amounts else identity_sql(table, measure)
            conn.execute(
                f"""INSERT INTO _au_cel
                    SELECT {cells.expr(table, measure)}, ?, ?, s._rid, s._niveau, s._code,
                           concat_ws(' | ', {_keys(table.primary_key)}), {ident}, CAST(s.{column} AS DOUBLE),
                           CAST(s.{identifier("waar_" + measure)} AS DOUBLE)
                    FROM {_source(table.name)} AS s""",
                [table.name, measure],
            )
    return cells


def _insert(conn: duckdb.DuckDBPyConnection, kind: str, sql: str, params: list[object] | None = None) -> None:
    conn.execute(f"INSERT INTO _au_eq SELECT vgl, ? AS soort, cel_id, coef FROM ({sql})", [kind, *(params or [])])


def _region_equations(conn: duckdb.DuckDBPyConnection, table: PublishedTable, cells: _Cells) -> None:
    assert table.region is not None
    others = [c for c in table.primary_key if c not in {table.region.code_column, table.region.level_column}]
    src = _source(table.name)
    for measure in _measures(table, cells.amounts):
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
    others = [c for c in table.primary_key if c != column]
    col = f"CAST(s.{identifier(column)} AS VARCHAR)"
    where, params = ("", []) if not values else (f"WHERE list_contains(?, {col})", [list(values)])
    for measure in _measures(table, cells.amounts):
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
    others = [c for c in table.primary_key if c != column]
    col = f"CAST(s.{identifier(column)} AS VARCHAR)"
    for measure in _measures(table, cells.amounts):
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
    if not (cells.has(table, measure) and cells.has(table, of)):
        return
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
        this_keys = ", ".join(f"CAST({identifier(c)} AS VARCHAR)" for c in link.match)
        that_keys = ", ".join(f"CAST(l.{identifier(c)} AS VARCHAR)" for c in link.match.values())
        rows = f"{_source(table.name)} AS s"
        if link.lookup:
            rows += f" JOIN {relations[link.lookup.table]} AS k USING ({identifier(link.lookup.key)})"
        linked_where, linked_params = _where(link.where, "l")
        for measure_number, measure in enumerate(link.measures):
            if not (cells.has(table, measure.measure) and cells.has(linked, measure.linked)):
                continue  # a count and an amount never share an identity
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
) -> list[str]:
    """The equations in `_au_vgl` (vgl_nr, soort, cel_id, coef); returns the identity kinds whose
    total is not one published cell (no identity: reported, not silently left out)."""
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
    conn.execute(
        """CREATE OR REPLACE TEMP TABLE _au_vgl AS
           SELECT e.vgl, any_value(e.soort) AS soort, e.cel_id, sum(e.coef) AS coef
           FROM _au_eq AS e GROUP BY e.vgl, e.cel_id"""
    )
    double = [
        str(row[0])
        for row in conn.execute(
            "SELECT DISTINCT soort FROM _au_vgl GROUP BY vgl, soort HAVING count_if(coef > 0) > 1 ORDER BY 1"
        ).fetchall()
    ]
    # An equation needs exactly one total and at least one part; a cell without a value (no
    # previous year) makes its equation meaningless.
    conn.execute(
        """CREATE OR REPLACE TEMP TABLE _au_vgl AS
           WITH goed AS (
             SELECT v.vgl FROM _au_vgl AS v JOIN _au_cel AS c USING (cel_id)
             GROUP BY v.vgl
             HAVING count_if(v.coef > 0) = 1 AND count_if(v.coef < 0) >= 1 AND NOT bool_or(c.waar IS NULL)
           )
           SELECT dense_rank() OVER (ORDER BY v.vgl) - 1 AS vgl_nr, v.soort, v.cel_id, v.coef
           FROM _au_vgl AS v JOIN goed USING (vgl)"""
    )
    return double


@dataclass
class System:
    """Cells and equations of one audit (counts or amounts), as frames."""

    cells: pd.DataFrame  # one row per cell, ordered by position
    equations: pd.DataFrame  # vgl_nr, soort, pos (the cell's row in `cells`), coef
    identity_kinds: dict[str, dict[str, int]]
    wrong_identities: list[str]
    unlinked_tables: list[str]

    def matrix(self) -> csr_matrix:
        eq = self.equations
        n_eq = int(eq["vgl_nr"].max()) + 1 if not eq.empty else 0
        return coo_matrix(
            (eq["coef"].to_numpy(dtype=float), (eq["vgl_nr"].to_numpy(), eq["pos"].to_numpy())),
            shape=(n_eq, len(self.cells)),
        ).tocsr()


def build_system(
    conn: duckdb.DuckDBPyConnection,
    contract: PublishedContract,
    *,
    relations: Mapping[str, str],
    truth: Mapping[str, str],
    regions: str,
    amounts: bool = False,
) -> System:
    """Every published cell (counts, or amounts) and every identity between them."""
    tables = [t for t in audited_tables(contract) if _measures(t, amounts)]
    create_region_tables(conn, regions, contract.policy)
    cell_ids = _create_cells(conn, tables, relations, truth, amounts)
    double = _create_equations(conn, contract, tables, cell_ids, relations)
    cells = conn.execute("SELECT * FROM _au_cel ORDER BY cel_id").df()
    position = pd.Series(np.arange(len(cells)), index=cells["cel_id"])
    equations = conn.execute("SELECT vgl_nr, soort, cel_id, coef FROM _au_vgl ORDER BY vgl_nr, cel_id").df()
    equations["pos"] = position.reindex(equations["cel_id"]).to_numpy()
    system = System(cells, equations, {}, [f"{kind}: totaal is niet één gepubliceerde cel" for kind in double], [])
    _verify(system)
    kinds = system.identity_kinds
    linked = {kind.split(".")[0] for kind in kinds if "koppeling" in kind}
    linked |= {kind.split(" som van ")[1].split(".")[0] for kind in kinds if "koppeling" in kind}
    if not amounts:
        system.unlinked_tables = [t.name for t in tables if t.name not in linked]
    return system


def _verify(system: System) -> None:
    """Each identity kind on the true values: the residual must be 0 (else a wrong link)."""
    eq = system.equations
    if eq.empty:
        return
    truth = system.cells["waar"].to_numpy(dtype=float)
    rest = pd.Series(eq["coef"].to_numpy() * truth[eq["pos"].to_numpy()]).groupby(eq["vgl_nr"].to_numpy()).sum()
    kinds = eq.groupby("vgl_nr")["soort"].first()
    wrong = (rest.abs() > 0.005).reindex(kinds.index)
    for kind, flags in wrong.groupby(kinds):
        failed = int(flags.sum())
        system.identity_kinds[str(kind)] = {"vergelijkingen": len(flags), "fout": failed}
        if failed:
            system.wrong_identities.append(str(kind))


def count_bounds(cells: pd.DataFrame, policy: PublicationPolicy) -> tuple[np.ndarray, np.ndarray]:
    """What the attacker knows of each count from its published figure r (integer bounds)."""
    b, k = int(policy.rounding_base), int(policy.min_cell_size)
    r = cells["waarde"].fillna(0).to_numpy(dtype=float)
    rounded_level = cells["niveau"].isin(policy.rounded_levels).to_numpy()
    low = np.maximum(0.0, r - (b - 1))
    high = r + (b - 1)
    # above the rounded levels a figure of k or more is exact, unless it could be a rounded small count
    could_be_small = (r % b == 0) & (r - (b - 1) <= k - 1)
    big = ~rounded_level & (r >= k)
    low = np.where(big, np.where(could_be_small, np.maximum(1.0, low), r), low)
    high = np.where(big, r, np.where(rounded_level, high, np.minimum(high, k - 1)))
    return low, high


def propagate(matrix: csr_matrix, low: np.ndarray, high: np.ndarray, rounds: int = _PROPAGATION_ROUNDS) -> None:
    """Tighten integer bounds in place with every equation Σ a·x = 0 (outer bounds)."""
    if matrix.shape[0] == 0:
        return
    coo = matrix.tocoo()
    row, col, a = coo.row, coo.col, coo.data
    n_eq = matrix.shape[0]
    for _ in range(rounds):
        lo_c = np.where(a > 0, a * low[col], a * high[col])
        hi_c = np.where(a > 0, a * high[col], a * low[col])
        sum_lo = np.bincount(row, weights=lo_c, minlength=n_eq)
        sum_hi = np.bincount(row, weights=hi_c, minlength=n_eq)
        # a·x_i = −(Σ others): between −(sum_hi − hi_c) and −(sum_lo − lo_c)
        rest_lo = -(sum_hi[row] - hi_c)
        rest_hi = -(sum_lo[row] - lo_c)
        new_lo = np.where(a > 0, rest_lo / a, rest_hi / a)
        new_hi = np.where(a > 0, rest_hi / a, rest_lo / a)
        best_lo = np.full(len(low), -np.inf)
        best_hi = np.full(len(high), np.inf)
        np.maximum.at(best_lo, col, np.ceil(new_lo - _TOLERANCE))
        np.minimum.at(best_hi, col, np.floor(new_hi + _TOLERANCE))
        tighter_lo = best_lo > low + 0.5
        tighter_hi = best_hi < high - 0.5
        if not (tighter_lo.any() or tighter_hi.any()):
            return
        np.maximum(low, best_lo, out=low)
        np.minimum(high, best_hi, out=high)


class _Block:
    """One connected block of free cells: an LP over them with the fixed cells as constants."""

    def __init__(self, matrix: csr_matrix, rhs: np.ndarray, low: np.ndarray, high: np.ndarray) -> None:
        self.n = matrix.shape[1]
        csc = matrix.tocsc()
        lp = highspy.HighsLp()
        lp.num_col_ = self.n
        lp.num_row_ = matrix.shape[0]
        lp.col_cost_ = np.zeros(self.n)
        lp.col_lower_ = low.astype(float)
        lp.col_upper_ = high.astype(float)
        lp.row_lower_ = rhs
        lp.row_upper_ = rhs
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = csc.indptr
        lp.a_matrix_.index_ = csc.indices
        lp.a_matrix_.value_ = csc.data
        self.solver = highspy.Highs()
        self.solver.setOptionValue("output_flag", False)
        self.solver.setOptionValue("presolve", "off")
        self.solver.passModel(lp)
        self.lps = 0

    def optimum(self, cost: np.ndarray, maximize: bool) -> np.ndarray | None:
        self.solver.changeColsCost(self.n, np.arange(self.n, dtype=np.int32), cost)
        self.solver.changeObjectiveSense(highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize)
        self.solver.run()
        self.lps += 1
        if self.solver.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        return np.asarray(self.solver.getSolution().col_value)

    def binding_rows(self) -> np.ndarray:
        duals = np.asarray(self.solver.getSolution().row_dual)
        return np.flatnonzero(np.abs(duals) > _TOLERANCE)


class _Restricted:
    """LPs over a set of cells, every other cell held at its true value.

    The truth is a feasible table, so any solution of such an LP is a feasible table of the whole
    publication: a count it moves is not pinned. Sound, and far cheaper than an LP over a whole
    block; a count no restricted LP moves gets the block's own LPs."""

    def __init__(self, matrix: csr_matrix, low: np.ndarray, high: np.ndarray, truth: np.ndarray) -> None:
        self.csr, self.csc = matrix, matrix.tocsc()
        self.low, self.high, self.truth = low, high, truth
        self.lps = 0

    def block(self, cells: np.ndarray) -> _Block:
        rows = np.unique(self.csc[:, cells].indices)
        outside = self.truth.copy()
        outside[cells] = 0.0
        part = self.csr[rows]
        return _Block(part[:, cells], -(part @ outside), self.low[cells], self.high[cells])

    def push(self, cells: np.ndarray, weight: np.ndarray) -> np.ndarray | None:
        """One LP over `cells` (sorted) maximising weight · x; the feasible table's values there."""
        block = self.block(cells)
        point = block.optimum(weight, maximize=True)
        self.lps += block.lps
        return point


def blocks_of(matrix: csr_matrix, free: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Connected blocks of the free cells through the equations: (label per cell, per row)."""
    sub = matrix[:, free] if free.dtype == bool else matrix
    graph = bmat([[None, sub.T], [sub, None]]).tocsr()
    _, labels = connected_components(graph, directed=False)
    n_free = sub.shape[1]
    cell_label = np.full(matrix.shape[1], -1)
    cell_label[np.flatnonzero(free)] = labels[:n_free]
    return cell_label, labels[n_free:]


def interval_audit(
    conn: duckdb.DuckDBPyConnection,
    contract: PublishedContract,
    *,
    relations: Mapping[str, str],
    truth: Mapping[str, str],
    regions: str,
    bounds: Callable[[pd.DataFrame, PublicationPolicy], tuple[np.ndarray, np.ndarray]] = count_bounds,
) -> AuditResult:
    """Audit the published counts (`relations`, by table name) against the marts (`truth`).

    The truth only says which counts are small (1 … k−1) and is one feasible table; every
    bound comes from the published figures alone (`bounds`: what the attacker knows of a figure,
    by default that of this method; measure.py audits plain rounding with its own).
    """
    started = time.perf_counter()
    policy = contract.policy
    k = int(policy.min_cell_size)
    system = build_system(conn, contract, relations=relations, truth=truth, regions=regions)
    cells = system.cells
    result = AuditResult(
        cells=len(cells),
        identities=int(system.equations["vgl_nr"].nunique()) if not system.equations.empty else 0,
        identity_kinds=system.identity_kinds,
        wrong_identities=system.wrong_identities,
        unlinked_tables=system.unlinked_tables,
    )
    truth_values = cells["waar"].fillna(0).to_numpy(dtype=float)
    small = (truth_values >= 1) & (truth_values <= k - 1) & cells["waarde"].notna().to_numpy()
    result.small = int(small.sum())
    matrix = system.matrix()
    low, high = bounds(cells, policy)
    valid = cells["waarde"].notna().to_numpy()
    low[~valid], high[~valid] = 0.0, 0.0  # no figure: not in any kept equation
    propagate(matrix, low, high)
    pinned = small & (high - low < 0.5)
    seen_low = truth_values.copy()
    seen_high = truth_values.copy()
    open_cells = small & ~pinned
    binding: dict[int, np.ndarray] = {}
    free = high - low > 0.5
    if open_cells.any():
        cell_block, row_block = blocks_of(matrix, free)
        fixed_part = matrix[:, ~free] @ low[~free]
        sizes = []
        restricted = _Restricted(matrix, low, high, truth_values)
        steps = _region_groups(conn, cells, policy)
        for label in np.unique(cell_block[open_cells]):
            cols = np.flatnonzero(cell_block == label)
            rows = np.flatnonzero(row_block == label)
            sizes.append(len(cols))

            def block_of(cols: np.ndarray = cols, rows: np.ndarray = rows) -> _Block:
                return _Block(matrix[rows][:, cols], -fixed_part[rows], low[cols], high[cols])

            groups = [[cols[step[cols] == g] for g in np.unique(step[cols[open_cells[cols]]])] for step in steps]
            result.lps += _solve(
                block_of, restricted, groups, cols, open_cells, seen_low, seen_high, low, high, pinned, binding, rows
            )
        result.blocks, result.largest_block = len(sizes), max(sizes, default=0)
    result.pinned = int(pinned.sum())
    # shown to lie in 1 … k−1 (without their value): both the outer bounds and every point seen inside
    result.shown_small = int((small & ~pinned & (low >= 1) & (high <= k - 1)).sum())
    failures = cells[pinned].copy()
    failures["ondergrens"], failures["bovengrens"] = low[pinned], high[pinned]
    result.failures = failures[["cel_id", "tabel", "maat", "sleutel", "niveau", "waar", "ondergrens", "bovengrens"]]
    result.redraw_identities = _redraw_identities(system, pinned, binding)
    result.seconds = time.perf_counter() - started
    return result


def _solve(
    block_of: Callable[[], _Block],
    restricted: _Restricted,
    groups: list[np.ndarray],
    cols: np.ndarray,
    open_cells: np.ndarray,
    seen_low: np.ndarray,
    seen_high: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    pinned: np.ndarray,
    binding: dict[int, np.ndarray],
    rows: np.ndarray,
) -> int:
    """Settle the small counts of one block; returns the number of LPs.

    A count is safe once a feasible table with another value was seen. First LPs restricted to
    ever larger groups of cells (`groups`: each a list of cell sets, e.g. per basisteam, then per
    district), each pushing the open counts one way at random and then the other way; then LPs
    over the whole block for the counts still unmoved, and for each count those leave unmoved
    its own minimum and maximum (its exact interval; pinned when it cannot move)."""

    def see(where: np.ndarray, point: np.ndarray) -> None:
        np.minimum.at(seen_low, where, point)
        np.maximum.at(seen_high, where, point)

    def unmoved(where: np.ndarray) -> np.ndarray:
        return open_cells[where] & (seen_high[where] - seen_low[where] < 0.5)

    rng = np.random.default_rng(0)  # fixed: the same publication takes the same steps
    for level in groups:
        for cells in level:
            sign = rng.choice([-1.0, 1.0], len(cells))
            for _ in range(2):
                todo = unmoved(cells)
                if not todo.any():
                    break
                point = restricted.push(cells, todo * sign * (rng.random(len(cells)) + 0.5))
                if point is None:
                    break
                see(cells, point)
                sign = -sign
    lps = restricted.lps
    restricted.lps = 0
    if not unmoved(cols).any():
        return lps
    block = block_of()
    sign = rng.choice([-1.0, 1.0], block.n)
    for _ in range(_GROUP_ROUNDS):
        todo = unmoved(cols)
        before = int(todo.sum())
        if not before:
            break
        point = block.optimum(todo * sign * (rng.random(block.n) + 0.5), maximize=True)
        if point is None:
            break
        see(cols, point)
        sign = np.where(unmoved(cols), -sign, sign)
        if before - int(unmoved(cols).sum()) < max(1, 0.1 * before):
            break
    unit = np.zeros(block.n)
    for local in np.flatnonzero(unmoved(cols)):
        cell = cols[local]
        if seen_high[cell] - seen_low[cell] >= 0.5:
            continue
        unit[local] = 1.0
        for maximize in (True, False):
            point = block.optimum(unit, maximize=maximize)
            if point is None:
                break
            see(cols, point)
            if maximize:
                high[cell] = min(high[cell], np.floor(point[local] + _TOLERANCE))
            else:
                low[cell] = max(low[cell], np.ceil(point[local] - _TOLERANCE))
            if seen_high[cell] - seen_low[cell] >= 0.5:
                break
        else:
            pinned[cell] = True
            binding[int(cell)] = rows[block.binding_rows()]
        unit[local] = 0.0
    return lps + block.lps


def _region_groups(conn: duckdb.DuckDBPyConnection, cells: pd.DataFrame, policy: PublicationPolicy) -> list[np.ndarray]:
    """For each cell the region whose subtree it is grouped in, per step: the region one level up
    (a gemeente with its basisteam), then two levels up; the top level is its own group."""
    parents = conn.execute("SELECT niveau, code, ouder_niveau, ouder_code FROM _dc_regio").df()
    regions = cells[["niveau", "code"]].reset_index(drop=True)
    steps = []
    for _ in range(2):
        up = regions.merge(parents, how="left", on=["niveau", "code"])
        top = up["niveau"] == policy.region_hierarchy[-1]
        regions = pd.DataFrame(
            {
                "niveau": up["ouder_niveau"].where(~top & up["ouder_niveau"].notna(), up["niveau"]),
                "code": up["ouder_code"].where(~top & up["ouder_code"].notna(), up["code"]),
            }
        )
        steps.append(pd.factorize(regions["niveau"] + "\x1f" + regions["code"])[0])
    return steps


def _redraw_identities(system: System, pinned: np.ndarray, binding: dict[int, np.ndarray]) -> list[str]:
    """The identities of the rounded cells in the equations that pin a count (its binding
    equations where the LP named them, else every equation it is in), the count included."""
    if not pinned.any():
        return []
    eq = system.equations
    cells = system.cells
    rows: set[int] = set()
    for position in np.flatnonzero(pinned):
        named = binding.get(int(position))
        if named is not None and len(named):
            rows.update(int(r) for r in named)
        else:
            rows.update(int(r) for r in eq.loc[eq["pos"] == position, "vgl_nr"])
    positions = set(eq.loc[eq["vgl_nr"].isin(rows), "pos"].astype(int)) | set(np.flatnonzero(pinned).tolist())
    chosen = cells.iloc[sorted(positions)]
    return sorted(set(chosen["identiteit"].dropna().astype(str)))
