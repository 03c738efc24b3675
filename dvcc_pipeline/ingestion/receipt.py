"""The receipt every delivered file gets: what happened to it and why, in Dutch."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# How a file name reads in a receipt; re-exported for the door, which names files the same way.
from dvcc_pipeline.runtime.errors import display_name as display_name

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
INCOMPLETE = "onvolledig"
"""A CSV cut off at its end (a stalled or broken upload); see `completeness`."""

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


def quoted(value: object, limit: int = 40) -> str:
    """A partner value inside a sentence, in single quotes exactly once (`'-250.00'`).

    Inside a sentence no formula guard is needed (the sentence does not start with the value),
    so the value is shown as delivered, only shortened and kept on one line.
    """
    text = str(value).replace("\r", " ").replace("\n", " ").replace("`", "'")
    return f"'{text[:limit] + '…' if len(text) > limit else text}'"


def plural(count: int, one: str, many: str) -> str:
    """`1 rij`, `2 rijen`: Dutch singular or plural with the number."""
    return f"{count} {one if count == 1 else many}"


def shown_names(names: list[str], limit: int = 5) -> str:
    """The first few of a list of names, and how many more: `a, b, c en nog 4`."""
    more = f" en nog {len(names) - limit}" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


_VERSION_SUFFIX = re.compile(r"_v[0-9]+$")


def version_name(file_name: str, version: int) -> str:
    """The name of version `version` of a delivery: `politie_registraties_2024Q3_v2.csv`."""
    stem, dot, extension = file_name.rpartition(".")
    if not dot:
        stem, extension = file_name, ""
    stem = _VERSION_SUFFIX.sub("", stem)
    return f"{stem}_v{version}" + (f".{extension}" if extension else "")


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
    """When the intake took the file (the private copy)."""
    processed_at: str | None = None
    arrived_at: str | None = None
    """When the file was last written in its drop folder: the partner's upload, before the settle window."""
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

    @classmethod
    def from_record(cls, record: Mapping[str, Any], **overrides: Any) -> Receipt:
        """The receipt of a stored record: a ledger row or a receipt's JSON (the keys of `to_dict`).

        The ledger holds problems as JSON text and timestamps as TIMESTAMP, the JSON file a list
        and ISO text; both read the same. `overrides` set what the caller knows better (the
        status when received, a path inside this home)."""
        problems = record.get("problemen") or []
        if isinstance(problems, str):
            problems = json.loads(problems)
        fields: dict[str, Any] = {
            "delivery_id": record["levering_id"],
            "feed_id": record["feed"],
            "file_name": record["bestandsnaam"],
            "period": record["periode"],
            "supplier": record["leverancier"],
            "version": record["versie"],
            "sha256": record["sha256"],
            "contract_version": record["contractversie"],
            "status": record["status"],
            "rows_total": record["rijen_totaal"] or 0,
            "rows_accepted": record["rijen_geaccepteerd"] or 0,
            "rows_rejected": record["rijen_afgekeurd"] or 0,
            "problems": [_problem(p) for p in problems],
            "archive_path": Path(record["archiefpad"]) if record.get("archiefpad") else None,
            "receipt_path": Path(record["ontvangstbewijs"]) if record.get("ontvangstbewijs") else None,
            "received_at": _iso(record.get("ontvangen_op")),
            "processed_at": _iso(record.get("verwerkt_op")),
            "arrived_at": _iso(record.get("aangekomen_op")),
            "partner": record.get("partner"),
        }
        return cls(**{**fields, **overrides})

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
            "archiefpad": _home_relative(self.archive_path),
            "ontvangstbewijs": _home_relative(self.receipt_path),
            "aangekomen_op": self.arrived_at,
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
            f"- Periode: {_md_or_dash(self.period)}, leverancier: {_md_or_dash(self.supplier)}, "
            f"versie: {self.version if self.version is not None else '-'}",
            f"- Contractversie: {_md_or_dash(self.contract_version)}",
            f"- SHA-256: {self.sha256 or '-'}",
            f"- Rijen: {self.rows_total} totaal, {self.rows_accepted} geaccepteerd, {self.rows_rejected} afgekeurd"
            + (" (het hele bestand)" if self.status == REJECTED and self.rows_total else ""),
        ]
        if self.processed_at:
            arrived = f" (aangekomen op {self.arrived_at})" if self.arrived_at else ""
            lines.append(f"- Verwerkt op: {self.processed_at}{arrived}")
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
                count = str(p.count) if p.count else "hele bestand"
                lines.append(
                    f"| {_md(p.code)} | {_md(p.column) if p.column else '-'} | {_md(p.message)} | {rows} | {count} |"
                )
        else:
            lines.append("Geen bevindingen.")
        if self.restricted:
            lines += [
                "",
                "Het bestand bevat vermoedelijk persoonsgegevens en is apart gezet in de beperkte "
                "quarantaine. Niets ervan is in het datawarehouse geladen.",
            ]
        lines += ["", "## Wat nu?", "", self.next_step()]
        return "\n".join(lines) + "\n"

    def next_step(self) -> str:
        """What the partner should do now, in words, with the exact name of the next delivery."""
        codes = {p.code for p in self.problems}
        if self.status == DUPLICATE:
            return "Niets: dit bestand was al ontvangen en verwerkt."
        if self.status == REPLACED:
            return "Niets: een latere versie van dit bestand vervangt deze levering."
        if self.version is None:  # the name says nothing: no version to count on
            if "onbekende_bestandsnaam" in codes or UNKNOWN_FOLDER in codes:
                return "Geef het bestand een naam zoals hierboven beschreven en lever het opnieuw aan."
            return "Lever het bestand opnieuw aan als gewoon bestand met een naam zoals hierboven beschreven."
        if "versie_niet_hoger" in codes:
            return "Lever de correctie aan onder de naam die hierboven staat (een hoger versienummer)."
        name = f"`{_md(version_name(self.file_name, self.version + 1))}`"
        if self.status == ACCEPTED:
            return f"Niets. Wilt u later iets corrigeren: lever dan het hele bestand opnieuw als {name}."
        if self.status == ACCEPTED_WITH_REJECTS:
            return (
                f"De geaccepteerde rijen zijn geladen; de afgekeurde rijen niet. Herstel die rijen en lever "
                f"het hele bestand opnieuw als {name}: die versie vervangt deze levering volledig."
            )
        if INCOMPLETE in codes:
            return (
                f"Lever het hele bestand opnieuw aan, onder dezelfde naam `{_md(self.file_name)}`: upload het "
                "onder een tijdelijke naam (eindigend op .part) en hernoem het pas als de upload klaar is. "
                "Er is niets van dit bestand geladen."
            )
        if self.restricted or "persoonsgegevens" in codes:
            fix = "Haal de persoonsgegevens uit het bestand (de kolommen hierboven)"
        elif "scheidingsteken" in codes:
            fix = "Sla het bestand op met het scheidingsteken dat het contract vraagt (zie hierboven)"
        elif "drempel_overschreden" in codes:
            fix = "Herstel de ongeldige rijen (zie de bevindingen)"
        elif "interne_fout" in codes:
            return "Niets: het datateam zoekt de fout uit en neemt contact met u op."
        else:
            fix = "Herstel wat hierboven staat"
        return f"{fix} en lever het hele bestand opnieuw aan als {name}. Er is niets van dit bestand geladen."


def _problem(stored: Mapping[str, Any]) -> Problem:
    rows = list(stored.get("eerste_rijen") or [])
    return Problem(stored["code"], stored.get("kolom"), stored["melding"], rows, stored.get("aantal") or 0)


def _iso(value: object) -> str | None:
    """A stored timestamp as ISO text (a TIMESTAMP reads back with a space)."""
    return str(value).replace(" ", "T") if value else None


def _home_relative(path: Path | None) -> str | None:
    """A stored path relative to DVCC_HOME, so a receipt never shows the server's folders."""
    if path is None:
        return None
    from dvcc_pipeline.config import get_settings

    try:
        return Path(path).resolve().relative_to(get_settings().home.resolve()).as_posix()
    except ValueError:  # outside DVCC_HOME: only the name
        return Path(path).name


def _md_or_dash(text: str | None) -> str:
    """A value, or `-` when there is none (the dash is ours: no formula guard for it)."""
    return _md(text) if text else "-"


def _md(text: str) -> str:
    """Escape text for a Markdown table cell and neutralise formula starts."""
    return neutralise_formula(str(text)).replace("|", "\\|").replace("\n", " ")
