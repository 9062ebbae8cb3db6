"""A two-detector gravitational-wave search with adkit's series models: coincidence, time slides, efficiency.

    from adkit.workflows.gw import write_gw, search
    files = write_gw("gw", seconds=600)                       # adkit generate --gw
    model = train_series("gru-ae", [files["train"]], channels=["h1"])
    result = search(model, files["background"], {"bbh": (files["bbh"], files["bbh_injections"])})

One model scores each detector's whitened strain on its own (the two detectors' whitened noise is
the same process, so a model trained on H1 noise scores L1 too). A candidate needs both: the
network statistic of a window is min(H1 score, the largest L1 score within ±``COINCIDENCE`` s),
the light travel time between the sites plus a window's stride. False-alarm rates come from time
slides, as GW searches estimate them: L1's scores are shifted circularly against H1's by multiples
of the shortest shift longer than a window plus the coincidence interval (or ``slide`` s if longer),
so that a signal's two responses never meet in a shifted pair; zero lag left out, and the loudest statistic of every cluster of windows above a floor
(clusters end after ``CLUSTER`` s below it) is a background trigger. The threshold for a FAR of
1/hour, 1/day, 1/year is the statistic that this many triggers per slid livetime exceed. An
injection is found at a threshold when the statistic passes it within ``TOLERANCE`` s of its peak.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from adkit.errors import ConfigError, InputError

#: light travel time H1–L1 (10.0 ms) and a window stride's margin
COINCIDENCE = 0.0156
#: seconds below the floor that end a cluster of background windows
CLUSTER = 1.0
#: seconds around an injection's peak in which it counts as found
TOLERANCE = 0.1
FARS = {"1/hour": 1 / 3600.0, "1/day": 1 / 86400.0, "1/year": 1 / (365.25 * 86400.0)}
DEFAULT_SNRS = (4.0, 6.0, 8.0, 10.0, 15.0, 20.0, 30.0)
#: windows scored at a time
CHUNK = 65536
#: the longest stream and the most injections of a kind one call writes (memory: about 1 GB at 4096 Hz)
MAX_SECONDS, MAX_INJECTIONS = 3600.0, 1000


def _write_strain(path: Path, cols: dict[str, np.ndarray], rate: float) -> None:
    """A strain file (a new path: :func:`write_gw` writes into a staging directory)."""
    import h5py

    with h5py.File(path, "x") as h5:
        ds = h5.create_dataset("strain", data=np.column_stack([cols["h1"], cols["l1"]]),
                               chunks=(min(65536, len(cols["h1"])), 2))
        ds.attrs["columns"] = ["h1", "l1"]
        ds.attrs["sampling_rate"] = rate
        h5.create_dataset("time", data=cols["time"])
        h5.attrs["whitened"] = "ml4gw SpectralDensity (median, 2 s) + Whiten, band-passed"


def _write_table(path: Path, table: dict[str, np.ndarray]) -> None:
    names = list(table)
    with open(path, "x", encoding="utf-8") as fh:
        np.savetxt(fh, np.column_stack([table[k] for k in names]), delimiter=",", header=",".join(names),
                   comments="", fmt="%.9g")


NAMES = {"train": "train.h5", "background": "background.h5", "bbh": "bbh.h5", "bbh_injections": "bbh_injections.csv",
         "sg": "sg.h5", "sg_injections": "sg_injections.csv"}


def write_gw(outdir: str | Path, *, seconds: float = 600.0, snrs: Sequence[float] = DEFAULT_SNRS, per_snr: int = 20,
             seed: int = 1, train_seconds: float | None = None, overwrite: bool = False,
             say=print) -> dict[str, str]:
    """``adkit generate --gw``: the directory ``outdir`` of whitened H1/L1 strain (HDF5, dataset ``strain``,
    columns h1, l1): ``train.h5`` (``train_seconds``, default ``seconds``) and ``background.h5``
    (``seconds``) of noise, ``bbh.h5`` and ``sg.h5`` (``per_snr`` injections at each network SNR of
    ``snrs``) and their injection tables. Built beside ``outdir`` and put in place when complete;
    ``overwrite`` replaces only a directory adkit made."""
    try:
        import ml4gw  # noqa: F401
    except ImportError as e:
        raise ConfigError(f"adkit generate --gw needs ml4gw: pip install 'adkit[gw]' in an environment with "
                          f"torch < 2.11 ({e})") from None
    except OSError as e:  # torchaudio built for another torch
        raise ConfigError(f"adkit generate --gw: ml4gw does not load with this torch ({e}); ml4gw needs torch < 2.11 "
                          "and its matching torchaudio") from None
    from adkit.datasets import gw
    from adkit.files import check_replace_dir, staged_dir, write_error

    train_seconds = seconds if train_seconds is None else train_seconds
    if not (10 <= seconds <= MAX_SECONDS and 10 <= train_seconds <= MAX_SECONDS) or per_snr < 1 or not snrs \
            or min(snrs) <= 0:
        raise ConfigError(f"--seconds must be 10 to {MAX_SECONDS:g}, --per-snr >= 1 and every --snrs value > 0")
    if per_snr * len(snrs) > MAX_INJECTIONS:
        raise ConfigError(f"{per_snr} injections at each of {len(snrs)} SNRs: at most {MAX_INJECTIONS} of a kind "
                          "per call; write several sets with different --seed")
    out = Path(outdir)
    out.parent.mkdir(parents=True, exist_ok=True)
    check_replace_dir(out, overwrite, "-o")  # before any work
    try:
        with staged_dir(out, overwrite, "-o") as tmp:
            tmp.mkdir()
            for name, s, secs in (("train", seed, train_seconds), ("background", seed + 1, seconds)):
                say(f"{name}: {secs:g} s of whitened H1 and L1 noise (Advanced LIGO design PSD) at {gw.RATE:g} Hz")
                _write_strain(tmp / NAMES[name], gw.background(secs, seed=s, rate=gw.RATE), gw.RATE)
            for k, kind in enumerate(gw.KINDS):
                say(f"{kind}: {per_snr} injections at each network SNR of {', '.join(f'{x:g}' for x in snrs)}")
                cols, table = gw.injections(kind, snrs, per_snr, seed=seed + 2 + k, rate=gw.RATE)
                _write_strain(tmp / NAMES[kind], cols, gw.RATE)
                _write_table(tmp / NAMES[f"{kind}_injections"], table)
    except OSError as e:
        err = write_error(e, out)
        if err is None:
            raise
        raise err from None
    return {k: str(out / v) for k, v in NAMES.items()}


def generate_gw_command(options: dict, *, seconds: float, snrs: str, per_snr: int, say) -> dict[str, str]:
    """``adkit generate --gw``: the files of :func:`write_gw` in OUTPUT/gw/."""
    try:
        values = [float(x) for x in snrs.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(f"--snrs {snrs!r}: give comma-separated numbers, e.g. 4,8,16") from None
    out = Path(options["outdir"]) / "gw"
    files = write_gw(out, seconds=seconds, snrs=values, per_snr=per_snr, seed=options.get("seed", 1),
                     overwrite=options.get("overwrite", False), say=say)
    say(f"wrote {len(files)} files to {out}/: " + ", ".join(Path(p).name for p in files.values()))
    return files


def read_strain(path: str | Path) -> tuple[np.ndarray, np.ndarray, float]:
    """(time, (T, 2) whitened H1/L1 strain, sampling rate) of a file :func:`write_gw` wrote."""
    import h5py

    from adkit.io.hdf5 import check_chunks
    from adkit.io.inputs import existing_input
    from adkit.validation import LIMITS

    existing_input(path, "strain", "give a file of adkit generate --gw")  # and the files it links to
    try:
        with h5py.File(path, "r") as h5:
            ds, t = h5.get("strain"), h5.get("time")
            if (not isinstance(ds, h5py.Dataset) or not isinstance(t, h5py.Dataset) or "sampling_rate" not in ds.attrs
                    or ds.ndim != 2 or ds.shape[1] != 2 or t.shape != (ds.shape[0],)):
                raise InputError(f"{path}: not a strain file of adkit generate --gw (a (T, 2) dataset 'strain' with "
                                 "a sampling_rate attribute, and a (T,) dataset 'time')")
            if ds.size * ds.dtype.itemsize > LIMITS["array_bytes"]:
                raise InputError(f"{path}: 'strain' is over the {LIMITS['array_bytes'] / 2**30:g} GiB a series may "
                                 "take in memory; split it into several files")
            check_chunks(path, ds)
            return t[:], ds[:].astype(np.float32), float(ds.attrs["sampling_rate"])
    except OSError as e:
        raise InputError(f"{path}: cannot be read as HDF5 ({e})") from None


def read_table(path: str | Path) -> dict[str, np.ndarray]:
    """An injection table (CSV with at least ``time`` and ``snr`` columns)."""
    import io

    from adkit.files import read_text

    try:
        d = np.genfromtxt(io.StringIO(read_text(path, "injection table")), delimiter=",", names=True, ndmin=1)
    except ValueError as e:
        raise InputError(f"{path}: not an injection table ({e})") from None
    if d.dtype.names is None or not {"time", "snr"} <= set(d.dtype.names) or not len(d):
        raise InputError(f"{path}: an injection table needs rows with columns time and snr (adkit generate --gw "
                         "writes them)")
    table = {k: np.asarray(d[k], dtype=np.float64) for k in d.dtype.names}
    if not (np.isfinite(table["time"]).all() and np.isfinite(table["snr"]).all()):
        raise InputError(f"{path}: the time and snr columns must be numbers")
    return table


def detector_scores(model, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(window start rows, scores) of one detector's 1-D strain by a one-channel series model."""
    from adkit.features.windows import window_matrix

    spec = model.spec
    if len(spec.channels) != 1:
        raise ConfigError(f"the search scores each detector alone: give a one-channel model (this one reads "
                          f"{', '.join(spec.channels)}; train with --channels h1)")
    starts = np.arange(0, len(values) - spec.window + 1, spec.stride)
    column = np.asarray(values, dtype=np.float32).reshape(-1, 1)
    out = np.empty(len(starts))
    for i in range(0, len(starts), CHUNK):  # the windows of one chunk at a time: memory stays bounded
        out[i:i + CHUNK] = model.score_components(window_matrix(column, starts[i:i + CHUNK], spec.window))["score"]
    if not np.isfinite(out).all():
        raise InputError("the model gave non-finite scores on this strain")
    return starts, out


