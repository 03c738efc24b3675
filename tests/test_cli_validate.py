"""`dvcc validate` as a partner runs it: the installed console script, exit codes, receipt on stdout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_ingestion_samples import bank_rows, csv_bytes, header, police_rows, write_police

DVCC = Path(sys.executable).with_name("dvcc")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


def validate(file: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DVCC_HOME": str(home)}
    result = subprocess.run([str(DVCC), "validate", str(file)], env=env, capture_output=True, text=True, timeout=120)
    assert list(home.iterdir()) == [], "validate mag niets in DVCC_HOME schrijven"
    return result


def test_valid_file_exits_0_with_dutch_receipt(tmp_path: Path, home: Path) -> None:
    result = validate(write_police(tmp_path, police_rows(20)), home)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# Ontvangstbewijs politie_registraties_2024Q3.csv" in result.stdout
    assert "**Status: Geaccepteerd**" in result.stdout
    assert "20 totaal, 20 geaccepteerd, 0 afgekeurd" in result.stdout
    assert "Geen bevindingen." in result.stdout


def test_invalid_row_below_threshold_exits_1(tmp_path: Path, home: Path) -> None:
    rows = police_rows(200)
    rows[7]["soort_registratie"] = "klacht"  # 1 of 200 = 0.5%, under the 1% threshold
    result = validate(write_police(tmp_path, rows), home)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Geaccepteerd, met afgekeurde rijen" in result.stdout
    assert "200 totaal, 199 geaccepteerd, 1 afgekeurd" in result.stdout
    assert "soort_registratie" in result.stdout


def test_bank_file_with_wrong_delimiter_exits_2(tmp_path: Path, home: Path) -> None:
    path = tmp_path / "bank_RABO_2024-07.csv"
    path.write_bytes(csv_bytes(header("bank_fraudemeldingen"), bank_rows(), delimiter=",", bom=True, crlf=True))
    result = validate(path, home)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "**Status: Afgekeurd**" in result.stdout
    assert "scheidingsteken" in result.stdout
