"""The raw schema: one table per feed, the delivery ledger and the retention log.

Column names are Dutch because people read the ledger (Dagster UI, dbt docs, audits).
"""

from __future__ import annotations

import json
from typing import Any

import duckdb

from dvcc_pipeline.config import FEEDS
from dvcc_pipeline.contracts import FeedContract, all_contracts, quote_identifier
from dvcc_pipeline.ingestion.receipt import ACCEPTED, ACCEPTED_WITH_REJECTS, Receipt

LEDGER = "raw.deliveries"
RETENTION_LOG = "raw.retentie_log"
LOADED_STATUSES = (ACCEPTED, ACCEPTED_WITH_REJECTS)

_LEDGER_DDL = f"""
CREATE TABLE IF NOT EXISTS {LEDGER} (
    levering_id VARCHAR NOT NULL,
    feed VARCHAR NOT NULL,
    bestandsnaam VARCHAR NOT NULL,
    periode VARCHAR,
    leverancier VARCHAR,
    versie INTEGER,
    sha256 VARCHAR,
    contractversie VARCHAR,
    status VARCHAR NOT NULL,
    rijen_totaal BIGINT,
    rijen_geaccepteerd BIGINT,
    rijen_afgekeurd BIGINT,
    ontvangen_op TIMESTAMP,
    verwerkt_op TIMESTAMP,
    archiefpad VARCHAR,
    ontvangstbewijs VARCHAR,
    problemen JSON,
    vervangen_door VARCHAR,
    verwijderd_op TIMESTAMP,
    partner VARCHAR,
    aangekomen_op TIMESTAMP
)
"""

_PARTNER_MARK = "deliveries.partner"
_ARRIVAL_MARK = "deliveries.aangekomen_op"

_RETENTION_DDL = f"""
CREATE TABLE IF NOT EXISTS {RETENTION_LOG} (
    feed VARCHAR NOT NULL,
    periode VARCHAR NOT NULL,
    bewaren_tot DATE NOT NULL,
    rijen_verwijderd BIGINT NOT NULL,
    bestanden_verwijderd INTEGER NOT NULL,
    leveringen VARCHAR[],
    verwijderd_op TIMESTAMP NOT NULL
)
"""


def metadata_columns(contract: FeedContract) -> list[tuple[str, str]]:
    columns = [
        ("_levering_id", "VARCHAR NOT NULL"),
        ("_periode", "VARCHAR NOT NULL"),
        ("_leverancier", "VARCHAR NOT NULL"),
        ("_rij", "INTEGER NOT NULL"),
    ]
    columns += [(c.reference.output, "VARCHAR") for c in contract.columns if c.reference and c.reference.output]
    return columns


def raw_table(contract: FeedContract) -> str:
    return f"raw.{quote_identifier(contract.feed_id)}"


def ensure_feed_table(conn: duckdb.DuckDBPyConnection, contract: FeedContract) -> None:
    columns = [f"{quote_identifier(c.name)} {c.raw_type}" for c in contract.columns]
    columns += [f"{quote_identifier(name)} {kind}" for name, kind in metadata_columns(contract)]
    conn.execute(f"CREATE TABLE IF NOT EXISTS {raw_table(contract)} ({', '.join(columns)})")


