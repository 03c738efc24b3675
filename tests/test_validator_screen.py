"""The personal-data pre-filter lets through everything the exact tests flag."""

from __future__ import annotations

import re

import duckdb
import pytest

from dvcc_pipeline.ingestion.screen import PREFILTER, screen_personal_data

FLAGGED = [
    "BSN 111222333 genoemd",
    "j.jansen@example.nl",
    "rekening NL91 ABNA 0417 1643 00",
    "rekening nl91abna0417164300",
    "ıt60x0542811101000000123456",  # dotless i: upper() turns it into the Italian IBAN IT60…
    "bel 06-12345678",
]
CLEAN = ["PC54164FDF9E1DE46", "PE2600000076B06B7", "GM0344", "2024-07-01", "162.00"]


def _screen(values: list[str]) -> list[tuple[str | None, list[int]]]:
    conn = duckdb.connect()
    conn.execute("CREATE TEMP TABLE __dvcc_src_data (__rij BIGINT, c0 VARCHAR)")
    conn.executemany("INSERT INTO __dvcc_src_data VALUES (?, ?)", [(i + 2, v) for i, v in enumerate(values)])
    conn.execute("CREATE TEMP VIEW __dvcc_src AS SELECT * FROM __dvcc_src_data")
    return [(p.column, p.rows) for p in screen_personal_data(conn, ["omschrijving"])]


@pytest.mark.parametrize("value", FLAGGED)
def test_personal_data_is_flagged_and_passes_the_prefilter(value: str) -> None:
    assert re.search(PREFILTER, value), "pre-filter must accept what the exact test flags"
    found = _screen([*CLEAN, value])
    assert found and {(column, tuple(rows)) for column, rows in found} == {("omschrijving", (len(CLEAN) + 2,))}


def test_police_like_ids_are_no_candidates() -> None:
    assert not any(re.search(PREFILTER, value) for value in CLEAN[:2])
    assert _screen(CLEAN) == []
