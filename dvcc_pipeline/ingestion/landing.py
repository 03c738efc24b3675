"""Step 1 (pick-up) and where files go: landing scan, quarantine, archive, receipts.

The landing area is untrusted: entries are examined with lstat (symlinks never
followed), names are never used to build paths outside the feed's folders, and every
destination name is sanitised and prefixed with a fresh delivery id.
"""

from __future__ import annotations

import os
import secrets
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from dvcc_pipeline.config import FEEDS, Settings
from dvcc_pipeline.contracts import FeedContract, Partner, contract_for_filename, load_contract, load_partners
from dvcc_pipeline.ingestion.boxes import send_receipt
from dvcc_pipeline.ingestion.receipt import UNKNOWN_FOLDER, Problem, Receipt, display_name, shown_value
from dvcc_pipeline.ingestion.safe import safe_name
from dvcc_pipeline.ingestion.validator import name_problem

_TEMPORARY_SUFFIXES = (".part", ".tmp")


@dataclass(frozen=True)
class PendingDelivery:
    path: Path
    name: str
    period: str
    supplier: str
    version: int
    partner: str | None = None
    """The partner whose box it came from; None for landing."""


@dataclass(frozen=True)
class Settling:
    """A file that changed less than its settle window ago: left for a later look."""

    path: Path
    seconds_left: float


@dataclass
class LandingScan:
    deliveries: list[PendingDelivery] = field(default_factory=list)
    strays: list[Path] = field(default_factory=list)
    settling: list[Settling] = field(default_factory=list)
    """Entries of the drop folders not yet unchanged for their settle window (any feed's)."""


def is_temporary(name: str) -> bool:
    """Upload names partners use while a file is still being written."""
    return name.startswith(".") or name.endswith(_TEMPORARY_SUFFIXES)


def new_delivery_id(sha256: str | None = None) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stamp}-{(sha256 or secrets.token_hex(8))[:8]}"


def now_iso() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def stray_problem(path: Path, contract: FeedContract | None, unknown_folder: bool = False) -> Problem:
    """Why an entry in a landing folder is not a delivery, with the name that was expected."""
    info = path.lstat()
    name = display_name(path.name)
    shown = shown_value(name)
    in_partners = path.parent.parent.name == "partners" or (
        path.parent.name == "partners" and path.parent.parent.name != "landing"
    )
    if unknown_folder and in_partners:
        where = (
            "direct in partners/"
            if path.parent.name == "partners"
            else f"in partners/`{shown_value(display_name(path.parent.name))}`, en dat is geen geregistreerde partner"
        )
        return Problem(
            UNKNOWN_FOLDER,
            None,
            f"`{shown}` staat {where}; een partner levert in partners/<partner>/in/, "
            "met <partner> een partner uit data_contracts/partners.yaml",
        )
    if unknown_folder:
        where = (
            "direct in landing/"
            if path.parent.name == "landing"
            else f"in de onbekende map `{shown_value(display_name(path.parent.name))}`"
        )
        return Problem(
            UNKNOWN_FOLDER,
            None,
            f"`{shown}` staat {where}; lever in de map van de feed: landing/<feed>/, "
            f"met <feed> een van {', '.join(FEEDS)}",
        )
    expected = name_problem(contract, name)
    if stat.S_ISLNK(info.st_mode):
        return Problem(
            "geen_bestand", None, f"`{shown}` is een symbolische koppeling; die worden niet gevolgd. {expected.message}"
        )
    if stat.S_ISDIR(info.st_mode):
        return Problem("geen_bestand", None, f"`{shown}` is een map, geen bestand. {expected.message}")
    if not stat.S_ISREG(info.st_mode):
        return Problem("geen_bestand", None, f"`{shown}` is geen gewoon bestand. {expected.message}")
    return expected


def settle_window(settings: Settings, partner: Partner | None) -> float:
    """Seconds a drop must stay unchanged: the partner's (partners.yaml) for its box, the data
    team's (`DVCC_SETTLE_SECONDS`) for landing; a setting of 0 (tests, `--direct`) waits nowhere."""
    if partner is None or settings.settle_seconds == 0:
        return settings.settle_seconds
    return partner.settle_seconds


def _settled_entries(
    folder: Path, window: float, now: float, settling: list[Settling]
) -> Iterator[tuple[Path, os.stat_result]]:
    """The entries of a drop folder past the protocol: no temporary names, unchanged for the
    settle window. The others are added to `settling`."""
    if not folder.is_dir() or folder.is_symlink():
        return
    with os.scandir(folder) as entries:
        for entry in entries:
            if is_temporary(entry.name):
                continue
            info = entry.stat(follow_symlinks=False)
            age = now - info.st_mtime
            if age >= window:
                yield folder / entry.name, info
            else:
                settling.append(Settling(folder / entry.name, window - age))


