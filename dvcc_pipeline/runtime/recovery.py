"""Runs whose process is gone: mark them failed so the warehouse pool slot is free again.

A run killed with SIGKILL (OOM killer, reboot, operator) stays "started" for ever in Dagster's
storage and keeps the single `dvcc_warehouse` pool slot, so every later run would wait on it.
Dagster's default run launcher cannot tell the daemon whether a run's process still lives,
so this module does: `dvcc run`, `dvcc serve` at start-up and a sensor under the daemon fail
the unfinished runs of this host whose process no longer exists, and free their slots.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import dagster as dg

PID_TAG = "dvcc/pid"
HOST_TAG = "dvcc/host"
ABORTED_TAG = "dvcc/afgebroken"
"""Set on a run failed here: the landing sensor launches the files it left in landing once more."""

_UNFINISHED = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.CANCELING]


def process_tags() -> dict[str, str]:
    """Tags for a run executed in this process (`dvcc run`)."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def _started_at(pid: int) -> float | None:
    """When process `pid` started (epoch seconds), or None when it does not exist."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        stat = Path("/proc/stat").read_text().splitlines()
        boot = next(float(line.split()[1]) for line in stat if line.startswith("btime"))
    except (OSError, StopIteration, IndexError):
        return None
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def _worker_pid(instance: dg.DagsterInstance, run: dg.DagsterRun) -> int | None:
    """The process that executes the run: our tag, or the first pid Dagster's engine logged."""
    if run.tags.get(PID_TAG, "").isdigit():
        return int(run.tags[PID_TAG])
    for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        data = entry.dagster_event.engine_event_data if entry.dagster_event else None
        pid = data.metadata.get("pid") if data else None
        if pid is not None and str(pid.value).isdigit():
            return int(pid.value)
    return None


def _is_dead(pid: int, run_start: float | None) -> bool:
    started = _started_at(pid)
    if started is None:
        return True
    # A process younger than the run got the pid after the run's own process died (a reboot).
    return run_start is not None and started > run_start + 5


def fail_dead_runs(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    """Fail the unfinished runs of this host whose process is gone, and free their pool slots."""
    host = socket.gethostname()
    failed = []
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=_UNFINISHED)):
        run = record.dagster_run
        if run.tags.get(HOST_TAG, host) != host:
            continue
        pid = _worker_pid(instance, run)
        if pid is None or pid == os.getpid() or not _is_dead(pid, record.start_time):
            continue
        instance.add_run_tags(run.run_id, {ABORTED_TAG: "proces bestond niet meer"})
        instance.report_run_failed(run, f"Het proces van deze run (pid {pid}) bestaat niet meer; run afgebroken.")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        failed.append(run)
    return failed


@dg.sensor(
    name="runs_zonder_proces",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Markeert runs waarvan het proces niet meer bestaat (gestopt door een herstart, geheugentekort of kill) "
        "als mislukt en geeft hun plek in de warehouse-pool vrij, zodat volgende runs niet blijven wachten."
    ),
)
def runs_zonder_proces(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    failed = fail_dead_runs(context.instance)
    if failed:
        return dg.SkipReason(f"{len(failed)} run(s) zonder proces afgebroken: {', '.join(r.run_id for r in failed)}")
    return dg.SkipReason("Geen runs zonder proces.")