def ensure_raw_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create schema `raw`, the ledger, the retention log and every feed table (idempotent).

    One catalogue query first: on a warehouse that already has them (every file but the
    first), eight CREATE statements per file would cost several milliseconds.
    """
    wanted = {LEDGER.split(".")[1], RETENTION_LOG.split(".")[1], *FEEDS, _PARTNER_MARK, _ARRIVAL_MARK}
    present = conn.execute(
        """SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'raw'
        UNION ALL SELECT 'deliveries.' || column_name FROM duckdb_columns() WHERE database_name = current_database()
            AND schema_name = 'raw' AND table_name = 'deliveries' AND column_name IN ('partner', 'aangekomen_op')"""
    ).fetchall()
    if wanted <= {name for (name,) in present}:
        return
    conn.execute("CREATE SCHEMA IF NOT EXISTS raw")
    conn.execute(_LEDGER_DDL)
    # Warehouses from before the partner boxes: the column is added, earlier rows keep NULL (landing).
    conn.execute(f"ALTER TABLE {LEDGER} ADD COLUMN IF NOT EXISTS partner VARCHAR")
    # ... and from before the arrival time was kept: earlier rows keep NULL (only the intake time is known).
    conn.execute(f"ALTER TABLE {LEDGER} ADD COLUMN IF NOT EXISTS aangekomen_op TIMESTAMP")
    conn.execute(_RETENTION_DDL)
    for contract in all_contracts():
        ensure_feed_table(conn, contract)


def record(conn: duckdb.DuckDBPyConnection, receipt: Receipt) -> None:
    """Insert the ledger row of a receipt."""
    conn.execute(
        f"""INSERT INTO {LEDGER} (levering_id, feed, bestandsnaam, periode, leverancier, versie,
            sha256, contractversie, status, rijen_totaal, rijen_geaccepteerd, rijen_afgekeurd,
            ontvangen_op, verwerkt_op, archiefpad, ontvangstbewijs, problemen, partner, aangekomen_op)
        VALUES ($id, $feed, $name, $period, $supplier, $version, $sha, $contract, $status,
            $total, $accepted, $rejected, $received, $processed, $archive, $receipt, $problems, $partner,
            $arrived)""",
        {
            "id": receipt.delivery_id,
            "feed": receipt.feed_id,
            "name": receipt.file_name,
            "period": receipt.period,
            "supplier": receipt.supplier,
            "version": receipt.version,
            "sha": receipt.sha256,
            "contract": receipt.contract_version,
            "status": receipt.status,
            "total": receipt.rows_total,
            "accepted": receipt.rows_accepted,
            "rejected": receipt.rows_rejected,
            "received": receipt.received_at,
            "processed": receipt.processed_at,
            "archive": str(receipt.archive_path) if receipt.archive_path else None,
            "receipt": str(receipt.receipt_path) if receipt.receipt_path else None,
            "problems": json.dumps([p.to_dict() for p in receipt.problems], ensure_ascii=False),
            "partner": receipt.partner,
            "arrived": receipt.arrived_at,
        },
    )


def prior_deliveries(
    conn: duckdb.DuckDBPyConnection, feed_id: str, file_name: str, sha256: str, period: str, supplier: str
) -> tuple[str | None, dict[str, Any] | None]:
    """What the ledger already holds for a new file, read in one small query.

    Returns the id of the earliest loaded delivery with the same name and bytes (then the
    file is a duplicate) and the delivery whose rows are in raw.<feed> for this period and
    supplier (highest version, latest processed).
    """
    rows = conn.execute(
        f"""SELECT levering_id, versie, bestandsnaam, status, verwerkt_op,
            bestandsnaam = $name AND sha256 = $sha AS zelfde_bestand,
            periode = $period AND leverancier = $supplier AND status <> 'vervangen' AS zelfde_periode
        FROM {LEDGER}
        WHERE feed = $feed AND status IN ('geaccepteerd', 'geaccepteerd_met_afkeur', 'vervangen')
          AND ((bestandsnaam = $name AND sha256 = $sha) OR (periode = $period AND leverancier = $supplier))""",
        {"feed": feed_id, "name": file_name, "sha": sha256, "period": period, "supplier": supplier},
    ).fetchall()
    same_file = [r for r in rows if r[5]]
    same_period = [r for r in rows if r[6]]
    earlier = min(same_file, key=lambda r: (r[4] is None, r[4]))[0] if same_file else None
    current = None
    if same_period:
        best = max(same_period, key=lambda r: (r[1] is not None, r[1], r[4] is not None, r[4]))
        current = {"levering_id": best[0], "versie": best[1], "bestandsnaam": best[2]}
    return earlier, current
