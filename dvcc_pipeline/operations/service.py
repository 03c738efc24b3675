"""`dvcc serve`: Dagster's production processes on one DVCC_HOME, started and stopped together.

One long-lived code server (`dagster code-server start`, on a Unix socket in the home) loads
the definitions and the dbt manifest once and launches the runs; `dagster-webserver` serves the
UI and `dagster-daemon` runs the sensors, schedules, run queue and run monitoring, both against
that code server (a `grpc_server` workspace written into the home). Without it each of the two
kept its own code server and the daemon replaced its one about once a minute, loading
everything again. Each process gets its own process group and a size-bounded log in
DVCC_HOME/logs/ (`servicelog`), so stopping the service (Ctrl-C, SIGTERM, systemd) stops its
runs as well. A lock file per component refuses a second service on the same home, and with
PostgreSQL the service stops with exit code 1 when the database stays unreachable.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

from dvcc_pipeline.config import CODE_LOCATION, REPO_ROOT, Settings
from dvcc_pipeline.operations.servicelog import pump, rotating_file

COMPONENTS = ("codeserver", "webserver", "daemon")
_STOP_GRACE_SECONDS = 8.0
_CODE_SERVER_START_SECONDS = 180.0
_STORAGE_PROBE_SECONDS = 10.0
_STORAGE_REPORT_SECONDS = 60.0
_SOCKET_PATH_MAX = 107  # sun_path of a Unix socket on Linux, without its final NUL


def _die_with_parent() -> None:
    """In the child before exec: the kernel sends SIGTERM when `dvcc serve` itself dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG


def write_workspace(settings: Settings) -> Path:
    """The workspace of the service: the home's code server, by its socket."""
    path = settings.dagster_home / "workspace.yaml"
    text = (
        "# Written by dvcc serve: webserver and daemon use the one code server of this home.\n"
        "load_from:\n"
        "  - grpc_server:\n"
        f"      socket: {settings.code_server_socket}\n"
        f"      location_name: {CODE_LOCATION}\n"
    )
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


def _command(component: str, settings: Settings, host: str, port: int) -> list[str]:
    bin_dir = Path(sys.executable).parent
    workspace = str(settings.dagster_home / "workspace.yaml")
    if component == "codeserver":
        return [
            str(bin_dir / "dagster"),
            "code-server",
            "start",
            "--socket",
            str(settings.code_server_socket),
            "--module-name",
            "dvcc_pipeline.definitions",
            "--working-directory",
            str(REPO_ROOT),
            "--location-name",
            CODE_LOCATION,
        ]
    if component == "webserver":
        return [str(bin_dir / "dagster-webserver"), "-w", workspace, "-h", host, "-p", str(port)]
    return [str(bin_dir / "dagster-daemon"), "run", "-w", workspace]


