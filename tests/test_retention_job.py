"""The scheduled retention job deletes expired raw data through the warehouse resource."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest
from test_ingestion_samples import BANK, POLICE, write_bank, write_police

from dvcc_pipeline.config import get_settings
from dvcc_pipeline.contracts import load_partners
from dvcc_pipeline.ingestion import ingest_delivery
from dvcc_pipeline.ingestion.retention_job import RETENTION_JOB, RETENTION_SCHEDULE
from dvcc_pipeline.runtime.warehouse import WarehouseResource


def test_retention_job_deletes_expired_period_and_keeps_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DVCC_HOME", str(tmp_path / "home"))
    settings = get_settings()
    settings.ensure_dirs(load_partners())
    conn = duckdb.connect(str(settings.warehouse_path))
    police = ingest_delivery(settings, conn, write_police(settings.landing_for(POLICE)))
    bank = ingest_delivery(settings, conn, write_bank(settings.landing_for(BANK)))
    conn.close()
    assert police.status == bank.status == "geaccepteerd"
    assert police.archive_path.exists()

    # Police 2024Q3 ended 2024-09-30: 30 days have long passed; 100 000 days keep the bank month.
    result = RETENTION_JOB.execute_in_process(
        run_config={
            "ops": {"bewaartermijn_toepassen": {"config": {"retentie_dagen_override": {POLICE: 30, BANK: 100_000}}}}
        },
        resources={"warehouse": WarehouseResource()},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    assert result.output_for_node("bewaartermijn_toepassen") == 1
    # Reported as a change of the raw partition, so processing rebuilds what follows from it.
    emptied = [(m.asset_key, m.partition) for m in result.asset_materializations_for_node("bewaartermijn_toepassen")]
    assert emptied == [(dg.AssetKey(["raw", POLICE]), "2024Q3")]

    assert not police.archive_path.exists() and bank.archive_path.exists()
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as check:
        assert check.execute("SELECT count(*) FROM raw.politie_registraties").fetchone() == (0,)
        assert check.execute("SELECT count(*) FROM raw.bank_fraudemeldingen").fetchone() == (20,)
        deleted = check.execute("SELECT levering_id FROM raw.deliveries WHERE verwijderd_op IS NOT NULL").fetchall()
        assert deleted == [(police.delivery_id,)]
        log = check.execute("SELECT feed, periode, rijen_verwijderd, bestanden_verwijderd FROM raw.retentie_log")
        assert log.fetchall() == [(POLICE, "2024Q3", 20, 1)]


def test_retention_is_scheduled_weekly() -> None:
    assert RETENTION_SCHEDULE.job_name == RETENTION_JOB.name == "retentie"
    assert RETENTION_SCHEDULE.cron_schedule.split()[2:] == ["*", "*", "0"]
