"""The logs of `dvcc serve`: a repeated error once a minute, rotation by size, and a storage
outage said in one Dutch line (at start) or ending the service after the set time."""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from dvcc_pipeline.config import get_settings
from dvcc_pipeline.operations.service import _StorageWatch
from dvcc_pipeline.operations.servicelog import RepeatFilter, pump, rotating_file

BIN = Path(sys.executable).parent

# What Dagster's daemon wrote several times a second while PostgreSQL was down (abridged).
_OUTAGE = r"""
import sys
for i in range(300):
    print(f"\x1b[32m2026-12-04 10:00:{i % 60:02d} +0000\x1b[0m - dagster.daemon.SensorDaemon - "
          f"\x1b[31mERROR\x1b[0m - Sensor daemon caught an error for sensor landing_{i % 5}")
    print("Traceback (most recent call last):")
    print('  File "/venv/dagster_postgres/utils.py", line 109, in retry_pg_connection_fn')
    print("sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server at "
          f'"127.0.0.1", port 5432 failed: Connection refused (attempt {i})')
    print("WARNING:root:Retrying failed database connection: (psycopg2.OperationalError) connection to "
          f'server at "127.0.0.1", port 5432 failed: Connection refused')
    print("\tIs the server running on that host and accepting TCP/IP connections?")
    if i % 100 == 0:
        print(f"2026-12-04 10:00:00 +0000 - dagster.daemon - INFO - tick {i}")
sys.stdout.flush()
"""


def _pumped(tmp_path: Path, script: str, max_bytes: int = 10 * 1024**2) -> Path:
    log = tmp_path / "daemon.log"
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    pump(child.stdout, rotating_file(log, max_bytes)).join(timeout=60)
    assert child.wait(timeout=60) == 0
    return log


def test_a_repeated_error_is_written_once_and_everything_else_as_it_comes(tmp_path: Path) -> None:
    text = _pumped(tmp_path, _OUTAGE).read_text(encoding="utf-8")
    assert text.count("Traceback (most recent call last):") == 1  # 300 tracebacks came, within a minute
    assert text.count("Connection refused") == 2  # the traceback's and dagster-postgres's retry warning
    assert text.count("WARNING:root:Retrying failed database connection") == 1
    assert [line for line in text.splitlines() if "INFO - tick" in line] == [
        "2026-12-04 10:00:00 +0000 - dagster.daemon - INFO - tick 0",
        "2026-12-04 10:00:00 +0000 - dagster.daemon - INFO - tick 100",
        "2026-12-04 10:00:00 +0000 - dagster.daemon - INFO - tick 200",
    ]
    assert "\x1b[" not in text


def test_after_the_window_a_repeat_is_written_again_with_how_often_it_came() -> None:
    now = [0.0]
    repeats = RepeatFilter(window=60, clock=lambda: now[0])
    record = ["2026-12-04 10:00:00 +0000 - dagster.daemon - ERROR - kapot", "Traceback (most recent call last):"]
    record.append("psycopg2.OperationalError: connection refused")
    assert repeats.admit(record) == record
    for second in range(1, 60):
        now[0] = second
        assert repeats.admit([record[0].replace("10:00:00", f"10:00:{second:02d}"), *record[1:]]) == []
    now[0] = 61
    again = repeats.admit(record)
    assert again[:2] == [record[0], record[2]]  # the repeat without its traceback
    assert "deze melding kwam nog 59 keer" in again[2] and len(again) == 3
    info = ["2026-12-04 10:01:01 +0000 - dagster.daemon - INFO - Checking for new runs"]
    assert repeats.admit(info) == info == repeats.admit(info)  # information is never held back


def test_the_log_rotates_by_size(tmp_path: Path) -> None:
    script = "for i in range(5000): print(f'2026-12-04 10:00:00 +0000 - dagster - INFO - regel {i} ' + 'x' * 60)"
    log = _pumped(tmp_path, script, max_bytes=20_000)
    files = sorted(tmp_path.glob("daemon.log*"))
    assert [f.name for f in files] == ["daemon.log", *(f"daemon.log.{n}" for n in range(1, 6))]
    assert all(f.stat().st_size <= 20_000 for f in files)
    assert "regel 4999 " in log.read_text(encoding="utf-8")  # the newest lines are in the current file


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"postgresql://dvcc@127.0.0.1:{port}/dvcc"  # nothing listens there once the socket closed


def test_an_unreachable_database_stops_the_service_after_the_set_time(capsys: pytest.CaptureFixture[str]) -> None:
    settings = dataclasses.replace(get_settings(), dagster_pg_url=_closed_port_url(), storage_timeout_seconds=0)
    assert _StorageWatch(settings).expired()
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("Dagster-opslag (PostgreSQL) onbereikbaar: connection to server")
    assert lines[-1].endswith("de dienst stopt met code 1 (systemd start hem opnieuw).")
    assert len(lines) == 2


def test_serve_without_its_database_says_so_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "DVCC_HOME": str(tmp_path / "home"), "DVCC_DAGSTER_PG_URL": _closed_port_url()}
    result = subprocess.run([str(BIN / "dvcc"), "serve"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("Dagster-opslag (PostgreSQL) onbereikbaar:")
    assert result.stderr.rstrip().endswith("De dienst start niet.")
