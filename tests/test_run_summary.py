"""The summary of one run, from the real delivery ledger: what arrived in this run, earlier
rejections a correction fixed, `vervangen` explained; the demo's scenario check."""

from __future__ import annotations

import json

import duckdb
import pytest

from dvcc_pipeline.demo.generator import Scenario
from dvcc_pipeline.ingestion.ledger import ensure_raw_schema
from dvcc_pipeline.operations.summary import run_summary, scenario_check


def _add(conn, delivery_id, name, period, version, status, *, rejected=0, replaced_by=None, problem=None):
    conn.execute(
        "insert into raw.deliveries (levering_id, feed, bestandsnaam, periode, leverancier, versie, status, "
        "rijen_afgekeurd, problemen, vervangen_door, verwerkt_op) values (?, 'bank_fraudemeldingen', ?, ?, 'KNAB', "
        "?, ?, ?, ?, ?, now())",
        [
            delivery_id,
            name,
            period,
            version,
            status,
            rejected,
            json.dumps([{"melding": problem}] if problem else []),
            replaced_by,
        ],
    )


@pytest.fixture
def conn():
    with duckdb.connect() as connection:
        ensure_raw_schema(connection)
        yield connection


def test_first_run_lists_only_what_did_not_simply_go_in(conn) -> None:
    _add(conn, "a", "bank_KNAB_2025-01.csv", "2025-01", 1, "geaccepteerd")
    _add(conn, "b", "bank_KNAB_2025-02.csv", "2025-02", 1, "afgekeurd", problem="verkeerd scheidingsteken")
    _add(conn, "c", "bank_KNAB_2025-03.csv", "2025-03", 1, "geaccepteerd_met_afkeur", rejected=1, problem="rij 4")
    lines = run_summary(conn, before={})
    assert (
        lines[0] == "Deze run: 3 bestanden ontvangen — 1 geaccepteerd, 1 geaccepteerd met afgekeurde rijen, 1 afgekeurd"
    )
    assert "  ✗ bank_KNAB_2025-02.csv: afgekeurd — verkeerd scheidingsteken" in lines
    assert "  ! bank_KNAB_2025-03.csv: geaccepteerd met afgekeurde rijen (1 rij afgekeurd) — rij 4" in lines
    assert not any("2025-01" in line for line in lines)


def test_second_run_shows_fixes_and_explains_replaced(conn) -> None:
    _add(conn, "a", "bank_KNAB_2025-01.csv", "2025-01", 1, "vervangen", replaced_by="c")
    _add(conn, "b", "bank_KNAB_2025-02.csv", "2025-02", 1, "afgekeurd", problem="verkeerd scheidingsteken")
    before = {"a": "geaccepteerd", "b": "afgekeurd"}
    _add(conn, "c", "bank_KNAB_2025-01_v2.csv", "2025-01", 2, "geaccepteerd")
    _add(conn, "d", "bank_KNAB_2025-02_v2.csv", "2025-02", 2, "geaccepteerd")
    lines = run_summary(conn, before)
    assert lines[0] == "Deze run: 2 bestanden ontvangen — 2 geaccepteerd"
    assert "  ↻ bank_KNAB_2025-01.csv (eerdere run): vervangen door bank_KNAB_2025-01_v2.csv" in lines
    assert "  ✓ bank_KNAB_2025-02.csv (eerdere run): afkeur opgelost door bank_KNAB_2025-02_v2.csv" in lines
    assert any(line.strip().startswith("(vervangen: een correctie met een hoger versienummer") for line in lines)
    assert not any(line.startswith("Nog open") for line in lines)


def test_nothing_new_and_open_rejections(conn) -> None:
    _add(conn, "b", "bank_KNAB_2025-02.csv", "2025-02", 1, "afgekeurd", problem="x")
    lines = run_summary(conn, {"b": "afgekeurd"})
    assert lines == [
        "Deze run: geen nieuwe bestanden ontvangen.",
        "Nog open uit eerdere runs: 1 afgekeurd zonder correctie (bank_KNAB_2025-02.csv)",
    ]


def test_scenario_check_marks_each_scenario(conn) -> None:
    _add(conn, "a", "bank_KNAB_2025-01.csv", "2025-01", 1, "geaccepteerd")
    _add(conn, "b", "bank_KNAB_2025-01.csv", "2025-01", 1, "duplicaat")
    scenarios = [
        Scenario("bank_KNAB_2025-01.csv", 2, "duplicaat", ""),
        Scenario("bank_KNAB_2025-01.csv", 1, "afgekeurd", ""),
        Scenario("bank_KNAB_2025-09.csv", 1, "geaccepteerd", ""),
    ]
    lines, ok = scenario_check(conn, scenarios)
    assert not ok
    assert lines[0] == "  ✓ ronde 2: bank_KNAB_2025-01.csv → duplicaat"
    assert lines[1] == "  ✗ ronde 1: bank_KNAB_2025-01.csv → geaccepteerd (verwacht afgekeurd, werkelijk geaccepteerd)"
    assert lines[2].startswith("  ✗ ronde 1: bank_KNAB_2025-09.csv → niet ontvangen")
