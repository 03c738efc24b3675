"""Fault injection at named stages, so the fault tests crash the real pipeline where it hurts.

`DVCC_FAULT=<kind>@<stage>` (read by :mod:`dvcc_pipeline.config`) makes :func:`checkpoint`
act when the pipeline reaches that stage: `kill` sends SIGKILL to the own process (as an
operator's `kill -9` or a power cut would), `vol` raises `OSError(ENOSPC)` as a full disk
would. Unset, a checkpoint costs one environment lookup.
"""

from __future__ import annotations

import errno
import os
import signal

from dvcc_pipeline.config import get_settings

STAGES = ("deur", "laden", "verplaatsen", "dbt", "publicatie")


def checkpoint(stage: str) -> None:
    """Act on an injected fault for `stage`, if one is set."""
    fault = get_settings().fault
    if not fault:
        return
    kind, _, where = fault.partition("@")
    if where != stage:
        return
    if kind == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if kind == "vol":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), f"geïnjecteerd bij {stage}")