def coincident(h: np.ndarray, l_max: np.ndarray) -> np.ndarray:
    """The network statistic: min(H1 score, the largest L1 score around it)."""
    return np.minimum(h, l_max)


def around(x: np.ndarray, k: int, wrap: bool = False) -> np.ndarray:
    """The largest value of ``x`` within ±``k`` windows of each window."""
    from scipy.ndimage import maximum_filter1d

    return maximum_filter1d(x, 2 * k + 1, mode="wrap" if wrap else "nearest")


def _peaks(idx: np.ndarray, stat: np.ndarray, gap: int) -> np.ndarray:
    """The largest ``stat`` of every cluster of window indices ``idx`` (sorted; a cluster ends at a gap > ``gap``)."""
    if len(idx) == 0:
        return np.empty(0)
    cuts = np.flatnonzero(np.diff(idx) > gap) + 1
    return np.maximum.reduceat(stat, np.r_[0, cuts])


def slide_background(h: np.ndarray, l: np.ndarray, *, step: int, k: int, gap: int, floor: float,
                     max_slides: int | None = None) -> tuple[np.ndarray, int]:
    """Background trigger peaks from circular time slides of L1 against H1 by multiples of ``step``
    windows (zero lag left out): (peaks, number of slides). Only windows whose H1 score exceeds ``floor``
    can pass it, so each slide looks at those alone."""
    if step <= 2 * k:
        raise ConfigError(f"a slide of {step} windows is not longer than the coincidence interval (±{k})")
    n = len(h)
    l_max = around(l, k, wrap=True)
    cand = np.flatnonzero(h > floor)
    slides = n // step - 1
    if max_slides is not None:
        slides = min(slides, max_slides)
    peaks = []
    for s in range(1, slides + 1):
        stat = np.minimum(h[cand], l_max[(cand + s * step) % n])
        keep = stat > floor
        peaks.append(_peaks(cand[keep], stat[keep], gap))
    return (np.concatenate(peaks) if peaks else np.empty(0)), slides


