"""Publication: atomic swap under a reading process, the contract, history, Parquet, extracts."""

from __future__ import annotations

import json
import multiprocessing
import re
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from test_publication_support import build_warehouse, reference_gemeenten

from dvcc_pipeline.config import get_settings
from dvcc_pipeline.publication.contract import load_published_contract
from dvcc_pipeline.publication.publish import extracts_dir, parquet_dir, publish, write_municipality_extracts

CONTRACT = load_published_contract()


@pytest.fixture()
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DVCC_HOME", str(tmp_path / "home"))
    settings = get_settings()
    build_warehouse(settings.warehouse_path)
    return settings


def _reader(path: str, started, stop, report) -> None:
    """Hold the published file open read-only and keep querying one snapshot."""
    try:
        conn = duckdb.connect(path, read_only=True)
        first = conn.execute("SELECT max(publicatie_id), count(*) FROM publicatie").fetchone()
        started.set()
        queries = 0
        while not stop.is_set():
            seen = conn.execute("SELECT max(publicatie_id), count(*) FROM publicatie").fetchone()
            total = conn.execute("SELECT sum(aangiften) FROM ind_delictsvormen_jaar").fetchone()
            if seen != first or total is None:
                report.put(("changed", seen, first))
                return
            queries += 1
        report.put(("ok", first[0], queries))
    except Exception as error:  # the test reports whatever went wrong in the reader
        report.put(("error", repr(error), 0))


def test_swap_keeps_a_reading_process_on_its_snapshot(settings) -> None:
    before = publish(settings)
    context = multiprocessing.get_context("spawn")
    started, stop, report = context.Event(), context.Event(), context.Queue()
    reader = context.Process(target=_reader, args=(str(settings.published_path), started, stop, report))
    reader.start()
    try:
        assert started.wait(60), "reader did not start"
        after = publish(settings)
        time.sleep(0.3)
    finally:
        stop.set()
        outcome = report.get(timeout=60)
        reader.join(30)
    assert outcome[0] == "ok", outcome
    assert outcome[1] == before.publicatie_id and outcome[2] > 0
    with duckdb.connect(str(settings.published_path), read_only=True) as conn:
        ids = [
            row[0] for row in conn.execute("SELECT publicatie_id FROM publicatie ORDER BY gepubliceerd_op").fetchall()
        ]
    assert ids == [before.publicatie_id, after.publicatie_id]
    assert not [p.name for p in settings.published_dir.iterdir() if p.name.startswith(".")]


def test_published_file_matches_the_contract(settings) -> None:
    publish(settings)
    with duckdb.connect(str(settings.published_path), read_only=True) as conn:
        tables = {
            row[0]
            for row in conn.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()
        }
        assert tables == {t.name for t in CONTRACT.tables}
        for table in CONTRACT.tables:
            described = conn.execute(f'DESCRIBE "{table.name}"').fetchall()
            actual = [(name, kind.replace(" ", "")) for name, kind, *_ in described]
            assert actual == [(c.name, c.physical_type.replace(" ", "")) for c in table.columns], table.name
    for table in CONTRACT.tables:
        parquet = pq.read_schema(parquet_dir(settings) / f"{table.name}.parquet")
        assert parquet.names == table.column_names


def test_publication_records_the_accepted_deliveries(settings) -> None:
    result = publish(settings, checks_passed=7, checks_total=8)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        expected = dict(conn.execute("SELECT levering_id, sha256 FROM raw.deliveries").fetchall())
    with duckdb.connect(str(settings.published_path), read_only=True) as conn:
        row = conn.execute(
            "SELECT leveringen, checks_geslaagd, checks_totaal, code_versie FROM publicatie WHERE publicatie_id = ?",
            [result.publicatie_id],
        ).fetchone()
    assert {d["levering_id"]: d["sha256"] for d in row[0]} == expected
    assert result.leveringen == len(expected)
    # Every Parquet reader sees the deliveries as data (a list of groups), not as bytes.
    column = pq.read_table(parquet_dir(settings) / "publicatie.parquet").column("leveringen")
    assert str(column.type) == (
        "list<element: struct<levering_id: string, feed: string, periode: string, sha256: string>>"
    )
    assert {d["levering_id"] for d in column.to_pylist()[-1]} == set(expected)
    assert row[1:3] == (7, 8) and row[3]