def _code_server_ready(settings: Settings) -> bool:
    """The code server answers and has loaded the definitions (Dagster's own health check)."""
    check = [str(Path(sys.executable).parent / "dagster"), "api", "grpc-health-check"]
    try:
        result = subprocess.run([*check, "--socket", str(settings.code_server_socket)], capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:  # a machine this busy: ask again
        return False
    return result.returncode == 0


def _take_lock(settings: Settings, component: str) -> IO[str] | None:
    """The lock for one component on this home, or None when another service holds it."""
    path = settings.home / f"serve-{component}.lock"
    handle = path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip() or "?"
        handle.close()
        print(
            f"dvcc serve draait al op {settings.home} (proces {owner}, onderdeel {component}); "
            "stop die eerst of kies een andere DVCC_HOME.",
            file=sys.stderr,
        )
        return None
    handle.truncate(0)
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stop(processes: dict[str, subprocess.Popen]) -> None:
    """SIGTERM every process group, then SIGKILL whatever is left after the grace period."""
    for process in processes.values():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + _STOP_GRACE_SECONDS
    while time.monotonic() < deadline:
        for process in processes.values():
            process.poll()  # reap the leader so its group can empty
        if not any(_group_alive(p.pid) for p in processes.values()):
            return
        time.sleep(0.2)
    for process in processes.values():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


class _StorageWatch:
    """Probes Dagster's PostgreSQL every few seconds; says once when it becomes unreachable,
    then once a minute, and tells the service to stop after `storage_timeout_seconds`."""

    def __init__(self, settings: Settings) -> None:
        self.url = settings.dagster_pg_url
        self.timeout = settings.storage_timeout_seconds
        self.down_since: float | None = None
        self.last_probe = self.last_report = 0.0

    def reachable(self) -> str | None:
        """None when the database answers, else psycopg2's first line."""
        import psycopg2

        try:
            psycopg2.connect(self.url, connect_timeout=3).close()
        except psycopg2.Error as exc:
            return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return None

    def expired(self) -> bool:
        now = time.monotonic()
        if self.url is None or now - self.last_probe < _STORAGE_PROBE_SECONDS:
            return False
        self.last_probe = now
        problem = self.reachable()
        if problem is None:
            if self.down_since is not None:
                print(f"Dagster-opslag (PostgreSQL) weer bereikbaar na {now - self.down_since:.0f} s.", flush=True)
            self.down_since = None
            return False
        if self.down_since is None:
            self.down_since = self.last_report = now
            print(
                f"Dagster-opslag (PostgreSQL) onbereikbaar: {problem}. De dienst stopt als dat "
                f"{self.timeout} s zo blijft (DVCC_STORAGE_TIMEOUT_SECONDS).",
                file=sys.stderr,
                flush=True,
            )
        elif now - self.last_report >= _STORAGE_REPORT_SECONDS:
            self.last_report = now
            print(
                f"Dagster-opslag (PostgreSQL) nog steeds onbereikbaar ({now - self.down_since:.0f} s).",
                file=sys.stderr,
                flush=True,
            )
        if now - self.down_since >= self.timeout:
            print(
                f"Dagster-opslag (PostgreSQL) al {now - self.down_since:.0f} s onbereikbaar; de dienst stopt "
                "met code 1 (systemd start hem opnieuw).",
                file=sys.stderr,
                flush=True,
            )
            return True
        return False


def _start(component: str, settings: Settings, host: str, port: int) -> tuple[subprocess.Popen, object]:
    """Start one component in its own process group, its output pumped into its log file."""
    process = subprocess.Popen(
        _command(component, settings, host, port),
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,  # own process group: Ctrl-C reaches us only, we stop the group
        preexec_fn=_die_with_parent,
    )
    reader = pump(process.stdout, rotating_file(settings.logs_dir / f"{component}.log", settings.log_max_bytes))
    return process, reader


def _wait_for_code_server(settings: Settings, process: subprocess.Popen, stop: threading.Event) -> bool:
    """Until the code server has loaded the definitions (False when it died or we must stop)."""
    deadline = time.monotonic() + _CODE_SERVER_START_SECONDS
    while time.monotonic() < deadline and not stop.is_set() and process.poll() is None:
        if settings.code_server_socket.exists() and _code_server_ready(settings):
            return True
        stop.wait(1.0)
    return False


def serve(settings: Settings, *, host: str, port: int, components: tuple[str, ...] = COMPONENTS) -> int:
    """Run the components until one of them stops or the service is asked to stop."""
    from dvcc_pipeline.operations.instance import get_instance
    from dvcc_pipeline.runtime.recovery import fail_dead_runs

    settings.home.mkdir(parents=True, exist_ok=True)
    locks = []
    for component in components:
        lock = _take_lock(settings, component)
        if lock is None:
            return 1
        locks.append(lock)

    if len(os.fsencode(settings.code_server_socket)) > _SOCKET_PATH_MAX:
        print(
            f"DVCC_HOME is te lang voor de socket van de codeserver ({settings.code_server_socket}, "
            f"hoogstens {_SOCKET_PATH_MAX} bytes); kies een kortere map.",
            file=sys.stderr,
        )
        return 1
    storage = _StorageWatch(settings)
    if settings.dagster_pg_url and (problem := storage.reachable()) is not None:
        print(f"Dagster-opslag (PostgreSQL) onbereikbaar: {problem}. De dienst start niet.", file=sys.stderr)
        return 1
    instance = get_instance(settings)  # writes dagster.yaml and exports DAGSTER_HOME for the children
    write_workspace(settings)
    if "codeserver" in components:
        # The code server parses a stale dbt manifest when it loads; do it here, visibly, first.
        from dvcc_pipeline.transformation.project import ensure_manifest

        ensure_manifest()
        settings.code_server_socket.unlink(missing_ok=True)  # ours (we hold its lock): a crash's leftover
    if dead := fail_dead_runs(instance):
        print(f"{len(dead)} afgebroken run(s) van een vorige keer als mislukt gemarkeerd; de warehouse-pool is vrij.")
    instance.dispose()

    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    reason = {"code": 0}

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    processes: dict[str, subprocess.Popen] = {}
    readers = []
    try:
        for component in components:
            processes[component], reader = _start(component, settings, host, port)
            readers.append(reader)
            if component == "codeserver" and not _wait_for_code_server(settings, processes[component], stop):
                if not stop.is_set():
                    print(
                        "De codeserver start niet (definities laden mislukt); zie "
                        f"{settings.logs_dir / 'codeserver.log'}",
                        file=sys.stderr,
                    )
                    reason["code"] = 1
                    stop.set()
                break
        if not stop.is_set():
            parts = " en ".join(f"{name} (pid {p.pid})" for name, p in processes.items())
            print(f"Dienst gestart op {settings.home}: {parts}.")
            if "webserver" in processes:
                print(f"Dagster UI: http://{host}:{port}")
            print(f"Logs: {settings.logs_dir}/; stoppen met Ctrl-C of SIGTERM.", flush=True)
        while not stop.wait(1.0):
            for name, process in processes.items():
                if process.poll() is not None:
                    print(
                        f"Onderdeel {name} is gestopt (code {process.returncode}); de dienst stopt. "
                        f"Zie {settings.logs_dir / (name + '.log')}",
                        file=sys.stderr,
                    )
                    reason["code"] = 1
                    stop.set()
            if storage.expired():
                reason["code"] = 1
                stop.set()
    finally:
        _stop(processes)
        for reader in readers:
            reader.join(timeout=5)
        for lock in locks:
            lock.close()
    print("Dienst gestopt.", flush=True)
    return reason["code"]
