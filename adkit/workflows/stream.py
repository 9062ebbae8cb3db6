"""Streaming scores for monitoring: a CSV or Parquet file that grows is scored window by window as rows arrive.

    from adkit import Model
    from adkit.workflows.stream import follow
    for w in follow(Model.load("model.adkit"), "sensor.csv"):
        if w["alarms"]:
            page_the_shifter(w)

:func:`follow` reads the file's complete lines as they are appended (a line still being written
waits for its newline), keeps only the last ``window − 1`` rows between reads, and yields one
result per window of the model's window and stride, counted from the first data row: the row
and time stamp of the window's last sample, its score, and the names of the stored thresholds
it passes. Memory is bounded by the window plus one read (at most ``max_rows`` lines). A Parquet
file cannot grow in place (its footer is at the end): a writer that rewrites it with more rows
(atomically, e.g. a periodic dump) is followed by reading, at each change, the row groups past
the rows already read. The file is only read, never changed. ``adkit score FILE --follow`` prints the same, one line per window.
"""
from __future__ import annotations

import csv
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from adkit.artifact import Model
from adkit.errors import ConfigError, InputError
from adkit.io.series import TIME_NAMES


def _columns(path: Path, names: list[str], spec) -> tuple[list[int], list[int], int | None]:
    names = [n.strip() for n in names]
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
    chunks = _parquet_chunks if p.suffix.lower() == ".parquet" else _csv_chunks
    for new, has_time in chunks(p, spec, poll, stop, max_rows):
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


def _csv_chunks(p: Path, spec, poll: float, stop, max_rows: int) -> Iterator[tuple[np.ndarray, bool]]:
    """The new complete rows of a CSV that grows by lines (a line still being written waits for its newline)."""
    cols: list[int] | None = None
    has_time = False
    pending = ""
    n_rows = 0
    with open(p, encoding="utf-8", newline="") as fh:
        same = _SameStream(p, fh)
        while True:
            same.check()  # before every read: the rows to come continue the rows already scored
            chunk = fh.read(max_rows * 64)
            same.seen(chunk)
            lines = (pending + chunk).split("\n")
            pending = lines.pop()
            if cols is None and lines:
                c_idx, x_idx, t_idx = _columns(p, next(csv.reader([lines.pop(0).rstrip("\r\n")])), spec)
                has_time = t_idx is not None
                cols = [*c_idx, *x_idx, *([t_idx] if has_time else [])]
            rows = [ln for ln in lines if ln.strip()]
            if rows:
                yield _parse(p, rows, cols, n_rows), has_time
                n_rows += len(rows)
            elif not chunk:
                if stop is not None and stop():
                    return
                time.sleep(poll)


class _SameStream:
    """Checks that ``p`` is still the file open as ``fh`` and was only appended to: not moved away or
    replaced (another inode), not truncated (shorter than what was read), not rewritten (the first
    bytes read have changed). Otherwise one line: old offsets are never mixed with new rows."""

    def __init__(self, p: Path, fh) -> None:
        self.p, self.fh, self.st0 = p, fh, os.fstat(fh.fileno())
        self.head = b""  # the first bytes read (up to 4 KiB), as they were when read

    def seen(self, text: str) -> None:
        if len(self.head) < 4096 and text:
            self.head += text.encode("utf-8")[: 4096 - len(self.head)]

    def check(self) -> None:
        p = self.p
        try:
            st = os.stat(p)
        except OSError:
            raise InputError(f"{p}: is gone (moved away or deleted) while being followed; start --follow again "
                             "on the new file") from None
        if (st.st_dev, st.st_ino) != (self.st0.st_dev, self.st0.st_ino):
            raise InputError(f"{p}: was replaced by another file (rotated or moved over) while being followed; the "
                             "rows scored so far were the old file's; start --follow again on the new file")
        read = os.lseek(self.fh.fileno(), 0, os.SEEK_CUR)
        if st.st_size < read:
            raise InputError(f"{p}: was truncated ({st.st_size} bytes, {read} already read) while being followed; "
                             "start --follow again")
        if self.head:
            with open(p, "rb") as raw:
                now = raw.read(len(self.head))
            if now != self.head:
                raise InputError(f"{p}: was rewritten (its first rows changed) while being followed; start --follow "
                                 "again")


def _parquet_chunks(p: Path, spec, poll: float, stop, max_rows: int) -> Iterator[tuple[np.ndarray, bool]]:
    """The new rows of a Parquet file that is rewritten with more rows (a periodic dump, replaced
    atomically): when its size or time changes, the rows past those already read, from the row
    groups that hold them. A file that cannot be opened yet (being written) is waited for."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    done, seen, first_row = 0, None, None
    while True:
        st = p.stat()
        if (st.st_mtime_ns, st.st_size) != seen:
            try:
                pf = pq.ParquetFile(p)
            except (OSError, ValueError, pa.ArrowException):  # being written: no footer yet, try again
                pf = None
            if pf is not None:
                seen = (st.st_mtime_ns, st.st_size)
                n = pf.metadata.num_rows
                first = _first_row(pf)
                if done and first != first_row:
                    raise InputError(f"{p}: its first row changed: the file was replaced by another stream, "
                                     "not extended; start --follow again")
                first_row = first
                if n < done:
                    raise InputError(f"{p}: now has {n} rows, fewer than the {done} already scored: the stream was "
                                     "replaced by another; start --follow again")
                if n > done:
                    c_idx, x_idx, t_idx = _columns(p, pf.schema_arrow.names, spec)
                    names = pf.schema_arrow.names
                    want = [names[i] for i in (*c_idx, *x_idx, *([t_idx] if t_idx is not None else []))]
                    first, parts = 0, []
                    for g in range(pf.num_row_groups):
                        size = pf.metadata.row_group(g).num_rows
                        if first + size > done:
                            t = pf.read_row_group(g, columns=want)
                            parts.append(np.column_stack([t.column(c).to_numpy().astype(np.float64)
                                                          for c in want])[max(0, done - first):])
                        first += size
                    yield np.concatenate(parts), t_idx is not None
                    done = n
                    continue
        if stop is not None and stop():
            return
        time.sleep(poll)


def _first_row(pf) -> tuple | None:
    """What identifies a Parquet stream whatever its row groups: its column names and first row."""
    if pf.metadata.num_rows == 0:
        return None
    first = next(pf.iter_batches(batch_size=1)).to_pylist()[0]
    return tuple(first.items())


def _source(model: Model, path: str | Path) -> Path:
    """The file to follow, or one line saying why it cannot be."""
    if model.spec.kind != "series":
        raise ConfigError("--follow scores a growing time series: give a model trained on series")
    p = Path(path)
    if p.suffix.lower() not in (".csv", ".txt", ".parquet"):
        raise ConfigError(f"{p}: --follow reads a CSV that grows by lines or a Parquet file rewritten with more rows; "
                          "HDF5 files are not followed (convert the stream to CSV)")
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
