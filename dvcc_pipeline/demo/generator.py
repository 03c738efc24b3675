"""Generate the demo deliveries: wave 1 into the landing folders, wave 2 for later.

`dvcc demo` calls :func:`generate` and prints the :class:`GenerationSummary`, including the
designed governance scenarios and the status each file should get from the pipeline.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from dvcc_pipeline import config
from dvcc_pipeline.demo import bank, fraudehelpdesk, police, programma, veiligheidsmonitor
from dvcc_pipeline.demo import calibration as cal
from dvcc_pipeline.demo.municipalities import Gemeente, load_gemeenten
from dvcc_pipeline.demo.writers import csv_rows, write_xlsx

WAVE2_DIR = Path("demo") / "tweede_levering"


class Scenario(NamedTuple):
    """A designed delivery and what the pipeline must do with it."""

    file_name: str
    wave: int
    expected_status: str  # geaccepteerd | geaccepteerd_met_afkeur | afgekeurd | duplicaat | vervangen
    uitleg: str


@dataclass(frozen=True)
class WrittenFile:
    feed_id: str
    wave: int
    path: Path
    rows: int


@dataclass
class GenerationSummary:
    """What was written, per feed, and the scenarios to look for in the receipts."""

    home: Path
    scale: float
    seed: int
    files: list[WrittenFile] = field(default_factory=list)
    scenarios: list[Scenario] = field(default_factory=list)

    def files_per_feed(self) -> dict[str, list[WrittenFile]]:
        out: dict[str, list[WrittenFile]] = {feed: [] for feed in config.FEEDS}
        for item in self.files:
            out[item.feed_id].append(item)
        return out

    def rows_per_feed(self) -> dict[str, int]:
        return {feed: sum(f.rows for f in files) for feed, files in self.files_per_feed().items()}

    @property
    def total_rows(self) -> int:
        return sum(f.rows for f in self.files)


def _scenarios() -> list[Scenario]:
    y, q = police.INVALID_PERIOD
    b, by, bm = bank.INVALID_FILE
    fy, fm = fraudehelpdesk.INVALID_MONTH
    d = bank.DUPLICATE_FILE
    k = bank.WRONG_DELIMITER_FILE
    py, pq = programma.PII_PERIOD
    return [
        Scenario(
            police.file_name(y, q),
            1,
            "geaccepteerd_met_afkeur",
            "6 ongeldige rijen (onbekende waarde, ongeldige datum, negatief bedrag, "
            "onbekende gemeentecode, pleegdatum na registratiedatum) worden uitgesloten",
        ),
        Scenario(
            bank.file_name(b, by, bm),
            1,
            "geaccepteerd_met_afkeur",
            "4 ongeldige rijen (onbekend fraudetype, ongeldige datum, negatief bedrag, "
            "vergoed_bedrag hoger dan schadebedrag) worden uitgesloten",
        ),
        Scenario(
            fraudehelpdesk.file_name(fy, fm),
            1,
            "geaccepteerd_met_afkeur",
            "4 ongeldige rijen (gemeente 'Amsterdam' onbekend, onbekende categorie, negatief "
            "schadebedrag, onbekende leeftijd); schrijfwijzen als '  utrecht ' en 'De  Bilt' "
            "zijn geldig",
        ),
        Scenario(
            police.file_name(2024, 2),
            1,
            "vervangen",
            "eerste levering mist ~3% van de rijen en heeft enkele verkeerde labels; "
            "wordt in zijn geheel vervangen door _v2",
        ),
        Scenario(
            police.file_name(2024, 2, 2),
            2,
            "geaccepteerd",
            "gecorrigeerde levering vervangt het kwartaal 2024Q2 volledig",
        ),
        Scenario(
            bank.file_name(*d),
            2,
            "duplicaat",
            "exact dezelfde bestandsnaam en bytes als in de eerste levering: niet opnieuw geladen",
        ),
        Scenario(bank.file_name(*k), 1, "afgekeurd", "verkeerd scheidingsteken (',' in plaats van ';'): bestandsfout"),
        Scenario(bank.file_name(*k, 2), 2, "geaccepteerd", "correcte herlevering van KNAB februari 2025"),
        Scenario(
            programma.file_name(py, pq),
            1,
            "afgekeurd",
            "omschrijving bevat een mobiel telefoonnummer en een e-mailadres: "
            "persoonsgegevens, bestand naar de afgeschermde quarantaine",
        ),
        Scenario(
            programma.file_name(py, pq, 2),
            2,
            "geaccepteerd",
            "schone herlevering; deze telt mee voor de voortgang van het programma",
        ),
        Scenario(
            police.file_name(2025, 1),
            1,
            "afgekeurd",
            "extra kolom 'bsn' met burgerservicenummers: kolomfout en persoonsgegevens",
        ),
        Scenario(police.file_name(2025, 1, 2), 2, "geaccepteerd", "correcte herlevering van politie 2025Q1 zonder bsn"),
    ]


def demo_reference_date() -> date:
    """The demo's own "today": the first day a delivery of its last year's data falls due.

    The demo's data ends with 2024; on the wall's clock every later period would look
    overdue, so the freshness check counts from this day instead.
    """
    from dvcc_pipeline.contracts import load_contract

    days = min(load_contract(feed_id).sla.due_days_after_period_end for feed_id in config.FEEDS)
    return date(max(cal.YEARS), 12, 31) + timedelta(days=days)


def generate(home: Path, scale: float = 1.0, seed: int = 2025, *, scenarios: bool = True) -> GenerationSummary:
    """Write all demo deliveries for DVCC_HOME `home`; same seed and scale -> same bytes.

    With ``scenarios=False`` only clean, final deliveries are written (no designed bad files,
    invalid rows or second wave), so a plain reader of the files sees exactly the rows the
    pipeline accepts: the benchmark compares the two on that.
    """
    if scale <= 0:
        raise ValueError("scale moet groter dan 0 zijn")
    gemeenten = load_gemeenten()
    landing = home / "landing"
    wave2_root = home / WAVE2_DIR
    if wave2_root.exists():
        shutil.rmtree(wave2_root)
    summary = GenerationSummary(home=home, scale=scale, seed=seed, scenarios=_scenarios() if scenarios else [])
    home.mkdir(parents=True, exist_ok=True)
    (home / config.REFERENCE_DATE_FILE).write_text(f"{demo_reference_date().isoformat()}\n", encoding="utf-8")
    if not scenarios:
        summary.files = _write_clean(landing, scale, seed, gemeenten)
        return summary

    def record(feed_id: str, written: list[tuple[Path, int]]) -> None:
        for path, rows in written:
            wave = 2 if wave2_root in path.parents else 1
            summary.files.append(WrittenFile(feed_id, wave, path, rows))

    def dirs(feed_id: str) -> tuple[Path, Path]:
        return landing / feed_id, wave2_root / feed_id

    for year in cal.YEARS:
        for quarter in range(1, 5):
            record(police.FEED_ID, police.write_quarter(*dirs(police.FEED_ID), year, quarter, scale, seed, gemeenten))
    for year in cal.YEARS:
        for month in range(1, 13):
            for code in bank.BANK_SHARES:
                record(bank.FEED_ID, bank.write_month(*dirs(bank.FEED_ID), code, year, month, scale, seed, gemeenten))
    for year in cal.YEARS:
        for month in range(1, 13):
            record(
                fraudehelpdesk.FEED_ID,
                fraudehelpdesk.write_month(dirs(fraudehelpdesk.FEED_ID)[0], year, month, scale, seed, gemeenten),
            )
    for year in cal.VM_YEARS:
        record(
            veiligheidsmonitor.FEED_ID,
            veiligheidsmonitor.write_year(dirs(veiligheidsmonitor.FEED_ID)[0], year, seed, gemeenten),
        )
    for year in cal.YEARS:
        record(programma.FEED_ID, programma.write_year(*dirs(programma.FEED_ID), year, seed, gemeenten))
    return summary


def _write_clean(landing: Path, scale: float, seed: int, gemeenten: tuple[Gemeente, ...]) -> list[WrittenFile]:
    """Every period once, in its final valid form: the rows the scenarios' corrections converge to."""
    written: list[WrittenFile] = []

    def csv_file(feed_id: str, path: Path, header: tuple[str, ...], rows: Iterable[list[str]], **fmt: Any) -> None:
        count = 0
        with csv_rows(path, header, **fmt) as writer:
            for row in rows:
                writer.writerow(row)
                count += 1
        written.append(WrittenFile(feed_id, 1, path, count))

    police_dir = landing / police.FEED_ID
    for year in cal.YEARS:
        for quarter in range(1, 5):
            rows = police.police_rows(year, quarter, scale, seed, gemeenten)
            csv_file(police.FEED_ID, police_dir / police.file_name(year, quarter), police.HEADER, rows)
    bank_dir = landing / bank.FEED_ID
    for year in cal.YEARS:
        for month in range(1, 13):
            for code in bank.BANK_SHARES:
                rows = bank.bank_rows(code, year, month, scale, seed, gemeenten)
                path = bank_dir / bank.file_name(code, year, month)
                csv_file(bank.FEED_ID, path, bank.HEADER, rows, delimiter=";", bom=True, crlf=True)
    fhd_dir = landing / fraudehelpdesk.FEED_ID
    for year in cal.YEARS:
        for month in range(1, 13):
            path = fhd_dir / fraudehelpdesk.file_name(year, month)
            rows = fraudehelpdesk.fhd_rows(year, month, scale, seed, gemeenten)
            sheets = [
                (fraudehelpdesk.SHEET, fraudehelpdesk.HEADER, rows),
                ("Toelichting", ("Onderwerp", "Toelichting"), fraudehelpdesk.TOELICHTING),
            ]
            written.append(WrittenFile(fraudehelpdesk.FEED_ID, 1, path, write_xlsx(path, sheets)))
    vm_dir = landing / veiligheidsmonitor.FEED_ID
    for year in cal.VM_YEARS:
        for path, rows in veiligheidsmonitor.write_year(vm_dir, year, seed, gemeenten):
            written.append(WrittenFile(veiligheidsmonitor.FEED_ID, 1, path, rows))
    programma_dir = landing / programma.FEED_ID
    programma_files: dict[Path, int] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for year in cal.YEARS:
            for path, rows in programma.write_year(programma_dir, Path(scratch), year, seed, gemeenten):
                if path.parent != programma_dir:  # the clean re-delivery takes the first one's place
                    path = path.replace(programma_dir / re.sub(r"_v[0-9]+(?=\.csv$)", "", path.name))
                programma_files[path] = rows
    written += [WrittenFile(programma.FEED_ID, 1, path, rows) for path, rows in programma_files.items()]
    return written
