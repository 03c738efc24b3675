"""What `dvcc run`, `dvcc demo` and `dvcc bench` show while they work: each stage as it starts
and ends with its elapsed time, and per feed the files done of the total.

On a terminal a live bar (rich); otherwise (CI, logs, a pipe) plain lines, one per event, so a
log shows the same story. The stream is captured when the reporter is made, because the
headless run sends everything else on stdout (dbt's log) to a file.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any


def seconds_text(seconds: float) -> str:
    """`3,2 s`, `1 min 05 s`: elapsed time in Dutch notation."""
    if seconds < 60:
        return f"{seconds:.1f} s".replace(".", ",")
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


@dataclass
class _Stage:
    name: str
    total: int | None
    started: float = field(default_factory=time.perf_counter)
    done: int = 0
    task: Any = None
    shown: int = 0
    shown_at: float = field(default_factory=time.perf_counter)

    def worth_a_line(self) -> bool:
        """Off a terminal a line per quarter (and at least every 10 s), not one per file."""
        if self.total is None or self.total <= 0:
            return True
        quarter = 4 * self.done // self.total > 4 * self.shown // self.total
        return quarter or time.perf_counter() - self.shown_at >= 10

    def counted(self) -> str:
        return f"{self.done}/{self.total} bestanden" if self.total is not None else ""


class Progress:
    """Stage reporter; `live=None` chooses a bar when the stream is a terminal."""

    def __init__(self, stream: IO[str] | None = None, *, live: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        is_tty = getattr(self.stream, "isatty", lambda: False)()
        self.live = is_tty if live is None else live
        self._stages: dict[str, _Stage] = {}
        self._bar: Any = None
        if self.live:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as Bar

            self._bar = Bar(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(file=self.stream),
                transient=True,
            )

    def _line(self, text: str) -> None:
        if self._bar is not None:
            self._bar.console.print(text, highlight=False, markup=False)
        else:
            print(text, file=self.stream, flush=True)

    def note(self, text: str) -> None:
        """A line of its own between the stage lines (e.g. from a child process)."""
        self._line(text)

    def start(self, name: str, total: int | None = None) -> None:
        stage = _Stage(name, total)
        self._stages[name] = stage
        if self._bar is not None:
            if not self._bar.live.is_started:
                self._bar.start()
            stage.task = self._bar.add_task(name, total=total)
        else:
            counted = f" ({stage.counted()})" if total is not None else ""
            self._line(f"▶ {name}{counted}")

    def advance(self, name: str, done: int | None = None) -> None:
        """One more file done (or `done` files) in a counted stage."""
        stage = self._stages.get(name)
        if stage is None:
            return
        stage.done = stage.done + 1 if done is None else done
        if self._bar is not None:
            self._bar.update(stage.task, completed=stage.done)
        elif stage.worth_a_line():
            stage.shown, stage.shown_at = stage.done, time.perf_counter()
            self._line(f"  {name}: {stage.counted()}")

    def end(self, name: str, *, ok: bool = True, note: str = "") -> float:
        """Close a stage with ✓ (or ✗) and its elapsed time; returns the seconds."""
        stage = self._stages.pop(name, None)
        if stage is None:
            return 0.0
        elapsed = time.perf_counter() - stage.started
        if self._bar is not None:
            self._bar.remove_task(stage.task)
        counted = f", {stage.counted()}" if stage.total is not None else ""
        extra = f" — {note}" if note else ""
        self._line(f"{'✓' if ok else '✗'} {name} ({seconds_text(elapsed)}{counted}){extra}")
        if self._bar is not None and not self._stages:
            self._bar.stop()
        return elapsed

    def close(self) -> None:
        """End what is still open (a failure elsewhere) and stop the bar."""
        for name in list(self._stages):
            self.end(name, ok=False, note="afgebroken")
        if self._bar is not None and self._bar.live.is_started:
            self._bar.stop()

    @contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[None]:
        self.start(name, total)
        ok = False
        try:
            yield
            ok = True
        finally:
            self.end(name, ok=ok)


class Silent(Progress):
    """No output: for callers that only want the outcome (sensors, tests)."""

    def __init__(self) -> None:
        super().__init__(live=False)

    def _line(self, text: str) -> None:
        return None
