"""train / score / evaluate for time series: windows in, a score per window and per sample out.

The detectors are the same as for events: a window of T samples × C channels is one event
of T·C features (time-major). Per-channel normalisation is the :class:`Standardizer` with one
group per channel (all window positions of a channel share its mean and scale), fitted on
the training windows and stored in the model. A CVAE's condition is the mean of the context
columns (e.g. luminosity, pile-up) over each window.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from adkit.artifact import Model, file_record, versions
from adkit.detectors.base import TrainOptions
from adkit.errors import ConfigError, InputError
from adkit.features.preprocess import Standardizer
from adkit.features.windows import labelled, per_sample, uncovered, window_context, window_matrix, window_starts
from adkit.io.series import Series, SeriesSpec, demo_name
from adkit.io.writers import score_output_path

DEFAULT_WINDOW = 128
#: Fewer training windows than this get a warning: too few for a network to learn "normal".
MIN_WINDOWS = 300


def _windows(spec: SeriesSpec, series: Series) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    starts = window_starts(series, spec.window, spec.stride)
    if len(starts) == 0:
        raise InputError(f"{series.path}: no complete window of {spec.window} samples (the series or its "
                         f"segments between gaps are shorter); use a smaller --window")
    return window_matrix(series.values, starts, spec.window), window_context(series.context, starts, spec.window), starts


def training_series(spec: SeriesSpec, data: Sequence[str | Path], first: Series | None) -> list[Series]:
    """Every training series (a UCR file: its training part); ``first``: the first, if already read."""
    out = []
    for path in data:
        s = first if (first is not None and path == data[0]) else spec.read(path)
        out.append(s.head(s.train_stop) if s.train_stop is not None else s)
    return out


def training_windows(spec: SeriesSpec, series: Sequence[Series], on_gaps=None) -> tuple[np.ndarray, np.ndarray | None]:
    """The clean windows of the training ``series`` (samples labelled anomalous are left out) and
    their context."""
    feats, conds = [], []
    for s in series:
        if s.gaps and on_gaps:
            on_gaps(s)
        X, C, starts = _windows(spec, s)
        if s.labels is not None:  # train on normal data only
            clean = ~labelled(s.labels, starts, spec.window)
            X, C = X[clean], (None if C is None else C[clean])
        feats.append(X)
        conds.append(C)
    return np.concatenate(feats), None if conds[0] is None else np.concatenate(conds)


def default_stride(det_cls, series: Sequence[Series], window: int) -> tuple[int, str]:
    """The stride a detector takes when none is given, and why (``Detector.series_stride``)."""
    if det_cls.series_stride == "one":
        return 1, f"{det_cls.name}'s default: every window"
    clean = 0  # training windows at stride 1
    for s in series:
        starts = window_starts(s, window, 1)
        clean += int(len(starts) if s.labels is None else (~labelled(s.labels, starts, window)).sum())
    stride = max(1, min(window // 4, clean // MIN_WINDOWS))
    why = (f"the largest up to window/4 that gives at least {MIN_WINDOWS} training windows" if stride < window // 4
           else "window/4")
    return stride, f"{det_cls.name}'s default: {why}"


def train_series(model_name: str, data: Sequence[str | Path], *, window: int = DEFAULT_WINDOW,
                 stride: int | None = None, channels: Sequence[str] | None = None,
                 conditions: Sequence[str] | None = None, time_column: str | None = None,
                 label_column: str | None = None, rate: float | None = None, params: dict | None = None,
                 seed: int = 0, epochs: int | None = None, checkpoint: str | Path | None = None, resume: bool = False,
                 progress: bool = False, on_gaps=None) -> Model:
    """Train ``model_name`` on the windows of the series ``data`` (files or ``sensor-demo``).

    Samples labelled anomalous in the training files (a label column) are left out of training.
    """
    from adkit.detectors import registry
    from adkit.files import check_distinct

    check_distinct(data, "series")
    det_cls = registry.get(model_name)
    if det_cls.uses_condition and not conditions:
        raise ConfigError(f"detector {model_name!r} needs --conditions naming the context columns of the series "
                          "(e.g. lumi,pileup for sensor-demo:rates)")
    if conditions and not det_cls.uses_condition:
        raise ConfigError(f"detector {model_name!r} does not use conditions; drop --conditions")
    params = dict(params or {})
    names = det_cls.param_names()
    if "seed" in names:
        params["seed"] = seed
    if epochs is not None and "epochs" in names:
        params["epochs"] = int(epochs)
    reading = SeriesSpec(list(channels or []), window, stride or 1, list(conditions or []), time_column,
                         label_column, rate)
    first = reading.read(data[0]) if not channels else None
    reading.channels = list(channels) if channels else first.channels
    series = training_series(reading, data, first)
    why = "given"
    if stride is None:
        stride, why = default_stride(det_cls, series, window)
    spec = SeriesSpec(reading.channels, window, stride, list(conditions or []), time_column, label_column, rate)
    if "n_channels" in names:
        params["n_channels"] = len(spec.channels)
    if "standardize" in names:  # the series scaler prepares the inputs
        params.setdefault("standardize", False)
    detector = det_cls.from_params(params)
    X, C = training_windows(spec, series, on_gaps)
    if len(X) < 2:
        raise InputError("fewer than two clean training windows")
    scaler = Standardizer(groups=spec.groups()).fit(X)
    detector.fit(scaler.transform(X), condition=C, options=TrainOptions(None if checkpoint is None else str(checkpoint), resume,
                                                              progress))
    inputs = [file_record(p) for p in data if not demo_name(p)]
    provenance = {"inputs": inputs, "seed": seed, "events": int(len(X)), "versions": versions(), "windows": int(len(X)),
                  "stride": {"value": int(stride), "why": why}}
    demos = [demo_name(p) for p in data if demo_name(p)]
    if demos:
        provenance["embedded"] = {"generator": "adkit.datasets.sensor", "events": int(len(X)), "seed": demos[0][1],
                                  "mix": ", ".join(name for name, _ in demos)}
    history = getattr(detector, "history_", None) or []
    return Model(detector, spec, scaler, None, [], provenance, {"train": history[-1] if history else {}})


def train_windows(model_name: str, data: Sequence[str | Path] | None = None, *,
                  conditions: str | Sequence[str] | None = None, window: int | None = None, **kwargs) -> Model:
    """:func:`train_series` as :func:`adkit.workflows.train` calls it: conditions as text or a list, the
    default window, and ``sensor-demo`` when no data is given; event-only keywords are refused."""
    events_only = sorted(k for k, v in kwargs.items() if k not in SERIES_KEYWORDS and v not in (None, False, ()))
    if events_only:
        raise ConfigError(f"{', '.join(events_only)}: not for time series (the windows of series files are read "
                          "as they are)")
    conds = [c.strip() for c in conditions.split(",") if c.strip()] if isinstance(conditions, str) else conditions
    return train_series(model_name, list(data or ["sensor-demo"]), window=window or DEFAULT_WINDOW, conditions=conds,
                        **{k: v for k, v in kwargs.items() if k in SERIES_KEYWORDS})


#: The keywords of :func:`train_series` besides the model, data, window and conditions.
SERIES_KEYWORDS = {"stride", "channels", "time_column", "label_column", "rate", "params", "seed", "epochs",
                   "checkpoint", "resume", "progress", "on_gaps"}


def train_series_command(run, cli: dict, say) -> Model:
    """``adkit train`` on time series: defaults announced, the windows counted, the model written."""
    from adkit.workflows.train import prepare_output, save_trained

    prepare_output(run, cli.get("output"), cli.get("overwrite", False), say)
    if not run.data:
        say("no --data: training on the embedded sensor demo (sensor-demo: two noisy channels with transients)")
    if not cli.get("window"):
        say(f"time series: windows of {DEFAULT_WINDOW} samples (change with --window)")

    def gaps(s) -> None:
        say(f"{s.path}: {len(s.gaps)} gap(s) in the time stamps (first at row {s.gaps[0][0]}, {s.gaps[0][1]:g} s); "
            "no window spans a gap")

    channels = cli.get("channels")
    model = train_windows(run.name, run.data, conditions=run.conditions, window=cli.get("window"),
                          stride=cli.get("stride"), channels=[c.strip() for c in channels.split(",")] if channels
                          else None, time_column=cli.get("time_column"), rate=cli.get("rate"),
                          label_column=cli.get("label"), on_gaps=gaps, **run.options)
    n, spec = model.provenance["windows"], model.spec
    if not cli.get("stride"):
        say(f"time series: stride {spec.stride} ({model.provenance['stride']['why']}; change with --stride): "
            f"{n} training windows")
    if n < MIN_WINDOWS:
        say(f"warning: only {n} training windows of {spec.window} samples (stride {spec.stride}); "
            f"fewer than {MIN_WINDOWS} is too few to learn what normal looks like: give a smaller --stride or "
            "--window, or more data")
    last = model.metrics.get("train", {})
    loss = f", final val loss {last['val_loss']:.4g}" if "val_loss" in last else ""
    return save_trained(model, run, cli.get("overwrite", False), say,
                        f"{run.name} on {n} windows of {spec.window} samples x {len(spec.channels)} channel(s) "
                        f"({', '.join(spec.channels)}){loss}")


def score_series(model: Model, path: str | Path, rate: float | None = None) -> dict[str, np.ndarray]:
    """Per-window and per-sample scores of one series; per-sample = max over covering windows."""
    spec: SeriesSpec = model.spec
    s = spec.read(path, rate=rate)
    X, C, starts = _windows(spec, s)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below, as one line
        comps = model.score_components(X, C)
    w = comps["score"]
    check_window_scores(w, s.time[starts], path)
    out = {"time": s.time, "score": per_sample(w, starts, spec.window, len(s)), "_uncovered": uncovered(s, spec.window),
           "window_start": s.time[starts], "window_stop": s.time[starts + spec.window - 1], "window_score": w,
           "window_row": starts}
    for t in model.thresholds:
        out[f"pass_{t.name}"] = np.nan_to_num(out["score"], nan=-np.inf) > t.value
    if s.labels is not None:
        out["label"] = s.labels
    out["_series"] = s
    return out


def check_window_scores(score: np.ndarray, times: np.ndarray, source) -> None:
    """A NaN/inf window score is never a number to alarm on: say how many and where, and what to do."""
    bad = ~np.isfinite(score)
    if bad.any():
        raise InputError(f"{source}: the model gives NaN/inf scores for {int(bad.sum())} of {len(score)} window(s) "
                         f"(first ending near time {times[bad][0]:.9g}); the values may overflow (far outside the "
                         "training range) or the model be damaged; check the series and `adkit show` the model")


def write_series_scores(result: dict, output: str | Path, source: str, overwrite: bool = False) -> Path:
    """``score`` per input row (aligned with the file's rows) and the per-window table, atomically."""
    from adkit.io.writers import atomic_output, score_format

    fmt = score_format(output)
    rows = {k: v for k, v in result.items() if k in ("time", "score", "label") or k.startswith("pass_")}
    windows = {k[7:]: v for k, v in result.items() if k.startswith("window_")}
    with atomic_output(output, overwrite) as tmp:
        if fmt == "hdf5":
            import h5py

            with h5py.File(tmp, "w") as h5:
                for k, v in rows.items():
                    h5.create_dataset(k, data=v)
                g = h5.create_group("windows")
                for k, v in windows.items():
                    g.create_dataset(k, data=v)
                h5.attrs["source"] = str(source)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            meta = {b"source": str(source).encode(),
                    b"windows": ",".join(f"{a:.9g}:{b:.9g}:{c:.9g}" for a, b, c in
                                         zip(windows["start"], windows["stop"], windows["score"])).encode()}
            t = pa.table({k: pa.array(v) for k, v in rows.items()})
            pq.write_table(t.replace_schema_metadata(meta), tmp)
    return Path(output)


def intervals(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) row ranges where ``mask`` is true."""
    m = np.r_[False, np.asarray(mask, dtype=bool), False]
    d = np.flatnonzero(np.diff(m.astype(np.int8)))
    return list(zip(d[::2], d[1::2]))


def alarm_counts(score: np.ndarray, labels: np.ndarray, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Per threshold: labelled intervals detected, false alarms; and the number of intervals.

    An anomalous interval is detected when the score passes the threshold anywhere inside it;
    a false alarm is a run of passing samples that touches no anomalous interval.
    """
    truth = intervals(labels > 0)
    s = np.nan_to_num(score, nan=-np.inf)
    hits, false = np.zeros(len(thresholds)), np.zeros(len(thresholds))
    for j, thr in enumerate(thresholds):
        passing = s > thr
        hits[j] = sum(bool(passing[a:b].any()) for a, b in truth)
        false[j] = sum(1 for a, b in intervals(passing) if not (labels[a:b] > 0).any())
    return hits, false, len(truth)


def read_intervals(path: str | Path) -> np.ndarray:
    """(k, 2) array of [start, stop] times (seconds) from a CSV with ``start`` and ``stop`` columns."""
    import pyarrow.csv as pcsv

    from adkit.io.inputs import note_input

    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file")
    note_input(p, "intervals")
    try:
        t = pcsv.read_csv(p)
        iv = np.column_stack([t["start"].to_numpy(), t["stop"].to_numpy()]).astype(np.float64)
    except (KeyError, OSError, ValueError) as e:
        raise InputError(f"{p}: expected a CSV with numeric 'start' and 'stop' columns ({type(e).__name__})") from None
    if not np.isfinite(iv).all():
        raise InputError(f"{p}: 'start'/'stop' hold missing or non-finite values")
    if len(iv) and np.any(iv[:, 1] < iv[:, 0]):
        raise InputError(f"{p}: an interval ends before it starts (row {int(np.flatnonzero(iv[:, 1] < iv[:, 0])[0])})")
    return iv


def interval_labels(time: np.ndarray, iv: np.ndarray) -> np.ndarray:
    """1 for samples whose time lies in any [start, stop] interval, else 0."""
    labels = np.zeros(len(time), dtype=np.int8)
    for a, b in iv:
        labels[np.searchsorted(time, a, "left"):np.searchsorted(time, b, "right")] = 1
    return labels


def labelled_scores(model: Model, paths, interval_file, rate: float | None) -> tuple[list[dict], str]:
    """Each series' scores with its labels (its label column, or the labelled intervals of
    ``interval_file``), and the time unit they share."""
    iv = read_intervals(interval_file) if interval_file else None
    results = []
    for p in paths:
        r = score_series(model, p, rate=rate)
        if iv is not None:
            r["label"] = interval_labels(r["time"], iv)
        if "label" not in r:
            raise InputError(f"{p}: no label column (is_anomaly/label); evaluation needs labelled anomalies "
                             "(or --intervals FILE)")
        results.append(r)
    units = {r["_series"].time_unit for r in results}
    if len(units) > 1:
        raise InputError("some series have time stamps in seconds, others a sample index; give --rate HZ so that "
                         "all are in seconds")
    return results, units.pop()


def best_point(target: float, thresholds: np.ndarray, hits: np.ndarray, false: np.ndarray, n_truth: int,
               per: float) -> dict | None:
    """The threshold of highest efficiency with at most ``target`` false alarms per unit (None if none)."""
    from adkit.metrics import CL, efficiency, poisson_interval

    far = false / per
    ok = np.flatnonzero(far <= target)
    if not len(ok):
        return None
    i = ok[np.argmax((hits / n_truth)[ok])]
    lo, hi = poisson_interval(false[i], CL)
    return {"threshold": float(thresholds[i]), "efficiency": float(hits[i] / n_truth),
            "detected": efficiency(int(hits[i]), int(n_truth)), "false_alarms": int(false[i]),
            "false_alarm_rate": float(far[i]), "false_alarm_interval": [lo / per, hi / per]}


def evaluate_series(model: Model, paths: Sequence[str | Path], *, far_per_hour: Sequence[float] = (1.0, 10.0, 100.0),
                    n_thresholds: int = 200, interval_file: str | Path | None = None, rate: float | None = None) -> dict:
    """Detection efficiency vs false alarms over labelled series (label column > 0 = anomalous, or the
    labelled time intervals of the CSV ``interval_file``), and the best efficiency at each false-alarm rate.

    False alarms are counted per hour of observed time, or per 1000 samples when the time stamps
    are a sample index with no ``rate`` (``far_unit`` says which; ``far_per_hour`` is then read in
    that unit). Every efficiency carries its Clopper–Pearson interval and counts, every
    false-alarm rate its Poisson interval, the count behind it and the observation time.
    """
    from sklearn.metrics import roc_auc_score

    from adkit.files import check_distinct
    from adkit.metrics import CL

    check_distinct(paths, "series")
    results, unit = labelled_scores(model, paths, interval_file, rate)
    score = np.concatenate([r["score"] for r in results])
    labels = np.concatenate([r["label"] for r in results])
    thresholds = np.unique(np.quantile(score[np.isfinite(score)], np.linspace(0.5, 1.0, n_thresholds)))
    hits, false, n_truth = np.zeros(len(thresholds)), np.zeros(len(thresholds)), 0
    observed = 0.0
    for r in results:
        h, f, n = alarm_counts(r["score"], r["label"], thresholds)
        hits, false, n_truth = hits + h, false + f, n_truth + n
        t = r["time"]
        observed += t[-1] - t[0] + (t[1] - t[0] if len(t) > 1 else 0.0)
    if n_truth == 0:
        raise InputError(f"{', '.join(str(p) for p in paths)}: no labelled anomalous interval, so no efficiency can "
                         "be measured; evaluate on a series with labelled anomalies (or --intervals FILE)")
    per = observed / 3600.0 if unit == "s" else observed / 1000.0
    far_unit = "per hour" if unit == "s" else "per 1000 samples"
    eff = hits / n_truth
    far = false / per
    points = {f"{target:g}": best_point(target, thresholds, hits, false, n_truth, per) for target in far_per_hour}
    ok = np.isfinite(score)
    both = len(np.unique(labels[ok] > 0)) == 2
    return {"curve": {"threshold": thresholds.tolist(), "efficiency": eff.tolist(), "false_alarm_rate": far.tolist(),
                      "false_alarms": false.tolist(), "detected": hits.tolist()},
            "working_points": points, "sample_auc": float(roc_auc_score(labels[ok] > 0, score[ok])) if both else None,
            "n_samples": int(len(score)), "n_anomalies": int(n_truth), "time_unit": unit, "far_unit": far_unit,
            "observed": observed, "hours": observed / 3600.0 if unit == "s" else None, "cl": CL, "_results": results}


def minmax_decimate(t: np.ndarray, y: np.ndarray, n_bins: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """At most ``2·n_bins`` points that keep every peak: each bin of samples becomes its minimum and its
    maximum, in time order (plotting every k-th sample would drop a one-sample spike)."""
    n = len(y)
    if n <= 2 * n_bins:
        return t, y
    k = int(np.ceil(n / n_bins))
    m = (n // k) * k
    yb = y[:m].reshape(-1, k)
    lo, hi = yb.argmin(axis=1), yb.argmax(axis=1)
    first, second = np.minimum(lo, hi), np.maximum(lo, hi)
    base = np.arange(len(yb)) * k
    idx = np.column_stack([base + first, base + second]).ravel()
    if m < n:  # the tail that does not fill a bin
        tail = np.arange(m, n)
        idx = np.r_[idx, tail[np.argmin(y[m:])], tail[np.argmax(y[m:])]]
        idx = np.unique(idx)
    return t[idx], y[idx]


def series_plots(result: dict, outdir: str | Path, overwrite: bool = False) -> list[str]:
    """The series with its labelled intervals and the score (min/max decimated, so peaks stay; labelled
    intervals at least a visible width), and the efficiency vs false-alarm curve with its interval band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mplhep

    from adkit.metrics import clopper_pearson
    from adkit.report import _save
    from adkit.report.style import color

    plt.style.use(mplhep.style.CMS)
    out = Path(outdir)
    r = result["_results"][0]
    s: Series = r["_series"]
    unit = "time [s]" if s.time_unit == "s" else "sample"
    n_ch = min(len(s.channels), 4)
    fig, axes = plt.subplots(n_ch + 1, 1, figsize=(12, 2.6 * (n_ch + 1)), sharex=True)
    for i in range(n_ch):
        axes[i].plot(*minmax_decimate(s.time, s.values[:, i]), lw=0.6, color="k")
        axes[i].set_ylabel(s.channels[i], fontsize=14)
    score = np.nan_to_num(r["score"], nan=np.nanmin(r["score"]) if np.isfinite(r["score"]).any() else 0.0)
    axes[-1].plot(*minmax_decimate(s.time, score), lw=0.8, color=color("score"))
    axes[-1].set(yscale="log", ylabel="score", xlabel=unit)
    wp = result["working_points"].get("10") or next((v for v in result["working_points"].values() if v), None)
    if wp:
        axes[-1].axhline(wp["threshold"], color=color("threshold"), lw=1,
                         label=f"threshold at {wp['false_alarm_rate']:.2g} false alarms {result['far_unit']}")
        axes[-1].legend(fontsize=12)
    span = s.time[-1] - s.time[0] if len(s) > 1 else 1.0
    for a, b in intervals(r["label"] > 0):
        t0, t1 = s.time[a], s.time[min(b, len(s) - 1)]
        pad = max(0.0, span / 500 - (t1 - t0)) / 2  # an interval of one sample still shows
        for ax in axes:
            ax.axvspan(t0 - pad, t1 + pad, color=color("anomalous"), alpha=0.35, lw=0)
    written = [_save(fig, out / "series.png", overwrite)]
    fig, ax = plt.subplots(figsize=(9, 7))
    c = result["curve"]
    x = np.clip(c["false_alarm_rate"], 1e-2, None)
    lo, hi = clopper_pearson(np.asarray(c["detected"]), result["n_anomalies"], result.get("cl", 0.6827))
    ax.fill_between(x, lo, hi, color=color("efficiency"), alpha=0.25, lw=0, step="post")
    ax.plot(x, c["efficiency"], lw=2, color=color("efficiency"), drawstyle="steps-post")
    ax.set(xscale="log", xlabel=f"false alarms {result['far_unit']}", ylabel="detection efficiency", ylim=(0, 1.02))
    written.append(_save(fig, out / "efficiency.png", overwrite))
    plt.close("all")
    return written


def series_report(result: dict, model_name: str, images: list[str]) -> str:
    """``report.md`` of a series evaluation: the efficiency at each false-alarm rate, with intervals, and the plots."""
    from adkit.metrics import efficiency_cell

    auc = result["sample_auc"]
    fu = result["far_unit"]
    observed = (f"{result['hours']:.3g} h observed" if result["time_unit"] == "s"
                else f"{result['observed']:.0f} samples observed (no time unit)")
    lines = [f"# adkit time-series evaluation of {model_name}", "",
             f"{result['n_samples']} samples, {observed}, {result['n_anomalies']} labelled anomalous "
             f"intervals; per-sample AUC {auc if auc is None else round(auc, 3)}",
             "", f"| false alarms {fu} (max) | efficiency [interval] detected/labelled | threshold | "
             f"false alarms {fu} [interval] (count) |", "|---|---|---|---|"]
    for k, wp in result["working_points"].items():
        if wp is None:
            lines.append(f"| {k} | no threshold reaches it |  |  |")
            continue
        lo, hi = wp["false_alarm_interval"]
        lines.append(f"| {k} | {efficiency_cell(wp['detected'])} | {wp['threshold']:.4g} | "
                     f"{wp['false_alarm_rate']:.3g} [{lo:.2g}, {hi:.2g}] ({wp['false_alarms']}) |")
    lines += ["", f"Intervals: {100 * result['cl']:.2f} % Clopper–Pearson (efficiency), Garwood Poisson (false alarms)."]
    lines += [""] + [f"![{Path(i).stem}]({i})" for i in images]
    return "\n".join(lines) + "\n"


def evaluate_series_command(model: Model, model_path, series_files, outdir, false_alarms, store_thresholds,
                            overwrite, intervals, say, echo, rate: float | None = None, as_json: bool = False) -> dict:
    """``adkit evaluate`` of a series model: efficiency vs false alarms per hour, report and plots."""
    import json

    from adkit.artifact import Threshold
    from adkit.files import atomic_output, check_output, check_outputs
    from adkit.validation import check_positive
    from adkit.workflows.config import csv_floats

    files = list(series_files)
    if not files:
        demo = model.provenance.get("embedded", {}).get("mix")
        if not demo:
            raise ConfigError("give labelled series with --series FILE (a label column is_anomaly/label)")
        files = [f"{demo.split(',')[0]}@2"]
        say(f"no --series: evaluating on a new {demo.split(',')[0]} series (seed 2)")
    far = check_positive(csv_floats(false_alarms, "--false-alarms"), "--false-alarms")
    store = check_positive(csv_floats(store_thresholds, "--store-thresholds"), "--store-thresholds")
    check_outputs(outdir, ["metrics.json", "report.md", "series.png", "efficiency.png"], overwrite)
    if store:
        check_output(model_path, updates=model.source)
    result = evaluate_series(model, files, far_per_hour=far + [r for r in store if r not in far], interval_file=intervals,
                             rate=rate)
    if result["time_unit"] == "samples":
        say("the time stamps are a sample index with no unit: false alarms are counted per 1000 samples "
            "(give --rate HZ for per hour)")
    new_thresholds = []
    for r in store:  # every rate asked for must be reached, before anything is written
        wp = result["working_points"].get(f"{r:g}")
        if wp is None:
            raise ConfigError(f"--store-thresholds {r:g}: no threshold reaches {r:g} false alarms {result['far_unit']} "
                              "on these series; nothing was stored or written")
        new_thresholds.append(Threshold(f"{r:g}perh", wp["threshold"], 0.0, 0.0))
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    images = series_plots(result, out, overwrite)
    summary = {k: v for k, v in result.items() if k != "_results"}
    report = series_report(result, Path(model_path).name, images)
    with atomic_output(out / "metrics.json", overwrite) as tmp:
        tmp.write_text(json.dumps(summary, indent=2))
    with atomic_output(out / "report.md", overwrite) as tmp:
        tmp.write_text(report)
    echo(json.dumps(summary, indent=2) if as_json else report.split("\n![")[0])
    say(f"wrote {out}/metrics.json, {out}/report.md, " + ", ".join(f"{out}/{i}" for i in images))
    if store:
        from adkit.workflows.config import store_thresholds_in

        store_thresholds_in(model, model_path, new_thresholds, say)
        model.update()
    return result


#: The UCR Anomaly Archive's tolerance (Wu & Keogh): the top-scored sample may lie this many samples
#: before or after the labelled anomaly and still count as found.
UCR_TOLERANCE = 100


def ucr_protocol(model: Model, paths: Sequence[str | Path], *, tolerance: int = UCR_TOLERANCE,
                 rate: float | None = None) -> dict:
    """The UCR Anomaly Archive protocol: in each series the one sample with the highest score in the test
    part (after the training part a UCR file's name gives; the whole series otherwise) is the
    detector's answer; it is a hit when it lies inside the labelled anomaly widened by ``tolerance``
    samples on each side. The archive has one anomaly per series; in a series with several, a hit
    at any of them counts. Accuracy = hits / series, with its Clopper–Pearson interval."""
    from adkit.files import check_distinct
    from adkit.metrics import efficiency

    check_distinct(paths, "series")
    if tolerance < 0:
        raise ConfigError(f"--tolerance must be >= 0, got {tolerance}")
    rows = []
    for p in paths:
        r = score_series(model, p, rate)
        series: Series = r["_series"]
        start = series.train_stop or 0
        if series.labels is None or not series.labels[start:].any():
            raise InputError(f"{p}: no labelled anomaly{' after its training part' if start else ''}; the UCR "
                             "protocol needs one per series (a label column, or a UCR Anomaly Archive file name)")
        score = r["score"][start:]
        if not np.isfinite(score).any():
            raise InputError(f"{p}: no sample of the test part has a score (shorter than one window)")
        top = start + int(np.nanargmax(score))
        spans = [[int(a), int(b) - 1] for a, b in intervals(series.labels > 0) if b > start]
        distance = min(max(a - top, top - b, 0) for a, b in spans)
        rows.append({"series": str(p), "samples": int(len(series)), "test_start": int(start), "anomalies": spans,
                     "top_sample": top, "top_score": float(r["score"][top]), "distance": int(distance),
                     "hit": bool(distance <= tolerance)})
    hits = sum(row["hit"] for row in rows)
    return {"protocol": "ucr", "tolerance": int(tolerance), "series": rows, "hits": int(hits), "total": len(rows),
            "accuracy": efficiency(hits, len(rows))}


def ucr_command(model: Model, model_path, files, outdir, tolerance, overwrite, say, echo, rate=None,
                as_json: bool = False) -> dict:
    """``adkit evaluate --protocol ucr``: the UCR table, ``ucr.json`` and ``ucr.md``."""
    import json

    from adkit.files import atomic_output, check_outputs
    from adkit.metrics import efficiency_cell

    if not files:
        raise ConfigError("--protocol ucr needs labelled series: --series FILE (UCR Anomaly Archive files or "
                          "series with a label column)")
    check_outputs(outdir, ["ucr.json", "ucr.md"], overwrite)
    result = ucr_protocol(model, files, tolerance=tolerance, rate=rate)
    lines = [f"# UCR-protocol evaluation of {Path(model_path).name}", "",
             f"A hit: the highest-scored sample of the test part lies within {tolerance} samples of a labelled "
             "anomaly.", "", "| series | test part from | anomaly (samples) | top sample | distance | hit |",
             "|---|---|---|---|---|---|"]
    for row in result["series"]:
        spans = ", ".join(f"{a}–{b}" for a, b in row["anomalies"][:3]) + (" …" if len(row["anomalies"]) > 3 else "")
        lines.append(f"| {Path(row['series']).name} | {row['test_start']} | {spans} | {row['top_sample']} | "
                     f"{row['distance']} | {'yes' if row['hit'] else 'no'} |")
    lines += ["", f"Accuracy: {efficiency_cell(result['accuracy'])} series "
                  f"({100 * result['accuracy']['cl']:.2f} % Clopper–Pearson interval)."]
    report = "\n".join(lines) + "\n"
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_output(out / "ucr.json", overwrite) as tmp:
        tmp.write_text(json.dumps(result, indent=2))
    with atomic_output(out / "ucr.md", overwrite) as tmp:
        tmp.write_text(report)
    echo(json.dumps(result, indent=2) if as_json else report)
    say(f"wrote {out}/ucr.json, {out}/ucr.md")
    return result


def score_series_command(model: Model, *, files, output, overwrite, say, **_events) -> dict:
    """``adkit score`` of a series model: a score per window and per input row for each series file."""
    from adkit.files import check_output
    from adkit.workflows.scaleout import output_names

    if len(files) > 1:
        outdir = Path(output or "scores")
        if outdir.exists() and not outdir.is_dir():
            raise ConfigError(f"{outdir}: exists and is not a directory; -o names a directory for several inputs")
        outputs = [outdir / n for n in output_names(files)]
    else:
        outputs = [Path(output or score_output_path(files[0]))]
        if output is None:
            say(f"writing scores to ./{outputs[0]} (change with -o)")
    for out in outputs:  # every output checked before any is written; no directory made for a refused run
        if out.parent.is_dir():
            check_output(out, overwrite)
    results = [score_series(model, f) for f in files]  # every series scored before anything is written
    written = []
    for f, out, r in zip(files, outputs, results):
        out.parent.mkdir(parents=True, exist_ok=True)
        write_series_scores(r, out, f, overwrite)
        say(f"wrote {out}: {len(r['score'])} samples (score per row, max over covering windows), "
            f"{len(r['window_score'])} windows")
        if r["_uncovered"]:
            say(f"warning: {f}: {r['_uncovered']} samples lie in segments between gaps shorter than the "
                f"{model.spec.window}-sample window; no window covers them and their score is NaN")
        written.append({"input": str(f), "output": str(out), "samples": int(len(r["score"])),
                        "windows": int(len(r["window_score"])), "samples_without_score": r["_uncovered"]})
    return {"outputs": written}
