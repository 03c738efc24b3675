"""`ingest_delivery`: all nine steps of governance.md for one landed file.

Bad partner input never raises: it ends in a receipt with status `afgekeurd`, the file
in quarantine (or the restricted quarantine when it holds personal data) and a ledger
row. A correction replaces its period in one transaction; same name and bytes as a loaded
delivery is a `duplicaat` and changes nothing in the raw tables.
"""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import duckdb

from dvcc_pipeline.config import FEEDS, Settings
from dvcc_pipeline.contracts import FeedContract, contract_for_filename
from dvcc_pipeline.ingestion.landing import (
    move_entry,
    new_delivery_id,
    now_iso,
    safe_name,
    stray_problem,
    write_receipt,
)
from dvcc_pipeline.ingestion.ledger import ensure_raw_schema, prior_deliveries, record
from dvcc_pipeline.ingestion.load import mark_replaced, replace_period
from dvcc_pipeline.ingestion.reader import drop_temp_objects
from dvcc_pipeline.ingestion.receipt import DUPLICATE, REJECTED, Problem, Receipt
from dvcc_pipeline.ingestion.validator import CheckOutcome, check_file, sha256_of

log = logging.getLogger(__name__)


def _finish(
    settings: Settings,
    conn: duckdb.DuckDBPyConnection,
    receipt: Receipt,
    path: Path,
    folder: Path,
    read_only: bool = False,
) -> Receipt:
    """Move the file, write the receipt, record the ledger row."""
    receipt.archive_path = move_entry(path, folder, receipt.delivery_id or new_delivery_id(), read_only)
    receipt.processed_at = now_iso()
    write_receipt(settings, receipt)
    record(conn, receipt)
    return receipt


def _reject_entry(
    settings: Settings,
    conn: duckdb.DuckDBPyConnection,
    path: Path,
    contract: FeedContract | None,
) -> Receipt:
    """A landing entry that is no delivery (name, folder, symlink): quarantine it."""
    feed_id = contract.feed_id if contract else (path.parent.name if path.parent.name in FEEDS else None)
    info = path.lstat()
    sha = sha256_of(path) if stat.S_ISREG(info.st_mode) else None
    receipt = Receipt(
        delivery_id=new_delivery_id(sha),
        feed_id=feed_id,
        file_name=path.name,
        sha256=sha,
        contract_version=contract.version if contract else None,
        problems=[stray_problem(path, contract)],
        received_at=now_iso(),
    )
    return _finish(settings, conn, receipt, path, settings.quarantine_dir / (feed_id or "onbekend"))


def ingest_delivery(
    settings: Settings,
    conn: duckdb.DuckDBPyConnection,
    path: Path,
    contract: FeedContract | None = None,
) -> Receipt:
    """Identify, check, screen, load, archive, receipt and ledger one delivered file."""
    settings.ensure_dirs()
    ensure_raw_schema(conn)
    path = Path(path)
    info = path.lstat()
    identity = None
    if contract is None:
        found = contract_for_filename(path.name)
        if found:
            contract, identity = found
    else:
        identity = contract.identify(path.name)
    if contract is None or identity is None or not stat.S_ISREG(info.st_mode) or ".." in path.name:
        return _reject_entry(settings, conn, path, contract)

    feed_id = contract.feed_id
    sha = sha256_of(path)
    receipt = Receipt(
        delivery_id=new_delivery_id(sha),
        feed_id=feed_id,
        file_name=path.name,
        period=identity.period,
        supplier=identity.supplier,
        version=identity.version,
        sha256=sha,
        contract_version=contract.version,
        received_at=now_iso(),
    )
    quarantine = settings.quarantine_dir / feed_id
    archive = settings.archive_dir / feed_id / identity.period

    earlier, current = prior_deliveries(conn, feed_id, path.name, sha, identity.period, identity.supplier)
    if earlier:
        receipt.status = DUPLICATE
        receipt.problems = [
            Problem("duplicaat", None, f"zelfde naam en inhoud als levering {earlier}; niet opnieuw geladen")
        ]
        return _finish(settings, conn, receipt, path, archive, read_only=True)

    if current and identity.version <= current["versie"]:
        receipt.problems = [
            Problem(
                "versie_niet_hoger",
                None,
                f"versie {identity.version} is niet hoger dan de al geladen versie "
                f"{current['versie']} ({current['bestandsnaam']}); lever een correctie als "
                f"_v{current['versie'] + 1}",
            )
        ]
        return _finish(settings, conn, receipt, path, quarantine)

    try:
        outcome = check_file(conn, path, contract, identity, settings.max_file_bytes)
    except Exception:  # a bug must not lose the file: it is kept in quarantine with a receipt
        log.exception("validatie van %s mislukt", path.name)
        outcome = CheckOutcome(
            REJECTED,
            problems=[Problem("interne_fout", None, "interne fout bij het controleren; het datateam is gewaarschuwd")],
        )
    receipt.status = outcome.status
    receipt.rows_total = outcome.rows_total
    receipt.rows_accepted = outcome.rows_accepted
    receipt.rows_rejected = outcome.rows_rejected
    receipt.problems = outcome.problems
    receipt.restricted = outcome.personal_data
    if outcome.status == REJECTED:
        folder = settings.restricted_quarantine_dir / feed_id if outcome.personal_data else quarantine
        drop_temp_objects(conn)
        receipt = _finish(settings, conn, receipt, path, folder)
        if outcome.personal_data and receipt.archive_path:
            receipt.archive_path.chmod(0o600)
            receipt.archive_path.parent.chmod(0o700)
        return receipt

    if current:
        receipt.problems.append(
            Problem(
                "vervangt_levering",
                None,
                f"deze correctie vervangt versie {current['versie']} ({current['bestandsnaam']}) "
                f"van periode {identity.period} volledig",
            )
        )
    conn.execute("BEGIN TRANSACTION")
    try:
        loaded = replace_period(
            conn,
            contract,
            outcome.outputs,
            receipt.delivery_id,
            identity.period,
            identity.supplier,
            settings.pseudonym_key,
        )
        if loaded != outcome.rows_accepted:
            raise RuntimeError(f"{loaded} rijen geladen, {outcome.rows_accepted} verwacht")
        if current:  # the ledger query above already found no loaded delivery otherwise
            mark_replaced(conn, feed_id, identity.period, identity.supplier, receipt.delivery_id)
        receipt.archive_path = archive / f"{receipt.delivery_id}__{safe_name(path.name)}"
        receipt.processed_at = now_iso()
        write_receipt(settings, receipt)
        record(conn, receipt)
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise
    finally:
        drop_temp_objects(conn)
    moved = move_entry(path, archive, receipt.delivery_id, read_only=True)
    if moved != receipt.archive_path:
        conn.execute(
            "UPDATE raw.deliveries SET archiefpad = $path WHERE levering_id = $id",
            {"path": str(moved), "id": receipt.delivery_id},
        )
        receipt.archive_path = moved
    return receipt
