"""What a `dvcc` command pays before it works: no stray warnings, no needless imports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from dvcc_pipeline.config import CONTRACTS_DIR
from dvcc_pipeline.contracts.loader import read_yaml

BIN = Path(sys.executable).parent


def test_demo_prints_no_dagster_beta_warning(demo_home: Path) -> None:
    output = (demo_home / "demo_output.txt").read_text(encoding="utf-8")
    assert "Niets te verwerken" in output or "Klaar in" in output  # the demo's runs really ran
    assert "BetaWarning" not in output, "a Dagster beta warning reached the user's terminal"


def test_loading_the_jobs_and_sensors_prints_no_beta_warning(demo_home: Path) -> None:
    """In a fresh process, the moment Dagster binds sensors to jobs (which once printed the warning)."""
    code = (
        "from dvcc_pipeline.definitions import defs\n"
        "repository = defs.get_repository_def()\n"
        "assert repository.sensor_defs and repository.get_all_jobs()\n"
    )
    env = {**os.environ, "DVCC_HOME": str(demo_home)}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Warning" not in result.stderr, result.stderr[-3000:]


def test_nothing_to_do_answers_without_loading_dagster_or_dbt(demo_home: Path) -> None:
    """After the demo, `dvcc run` finds nothing new on its fast path: Dagster, dbt and GX stay unloaded."""
    env = {**os.environ, "DVCC_HOME": str(demo_home)}
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "dvcc_pipeline.cli", "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("Niets te doen"), result.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import")}
    assert "dvcc_pipeline.contracts" in imported  # the import log is really there
    assert not imported & {"dagster", "dagster_dbt", "dbt", "great_expectations", "pandas"}


def test_contracts_read_by_libyaml_as_by_the_pure_python_loader() -> None:
    for path in sorted(CONTRACTS_DIR.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert read_yaml(text) == yaml.safe_load(text), path.name
