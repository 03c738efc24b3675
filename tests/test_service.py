"""The pipeline as a service: `dvcc serve` publishes by itself (on a real PostgreSQL), and a
`dvcc run` killed at any stage is recovered by the next one with the same publication.

Both compare the published eenheid figures with the plain-DuckDB baseline over the same
files (`bench.baseline`), so the expected figures are computed independently.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dvcc_pipeline.bench.baseline import compare_with_published, run_baseline
from dvcc_pipeline.config import PG_DRIVER_URL_VARIABLE, pg_driver_url
from dvcc_pipeline.demo.generator import generate

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(condition, timeout: float, what: str, interval: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(interval)
    raise AssertionError(f"niet binnen {timeout:.0f} s: {what}")


def _children() -> dict[int, int]:
    """pid -> parent pid of every process on the machine."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    return parents


def _descendants(pid: int) -> set[int]:
    parents = _children()
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


# Banks and the Fraudehelpdesk deliver monthly: their 2025 files are enough to check the
# figures and keep the number of files (the fixed cost per file) small.
_MONTHLY = ("bank_fraudemeldingen", "fraudehelpdesk_meldingen")


@pytest.fixture(scope="module")
def deliveries(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Clean scale-0.05 deliveries (no designed bad files), as the benchmark uses."""
    source = tmp_path_factory.mktemp("deliveries")
    generate(source, scale=0.05, seed=7, scenarios=False)
    for file in (source / "landing").glob("*/*"):
        if file.parent.name in _MONTHLY and not re.search(r"_2025-0[1-6]\.", file.name):
            file.unlink()
    return source / "landing"


def _drop(deliveries: Path, home: Path, *, settled: bool = True) -> float:
    """Deliver every file into landing the way partners should: write aside, then rename.
    `settled`: dated an hour back, so the settle window has passed already. Returns when the
    last file arrived."""
    an_hour_ago = time.time() - 3600
    for feed_dir in deliveries.iterdir():
        target = home / "landing" / feed_dir.name
        target.mkdir(parents=True, exist_ok=True)
        for file in feed_dir.iterdir():
            part = target / f"{file.name}.part"
            shutil.copyfile(file, part)
            if settled:
                os.utime(part, (an_hour_ago, an_hour_ago))
            part.rename(target / file.name)
    return time.time()


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _assert_matches_baseline(deliveries: Path, published: Path) -> None:
    with duckdb.connect() as conn:
        run_baseline(conn, deliveries)
        comparison = compare_with_published(conn, published)
    assert comparison.equal, comparison.differences[:10]


# --- a throw-away PostgreSQL cluster ---------------------------------------------------------


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    assert found, "PostgreSQL ontbreekt: `make postgresql` installeert Debians pakket"
    return found[-1].parent


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """initdb + pg_ctl on a free port as user `postgres`, removed afterwards.

    The cluster lives in its own folder under /tmp: pytest's folders are private to root.
    """
    root = Path(tempfile.mkdtemp(prefix="dvcc-postgres-"))
    shutil.chown(root, "postgres", "postgres")
    data, port = root / "data", _free_port()
    as_postgres = {"user": "postgres", "group": "postgres", "check": True, "capture_output": True, "cwd": root}
    subprocess.run([_pg_bin() / "initdb", "-D", data, "-U", "postgres", "--auth=trust"], **as_postgres)
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    start = [_pg_bin() / "pg_ctl", "-D", data, "-o", options, "-l", root / "server.log", "-w", "start"]
    subprocess.run(start, **as_postgres)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([_pg_bin() / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"], **as_postgres)
        shutil.rmtree(root)


# --- dvcc serve ------------------------------------------------------------------------------


def test_serve_publishes_unattended_on_postgres(
    deliveries: Path,
    postgres_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Also prints drop -> receipt (after the settle window) and receipt -> publication with the
    default sensor interval; no timing assertion (docs/operations.md, "Latency")."""
    import psycopg2

    home = tmp_path / "home"
    settle = 2.0
    env = {
        **os.environ,
        "DVCC_HOME": str(home),
        "DVCC_DAGSTER_PG_URL": postgres_url,
        "DVCC_SETTLE_SECONDS": f"{settle:g}",
    }
    serve = subprocess.Popen(
        [str(BIN / "dvcc"), "serve", "--port", str(_free_port())],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen: set[int] = set()
    names: set[str] = set()
    try:

        def started() -> bool:
            assert serve.poll() is None, serve.stdout.read()
            return (home / "logs" / "daemon.log").exists()

        _wait_for(started, 300, "de dienst start")
        second = subprocess.run([str(BIN / "dvcc"), "serve"], env=env, capture_output=True, text=True, timeout=120)
        assert second.returncode == 1
        assert "dvcc serve draait al op" in second.stderr

        dropped = _drop(deliveries, home, settled=False)  # nobody calls a job from here on
        published = home / "published" / "published.duckdb"
        monkeypatch.setenv(PG_DRIVER_URL_VARIABLE, pg_driver_url(postgres_url))
        instance = dg.DagsterInstance.from_config(str(home / "dagster"))

        def processed() -> list[dg.DagsterRun]:
            seen.update(_descendants(serve.pid))
            names.update(_comm(pid) for pid in _descendants(serve.pid))
            assert serve.poll() is None, serve.stdout.read()
            if any(p.is_file() for p in (home / "landing").rglob("*")):
                return []
            runs = instance.get_runs(filters=dg.RunsFilter(job_name="verwerking"))
            return runs if runs and all(run.is_finished for run in runs) else []

        try:
            processing = _wait_for(processed, 900, "verwerking door de dienst", interval=2)
            assert len(processing) == 1  # one publication for all deliveries
            assert processing[0].status == dg.DagsterRunStatus.SUCCESS
            records = sorted(instance.get_run_records(), key=lambda r: r.create_timestamp.timestamp())
        finally:
            instance.dispose()
        receipts = sorted(p.stat().st_mtime for p in (home / "receipts").rglob("*.md"))
        assert receipts
        with capsys.disabled():
            print(
                f"\nLatentie onder dvcc serve: ontvangst {receipts[0] - dropped - settle:.1f} s (eerste) tot "
                f"{receipts[-1] - dropped - settle:.1f} s (laatste, {len(receipts)} bestanden, vijf feeds na elkaar) "
                f"na het settle-venster; publicatie {published.stat().st_mtime - receipts[-1]:.1f} s na de "
                "laatste ontvangst. Per run (s na de drop + settle): aangevraagd / gestart / klaar"
            )
            for record in records:
                created = record.create_timestamp.timestamp() - dropped - settle
                times = (record.start_time, record.end_time)
                started, ended = (t - dropped - settle if t else float("nan") for t in times)
                print(f"  {record.dagster_run.job_name:34} {created:6.1f} {started:6.1f} {ended:6.1f}")
        _assert_matches_baseline(deliveries, published)
        assert "dvcc-run" in names  # the run worker, named in ps
        daemon_log = (home / "logs" / "daemon.log").read_text(encoding="utf-8")
        assert "No heartbeat" not in daemon_log  # one long-lived code server, never replaced
        with psycopg2.connect(postgres_url) as conn, conn.cursor() as cursor:
            cursor.execute("select count(*) from runs")
            assert cursor.fetchone()[0] >= 6  # five ingestion runs and the processing run
            cursor.execute("select count(*) from event_logs where dagster_event_type = 'ASSET_MATERIALIZATION'")
            assert cursor.fetchone()[0] > 10
        assert not list((home / "dagster").rglob("*.db")), "SQLite-opslag aangemaakt naast PostgreSQL"
    finally:
        seen.update(_descendants(serve.pid))
        serve.send_signal(signal.SIGTERM)
        try:
            output, _ = serve.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            serve.kill()
            raise
    assert serve.returncode == 0, output
    assert "Dienst gestopt." in output
    assert seen, "de dienst startte geen processen"
    _wait_for(lambda: not [pid for pid in seen if _alive(pid)], 10, "alle processen van de dienst gestopt")


# --- dvcc run killed with SIGKILL ------------------------------------------------------------


def _dbt_child(pid: int) -> int | None:
    return next((p for p in _descendants(pid) if " build" in _cmdline(p) and "dbt" in _cmdline(p)), None)


def test_killed_runs_are_recovered_with_the_same_publication(deliveries: Path, tmp_path: Path) -> None:
    """SIGKILL `dvcc run` during ingestion, then the next one during dbt: its dbt dies with
    it, and a third run frees the slot, says so, and publishes the same figures."""
    home = tmp_path / "home"
    env = {**os.environ, "DVCC_HOME": str(home)}
    _drop(deliveries, home)

    def start() -> subprocess.Popen:
        return subprocess.Popen(
            [str(BIN / "dvcc"), "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )

    during_ingestion = start()
    _wait_for(lambda: any((home / "receipts").rglob("*.md")), 300, "de eerste ontvangstbevestiging", 0.2)
    during_ingestion.kill()
    during_ingestion.wait()

    during_dbt = start()
    dbt = _wait_for(lambda: _dbt_child(during_dbt.pid), 600, "dbt build", 0.2)
    during_dbt.kill()
    output = during_dbt.communicate()[0]
    assert "afgebroken run(s) zonder proces" in output, output
    _wait_for(lambda: not _alive(dbt), 10, "dbt stopt met zijn ouder", 0.2)

    final = subprocess.run([str(BIN / "dvcc"), "run"], env=env, capture_output=True, text=True, timeout=900)
    assert final.returncode == 0, final.stdout + final.stderr
    assert "afgebroken run(s) zonder proces" in final.stdout
    _assert_matches_baseline(deliveries, home / "published" / "published.duckdb")