def _plain_file(path: Path, info: os.stat_result) -> bool:
    return stat.S_ISREG(info.st_mode) and ".." not in path.name


def scan_landing(settings: Settings, feed_id: str, now: float | None = None) -> LandingScan:
    """Deliveries of a feed ready to ingest (sorted by period, supplier, version) and strays,
    from `landing/<feed_id>/` and from every partner box whose files are routed to this feed."""
    contract = load_contract(feed_id)
    scan = LandingScan()
    now = time.time() if now is None else now
    for path, info in _settled_entries(
        settings.landing_for(feed_id), settle_window(settings, None), now, scan.settling
    ):
        identity = contract.identify(path.name) if _plain_file(path, info) else None
        if identity is None:
            scan.strays.append(path)
        else:
            scan.deliveries.append(
                PendingDelivery(path, path.name, identity.period, identity.supplier, identity.version)
            )
    _scan_boxes(settings, feed_id, now, scan)
    scan.deliveries.sort(key=lambda d: (d.period, d.supplier, d.version, d.name, str(d.path)))
    scan.strays.sort()
    return scan


def _scan_boxes(settings: Settings, feed_id: str, now: float, scan: LandingScan) -> None:
    """Box files go to the feed whose name pattern they match; a name the partner may not use
    is a stray of that feed (refused at intake), one that matches no feed a stray of the
    partner's first feed."""
    for partner in load_partners().values():
        young: list[Settling] = []
        for path, info in _settled_entries(settings.box_in(partner.id), settle_window(settings, partner), now, young):
            found = contract_for_filename(path.name) if _plain_file(path, info) else None
            if found is None:
                if partner.feeds[0] == feed_id:
                    scan.strays.append(path)
                continue
            contract, identity = found
            if contract.feed_id != feed_id:
                continue
            if partner.refusal(contract, identity):
                scan.strays.append(path)
            else:
                scan.deliveries.append(
                    PendingDelivery(path, path.name, identity.period, identity.supplier, identity.version, partner.id)
                )
        for entry in young:  # reported by the sensor of the feed that will take it
            found = contract_for_filename(entry.path.name)
            if (found[0].feed_id if found else partner.feeds[0]) == feed_id:
                scan.settling.append(entry)


def unknown_entries(settings: Settings) -> list[Path]:
    """Entries no feed will ever pick up: files directly in `landing/` and whatever sits in a
    folder of `landing/` that is not a feed's (temporary upload names excepted)."""
    # Under `partners/`: files directly in it and whatever sits in a folder no partner is registered for.
    boxes = _unknown_entries_in(settings.partners_dir, set(load_partners())) if settings.partners_dir.is_dir() else []
    return sorted(_unknown_entries_in(settings.landing_dir, set(FEEDS)) + boxes)


def _unknown_entries_in(root: Path, known: set[str]) -> list[Path]:
    """Files directly in `root` and the contents of its folders not named in `known`."""
    if not root.is_dir():
        return []
    found: list[Path] = []
    with os.scandir(root) as entries:
        for entry in entries:
            if is_temporary(entry.name) or (entry.name in known and entry.is_dir(follow_symlinks=False)):
                continue
            if entry.is_dir(follow_symlinks=False):
                with os.scandir(entry.path) as inner:
                    found += [Path(i.path) for i in inner if not is_temporary(i.name)]
            else:
                found.append(Path(entry.path))
    return found


def destination(folder: Path, delivery_id: str, name: str) -> Path:
    """Where an entry goes in the archive or quarantine: `<id>__<safe name>`."""
    return folder / f"{delivery_id}__{safe_name(name)}"


def receipt_path_for(settings: Settings, feed_id: str | None, file_name: str, delivery_id: str) -> Path:
    return settings.receipts_dir / safe_name(feed_id or "onbekend") / f"{safe_name(file_name)}.{delivery_id}.json"


def write_receipt(settings: Settings, receipt: Receipt) -> Path:
    """Write `receipts/<feed>/<name>.<delivery_id>.json` and its Markdown twin, each atomically."""
    path = receipt_path_for(settings, receipt.feed_id, receipt.file_name, receipt.delivery_id or "")
    path.parent.mkdir(parents=True, exist_ok=True)
    receipt.receipt_path = path
    for target, text in ((path.with_suffix(".md"), receipt.to_markdown()), (path, receipt.to_json())):
        temporary = target.with_name(f".{target.name}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, target)
    send_receipt(settings, receipt)
    return path
