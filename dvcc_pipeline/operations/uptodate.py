"""`dvcc run` with nothing to do answers in a second, without loading Dagster or dbt.

A successful run leaves a stamp: a fingerprint of the code that decides what is out of date
(contracts, dbt project, pipeline code) and of the warehouse and publication files as that
run left them. When landing holds nothing the door would take (an upload still being written it leaves
alone) and the fingerprint still matches, nothing can be
out of date, so the full check (which loads the Dagster definitions and the dbt manifest)
is skipped. Anything else — a file in landing, a changed model, a warehouse written by the
service — takes the full path. A run removes the stamp when it starts, so a run that was
killed never leaves one behind.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path

from dvcc_pipeline.config import CONTRACTS_DIR, DBT_PROJECT_DIR, REPO_ROOT, Settings, is_temporary_upload

_CODE = (
    CONTRACTS_DIR,
    DBT_PROJECT_DIR / "models",
    DBT_PROJECT_DIR / "seeds",
    DBT_PROJECT_DIR / "macros",
    DBT_PROJECT_DIR / "tests",
    REPO_ROOT / "dvcc_pipeline",
)
_CODE_FILES = (DBT_PROJECT_DIR / "dbt_project.yml",)
_SUFFIXES = {".py", ".sql", ".yml", ".yaml", ".csv", ".json"}


def _stamp_path(settings: Settings) -> Path:
    return settings.dagster_home / "dvcc_actueel.json"


def _file_state(path: Path) -> list[object]:
    try:
        info = path.stat()
    except OSError:
        return [str(path), None]
    return [str(path), info.st_size, info.st_mtime_ns]


def fingerprint(settings: Settings) -> str:
    """Sizes and modification times of the code and the data files: cheap to compute."""
    states = [_file_state(p) for p in (*_CODE_FILES, settings.warehouse_path, settings.published_path)]
    for root in _CODE:
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__pycache__")))
            states += [_file_state(Path(folder) / f) for f in sorted(files) if Path(f).suffix in _SUFFIXES]
    return hashlib.sha256(json.dumps(states).encode()).hexdigest()


def _holds_a_drop(folder: Path) -> bool:
    """Anything the door would look at: an upload still being written (`.part`, `.tmp`, a
    dot name) it leaves alone, so that upload alone need not take the full path."""
    return any(not is_temporary_upload(entry.name) for entry in folder.iterdir())


def landing_is_empty(settings: Settings) -> bool:
    """Nothing in landing the door would take: no delivery, no stray."""
    if not settings.landing_dir.is_dir():
        return True
    for entry in settings.landing_dir.iterdir():
        if is_temporary_upload(entry.name):
            continue
        if not entry.is_dir() or entry.is_symlink() or _holds_a_drop(entry):
            return False
    return True


def drops_are_empty(settings: Settings) -> bool:
    """Nothing in landing, nothing in any partner's `in/` box and nothing stray under `partners/`."""
    if not landing_is_empty(settings):
        return False
    if not settings.partners_dir.is_dir():
        return True
    from dvcc_pipeline.contracts import load_partners

    registered = load_partners()
    for entry in settings.partners_dir.iterdir():
        if not entry.is_dir() or entry.is_symlink():
            return False
        if entry.name not in registered:
            if _holds_a_drop(entry):
                return False
            continue
        inbox = entry / "in"
        if inbox.is_dir() and _holds_a_drop(inbox):
            return False
    return True


def forget(settings: Settings) -> None:
    """Called when a run starts: until it ends well, nothing is known to be up to date."""
    _stamp_path(settings).unlink(missing_ok=True)


def remember(settings: Settings) -> None:
    """Called after a run that ended well and left nothing out of date."""
    path = _stamp_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = {"vingerafdruk": fingerprint(settings), "op": dt.datetime.now().isoformat(timespec="seconds")}
    path.write_text(json.dumps(stamp), encoding="utf-8")


def nothing_to_do(settings: Settings) -> str | None:
    """When nothing can be out of date: the time of the run that left everything up to date."""
    try:
        stamp = json.loads(_stamp_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not drops_are_empty(settings) or not settings.published_path.exists():
        return None
    if stamp.get("vingerafdruk") != fingerprint(settings):
        return None
    return str(stamp.get("op", "?")).replace("T", " ")
