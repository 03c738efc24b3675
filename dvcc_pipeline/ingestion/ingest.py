"""`ingest_delivery`: all nine steps of governance.md for one landed file.

Bad partner input never raises: it ends in a receipt with status `afgekeurd`, the file
in quarantine (or the restricted quarantine when it holds personal data) and a ledger
row. A correction replaces its period in one transaction; same name and bytes as a loaded
delivery is a `duplicaat` and changes nothing in the raw tables.

Order, so that a crash never leaves two truths: private copy (journalled) -> checks on the
copy -> ledger row (with the rows, in one transaction) -> copy into archive or quarantine ->
receipt -> landing original removed -> journal closed. Everything after the commit is
repeatable, and :mod:`reconcile` repeats it after a crash.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import duckdb

from dvcc_pipeline.config import FEEDS, Settings
from dvcc_pipeline.contracts import FeedContract, FileIdentity, contract_for_filename, load_contract, load_partners
from dvcc_pipeline.ingestion import door
from dvcc_pipeline.ingestion.batch import Batch
from dvcc_pipeline.ingestion.boxes import box_partner, refusal
from dvcc_pipeline.ingestion.door import Fingerprint, Intake
from dvcc_pipeline.ingestion.landing import (
    destination,
    new_delivery_id,
    now_iso,
    receipt_path_for,
    stray_problem,
    write_receipt,
)
from dvcc_pipeline.ingestion.ledger import ensure_raw_schema, prior_deliveries, record
from dvcc_pipeline.ingestion.load import mark_replaced, replace_period
from dvcc_pipeline.ingestion.reader import drop_temp_objects
from dvcc_pipeline.ingestion.receipt import DUPLICATE, REJECTED, Problem, Receipt, display_name, version_name
from dvcc_pipeline.ingestion.validator import CheckOutcome, check_file
from dvcc_pipeline.runtime.faults import checkpoint

log = logging.getLogger(__name__)

UNKNOWN_FEED = "onbekend"


def complete(settings: Settings, intake: Intake, receipt: Receipt, read_only: bool) -> Receipt:
    """Everything after the ledger row: file into place, receipt, landing original, journal.

    Repeatable; the reconciliation calls it again for an intake a crash interrupted.
    """
    checkpoint("verplaatsen")
    assert receipt.archive_path is not None
    door.place(intake, receipt.archive_path, read_only)
    if receipt.restricted:
        receipt.archive_path.chmod(0o600)
        receipt.archive_path.parent.chmod(0o700)
    write_receipt(settings, receipt)
    warning = door.release(intake)
    if warning:
        log.warning(warning)
    door.close(intake)
    return receipt


def _conclude(
    settings: Settings,
    conn: duckdb.DuckDBPyConnection,
    intake: Intake,
    receipt: Receipt,
    folder: Path,
    read_only: bool = False,
) -> Receipt:
    """An outcome that loads no rows: ledger row first, then the file and its receipt."""
    plan_destination(settings, receipt, folder)
    record(conn, receipt)
    return complete(settings, intake, receipt, read_only)


def plan_destination(settings: Settings, receipt: Receipt, folder: Path) -> None:
    """Fix where the file and the receipt will be, before the ledger row names them."""
    assert receipt.delivery_id is not None
    receipt.archive_path = destination(folder, receipt.delivery_id, receipt.file_name)
    receipt.receipt_path = receipt_path_for(settings, receipt.feed_id, receipt.file_name, receipt.delivery_id)
    receipt.processed_at = now_iso()


def reject_entry(
    settings: Settings,
    conn: duckdb.DuckDBPyConnection,
    path: Path,
    contract: FeedContract | None,
    unknown_folder: bool = False,
) -> Receipt:
    """A landing or box entry that is no delivery (name, folder, symlink, unknown folder, a
    name its partner may not use): quarantine it; a box's receipt also goes back to that box."""
    partner = None if unknown_folder else box_partner(settings, path)
    problem = None
    if partner is not None:
        found = contract_for_filename(path.name) if stat.S_ISREG(path.lstat().st_mode) else None
        if found is not None:
            problem = refusal(partner, *found)
            contract = found[0] if problem else contract
        contract = contract or load_contract(partner.feeds[0])
    feed_id = contract.feed_id if contract else (path.parent.name if path.parent.name in FEEDS else None)
    if unknown_folder:
        feed_id = None
    problem = problem or stray_problem(path, contract, unknown_folder)
    intake = door.take(settings, path, new_delivery_id)
    with _abandon_unless_recorded(conn, intake):
        receipt = _stray_receipt(intake, path, feed_id, contract, problem)
        receipt.partner = partner.id if partner else None
        return _conclude(settings, conn, intake, receipt, settings.quarantine_dir / (feed_id or UNKNOWN_FEED))


