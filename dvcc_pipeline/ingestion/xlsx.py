"""One worksheet of an .xlsx file as cell texts, formulas detected and never evaluated.

The cells are read by calamine (Rust, `python-calamine`), which gives each cell's typed value
(text, number, date, boolean) but neither says whether a cell holds a formula (it returns the
value Excel cached) nor which empty cells the sheet lists. So the sheet XML is also scanned as
bytes, without parsing it: every `<f` start tag marks its cell as a formula, and every
self-closing cell (an empty string, a formatted empty cell) keeps its place in its row, so the
rows are what openpyxl (read-only, data_only=False) gives.

That byte scan is exact only for plain SpreadsheetML: the default namespace (declared once), UTF-8, no
comments, CDATA or DTD (an entity could hide a formula from the scan), and a reference (`r`)
on every cell it marks. For anything else, and for a whole number too long for a float,
`read_sheet` returns None and the caller reads the sheet with openpyxl, which then decides.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from xml.etree import ElementTree

FORMULA = object()  # marks a cell that holds a formula
SHEET_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_DOC_RELS_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_ROOT = re.compile(rb"<worksheet\b[^>]*>")
_DECLARED = re.compile(rb"<\?xml[^>]*?encoding=[\"']([^\"']*)[\"']")
_TAG_NAME = re.compile(rb"<([^\s/>]+)")
_CELL_REF = re.compile(rb"\sr\s*=\s*[\"']([A-Z]{1,3})([0-9]+)[\"']")
_LONG_INTEGER = re.compile(rb"<v>\s*-?[0-9]{16,}\s*</v>")
_ROW_REF = re.compile(rb'<row r="([0-9]+)"')
_TWO_LETTER_REF = re.compile(rb' r="[A-Z]{2}')
_THREE_LETTER_REF = re.compile(rb' r="[A-Z]{3}')
# calamine holds the sheet as one rectangle from A1 and aborts the process when it cannot
# allocate it (one stray value in XFD1048576 is enough); beyond this openpyxl reads row by row.
_MAX_CELLS = 5_000_000
_EXACT_FLOAT = float(2**53)  # beyond this a whole number may not be what the file wrote


class _Unsupported(Exception):
    """The workbook uses something the byte scan does not handle; use openpyxl instead."""


def cell_text(value: object) -> str | None:
    """An Excel cell value as the text a CSV export would hold."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "WAAR" if value else "ONWAAR"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else format(value, ".15g")
    return str(value)


def _sheet_part(archive: zipfile.ZipFile, sheet_name: str) -> str:
    """The zip path of the named worksheet, via the package and workbook relationships."""

    def tree(part: str) -> ElementTree.Element:
        data = archive.read(part)
        if b"<!" in data:  # a DTD: let openpyxl's parser decide
            raise _Unsupported(part)
        return ElementTree.fromstring(data)

    def target(rels_part: str, base: str, match: str, attribute: str = "Type") -> list[str]:
        found = []
        for rel in tree(rels_part).iter(f"{_RELS_NS}Relationship"):
            if rel.get(attribute, "") == match or (attribute == "Type" and rel.get("Type", "").endswith(match)):
                ref = rel.get("Target", "")
                found.append(ref.lstrip("/") if ref.startswith("/") else posixpath.normpath(posixpath.join(base, ref)))
        return found

    workbooks = target("_rels/.rels", "", "/officeDocument")
    if len(workbooks) != 1:
        raise _Unsupported("workbook part")
    folder, name = posixpath.split(workbooks[0])
    ids = [
        sheet.get(f"{_DOC_RELS_NS}id", "")
        for sheet in tree(workbooks[0]).iter(f"{{{SHEET_MAIN_NS}}}sheet")
        if sheet.get("name") == sheet_name
    ]
    if len(ids) != 1:
        raise _Unsupported("sheet name")
    parts = target(posixpath.join(folder, "_rels", f"{name}.rels"), folder, ids[0], "Id")
    if len(parts) != 1 or not parts[0].startswith(posixpath.join(folder, "worksheets", "")):
        raise _Unsupported("sheet part")  # e.g. a chartsheet
    return parts[0]


def _column_index(letters: bytes) -> int:
    index = 0
    for byte in letters:
        index = index * 26 + byte - 64
    return index


def _cell_at(xml: bytes, position: int, start: int) -> tuple[int, int]:
    """(row, column), 1-based, of the `<c>` element that holds the byte at `position`."""
    opening = max(xml.rfind(b"<c ", start, position), xml.rfind(b"<c>", start, position))
    if opening < 0 or xml.find(b"</c>", opening, position) >= 0:
        raise _Unsupported("mark outside a cell")
    reference = _CELL_REF.search(xml, opening, xml.find(b">", opening) + 1)
    if reference is None:
        raise _Unsupported("cell without reference")
    return int(reference.group(2)), _column_index(reference.group(1))


