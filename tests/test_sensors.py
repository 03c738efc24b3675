"""The landing sensor launches each complete delivery once, per period, and ignores uploads in progress."""

from __future__ import annotations

import os
import time
from pathlib import Path

import dagster as dg
import pytest
from test_ingestion_samples import police_rows, write_police

from dvcc_pipeline.config import get_settings
from dvcc_pipeline.operations.instance import prepare_instance

FEED = "politie_registraties"


@pytest.fixture
def landing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DVCC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DVCC_SETTLE_SECONDS", "5")
    prepare_instance(get_settings())
    return get_settings().landing_for(FEED)


def _evaluate(instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult:
    from dvcc_pipeline.ingestion.sensors import build_landing_sensor

    sensor = build_landing_sensor(FEED)
    context = dg.build_sensor_context(instance=instance, cursor=cursor)
    return sensor(context)


def _age(path: Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_sensor_launches_a_settled_file_once(landing: Path) -> None:
    with dg.instance_for_test() as instance:
        settled = write_police(landing)
        _age(settled, 60)
        fresh = write_police(landing, police_rows(month=10), name="politie_registraties_2024Q4.csv")
        (landing / "politie_registraties_2025Q1.csv.part").write_text("half", encoding="utf-8")

        first = _evaluate(instance, None)
        assert [r.partition_key for r in first.run_requests] == ["2024Q3"]
        assert first.dynamic_partitions_requests[0].partition_keys == ["2024Q3"]

        second = _evaluate(instance, first.cursor)
        assert second.run_requests == []

        _age(fresh, 60)
        third = _evaluate(instance, second.cursor)
        assert [r.partition_key for r in third.run_requests] == ["2024Q4"]
        assert (landing / "politie_registraties_2025Q1.csv.part").exists()


def test_sensor_sends_strays_to_the_cleanup_job(landing: Path) -> None:
    with dg.instance_for_test() as instance:
        stray = landing / "verkeerde_naam.csv"
        stray.write_text("a,b\n1,2\n", encoding="utf-8")
        _age(stray, 60)
        result = _evaluate(instance, None)
        assert [r.job_name for r in result.run_requests] == ["landing_opruimen"]


def test_many_periods_make_one_ranged_run(landing: Path) -> None:
    """A partner's backlog is one ingestion run over the range of new periods, not one per period."""
    with dg.instance_for_test() as instance:
        for name in ("2024Q3", "2024Q4", "2025Q1"):
            _age(write_police(landing, name=f"politie_registraties_{name}.csv"), 60)
        result = _evaluate(instance, None)
        (request,) = result.run_requests
        assert request.partition_key is None
        assert request.tags["dagster/asset_partition_range_start"] == "2024Q3"
        assert request.tags["dagster/asset_partition_range_end"] == "2025Q1"
        assert result.dynamic_partitions_requests[0].partition_keys == ["2024Q3", "2024Q4", "2025Q1"]
