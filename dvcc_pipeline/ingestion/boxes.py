"""Partner boxes: who dropped a file, and the receipts that go back to that partner only.

The box a file lies in decides its supplier (`partners/<partner>/in/`); the name must fit the
partner's registry entry or the file is refused (`leverancier_onjuist`). Every receipt of a
box delivery is copied to that partner's `uit/` without server paths, next to `overzicht.md`.
Everything in `uit/` is written under a temporary name and renamed, so a partner never reads
half a file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from dvcc_pipeline.config import BOX_FILE_MODE, Settings
from dvcc_pipeline.contracts import FeedContract, FileIdentity, Partner, load_partners
from dvcc_pipeline.ingestion.receipt import (
    ACCEPTED,
    ACCEPTED_WITH_REJECTS,
    DUPLICATE,
    INCOMPLETE,
    REJECTED,
    STATUS_LABELS,
    Problem,
    Receipt,
)
from dvcc_pipeline.ingestion.safe import safe_name

WRONG_SUPPLIER = "leverancier_onjuist"
OVERVIEW = "overzicht.md"


def box_partner(settings: Settings, path: Path) -> Partner | None:
    """The registered partner whose `in/` holds `path`, or None (landing, or no box)."""
    inbox = path.parent
    if inbox.name != "in" or inbox.parent.parent != settings.partners_dir:
        return None
    return load_partners().get(inbox.parent.name)


def refusal(partner: Partner, contract: FeedContract, identity: FileIdentity) -> Problem | None:
    """`leverancier_onjuist` when the name claims another supplier or a feed the partner may not deliver."""
    reason = partner.refusal(contract, identity)
    return Problem(WRONG_SUPPLIER, None, reason) if reason else None


def _write_atomically(target: Path, text: str) -> None:
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.chmod(BOX_FILE_MODE)
    os.replace(temporary, target)


def _without_server_paths(settings: Settings, text: str) -> str:
    """No folder of the server in what a partner reads (a reader error can name the private copy)."""
    return text.replace(str(settings.home), "…")


def send_receipt(settings: Settings, receipt: Receipt) -> Path | None:
    """Copy a box delivery's receipt (JSON and Markdown) to the partner's `uit/` and refresh
    its overview. Returns the JSON copy, or None for a delivery that came through landing."""
    if receipt.partner is None:
        return None
    out = settings.box_out(receipt.partner)
    out.mkdir(parents=True, exist_ok=True)
    name = f"{safe_name(receipt.file_name)}.{receipt.delivery_id}"
    data = receipt.to_dict()
    data["archiefpad"] = None
    data["ontvangstbewijs"] = f"{name}.json"
    data["volgende_stap"] = next_step(receipt.status, receipt.version, [p.code for p in receipt.problems])
    for target, text in (
        (out / f"{name}.md", receipt.to_markdown()),
        (out / f"{name}.json", json.dumps(data, ensure_ascii=False, indent=2)),
    ):
        _write_atomically(target, _without_server_paths(settings, text))
    write_overview(settings, receipt.partner)
    return out / f"{name}.json"


def next_step(status: str, version: int | None, codes: list[str]) -> str:
    """What the partner does next, in one Dutch sentence."""
    if status == ACCEPTED:
        return "Niets te doen."
    if status == DUPLICATE:
        return "Niets te doen: dit bestand was al ontvangen."
    if status == ACCEPTED_WITH_REJECTS:
        return (
            "Bekijk de afgekeurde rijen in het ontvangstbewijs; lever zo nodig een correctie "
            f"als _v{(version or 1) + 1}."
        )
    if INCOMPLETE in codes:
        return "Lever het hele bestand opnieuw aan: het kwam niet volledig aan (upload afgebroken of blijven hangen)."
    if WRONG_SUPPLIER in codes:
        return "Lever in deze box alleen uw eigen bestanden, met uw eigen naam en voor uw eigen feeds."
    if status == REJECTED:
        return "Herstel het bestand volgens het ontvangstbewijs en lever het opnieuw aan."
    return "-"


def write_overview(settings: Settings, partner_id: str) -> Path:
    """`uit/overzicht.md`: the partner's deliveries, newest first, from the receipts in its `uit/`."""
    out = settings.box_out(partner_id)
    receipts = []
    for path in out.glob("*.json"):
        if path.name.startswith("."):
            continue
        try:
            receipts.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    receipts.sort(key=lambda r: str(r.get("levering_id") or ""), reverse=True)  # ids start with a UTC stamp
    partner = load_partners().get(partner_id)
    lines = [
        f"# Leveringen van {_cell(partner.name if partner else partner_id)}",
        "",
        "Nieuwste bovenaan. Het volledige ontvangstbewijs staat naast dit overzicht.",
        "",
        "| verwerkt op | bestand | periode | status | volgende stap |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in receipts:
        status = str(r.get("status") or "")
        step = r.get("volgende_stap") or next_step(status, r.get("versie"), [])
        lines.append(
            f"| {_cell(r.get('verwerkt_op') or '-')} | {_cell(r.get('bestandsnaam') or '-')} "
            f"| {_cell(r.get('periode') or '-')} | {_cell(STATUS_LABELS.get(status, status))} | {_cell(step)} |"
        )
    if not receipts:
        lines.append("| - | nog geen leveringen | - | - | - |")
    target = out / OVERVIEW
    _write_atomically(target, _without_server_paths(settings, "\n".join(lines) + "\n"))
    return target


def _cell(value: object) -> str:
    text = str(value).replace("|", "\\|").replace("\n", " ")
    return "'" + text if text.startswith(("=", "+", "-", "@")) and text != "-" else text
