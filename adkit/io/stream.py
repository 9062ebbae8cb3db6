"""Growing files read as a stream of new rows: a CSV that grows by lines, a Parquet file rewritten
with more rows. One reader per format (:data:`STREAM_READERS`, by suffix); each yields
``(rows, has_time)``: float64 ``[new rows, channels + context (+ time)]`` in the order of the spec.

A CSV is read by complete lines (a line still being written waits for its newline) and must only
grow: moved, replaced, truncated or rewritten files are refused in one line (:class:`_SameStream`).
A Parquet file cannot grow in place (its footer is at the end): a writer that rewrites it with more
rows (atomically, e.g. a periodic dump) is followed by reading, at each change, the row groups past
the rows already read. Files are only read, never changed.
"""
from __future__ import annotations

import csv
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from adkit.errors import InputError
from adkit.io.series import TIME_NAMES

#: Rows of a growing file: ``reader(path, spec, poll, stop, max_rows)``.
StreamReader = Callable[[Path, object, float, "Callable[[], bool] | None", int], Iterator[tuple[np.ndarray, bool]]]


def columns(path: Path, names: list[str], spec) -> tuple[list[int], list[int], int | None]:
    names = [n.strip() for n in names]
    missing = [c for c in [*spec.channels, *spec.context] if c not in names]
    if missing:
        from adkit.errors import closest

        raise InputError(f"{path}: no column {missing[0]!r} (the model reads {', '.join(spec.channels)}); "
                         f"columns: {closest(missing[0], names)}")
    tcol = spec.time_column or next((n for n in names if n.lower() in TIME_NAMES), None)
    return ([names.index(c) for c in spec.channels], [names.index(c) for c in spec.context],
            names.index(tcol) if tcol in names else None)


def csv_rows(p: Path, spec, poll: float, stop, max_rows: int) -> Iterator[tuple[np.ndarray, bool]]:
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
                c_idx, x_idx, t_idx = columns(p, next(csv.reader([lines.pop(0).rstrip("\r\n")])), spec)
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


def parquet_rows(p: Path, spec, poll: float, stop, max_rows: int) -> Iterator[tuple[np.ndarray, bool]]:
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
            except (OSError, ValueError, pa.ArrowException):  # being written: no footer yet; read it when it changes
                pf, seen = None, (st.st_mtime_ns, st.st_size)
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
                    c_idx, x_idx, t_idx = columns(p, pf.schema_arrow.names, spec)
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


#: The stream reader of each file suffix.
STREAM_READERS: dict[str, StreamReader] = {".csv": csv_rows, ".txt": csv_rows, ".parquet": parquet_rows}
