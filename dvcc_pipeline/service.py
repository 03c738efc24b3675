"""`dvcc serve`: Dagster's production processes on one DVCC_HOME, started and stopped together.

`dagster-webserver` serves the UI and `dagster-daemon` runs the sensors, schedules, run queue
and run monitoring; each gets its own process group and log file in DVCC_HOME/logs/, so
stopping the service (Ctrl-C, SIGTERM, systemd) stops their code servers and runs as well.
A lock file in DVCC_HOME refuses a second service on the same home.
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

from dvcc_pipeline.config import REPO_ROOT, Settings

COMPONENTS = ("webserver", "daemon")
_STOP_GRACE_SECONDS = 8.0


def _die_with_parent() -> None:
    """In the child before exec: the kernel sends SIGTERM when `dvcc serve` itself dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG


def _command(component: str, host: str, port: int) -> list[str]:
    bin_dir = Path(sys.executable).parent
    workspace = str(REPO_ROOT / "workspace.yaml")
    if component == "webserver":
        return [str(bin_dir / "dagster-webserver"), "-w", workspace, "-h", host, "-p", str(port)]
    return [str(bin_dir / "dagster-daemon"), "run", "-w", workspace]


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


def serve(settings: Settings, *, host: str, port: int, components: tuple[str, ...] = COMPONENTS) -> int:
    """Run the components until one of them stops or the service is asked to stop."""
    from dvcc_pipeline.instance import get_instance
    from dvcc_pipeline.recovery import fail_dead_runs

    settings.home.mkdir(parents=True, exist_ok=True)
    locks = []
    for component in components:
        lock = _take_lock(settings, component)
        if lock is None:
            return 1
        locks.append(lock)

    instance = get_instance(settings)  # writes dagster.yaml and exports DAGSTER_HOME for the children
    # Both code servers (webserver's and daemon's) load the definitions at once; a stale dbt
    # manifest would be parsed twice into the same file. Parse it here, once, first.
    from dvcc_pipeline.transformation.project import ensure_manifest

    ensure_manifest()
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
    try:
        for component in components:
            log = (settings.logs_dir / f"{component}.log").open("a", encoding="utf-8")
            processes[component] = subprocess.Popen(
                _command(component, host, port),
                cwd=REPO_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: Ctrl-C reaches us only, we stop the group
                preexec_fn=_die_with_parent,
            )
            log.close()
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
    finally:
        _stop(processes)
        for lock in locks:
            lock.close()
    print("Dienst gestopt.", flush=True)
    return reason["code"]
