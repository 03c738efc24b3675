"""`dvcc herstel`: rebuild the raw layer of the warehouse from the archive and the receipts alone.

The receipts are the record of every delivery; the archive holds the exact bytes of every
loaded one (its sha256 is on the receipt). Replaying every receipt in its original order
(delivery ids start with their timestamp) with its original id, through the same checks and
the same keyed pseudonyms, gives the same ledger and the same raw rows; dbt and the
publication then rebuild the rest. The damaged file is kept beside it, never deleted.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from dvcc_pipeline.config import Settings
from dvcc_pipeline.contracts import load_partners
from dvcc_pipeline.ingestion.ledger import LEDGER, LOADED_STATUSES, ensure_raw_schema, record
from dvcc_pipeline.ingestion.receipt import Receipt
from dvcc_pipeline.ingestion.replay import replay_rows


@dataclass
class RestoreResult:
    receipts: int
    loaded: int
    rows: int
    seconds: float
    damaged_copy: Path | None


_STORES = ("archive", "quarantine", "quarantine_beperkt")


def local_path(settings: Settings, path: Path | None) -> Path | None:
    """A stored path inside this DVCC_HOME, also when the home was copied or restored from a backup."""
    if path is None:
        return None
    parts = path.parts
    for index in range(len(parts) - 1, -1, -1):
        if parts[index] in _STORES:
            return settings.home.joinpath(*parts[index:])
    return path


def read_receipts(settings: Settings) -> list[Receipt]:
    """Every receipt, in the order the deliveries were processed."""
    receipts = []
    for path in settings.receipts_dir.glob("*/*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        if not data.get("levering_id"):
            continue
        receipt = Receipt.from_record(data, feed_id=data["feed"] or "onbekend", receipt_path=path)
        receipt.archive_path = local_path(settings, receipt.archive_path)
        receipts.append(receipt)
    return sorted(receipts, key=lambda r: r.delivery_id or "")


def rebuild(settings: Settings, target: Path) -> tuple[int, int, int]:
    """Replay every receipt into a new warehouse file at `target`; (receipts, loaded, rows)."""
    receipts = read_receipts(settings)
    loaded = rows = 0
    with duckdb.connect(str(target)) as conn:
        ensure_raw_schema(conn)
        for receipt in receipts:
            if receipt.status in LOADED_STATUSES:
                replaces = any(p.code == "vervangt_levering" for p in receipt.problems)
                rows += replay_rows(settings, conn, receipt, replaces)
                loaded += 1
            else:
                record(conn, receipt)
        conn.execute("CHECKPOINT")
        count = conn.execute(f"SELECT count(*) FROM {LEDGER}").fetchone()
        assert count is not None and count[0] == len(receipts)
    return len(receipts), loaded, rows


def restore(settings: Settings) -> RestoreResult:
    """Rebuild the warehouse beside the damaged one, keep the damaged file, swap the new one in."""
    started = time.perf_counter()
    settings.ensure_dirs(load_partners())
    target = settings.warehouse_dir / "dvcc.herstel.duckdb"
    for leftover in (target, target.with_name(target.name + ".wal")):
        leftover.unlink(missing_ok=True)
    receipts, loaded, rows = rebuild(settings, target)
    damaged = None
    if settings.warehouse_path.exists():
        damaged = settings.warehouse_dir / f"dvcc.beschadigd-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.duckdb"
        os.replace(settings.warehouse_path, damaged)
    wal = settings.warehouse_path.with_name(settings.warehouse_path.name + ".wal")
    if wal.exists():
        os.replace(wal, (damaged or wal).with_name((damaged or wal).name + ".wal"))
    os.replace(target, settings.warehouse_path)
    return RestoreResult(receipts, loaded, rows, round(time.perf_counter() - started, 2), damaged)
