"""Step 4: the personal-data screen over every value of every column, in DuckDB SQL.

A cheap pass over whole rows (all columns joined, inside the one scan of the row checks)
finds candidate rows; of those, only the values that match the pre-filter themselves get
the exact tests: a 9-digit number passing the 11-test (BSN), an e-mail address, an IBAN
of a registered country with a valid mod-97 check and a Dutch phone number. The
pre-filter accepts everything the exact tests can flag, so no value escapes the screen.
Findings name column and rows, never the value.
"""

from __future__ import annotations

import duckdb

from dvcc_pipeline.ingestion.reader import SRC
from dvcc_pipeline.ingestion.receipt import FIRST_ROWS, Problem, plural, shown_value

# Boundaries exclude letters, digits, '_' and '-' so identifiers such as P0123ABC… or
# RABO-000123456 are not mistaken for numbers; a '.' or ',' followed by a digit belongs
# to an amount.
_LEFT = r"(?:^|[^0-9A-Za-z_.,-]|[.,][^0-9])"
_RIGHT = r"(?:$|[^0-9A-Za-z_.,-]|[.,](?:$|[^0-9]))"
BSN_PATTERN = _LEFT + r"([0-9]{9}|[0-9]{4}\.[0-9]{2}\.[0-9]{3})" + _RIGHT
EMAIL_PATTERN = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
IBAN_PATTERN = r"(?:^|[^0-9A-Za-z])([A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?)(?:$|[^0-9A-Za-z])"
PHONE_PATTERN = (
    r"(?:^|[^0-9A-Za-z_-])("
    r"(?:\+31|0031)[ -]?(?:\(0\)[ -]?)?[1-9](?:[ -]?[0-9]){8}"
    r"|0[1-9](?:[ -]?[0-9]){8}"
    r")(?:$|[^0-9A-Za-z_-])"
)

# IBAN length per country (ISO 13616 registry): a candidate must match its country's length,
# so identifiers that merely look like one (P + hex, as police ids) are not flagged.
IBAN_LENGTHS = [
    f"{code[:2]}:{code[2:]}"
    for code in [
        "AD24",
        "AE23",
        "AL28",
        "AT20",
        "AZ28",
        "BA20",
        "BE16",
        "BG22",
        "BH22",
        "BR29",
        "BY28",
        "CH21",
        "CR22",
        "CY28",
        "CZ24",
        "DE22",
        "DK18",
        "DO28",
        "EE20",
        "EG29",
        "ES24",
        "FI18",
        "FO18",
        "FR27",
        "GB22",
        "GE22",
        "GI23",
        "GL18",
        "GR27",
        "GT28",
        "HR21",
        "HU28",
        "IE22",
        "IL23",
        "IQ23",
        "IS26",
        "IT27",
        "JO30",
        "KW30",
        "KZ20",
        "LB28",
        "LC32",
        "LI21",
        "LT20",
        "LU20",
        "LV21",
        "MC27",
        "MD24",
        "ME22",
        "MK19",
        "MR27",
        "MT31",
        "MU30",
        "NL18",
        "NO15",
        "PK24",
        "PL28",
        "PS29",
        "PT25",
        "QA29",
        "RO24",
        "RS22",
        "SA24",
        "SC31",
        "SE24",
        "SI19",
        "SK24",
        "SM27",
        "ST25",
        "SV28",
        "TL23",
        "TN24",
        "TR26",
        "UA29",
        "VA22",
        "VG24",
        "XK20",
    ]
]


def _iban_prefilter() -> str:
    """IBAN_PATTERN for the pre-filter: only registered countries, any letter case.

    The exact test runs on `upper(value)`, which also turns the dotless 'ı' into 'I' (the
    only non-ASCII character whose upper case is an ASCII letter that case-insensitive
    matching does not already cover), so 'ı' counts as a letter here.
    """
    letter = "[A-Zı]"
    countries = "|".join("".join("[Iı]" if ch == "I" else ch for ch in entry[:2]) for entry in sorted(IBAN_LENGTHS))
    return (
        f"(?i:(?:^|[^0-9A-Za-z])(?:{countries})[0-9]{{2}}(?: ?(?:{letter}|[0-9]){{4}}){{2,7}}"
        f"(?: ?(?:{letter}|[0-9]){{1,3}})?(?:$|[^0-9A-Za-z]))"
    )


# Cheap test per row (all columns joined) and per value; accepts every value that one of
# the exact tests below can flag (IBANs of unregistered countries can never pass, so police
# ids such as PC54164FDF9E1DE46 are no candidates).
PREFILTER = "|".join([BSN_PATTERN, EMAIL_PATTERN, _iban_prefilter(), PHONE_PATTERN])

KINDS = {
    "bsn": "een burgerservicenummer (BSN)",
    "email": "een e-mailadres",
    "iban": "een IBAN-rekeningnummer",
    "telefoon": "een telefoonnummer",
}


