"""The Dagster instance under DVCC_HOME, so a demo leaves nothing outside the repo."""

from __future__ import annotations

import dagster as dg

from dvcc_pipeline.config import Settings, export_to_environment

_INSTANCE_YAML = """\
# Written by dvcc; Dagster's own storage for this DVCC_HOME.
storage:
  sqlite:
    base_dir: {base}/storage
local_artifact_storage:
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
telemetry:
  enabled: false
"""


def prepare_instance(settings: Settings) -> None:
    """Create DVCC_HOME's folders and Dagster's instance config, and export the paths."""
    settings.ensure_dirs()
    (settings.dagster_home / "dagster.yaml").write_text(
        _INSTANCE_YAML.format(base=settings.dagster_home), encoding="utf-8"
    )
    export_to_environment(settings)


def get_instance(settings: Settings) -> dg.DagsterInstance:
    prepare_instance(settings)
    return dg.DagsterInstance.get()
