"""Step 1 (pick-up) and where files go: landing scan, quarantine, archive, receipts.

The landing area is untrusted: entries are examined with lstat (symlinks never
followed), names are never used to build paths outside the feed's folders, and every
destination name is sanitised and prefixed with a fresh delivery id.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import stat
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from dvcc_pipeline.config import Settings
from dvcc_pipeline.contracts import FeedContract, load_contract
from dvcc_pipeline.ingestion.receipt import REJECTED, Problem, Receipt, shown_value
from dvcc_pipeline.ingestion.validator import name_problem, sha256_of

_TEMPORARY_SUFFIXES = (".part", ".tmp")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class PendingDelivery:
    path: Path
    name: str
    period: str
    supplier: str
    version: int


@dataclass
class LandingScan:
    deliveries: list[PendingDelivery] = field(default_factory=list)
    strays: list[Path] = field(default_factory=list)


def is_temporary(name: str) -> bool:
    """Upload names partners use while a file is still being written."""
    return name.startswith(".") or name.endswith(_TEMPORARY_SUFFIXES)


def safe_name(name: str) -> str:
    """A file name that is safe inside our folders, whatever the partner called it."""
    cleaned = _UNSAFE.sub("_", name).replace("..", "_").lstrip(".")
    return cleaned[:150] or "naamloos"


def new_delivery_id(sha256: str | None = None) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stamp}-{(sha256 or secrets.token_hex(8))[:8]}"


def now_iso() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def stray_problem(path: Path, contract: FeedContract | None) -> Problem:
    """Why an entry in a landing folder is not a delivery, with the name that was expected."""
    info = path.lstat()
    expected = name_problem(contract, path.name)
    if stat.S_ISLNK(info.st_mode):
        return Problem(
            "geen_bestand",
            None,
            f"`{shown_value(path.name)}` is een symbolische koppeling; die worden niet gevolgd. {expected.message}",
        )
    if stat.S_ISDIR(info.st_mode):
        return Problem("geen_bestand", None, f"`{shown_value(path.name)}` is een map, geen bestand. {expected.message}")
    if not stat.S_ISREG(info.st_mode):
        return Problem("geen_bestand", None, f"`{shown_value(path.name)}` is geen gewoon bestand. {expected.message}")
    return expected


def scan_landing(settings: Settings, feed_id: str, now: float | None = None) -> LandingScan:
    """Deliveries ready to ingest (sorted by period, supplier, version) and strays."""
    contract = load_contract(feed_id)
    folder = settings.landing_for(feed_id)
    scan = LandingScan()
    if not folder.is_dir() or folder.is_symlink():
        return scan
    now = time.time() if now is None else now
    with os.scandir(folder) as entries:
        for entry in entries:
            if is_temporary(entry.name):
                continue
            info = entry.stat(follow_symlinks=False)
            if now - info.st_mtime < settings.settle_seconds:
                continue
            path = folder / entry.name
            identity = None
            if stat.S_ISREG(info.st_mode) and ".." not in entry.name:
                identity = contract.identify(entry.name)
            if identity is None:
                scan.strays.append(path)
            else:
                scan.deliveries.append(
                    PendingDelivery(path, entry.name, identity.period, identity.supplier, identity.version)
                )
    scan.deliveries.sort(key=lambda d: (d.period, d.supplier, d.version, d.name))
    scan.strays.sort()
    return scan


def _inside(path: Path, folder: Path) -> bool:
    """The entry itself sits directly in `folder` (its parent resolved, the entry not)."""
    return Path(os.path.realpath(path.parent)) == Path(os.path.realpath(folder))


def move_entry(source: Path, folder: Path, delivery_id: str, read_only: bool = False) -> Path:
    """Move a landing entry (never following it) to `folder/<id>__<safe name>`."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{delivery_id}__{safe_name(source.name)}"
    if target.exists() or target.is_symlink():
        target = folder / f"{delivery_id}-{secrets.token_hex(2)}__{safe_name(source.name)}"
    try:
        os.rename(source, target)
    except OSError:
        shutil.move(str(source), str(target))
    if read_only and not target.is_symlink():
        target.chmod(0o444)
    return target


def write_receipt(settings: Settings, receipt: Receipt) -> Path:
    """Write `receipts/<feed>/<name>.<delivery_id>.json` and its Markdown twin."""
    folder = settings.receipts_dir / safe_name(receipt.feed_id or "onbekend")
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{safe_name(receipt.file_name)}.{receipt.delivery_id}"
    receipt.receipt_path = folder / f"{stem}.json"
    receipt.receipt_path.write_text(receipt.to_json(), encoding="utf-8")
    (folder / f"{stem}.md").write_text(receipt.to_markdown(), encoding="utf-8")
    return receipt.receipt_path


def quarantine_stray(settings: Settings, feed_id: str, path: Path) -> Receipt:
    """Move an entry that is not a delivery for this feed to quarantine, with a receipt."""
    contract = load_contract(feed_id)
    folder = settings.landing_for(feed_id)
    path = Path(path)
    if not _inside(path, folder):
        raise ValueError(f"{path} ligt niet in de landingsmap van {feed_id}")
    settings.ensure_dirs()
    problem = stray_problem(path, contract)
    info = path.lstat()
    sha = sha256_of(path) if stat.S_ISREG(info.st_mode) else None
    receipt = Receipt(
        delivery_id=new_delivery_id(sha),
        feed_id=feed_id,
        file_name=path.name,
        sha256=sha,
        contract_version=contract.version,
        status=REJECTED,
        problems=[problem],
        received_at=now_iso(),
    )
    receipt.archive_path = move_entry(path, settings.quarantine_dir / feed_id, receipt.delivery_id)
    receipt.processed_at = now_iso()
    write_receipt(settings, receipt)
    return receipt
