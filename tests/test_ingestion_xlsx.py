"""The fast worksheet reader gives exactly what openpyxl gives, and falls back when unsure."""

from __future__ import annotations

import re
import zipfile
from datetime import date, datetime, time
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from test_ingestion_samples import fhd_rows, write_fhd

from dvcc_pipeline.ingestion import validate_file
from dvcc_pipeline.ingestion.xlsx import FORMULA, cell_text, read_sheet

VALUES = [
    "gewone tekst",
    "  spaties rond  ",
    "a & b < c > d \"e\" 'f'",
    "regel 1\nregel 2",
    "ëéß ı 日本",
    "",
    None,
    0,
    -7,
    202407000001,
    99.5,
    1e-7,
    1.5e20,
    True,
    False,
    datetime(2024, 7, 1),
    datetime(2024, 7, 1, 13, 45, 12),
    date(2024, 2, 29),
    time(8, 30),
    "=1+1",
]


def _openpyxl_rows(path: Path, sheet: str) -> list[tuple[int, list[object]]]:
    workbook = load_workbook(path, read_only=True, data_only=False, keep_links=False)
    try:
        ws = workbook[sheet]
        ws.reset_dimensions()
        rows = []
        for number, row in enumerate(ws.iter_rows(), start=1):
            texts = [FORMULA if getattr(c, "data_type", None) == "f" else cell_text(c.value) for c in row]
            if texts:
                rows.append((number, texts))
        return rows
    finally:
        workbook.close()


def _non_empty(rows: list[tuple[int, list[object]]]) -> list[tuple[int, list[object]]]:
    return [(n, r) for n, r in rows if r]


@pytest.mark.parametrize("write_only", [False, True])
def test_fast_reader_matches_openpyxl(tmp_path: Path, write_only: bool) -> None:
    workbook = Workbook(write_only=write_only)
    if not write_only:
        workbook.remove(workbook.active)
    sheet = workbook.create_sheet("Meldingen")
    sheet.append(["kolom A", "kolom B", "kolom C"])
    for i, value in enumerate(VALUES):
        sheet.append([i, value, None if i % 3 else f"x{i}"])
    if not write_only:
        sheet.cell(row=40, column=5, value="ver weg")  # a gap and a cell beyond the header
        sheet.cell(row=41, column=1, value=datetime(1900, 1, 1))
    path = tmp_path / "werkmap.xlsx"
    workbook.save(path)
    fast = read_sheet(path, "Meldingen")
    assert fast is not None, "the fast reader should handle what openpyxl writes"
    assert _non_empty(fast) == _non_empty(_openpyxl_rows(path, "Meldingen"))
    texts = {row[1] for _, row in fast if len(row) > 1}
    assert {"a & b < c > d \"e\" 'f'", "2024-07-01", "99.5", "WAAR", FORMULA} <= texts


def test_fast_reader_reads_the_demo_workbook_like_openpyxl(tmp_path: Path) -> None:
    path = write_fhd(tmp_path, formula_at=(4, "Gemeente"))
    fast = read_sheet(path, "Meldingen")
    assert fast is not None
    assert _non_empty(fast) == _non_empty(_openpyxl_rows(path, "Meldingen"))
    assert fast[3][1][4] is FORMULA and fast[3][0] == 4


def _rewrite_sheet(path: Path, old: bytes, new: bytes) -> None:
    """Replace bytes in every worksheet part of a workbook (a crafted but valid variant)."""
    with zipfile.ZipFile(path) as source:
        parts = {info.filename: source.read(info.filename) for info in source.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data.replace(old, new) if name.startswith("xl/worksheets/") else data)


def test_unusual_xml_falls_back_to_openpyxl_with_the_same_verdict(tmp_path: Path) -> None:
    rows = fhd_rows(10)
    path = write_fhd(tmp_path, rows)
    # A comment inside the sheet data is valid XML the fast reader does not take apart.
    _rewrite_sheet(path, b"</row>", b"</row><!-- opmerking -->")
    assert read_sheet(path, "Meldingen") is None
    receipt = validate_file(path)
    assert receipt.status == "geaccepteerd", receipt.to_markdown()
    assert receipt.rows_total == 10


@pytest.mark.parametrize("fallback", [False, True])
def test_rows_beyond_a_wrong_dimension_are_read(tmp_path: Path, fallback: bool) -> None:
    path = write_fhd(tmp_path, fhd_rows(12))
    with zipfile.ZipFile(path) as source:
        sheet = source.read("xl/worksheets/sheet2.xml")
    dimension = re.search(rb'<dimension ref="[^"]*" ?/>', sheet)
    assert dimension is not None
    _rewrite_sheet(path, dimension.group(0), b'<dimension ref="A1:B3"/>')
    if fallback:
        _rewrite_sheet(path, b"</row>", b"</row><!-- opmerking -->")
    assert (read_sheet(path, "Meldingen") is None) == fallback
    receipt = validate_file(path)
    assert receipt.status == "geaccepteerd", receipt.to_markdown()
    assert receipt.rows_total == 12


def test_formula_in_the_header_row_is_reported(tmp_path: Path) -> None:
    path = write_fhd(tmp_path, fhd_rows(5), formula_at=(1, "Categorie"))
    receipt = validate_file(path)
    assert receipt.status == "afgekeurd"
    formula = next(p for p in receipt.problems if p.code == "formule")
    assert formula.rows == [1]


def test_a_value_far_away_is_left_to_openpyxl(tmp_path: Path) -> None:
    """calamine would hold A1:XFD300000 as one rectangle and abort the process; openpyxl decides."""
    path = write_fhd(tmp_path, fhd_rows(3))
    workbook = load_workbook(path)
    workbook["Meldingen"]["XFD300000"] = "ver weg"
    workbook.save(path)
    assert read_sheet(path, "Meldingen") is None
    receipt = validate_file(path)
    assert receipt.status == "afgekeurd"
    assert [p.code for p in receipt.problems] == ["regelstructuur"]


def test_a_whole_number_beyond_float_precision_keeps_its_digits(tmp_path: Path) -> None:
    rows = fhd_rows(3)
    rows[1]["Meldingnummer"] = 7
    path = write_fhd(tmp_path, rows)
    # openpyxl writes such numbers through a float; another program may write every digit.
    _rewrite_sheet(path, b'<c r="A3" t="n"><v>7</v>', b'<c r="A3" t="n"><v>1234567890123456789</v>')
    assert read_sheet(path, "Meldingen") is None  # calamine would read a float
    workbook = load_workbook(path, read_only=True)
    assert cell_text(workbook["Meldingen"]["A3"].value) == "1234567890123456789"
    workbook.close()


def test_a_formula_under_a_namespace_prefix_is_still_found(tmp_path: Path) -> None:
    path = write_fhd(tmp_path, fhd_rows(5), formula_at=(3, "Gemeente"))
    main = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    _rewrite_sheet(path, main, main + main.replace(b"xmlns=", b" xmlns:x="))
    _rewrite_sheet(path, b"<f>", b"<x:f>")
    _rewrite_sheet(path, b"</f>", b"</x:f>")
    assert read_sheet(path, "Meldingen") is None
    receipt = validate_file(path)
    assert receipt.status == "afgekeurd"
    assert next(p for p in receipt.problems if p.code == "formule").rows == [3]
