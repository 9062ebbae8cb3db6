"""Progress, one helper for every long loop: rich bars on a terminal, plain log lines otherwise.

``bar(enabled, *fields)``: a rich ``Progress`` (description, bar, done/total, the named task
fields, elapsed time) when stderr is a terminal; :class:`LogProgress`, one plain line every
:data:`LOG_INTERVAL` seconds on stderr, when it is not (a batch job, a pipe, a log file), so a
25-minute run is never silent; or a do-nothing stand-in with the same methods when disabled.
:class:`TaskBar` counts finished tasks (toys, files) through an ``update(done, total)`` callback.
"""
from __future__ import annotations

import contextlib
import sys
import time

#: Seconds between two plain progress lines when stderr is not a terminal.
LOG_INTERVAL = 10.0


class NoProgress(contextlib.nullcontext):
    """The methods of a rich ``Progress`` that loops call, doing nothing."""

    def __enter__(self):
        return self

    def add_task(self, *a, **k):
        return 0

    def update(self, *a, **k):
        pass


class LogProgress(NoProgress):
    """Plain progress lines on stderr, at most one every ``interval`` seconds and one at the end
    (only for loops that ran longer than ``interval``): ``adkit: score 120000/400000 (30%), 12 s``."""

    def __init__(self, fields: tuple[str, ...] = (), interval: float | None = None, stream=None) -> None:
        super().__init__()
        self.fields, self.interval = fields, LOG_INTERVAL if interval is None else interval
        self.stream = stream
        self.tasks: dict[int, dict] = {}

    def add_task(self, description: str, total: float | None = None, **fields) -> int:
        now = time.monotonic()
        self.tasks[len(self.tasks)] = {"description": description, "total": total, "completed": 0, "fields": fields,
                                       "start": now, "last": now, "printed": None}
        return len(self.tasks) - 1

    def update(self, task: int, advance: float | None = None, completed: float | None = None,
               total: float | None = None, **fields) -> None:
        t = self.tasks[task]
        if total is not None:
            t["total"] = total
        if completed is not None:
            t["completed"] = completed
        if advance:
            t["completed"] += advance
        t["fields"].update(fields)
        now = time.monotonic()
        if now - t["last"] >= self.interval:
            t["last"] = now
            self._line(t, now)

    def _extra(self, t: dict) -> str:
        return "".join(f", {v}" if isinstance(v, str) else f", {k} {v}" for k, v in t["fields"].items()
                       if k in self.fields and v != "")

    def _line(self, t: dict, now: float) -> None:
        done, total = t["completed"], t["total"]
        count = f"{done:g}/{total:g} ({100 * done / total:.0f}%)" if total else f"{done:g}"
        extra = self._extra(t)
        t["printed"] = (done, extra)
        print(f"adkit: {t['description']} {count}{extra}, {now - t['start']:.0f} s", file=self.stream or sys.stderr,
              flush=True)

    def __exit__(self, *exc) -> bool:
        now = time.monotonic()
        for t in self.tasks.values():
            if now - t["start"] >= self.interval and t["printed"] != (t["completed"], self._extra(t)):
                self._line(t, now)
        return False


def bar(enabled: bool, *fields: str):
    """Progress on stderr showing the task fields ``fields``: a rich bar on a terminal, plain log lines
    otherwise (:class:`LogProgress`), nothing when not ``enabled``."""
    if not enabled:
        return NoProgress()
    if not sys.stderr.isatty():
        return LogProgress(fields)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    *[TextColumn(f"{{task.fields[{f}]}}") for f in fields], TimeElapsedColumn(),
                    console=Console(stderr=True))


class TaskBar:
    """A bar over tasks, fed by ``update(done, total)`` callbacks (toys, files, score tasks)."""

    def __init__(self, enabled: bool, label: str) -> None:
        self.label, self.pb, self.task = label, bar(enabled), None

    def __enter__(self) -> TaskBar:
        self.pb.__enter__()
        return self

    def update(self, done: int, total: int) -> None:
        if self.task is None:
            self.task = self.pb.add_task(self.label, total=total)
        self.pb.update(self.task, completed=done, total=total)

    def __exit__(self, *exc) -> bool:
        self.pb.__exit__(*exc)
        return False
