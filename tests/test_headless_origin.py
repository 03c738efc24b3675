"""Headless runs belong to the code location: the UI's Overview and Jobs pages list a job's runs
by the repository label, so `dvcc run`'s runs must carry the one of `workspace.yaml`."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import yaml

from dvcc_pipeline.config import REPO_ROOT
from dvcc_pipeline.operations.headless import CODE_LOCATION, REPOSITORY_LABEL_TAG


def test_workspace_names_the_code_location_headless_runs_carry() -> None:
    workspace = yaml.safe_load((REPO_ROOT / "workspace.yaml").read_text(encoding="utf-8"))
    assert [entry["python_module"]["location_name"] for entry in workspace["load_from"]] == [CODE_LOCATION]


def test_demo_runs_are_found_the_way_the_ui_lists_a_location(demo_home: Path) -> None:
    with dg.DagsterInstance.from_config(str(demo_home / "dagster")) as instance:
        every_run = instance.get_runs()
        label = f"__repository__@{CODE_LOCATION}"
        listed = instance.get_runs(filters=dg.RunsFilter(tags={REPOSITORY_LABEL_TAG: label}))
    assert every_run, "the demo made no Dagster runs"
    assert {run.run_id for run in listed} == {run.run_id for run in every_run}
    assert {"verwerking"} <= {run.job_name for run in listed}
    assert "ingestie" in {run.job_name for run in listed}  # one ingestion run for all feeds