def far_thresholds(peaks: np.ndarray, livetime: float, fars: Mapping[str, float] = FARS) -> dict[str, dict]:
    """Per target FAR (per second): the threshold that fewer than FAR × livetime background peaks exceed,
    with the number of background triggers above it; None where the slid livetime is too short to
    measure that rate (fewer than one expected trigger) or the floor is above the threshold."""
    srt = np.sort(peaks)[::-1]
    out = {}
    for name, far in fars.items():
        allowed = far * livetime
        if allowed < 1:
            out[name] = None
            continue
        m = int(np.floor(allowed))  # at most m triggers above: the m-th loudest peak is the threshold
        if m >= len(srt):
            out[name] = None  # the floor lets more than the peaks through: lower it
            continue
        out[name] = {"threshold": float(srt[m]), "background_triggers": m, "livetime_s": float(livetime)}
    return out


def found(stat: np.ndarray, times: np.ndarray, peak_times: np.ndarray, tolerance: float = TOLERANCE) -> np.ndarray:
    """Per injection: the largest network statistic of the windows whose centre lies within ``tolerance``
    s of its peak."""
    lo = np.searchsorted(times, peak_times - tolerance)
    hi = np.searchsorted(times, peak_times + tolerance, side="right")
    return np.array([stat[a:b].max() if b > a else -np.inf for a, b in zip(lo, hi)])


