"""File writers in the exact partner formats of `partner_feeds.md`, byte-deterministic.

CSV files are streamed row by row. Excel files are written with openpyxl in write-only mode
and then re-zipped with fixed timestamps, because openpyxl stamps the current time into both
the zip entries and `docProps/core.xml`.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from openpyxl import Workbook

FIXED_ZIP_TIME = (2025, 1, 1, 0, 0, 0)
FIXED_DOC_TIME = dt.datetime(2025, 1, 1, 0, 0, 0)


@contextmanager
def csv_rows(
    path: Path,
    header: Sequence[str],
    *,
    delimiter: str = ",",
    bom: bool = False,
    crlf: bool = False,
    quote_all: bool = False,
) -> Iterator[Any]:
    """Open a CSV for streaming; yields the csv writer (header already written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.writer(
            handle,
            delimiter=delimiter,
            lineterminator="\r\n" if crlf else "\n",
            quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
        )
        writer.writerow(header)
        yield writer


def write_xlsx(
    path: Path,
    sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]],
) -> int:
    """Write a workbook of (title, header, rows) sheets; returns the rows of the first sheet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = Workbook(write_only=True)
    workbook.properties.creator = "Fraudehelpdesk"
    workbook.properties.created = FIXED_DOC_TIME
    first_rows = 0
    for index, (title, header, rows) in enumerate(sheets):
        sheet = workbook.create_sheet(title)
        sheet.append(list(header))
        count = 0
        for row in rows:
            sheet.append(row)
            count += 1
        if index == 0:
            first_rows = count
    tmp = path.with_name(path.name + ".tmp")
    workbook.save(tmp)
    _normalise_zip(tmp, path)
    tmp.unlink()
    return first_rows


_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _normalise_zip(source: Path, target: Path) -> None:
    """Copy a zip with fixed entry times and a fixed modified time in the core properties."""
    stamp = FIXED_DOC_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = _MODIFIED.sub(rb"\g<1>" + stamp + rb"\g<2>", data)
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, data)
