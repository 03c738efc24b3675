"""Is a settled CSV whole? The door's check for an upload that stalled or broke off.

A settle window only proves that a file stopped changing, not that the partner finished
writing it: an SFTP upload can stall for minutes and be picked up half. What a cut-off CSV
shows (partner_feeds.md, delivery protocol): it ends inside a quoted field, or its last
record has fewer fields than the header. A missing final line end alone is allowed (RFC
4180) and is no sign. A cut exactly at a line end leaves no trace; the settle window is the
defence against that.

Only the quote bytes of the whole file are counted (a C-speed scan per chunk) and the last
record is parsed; no partner row is read in Python.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from dvcc_pipeline.contracts import FeedContract
from dvcc_pipeline.ingestion.receipt import INCOMPLETE, Problem

_CHUNK = 1 << 22
_TAIL = 1 << 22
"""How far back the last record is looked for (DuckDB's line limit in `reader.csv_scan`)."""
_BOM = b"\xef\xbb\xbf"


def cut_off_problem(path: Path, contract: FeedContract) -> Problem | None:
    """`onvolledig` when the CSV at `path` is visibly cut off, else None.

    Other file faults (empty, undecodable, a wrong header) are left to the reader, which
    names them more precisely.
    """
    fmt = contract.file
    if fmt.format != "csv" or (fmt.escape and fmt.escape != fmt.quote):
        return None  # quote parity only holds where a quote is escaped by doubling it (RFC 4180)
    quote = fmt.quote.encode()
    size = path.stat().st_size
    if size == 0:
        return None
    quotes = 0
    with path.open("rb") as handle:
        header = handle.readline(_TAIL)
        handle.seek(0)
        while chunk := handle.read(_CHUNK):
            quotes += chunk.count(quote)
        handle.seek(max(0, size - _TAIL))
        tail = handle.read()
    if quotes % 2:
        return _incomplete("het bestand eindigt midden in een veld tussen aanhalingstekens")
    width = _fields(header.removeprefix(_BOM), contract)
    records = _last_records(tail.removesuffix(b"\n").removesuffix(b"\r"), quote)
    if width is None or not records or not records[-1].strip():
        return None
    fields = _fields(records[-1], contract)
    # the record before it is whole (or is the header): only the end is missing, not a column
    before = _fields(records[0], contract) if len(records) == 2 else width
    if fields is not None and fields < width and before is not None and before >= width:
        return _incomplete(f"de laatste regel heeft {fields} van de {width} velden van de kop")
    return None


def _last_records(tail: bytes, quote: bytes) -> list[bytes]:
    """The last two records of `tail` (its final line end removed), split at line ends that
    are not inside quotes: the file's quote count is even, so those are the line ends with an
    even number of quotes after them. One record when the one before is the header; none when
    the tail is the header itself or too short to tell."""
    ends: list[int] = []
    end, quotes_after = len(tail), 0
    while len(ends) < 2 and (newline := tail.rfind(b"\n", 0, end)) >= 0:
        quotes_after += tail.count(quote, newline + 1, end)
        if quotes_after % 2 == 0:
            ends.append(newline)
        end = newline
    if not ends:
        return []
    if len(ends) == 1:
        # the first line of the tail: the header when the tail starts the file, else unknown
        return [tail[ends[0] + 1 :]]
    return [tail[ends[1] + 1 : ends[0]], tail[ends[0] + 1 :]]


def _fields(line: bytes, contract: FeedContract) -> int | None:
    """The number of fields in one CSV record, or None when it is no text."""
    try:
        text = line.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        return None
    fmt = contract.file
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=fmt.delimiter, quotechar=fmt.quote))
    return len(rows[0]) if len(rows) == 1 else None


def _incomplete(why: str) -> Problem:
    return Problem(
        INCOMPLETE,
        None,
        f"het bestand is niet volledig aangekomen: {why}; vermoedelijk is de upload afgebroken of "
        "blijven hangen. Er is niets van geladen",
    )
