"""Disclosure control of the whole publication: round, protect amounts, audit, redraw.

1. every table with disclosure rules is prepared and written (disclosure.py, rounding.py);
2. amounts are protected across all tables together (amounts.py);
3. the interval audit (audit.py) looks at everything published together; where it pins a
   small count, the rounded cells of the identities that pin it get their next draw (same key)
   and the tables are written again, at most `maxRedraws` rounds;
4. the result says whether the publication may go out (`passed`) with the audit's figures.

The gate runs this in memory and keeps what it decided (the redraws and the amounts hidden
for protection) in a small file beside the warehouse, under a fingerprint of the true figures,
the contract and the key; publish applies a decision with the same fingerprint instead of
computing it again, and computes (and audits) it itself otherwise.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dvcc_pipeline.publication.amounts import AmountResult, mark_hidden, protect_amounts
from dvcc_pipeline.publication.audit import AuditResult, audited_tables, interval_audit
from dvcc_pipeline.publication.contract import PublishedContract
from dvcc_pipeline.publication.disclosure import (
    DisclosureStats,
    create_region_tables,
    prepare_table,
    state,
    table_stats,
    write_table,
)
from dvcc_pipeline.publication.rounding import DRAWS_TABLE, create_draws_table

STORE_NAME = "onthullingscontrole.json"


@dataclass
class ControlResult:
    """What disclosure control decided for one publication, with the audit's verdict."""

    tables: list[DisclosureStats]
    audit: AuditResult
    amounts: AmountResult
    first_audit: AuditResult | None = None  # before any redraw
    redraw_rounds: int = 0
    redrawn: int = 0
    reused: bool = False
    seconds: float = 0.0
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.audit.passed and self.amounts.passed

    def summary(self) -> str:
        return "; ".join(part for part in (self.audit.summary(), self.amounts.summary()) if part)

    def figures(self) -> dict[str, int | float | None]:
        """The figures of the `publicatie` row and the asset metadata."""
        first = self.first_audit or self.audit
        return {
            "cellen_afgerond": sum(t.counts for t in self.tables),
            "cellen_veranderd": sum(t.rounded_changed for t in self.tables),
            "aantallen_vastgepind": self.audit.pinned,
            "aantallen_vastgepind_voor_hertrekking": first.pinned,
            "aantallen_klein_aangetoond": self.audit.shown_small,
            "bedragen_verborgen": self.amounts.hidden,
            "bedragen_verborgen_primair": self.amounts.primary,
            "bedragen_te_smal": self.amounts.narrow,
            "hertrekrondes": self.redraw_rounds,
            "identiteiten": self.audit.identities,
            "lp_oplossingen": self.audit.lps + self.amounts.lps,
            "duur_s": round(self.seconds, 3),
        }


def store_path(warehouse_path: Path) -> Path:
    return warehouse_path.with_name(STORE_NAME)


def _fingerprint(conn: duckdb.DuckDBPyConnection, contract: PublishedContract, secret: bytes) -> str:
    """What decides the outcome: the contract, the key and every prepared table's content."""
    digest = hmac.new(secret, f"{contract.id} {contract.version} {contract.policy}".encode(), hashlib.sha256)
    for table in audited_tables(contract):
        (value,) = conn.execute(f"SELECT sum(hash(s)) FROM {state(table)} AS s").fetchone()
        digest.update(f"{table.name}:{value}".encode())
    return digest.hexdigest()


