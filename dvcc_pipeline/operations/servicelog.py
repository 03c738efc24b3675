"""The log files of `dvcc serve`: size-bounded, and one entry per minute for a repeated error.

Dagster's processes write their log to stdout/stderr; `dvcc serve` reads it through a pipe
and writes it here. When storage is down the daemon logs the same traceback several times a
second (33 MB in 40 minutes was measured), so an error or warning whose message repeats is
written once, then at most once per `REPEAT_WINDOW_SECONDS` with how often it came in
between. The files rotate by size (`DVCC_LOG_MAX_BYTES`, `LOG_BACKUPS` old files kept).
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

REPEAT_WINDOW_SECONDS = 60.0
LOG_BACKUPS = 5
_IDLE_FLUSH_SECONDS = 0.3

# A new log record starts with a timestamp (Dagster: `2026-12-04 16:30:00 +0000 - dagster... -
# ERROR - ...`) or with Python's default format (`WARNING:root:Retrying failed database
# connection: ...`, what dagster-postgres logs); every other line (a traceback) continues it.
_HEADER = re.compile(r"^(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}|(DEBUG|INFO|WARNING|ERROR|CRITICAL):[\w.]+:)")
_LEVEL = re.compile(r"( - (WARNING|ERROR|CRITICAL) - |^(WARNING|ERROR|CRITICAL):)")
_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit)\b.*")
_NUMBERS = re.compile(r"\d+")
# Dagster colours its console log; the files are read with less and grep, so colour goes.
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def rotating_file(path: Path, max_bytes: int) -> logging.Logger:
    """A logger that writes lines verbatim into `path`, rotated at `max_bytes`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    logger = logging.Logger(f"dvcc.serve.{path.stem}")
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=max_bytes, backupCount=LOG_BACKUPS, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    return logger


def record_key(lines: list[str]) -> str | None:
    """What makes a record a repeat of another (None: always written): the exception of its
    traceback, else its message; without timestamps and numbers. Only warnings and errors
    (and bare tracebacks) are ever held back."""
    head = lines[0]
    is_problem = bool(_LEVEL.search(head)) or head.startswith("Traceback")
    if not is_problem:
        return None
    return _NUMBERS.sub("#", _exception_line(lines) or _HEADER.sub("", head))


def _exception_line(lines: list[str]) -> str | None:
    """The last exception of a record's traceback (the one that was raised in the end)."""
    exceptions = [line.strip() for line in lines[1:] if _EXCEPTION.match(line.strip())]
    return exceptions[-1] if exceptions else None


@dataclass
class _Seen:
    written_at: float
    held_back: int = 0


@dataclass
class RepeatFilter:
    """Decides per record whether it is written; remembers what was held back per key."""

    window: float = REPEAT_WINDOW_SECONDS
    clock: Callable[[], float] = time.monotonic
    seen: dict[str, _Seen] = field(default_factory=dict)

    def admit(self, lines: list[str]) -> list[str]:
        """The lines to write for this record (none when it repeats within the window)."""
        key = record_key(lines)
        if key is None:
            return lines
        now = self.clock()
        earlier = self.seen.get(key)
        if earlier is not None and now - earlier.written_at < self.window:
            earlier.held_back += 1
            return []
        self.seen[key] = _Seen(written_at=now)
        if earlier is None:
            return lines
        # Written in full the first time; a repeat as its first line and its exception.
        short = [lines[0], *([key_line] if (key_line := _exception_line(lines)) else [])]
        note = (
            f"(dvcc serve: deze melding kwam nog {earlier.held_back} keer in de afgelopen "
            f"{now - earlier.written_at:.0f} s; de volledige melding staat eerder in dit log, "
            f"herhalingen hoogstens eens per {self.window:.0f} s)"
        )
        return [*short, note] if earlier.held_back else short


def pump(stream: IO[str], logger: logging.Logger, repeats: RepeatFilter | None = None) -> threading.Thread:
    """Copy a child's output into `logger` record by record, in a thread of its own."""
    repeats = repeats or RepeatFilter()
    pending: list[str] = []
    state = {"last": time.monotonic(), "open": True}
    lock = threading.Lock()

    def flush() -> None:
        with lock:
            lines, pending[:] = list(pending), []
        for line in repeats.admit(lines) if lines else ():
            logger.error(line)

    def read() -> None:
        for raw in iter(stream.readline, ""):
            line = _ANSI.sub("", raw.rstrip("\n"))
            if _HEADER.match(line):
                flush()
            with lock:
                pending.append(line)
                state["last"] = time.monotonic()
        state["open"] = False
        flush()
        stream.close()

    def idle_flusher() -> None:
        # The last record before a quiet spell has no successor to push it out.
        while state["open"]:
            time.sleep(_IDLE_FLUSH_SECONDS)
            if time.monotonic() - state["last"] > _IDLE_FLUSH_SECONDS:
                flush()

    thread = threading.Thread(target=read, name=f"dvcc-log-{logger.name}", daemon=True)
    thread.start()
    threading.Thread(target=idle_flusher, name=f"dvcc-log-flush-{logger.name}", daemon=True).start()
    return thread
