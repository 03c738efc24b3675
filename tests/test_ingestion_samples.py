"""Tiny valid sample deliveries per feed, built in the test's tmp_path (and their tests).

Other ingestion tests import these builders and corrupt the result in one specific way.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from dvcc_pipeline.contracts import load_contract
from dvcc_pipeline.ingestion import validate_file

POLICE = "politie_registraties"
BANK = "bank_fraudemeldingen"
FHD = "fraudehelpdesk_meldingen"
VM = "veiligheidsmonitor"
PROGRAMME = "programma_registraties"


def header(feed_id: str) -> list[str]:
    return load_contract(feed_id).column_names


def police_rows(n: int = 20, month: int = 7) -> list[dict[str, str]]:
    codes = ["GM0344", "GM0307", "GM0034", "GM0355"]
    return [
        {
            "registratie_id": f"P{i:016X}",
            "registratiedatum": date(2024, month, 1 + i % 28).isoformat(),
            "pleegdatum": date(2024, month - 1, 1 + i % 28).isoformat() if i % 3 else "",
            "soort_registratie": "aangifte" if i % 2 else "melding",
            "maatschappelijke_klasse": "F600",
            "classificatie": "MK2024",
            "online_kenmerk": "gedigitaliseerd",
            "modus_operandi": "helpdesk",
            "gemeentecode": codes[i % len(codes)],
            "slachtoffer_type": "persoon",
            "leeftijdsklasse": "25-44",
            "schadebedrag_eur": f"{100 + i}.50",
            "verdachte_bekend": "N",
            "doorgestuurd_om": "J" if i % 5 == 0 else "N",
        }
        for i in range(n)
    ]


def bank_rows(n: int = 20, bank: str = "RABO") -> list[dict[str, str]]:
    return [
        {
            "melding_id": f"{bank}-{i:08d}",
            "bank": bank,
            "meldingsdatum": f"{1 + i % 28:02d}-07-2024",
            "fraudetype": "phishing",
            "kanaal": "sms",
            "gemeentecode": "GM0344",
            "klanttype": "particulier",
            "leeftijdsklasse": "65+",
            "schadebedrag": f"{250 + i},75",
            "vergoed_bedrag": "100,00" if i % 2 else "",
            "aangifte_gedaan": "nee",
        }
        for i in range(n)
    ]


def fhd_rows(n: int = 20) -> list[dict[str, object]]:
    names = ["Utrecht", "De Bilt", "Amersfoort", "Zeist"]
    return [
        {
            "Meldingnummer": 1000 + i,
            "Datum melding": datetime(2024, 7, 1 + i % 28),
            "Soort melding": "Slachtoffer",
            "Categorie": "Phishing",
            "Gemeente": names[i % len(names)],
            "Leeftijd": "45-64",
            "Contactkanaal": "E-mail",
            "Schade": "Ja" if i % 2 else "Nee",
            "Schadebedrag": 99.5 + i if i % 2 else None,
        }
        for i in range(n)
    ]


def vm_rows(year: int = 2023) -> list[dict[str, str]]:
    rows = []
    for regio, value in (("GM0344", "12.5"), ("GM0184", "."), ("RE03", "11.9")):
        for marge, shift in (("MW00000", 0.0), ("MOG0095", -1.0), ("MBG0095", 1.0)):
            if value == "." and marge != "MW00000":
                continue
            shown = value if value == "." else f"{float(value) + shift:.1f}"
            rows.append({"RegioS": regio, "Marges": marge, "Onderwerp": "slachtoffer_online_fraude", "Waarde": shown})
        rows.append({"RegioS": regio, "Marges": "MW00000", "Onderwerp": "respondenten", "Waarde": "812"})
    return [
        {
            "ID": str(i),
            "RegioS": r["RegioS"],
            "Perioden": f"{year}JJ00",
            "Marges": r["Marges"],
            "Onderwerp": r["Onderwerp"],
            "Waarde": r["Waarde"],
        }
        for i, r in enumerate(rows)
    ]


def programme_rows(n: int = 10) -> list[dict[str, str]]:
    gebied = [
        ("gemeente", "GM0344"),
        ("basisteam", "Heuvelrug"),
        ("district", "Oost-Utrecht"),
        ("regio", "Midden-Nederland"),
    ]
    return [
        {
            "registratie_id": f"DVCC-2024-{i:04d}",
            "datum": date(2024, 7, 1 + i % 28).isoformat(),
            "actie": str(1 + i % 11),
            "activiteit": "kennisbijeenkomst",
            "niveau": gebied[i % 4][0],
            "gebied": gebied[i % 4][1],
            "aantal": "3",
            "omschrijving": "Bijeenkomst over phishing voor ouderen",
        }
        for i in range(n)
    ]


def csv_bytes(
    columns: list[str],
    rows: list[dict[str, object]],
    delimiter: str = ",",
    bom: bool = False,
    crlf: bool = False,
    quote_all: bool = False,
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
        delimiter=delimiter,
        lineterminator="\r\n" if crlf else "\n",
        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
    )
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return (b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode("utf-8")


def write_police(
    folder: Path,
    rows: list[dict[str, str]] | None = None,
    name: str = "politie_registraties_2024Q3.csv",
    **kwargs: object,
) -> Path:
    path = folder / name
    path.write_bytes(csv_bytes(header(POLICE), police_rows() if rows is None else rows, **kwargs))
    return path


def write_bank(
    folder: Path, rows: list[dict[str, str]] | None = None, name: str = "bank_RABO_2024-07.csv", bom: bool = True
) -> Path:
    path = folder / name
    data = bank_rows() if rows is None else rows
    path.write_bytes(csv_bytes(header(BANK), data, delimiter=";", bom=bom, crlf=True))
    return path


def write_fhd(
    folder: Path,
    rows: list[dict[str, object]] | None = None,
    name: str = "fhd_meldingen_2024-07.xlsx",
    sheet: str = "Meldingen",
    formula_at: tuple[int, str] | None = None,
) -> Path:
    workbook = Workbook()
    info = workbook.active
    info.title = "Toelichting"
    info.append(["Levering Fraudehelpdesk"])
    sheet_ws = workbook.create_sheet(sheet)
    columns = header(FHD)
    sheet_ws.append(columns)
    for row in fhd_rows() if rows is None else rows:
        sheet_ws.append([row.get(c) for c in columns])
    if formula_at is not None:
        row_number, column = formula_at
        sheet_ws.cell(row=row_number, column=columns.index(column) + 1, value="=1+1")
    path = folder / name
    workbook.save(path)
    return path


def write_vm(folder: Path, rows: list[dict[str, str]] | None = None, name: str = "veiligheidsmonitor_2023.csv") -> Path:
    path = folder / name
    path.write_bytes(csv_bytes(header(VM), vm_rows() if rows is None else rows, delimiter=";", quote_all=True))
    return path


def write_programme(
    folder: Path, rows: list[dict[str, str]] | None = None, name: str = "programma_registraties_2024Q3.csv"
) -> Path:
    path = folder / name
    path.write_bytes(csv_bytes(header(PROGRAMME), programme_rows() if rows is None else rows))
    return path


@pytest.mark.parametrize(
    ("writer", "rows"),
    [(write_police, 20), (write_bank, 20), (write_fhd, 20), (write_vm, 10), (write_programme, 10)],
)
def test_every_sample_is_accepted(tmp_path: Path, writer, rows: int) -> None:
    receipt = validate_file(writer(tmp_path))
    assert receipt.status == "geaccepteerd", receipt.to_markdown()
    assert (receipt.rows_total, receipt.rows_accepted, receipt.exit_code) == (rows, rows, 0)


def test_bank_file_without_bom_is_still_accepted(tmp_path: Path) -> None:
    receipt = validate_file(write_bank(tmp_path, bom=False))
    assert receipt.status == "geaccepteerd", receipt.to_markdown()
