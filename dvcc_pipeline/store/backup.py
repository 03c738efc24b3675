"""`dvcc backup DIR`: a copy of what cannot be rebuilt, safe while the service runs.

Archive, quarantine and receipts are the truth `dvcc herstel` rebuilds from; files there are
only ever added (renamed into place, read-only), so copying them while a run is busy copies
finished files only. The published file is swapped in by rename, never written in place, so a
copy is one whole version with its publication history. The warehouse itself is rebuildable
and copied only when no run holds it (a snapshot through a read-only connection).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from dvcc_pipeline.config import Settings

FOLDERS = ("archive", "quarantine", "quarantine_beperkt", "receipts")


@dataclass
class BackupResult:
    folder: Path
    files: int
    warehouse_copied: bool


def backup(settings: Settings, target: Path) -> BackupResult:
    folder = target / f"dvcc-backup-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    folder.mkdir(parents=True)
    files = 0
    for name in FOLDERS:
        source = settings.home / name
        if source.is_dir():
            shutil.copytree(source, folder / name, symlinks=True)
            files += sum(1 for p in (folder / name).rglob("*") if not p.is_dir())
    if settings.published_path.exists():
        (folder / "published").mkdir()
        with settings.published_path.open("rb") as live, (folder / "published" / "published.duckdb").open("wb") as out:
            shutil.copyfileobj(live, out)  # the open handle keeps one version even if a swap happens now
        files += 1
    copied = False
    if settings.warehouse_path.exists():
        try:
            with duckdb.connect(":memory:") as conn:
                conn.execute(f"ATTACH {_literal(settings.warehouse_path)} AS src (READ_ONLY)")
                (folder / "warehouse").mkdir()
                conn.execute(f"ATTACH {_literal(folder / 'warehouse' / 'dvcc.duckdb')} AS dst")
                conn.execute("COPY FROM DATABASE src TO dst")
            copied = True
            files += 1
        except duckdb.Error:
            copied = False  # held by a run, or damaged: rebuildable with `dvcc herstel` from the rest
    return BackupResult(folder, files, copied)


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"