def _stray_receipt(
    intake: Intake, path: Path, feed_id: str | None, contract: FeedContract | None, problem: Problem
) -> Receipt:
    return Receipt(
        delivery_id=intake.delivery_id,
        feed_id=feed_id or UNKNOWN_FEED,
        file_name=display_name(path.name),
        sha256=intake.sha256,
        contract_version=contract.version if contract else None,
        problems=[problem],
        received_at=now_iso(),
        arrived_at=intake.arrived_at,
    )


def quarantine_stray(settings: Settings, conn: duckdb.DuckDBPyConnection, feed_id: str, path: Path) -> Receipt:
    """Quarantine an entry of a feed's landing folder that is not a delivery, with receipt and ledger row."""
    path = Path(path)
    if box_partner(settings, path) is None and Path(os.path.realpath(path.parent)) != Path(
        os.path.realpath(settings.landing_for(feed_id))
    ):
        raise ValueError(f"{display_name(str(path))} ligt niet in de landingsmap van {feed_id} of in een partnerbox")
    settings.ensure_dirs(load_partners())
    ensure_raw_schema(conn)
    return reject_entry(settings, conn, path, load_contract(feed_id))


def quarantine_unknown(settings: Settings, conn: duckdb.DuckDBPyConnection, path: Path) -> Receipt:
    """Quarantine an entry directly in `landing/` or in a folder that is no feed's (`onbekende_map`)."""
    settings.ensure_dirs(load_partners())
    ensure_raw_schema(conn)
    receipt = reject_entry(settings, conn, Path(path), None, unknown_folder=True)
    parent = Path(path).parent
    if parent not in (settings.landing_dir, settings.partners_dir):
        with contextlib.suppress(OSError):
            parent.rmdir()  # an unknown folder left empty
    return receipt


@contextlib.contextmanager
def _abandon_unless_recorded(conn: duckdb.DuckDBPyConnection, intake: Intake) -> Iterator[None]:
    """On any failure before the ledger row is committed, drop the private copy: the original
    stays in landing for the next look. After the commit the journal stays for the reconciliation."""
    try:
        yield
    except BaseException:
        if conn_has_no_row(conn, intake.delivery_id):
            door.abandon(intake)
        raise
    finally:
        drop_temp_objects_quietly(conn)


def ingest_delivery(
    settings: Settings,
    conn: duckdb.DuckDBPyConnection,
    path: Path,
    contract: FeedContract | None = None,
    settled: Fingerprint | None = None,
    batch: Batch | None = None,
) -> Receipt:
    """Identify, check, screen, load, archive, receipt and ledger one delivered file.

    `settled` is the fingerprint the file had across the settle window; a file that no
    longer matches it raises :class:`door.DeliveryChanged` and stays in landing. `batch`
    holds the private copy and the checks when the feed's files were checked together.
    """
    if batch is None or not batch.ready:  # a batch made them once for all its files
        settings.ensure_dirs(load_partners())
        ensure_raw_schema(conn)
    path = Path(path)
    if batch is not None and path in batch.loaded:  # loaded with the feed's other files
        intake, receipt = batch.loaded.pop(path)
        return complete(settings, intake, receipt, read_only=True)
    info = path.lstat()
    identity = None
    if contract is None:
        found = contract_for_filename(path.name)
        if found:
            contract, identity = found
    else:
        identity = contract.identify(path.name)
    if contract is None or identity is None or not stat.S_ISREG(info.st_mode) or ".." in path.name:
        return reject_entry(settings, conn, path, contract)
    partner = box_partner(settings, path)
    if partner is not None and partner.refusal(contract, identity):
        return reject_entry(settings, conn, path, contract)

    intake = batch.take(path) if batch else None
    if intake is None:
        intake = door.take(settings, path, new_delivery_id, settled)
    with _abandon_unless_recorded(conn, intake):
        return _ingest_copy(settings, conn, intake, contract, identity, partner.id if partner else None, batch)


