"""The door: a landed file becomes one private, verified copy before anything reads it.

A partner's upload may still be running when we look, and a writer's open handle follows
the inode wherever the file is moved. So the landing file itself is never validated, loaded
or archived: once it has kept its size and mtime across the settle window, one private copy
is taken (copy, fsync, sha256 in one pass), the copy is what is checked, loaded and archived,
and the original leaves landing only if its bytes still match.

Every intake is journalled in `DVCC_HOME/.inname/` (the copy plus a small JSON file) until
it is finished, so a crash at any point leaves something :mod:`reconcile` can finish (the
ledger row is committed) or undo (it is not).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from dvcc_pipeline.config import Settings
from dvcc_pipeline.ingestion.receipt import display_name
from dvcc_pipeline.ingestion.safe import safe_name
from dvcc_pipeline.runtime.faults import checkpoint

_CHUNK = 1024 * 1024


class DeliveryChanged(Exception):
    """The landing file changed while it was being taken in; it stays for the next look."""


@dataclass(frozen=True)
class Fingerprint:
    """What a file looks like from outside: size and modification time."""

    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> Fingerprint:
        info = path.lstat()
        return cls(info.st_size, info.st_mtime_ns)


def settle(paths: list[Path], seconds: float) -> dict[Path, Fingerprint]:
    """The paths whose size and mtime stayed the same across one settle window.

    One window for all paths, so a run with many files waits once, not once per file.
    """
    first: dict[Path, Fingerprint] = {}
    for path in paths:
        try:
            first[path] = Fingerprint.of(path)
        except FileNotFoundError:
            continue
    if seconds > 0 and first:
        time.sleep(seconds)
    stable = {}
    for path, seen in first.items():
        try:
            if Fingerprint.of(path) == seen:
                stable[path] = seen
        except FileNotFoundError:
            continue
    return stable


def arrival_time(mtime: float) -> str:
    """A file's last write as the receipts show times: UTC, to the second, without zone."""
    return datetime.fromtimestamp(mtime, UTC).replace(tzinfo=None).isoformat(timespec="seconds")


@dataclass
class Intake:
    """One landing entry on its way in: its private copy and its journal entry."""

    delivery_id: str
    source: Path
    copy: Path | None
    """The private copy; None for an entry that is moved whole (symlink, folder, special file)."""
    sha256: str | None
    journal: Path
    arrived_at: str | None = None
    """When the entry was last written (its mtime, UTC): when the upload finished, not when we took it."""

    def to_json(self) -> str:
        return json.dumps(
            {
                "levering_id": self.delivery_id,
                "bron": os.fsencode(self.source).hex(),
                "kopie": self.copy.name if self.copy else None,
                "sha256": self.sha256,
                "aangekomen_op": self.arrived_at,
            }
        )

    @classmethod
    def from_journal(cls, journal: Path) -> Intake:
        data = json.loads(journal.read_text(encoding="utf-8"))
        copy = journal.parent / data["kopie"] if data["kopie"] else None
        source = Path(os.fsdecode(bytes.fromhex(data["bron"])))
        return cls(data["levering_id"], source, copy, data["sha256"], journal, data.get("aangekomen_op"))


def _write_durably(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_and_hash(source: Path, target: Path) -> str:
    """Copy the bytes, fsync the copy and hash them in the same pass."""
    digest = hashlib.sha256()
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    with os.fdopen(os.open(source, flags), "rb") as src, target.open("xb") as dst:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    return digest.hexdigest()


def take(settings: Settings, source: Path, new_id, expected: Fingerprint | None = None) -> Intake:
    """Take a private copy of a regular landing file (or journal a non-file entry to move whole).

    `new_id(sha256)` makes the delivery id. Raises :class:`DeliveryChanged` when the file is
    not the one that settled (`expected`) or changed while it was copied.
    """
    settings.intake_dir.mkdir(parents=True, exist_ok=True)
    info = source.lstat()
    arrived = arrival_time(info.st_mtime)
    if not stat.S_ISREG(info.st_mode):
        delivery_id = new_id(None)
        intake = Intake(delivery_id, source, None, None, settings.intake_dir / f"{delivery_id}.json", arrived)
        _write_durably(intake.journal, intake.to_json())
        return intake
    before = Fingerprint(info.st_size, info.st_mtime_ns)
    if expected is not None and before != expected:
        raise DeliveryChanged(f"`{display_name(source.name)}` is gewijzigd sinds de wachttijd; volgende keer opnieuw")
    pending = settings.intake_dir / f".kopie-{os.getpid()}-{time.monotonic_ns()}"
    try:
        sha = _copy_and_hash(source, pending)
        if Fingerprint.of(source) != before:
            raise DeliveryChanged(
                f"`{display_name(source.name)}` werd nog geschreven tijdens het kopiëren; het blijft in landing "
                "staan tot het niet meer verandert"
            )
        delivery_id = new_id(sha)
        copy = settings.intake_dir / f"{delivery_id}__{safe_name(source.name)}"  # readers go by the extension
        os.replace(pending, copy)
    finally:
        pending.unlink(missing_ok=True)
    intake = Intake(delivery_id, source, copy, sha, settings.intake_dir / f"{delivery_id}.json", arrived)
    _write_durably(intake.journal, intake.to_json())
    try:
        checkpoint("deur")
    except BaseException:
        abandon(intake)
        raise
    return intake


def place(intake: Intake, target: Path, read_only: bool = False) -> Path:
    """Move the copy (or the entry itself) to `target` and verify the archived bytes.

    Idempotent: a target already in place with the right sha256 is left as it is, so the
    reconciliation after a crash can call it again.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    if intake.copy is None:
        if os.path.lexists(intake.source) and not os.path.lexists(target):
            try:
                os.rename(intake.source, target)
            except OSError:
                shutil.move(str(intake.source), str(target))
        return target
    if intake.copy.exists():
        os.replace(intake.copy, target)
        _fsync_dir(target.parent)
    archived = sha256_file(target)
    if archived != intake.sha256:
        raise OSError(f"sha256 van {target} ({archived[:12]}…) wijkt af van het ontvangstbewijs ({intake.sha256})")
    if read_only:
        target.chmod(0o444)
    return target


def release(intake: Intake) -> str | None:
    """Remove the landing original if it still holds the bytes that were taken in.

    Returns a Dutch warning when it changed (it then stays for the next look).
    """
    if intake.copy is None:
        return None
    try:
        if not stat.S_ISREG(intake.source.lstat().st_mode):
            return None
        if sha256_file(intake.source) == intake.sha256:
            intake.source.unlink()
            return None
    except FileNotFoundError:
        return None
    return (
        f"`{display_name(intake.source.name)}` is na het innemen nog gewijzigd; het staat nog in landing "
        "en wordt bij de volgende ronde opnieuw bekeken"
    )


def close(intake: Intake) -> None:
    """The intake is finished: drop its journal entry."""
    if intake.copy is not None:
        intake.copy.unlink(missing_ok=True)
    intake.journal.unlink(missing_ok=True)


def abandon(intake: Intake) -> None:
    """Nothing was committed: drop the copy and the journal; the original stays in landing."""
    close(intake)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
