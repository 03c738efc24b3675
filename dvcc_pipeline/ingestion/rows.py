"""Step 5: row checks, generated from the contract and run as set-based DuckDB SQL.

One statement reads the rows once (for CSV straight from `read_csv`) into
`__dvcc_checked_data`: normalised text (`v<i>`), typed values (`t<i>`), reference
outputs, a personal-data pre-filter flag (`__pii`) and bit masks with one bit per failed
check (`__fouten<n>`). Duplicate keys are marked afterwards with a small group-by. The
aggregation first counts every check and only then fetches row numbers and example values
for the checks that failed. Contract values (enums, patterns, formats, reference lists,
literals in rules) travel as named parameters; no value is pasted into SQL text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import duckdb

from dvcc_pipeline.config import SEEDS_DIR
from dvcc_pipeline.contracts import (
    Column,
    FeedContract,
    Reference,
    check_identifier,
    compile_expression,
    quote_identifier,
)
from dvcc_pipeline.ingestion.receipt import FIRST_ROWS, Problem, plural, quoted

CHECKED = "__dvcc_checked"
_DATA = "__dvcc_checked_data"
_ENUM_SHOWN = 8
_BITS = 62


@dataclass(frozen=True)
class Check:
    code: str
    column: str
    failure: str  # SQL boolean, true when the row fails
    value: str  # column shown in the message
    detail: str  # Dutch text after the value (or on its own when show_value is False)
    show_value: bool = True
    unique_key: str | None = None  # set for the duplicate-key check (marked afterwards)


@dataclass
class RowOutcome:
    rows_total: int
    rows_invalid: int
    problems: list[Problem]
    rows_pii: int = 0  # rows that passed the personal-data pre-filter
    lines_rejected: int = 0  # lines in the CSV reader's rejects table, when one was given


class _Sql:
    """Collects named parameters for generated SQL."""

    def __init__(self) -> None:
        self.parameters: dict[str, object] = {}

    def param(self, value: object) -> str:
        name = f"p{len(self.parameters)}"
        self.parameters[name] = value
        return f"${name}"

    def used(self, *sql: str) -> dict[str, object]:
        names = set(re.findall(r"\$([a-z_0-9]+)", " ".join(sql)))
        return {k: v for k, v in self.parameters.items() if k in names}


@dataclass
class CheckPlan:
    statement: str
    sql: _Sql
    checks: list[Check]
    outputs: dict[str, str]
    aliases: list[str]  # `v<i> AS t<i>` for text columns, added by the view

    def mask(self, k: int) -> tuple[str, int]:
        """Mask column and bit of check `k`."""
        return f"__fouten{k // _BITS}", k % _BITS

    def failed(self, k: int) -> str:
        column, bit = self.mask(k)
        return f"({column} & {1 << bit} <> 0)"

    @property
    def ok(self) -> str:
        columns = {self.mask(k)[0] for k in range(len(self.checks))}
        return " AND ".join(f"{c} = 0" for c in sorted(columns)) or "true"


def _date_regex(strptime_format: str) -> str:
    parts = {"%Y": "[0-9]{4}", "%m": "[0-9]{2}", "%d": "[0-9]{2}"}
    return "^" + re.sub(r"%[Ymd]", lambda m: parts[m.group(0)], re.escape(strptime_format)) + "$"


def _number_regex(column: Column, separator: str) -> str:
    scale = column.decimal_scale or 0
    precision = column.decimal_precision or 18
    whole = f"[0-9]{{1,{max(precision - scale, 1)}}}"
    fraction = f"(?:{re.escape(separator)}[0-9]{{1,{scale}}})?" if scale else ""
    return f"^-?{whole}{fraction}$"


def _typed(column: Column, v: str, sql: _Sql, separator: str) -> str:
    if column.logical_type == "date":
        return (
            f"CASE WHEN regexp_full_match({v}, {sql.param(_date_regex(column.date_format or ''))}) "
            f"THEN CAST(try_strptime({v}, {sql.param(column.date_format)}) AS DATE) END"
        )
    if column.logical_type == "integer":
        return f"CASE WHEN regexp_full_match({v}, '^-?[0-9]{{1,18}}$') THEN TRY_CAST({v} AS {column.physical_type}) END"
    if column.logical_type == "number":
        pattern = sql.param(_number_regex(column, separator))
        return (
            f"TRY_CAST(CASE WHEN regexp_full_match({v}, {pattern}) "
            f"THEN replace({v}, {sql.param(separator)}, '.') END AS {column.physical_type})"
        )
    return v


def _type_detail(column: Column, separator: str) -> tuple[str, str]:
    if column.logical_type == "date":
        shown = (column.date_format or "").replace("%Y", "JJJJ").replace("%m", "MM")
        return "ongeldige_datum", f"is geen geldige datum in de vorm {shown.replace('%d', 'DD')}"
    if column.logical_type == "integer":
        return "ongeldig_getal", "is geen geheel getal"
    comma = "decimale komma" if separator == "," else "decimale punt"
    scale = column.decimal_scale
    decimals = f", hoogstens {scale} decimalen" if scale else ""
    return "ongeldig_bedrag", f"is geen bedrag met {comma}{decimals}"


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _range_checks(column: Column, t: str, v: str, sql: _Sql) -> list[Check]:
    bounds = [
        (column.minimum, "<", "is kleiner dan"),
        (column.exclusive_minimum, "<=", "moet groter zijn dan"),
        (column.maximum, ">", "is groter dan"),
        (column.exclusive_maximum, ">=", "moet kleiner zijn dan"),
    ]
    return [
        Check("buiten_bereik", column.name, f"({t} {op} {sql.param(bound)})", v, f"{words} {_number_text(bound)}")
        for bound, op, words in bounds
        if bound is not None
    ]


def _normalised_name(text: str) -> str:
    return " ".join(text.split()).lower()


# Seed rows per (path, mtime, columns): every delivery plans its checks, the seeds rarely change.
_SEED_ROWS: dict[tuple[str, int, tuple[str, ...]], tuple[tuple, ...]] = {}


def _seed_columns(conn: duckdb.DuckDBPyConnection, seed: str, columns: list[str]) -> tuple[tuple, ...]:
    """Read the needed columns of a (small) reference seed into Python, once per seed version."""
    path = SEEDS_DIR / f"{check_identifier(seed)}.csv"
    key = (str(path), path.stat().st_mtime_ns, tuple(columns))
    if key not in _SEED_ROWS:
        selected = ", ".join(quote_identifier(c) for c in columns)
        _SEED_ROWS[key] = tuple(
            conn.execute(
                f"SELECT {selected} FROM read_csv($path, header=true, all_varchar=true, delim=',', quote='\"')",
                {"path": str(path)},
            ).fetchall()
        )
    return _SEED_ROWS[key]


def _reference_check(
    conn: duckdb.DuckDBPyConnection,
    column: Column,
    ref: Reference,
    t: str,
    v: str,
    key: str | None,
    sql: _Sql,
    outputs: dict[str, str],
) -> Check:
    """Reference look-ups as list membership: the seeds are tiny, the files are not."""
    if ref.key_column is not None and key is not None:
        pairs: list[str] = []
        for key_value, seed_column in ref.columns_by_key.items():
            values = {r[0] for r in _seed_columns(conn, ref.seed, [seed_column]) if r[0]}
            pairs += [f"{key_value}\x1f{value}" for value in sorted(values)]
        keys = sql.param(list(ref.columns_by_key))
        failure = (
            f"({t} IS NOT NULL AND list_contains({keys}, {key}) "
            f"AND NOT list_contains({sql.param(pairs)}, {key} || chr(31) || {t}))"
        )
        detail = f"past niet bij `{ref.key_column}` volgens de referentielijst {ref.seed}"
        return Check("onbekende_code", column.name, failure, v, detail)
    source = ref.column or ""
    wanted = [source] + ([ref.output_column] if ref.output_column else [])
    rows = _seed_columns(conn, ref.seed, wanted)
    if ref.match == "name":
        keys = [_normalised_name(r[0]) for r in rows]
        probe = f"lower(regexp_replace(trim({t}), '\\s+', ' ', 'g'))"
    else:
        keys = [r[0] for r in rows]
        probe = t
    keys_param = sql.param(keys)
    if ref.output:
        values = [r[-1] for r in rows]
        outputs[ref.output] = f"{sql.param(values)}[list_position({keys_param}, {probe})]"
    failure = f"({t} IS NOT NULL AND NOT list_contains({keys_param}, {probe}))"
    return Check("onbekende_code", column.name, failure, v, f"komt niet voor in de referentielijst {ref.seed}")


def plan_checks(
    conn: duckdb.DuckDBPyConnection,
    contract: FeedContract,
    source: str,
    row_numbers: bool,
    period: str,
    bounds: tuple[date, date],
    supplier: str,
    prefilter: str,
    carry: tuple[str, ...] = (),
    table: str = _DATA,
) -> CheckPlan:
    """Generate the one statement that types and checks every row of `source`.

    `carry` names source columns kept as they are (a batch's file number and delivery
    values); `table` is where the checked rows go.
    """
    sql = _Sql()
    separator = contract.file.decimal_separator
    index = {name: i for i, name in enumerate(contract.column_names)}
    normalised, typed, outputs = [], [], {}
    checks: list[Check] = []
    aliases: list[str] = []
    for i, column in enumerate(contract.columns):
        # Text columns are stored once: their typed value is the normalised text.
        v = f"v{i}"
        t = v if column.logical_type == "string" else f"t{i}"
        blank = f"trim(c{i}) = ''"
        if column.null_markers:
            blank += f" OR list_contains({sql.param(list(column.null_markers))}, trim(c{i}))"
        normalised.append(f"CASE WHEN {blank} THEN NULL ELSE trim(c{i}) END AS {v}")
        if t == v:
            aliases.append(f"{v} AS t{i}")
        else:
            typed.append(f"{_typed(column, v, sql, separator)} AS {t}")
        if column.required:
            checks.append(Check("verplicht", column.name, f"({v} IS NULL)", v, "verplichte waarde ontbreekt", False))
        if column.logical_type != "string":
            code, detail = _type_detail(column, separator)
            checks.append(Check(code, column.name, f"({v} IS NOT NULL AND {t} IS NULL)", v, detail))
        if column.enum:
            shown = ", ".join(column.enum[:_ENUM_SHOWN]) + (", …" if len(column.enum) > _ENUM_SHOWN else "")
            checks.append(
                Check(
                    "onbekende_waarde",
                    column.name,
                    f"(NOT list_contains({sql.param(list(column.enum))}, {t}))",
                    v,
                    f"is geen toegestane waarde (toegestaan: {shown})",
                )
            )
        if column.pattern:
            checks.append(
                Check(
                    "patroon",
                    column.name,
                    f"(NOT regexp_full_match({t}, {sql.param(column.pattern)}))",
                    v,
                    "heeft niet de afgesproken vorm",
                )
            )
        if column.max_length is not None:
            checks.append(
                Check(
                    "te_lang",
                    column.name,
                    f"(length({t}) > {sql.param(column.max_length)})",
                    v,
                    f"is langer dan {column.max_length} tekens",
                )
            )
        if column.min_length is not None:
            checks.append(
                Check(
                    "te_kort",
                    column.name,
                    f"(length({t}) < {sql.param(column.min_length)})",
                    v,
                    f"is korter dan {column.min_length} tekens",
                )
            )
        checks += _range_checks(column, t, v, sql)
        if column.reference is not None:
            key_column = column.reference.key_column
            key = None
            if key_column:
                key_index = index[key_column]
                string_key = contract.columns[key_index].logical_type == "string"
                key = f"v{key_index}" if string_key else f"t{key_index}"
            checks.append(_reference_check(conn, column, column.reference, t, v, key, sql, outputs))
        if column.unique:
            checks.append(
                Check("dubbele_sleutel", column.name, "false", v, "komt al eerder in het bestand voor", unique_key=t)
            )
    references = {c.name: f"v{i}" if c.logical_type == "string" else f"t{i}" for i, c in enumerate(contract.columns)}
    for number, rule in enumerate(contract.rules):
        compiled = compile_expression(rule.expression, references, f"r{number}_")
        sql.parameters.update(compiled.parameters)
        checks.append(
            Check(
                rule.code,
                rule.column,
                f"(NOT coalesce({compiled.sql}, true))",
                f"v{index[rule.column]}",
                rule.message,
                False,
            )
        )
    sql.parameters.update(
        {"periode": period, "periode_start": bounds[0], "periode_eind": bounds[1], "leverancier": supplier}
    )
    masks: dict[int, list[str]] = {}
    for k, check in enumerate(checks):
        masks.setdefault(k // _BITS, []).append(f"(CAST(coalesce({check.failure}, false) AS BIGINT) << {k % _BITS})")
    mask_sql = [f"({' | '.join(parts)}) AS __fouten{n}" for n, parts in sorted(masks.items())]
    joined = "concat_ws(chr(31), " + ", ".join(f"c{i}" for i in range(len(contract.columns))) + ")"
    output_sql = [f"{expr} AS o_{name.lstrip('_')}" for name, expr in outputs.items()]
    statement = f"""
        CREATE OR REPLACE TEMP TABLE {table} AS
        WITH v AS (
            SELECT {"__rij, " if row_numbers else ""}{"".join(c + ", " for c in carry)}{", ".join(normalised)},
                   regexp_matches({joined}, {sql.param(prefilter)}) AS __pii
            FROM ({source})
        ),
        t AS (SELECT *{"".join(", " + x for x in typed)} FROM v)
        SELECT *{"".join(", " + o for o in output_sql)}, {", ".join(mask_sql)} FROM t
    """
    return CheckPlan(statement, sql, checks, {n: f"o_{n.lstrip('_')}" for n in outputs}, aliases)


def run_checks(
    conn: duckdb.DuckDBPyConnection, plan: CheckPlan, row_numbers: bool, parameters: dict[str, object]
) -> None:
    """Build `__dvcc_checked` (with `__rij` and `__ok`) and mark duplicate keys."""
    conn.execute(plan.statement, plan.sql.used(plan.statement) | parameters)
    for k, check in enumerate(plan.checks):
        if check.unique_key is None:
            continue
        key = check.unique_key
        column, bit = plan.mask(k)
        # Most deliveries have no duplicate keys: a grouping query is far cheaper than an UPDATE.
        duplicated = conn.execute(
            f"SELECT 1 FROM {_DATA} WHERE {key} IS NOT NULL GROUP BY {key} HAVING count(*) > 1 LIMIT 1"
        ).fetchone()
        if duplicated is None:
            continue
        conn.execute(
            f"""UPDATE {_DATA} SET {column} = {column} | {1 << bit} WHERE rowid IN (
                SELECT rowid FROM (
                    SELECT rowid, min(rowid) OVER (PARTITION BY {key}) AS first FROM {_DATA}
                    WHERE {key} IN (SELECT {key} FROM {_DATA} WHERE {key} IS NOT NULL
                                    GROUP BY 1 HAVING count(*) > 1)
                ) WHERE rowid > first)"""
        )
    row_number = "" if row_numbers else "rowid + 2 AS __rij, "
    conn.execute(
        f"CREATE OR REPLACE TEMP VIEW {CHECKED} AS SELECT {row_number}*, "
        f"{''.join(a + ', ' for a in plan.aliases)}{plan.ok} AS __ok FROM {_DATA}"
    )


def summarise(conn: duckdb.DuckDBPyConnection, plan: CheckPlan, rejects: str | None = None) -> RowOutcome:
    """Counts for every check; row numbers and an example value only for the failed ones.

    The same query counts the pre-filtered rows and the lines in `rejects` (the CSV
    reader's rejects table), so the personal-data and structure steps can be skipped
    without a query of their own when there is nothing to look at.
    """
    counts = [f"count_if({plan.failed(k)})" for k in range(len(plan.checks))]
    rejected = f"(SELECT count(*) FROM {rejects})" if rejects else "0"
    row = conn.execute(
        f"SELECT count(*), count_if(NOT __ok), count_if(__pii), {rejected}, {', '.join(counts) or '0'} FROM {CHECKED}"
    ).fetchone()
    total, invalid = int(row[0] or 0), int(row[1] or 0)  # count_if over no rows is NULL
    pii, lines_rejected = int(row[2] or 0), int(row[3] or 0)
    failed = [(k, int(n)) for k, n in enumerate(row[4:]) if n]
    if not failed:
        return RowOutcome(total, invalid, [], pii, lines_rejected)
    details = []
    for k, _ in failed:
        details += detail_columns(plan, k)
    values = conn.execute(f"SELECT {', '.join(details)} FROM {CHECKED} WHERE NOT __ok").fetchone()
    found = {k: (values[2 * n], values[2 * n + 1]) for n, (k, _) in enumerate(failed)}
    return RowOutcome(total, invalid, row_problems(plan, failed, found), pii, lines_rejected)


def detail_columns(plan: CheckPlan, k: int) -> list[str]:
    """The first row numbers and the first value of failed check `k` (aggregates)."""
    return [
        f"min(__rij, {FIRST_ROWS}) FILTER (WHERE {plan.failed(k)})",
        f"arg_min({plan.checks[k].value}, __rij) FILTER (WHERE {plan.failed(k)})",
    ]


def row_problems(
    plan: CheckPlan, failed: list[tuple[int, int]], found: dict[int, tuple[list[int], object]]
) -> list[Problem]:
    """One receipt line per failed check, from its count, first rows and first value."""
    problems = []
    for k, count in failed:
        check = plan.checks[k]
        rows = sorted(int(r) for r in found[k][0])
        value = found[k][1]
        more = f" (en nog {plural(count - 1, 'rij', 'rijen')})" if count > 1 else ""
        shown = f"{quoted(value)} " if check.show_value else ""
        problems.append(
            Problem(
                check.code,
                check.column,
                f"kolom `{check.column}`, rij {rows[0]}: {shown}{check.detail}{more}",
                rows,
                count,
            )
        )
    return problems
