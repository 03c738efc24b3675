"""The receipt every delivered file gets: what happened to it and why, in Dutch."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ACCEPTED = "geaccepteerd"
ACCEPTED_WITH_REJECTS = "geaccepteerd_met_afkeur"
REJECTED = "afgekeurd"
DUPLICATE = "duplicaat"
REPLACED = "vervangen"

STATUS_LABELS = {
    ACCEPTED: "Geaccepteerd",
    ACCEPTED_WITH_REJECTS: "Geaccepteerd, met afgekeurde rijen",
    REJECTED: "Afgekeurd",
    DUPLICATE: "Duplicaat (al eerder ontvangen, niet opnieuw geladen)",
    REPLACED: "Vervangen door een correctie",
}

UNKNOWN_FOLDER = "onbekende_map"

FIRST_ROWS = 10
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(text: str) -> str:
    """Prefix a quote so a spreadsheet never evaluates text as a formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def shown_value(value: object, limit: int = 40) -> str:
    """A partner value as it may appear in a message: short, one line, no formula, no backticks."""
    text = str(value).replace("\r", " ").replace("\n", " ").replace("`", "'")
    if len(text) > limit:
        text = text[:limit] + "…"
    return neutralise_formula(text)


def display_name(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 shown as `\\xNN`, so a receipt can hold any name.

    The file itself keeps its bytes; only what people read is escaped.
    """
    return os.fsencode(name).decode("utf-8", "backslashreplace")


@dataclass
class Problem:
    """One finding: code + column + specific Dutch message + first rows + how many rows."""

    code: str
    column: str | None
    message: str
    rows: list[int] = field(default_factory=list)
    count: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "kolom": self.column,
            "melding": self.message,
            "eerste_rijen": list(self.rows),
            "aantal": self.count,
        }


@dataclass
class Receipt:
    delivery_id: str | None
    feed_id: str | None
    file_name: str
    period: str | None = None
    supplier: str | None = None
    version: int | None = None
    sha256: str | None = None
    contract_version: str | None = None
    status: str = REJECTED
    rows_total: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    problems: list[Problem] = field(default_factory=list)
    archive_path: Path | None = None
    receipt_path: Path | None = None
    received_at: str | None = None
    processed_at: str | None = None
    restricted: bool = False
    partner: str | None = None
    """The partner whose box the file came from; None for the data team's drops in landing."""

    @property
    def exit_code(self) -> int:
        """0 accepted (or duplicate), 1 accepted with rejected rows, 2 rejected."""
        if self.status == ACCEPTED_WITH_REJECTS:
            return 1
        if self.status == REJECTED:
            return 2
        return 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "levering_id": self.delivery_id,
            "feed": self.feed_id,
            "bestandsnaam": self.file_name,
            "periode": self.period,
            "leverancier": self.supplier,
            "partner": self.partner,
            "versie": self.version,
            "sha256": self.sha256,
            "contractversie": self.contract_version,
            "status": self.status,
            "rijen_totaal": self.rows_total,
            "rijen_geaccepteerd": self.rows_accepted,
            "rijen_afgekeurd": self.rows_rejected,
            "problemen": [p.to_dict() for p in self.problems],
            "archiefpad": str(self.archive_path) if self.archive_path else None,
            "ontvangstbewijs": str(self.receipt_path) if self.receipt_path else None,
            "ontvangen_op": self.received_at,
            "verwerkt_op": self.processed_at,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    def to_markdown(self) -> str:
        """Short Dutch summary for the partner."""
        name = _md(self.file_name)
        lines = [
            f"# Ontvangstbewijs {name}",
            "",
            f"**Status: {STATUS_LABELS.get(self.status, self.status)}**",
            "",
            f"- Feed: {_md(self.feed_id or 'onbekend')}",
            f"- Levering: {_md(self.delivery_id or '(alleen gecontroleerd, niet geleverd)')}",
            f"- Periode: {_md(self.period or '-')}, leverancier: {_md(self.supplier or '-')}, "
            f"versie: {self.version if self.version is not None else '-'}",
            f"- Contractversie: {_md(self.contract_version or '-')}",
            f"- SHA-256: {self.sha256 or '-'}",
            f"- Rijen: {self.rows_total} totaal, {self.rows_accepted} geaccepteerd, {self.rows_rejected} afgekeurd",
        ]
        if self.processed_at:
            lines.append(f"- Verwerkt op: {self.processed_at}")
        lines.append("")
        if self.problems:
            lines += [
                "## Bevindingen",
                "",
                "| code | kolom | melding | eerste rijen | aantal |",
                "| --- | --- | --- | --- | ---: |",
            ]
            for p in self.problems:
                rows = ", ".join(str(r) for r in p.rows) or "-"
                lines.append(
                    f"| {_md(p.code)} | {_md(p.column) if p.column else '-'} | {_md(p.message)} | {rows} | {p.count} |"
                )
        else:
            lines.append("Geen bevindingen.")
        if self.restricted:
            lines += [
                "",
                "Het bestand bevat vermoedelijk persoonsgegevens en is apart gezet in de beperkte "
                "quarantaine. Niets ervan is in het datawarehouse geladen. Lever een nieuw "
                "bestand zonder persoonsgegevens aan.",
            ]
        return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    """Escape text for a Markdown table cell and neutralise formula starts."""
    return neutralise_formula(str(text)).replace("|", "\\|").replace("\n", " ")