def _load(store: Path | None, fingerprint: str) -> dict | None:
    if store is None or not store.exists():
        return None
    try:
        payload = json.loads(store.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return payload if payload.get("fingerprint") == fingerprint else None


def _save(store: Path, payload: dict) -> None:
    tmp = store.with_name(store.name + ".tmp")
    tmp.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    tmp.replace(store)


def _write_all(
    conn: duckdb.DuckDBPyConnection, contract: PublishedContract, targets: Mapping[str, str], secret: bytes
) -> None:
    for table in audited_tables(contract):
        write_table(conn, table, contract.policy, target=targets[table.name], secret=secret)


def _redraw(conn: duckdb.DuckDBPyConnection, identities: list[str]) -> int:
    """Give each identity its next draw."""
    if not identities:
        return 0
    conn.execute(
        f"""INSERT INTO {DRAWS_TABLE} BY NAME
            SELECT unnest(?::VARCHAR[]) AS identiteit, 1 AS trekking
            ON CONFLICT (identiteit) DO UPDATE SET trekking = trekking + 1""",
        [sorted(set(identities))],
    )
    return len(set(identities))


def protect_publication(
    conn: duckdb.DuckDBPyConnection,
    contract: PublishedContract,
    *,
    sources: Mapping[str, str],
    targets: Mapping[str, str],
    regions: str,
    registrations: str | None,
    secret: bytes,
    store: Path | None = None,
) -> ControlResult:
    """Write every table with disclosure rules from its mart (`sources`) to `targets` (relation
    names from the caller's code), protected and audited. `targets` also names the published
    tables without disclosure rules the audit's links look up (dim_delictsvorm)."""
    started = time.perf_counter()
    policy = contract.policy
    create_region_tables(conn, regions, policy)
    conn.execute(f"DROP TABLE IF EXISTS {DRAWS_TABLE}")
    create_draws_table(conn)
    dominated = {}
    for table in audited_tables(contract):
        dominated[table.name] = prepare_table(
            conn, table, policy, source=sources[table.name], registrations=registrations
        )
    fingerprint = _fingerprint(conn, contract, secret)
    tables = audited_tables(contract)
    saved = _load(store, fingerprint)
    if saved is not None:  # the gate decided and audited these very figures: apply its decision
        _redraw_saved(conn, saved["trekkingen"])
        mark_hidden(conn, contract, saved["bedragen"])
        _write_all(conn, contract, targets, secret)
        result = ControlResult(
            tables=[table_stats(conn, t, targets[t.name], dominated[t.name]) for t in tables],
            audit=AuditResult(**saved["audit"]),
            amounts=AmountResult(**saved["bedragen_cijfers"]),
            first_audit=AuditResult(**saved["eerste_audit"]),
            redraw_rounds=int(saved["rondes"]),
            reused=True,
        )
        result.seconds = time.perf_counter() - started
        return result
    _write_all(conn, contract, targets, secret)
    checked = {"relations": targets, "truth": sources, "regions": regions}
    amounts = protect_amounts(conn, contract, **checked)
    if amounts.added:
        _write_all(conn, contract, targets, secret)
    audit = interval_audit(conn, contract, **checked)
    first = audit
    rounds = redrawn = 0
    while audit.pinned and rounds < policy.max_redraws:
        redrawn += _redraw(conn, audit.redraw_identities)
        rounds += 1
        _write_all(conn, contract, targets, secret)
        audit = interval_audit(conn, contract, **checked)
    result = ControlResult(
        tables=[table_stats(conn, t, targets[t.name], dominated[t.name]) for t in tables],
        audit=audit,
        amounts=amounts,
        first_audit=first,
        redraw_rounds=rounds,
        redrawn=redrawn,
    )
    result.seconds = time.perf_counter() - started
    if store is not None and result.passed:
        draws = conn.execute(f"SELECT identiteit, trekking FROM {DRAWS_TABLE} ORDER BY 1").fetchall()
        _save(
            store,
            {
                "fingerprint": fingerprint,
                "trekkingen": [list(row) for row in draws],
                "bedragen": amounts.secondary,
                "rondes": rounds,
                "audit": _stored(audit),
                "eerste_audit": _stored(first),
                "bedragen_cijfers": {name: getattr(amounts, name) for name in _AMOUNT_FIGURES},
            },
        )
    return result


_AUDIT_FIGURES = ("cells", "small", "pinned", "shown_small", "identities", "blocks", "largest_block", "lps", "seconds")
_AMOUNT_FIGURES = ("cells", "primary", "hidden", "narrow", "added", "rounds", "lps", "hidden_total_eur")


def _stored(audit: AuditResult) -> dict:
    return {name: getattr(audit, name) for name in _AUDIT_FIGURES} | {"identity_kinds": audit.identity_kinds}


def _redraw_saved(conn: duckdb.DuckDBPyConnection, draws: list[list]) -> None:
    if draws:
        conn.execute(
            f"INSERT INTO {DRAWS_TABLE} SELECT unnest(?::VARCHAR[]), unnest(?::INTEGER[])",
            [[d[0] for d in draws], [int(d[1]) for d in draws]],
        )
