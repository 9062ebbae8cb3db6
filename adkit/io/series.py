"""Multichannel time series: readers, gap checks, windows, and the spec stored in models.

A :class:`Series` is one file's samples: ``time`` (seconds, float64[T]), ``values``
(float32[T, C]) with channel names, optional per-sample ``labels`` (0 normal, 1 anomalous)
and optional ``context`` columns (e.g. luminosity, pile-up: the conditions of a CVAE).

Formats: CSV and Parquet with a time column (``time``, ``timestamp``, ``t``, ``gps_time``,
or ``--time-column``), HDF5 (a (T, C) dataset; time from a ``time`` dataset or a
``sampling_rate`` attribute, column names from a ``columns`` attribute) and NumPy ``.npy`` /
``.npz`` (``values`` and optional ``time``; never unpickled), and UCR Anomaly Archive files
(``NNN_UCR_Anomaly_NAME_TRAINEND_BEGIN_END.txt``: the name gives the training part and the
anomaly). Without time stamps, ``rate``
(Hz) gives them. Time stamps that go backwards are an error naming the row; gaps (steps over
1.5× the median step) split the series into segments, are reported, and no window spans one.

:class:`SeriesSpec` is what a series model reads (channels, context, window, stride, time
handling); the windows themselves are cut by :mod:`adkit.features.windows`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from adkit.errors import ConfigError, InputError, closest
from adkit.validation import LIMITS

TIME_NAMES = ("time", "timestamp", "t", "gps_time", "datetime")
LABEL_NAMES = ("is_anomaly", "label", "anomaly")
SERIES_SUFFIXES = (".csv", ".txt", ".npy", ".npz")
DEMOS = ("sensor-demo", "sensor-demo:gw", "sensor-demo:rates")


@dataclass
class Series:
    path: str
    time: np.ndarray
    values: np.ndarray
    channels: list[str]
    labels: np.ndarray | None = None
    context: np.ndarray | None = None
    context_names: list[str] = field(default_factory=list)
    gaps: list[tuple[int, float]] = field(default_factory=list)
    #: "s" (seconds), or "samples" for integer time stamps (a sample index) given without --rate.
    time_unit: str = "s"
    #: Rows before this are the training part (a UCR Anomaly Archive file says so in its name).
    train_stop: int | None = None

    def __len__(self) -> int:
        return len(self.time)

    @property
    def step(self) -> float:
        return float(np.median(np.diff(self.time))) if len(self.time) > 1 else 1.0

    def head(self, n: int) -> Series:
        """The first ``n`` rows (the training part of a UCR file)."""
        return Series(self.path, self.time[:n], self.values[:n], self.channels,
                      None if self.labels is None else self.labels[:n],
                      None if self.context is None else self.context[:n], self.context_names,
                      [g for g in self.gaps if g[0] < n], self.time_unit, None)

    def segments(self) -> list[tuple[int, int]]:
        """Contiguous [start, stop) row ranges between gaps."""
        cuts = [0, *[i for i, _ in self.gaps], len(self)]
        return [(a, b) for a, b in zip(cuts[:-1], cuts[1:]) if b > a]


#: A UCR Anomaly Archive file: ``NNN_UCR_Anomaly_NAME_TRAINEND_BEGIN_END.txt`` (Wu & Keogh), one
#: value per sample, the training part before TRAINEND, one anomaly from BEGIN to END.
UCR_NAME = re.compile(r"^\d+_UCR_Anomaly_(?P<name>.+)_(?P<train>\d+)_(?P<begin>\d+)_(?P<end>\d+)\.txt$")


def ucr_fields(path: str | Path) -> dict | None:
    """{"name", "train", "begin", "end"} of a UCR Anomaly Archive file name, else None."""
    m = UCR_NAME.match(Path(str(path)).name)
    return None if m is None else {"name": m["name"], **{k: int(m[k]) for k in ("train", "begin", "end")}}


def read_ucr(path: Path) -> Series:
    """A UCR Anomaly Archive series: values separated by white space; time = the sample index;
    labels 1 on the anomaly (BEGIN..END, counted from 1 as the archive does); ``train_stop`` = TRAINEND."""
    f = ucr_fields(path)
    try:
        values = np.array(path.read_text().split(), dtype=np.float64)
    except ValueError as e:
        raise InputError(f"{path}: a UCR Anomaly Archive file holds numbers separated by white space ({e})") from None
    n = len(values)
    if not (0 < f["train"] < f["begin"] <= f["end"] <= n):
        raise InputError(f"{path}: its name says training part 1..{f['train']} and anomaly {f['begin']}..{f['end']}, "
                         f"which does not fit its {n} values")
    if not np.isfinite(values).all():
        raise InputError(f"{path}: NaN/inf values (first at row {int(np.flatnonzero(~np.isfinite(values))[0])})")
    labels = np.zeros(n, dtype=np.int8)
    labels[f["begin"] - 1:f["end"]] = 1
    return Series(str(path), np.arange(n, dtype=np.float64), values.astype(np.float32)[:, None], ["value"], labels,
                  time_unit="samples", train_stop=f["train"])


def demo_name(path: str | Path) -> tuple[str, int] | None:
    """``sensor-demo[:kind][@seed]`` → (name, seed), or None for a file."""
    name, _, seed = str(path).partition("@")
    if name not in DEMOS:
        return None
    try:
        return name, int(seed) if seed else 1
    except ValueError:
        raise ConfigError(f"{path}: the demo seed after '@' must be an integer") from None


def is_series_input(path: str | Path) -> bool:
    """Files adkit reads as time series rather than events: CSV/NPY/NPZ, and the embedded demos."""
    return demo_name(path) is not None or Path(str(path)).suffix.lower() in SERIES_SUFFIXES


#: Rows per block when a format can be read in blocks (CSV, Parquet, HDF5).
BLOCK_ROWS = 1 << 18


def _blocks(names: list[str], batches) -> dict[str, np.ndarray]:
    """Columns ``names`` of a stream of arrow record batches, block by block."""
    parts: dict[str, list[np.ndarray]] = {c: [] for c in names}
    for b in batches:
        for c in names:
            parts[c].append(b.column(c).to_numpy(zero_copy_only=False))
    return {c: np.concatenate(v) if v else np.zeros(0, np.float32) for c, v in parts.items()}


def _table(path: Path, dataset: str | None, keep=None) -> tuple[dict[str, np.ndarray], float | None]:
    """Column name → array for any supported format, and a sampling rate if the file gives one.

    CSV and Parquet are streamed in blocks of about BLOCK_ROWS rows, keeping only the columns for
    which ``keep(name)`` is true (all without ``keep``): memory holds the wanted columns and one
    block, never the whole table. HDF5 is read in row blocks of the (T, C) dataset."""
    suffix = path.suffix.lower()
    keep = keep or (lambda name: True)
    try:
        if suffix in (".csv", ".txt"):
            import pyarrow.csv as pcsv

            names = [n for n in pcsv.open_csv(path).schema.names if keep(n)]
            stream = pcsv.open_csv(path, read_options=pcsv.ReadOptions(block_size=BLOCK_ROWS * 64),
                                   convert_options=pcsv.ConvertOptions(include_columns=names))
            return _blocks(names, stream), None
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            pf = pq.ParquetFile(path)
            names = [n for n in pf.schema_arrow.names if keep(n)]
            return _blocks(names, pf.iter_batches(batch_size=BLOCK_ROWS, columns=names)), None
        if suffix in (".npy", ".npz"):
            if suffix == ".npy":
                with open(path, "rb") as fh:
                    _npy_fits(path, fh, "values")
                arr = np.load(path, allow_pickle=False)
                return _matrix_columns(path, arr, None), None
            with np.load(path, allow_pickle=False) as z:
                if "values" not in z:
                    raise InputError(f"{path}: an .npz series needs a 'values' array (T, C); found {', '.join(z.files)}")
                for name in z.files:  # every header read before any array is inflated
                    with z.zip.open(f"{name}.npy") as fh:
                        _npy_fits(path, fh, name)
                cols = _matrix_columns(path, z["values"], z["columns"].tolist() if "columns" in z else None)
                if "time" in z:
                    cols = {"time": z["time"], **cols}
                return cols, (float(z["sampling_rate"]) if "sampling_rate" in z else None)
        if suffix in (".h5", ".hdf5"):
            import h5py

            from adkit.io.hdf5 import check_chunks

            with h5py.File(path, "r") as h5:
                names = [k for k in h5 if isinstance(h5[k], h5py.Dataset) and h5[k].ndim == 2]
                name = dataset or (names[0] if len(names) == 1 else None)
                if name is None or name not in h5:
                    raise InputError(f"{path}: choose the (T, C) dataset with --dataset (2-D datasets: "
                                     f"{closest(dataset or '', names)})")
                ds = h5[name]
                check_chunks(path, ds)
                if ds.size * ds.dtype.itemsize > LIMITS["array_bytes"]:
                    raise InputError(f"{path}: dataset {name!r} holds {ds.size * ds.dtype.itemsize / 2**30:.1f} GiB, "
                                     f"over the {LIMITS['array_bytes'] / 2**30:g} GiB a series may take in memory; "
                                     "split it into several files")
                attr = ds.attrs.get("columns")
                rows = np.concatenate([ds[s:s + BLOCK_ROWS] for s in range(0, len(ds), BLOCK_ROWS)]) if len(ds) \
                    else ds[:]
                cols = _matrix_columns(path, rows, [c.decode() if isinstance(c, bytes) else str(c) for c in attr]
                                       if attr is not None else None)
                rate = ds.attrs.get("sampling_rate", h5.attrs.get("sampling_rate"))
                if "time" in h5:
                    cols = {"time": h5["time"][:], **cols}
                return cols, None if rate is None else float(rate)
    except OSError as e:
        raise InputError(f"{path}: cannot be read as a time series ({e})") from None
    except (ValueError, KeyError) as e:
        if isinstance(e, InputError):
            raise
        raise InputError(f"{path}: cannot be read as a time series ({type(e).__name__}: {e})") from None
    raise InputError(f"{path}: unknown time-series format {suffix!r}; use .csv, .parquet, .h5, .npy or .npz")


def _npy_fits(path: Path, fh, name: str) -> None:
    """Read an .npy header and refuse, before anything is allocated, an array over ``LIMITS["array_bytes"]``."""
    try:
        version = np.lib.format.read_magic(fh)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read(fh, max_header_size=10_000)
    except (ValueError, OSError, SyntaxError) as e:
        raise InputError(f"{path}: {name!r} is not a NumPy array ({' '.join(str(e).split())[:120]})") from None
    nbytes = float(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    if nbytes > LIMITS["array_bytes"]:
        raise InputError(f"{path}: {name!r} claims {nbytes / 2**30:.3g} GiB ({'×'.join(map(str, shape))} values), over "
                         f"the {LIMITS['array_bytes'] / 2**30:g} GiB a series may take in memory; split it")


def _matrix_columns(path: Path, arr: np.ndarray, names: list[str] | None) -> dict[str, np.ndarray]:
    arr = np.asarray(arr)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise InputError(f"{path}: a series array must be (T, C), got shape {arr.shape}")
    names = names if names and len(names) == arr.shape[1] else [f"ch{i}" for i in range(arr.shape[1])]
    return {n: arr[:, i] for i, n in enumerate(names)}


def read_series(path: str | Path, *, channels: list[str] | None = None, context: list[str] | None = None,
                time_column: str | None = None, label_column: str | None = None, rate: float | None = None,
                dataset: str | None = None) -> Series:
    """Read one time series (or an embedded demo: ``sensor-demo``, ``sensor-demo:rates``, ``@seed``)."""
    if demo_name(path):
        from adkit.io.sensor_demo import demo

        name, demo_seed = demo_name(path)
        table, file_rate = demo(name, seed=demo_seed), None
        p = Path(str(path))
    else:
        from adkit.io.inputs import existing_input

        p = existing_input(path, "series", "the series file inside it")
        if ucr_fields(p):
            s = read_ucr(p)
            if channels and len(channels) != 1:
                raise InputError(f"{p}: a UCR series has one channel; the model reads {len(channels)} "
                                 f"({', '.join(channels)})")
            s.channels = list(channels or s.channels)
            if rate:
                s.time, s.time_unit = s.time / float(rate), "s"
            return s
        named = {*(channels or []), *(context or []), time_column, label_column}
        auto = {*TIME_NAMES, *LABEL_NAMES}
        keep = (lambda n: n in named or n.lower() in auto) if channels else None  # else every column is a channel
        table, file_rate = _table(p, dataset, keep)
    names = list(table)

    def every() -> list[str]:  # for suggestions: the columns that were not read too
        return names if demo_name(path) else _header(p, names)

    tcol = time_column or next((n for n in names if n.lower() in TIME_NAMES), None)
    if time_column and time_column not in table:
        raise InputError(f"{p}: no time column {time_column!r}; columns: {closest(time_column, every())}")
    lcol = label_column or next((n for n in names if n.lower() in LABEL_NAMES), None)
    if label_column and label_column not in table:
        raise InputError(f"{p}: no label column {label_column!r}; columns: {closest(label_column, every())}")
    context = list(context or [])
    bad = [c for c in [*(channels or []), *context] if c not in table]
    if bad:
        raise InputError(f"{p}: no column {bad[0]!r}; columns: {closest(bad[0], every())}")
    chans = list(channels) if channels else [n for n in names if n not in (tcol, lcol, *context)]
    if not chans:
        raise InputError(f"{p}: no value columns besides the time/label columns")
    n = len(table[chans[0]])
    if n == 0:
        raise InputError(f"{p}: the series is empty")
    for c in [*chans, *context]:
        kind = np.asarray(table[c]).dtype.kind
        if kind not in "fiub":
            what = "complex numbers" if kind == "c" else "text or mixed values"
            raise InputError(f"{p}: column {c!r} holds {what}; channel and context columns must be real numbers "
                             "(choose the value columns with --channels)")
    values = np.column_stack([np.asarray(table[c], dtype=np.float32) for c in chans])
    ctx = np.column_stack([np.asarray(table[c], dtype=np.float32) for c in context]) if context else None
    unit = "s"
    if tcol is not None:
        time = np.asarray(table[tcol])
        if time.dtype.kind == "M":
            time = time.astype("datetime64[ns]").astype(np.int64) / 1e9
        elif time.dtype.kind in "iu":  # a sample index: seconds only through a rate
            unit = "s" if rate else "samples"
            time = time / float(rate) if rate else time
        elif time.dtype.kind not in "fb":
            first = next((v for v in time if not isinstance(v, (int, float))), time[0])
            raise InputError(f"{p}: time column {tcol!r} holds text (e.g. {str(first)[:40]!r}); give seconds, a sample "
                             "index or ISO 8601 date-times (or another column with --time-column)")
        time = time.astype(np.float64)
    else:
        r = rate or file_rate
        if not r:
            raise InputError(f"{p}: no time column ({'/'.join(TIME_NAMES)}) and no sampling rate; "
                             "give --rate HZ or --time-column NAME")
        time = np.arange(n, dtype=np.float64) / float(r)
    if not np.isfinite(time).all():
        raise InputError(f"{p}: time stamps contain NaN/inf (first at row {int(np.flatnonzero(~np.isfinite(time))[0])})")
    if not np.isfinite(values).all():
        bad_row = int(np.flatnonzero(~np.isfinite(values).all(axis=1))[0])
        raise InputError(f"{p}: NaN/inf values (first at row {bad_row}, time {time[bad_row]:g}); fill or drop them")
    dt = np.diff(time)
    back = np.flatnonzero(dt <= 0)
    if len(back):
        i = int(back[0]) + 1
        raise InputError(f"{p}: time stamps are not increasing at row {i} ({time[i - 1]:g} → {time[i]:g}); "
                         f"{len(back)} such step(s): sort the file by time and remove duplicates")
    gaps: list[tuple[int, float]] = []
    if len(dt):
        step = float(np.median(dt))
        gaps = [(int(i) + 1, float(dt[i])) for i in np.flatnonzero(dt > 1.5 * step)]
    labels = _labels(p, lcol, np.asarray(table[lcol])) if lcol else None
    return Series(str(path), time, values, chans, labels, ctx, context, gaps, unit)


def _header(path: Path, read: list[str]) -> list[str]:
    """Every column name of a CSV or Parquet file (only the wanted ones are read); else ``read``."""
    try:
        if path.suffix.lower() in (".csv", ".txt"):
            import pyarrow.csv as pcsv

            return list(pcsv.open_csv(path).schema.names)
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            return list(pq.ParquetFile(path).schema_arrow.names)
    except (OSError, ValueError):
        pass
    return read


def _labels(path: Path, column: str, raw: np.ndarray) -> np.ndarray:
    """A label column as int8 0/1; anything else (2, -1, 0.5, text, missing) is a one-line error."""
    if raw.dtype.kind == "b":
        return raw.astype(np.int8)
    ok = raw.dtype.kind in "fiu"
    if ok:
        with np.errstate(invalid="ignore"):
            ok_rows = (raw == 0) | (raw == 1)
        ok = bool(ok_rows.all())
    if not ok:
        bad = next((v for v in raw if not (isinstance(v, (int, float, np.number)) and v in (0, 1))), raw[0])
        raise InputError(f"{path}: label column {column!r} must hold 0 (normal) or 1 (anomalous) only; found {bad!r}")
    return raw.astype(np.int8)


class SeriesSpec:
    """What a series model reads: channels, context columns, window and stride, time handling."""

    kind = "series"
    mapping = None

    def __init__(self, channels: list[str], window: int, stride: int, context: list[str] | None = None,
                 time_column: str | None = None, label_column: str | None = None, rate: float | None = None) -> None:
        from adkit.validation import LIMITS

        for name, v in (("window", window), ("stride", stride)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not float(v).is_integer() \
                    or not 1 <= v <= LIMITS["window"]:
                raise ConfigError(f"series {name} {v!r}: must be a whole number of samples from 1 to {LIMITS['window']}")
        if len(channels or ()) * int(window) > LIMITS["features"]:
            raise ConfigError(f"series window of {int(window)} samples × {len(channels)} channel(s): over the limit of "
                              f"{LIMITS['features']} values per window")
        self.channels, self.window, self.stride = list(channels), int(window), int(stride)
        self.context = list(context or [])
        self.time_column, self.label_column, self.rate = time_column, label_column, rate
        self.features = self.conditions = self.table_columns = self.table_conditions = None

    def with_mapping(self, mapping) -> SeriesSpec:
        return self  # series files have no mapping

    @property
    def columns(self) -> list[str]:
        return [f"{c}@{k}" for k in range(self.window) for c in self.channels]

    @property
    def condition_names(self) -> list[str]:
        return list(self.context)

    def groups(self) -> list[str]:
        """Standardizer groups: every window column of one channel shares mean and scale."""
        return [c for _ in range(self.window) for c in self.channels]

    def read(self, path: str | Path, rate: float | None = None) -> Series:
        return read_series(path, channels=self.channels, context=self.context or None, time_column=self.time_column,
                           label_column=self.label_column, rate=rate or self.rate)

    def to_dict(self) -> dict:
        return {"kind": "series", "columns": self.columns, "channels": self.channels, "window": self.window,
                "stride": self.stride, "context": self.context, "time_column": self.time_column,
                "label_column": self.label_column, "rate": self.rate}

    @classmethod
    def from_dict(cls, d: dict) -> SeriesSpec:
        return cls(d["channels"], d["window"], d["stride"], d.get("context"), d.get("time_column"),
                   d.get("label_column"), d.get("rate"))
