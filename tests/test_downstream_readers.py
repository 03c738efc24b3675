"""Downstream readers: older DuckDBs open every published file, datacontract-cli tests the contracts.

The readers live in their own venvs (.venv-compat/, made by `make compat`, which `make test` runs),
never in the project's environment; each is started once, as a subprocess, on the demo's files.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dvcc_pipeline.config import CONTRACTS_DIR, FEEDS, PARTNERS_FILE, REPO_ROOT
from dvcc_pipeline.publication.contract import load_published_contract

COMPAT = REPO_ROOT / ".venv-compat"
READERS = [
    line.strip()
    for line in (REPO_ROOT / "tests" / "compat" / "readers.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
]
DATACONTRACT = next(
    line.split("==")[1].strip()
    for line in (REPO_ROOT / "tests" / "compat" / "datacontract.lock").read_text().splitlines()
    if line.startswith("datacontract-cli==")
)
EXTRACT = "GM0303"  # Dronten
CONTRACT = load_published_contract()


def _venv_python(name: str) -> Path:
    python = COMPAT / name / "bin" / "python"
    if not (COMPAT / name / ".installed").exists():
        pytest.fail(f"{python} ontbreekt: maak de lezers met `make compat` (make test doet dat zelf)")
    return python


def _read(python: Path | str, home: Path) -> dict:
    files = [home / "published" / "published.duckdb", home / "published" / "gemeenten" / f"{EXTRACT}.duckdb"]
    result = subprocess.run(
        [str(python), str(REPO_ROOT / "tests" / "compat" / "read_published.py"), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.stdout, result.stderr[-2000:]
    return json.loads(result.stdout)


@pytest.fixture(scope="session")
def current_reading(demo_home: Path) -> dict:
    """What the project's own DuckDB (2.x) reads: the reference for every older reader."""
    reading = _read(sys.executable, demo_home)
    assert "files" in reading, reading
    return reading


def test_minimum_reader_is_the_contracts_promise() -> None:
    assert READERS[0].rsplit(".", 1)[0] == CONTRACT.minimum_reader_version.rsplit(".", 1)[0]
    assert CONTRACT.storage_version == f"v{CONTRACT.minimum_reader_version}"


@pytest.mark.parametrize("version", READERS)
def test_older_duckdb_reads_every_row_of_the_publication_and_an_extract(
    version: str, demo_home: Path, current_reading: dict
) -> None:
    reading = _read(_venv_python(f"duckdb-{version}"), demo_home)
    assert reading["duckdb"] == version
    assert "error" not in reading, reading.get("error")
    assert reading["files"] == current_reading["files"]
    published, extract = current_reading["files"].values()
    names = {t.name for t in CONTRACT.tables}
    assert set(published) == names and set(extract) == names
    assert all(rows > 0 for rows, _ in published.values())
    assert extract["fct_meldingen_kwartaal"][0] < published["fct_meldingen_kwartaal"][0]


def _broken_copy(delivered: Path, target: Path) -> None:
    """The delivered file with one unknown maatschappelijke_klasse: datacontract test must fail."""
    lines = delivered.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\r\n").split(",")
    row = lines[1].rstrip("\r\n").split(",")
    row[header.index("maatschappelijke_klasse")] = "X999"
    target.write_text("".join([lines[0], ",".join(row) + "\n", *lines[2:]]), encoding="utf-8")


def test_datacontract_cli_lints_and_tests_the_contracts(demo_home: Path, tmp_path: Path) -> None:
    """One run of datacontract-cli: every contract lints clean, the published contract passes on
    both servers, and the police contract's landing server on a delivered file (and fails on a
    broken copy of it)."""
    python = _venv_python(f"datacontract-{DATACONTRACT}")
    published = tmp_path / "home" / "published"
    published.mkdir(parents=True)
    shutil.copy2(demo_home / "published" / "published.duckdb", published / "published.duckdb")
    shutil.copytree(demo_home / "published" / "parquet", published / "parquet")
    delivered = sorted((demo_home / "archive" / "politie_registraties").rglob("*.csv"))[0]
    good, bad = tmp_path / "home", tmp_path / "kapot"
    for home in (good, bad):
        (home / "landing" / "politie_registraties").mkdir(parents=True)
    name = delivered.name.split("__", 1)[1]  # the partner's own file name, without the archive stamp
    shutil.copy2(delivered, good / "landing" / "politie_registraties" / name)
    _broken_copy(delivered, bad / "landing" / "politie_registraties" / name)
    contracts = sorted(p for p in CONTRACTS_DIR.glob("*.yaml") if p != PARTNERS_FILE)  # the registry is no ODCS
    police = str(CONTRACTS_DIR / "politie_registraties.yaml")
    published_contract = str(CONTRACTS_DIR / "published.yaml")
    check = REPO_ROOT / "tests" / "compat" / "datacontract_check.py"
    command = [str(python), str(check), "--lint", *map(str, contracts)]
    for test in (
        ("published", good, published_contract, "published"),
        ("parquet", good, published_contract, "parquet"),
        ("politie", good, police, "landing"),
        ("politie_kapot", bad, police, "landing"),
    ):
        command += ["--test", *map(str, test)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.stdout, result.stderr[-3000:]
    report = json.loads(result.stdout)

    assert len(report["lint"]) == len(FEEDS) + 1
    for contract, checks in report["lint"].items():
        assert [c for c in checks if c[0] != "passed"] == [], contract

    tests = report["test"]
    not_passed = {name: [c for c in run["checks"] if c[0] != "passed"] for name, run in tests.items()}
    assert tests["published"]["result"] == "passed", not_passed["published"]
    # Parquet: every check passes; the tool only says it cannot check Parquet types yet.
    assert tests["parquet"]["result"] in {"passed", "warning"}
    assert {c[0] for c in not_passed["parquet"]} <= {"warning"}
    assert all("parquet" in (c[2] or "").lower() for c in not_passed["parquet"]), not_passed["parquet"]
    assert any("leveringen[].sha256" in c[1] for c in tests["parquet"]["checks"])
    assert tests["politie"]["result"] == "passed", not_passed["politie"]
    assert tests["politie_kapot"]["result"] == "failed"
    (failed,) = not_passed["politie_kapot"]
    assert failed[0] == "failed" and "maatschappelijke_klasse only contains enum values" in failed[1]
