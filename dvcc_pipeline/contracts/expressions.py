"""Safe use of contract identifiers and rule expressions in DuckDB SQL.

Contracts are trusted more than partner files but are still text: identifiers must match a
strict pattern before they are quoted, and a rule expression is tokenised against a small
whitelist. Column names in an expression are replaced by the caller's own SQL references
and string literals become named parameters, so no contract value is pasted into SQL text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from dvcc_pipeline.contracts.model import ContractError

# Letters, digits and underscores, single inner spaces allowed (Fraudehelpdesk headers).
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?: [A-Za-z0-9_]+)*")
MAX_IDENTIFIER = 63

RULE_PARAMETERS = frozenset({"periode", "periode_start", "periode_eind", "leverancier"})

_KEYWORDS = frozenset(
    {
        "AND",
        "OR",
        "NOT",
        "IS",
        "NULL",
        "TRUE",
        "FALSE",
        "IN",
        "BETWEEN",
        "CAST",
        "AS",
        "DATE",
        "VARCHAR",
        "BIGINT",
        "INTEGER",
        "DECIMAL",
        "COALESCE",
        "LOWER",
        "UPPER",
        "TRIM",
        "LENGTH",
        "ABS",
        "CASE",
        "WHEN",
        "THEN",
        "ELSE",
        "END",
    }
)

_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | "(?P<ident>[^"]*)"
      | '(?P<string>(?:[^']|'')*)'
      | \$(?P<param>[a-z_]+)
      | (?P<number>[0-9]+(?:\.[0-9]+)?)
      | (?P<word>[A-Za-z_]+)
      | (?P<op><=|>=|<>|!=|\|\||[=<>()+\-*/,])""",
    re.VERBOSE,
)


def check_identifier(name: str) -> str:
    """Return `name` if it is a safe identifier, else raise :class:`ContractError`."""
    if not isinstance(name, str) or len(name) > MAX_IDENTIFIER or not IDENTIFIER.fullmatch(name):
        raise ContractError(f"ongeldige naam in contract: {name!r}")
    return name


def quote_identifier(name: str) -> str:
    """Double-quote a checked identifier for DuckDB."""
    return '"' + check_identifier(name) + '"'


@dataclass(frozen=True)
class CompiledExpression:
    sql: str
    parameters: dict[str, object]
    columns: tuple[str, ...]


def compile_expression(expression: str, columns: Mapping[str, str], parameter_prefix: str) -> CompiledExpression:
    """Rewrite a rule expression into SQL over the caller's column references.

    `columns` maps contract column names to SQL fragments (the caller's own aliases);
    `$periode`-style names refer to the delivery and stay named parameters; string
    literals become parameters `<prefix><n>`. Anything outside the whitelist is refused.
    """
    out: list[str] = []
    parameters: dict[str, object] = {}
    used: list[str] = []
    position = 0
    while position < len(expression):
        match = _TOKEN.match(expression, position)
        if match is None:
            raise ContractError(f"niet toegestaan teken in regel: {expression[position:][:20]!r}")
        position = match.end()
        kind = match.lastgroup
        text = match.group(kind)
        if kind == "space":
            out.append(" ")
        elif kind == "ident":
            check_identifier(text)
            if text not in columns:
                raise ContractError(f"regel noemt onbekende kolom: {text!r}")
            out.append(columns[text])
            used.append(text)
        elif kind == "string":
            name = f"{parameter_prefix}{len(parameters)}"
            parameters[name] = text.replace("''", "'")
            out.append(f"${name}")
        elif kind == "param":
            if text not in RULE_PARAMETERS:
                raise ContractError(f"onbekende parameter in regel: ${text}")
            out.append(f"${text}")
        elif kind == "word":
            if text.upper() not in _KEYWORDS:
                raise ContractError(f"niet toegestaan woord in regel: {text!r}")
            out.append(text.upper())
        else:  # number or operator: fixed shapes, safe as written
            out.append(text)
    return CompiledExpression("(" + "".join(out) + ")", parameters, tuple(dict.fromkeys(used)))
