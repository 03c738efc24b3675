"""Random corruptions of a valid file never make ingestion raise or lose the file."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_ingestion_samples import POLICE, csv_bytes, header, police_rows

from dvcc_pipeline.config import get_settings
from dvcc_pipeline.contracts import load_partners
from dvcc_pipeline.ingestion import ingest_delivery

VALID = csv_bytes(header(POLICE), police_rows(8))


@st.composite
def corrupted(draw: st.DrawFn) -> bytes:
    data = bytearray(VALID)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "drop_column", "garbage"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.sampled_from([b",", b'"', b";", b"\n", b'","', b"\r\n"]))
        elif kind == "garbage":
            data[at:at] = draw(st.binary(min_size=1, max_size=12))
        else:
            column = draw(st.integers(0, len(header(POLICE)) - 1))
            lines = bytes(data).split(b"\n")
            data = bytearray(
                b"\n".join(b",".join(p for i, p in enumerate(line.split(b",")) if i != column) for line in lines)
            )
    return bytes(data)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=corrupted())
def test_corrupted_file_ends_in_exactly_one_place_with_a_receipt(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, data: bytes
) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("DVCC_HOME", str(home))
    config = get_settings()
    config.ensure_dirs(load_partners())
    landing = config.landing_for(POLICE)
    path = landing / "politie_registraties_2024Q3.csv"
    path.write_bytes(data)
    conn = duckdb.connect(str(config.warehouse_path))
    try:
        receipt = ingest_delivery(config, conn, path)
        ledger = conn.execute("SELECT count(*), min(status) FROM raw.deliveries").fetchone()
    finally:
        conn.close()
    assert "interne_fout" not in {p.code for p in receipt.problems}
    assert list(landing.iterdir()) == []
    places = [
        p
        for folder in (config.archive_dir, config.quarantine_dir, config.restricted_quarantine_dir)
        for p in folder.rglob("*")
        if p.is_file()
    ]
    assert places == [receipt.archive_path]
    assert places[0].read_bytes() == data
    assert receipt.receipt_path.is_file() and ledger == (1, receipt.status)
    assert receipt.status in {"geaccepteerd", "geaccepteerd_met_afkeur", "afgekeurd"}
