"""The dbt project handle and the dbt CLI resource, both pointing at the venv's dbt."""

from __future__ import annotations

import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject

from dvcc_pipeline.config import DBT_PROJECT_DIR

# The venv's dbt, so nothing depends on PATH (the Makefile calls .venv/bin/... directly).
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR)

_SOURCE_GLOBS = ("dbt_project.yml", "profiles.yml", "models/**/*", "seeds/**/*", "macros/**/*",
                 "tests/**/*")


def _manifest_is_stale() -> bool:
    manifest = dbt_project.manifest_path
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    return any(
        path.stat().st_mtime > built
        for pattern in _SOURCE_GLOBS
        for path in DBT_PROJECT_DIR.glob(pattern)
        if path.is_file()
    )


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)


def ensure_manifest() -> Path:
    """Parse the dbt project when its manifest is missing or older than a project file.

    Dagster needs the manifest to build the asset graph at load time; parsing only when
    something changed keeps `dagster dev` and the CLI quick to start.
    """
    if _manifest_is_stale():
        dbt_resource().cli(["parse", "--quiet"], target_path=dbt_project.target_path).wait()
    return dbt_project.manifest_path


def mart_asset_key(model_name: str) -> dg.AssetKey:
    """The Dagster key of a dbt mart: dagster-dbt prefixes the model's custom schema."""
    return dg.AssetKey(["marts", model_name])