def _scan(archive: zipfile.ZipFile, part: str) -> tuple[set[tuple[int, int]], set[tuple[int, int]], bytes]:
    """The formula cells and self-closing cells of the sheet, and its XML."""
    xml = archive.read(part)
    start = xml.find(b"<sheetData")
    if start < 0:
        raise _Unsupported("no sheetData")
    head = xml[:start].lstrip(b"\xef\xbb\xbf")
    declared = _DECLARED.match(head)
    if declared and declared.group(1).lower() not in (b"utf-8", b"utf8"):
        raise _Unsupported("encoding")
    root = _ROOT.search(head)
    if root is None or f'xmlns="{SHEET_MAIN_NS}"'.encode() not in root.group(0):
        raise _Unsupported("namespace")
    if xml.count(SHEET_MAIN_NS.encode()) != 1:  # declared again, perhaps as a prefix: `<x:f>`
        raise _Unsupported("namespace declared again")
    if xml.find(b"<!", 0) >= 0:  # comment, CDATA or DTD
        raise _Unsupported("markup declaration")
    end = xml.find(b"</sheetData>", start)
    end = len(xml) if end < 0 else end
    _check_size(xml, start, end)
    formulas: set[tuple[int, int]] = set()
    position = xml.find(b"<f", start, end)
    while position >= 0:
        if xml[position + 2 : position + 3] in (b" ", b">", b"/", b"\t", b"\n", b"\r"):
            formulas.add(_cell_at(xml, position, start))
        position = xml.find(b"<f", position + 2, end)
    empty: set[tuple[int, int]] = set()
    position = xml.find(b"/>", start, end)
    while position >= 0:
        tag = _TAG_NAME.match(xml, xml.rfind(b"<", start, position))
        name = tag.group(1) if tag else b""
        if name not in (b"row", b"sheetData", b"f"):
            empty.add(_cell_at(xml, position, start))
        position = xml.find(b"/>", position + 2, end)
    return formulas, empty, xml


def _check_size(xml: bytes, start: int, end: int) -> None:
    """Refuse a sheet whose rectangle from A1 to its last row and column is too large."""
    numbers = _ROW_REF.findall(xml, start, end)
    if len(numbers) != xml.count(b"<row", start, end):
        raise _Unsupported("row without a leading reference")
    columns = 26
    if _TWO_LETTER_REF.search(xml, start, end):
        columns = 16_384 if _THREE_LETTER_REF.search(xml, start, end) else 702
    if max(map(int, numbers), default=0) * columns > _MAX_CELLS:
        raise _Unsupported("sheet too large for one rectangle")


class _Texts:
    """calamine values as `cell_text` gives openpyxl's values; '' is an empty cell."""

    def __init__(self, xml: bytes):
        self.xml = xml
        self.long_integers: bool | None = None  # does the XML write a whole number of 16+ digits?

    def __call__(self, cells: list[object]) -> list[object]:
        texts: list[object] = []
        for value in cells:
            kind = type(value)
            if kind is str:
                texts.append(value or None)
            elif kind is float:
                texts.append(self._number(value))  # type: ignore[arg-type]
            elif kind is date:
                texts.append(value.isoformat())  # type: ignore[attr-defined]
            elif isinstance(value, timedelta):  # a duration; openpyxl gives the same timedelta
                texts.append(str(value))
            else:
                texts.append(cell_text(value))
        return texts

    def _number(self, value: float) -> str:
        if not value.is_integer():
            return format(value, ".15g")
        if abs(value) >= _EXACT_FLOAT:
            if self.long_integers is None:
                self.long_integers = _LONG_INTEGER.search(self.xml) is not None
            if self.long_integers:
                raise _Unsupported("whole number beyond float precision")
        return str(int(value))


def _rows(values: list[list[object]], formulas: set[tuple[int, int]], empty: set[tuple[int, int]], xml: bytes):
    """(row number, cell texts with FORMULA for formula cells), rows without cells left out."""
    marks: dict[int, dict[int, object]] = {}
    for row, column in empty:
        marks.setdefault(row, {})[column] = None
    for row, column in formulas:
        marks.setdefault(row, {})[column] = FORMULA
    to_texts = _Texts(xml)
    rows: list[tuple[int, list[object]]] = []
    for number in range(1, max(len(values), max(marks, default=0)) + 1):
        texts = to_texts(values[number - 1]) if number <= len(values) else []
        while texts and texts[-1] is None:
            texts.pop()
        for column, mark in marks.get(number, {}).items():
            if column > len(texts):
                texts.extend([None] * (column - len(texts)))
            if mark is FORMULA or texts[column - 1] is None:
                texts[column - 1] = mark
        if texts:
            rows.append((number, texts))
    return rows


def read_sheet(path: Path, sheet_name: str) -> list[tuple[int, list[object]]] | None:
    """All rows of the named worksheet, or None when openpyxl must read this workbook."""
    from python_calamine import CalamineWorkbook

    try:
        with zipfile.ZipFile(path) as archive:
            formulas, empty, xml = _scan(archive, _sheet_part(archive, sheet_name))
        workbook = CalamineWorkbook.from_path(str(path))
        try:
            values = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
        finally:
            workbook.close()
        return _rows(values, formulas, empty, xml)
    except Exception:  # anything unusual: openpyxl reads the file and reports what it finds
        return None
    except BaseException as exc:  # pyo3 turns a panic in calamine into this BaseException
        if type(exc).__name__ == "PanicException":
            return None
        raise
