"""Step 3 (file checks) and reading a delivery into a DuckDB temp table.

The file's own header is parsed once in Python; the body is read by DuckDB `read_csv`
(every value as text) or, for Excel, by `xlsx.read_sheet` (openpyxl for unusual
workbooks), formulas detected and never evaluated. Data columns are addressed by position
(`c0`, `c1`, …), so header text from a partner never ends up in SQL. The result is the
temp view `__dvcc_src` with `__rij` (the row number as a spreadsheet shows it, header = 1)
and the text columns.
"""

from __future__ import annotations

import csv
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from dvcc_pipeline.contracts import FeedContract
from dvcc_pipeline.ingestion.receipt import Problem, plural, shown_value
from dvcc_pipeline.ingestion.xlsx import FORMULA, cell_text, read_sheet

SRC = "__dvcc_src"
_SRC_TABLE = "__dvcc_src_data"
REJECTS = "__dvcc_rejects"  # read_csv rejects table (lines that could not be parsed)
_REJECT_SCANS = "__dvcc_reject_scans"
_BOM = b"\xef\xbb\xbf"
_HEADER_LIMIT = 1 << 20
_OTHER_DELIMITERS = (",", ";", "\t", "|")
_STRUCTURE_ERRORS = 10


@dataclass
class SourceFile:
    """What reading the file produced: its header, rows and any file-level problems."""

    header: list[str] = field(default_factory=list)
    rows: int = 0
    readable: bool = False
    # The common CSV case: the row checks read the file once with this query (no `__rij`;
    # row numbers come from the insertion order of the checked table).
    scan_sql: str | None = None
    scan_parameters: dict[str, object] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def header_matches(self) -> bool:
        return self.readable and not self.problems


def drop_temp_objects(conn: duckdb.DuckDBPyConnection) -> None:
    """Remove the temp tables of a previous validation on this connection.

    The catalogue functions are much cheaper than `information_schema`, and all drops go
    in one call: this runs twice for every delivery.
    """
    rows = conn.execute(
        "SELECT 'VIEW', view_name FROM duckdb_views() "
        "WHERE database_name = 'temp' AND starts_with(view_name, '__dvcc_') "
        "UNION ALL SELECT 'TABLE', table_name FROM duckdb_tables() "
        "WHERE database_name = 'temp' AND starts_with(table_name, '__dvcc_')"
    ).fetchall()
    if rows:
        conn.execute("; ".join(f'DROP {kind} IF EXISTS temp.main."{name}"' for kind, name in rows))


def _file_problem(code: str, message: str, column: str | None = None) -> Problem:
    return Problem(code=code, column=column, message=message, rows=[], count=0)


def compare_header(actual: list[str], contract: FeedContract) -> list[Problem]:
    """Name every missing, extra, renamed, duplicated or reordered column."""
    expected = contract.column_names
    if actual == expected:
        return []
    problems: list[Problem] = []
    duplicates = sorted({a for a in actual if actual.count(a) > 1})
    for name in duplicates:
        problems.append(
            _file_problem("kolom_dubbel", f"kolom `{shown_value(name)}` staat meer dan eens in de kop", name)
        )
    missing = [e for e in expected if e not in actual]
    extra = [a for a in actual if a not in expected]
    for name in list(missing):
        position = expected.index(name)
        if position < len(actual) and actual[position] in extra:
            found = actual[position]
            problems.append(
                _file_problem(
                    "kolom_hernoemd",
                    f"kolom `{name}` (positie {position + 1}) heet in het bestand `{shown_value(found)}`",
                    name,
                )
            )
            missing.remove(name)
            extra.remove(found)
    problems += [_file_problem("kolom_ontbreekt", f"kolom `{name}` ontbreekt in de kop", name) for name in missing]
    problems += [
        _file_problem("kolom_extra", f"kolom `{shown_value(name)}` staat niet in het contract", shown_value(name))
        for name in extra
    ]
    if not problems:
        problems.append(
            _file_problem(
                "kolomvolgorde",
                "de kolommen staan in een andere volgorde dan in het contract: verwacht "
                + ", ".join(f"`{e}`" for e in expected)
                + "; gevonden "
                + ", ".join(f"`{shown_value(a)}`" for a in actual),
            )
        )
    return problems


