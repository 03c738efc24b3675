"""The dbt project handle and the dbt CLI resource, both pointing at the venv's dbt."""

from __future__ import annotations

import os
import sys
import uuid
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject
from packaging.version import Version

from dvcc_pipeline.config import DBT_PROJECT_DIR, get_settings

# The venv's dbt, so nothing depends on PATH (the Makefile calls .venv/bin/... directly),
# through `dvcc-dbt`, which makes dbt die with the run that started it.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dvcc-dbt"))


def _target_dir() -> Path:
    """dbt's target folder of the current DVCC_HOME (never inside the installed project)."""
    return get_settings().dbt_target_dir


dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, target_path=_target_dir())

_SOURCE_GLOBS = ("dbt_project.yml", "profiles.yml", "models/**/*", "seeds/**/*", "macros/**/*", "tests/**/*")


# dbt reuses its parse (partial parsing) only while the profile is unchanged, and the
# profile's path is the warehouse of the current DVCC_HOME; the parse records which one.
_PARSED_FOR = "geparsed_voor_warehouse.txt"


def _warehouse_path() -> str:
    """The warehouse dbt's profile names: exported by the entry points, else this DVCC_HOME's."""
    return os.environ.get("DVCC_WAREHOUSE_PATH") or str(get_settings().warehouse_path)


def _manifest_is_stale(target: Path) -> bool:
    manifest, parsed_for = target / "manifest.json", target / _PARSED_FOR
    if not manifest.exists() or not parsed_for.exists():
        return True
    if parsed_for.read_text(encoding="utf-8") != _warehouse_path():
        return True
    built = manifest.stat().st_mtime
    return any(
        path.stat().st_mtime > built
        for pattern in _SOURCE_GLOBS
        for path in DBT_PROJECT_DIR.glob(pattern)
        if path.is_file()
    )


class VenvDbtCliResource(DbtCliResource):
    """The dbt CLI resource for the venv's own dbt-core.

    dagster-dbt learns the dbt version by running `dbt --version` once per run (a Python
    start-up of about 3 s); the executable is the venv's dbt-core, so its package metadata
    answers the same question at no cost.
    """

    @cached_property
    def _cli_version(self) -> Version:
        return Version(installed_version("dbt-core"))


def dbt_resource() -> DbtCliResource:
    # dbt's messages reach the run page and the logs as text: no terminal colour codes in them.
    return VenvDbtCliResource(
        project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE, global_config_flags=["--no-use-colors"]
    )


def invocation_target(context: dg.AssetExecutionContext) -> Path:
    """A fresh target (and log) folder for one dbt invocation of a run, under the home's dbt
    target: named as dagster-dbt names its own, but never inside the installed project, even
    in a process that did not export DBT_TARGET_PATH."""
    return _target_dir() / f"{context.op_execution_context.op.name}-{context.run.run_id[:7]}-{uuid.uuid4().hex[:7]}"


def ensure_manifest() -> Path:
    """Parse the dbt project when its manifest is missing or older than a project file.

    Dagster needs the manifest to build the asset graph at load time; parsing only when
    something changed keeps `dagster dev` and the CLI quick to start. dagster-dbt copies this
    parse's `partial_parse.msgpack` into every run's target folder, so each `dbt build` skips
    the full parse (about 5 s) — but only if it was made for the same warehouse path.
    """
    target = _target_dir()
    if _manifest_is_stale(target):
        target.mkdir(parents=True, exist_ok=True)
        dbt_resource().cli(["parse", "--quiet"], target_path=target).wait()
        (target / _PARSED_FOR).write_text(_warehouse_path(), encoding="utf-8")
    return target / "manifest.json"


def mart_asset_key(model_name: str) -> dg.AssetKey:
    """The Dagster key of a dbt mart: dagster-dbt prefixes the model's custom schema."""
    return dg.AssetKey(["marts", model_name])
