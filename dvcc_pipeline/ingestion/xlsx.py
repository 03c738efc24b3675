"""Fast reading of one worksheet of an .xlsx file, formulas detected and never evaluated.

openpyxl (read-only) spends most of its time building a cell object per value and, for a
sheet without a `<dimension>`, parses the whole sheet once more just to size it. Here the
workbook parts (manifest, workbook, styles, shared strings) are still read by openpyxl, so
names, date formats and shared strings mean exactly what they mean there, but the sheet
XML itself is tokenised with regular expressions, streamed from the zip in chunks.

Only the plain SpreadsheetML that spreadsheet programs write is accepted: cells with
`<v>`, `<f>` and simple inline strings, no namespace prefixes, comments or CDATA. For
anything else `read_sheet` returns None and the caller reads the sheet with openpyxl,
which then decides (the same values, slower).
"""

from __future__ import annotations

import codecs
import re
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path

FORMULA = object()  # marks a cell that holds a formula
SHEET_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_CHUNK = 1 << 22

_ATTRS = r'((?:\s+[\w:.-]+="[^"<&]*")*)\s*'
# Cells in the usual attribute order (r, s, t) are taken apart by the pattern itself; any
# other attribute lands in the "more" group and the attributes are then read one by one.
_TOKEN = re.compile(
    r'<c(?: r="([A-Z]{1,3})([0-9]+)")?(?: s="([1-9][0-9]*|0)")?(?: t="([A-Za-z]+)")?'
    rf"{_ATTRS}(?:/>|>(?:(<v>[^<&\r]*)</v>|<is>(<t>[^<&\r]*)</t></is>|(.*?))</c>)"
    rf'|(<row)(?: r="([0-9]+)")?{_ATTRS}(/?)>'
    r"|(</row>)"
    r"|(\S)",
    re.S,
)
_ATTR = re.compile(r'([\w:.-]+)="([^"]*)"')
_CONTENT = re.compile(
    r"(?:<f\b[^>]*?(?:/>|>[^<]*</f>))?(?:<v>(?P<v>[^<]*)</v>|<v/>)?"
    r'|<is>(?:<t(?: xml:space="preserve")?>(?P<t>[^<]*)</t>|<t/>)</is>'
    r"|<is/>",
    re.S,
)
_FORMULA_TAG = re.compile(r"<f[\s/>]")
_ENTITY = re.compile(r"&(#[0-9]+|#x[0-9A-Fa-f]+|amp|lt|gt|quot|apos);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_DIGITS = "0123456789"


class _Unsupported(Exception):
    """The sheet uses XML this reader does not handle; use openpyxl instead."""


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


def _unescape(text: str) -> str:
    """XML character data as a parser reports it: line ends normalised, references resolved."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "&" not in text:
        return text
    if "&" in _ENTITY.sub("", text):
        raise _Unsupported("entity")

    def resolve(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("#x"):
            return chr(int(name[2:], 16))
        if name.startswith("#"):
            return chr(int(name[1:]))
        return _NAMED[name]

    return _ENTITY.sub(resolve, text)


def _column_index(letters: str, cache: dict[str, int]) -> int:
    index = cache.get(letters)
    if index is None:
        if not letters.isascii() or not letters.isalpha() or not letters.isupper() or len(letters) > 3:
            raise _Unsupported("cell reference")
        index = 0
        for ch in letters:
            index = index * 26 + ord(ch) - 64
        cache[letters] = index
    return index


class _Converter:
    """Cell values exactly as openpyxl's WorkSheetParser (data_only=False) produces them."""

    def __init__(self, shared_strings: list[str], date_styles: set[int], timedelta_styles: set[int], epoch: datetime):
        self.shared_strings = shared_strings
        self.date_styles = date_styles
        self.timedelta_styles = timedelta_styles
        self.epoch = epoch
        self.date_style_texts = {str(s) for s in date_styles}
        self.cache: dict[tuple[str, str, str], str | None] = {}

    def text(self, kind: str, style: str, raw: str) -> str | None:
        if kind == "n" and raw.isdigit() and raw.isascii() and raw[0] != "0" and style not in self.date_style_texts:
            return raw  # a whole number is its own text; not cached, ids are unique
        key = (kind, style, raw)
        found = self.cache.get(key, self)
        if found is not self:
            return found  # type: ignore[return-value]
        text = cell_text(self._value(kind, style, raw))
        if len(self.cache) < 100_000:
            self.cache[key] = text
        return text

    def _value(self, kind: str, style: str, raw: str) -> object:
        from openpyxl.utils.datetime import from_excel, from_ISO8601

        if kind == "n":
            number: int | float = float(raw) if ("." in raw or "E" in raw or "e" in raw) else int(raw)
            style_id = int(style)
            if style_id in self.date_styles:
                try:
                    return from_excel(number, self.epoch, timedelta=style_id in self.timedelta_styles)
                except (OverflowError, ValueError):
                    return "#VALUE!"
            return number
        if kind == "s":
            return self.shared_strings[int(raw)]
        if kind == "b":
            return bool(int(raw))
        if kind == "d":
            return from_ISO8601(raw)
        return raw


def _chunks(source: zipfile.ZipExtFile) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    while data := source.read(_CHUNK):
        yield decoder.decode(data)
    yield decoder.decode(b"", final=True)


def _body(chunks: Iterator[str]) -> Iterator[str]:
    """The text inside `<sheetData>`, cut after a `</row>` so no token is split."""
    buffer = ""
    for chunk in chunks:
        buffer += chunk
        start = buffer.find("<sheetData")
        if start >= 0:
            break
        if len(buffer) > 1 << 20:
            raise _Unsupported("no sheetData")
    else:
        raise _Unsupported("no sheetData")
    head = buffer[:start].lstrip("\ufeff")
    declared = re.match(r"<\?xml[^>]*?encoding=[\"']([^\"']*)[\"']", head)
    if declared and declared.group(1).lower() != "utf-8":
        raise _Unsupported("encoding")
    root = re.search(r"<worksheet\b[^>]*>", head)
    if root is None or f'xmlns="{SHEET_MAIN_NS}"' not in root.group(0):
        raise _Unsupported("namespace")
    rest = buffer[start:]
    if rest.startswith("<sheetData/>"):
        return
    if not rest.startswith("<sheetData>"):
        raise _Unsupported("sheetData attributes")
    buffer = rest[len("<sheetData>") :]
    for chunk in chunks:
        buffer += chunk
        end = buffer.find("</sheetData>")
        if end >= 0:
            yield buffer[:end]
            return
        cut = buffer.rfind("</row>")
        if cut >= 0:
            yield buffer[: cut + 6]
            buffer = buffer[cut + 6 :]
    end = buffer.find("</sheetData>")
    if end < 0:
        raise _Unsupported("unterminated sheetData")
    yield buffer[:end]


def _row_number(attrs: str, previous: int) -> int:
    found = dict(_ATTR.findall(attrs)).get("r") if attrs else None
    if found is None:
        return previous + 1
    number = float(found) if "." in found or "e" in found.lower() else int(found)
    if number != int(number) or number < 1:
        raise _Unsupported("row number")
    return int(number)


def _place(row: list[object], column: int, value: object) -> None:
    """Put a value at a 1-based column; later cells win, as in openpyxl."""
    if column == len(row) + 1:
        row.append(value)
        return
    if column > len(row):
        row.extend([None] * (column - len(row)))
    row[column - 1] = value


def _rows(body: Iterator[str], convert: _Converter) -> Iterator[tuple[int, list[object]]]:
    """(row number, cell texts with FORMULA for formula cells), as openpyxl would yield them.

    The hot loop works on `findall` tuples: an unmatched group is '', so the value groups
    keep their opening tag (`<v>…`, `<t>…`) to tell an empty value from a missing one.
    """
    columns: dict[str, int] = {}
    cache = convert.cache
    row_counter = last_yielded = 0
    row: list[object] | None = None
    row_text = ""
    for part in body:
        for token in _TOKEN.findall(part):
            row_open, row_r, row_attrs, row_close, row_end, other = token[8:]
            if not (row_open or row_end or other):  # a cell
                if row is None:
                    raise _Unsupported("cell outside a row")
                letters, digits, style, kind, more, tagged_v, tagged_t, content = token[:8]
                if more:
                    letters, digits, style, kind = _attributes(more, letters, digits, style, kind)
                if letters:
                    if digits != row_text:
                        raise _Unsupported("cell reference in another row")
                    column = columns.get(letters) or _column_index(letters, columns)
                elif columns:
                    raise _Unsupported("cells with and without reference")
                else:
                    column = len(row) + 1
                if tagged_t and kind == "inlineStr":
                    value: object = tagged_t[3:]
                elif tagged_v and not content:
                    if len(tagged_v) == 3 or kind == "inlineStr":
                        value = None
                    else:
                        key = (kind or "n", style or "0", tagged_v[3:])
                        value = cache.get(key, cache)
                        if value is cache:
                            value = convert.text(*key)
                else:
                    value = _cell_value(kind or "n", style or "0", tagged_t, content, convert)
                if column == len(row) + 1:
                    row.append(value)
                else:
                    _place(row, column, value)
                continue
            if other:
                raise _Unsupported(f"unexpected {other!r}")
            if row_end:
                if row is None:
                    raise _Unsupported("stray </row>")
            else:  # <row …> or <row …/>
                if row is not None:
                    raise _Unsupported("nested row")
                if row_r and not row_attrs and row_r[0] != "0":
                    row_counter, row_text = int(row_r), row_r
                else:
                    row_counter = _row_number(f' r="{row_r}"{row_attrs}' if row_r else row_attrs, row_counter)
                    row_text = str(row_counter)
                row = []
                if not row_close:
                    continue
            if row_counter > last_yielded:  # openpyxl skips rows out of order
                last_yielded = row_counter
                yield row_counter, row
            row = None
    if row is not None:
        raise _Unsupported("unterminated row")


def _attributes(more: str, letters: str, digits: str, style: str, kind: str) -> tuple[str, str, str, str]:
    """Cell attributes in another order or with extra attributes."""
    found = dict(_ATTR.findall(more))
    reference = found.get("r", letters + digits)
    if reference:
        letters = reference.rstrip(_DIGITS)
        digits = reference[len(letters) :]
    style = found.get("s", style)
    style = str(int(style)) if style else "-1"  # openpyxl: s="" is no style at all
    return letters, digits, style, found.get("t", kind)


def _unsupported(reason: str) -> int:
    raise _Unsupported(reason)


def _cell_value(kind: str, style: str, tagged_t: str, content: str, convert: _Converter) -> object:
    """The uncommon cell forms: formulas, entities, empty cells, `<is>` in other cell types."""
    if _FORMULA_TAG.search(content):
        return FORMULA
    value_text: str | None = None
    inline_text: str | None = tagged_t[3:] if tagged_t else None
    if content:
        parsed = _CONTENT.fullmatch(content)
        if parsed is None:
            raise _Unsupported("cell content")
        if content.startswith("<is"):
            inline_text = _unescape(parsed.group("t") or "")
        elif parsed.group("v") is not None:
            value_text = _unescape(parsed.group("v"))
    if kind == "inlineStr":
        return inline_text  # None without <is>, as in openpyxl
    if not value_text:
        return None
    return convert.text(kind, style, value_text)


def read_sheet(path: Path, sheet_name: str) -> list[tuple[int, list[object]]] | None:
    """All rows of the named worksheet, or None when openpyxl must read this workbook."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet

    try:
        reader = ExcelReader(str(path), read_only=True, data_only=False, keep_links=False)
        try:
            reader.read_manifest()
            reader.read_strings()
            reader.read_workbook()
            apply_stylesheet(reader.archive, reader.wb)
            targets = [
                rel.target
                for sheet, rel in reader.parser.find_sheets()
                if sheet.name == sheet_name and "chartsheet" not in rel.Type
            ]
            if len(targets) != 1 or targets[0] not in reader.valid_files:
                return None
            wb = reader.wb
            convert = _Converter(reader.shared_strings, set(wb._date_formats), set(wb._timedelta_formats), wb.epoch)
            with reader.archive.open(targets[0]) as source:
                return list(_rows(_body(_chunks(source)), convert))
        finally:
            reader.archive.close()
    except Exception:  # anything unusual: openpyxl reads the file and reports what it finds
        return None