_DELIMITER_NAMES = {",": "komma", ";": "puntkomma", "\t": "tab", "|": "verticale streep"}


def _delimiter_words(delimiter: str) -> str:
    """`puntkomma (;)`: a delimiter as a partner would name it."""
    name = _DELIMITER_NAMES.get(delimiter)
    return f"de {name} ({delimiter})" if name and delimiter != "\t" else f"de {name or repr(delimiter)}"


def _delimiter_problem(line: str, contract: FeedContract) -> Problem | None:
    """Recognise a file written with another delimiter than the contract's."""
    fmt = contract.file
    expected = len(contract.columns)
    own = next(csv.reader([line], delimiter=fmt.delimiter, quotechar=fmt.quote))
    if len(own) == expected:
        return None
    for other in _OTHER_DELIMITERS:
        if other == fmt.delimiter:
            continue
        fields = next(csv.reader([line], delimiter=other, quotechar=fmt.quote))
        if len(fields) == expected or (len(own) == 1 and len(fields) > 1):
            return _file_problem(
                "scheidingsteken",
                f"verkeerd scheidingsteken: het bestand gebruikt {_delimiter_words(other)}, het contract "
                f"schrijft {_delimiter_words(fmt.delimiter)} voor",
            )
    return None


def read_csv_source(conn: duckdb.DuckDBPyConnection, path: Path, contract: FeedContract) -> SourceFile:
    """Parse the header, then read the whole body with DuckDB into `__dvcc_src`."""
    fmt = contract.file
    result = SourceFile()
    with path.open("rb") as handle:
        first = handle.readline(_HEADER_LIMIT)
        has_more = bool(handle.read(1))
    if first.startswith(_BOM):
        if fmt.byte_order_mark == "forbidden":
            result.problems.append(
                _file_problem("bom", "het bestand begint met een BOM; het contract staat dat niet toe")
            )
        first = first[len(_BOM) :]
    try:
        line = first.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        result.problems.append(_file_problem("codering", "de kopregel is geen geldige UTF-8-tekst (rij 1)"))
        return result
    if not line.strip():
        result.problems.append(_file_problem("geen_kop", "de eerste regel (kop) is leeg"))
        return result
    header = [h.strip() for h in next(csv.reader([line], delimiter=fmt.delimiter, quotechar=fmt.quote))]
    result.header = header
    delimiter_problem = _delimiter_problem(line, contract)
    result.problems += [delimiter_problem] if delimiter_problem else compare_header(header, contract)
    if not has_more:
        result.readable = True
        _empty_source(conn, len(header))
        return result
    scan, parameters = csv_scan(contract, len(header))
    parameters["path"] = str(path)
    result.readable = True
    if not result.problems:
        # The common case: the row checks read the file once, straight from this view.
        result.scan_sql, result.scan_parameters = scan, parameters
        return result
    conn.execute(f"CREATE TEMP TABLE {_SRC_TABLE} AS {scan}", parameters)
    conn.execute(f"CREATE TEMP VIEW {SRC} AS SELECT rowid + 2 AS __rij, * FROM {_SRC_TABLE}")
    result.rows = conn.execute(f"SELECT count(*) FROM {_SRC_TABLE}").fetchone()[0]
    result.problems += structure_problems(conn, path)
    return result


def csv_scan(
    contract: FeedContract,
    width: int,
    rejects: str = REJECTS,
    rejects_scan: str = _REJECT_SCANS,
    filename: bool = False,
) -> tuple[str, dict[str, object]]:
    """The body read of a contract's CSV (every value as text, header skipped); `$path` is
    still to be bound: one file, or a list of files read together with `filename`."""
    fmt = contract.file
    scan = (
        "SELECT * FROM read_csv($path, delim=$delim, quote=$quote, escape=$escape, header=false, "
        "skip=1, columns=$columns, auto_detect=false, strict_mode=true, null_padding=false, "
        f"encoding='utf-8', store_rejects=true, rejects_table='{rejects}', "
        f"rejects_scan='{rejects_scan}', max_line_size=4194304{', filename=true' if filename else ''})"
    )
    parameters: dict[str, object] = {
        "delim": fmt.delimiter,
        "quote": fmt.quote,
        "escape": fmt.escape,
        "columns": {f"c{i}": "VARCHAR" for i in range(width)},
    }
    return scan, parameters


