"""Shared fixtures: the scale-1 demo, run once per session for every test that needs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("demo_home")
    env = {**os.environ, "DVCC_HOME": str(home)}
    result = subprocess.run([str(BIN / "dvcc"), "demo"], env=env, capture_output=True, text=True, timeout=1800)
    (home / "demo_output.txt").write_text(result.stdout + result.stderr, encoding="utf-8")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return home
