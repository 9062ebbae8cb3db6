"""Streaming scores for monitoring: a CSV or Parquet file that grows is scored window by window as rows arrive.

    from adkit import Model
    from adkit.workflows.stream import follow
    for w in follow(Model.load("model.adkit"), "sensor.csv"):
        if w["alarms"]:
            page_the_shifter(w)

:func:`follow` takes the file's new rows from its reader (:mod:`adkit.io.stream`: complete CSV
lines as they are appended, or the new row groups of a rewritten Parquet file), keeps only the
last ``window − 1`` rows between reads, and yields one
result per window of the model's window and stride, counted from the first data row: the row
and time stamp of the window's last sample, its score, and the names of the stored thresholds
it passes. Memory is bounded by the window plus one read (at most ``max_rows`` lines).
``adkit score FILE --follow`` prints the same, one line per window.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from adkit.artifact import Model
from adkit.errors import ConfigError, InputError
from adkit.io.stream import STREAM_READERS


def follow(model: Model, path: str | Path, *, poll: float = 0.5, max_windows: int | None = None,
           stop: Callable[[], bool] | None = None, max_rows: int = 100_000) -> Iterator[dict]:
    """Yield ``{"row", "time", "score", "alarms"}`` for each new window of the growing CSV or Parquet
    file ``path``, waiting ``poll`` seconds between reads; ends after ``max_windows`` windows or when
    ``stop()`` is true."""
    spec = model.spec
    p = _source(model, path)
    W, S = spec.window, spec.stride
    nc, nx = len(spec.channels), len(spec.context)
    tail = None  # rows kept between reads (the channels, context and time columns only)
    row0 = 0  # data-row index of tail's first row
    next_start = 0  # data-row index where the next window starts
    emitted = 0
    for new, has_time in STREAM_READERS[p.suffix.lower()](p, spec, poll, stop, max_rows):
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


def _source(model: Model, path: str | Path) -> Path:
    """The file to follow, or one line saying why it cannot be."""
    from adkit.workflows.commands import SERIES, kind_of

    if kind_of(model) is not SERIES:
        raise ConfigError("--follow scores a growing time series: give a model trained on series")
    p = Path(path)
    if p.suffix.lower() not in STREAM_READERS:
        raise ConfigError(f"{p}: --follow reads a CSV that grows by lines or a Parquet file rewritten with more rows; "
                          "HDF5 files are not followed (convert the stream to CSV)")
    if not p.exists():
        raise InputError(f"{p}: no such file")
    return p


def _score(model: Model, X: np.ndarray, starts: np.ndarray, W: int, nc: int, nx: int, has_time: bool):
    values = X[:, :, :nc].reshape(len(X), -1).astype(np.float32)
    C = X[:, :, nc:nc + nx].mean(axis=1).astype(np.float32) if nx else None
    if not np.isfinite(values).all():
        raise InputError("a window holds NaN/inf values; fill or drop them before they reach the stream")
    from adkit.workflows.series import check_window_scores

    with np.errstate(over="ignore", invalid="ignore"):
        scores = model.score_components(values, C)["score"]
    times = X[:, -1, -1] if has_time else (starts + W - 1).astype(np.float64)
    check_window_scores(scores, times, "the stream")
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
