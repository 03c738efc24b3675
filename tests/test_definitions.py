"""The Dagster code location loads, and its asset graph has the shape the UI should show."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from dvcc_pipeline.config import FEEDS, REPO_ROOT

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def asset_graph(tmp_path_factory: pytest.TempPathFactory):
    os.environ.setdefault("DVCC_HOME", str(tmp_path_factory.mktemp("home")))
    from dvcc_pipeline.definitions import defs

    return defs.resolve_asset_graph()


def test_every_feed_has_a_partitioned_ingestion_asset(asset_graph) -> None:
    for feed_id in FEEDS:
        node = asset_graph.get(dg.AssetKey(["raw", feed_id]))
        assert node.group_name == "ingestie"
        assert node.partitions_def is not None


def test_lineage_runs_from_ingestion_to_marts(asset_graph) -> None:
    police = dg.AssetKey(["raw", "politie_registraties"])
    seen: set[dg.AssetKey] = set()
    frontier = [police]
    while frontier:
        key = frontier.pop()
        for child in asset_graph.get(key).child_keys:
            if child not in seen:
                seen.add(child)
                frontier.append(child)
    names = {k.path[-1] for k in seen}
    assert "int_meldingen" in names
    assert "ind_delictsvormen_jaar" in names


def test_dbt_layers_are_groups(asset_graph) -> None:
    groups = {asset_graph.get(k).group_name for k in asset_graph.get_all_asset_keys()}
    assert {"ingestie", "referentie", "staging", "intermediate", "marts"} <= groups


def test_workspace_validates() -> None:
    result = subprocess.run(
        [str(BIN / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("command", ["generate", "run", "demo", "validate", "ui", "bench", "report"])
def test_every_command_has_help(command: str) -> None:
    result = subprocess.run([str(BIN / "dvcc"), command, "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "--home" in result.stdout
