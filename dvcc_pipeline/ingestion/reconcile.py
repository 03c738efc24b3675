"""Start-up reconciliation: make receipts, ledger and archive agree again after a crash.

Every run calls :func:`reconcile` before it takes anything new. An intake journalled in
`.inname/` whose ledger row was never committed is undone (its landing original is still
there and is taken again); one whose row was committed is finished: the copy moved to its
archive or quarantine place, the receipt written, the landing original removed. So a kill
between commit and move never leaves a ledger row without its file, and the file is never
taken a second time as a phantom `duplicaat`. Temporaries of an interrupted publication or
receipt write are removed.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dvcc_pipeline.config import FEEDS, Settings
from dvcc_pipeline.contracts import load_contract, load_partners
from dvcc_pipeline.ingestion import door
from dvcc_pipeline.ingestion.door import Intake
from dvcc_pipeline.ingestion.ingest import complete
from dvcc_pipeline.ingestion.ledger import LEDGER, ensure_raw_schema, raw_table
from dvcc_pipeline.ingestion.receipt import (
    ACCEPTED,
    ACCEPTED_WITH_REJECTS,
    REPLACED,
    Receipt,
    display_name,
)
from dvcc_pipeline.ingestion.replay import replay_rows

log = logging.getLogger(__name__)


@dataclass
class Reconciliation:
    """What the reconciliation repaired, in Dutch, for the run's output."""

    finished: list[str] = field(default_factory=list)
    undone: list[str] = field(default_factory=list)
    rolled_back: list[str] = field(default_factory=list)
    removed_temporaries: list[Path] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"Onderbroken inname afgemaakt: {name}" for name in self.finished]
        out += [f"Onderbroken inname teruggedraaid (wordt opnieuw ingenomen): {name}" for name in self.undone]
        out += [
            f"Onderbroken inname teruggedraaid; de bytes zijn weg, lever {name} opnieuw aan"
            for name in self.rolled_back
        ]
        if self.removed_temporaries:
            out.append(f"{len(self.removed_temporaries)} tijdelijke bestanden van een onderbroken run opgeruimd")
        return out


def receipt_from_ledger(row: dict) -> Receipt:
    """The receipt of a ledger row (the ledger holds everything the receipt shows)."""
    return Receipt.from_record(row, status=_status_when_received(row))


def _status_when_received(row: dict) -> str:
    """The status on the receipt: a later correction changes the ledger row, not the receipt."""
    if row["status"] != REPLACED:
        return row["status"]
    return ACCEPTED_WITH_REJECTS if row["rijen_afgekeurd"] else ACCEPTED


def _ledger_row(conn: duckdb.DuckDBPyConnection, delivery_id: str) -> dict | None:
    cursor = conn.execute(f"SELECT * FROM {LEDGER} WHERE levering_id = $id", {"id": delivery_id})
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cursor.description], row, strict=True))


def _finish(settings: Settings, conn: duckdb.DuckDBPyConnection, intake: Intake, row: dict) -> None:
    receipt = receipt_from_ledger(row)
    receipt.restricted = settings.restricted_quarantine_dir in (receipt.archive_path or Path()).parents
    read_only = settings.archive_dir in (receipt.archive_path or Path()).parents
    complete(settings, intake, receipt, read_only)


def _bytes_lost(intake: Intake, row: dict) -> bool:
    """Neither the private copy nor the file in its final place is there (someone removed them)."""
    if intake.copy is None:
        return False
    target = Path(row["archiefpad"]) if row["archiefpad"] else None
    return not intake.copy.exists() and not (target is not None and target.exists())


def _take_again(intake: Intake) -> bool:
    """The landing original still holds the committed bytes: copy it again."""
    assert intake.copy is not None
    try:
        if door.sha256_file(intake.source) != intake.sha256:
            return False
        shutil.copyfile(intake.source, intake.copy)
    except OSError:
        return False
    return door.sha256_file(intake.copy) == intake.sha256


def roll_back(settings: Settings, conn: duckdb.DuckDBPyConnection, row: dict) -> None:
    """Undo a committed delivery whose bytes are gone: its rows and ledger row go, and the
    deliveries it replaced are loaded again from their archived files."""
    conn.execute("BEGIN TRANSACTION")
    try:
        if row["feed"] in FEEDS:
            conn.execute(
                f"DELETE FROM {raw_table(load_contract(row['feed']))} WHERE _levering_id = $id",
                {"id": row["levering_id"]},
            )
        replaced = conn.execute(
            f"SELECT levering_id FROM {LEDGER} WHERE vervangen_door = $id", {"id": row["levering_id"]}
        ).fetchall()
        conn.execute(f"DELETE FROM {LEDGER} WHERE levering_id = $id", {"id": row["levering_id"]})
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    for (earlier,) in replaced:
        previous = _ledger_row(conn, earlier)
        assert previous is not None
        conn.execute(f"DELETE FROM {LEDGER} WHERE levering_id = $id", {"id": earlier})
        receipt = receipt_from_ledger(previous)
        replay_rows(settings, conn, receipt, replaces=any(p.code == "vervangt_levering" for p in receipt.problems))


def reconcile(settings: Settings, conn: duckdb.DuckDBPyConnection) -> Reconciliation:
    """Finish or undo every journalled intake; remove temporaries of interrupted writes."""
    settings.ensure_dirs(load_partners())
    ensure_raw_schema(conn)
    result = Reconciliation()
    for journal in sorted(settings.intake_dir.glob("*.json")):
        intake = Intake.from_journal(journal)
        name = intake.source.name
        row = _ledger_row(conn, intake.delivery_id)
        if row is None:
            door.abandon(intake)
            result.undone.append(display_name(name))
            continue
        if _bytes_lost(intake, row) and not _take_again(intake):
            roll_back(settings, conn, row)
            door.abandon(intake)
            result.rolled_back.append(row["bestandsnaam"])
            continue
        _finish(settings, conn, intake, row)
        result.finished.append(row["bestandsnaam"])
    temporaries = [*settings.intake_dir.glob(".kopie-*"), *settings.intake_dir.glob("*.json.tmp")]
    temporaries += list(settings.published_dir.glob(".published.*.duckdb*"))
    temporaries += list(settings.receipts_dir.glob("*/.*.tmp"))
    for temporary in temporaries:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        result.removed_temporaries.append(temporary)
    for line in result.lines():
        log.warning(line)
    return result
