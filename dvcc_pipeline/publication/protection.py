"""Secondary suppression that passes the interval audit, across all published tables.

After each table has had its primary and group-wise secondary suppression (disclosure.py), the
audit (audit.py) looks at everything together. For every cell it still recovers exactly, or
every primary cell it narrows below k, the identity that pins it hardest (fewest hidden cells)
gets one more hidden cell: the cheapest visible one — lowest region level first, then the
smallest count, then the cell id, so the same figures always hide the same cells. Zeros are
never hidden (the audit, like an attacker, assumes a hidden count is ≥ 1), nor eenheid cells.
Repeat until the audit is clean. Finally ranks are recomputed on the published values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import duckdb
import pandas as pd

from dvcc_pipeline.publication.audit import AuditResult, audited_tables, interval_audit
from dvcc_pipeline.publication.contract import SUPPRESSED_FLAG, PublishedContract, PublishedTable, identifier

MAX_ROUNDS = 50
# Which cells secondary suppression takes first: the lowest level. An eenheid cell only as the
# last resort, where nothing else can protect a cell (an eenheid cell below k next to a
# published eenheid total): published_tables.md shows eenheid figures of k or more, but the
# guarantee that no hidden cell is recoverable comes first.
LEVEL_COST = {"gemeente": 0, "basisteam": 1, "district": 2, "eenheid": 3}


@dataclass
class ProtectionResult:
    """The audit before and after the audit-driven suppression, and what it added."""

    before: AuditResult
    after: AuditResult
    rounds: int
    added: int


def _choose(audit: AuditResult, max_hops: int = 6) -> pd.DataFrame:
    """One complementary cell per failing cell, in the identity that pins it hardest.

    The identities of the failing cell come first; when none of them has a visible cell left
    to hide (the cell is pinned through other hidden cells), the search widens to the
    identities of those hidden cells, and so on.
    """
    equations = audit.equations
    cells = audit.cells.set_index("cel_id")
    hidden_per_eq = equations.groupby("vgl_nr")["verborgen"].sum()
    candidates = equations[~equations["verborgen"]].join(cells[["waarde", "onderdrukbaar", "niveau"]], on="cel_id")
    candidates = candidates[candidates["onderdrukbaar"] & (candidates["waarde"] > 0)].copy()
    candidates["rang"] = candidates["niveau"].map(LEVEL_COST)
    candidates = candidates.sort_values(["rang", "waarde", "cel_id"])
    best = candidates.groupby("vgl_nr").head(1).set_index("vgl_nr")
    eqs_of = equations.groupby("cel_id")["vgl_nr"].agg(list)
    hidden_cells_of = equations[equations["verborgen"]].groupby("vgl_nr")["cel_id"].agg(list)
    chosen: set[int] = set()
    used: set[int] = set()
    for cel_id in audit.failures.sort_values("cel_id")["cel_id"]:
        frontier = set(eqs_of.get(cel_id, []))
        seen_eqs: set[int] = set()
        for _ in range(max_hops):
            options = sorted(
                (int(best.loc[e, "rang"]), int(hidden_per_eq[e]), int(e)) for e in frontier if e in best.index
            )
            if options:
                eq = options[0][2]
                if eq not in used:
                    chosen.add(int(best.loc[eq, "cel_id"]))
                    used.add(eq)
                break
            seen_eqs |= frontier
            frontier = {e for eq in frontier for c in hidden_cells_of.get(eq, []) for e in eqs_of[c]} - seen_eqs
            if not frontier:
                break
    return cells.loc[sorted(chosen)].reset_index()


def _hide(conn: duckdb.DuckDBPyConnection, table: PublishedTable, relation: str, measure: str, rids: list[int]) -> None:
    """Hide one count in the given rows, with its amounts and the values derived from it."""
    assert table.disclosure is not None
    columns = [measure, *(a for a, c in table.disclosure.amounts.items() if c == measure)]
    columns += [d for d, revealed in table.disclosure.derived.items() if measure in revealed]
    assignments = ", ".join(f"{identifier(c)} = NULL" for c in columns)
    match = " AND ".join(f"t.{identifier(c)} IS NOT DISTINCT FROM k.{identifier(c)}" for c in table.primary_key)
    keys = ", ".join(identifier(c) for c in table.primary_key)
    conn.execute(
        f"""UPDATE {relation} AS t SET {assignments}, {identifier(SUPPRESSED_FLAG)} = true
            FROM (SELECT {keys} FROM _au_src_{table.name} WHERE list_contains(?, _rid)) AS k
            WHERE {match}""",
        [rids],
    )


def recompute_ranks(conn: duckdb.DuckDBPyConnection, contract: PublishedContract, relations: Mapping[str, str]) -> None:
    """Ranks on published values only: a hidden count has no rank and moves no other rank."""
    for table in audited_tables(contract):
        rank = table.disclosure.rank if table.disclosure else None
        if rank is None:
            continue
        relation = relations[table.name]
        keys = ", ".join(identifier(c) for c in table.primary_key)
        match = " AND ".join(f"t.{identifier(c)} IS NOT DISTINCT FROM r.{identifier(c)}" for c in table.primary_key)
        within = ", ".join(identifier(c) for c in rank.within)
        column, measure = identifier(rank.column), identifier(rank.measure)
        conn.execute(f"UPDATE {relation} SET {column} = NULL WHERE {measure} IS NULL")
        conn.execute(
            f"""UPDATE {relation} AS t SET {column} = r.nr
                FROM (SELECT {keys}, rank() OVER (PARTITION BY {within} ORDER BY {measure} DESC) AS nr
                      FROM {relation} WHERE {column} IS NOT NULL) AS r
                WHERE {match}"""
        )


def protect_publication(
    conn: duckdb.DuckDBPyConnection,
    contract: PublishedContract,
    *,
    relations: Mapping[str, str],
    truth: Mapping[str, str],
    regions: str,
) -> ProtectionResult:
    """Suppress further cells in the published `relations` until the interval audit passes."""
    by_name = {t.name: t for t in audited_tables(contract)}
    cache: dict = {}
    before = audit = interval_audit(conn, contract, relations=relations, truth=truth, regions=regions, cache=cache)
    added = 0
    rounds = 0
    while not audit.failures.empty:
        if audit.wrong_identities or rounds >= MAX_ROUNDS:
            break
        chosen = _choose(audit)
        if chosen.empty:
            break  # nothing left to hide: the gate reports the failing cells
        for (name, measure), rows in chosen.groupby(["tabel", "maat"]):
            _hide(conn, by_name[str(name)], relations[str(name)], str(measure), [int(r) for r in rows["_rid"]])
        added += len(chosen)
        rounds += 1
        audit = interval_audit(conn, contract, relations=relations, truth=truth, regions=regions, cache=cache)
    recompute_ranks(conn, contract, relations)
    return ProtectionResult(before=before, after=audit, rounds=rounds, added=added)
