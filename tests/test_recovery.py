"""A run whose process was killed: failed, its pool slot freed, its files launched again.

The killed run is real: a job holding the warehouse pool slot SIGKILLs its own process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from test_ingestion_samples import write_police

from dvcc_pipeline.config import get_settings
from dvcc_pipeline.operations.instance import get_instance
from dvcc_pipeline.runtime.recovery import ABORTED_TAG, fail_dead_runs
from dvcc_pipeline.runtime.warehouse import WAREHOUSE_POOL

FEED = "politie_registraties"

# A job with the name of the police ingestion job whose only step takes the warehouse slot
# and is then killed with its process, as the OOM killer or `kill -9` would.
_KILLED_RUN = f"""
import os, signal
import dagster as dg
from dvcc_pipeline.config import get_settings
from dvcc_pipeline.operations.instance import get_instance
from dvcc_pipeline.runtime.recovery import process_tags

@dg.op(pool="{WAREHOUSE_POOL}")
def laden():
    os.kill(os.getpid(), signal.SIGKILL)

@dg.job(name="ingestie_{FEED}")
def job():
    laden()

job.execute_in_process(instance=get_instance(get_settings()), tags=process_tags())
"""


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DVCC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DVCC_SETTLE_SECONDS", "5")
    with get_instance(get_settings()) as instance:
        yield instance


def test_a_killed_run_is_failed_its_slot_freed_and_its_files_launched_again(instance: dg.DagsterInstance) -> None:
    from dvcc_pipeline.ingestion.sensors import build_landing_sensor

    landing = get_settings().landing_for(FEED)
    delivery = write_police(landing)
    past = time.time() - 60
    os.utime(delivery, (past, past))
    sensor = build_landing_sensor(FEED)
    first = sensor(dg.build_sensor_context(instance=instance))
    assert len(first.run_requests) == 1  # launched; the run below dies before it moves the file

    killed = subprocess.run([sys.executable, "-c", _KILLED_RUN], env=os.environ, capture_output=True, timeout=300)
    assert killed.returncode == -9
    (run,) = instance.get_runs()
    assert run.status == dg.DagsterRunStatus.STARTED
    assert instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).active_run_ids == {run.run_id}

    assert [r.run_id for r in fail_dead_runs(instance)] == [run.run_id]
    run = instance.get_run_by_id(run.run_id)
    assert run.status == dg.DagsterRunStatus.FAILURE
    assert ABORTED_TAG in run.tags
    assert instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).active_slot_count == 0
    assert fail_dead_runs(instance) == []  # once

    again = sensor(dg.build_sensor_context(instance=instance, cursor=first.cursor))
    assert [r.partition_key for r in again.run_requests] == ["2024Q3"]
    assert again.run_requests[0].run_key != first.run_requests[0].run_key


def test_a_live_run_is_left_alone(instance: dg.DagsterInstance) -> None:
    """The run of this very process (and any live one) is never failed."""

    @dg.op
    def check_from_inside(context) -> None:
        assert fail_dead_runs(context.instance) == []

    @dg.job
    def live() -> None:
        check_from_inside()

    from dvcc_pipeline.runtime.recovery import process_tags

    assert live.execute_in_process(instance=instance, tags=process_tags()).success