def search(model, background: str | Path, injections: Mapping[str, tuple[str | Path, str | Path]], *,
           slide: float = 0.0, floor_quantile: float = 0.99, max_slides: int | None = None) -> dict:
    """The search of this module's docstring: thresholds at FARS from time slides of ``background``,
    and per injection set the efficiency per network SNR at each threshold (Clopper-Pearson intervals);
    ``loudest``: per injection, the network statistic near its peak and each detector's own score
    (which detector a missed signal was too quiet in)."""
    from adkit.metrics import efficiency

    _, x, rate = read_strain(background)
    _, h = detector_scores(model, x[:, 0])
    _, l = detector_scores(model, x[:, 1])
    dt = model.spec.stride / rate
    k = int(np.ceil(COINCIDENCE / dt))
    # a slide longer than the coincidence interval plus a window: no shifted pair shares a signal
    step = max(2 * k + 1, k + int(np.ceil(model.spec.window / model.spec.stride)) + 1, int(np.ceil(slide / dt)))
    floor = float(min(np.quantile(h, floor_quantile), np.quantile(l, floor_quantile)))
    gap = int(np.ceil(CLUSTER / dt))
    peaks, slides = slide_background(h, l, step=step, k=k, gap=gap, floor=floor, max_slides=max_slides)
    livetime = slides * len(h) * dt
    stat0 = coincident(h, around(l, k))
    above = np.flatnonzero(stat0 > floor)
    zero_lag = _peaks(above, stat0[above], gap)
    thresholds = far_thresholds(peaks, livetime)
    result = {"background": {"seconds": float(len(x) / rate), "slides": int(slides), "slide_s": step * dt,
                             "livetime_s": float(livetime), "livetime_years": float(livetime / (365.25 * 86400)),
                             "floor": floor, "triggers": len(peaks), "zero_lag_triggers": len(zero_lag),
                             "window_stride_s": dt, "coincidence_windows": k},
              "thresholds": thresholds, "injections": {}, "loudest": {}}
    for kind, (strain, table_path) in injections.items():
        t, x, inj_rate = read_strain(strain)
        if inj_rate != rate:
            raise InputError(f"{strain}: sampled at {inj_rate:g} Hz, the background {background} at {rate:g} Hz; "
                             "give injections and background at the same rate")
        table = read_table(table_path)
        starts, hs = detector_scores(model, x[:, 0])
        _, ls = detector_scores(model, x[:, 1])
        stat = coincident(hs, around(ls, k))
        centres = t[starts] + 0.5 * model.spec.window / rate
        best = found(stat, centres, table["time"])
        # per injection: the loudest network statistic near its peak, and each detector's loudest score
        result["loudest"][kind] = {"time": table["time"], "snr": table["snr"], "network": best,
                                   "h1": found(hs, centres, table["time"]), "l1": found(ls, centres, table["time"])}
        rows = {}
        for snr in np.unique(table["snr"]):
            sel = table["snr"] == snr
            rows[f"{snr:g}"] = {name: (None if thr is None else efficiency(int((best[sel] > thr["threshold"]).sum()),
                                                                            int(sel.sum())))
                                for name, thr in thresholds.items()}
        result["injections"][kind] = rows
    return result


__all__ = ["COINCIDENCE", "DEFAULT_SNRS", "FARS", "around", "coincident", "detector_scores", "far_thresholds",
           "found", "generate_gw_command", "read_strain", "read_table", "search", "slide_background", "write_gw"]
