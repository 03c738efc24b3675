"""A name for our processes in `ps`/`top`, so an operator can tell a run worker from the rest.

Dagster starts each run of the service as a multiprocessing child of the code server, which
`ps` shows as a bare `python -c from multiprocessing.spawn ...`. Linux lets a process set its
own name (`comm`, 15 bytes: `ps -e`, `ps -o comm`, `top`, `pgrep dvcc-run`) without any package.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import sys

RUN_WORKER_NAME = "dvcc-run"
_PR_SET_NAME = 15


def name_process(name: str) -> None:
    """Set this process's name (Linux; elsewhere a no-op)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_NAME, ctypes.c_char_p(name.encode()[:15]), 0, 0, 0)


def name_run_worker() -> None:
    """Called where the definitions load: only a spawned child (a run worker) is renamed."""
    if multiprocessing.parent_process() is not None:
        name_process(RUN_WORKER_NAME)
