"""Progress bars, one helper for every long loop: rich bars on stderr when enabled, else nothing.

``bar(enabled, *fields)``: a rich ``Progress`` (description, bar, done/total, the named task
fields, elapsed time) or a do-nothing stand-in with the same methods. :class:`TaskBar` counts
finished tasks (toys, files) through an ``update(done, total)`` callback.
"""
from __future__ import annotations

import contextlib


class NoProgress(contextlib.nullcontext):
    """The methods of a rich ``Progress`` that loops call, doing nothing."""

    def __enter__(self):
        return self

    def add_task(self, *a, **k):
        return 0

    def update(self, *a, **k):
        pass


def bar(enabled: bool, *fields: str):
    """A rich progress bar on stderr showing the task fields ``fields`` (or :class:`NoProgress`)."""
    if not enabled:
        return NoProgress()
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
