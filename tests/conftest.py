"""Shared fixtures: the scale-1 demo, run once per session for every test that needs it.

The demo runs with the checkout (code, dbt project, venv) mounted read-only, in a mount
namespace of its own: every test on the demo thus also shows that all state is written under
DVCC_HOME (dbt's target and logs included) and that an install may be read-only.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from dvcc_pipeline.config import Settings, get_settings
from dvcc_pipeline.contracts import load_partners

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parent.parent


def read_only_checkout(command: list[str]) -> list[str]:
    """`command` with the checkout mounted read-only for it alone (root ignores file modes,
    not a read-only mount; without root, a user namespace lends the right to mount)."""
    namespace = ["unshare", "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        namespace.append("--map-root-user")
    return [*namespace, "sh", "-c", 'mount --bind -o ro "$0" "$0" && exec "$@"', str(REPO), *command]


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("demo_home")
    env = {**os.environ, "DVCC_HOME": str(home)}
    demo = read_only_checkout([str(BIN / "dvcc"), "demo"])
    result = subprocess.run(demo, env=env, capture_output=True, text=True, timeout=1800)
    (home / "demo_output.txt").write_text(result.stdout + result.stderr, encoding="utf-8")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return home


def fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, settle_seconds: str = "0") -> Settings:
    """A new DVCC_HOME with its folders and partner boxes, the test pseudonym key and a settle window."""
    monkeypatch.setenv("DVCC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DVCC_SETTLE_SECONDS", settle_seconds)
    monkeypatch.setenv("DVCC_PSEUDONYM_KEY", "test-sleutel")
    result = get_settings()
    result.home.mkdir(exist_ok=True)
    result.ensure_dirs(load_partners())
    return result


@pytest.fixture
def conn(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the warehouse of the test module's `settings` fixture."""
    connection = duckdb.connect(str(settings.warehouse_path))
    yield connection
    connection.close()
