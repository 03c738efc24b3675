"""Retention deletes raw files and rows past the contract's term and logs what it deleted."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from test_ingestion_samples import POLICE, police_rows, write_police

from dvcc_pipeline.config import get_settings
from dvcc_pipeline.contracts import load_partners
from dvcc_pipeline.ingestion import apply_retention, ingest_delivery


def test_retention_with_shortened_term(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVCC_HOME", str(tmp_path / "home"))
    settings = get_settings()
    settings.ensure_dirs(load_partners())
    conn = duckdb.connect(str(settings.warehouse_path))
    landing = settings.landing_for(POLICE)
    q2 = ingest_delivery(
        settings, conn, write_police(landing, police_rows(10, month=4), name="politie_registraties_2024Q2.csv")
    )
    q3 = ingest_delivery(settings, conn, write_police(landing, police_rows(10)))
    assert q2.status == q3.status == "geaccepteerd"
    conn.execute("CREATE TABLE main.gepubliceerd AS SELECT 42 AS aantal")

    # Q2 ends 2024-06-30, Q3 2024-09-30; with 100 days only Q2 has expired on 2024-10-15.
    actions = apply_retention(settings, conn, date(2024, 10, 15), {POLICE: 100})
    assert [(a.feed_id, a.period, a.rows_deleted, a.files_deleted) for a in actions] == [(POLICE, "2024Q2", 10, 1)]
    assert not q2.archive_path.exists() and q3.archive_path.exists()
    periods = conn.execute("SELECT DISTINCT _periode FROM raw.politie_registraties").fetchall()
    assert periods == [("2024Q3",)]
    log = conn.execute("SELECT feed, periode, rijen_verwijderd, leveringen FROM raw.retentie_log").fetchall()
    assert log == [(POLICE, "2024Q2", 10, [q2.delivery_id])]
    deleted = conn.execute("SELECT levering_id FROM raw.deliveries WHERE verwijderd_op IS NOT NULL").fetchall()
    assert deleted == [(q2.delivery_id,)]
    assert conn.execute("SELECT aantal FROM main.gepubliceerd").fetchone() == (42,)

    # Running again deletes nothing more; the contract's own 5 years keep Q3 in 2026.
    assert apply_retention(settings, conn, date(2024, 10, 15), {POLICE: 100}) == []
    assert apply_retention(settings, conn, date(2026, 1, 1)) == []
    conn.close()