def structure_problems(conn: duckdb.DuckDBPyConnection, path: Path) -> list[Problem]:
    """Lines DuckDB could not parse: bad bytes, wrong field count, open quotes."""
    rejects = conn.execute(
        f"SELECT error_type, count(*), min(line, {_STRUCTURE_ERRORS}), max(line) "
        f"FROM (SELECT DISTINCT error_type, line FROM {REJECTS}) "
        "GROUP BY error_type ORDER BY min(line)"
    ).fetchall()
    if not rejects:
        return []
    # A file cut off at its end is found before this (`completeness`, code `onvolledig`).
    problems: list[Problem] = []
    for error_type, count, lines, _ in rejects:
        lines = [int(x) for x in lines]
        if error_type == "INVALID ENCODING":
            code, message = "codering", "bevat bytes die geen geldige UTF-8 zijn"
        elif error_type == "TOO MANY COLUMNS":
            code, message = "regelstructuur", "heeft meer velden dan de kop"
        elif error_type == "MISSING COLUMNS":
            code, message = "regelstructuur", "heeft minder velden dan de kop"
        elif error_type == "UNQUOTED VALUE":
            code, message = "aanhalingstekens", "bevat een aanhalingsteken dat niet klopt"
        else:
            code, message = "regelstructuur", "kan niet als CSV-regel worden gelezen"
        first = lines[0]
        suffix = f" (en nog {plural(count - 1, 'regel', 'regels')})" if count > 1 else ""
        problems.append(Problem(code, None, f"regel {first}: {message}{suffix}", lines, int(count)))
    return problems


def _empty_source(conn: duckdb.DuckDBPyConnection, width: int) -> None:
    table = pa.table({"__rij": pa.array([], pa.int64())} | {f"c{i}": pa.array([], pa.string()) for i in range(width)})
    _register_arrow(conn, table)


def _register_arrow(conn: duckdb.DuckDBPyConnection, table: pa.Table) -> None:
    conn.register("__dvcc_arrow", table)
    try:
        conn.execute(f"CREATE TEMP TABLE {_SRC_TABLE} AS SELECT * FROM __dvcc_arrow")
    finally:
        conn.unregister("__dvcc_arrow")
    conn.execute(f"CREATE TEMP VIEW {SRC} AS SELECT * FROM {_SRC_TABLE}")


def _openpyxl_rows(sheet: Any) -> list[tuple[int, list[object]]]:
    """All rows of a read-only openpyxl sheet, formula cells as FORMULA, never evaluated."""
    sheet.reset_dimensions()  # a wrong <dimension> must not cut rows or columns off
    rows = []
    for number, row in enumerate(sheet.iter_rows(), start=1):
        rows.append(
            (number, [FORMULA if getattr(cell, "data_type", None) == "f" else cell_text(cell.value) for cell in row])
        )
    return rows