def new_receipt(intake: Intake, contract: FeedContract, identity: FileIdentity, partner: str | None) -> Receipt:
    """The receipt of a delivery taken in, before its checks: what the file and its name say."""
    return Receipt(
        delivery_id=intake.delivery_id,
        feed_id=contract.feed_id,
        file_name=display_name(intake.source.name),
        period=identity.period,
        supplier=identity.supplier,
        version=identity.version,
        sha256=intake.sha256,
        contract_version=contract.version,
        received_at=now_iso(),
        arrived_at=intake.arrived_at,
        partner=partner,
    )


def _ingest_copy(
    settings: Settings,
    conn: duckdb.DuckDBPyConnection,
    intake: Intake,
    contract: FeedContract,
    identity,
    partner: str | None = None,
    batch: Batch | None = None,
) -> Receipt:
    feed_id = contract.feed_id
    name = display_name(intake.source.name)
    assert intake.copy is not None and intake.sha256 is not None
    receipt = new_receipt(intake, contract, identity, partner)
    quarantine = settings.quarantine_dir / feed_id
    archive = settings.archive_dir / feed_id / identity.period

    earlier, current = prior_deliveries(conn, feed_id, name, intake.sha256, identity.period, identity.supplier)
    if earlier:
        receipt.status = DUPLICATE
        receipt.problems = [
            Problem("duplicaat", None, f"zelfde naam en inhoud als levering {earlier}; niet opnieuw geladen")
        ]
        return _conclude(settings, conn, intake, receipt, archive, read_only=True)

    if current and identity.version <= current["versie"]:
        receipt.problems = [
            Problem(
                "versie_niet_hoger",
                None,
                f"versie {identity.version} is niet hoger dan de al geladen versie "
                f"{current['versie']} ({current['bestandsnaam']}); lever een correctie als "
                f"`{version_name(name, current['versie'] + 1)}`",
            )
        ]
        return _conclude(settings, conn, intake, receipt, quarantine)

    try:
        outcome = batch.checked(conn, intake.copy) if batch else None
        if outcome is None:
            outcome = check_file(conn, intake.copy, contract, identity, settings.max_file_bytes)
    except OSError:
        raise  # disk or permissions: an operational fault, not the partner's
    except Exception:  # a bug must not lose the file: it is kept in quarantine with a receipt
        log.exception("validatie van %s mislukt", name)
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
        return _conclude(settings, conn, intake, receipt, folder)

    if current:
        receipt.problems.append(
            Problem(
                "vervangt_levering",
                None,
                f"deze correctie vervangt versie {current['versie']} ({current['bestandsnaam']}) "
                f"van periode {identity.period} volledig",
            )
        )
    plan_destination(settings, receipt, archive)
    load_delivery(conn, contract, receipt, outcome.outputs, settings.pseudonym_key, replaces=bool(current))
    drop_temp_objects(conn)
    return complete(settings, intake, receipt, read_only=True)


def load_delivery(
    conn: duckdb.DuckDBPyConnection,
    contract: FeedContract,
    receipt: Receipt,
    outputs: dict[str, str],
    key: bytes,
    replaces: bool,
) -> None:
    """Rows, replaced predecessors and the ledger row in one transaction (the checked rows of
    the copy are in `__dvcc_checked`). Also used by `dvcc herstel` to replay an archived file."""
    assert receipt.delivery_id and receipt.period and receipt.supplier
    conn.execute("BEGIN TRANSACTION")
    try:
        loaded = replace_period(conn, contract, outputs, receipt.delivery_id, receipt.period, receipt.supplier, key)
        if loaded != receipt.rows_accepted:
            raise RuntimeError(f"{loaded} rijen geladen, {receipt.rows_accepted} verwacht")
        if replaces:  # the ledger query found no loaded delivery otherwise
            mark_replaced(conn, contract.feed_id, receipt.period, receipt.supplier, receipt.delivery_id)
        record(conn, receipt)
        checkpoint("laden")
        conn.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(duckdb.Error):  # a connection a fatal error invalidated has nothing to roll back
            conn.execute("ROLLBACK")
        raise


def conn_has_no_row(conn: duckdb.DuckDBPyConnection, delivery_id: str) -> bool:
    """True when the ledger has no row for the id (also when the warehouse cannot answer)."""
    try:
        row = conn.execute("SELECT 1 FROM raw.deliveries WHERE levering_id = $id", {"id": delivery_id}).fetchone()
    except duckdb.Error:
        return True
    return row is None


def drop_temp_objects_quietly(conn: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):
        drop_temp_objects(conn)
