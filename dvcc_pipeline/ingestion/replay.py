"""Replaying an archived delivery into the warehouse: the same checks, the original id.

Both the crash recovery of the door (`reconcile.roll_back` loads the deliveries a lost
correction had replaced) and `dvcc herstel` (`store.restore`) replay rows this way, so it
lives here, below both.
"""

from __future__ import annotations

import duckdb

from dvcc_pipeline.config import Settings
from dvcc_pipeline.contracts import load_contract
from dvcc_pipeline.ingestion.door import sha256_file
from dvcc_pipeline.ingestion.ingest import load_delivery
from dvcc_pipeline.ingestion.reader import drop_temp_objects
from dvcc_pipeline.ingestion.receipt import Receipt
from dvcc_pipeline.ingestion.validator import check_file


class RestoreError(Exception):
    """The archive and the receipts do not allow a faithful rebuild; the message says why, in Dutch."""


def replay_rows(settings: Settings, conn: duckdb.DuckDBPyConnection, receipt: Receipt, replaces: bool) -> int:
    """Check the archived file again and load its rows with the original id (one transaction)."""
    path = receipt.archive_path
    if path is None or not path.is_file():
        raise RestoreError(f"archiefbestand van levering {receipt.delivery_id} ontbreekt: {path}")
    if sha256_file(path) != receipt.sha256:
        raise RestoreError(f"{path} wijkt af van de sha256 op het ontvangstbewijs; dit bestand is niet te vertrouwen")
    contract = load_contract(receipt.feed_id or "")
    identity = contract.identify(receipt.file_name)
    if identity is None:
        raise RestoreError(f"{receipt.file_name} past niet (meer) bij het contract {contract.feed_id}")
    outcome = check_file(conn, path, contract, identity, settings.max_file_bytes)
    if outcome.status != receipt.status or outcome.rows_accepted != receipt.rows_accepted:
        raise RestoreError(
            f"{receipt.file_name} geeft nu {outcome.status} met {outcome.rows_accepted} rijen, het ontvangstbewijs "
            f"zegt {receipt.status} met {receipt.rows_accepted}; is het contract sindsdien gewijzigd?"
        )
    load_delivery(conn, contract, receipt, outcome.outputs, settings.pseudonym_key, replaces=replaces)
    drop_temp_objects(conn)
    return receipt.rows_accepted