def _sheet_rows(path: Path, sheet_name: str, result: SourceFile) -> list[tuple[int, list[object]]] | None:
    """The worksheet's rows (fast reader, openpyxl for unusual files); None after a file problem."""
    rows = read_sheet(path, sheet_name)
    if rows is not None:
        return rows
    from openpyxl import load_workbook  # heavy import, only for the Excel feed

    try:
        workbook = load_workbook(path, read_only=True, data_only=False, keep_links=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        result.problems.append(
            _file_problem("geen_excel", f"het bestand is geen leesbare Excel-werkmap ({type(exc).__name__})")
        )
        return None
    try:
        if sheet_name not in workbook.sheetnames:
            found = ", ".join(f"`{shown_value(s)}`" for s in workbook.sheetnames) or "geen"
            result.problems.append(
                _file_problem(
                    "werkblad_ontbreekt",
                    f"werkblad `{sheet_name}` ontbreekt (gevonden: {found})",
                )
            )
            return None
        return _openpyxl_rows(workbook[sheet_name])
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        result.problems.append(
            _file_problem("geen_excel", f"het werkblad kan niet worden gelezen ({type(exc).__name__})")
        )
        return None
    finally:
        workbook.close()


def read_xlsx_source(conn: duckdb.DuckDBPyConnection, path: Path, contract: FeedContract) -> SourceFile:
    """Read the contract's worksheet once, formulas detected and never evaluated."""
    result = SourceFile()
    sheet_name = contract.file.sheet_name or ""
    rows = _sheet_rows(path, sheet_name, result)
    if rows is None:
        return result
    header: list[str] | None = None
    row_numbers: list[int] = []
    values: list[list[object]] = []
    formulas: dict[int, list[int]] = {}
    overflow: list[int] = []
    for number, texts in rows:
        for index, text in enumerate(texts):
            if text is FORMULA:
                formulas.setdefault(index, []).append(number)
                texts[index] = None
        if header is None and number == 1:
            header = [t.strip() if isinstance(t, str) else "" for t in texts]
            while header and header[-1] == "":
                header.pop()
            continue
        if header is None:  # no row 1: an empty header, as a spreadsheet shows it
            header = []
        if all(t is None or t.strip() == "" for t in texts):  # type: ignore[union-attr]
            continue
        if any(t not in (None, "") for t in texts[len(header) :]):
            overflow.append(number)
        row_numbers.append(number)
        values.append((texts + [None] * len(header))[: len(header)])
    if header is None:
        result.problems.append(_file_problem("geen_kop", f"werkblad `{sheet_name}` is leeg"))
        return result
    result.header = header
    result.problems += compare_header(header, contract)
    for index, lines in sorted(formulas.items()):
        column = header[index] if index < len(header) else f"kolom {index + 1}"
        result.problems.append(
            Problem(
                "formule",
                column,
                f"kolom `{shown_value(column)}`, rij {lines[0]}: bevat een formule; lever waarden, geen formules",
                lines[:10],
                len(lines),
            )
        )
    if overflow:
        result.problems.append(
            Problem(
                "regelstructuur",
                None,
                f"rij {overflow[0]}: waarden buiten de kolommen van de kop",
                overflow[:10],
                len(overflow),
            )
        )
    table = pa.table(
        {"__rij": pa.array(row_numbers, pa.int64())}
        | {f"c{i}": pa.array([r[i] for r in values], pa.string()) for i in range(len(header))}
    )
    _register_arrow(conn, table)
    result.readable = True
    result.rows = len(values)
    return result


def read_source(
    conn: duckdb.DuckDBPyConnection,
    path: Path,
    contract: FeedContract,
    max_bytes: int | None = None,
) -> SourceFile:
    """Step 3: size, encoding, delimiter, header, data rows; leaves `__dvcc_src` behind."""
    size = path.stat().st_size
    if size == 0:
        return SourceFile(problems=[_file_problem("leeg_bestand", "het bestand is leeg (0 bytes)")])
    limits = [x for x in (contract.file.max_size_bytes, max_bytes) if x is not None]
    limit = min(limits) if limits else None
    if limit is not None and size > limit:
        return SourceFile(
            problems=[
                _file_problem("te_groot", f"het bestand is {size} bytes; het contract staat maximaal {limit} toe")
            ]
        )
    reader = read_xlsx_source if contract.file.format == "xlsx" else read_csv_source
    try:
        result = reader(conn, path, contract)
    except duckdb.Error as exc:
        return SourceFile(
            problems=[_file_problem("onleesbaar", f"het bestand kan niet worden gelezen: {_first_line(exc)}")]
        )
    if result.readable and result.scan_sql is None and result.rows == 0 and not result.problems:
        result.problems.append(
            _file_problem("geen_gegevensrijen", "het bestand bevat alleen een kop en geen gegevensrijen")
        )
    return result


def _first_line(exc: Exception) -> str:
    return shown_value(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, 120)
