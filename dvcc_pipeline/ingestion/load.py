"""Step 6: accepted rows into `raw.<feed>`, partner ids replaced by keyed pseudonyms.

The pseudonym is HMAC-SHA256 computed inside DuckDB from two derived key blocks passed
as parameters, so ids never leave the database engine and the key never enters SQL text.
"""

from __future__ import annotations

import hashlib

import duckdb

from dvcc_pipeline.contracts import FeedContract, quote_identifier
from dvcc_pipeline.ingestion.ledger import LEDGER, metadata_columns, raw_table
from dvcc_pipeline.ingestion.rows import CHECKED

_BLOCK = 64


def hmac_key_blocks(key: bytes) -> dict[str, bytes]:
    """The inner and outer padded keys of HMAC (RFC 2104) for SHA-256."""
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    return {
        "hmac_inner": bytes(b ^ 0x36 for b in key),
        "hmac_outer": bytes(b ^ 0x5C for b in key),
    }


def pseudonym_sql(expression: str) -> str:
    """SQL for the lowercase hex HMAC-SHA256 of a value's text form."""
    return (
        f"CASE WHEN {expression} IS NOT NULL THEN sha256($hmac_outer || unhex(sha256("
        f"$hmac_inner || encode(CAST({expression} AS VARCHAR))))) END"
    )


def _insert(
    conn: duckdb.DuckDBPyConnection,
    contract: FeedContract,
    outputs: dict[str, str],
    meta: dict[str, str],
    source: str,
    parameters: dict[str, object],
    key: bytes,
) -> int:
    """INSERT the accepted rows of `source` (checked rows: `t<i>`, outputs, `__rij`, `__ok`)."""
    targets, values = [], []
    for i, column in enumerate(contract.columns):
        targets.append(quote_identifier(column.name))
        values.append(pseudonym_sql(f"t{i}") if column.pseudonym else f"t{i}")
    for name, _ in metadata_columns(contract):
        targets.append(quote_identifier(name))
        values.append(meta.get(name) or outputs[name])
    if any(c.pseudonym for c in contract.columns):
        parameters = parameters | hmac_key_blocks(key)
    inserted = conn.execute(
        f"INSERT INTO {raw_table(contract)} ({', '.join(targets)}) SELECT {', '.join(values)} FROM {source}",
        parameters,
    ).fetchone()
    return int(inserted[0])


def replace_period(
    conn: duckdb.DuckDBPyConnection,
    contract: FeedContract,
    outputs: dict[str, str],
    delivery_id: str,
    period: str,
    supplier: str,
    key: bytes,
) -> int:
    """Delete the period's rows and insert the accepted rows (inside the caller's transaction)."""
    conn.execute(
        f"DELETE FROM {raw_table(contract)} WHERE _periode = $period AND _leverancier = $supplier",
        {"period": period, "supplier": supplier},
    )
    meta = {"_levering_id": "$id", "_periode": "$period", "_leverancier": "$supplier", "_rij": "__rij"}
    parameters: dict[str, object] = {"id": delivery_id, "period": period, "supplier": supplier}
    return _insert(conn, contract, outputs, meta, f"{CHECKED} WHERE __ok ORDER BY __rij", parameters, key)


def replace_periods(
    conn: duckdb.DuckDBPyConnection,
    contract: FeedContract,
    outputs: dict[str, str],
    rows: str,
    deliveries: str,
    key: bytes,
) -> int:
    """The set-based form for many files at once (inside the caller's transaction): `rows`
    holds the checked rows of every file (`__nr`), `deliveries` one row per file to load
    (`nr`, `levering_id`, `periode`, `leverancier`); one DELETE and one INSERT in all."""
    table = raw_table(contract)
    conn.execute(
        f"DELETE FROM {table} AS r WHERE EXISTS (SELECT 1 FROM {deliveries} AS d "
        "WHERE d.periode = r._periode AND d.leverancier = r._leverancier)"
    )
    meta = {"_levering_id": "d.levering_id", "_periode": "d.periode", "_leverancier": "d.leverancier", "_rij": "__rij"}
    source = f"{rows} AS r JOIN {deliveries} AS d ON r.__nr = d.nr WHERE r.__ok ORDER BY r.__nr, r.__rij"
    return _insert(conn, contract, outputs, meta, source, {}, key)


def mark_replaced(conn: duckdb.DuckDBPyConnection, feed_id: str, period: str, supplier: str, by: str) -> list[str]:
    """Mark the loaded deliveries of a period as `vervangen` by the new delivery."""
    rows = conn.execute(
        f"""UPDATE {LEDGER} SET status = 'vervangen', vervangen_door = $by
        WHERE feed = $feed AND periode = $period AND leverancier = $supplier
          AND status IN ('geaccepteerd', 'geaccepteerd_met_afkeur')
        RETURNING levering_id""",
        {"by": by, "feed": feed_id, "period": period, "supplier": supplier},
    ).fetchall()
    return [r[0] for r in rows]
