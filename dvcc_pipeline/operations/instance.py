"""The Dagster instance under DVCC_HOME, so a demo leaves nothing outside the repo.

Dagster's own storage (runs, events, schedules, pool slots) is SQLite in DVCC_HOME unless
DVCC_DAGSTER_PG_URL points at PostgreSQL; the limits below are the same for both.
"""

from __future__ import annotations

import dagster as dg

from dvcc_pipeline.config import Settings, export_to_environment
from dvcc_pipeline.contracts import load_partners

_SQLITE_STORAGE = """\
storage:
  sqlite:
    base_dir: {base}/storage
"""

# The URL (with its password) stays in the environment; the file only names the variable.
_POSTGRES_STORAGE = """\
storage:
  postgres:
    postgres_url:
      env: DVCC_DAGSTER_PG_DRIVER_URL
"""

# The storage classes are named by module path, as Dagster's dagster.yaml reference names them;
# that is configuration read by Dagster itself, not an import of its private modules.
_INSTANCE_YAML = """\
# Written by dvcc; Dagster's own storage for this DVCC_HOME.
{storage}local_artifact_storage:
  module: dagster._core.storage.root
  class: LocalArtifactStorage
  config:
    base_dir: {base}
compute_logs:
  module: dagster._core.storage.local_compute_log_manager
  class: LocalComputeLogManager
  config:
    base_dir: {base}/logs
concurrency:
  pools:
    # DuckDB allows one writer: every warehouse step runs in a pool of one.
    default_limit: 1
  runs:
    max_concurrent_runs: 1
# The queue is looked at every second (default 5) and the sensors are evaluated side by side:
# a delivery waits for the settle window, not for the daemon (docs/operations.md, "Latency").
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    dequeue_interval_seconds: 1
sensors:
  use_threads: true
  num_workers: 4
# The daemon marks a run whose worker process died as failed, which frees its pool slot.
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  cancel_timeout_seconds: 180
  poll_interval_seconds: 5  # a dead worker is found, and its slot freed for the retry, within seconds
  # a dead run's slot is free for its retry at the next poll (the in-process executor leaves no step behind)
  free_slots_after_run_end_seconds: 5
# A run whose process died (kill, out of memory, a stop of the service) is launched again;
# one whose step or check failed is not: the same data would fail the same way.
run_retries:
  enabled: true
  max_retries: 2
  retry_on_asset_or_op_failure: false
telemetry:
  enabled: false
# No community pop-up on the first visit to the UI.
nux:
  enabled: false
"""


def instance_yaml(settings: Settings) -> str:
    storage = _POSTGRES_STORAGE if settings.dagster_pg_url else _SQLITE_STORAGE
    return _INSTANCE_YAML.format(storage=storage.format(base=settings.dagster_home), base=settings.dagster_home)


def prepare_instance(settings: Settings) -> None:
    """Create DVCC_HOME's folders and Dagster's instance config, and export the paths."""
    settings.ensure_dirs(load_partners())
    target = settings.dagster_home / "dagster.yaml"
    text = instance_yaml(settings)
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")
    export_to_environment(settings)


def get_instance(settings: Settings) -> dg.DagsterInstance:
    prepare_instance(settings)
    return dg.DagsterInstance.get()
