"""Keyed unbiased random rounding of published counts: the one place a count gets its figure.

Below `eenheid` (the contract's `roundedLevels`) every count is published as a multiple of the
base b: x = q·b + m becomes (q+1)·b with probability m/b, otherwise q·b. At `eenheid` a count
of k or more is exact and 1 … k−1 is rounded the same way. 0 stays 0.

The draw u ∈ [0, 1) is a keyed hash of the cell's identity (region level and code, period,
bron, soort, category — see `CellIdentity` in the contract, the same in every table), its true
count and a draw number (0, or higher where the audit asked for a redraw): so the same quantity
gets the same figure in every table, Parquet file and extract, and a republication of unchanged
data gives the same figures (repeated publications cannot be averaged to the truth).

The hash is sha256(k2 ‖ sha256(k1 ‖ message)) in DuckDB SQL (vectorised, no Python per row),
with k1 and k2 derived from the secret by HMAC in Python and passed as query parameters: the
secret never appears in SQL text, and the nesting rules out length extension.
"""

from __future__ import annotations

import hashlib
import hmac

import duckdb

from dvcc_pipeline.publication.contract import (
    IdentityPart,
    PublicationPolicy,
    PublishedTable,
    identifier,
)

# The table of redraws: identity -> draw number (absent: 0), shared by every table.
DRAWS_TABLE = "_rd_trekking"
_HEX_DIGITS = 13  # 52 bits of the hash: exact in a DOUBLE


def derived_keys(secret: bytes) -> tuple[str, str]:
    """The inner and outer key of the SQL hash, derived from the rounding secret."""
    inner = hmac.new(secret, b"dvcc-afronding-binnen", hashlib.sha256).hexdigest()
    outer = hmac.new(secret, b"dvcc-afronding-buiten", hashlib.sha256).hexdigest()
    return inner, outer


def create_draws_table(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {DRAWS_TABLE} (identiteit VARCHAR PRIMARY KEY, trekking INTEGER NOT NULL)"
    )


def _part(part: IdentityPart, alias: str) -> str:
    if part.value is not None:
        return "'" + part.value.replace("'", "''") + "'"
    assert part.column is not None
    column = f"{alias}.{identifier(part.column)}"
    if part.offset:
        return f"CAST(CAST({column} AS BIGINT) + ({int(part.offset)}) AS VARCHAR)"
    return f"CAST({column} AS VARCHAR)"


def identity_sql(table: PublishedTable, measure: str, alias: str = "s") -> str:
    """SQL text naming the count `measure` of a row, the same in every table that shows it.

    The row needs `_niveau` and `_code` (its region level and code).
    """
    assert table.disclosure is not None
    cell = table.disclosure.identity[measure]
    categorie = " || ';' || ".join(
        _part(p, alias) if p.value is not None else f"'{p.column}=' || coalesce({_part(p, alias)}, '∅')"
        for p in cell.categorie
    )
    parts = [f"{alias}._niveau", f"{alias}._code", _part(cell.periode, alias), _part(cell.bron, alias)]
    parts += [_part(cell.soort, alias), categorie]
    return "concat_ws(chr(31), " + ", ".join(f"coalesce({p}, '∅')" for p in parts) + ")"


def rounded_sql(count: str, level: str, ident: str, draw: str, policy: PublicationPolicy) -> str:
    """SQL for the published figure of true count `count` (parameters $k1, $k2, $niveaus)."""
    b, k = int(policy.rounding_base), int(policy.min_cell_size)
    message = f"{ident} || chr(31) || CAST({count} AS VARCHAR) || chr(31) || CAST({draw} AS VARCHAR)"
    digest = f"sha256($k2 || sha256($k1 || {message}))"
    u = f"CAST(CAST('0x' || left({digest}, {_HEX_DIGITS}) AS UBIGINT) AS DOUBLE) / {float(16**_HEX_DIGITS)}"
    return f"""(CASE
        WHEN {count} IS NULL THEN NULL
        WHEN {count} = 0 OR {count} % {b} = 0 THEN {count}
        WHEN NOT list_contains($niveaus, {level}) AND {count} >= {k} THEN {count}
        ELSE ({count} // {b}) * {b} + CASE WHEN {u} * {b} < {count} % {b} THEN {b} ELSE 0 END
    END)"""


def is_rounded_sql(count: str, level: str, policy: PublicationPolicy) -> str:
    """Whether the figure of `count` went through rounding (else it is the exact count)."""
    return f"(list_contains($niveaus, {level}) OR {count} < {int(policy.min_cell_size)})"


def rounding_parameters(policy: PublicationPolicy, secret: bytes) -> dict[str, object]:
    inner, outer = derived_keys(secret)
    return {"k1": inner, "k2": outer, "niveaus": list(policy.rounded_levels)}
