"""Streaming scores for monitoring: a CSV that grows is scored window by window as rows arrive.

    from adkit import Model
    from adkit.workflows.stream import follow
    for w in follow(Model.load("model.adkit"), "sensor.csv"):
        if w["alarms"]:
            page_the_shifter(w)

:func:`follow` reads the file's complete lines as they are appended (a line still being written
waits for its newline), keeps only the last ``window − 1`` rows between reads, and yields one
result per window of the model's window and stride, counted from the first data row: the row
and time stamp of the window's last sample, its score, and the names of the stored thresholds
it passes. Memory is bounded by the window plus one read (at most ``max_rows`` lines). The file
is only read, never changed. ``adkit score FILE --follow`` prints the same, one line per window.
"""
from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from adkit.artifact import Model
from adkit.errors import ConfigError, InputError
from adkit.io.series import TIME_NAMES


def _columns(path: Path, header: str, spec) -> tuple[list[int], list[int], int | None]:
    names = [n.strip() for n in next(csv.reader([header.rstrip("\r\n")]))]
    missing = [c for c in [*spec.channels, *spec.context] if c not in names]
    if missing:
        from adkit.errors import closest

        raise InputError(f"{path}: no column {missing[0]!r} (the model reads {', '.join(spec.channels)}); "
                         f"columns: {closest(missing[0], names)}")
    tcol = spec.time_column or next((n for n in names if n.lower() in TIME_NAMES), None)
    return ([names.index(c) for c in spec.channels], [names.index(c) for c in spec.context],
            names.index(tcol) if tcol in names else None)


def follow(model: Model, path: str | Path, *, poll: float = 0.5, max_windows: int | None = None,
           stop: Callable[[], bool] | None = None, max_rows: int = 100_000) -> Iterator[dict]:
    """Yield ``{"row", "time", "score", "alarms"}`` for each new window of the growing CSV ``path``,
    waiting ``poll`` seconds between reads; ends after ``max_windows`` windows or when ``stop()`` is true."""
    spec = model.spec
    p = _source(model, path)
    W, S = spec.window, spec.stride
    cols: list[int] | None = None
    nc, nx = len(spec.channels), len(spec.context)
    has_time = False
    tail = None  # rows kept between reads (the channels, context and time columns only)
    row0 = 0  # data-row index of tail's first row
    next_start = 0  # data-row index where the next window starts
    emitted = 0
    pending = ""
    with open(p, encoding="utf-8", newline="") as fh:
        while True:
            chunk = fh.read(max_rows * 64)
            lines = (pending + chunk).split("\n")
            pending = lines.pop()  # an incomplete last line waits for its newline
            if cols is None and lines:
                c_idx, x_idx, t_idx = _columns(p, lines.pop(0), spec)
                has_time = t_idx is not None
                cols = [*c_idx, *x_idx, *([t_idx] if has_time else [])]
            rows = [ln for ln in lines if ln.strip()]
            if rows:
                new = _parse(p, rows, cols, row0 + (0 if tail is None else len(tail)))
                block = new if tail is None else np.vstack([tail, new])
                end = row0 + len(block)
                starts = np.arange(next_start, end - W + 1, S)
                if len(starts):
                    X = block[(starts - row0)[:, None] + np.arange(W)[None, :]]  # [windows, W, columns]
                    for w in _score(model, X, starts, W, nc, nx, has_time):
                        yield w
                        emitted += 1
                        if max_windows is not None and emitted >= max_windows:
                            return
                    next_start = int(starts[-1]) + S
                keep_from = min(max(next_start - row0, 0), len(block))
                tail, row0 = block[keep_from:], row0 + keep_from
            elif not chunk:
                if stop is not None and stop():
                    return
                time.sleep(poll)


def _source(model: Model, path: str | Path) -> Path:
    """The file to follow, or one line saying why it cannot be."""
    if model.spec.kind != "series":
        raise ConfigError("--follow scores a growing time series: give a model trained on series")
    p = Path(path)
    if p.suffix.lower() not in (".csv", ".txt"):
        raise ConfigError(f"{p}: --follow reads a CSV that grows by lines; Parquet and HDF5 files are not appended "
                          "to in place (convert the stream to CSV)")
    if not p.exists():
        raise InputError(f"{p}: no such file")
    return p


def _parse(path: Path, rows: list[str], cols: list[int], first_row: int) -> np.ndarray:
    """The wanted columns of numeric CSV rows as float64 [rows, len(cols)]; one line naming the row otherwise."""
    out = np.empty((len(rows), len(cols)))
    for i, (line, cells) in enumerate(zip(rows, csv.reader(r.rstrip("\r") for r in rows))):
        try:
            out[i] = [float(cells[j]) for j in cols]
        except (ValueError, IndexError):
            raise InputError(f"{path}: data row {first_row + i} is not numbers in the model's columns: "
                             f"{line[:80]!r}") from None
    return out


def _score(model: Model, X: np.ndarray, starts: np.ndarray, W: int, nc: int, nx: int, has_time: bool):
    values = X[:, :, :nc].reshape(len(X), -1).astype(np.float32)
    C = X[:, :, nc:nc + nx].mean(axis=1).astype(np.float32) if nx else None
    if not np.isfinite(values).all():
        raise InputError("a window holds NaN/inf values; fill or drop them before they reach the stream")
    scores = model.score_components(values, C)["score"]
    times = X[:, -1, -1] if has_time else (starts + W - 1).astype(np.float64)
    for k in range(len(X)):
        s = float(scores[k])
        yield {"row": int(starts[k] + W - 1), "time": float(times[k]), "score": s,
               "alarms": [t.name for t in model.thresholds if s > t.value]}


def follow_command(model: Model, files, *, poll: float, max_windows: int | None, echo, say,
                   as_json: bool = False) -> dict:
    """``adkit score FILE --follow``: one line per window (JSON lines with ``--json``) until interrupted."""
    import json

    if len(files) != 1:
        raise ConfigError("--follow watches one growing file; give exactly one")
    _source(model, files[0])  # refused in one line before anything is announced
    say(f"following {files[0]}: one line per window of {model.spec.window} samples every {model.spec.stride} "
        f"(Ctrl-C stops)")
    n = alarms = 0
    try:
        for w in follow(model, files[0], poll=poll, max_windows=max_windows):
            n += 1
            alarms += bool(w["alarms"])
            echo(json.dumps(w) if as_json else
                 f"{w['row']} {w['time']:.9g} {w['score']:.6g}" + (f" ALARM {','.join(w['alarms'])}" if w["alarms"]
                                                                    else ""))
    except KeyboardInterrupt:
        pass
    say(f"scored {n} windows, {alarms} with an alarm")
    return {"windows": n, "alarms": alarms}


__all__ = ["follow", "follow_command"]
