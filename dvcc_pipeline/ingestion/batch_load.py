"""One transaction for a feed's batch-checked files: one DELETE, one INSERT, the ledger rows.

Loading file by file cost a transaction (and a commit to disk) per file: 384 for the bank
feed whatever the scale. The files the shared check accepted and whose ledger needs no
decision of its own — no earlier delivery with the same name and bytes or for the same
period and supplier, no second file for that period in this batch — are loaded here in one
transaction: every file's rows and its ledger row commit together or not at all, so a file
is still taken in whole or not at all. Archive, receipt and landing then follow per file
(:func:`ingest.complete`, as before), and after a crash the reconciliation finishes or
undoes each file by its journal, exactly as for a file loaded alone.

Every other file (rejected, a correction, a duplicate, two versions in one batch) goes the
per-file way, unchanged.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from pathlib import Path

import duckdb

from dvcc_pipeline.config import Settings
from dvcc_pipeline.contracts import FeedContract, FileIdentity
from dvcc_pipeline.ingestion.batch import ROWS, Batch, prepare
from dvcc_pipeline.ingestion.boxes import box_partner
from dvcc_pipeline.ingestion.door import Fingerprint, Intake
from dvcc_pipeline.ingestion.ingest import new_receipt, plan_destination
from dvcc_pipeline.ingestion.ledger import LEDGER, LOADED_STATUSES, record
from dvcc_pipeline.ingestion.load import replace_periods
from dvcc_pipeline.ingestion.receipt import REJECTED, Receipt, display_name
from dvcc_pipeline.ingestion.validator import CheckOutcome
from dvcc_pipeline.runtime.faults import checkpoint

log = logging.getLogger(__name__)

_DELIVERIES = "__dvccbatch_deliveries"
_Candidate = tuple[Path, Intake, int, CheckOutcome, FileIdentity]


def _candidates(contract: FeedContract, batch: Batch) -> list[_Candidate]:
    """Accepted files of the shared check, each the only one for its period and supplier."""
    found: list[_Candidate] = []
    for path, intake in batch.intakes.items():
        checked = batch.outcomes.get(intake.copy) if intake.copy else None
        identity = contract.identify(path.name)
        if checked is None or identity is None or intake.sha256 is None:
            continue
        number, outcome = checked
        if outcome.status == REJECTED or outcome.personal_data:
            continue
        found.append((path, intake, number, outcome, identity))
    periods = Counter((c[4].period, c[4].supplier) for c in found)
    return [c for c in found if periods[(c[4].period, c[4].supplier)] == 1]


def _without_history(conn: duckdb.DuckDBPyConnection, feed_id: str, found: list[_Candidate]) -> list[_Candidate]:
    """Leave out files the ledger has a say in (duplicate, correction): one query for all."""
    if not found:
        return []
    busy = conn.execute(
        f"""SELECT DISTINCT c.i FROM (
            SELECT unnest($names) AS naam, unnest($shas) AS sha, unnest($periods) AS periode,
                   unnest($suppliers) AS leverancier, unnest($numbers) AS i) AS c
        JOIN {LEDGER} AS l ON l.feed = $feed AND l.status IN ('geaccepteerd', 'geaccepteerd_met_afkeur', 'vervangen')
            AND ((l.bestandsnaam = c.naam AND l.sha256 = c.sha)
                 OR (l.periode = c.periode AND l.leverancier = c.leverancier))""",
        {
            "feed": feed_id,
            "names": [display_name(c[1].source.name) for c in found],
            "shas": [c[1].sha256 for c in found],
            "periods": [c[4].period for c in found],
            "suppliers": [c[4].supplier for c in found],
            "numbers": list(range(len(found))),
        },
    ).fetchall()
    skip = {int(r[0]) for r in busy}
    return [c for n, c in enumerate(found) if n not in skip]


def _receipt(settings: Settings, contract: FeedContract, candidate: _Candidate) -> Receipt:
    """The receipt `ingest._ingest_copy` makes for an accepted file, with its places fixed."""
    path, intake, _, outcome, identity = candidate
    partner = box_partner(settings, path)
    receipt = new_receipt(intake, contract, identity, partner.id if partner else None)
    receipt.status = outcome.status
    receipt.rows_total = outcome.rows_total
    receipt.rows_accepted = outcome.rows_accepted
    receipt.rows_rejected = outcome.rows_rejected
    receipt.problems = outcome.problems
    plan_destination(settings, receipt, settings.archive_dir / contract.feed_id / identity.period)
    return receipt


def load_together(settings: Settings, conn: duckdb.DuckDBPyConnection, contract: FeedContract, batch: Batch) -> None:
    """Load the files that need no per-file decision in one transaction; their receipts wait
    in `batch.loaded` for :func:`ingest.ingest_delivery` to archive and send, file by file."""
    found = _without_history(conn, contract.feed_id, _candidates(contract, batch))
    if len(found) < 2:
        return
    receipts = [_receipt(settings, contract, c) for c in found]
    outputs = found[0][3].outputs
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE {_DELIVERIES} "
        "(nr INTEGER, levering_id VARCHAR, periode VARCHAR, leverancier VARCHAR)"
    )
    conn.executemany(
        f"INSERT INTO {_DELIVERIES} VALUES (?, ?, ?, ?)",
        [[c[2], r.delivery_id, r.period, r.supplier] for c, r in zip(found, receipts, strict=True)],
    )
    conn.execute("BEGIN TRANSACTION")
    try:
        loaded = replace_periods(conn, contract, outputs, ROWS, _DELIVERIES, settings.pseudonym_key)
        expected = sum(r.rows_accepted or 0 for r in receipts)
        if loaded != expected:
            raise RuntimeError(f"{loaded} rijen geladen, {expected} verwacht")
        for receipt in receipts:
            record(conn, receipt)
        checkpoint("laden")
        conn.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            conn.execute("ROLLBACK")
        raise
    finally:
        with contextlib.suppress(duckdb.Error):
            conn.execute(f"DROP TABLE IF EXISTS temp.main.{_DELIVERIES}")
    for (path, *_), receipt in zip(found, receipts, strict=True):
        batch.loaded[path] = (batch.intakes.pop(path), receipt)
    assert all(status in LOADED_STATUSES for status in (r.status for r in receipts))


def take_in_together(
    settings: Settings,
    conn: duckdb.DuckDBPyConnection,
    contract: FeedContract,
    pending: list[tuple[Path, Fingerprint]],
) -> Batch:
    """The feed's pass: private copies and one shared check (`batch.prepare`), then one load
    for every file that needs no decision of its own. If that load fails (rolled back), each
    file goes the per-file way and meets the fault there, named by file."""
    batch = prepare(settings, conn, contract, pending)
    if batch.outcomes:
        try:
            load_together(settings, conn, contract, batch)
        except (duckdb.Error, OSError) as exc:
            log.info("gezamenlijk laden lukte niet (%s); per bestand verder", exc)
    return batch