def _elfproef(y: str) -> str:
    """SQL: the 9-digit string `y` passes the BSN 11-test."""
    digits = [f"CAST(substr({y}, {k}, 1) AS INTEGER)" for k in range(1, 10)]
    weighted = " + ".join(f"{10 - k} * {digits[k - 1]}" for k in range(1, 9))
    return f"(({weighted} - {digits[8]}) % 11 = 0 AND {y} <> '000000000')"


def _mod97(z: str) -> str:
    """SQL: the IBAN `z` (no spaces, upper case) has a valid mod-97 check."""
    return (
        f"(list_contains($iban_lengths, substr({z}, 1, 2) || ':' || length({z})) AND list_reduce(list_transform("
        f"string_split(substr({z}, 5) || substr({z}, 1, 4), ''), "
        "lambda ch: CASE WHEN ch BETWEEN 'A' AND 'Z' THEN ascii(ch) - 55 ELSE ascii(ch) - 48 END), "
        "lambda acc, d: (acc * CASE WHEN d >= 10 THEN 100 ELSE 10 END + d) % 97, 0) = 1)"
    )


def _tests(column: str) -> dict[str, str]:
    """SQL booleans, one per kind of personal data, over one text value."""
    elfproef = _elfproef("replace(x, '.', '')")
    mod97 = _mod97("replace(w, ' ', '')")
    bsn = f"len(list_filter(regexp_extract_all({column}, $bsn, 1), lambda x: {elfproef})) > 0"
    iban = f"len(list_filter(regexp_extract_all(upper({column}), $iban, 1), lambda w: {mod97})) > 0"
    return {
        "bsn": bsn,
        "email": f"regexp_matches({column}, $email)",
        "iban": iban,
        "telefoon": f"regexp_matches({column}, $telefoon)",
    }


def screen_personal_data(
    conn: duckdb.DuckDBPyConnection, header: list[str], prefiltered: str | None = None
) -> list[Problem]:
    """Return one problem per (column, kind) with personal data; empty when clean.

    Without `prefiltered` the rows of `__dvcc_src` (text columns `c<i>`) are pre-filtered
    here; with it, `prefiltered` names a relation whose rows already passed the
    pre-filter, with `__rij` and text columns `v<i>`.
    """
    if not header:
        return []
    if prefiltered is None:
        columns = [f"c{i}" for i in range(len(header))]
        joined = "concat_ws(chr(31), " + ", ".join(columns) + ")"
        conn.execute(
            f"CREATE OR REPLACE TEMP TABLE __dvcc_pii_candidates AS SELECT * FROM {SRC} "
            f"WHERE regexp_matches({joined}, $prefilter)",
            {"prefilter": PREFILTER},
        )
        candidates = "__dvcc_pii_candidates"
    else:
        columns = [f"v{i}" for i in range(len(header))]
        candidates = prefiltered
    if conn.execute(f"SELECT count(*) FROM {candidates}").fetchone()[0] == 0:
        return []
    # One row per value of a candidate row; only values that pass the pre-filter themselves
    # get the (costly) exact tests.
    structs = [f"{{'soort': '{kind}', 'treffer': coalesce({test}, false)}}" for kind, test in _tests("waarde").items()]
    rows = conn.execute(
        f"""
        WITH cells AS (
            SELECT __rij, unnest(range({len(columns)})) AS kolom, unnest([{", ".join(columns)}]) AS waarde
            FROM {candidates}
        ),
        hits AS (
            SELECT __rij, kolom, unnest([{", ".join(structs)}]) AS h
            FROM cells WHERE regexp_matches(waarde, $prefilter)
        )
        SELECT kolom, h.soort, count(*), min(__rij, {FIRST_ROWS})
        FROM hits WHERE h.treffer
        GROUP BY ALL ORDER BY 1, 2
        """,
        {
            "prefilter": PREFILTER,
            "bsn": BSN_PATTERN,
            "email": EMAIL_PATTERN,
            "iban": IBAN_PATTERN,
            "iban_lengths": IBAN_LENGTHS,
            "telefoon": PHONE_PATTERN,
        },
    ).fetchall()
    problems = []
    for index, kind, hits, first_rows in rows:
        name = shown_value(header[index]) if header[index] else f"kolom {index + 1}"
        first_rows = sorted(int(r) for r in first_rows)
        more = f" (en nog {plural(hits - 1, 'rij', 'rijen')})" if hits > 1 else ""
        problems.append(
            Problem(
                code="persoonsgegevens",
                column=name,
                message=f"kolom `{name}`, rij {first_rows[0]}: bevat vermoedelijk {KINDS[kind]}"
                f"{more}; de waarde wordt niet getoond",
                rows=first_rows,
                count=int(hits),
            )
        )
    return problems
