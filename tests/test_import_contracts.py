"""The package's layout is its architecture: no import circle, nothing importing upward.

The contracts are declared in pyproject.toml (`[tool.importlinter]`) and checked by
import-linter over the package's real imports, those inside functions included.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dvcc_pipeline.config import REPO_ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_import_contracts_hold() -> None:
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", "--config", str(REPO_ROOT / "pyproject.toml")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "Contracts: 2 kept, 0 broken." in result.stdout