def test_history_written_under_contract_1_carries_over(settings) -> None:
    """A live file from before contract 2.0 (leveringen as JSON text, DuckDB's own storage)."""
    settings.published_dir.mkdir(parents=True)
    with duckdb.connect(str(settings.published_path)) as conn:
        conn.execute(
            "CREATE TABLE publicatie (publicatie_id VARCHAR, gepubliceerd_op TIMESTAMP, code_versie VARCHAR, "
            "leveringen JSON, checks_geslaagd INTEGER, checks_totaal INTEGER)"
        )
        conn.execute(
            "INSERT INTO publicatie VALUES ('oud', TIMESTAMP '2025-01-01 00:00:00', '0.1.0', "
            """'[{"levering_id": "L1", "feed": "politie_registraties", "periode": "2024Q4", "sha256": "ab"}]', 1, 1)"""
        )
    publish(settings)
    with duckdb.connect(str(settings.published_path), read_only=True) as conn:
        old = conn.execute("SELECT leveringen FROM publicatie WHERE publicatie_id = 'oud'").fetchone()[0]
    assert old == [{"levering_id": "L1", "feed": "politie_registraties", "periode": "2024Q4", "sha256": "ab"}]


def test_nothing_published_looks_like_a_pseudonym(settings) -> None:
    publish(settings)
    hexes = re.compile(r"^[0-9a-f]{64}$")
    with duckdb.connect(str(settings.published_path), read_only=True) as conn:
        for table in CONTRACT.tables:
            if table.name == "publicatie":
                continue  # holds the deliveries' file hashes, by design
            for column in table.columns:
                if column.physical_type != "VARCHAR":
                    continue
                values = conn.execute(f'SELECT DISTINCT "{column.name}" FROM "{table.name}"').fetchall()
                assert not any(v and hexes.match(v) for (v,) in values), f"{table.name}.{column.name}"


def test_municipality_extract_holds_only_its_own_picture(settings) -> None:
    publish(settings)
    written = write_municipality_extracts(settings)
    gemeenten = reference_gemeenten().set_index("gemeentecode")
    assert set(written) == set(gemeenten.index)
    code = "GM0303"  # Dronten: basisteam with Noordoostpolder and Urk
    own = gemeenten.loc[code]
    others = [c for c in gemeenten.index if c != code]
    other_names = set(gemeenten.loc[others, "gemeente"])
    other_teams = set(gemeenten["basisteam"]) - {own["basisteam"]}
    other_districts = set(gemeenten["district"]) - {own["district"]}
    with duckdb.connect(str(extracts_dir(settings) / f"{code}.duckdb"), read_only=True) as conn:
        for table in CONTRACT.tables:
            rows = conn.execute(f'SELECT * FROM "{table.name}"').fetchall()
            for row in rows:
                text = {str(v) for v in row}
                assert not text & set(others), (table.name, row)
                assert not text & (other_names | other_teams | other_districts), (table.name, row)
        levels = dict(
            conn.execute(
                "SELECT regio_niveau, list(DISTINCT regio_code) FROM ind_delictsvormen_jaar GROUP BY 1"
            ).fetchall()
        )
        assert levels == {
            "gemeente": [code],
            "basisteam": [own["basisteam"]],
            "district": [own["district"]],
            "eenheid": [own["eenheid"]],
        }
        assert conn.execute("SELECT list(DISTINCT gemeentecode) FROM fct_meldingen_kwartaal").fetchone()[0] == [code]
    # The figures equal the full publication's rows for this municipality.
    with duckdb.connect(str(settings.published_path), read_only=True) as conn:
        expected = conn.execute(
            "SELECT sum(aangiften), count(*) FROM ind_delictsvormen_jaar WHERE regio_code = ?", [code]
        ).fetchone()
    with duckdb.connect(str(written[code]), read_only=True) as conn:
        got = conn.execute(
            "SELECT sum(aangiften), count(*) FROM ind_delictsvormen_jaar WHERE regio_niveau = 'gemeente'"
        ).fetchone()
    assert got == expected


def test_published_contract_is_valid_odcs() -> None:
    import jsonschema
    import open_data_contract_standard
    import yaml

    from dvcc_pipeline.publication.contract import PUBLISHED_CONTRACT_PATH

    schema = json.loads((Path(open_data_contract_standard.__file__).parent / "schema.json").read_text())
    document = yaml.safe_load(PUBLISHED_CONTRACT_PATH.read_text(encoding="utf-8"))
    errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(document)]
    assert errors == []
