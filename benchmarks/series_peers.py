"""adkit's series detectors with their defaults against aeon's and river's, on the real labelled series.

The series (real, labelled, available offline): UCR Anomaly Archive series 135
(``tests/data/ucr``, trained on its ``_TRAIN`` part) and the ECG of ``tests/data/sensor``
(trained on ``_TRAIN_NA``, judged on ``_TEST`` and ``_TRAIN_A``). The Daphnet series aeon also
ships has no labelled anomaly, so it cannot be judged.

- adkit: every series detector trained with nothing but the data (window 128, its own default
  stride and epochs).
- aeon 1.6 (``pip install 'adkit[peers]'``, which needs numpy < 2.4): STOMP (matrix-profile
  self-join of the test series), MERLIN (discords of every length from window/2 to window),
  KMeansAD (fitted on the training part) and DWT-MLEAD, each given adkit's window of 128 where
  it has one (aeon's defaults are 10-20 samples).
- river: HalfSpaceTrees, streaming: each sample's window of the last 128 values (min-max scaled
  with the training part's range) is scored, then learned; it first learns the training part.

Each method gives a score per sample of the test series; judged by the UCR protocol (the top
sample within 100 samples of a labelled anomaly: hit, and its distance) and the per-sample
ROC AUC, both of the per-sample scores adkit writes (the maximum over the windows covering a
sample) and by aeon's rule (the mean over them), the one the verdict compares. The last table
says, per series, which methods hit and whether adkit's best default reaches the best peer's hit
and AUC: the AUC difference gets a 95 % interval from a moving-block bootstrap of the test series,
and a verdict only where that interval excludes 0.

    python benchmarks/series_peers.py [--quick]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
UCR = DATA / "ucr" / "135_UCR_Anomaly_InternalBleeding16"
ECG = DATA / "sensor" / "ecg-diff-count-3"
#: (name, training file, test file)
SERIES = [("UCR 135", f"{UCR}_TRAIN.csv", f"{UCR}_TEST.csv"),
          ("ECG TEST", f"{ECG}_TRAIN_NA.csv", f"{ECG}_TEST.csv"),
          ("ECG TRAIN_A", f"{ECG}_TRAIN_NA.csv", f"{ECG}_TRAIN_A.csv")]
ADKIT = ("lstm-ae", "gru-ae", "conv-ae", "mp", "zscore")
WINDOW, TOLERANCE = 128, 100


def read(path: str) -> tuple[np.ndarray, np.ndarray]:
    """(values, labels) of a one-channel labelled CSV."""
    d = np.genfromtxt(path, delimiter=",", names=True)
    value = next(n for n in d.dtype.names if n not in ("timestamp", "is_anomaly"))
    return d[value].astype(np.float64), d["is_anomaly"].astype(int)


def mean_over_windows(r: dict, window: int) -> np.ndarray:
    """Per sample, the mean score of the windows that cover it (aeon's ``reverse_windowing`` rule; adkit
    writes the maximum); NaN where no window covers."""
    total, count = np.zeros(len(r["score"])), np.zeros(len(r["score"]))
    for start, score in zip(r["window_row"], r["window_score"]):
        total[start:start + window] += score
        count[start:start + window] += 1
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def judge(score: np.ndarray, labels: np.ndarray) -> dict:
    """UCR protocol (top sample within TOLERANCE of a labelled anomaly) and per-sample ROC AUC."""
    from sklearn.metrics import roc_auc_score

    score = np.where(np.isfinite(score), score, -np.inf)
    top = int(np.argmax(score))
    edges = np.flatnonzero(np.diff(np.r_[0, labels > 0, 0]))
    spans = list(zip(edges[::2], edges[1::2] - 1))
    distance = min(max(a - top, top - b, 0) for a, b in spans)
    finite = np.isfinite(score)
    auc = roc_auc_score(labels[finite] > 0, score[finite])
    return {"top": top, "distance": int(distance), "hit": distance <= TOLERANCE, "auc": float(auc)}


def auc_difference(a: np.ndarray, b: np.ndarray, labels: np.ndarray, seed: int, n: int = 400) -> tuple[float, float, float]:
    """AUC(a) - AUC(b) on the samples both score, and its 95 % interval from a moving-block bootstrap
    (blocks of WINDOW samples: neighbouring samples share windows, so they are not independent)."""
    from sklearn.metrics import roc_auc_score

    ok = np.isfinite(a) & np.isfinite(b)
    a, b, y = a[ok], b[ok], labels[ok] > 0
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, len(y) - WINDOW + 1, size=(n, -(-len(y) // WINDOW)))
    diffs = []
    for row in starts:
        idx = (row[:, None] + np.arange(WINDOW)).ravel()
        if y[idx].any() and not y[idx].all():
            diffs.append(roc_auc_score(y[idx], a[idx]) - roc_auc_score(y[idx], b[idx]))
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    return float(roc_auc_score(y, a) - roc_auc_score(y, b)), float(lo), float(hi)


def peers(train: np.ndarray, test: np.ndarray, quick: bool, seed: int) -> dict:
    """Per peer, a function giving its per-sample scores of ``test`` (None where not installed)."""
    out = {}
    try:
        from aeon.anomaly_detection.series.distance_based import MERLIN, STOMP, KMeansAD
        from aeon.anomaly_detection.series.distribution_based import DWT_MLEAD
    except ImportError:
        out["aeon"] = None
    else:
        out["aeon STOMP"] = lambda: STOMP(window_size=WINDOW).fit_predict(test)
        out["aeon MERLIN"] = lambda: MERLIN(min_length=WINDOW // 2, max_length=WINDOW,
                                            max_iterations=50 if quick else 500).fit_predict(test)
        out["aeon KMeansAD"] = lambda: KMeansAD(window_size=WINDOW, random_state=seed).fit(train).predict(test)
        out["aeon DWT-MLEAD"] = lambda: DWT_MLEAD().fit_predict(test)
    try:
        from river.anomaly import HalfSpaceTrees
    except ImportError:
        out["river"] = None
    else:
        out["river HalfSpaceTrees"] = lambda: half_space_trees(HalfSpaceTrees(seed=seed), train, test)
    return out


def half_space_trees(hst, train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Streaming: the window of the last WINDOW samples, min-max scaled by the training range; learn the
    training part, then score each test sample before learning it. The first WINDOW-1 samples: NaN."""
    lo, hi = train.min(), train.max()
    scale = lambda s: np.clip((s - lo) / (hi - lo), 0.0, 1.0)
    for w in np.lib.stride_tricks.sliding_window_view(scale(train), WINDOW):
        hst.learn_one(dict(enumerate(w)))
    score = np.full(len(test), np.nan)
    for i, w in enumerate(np.lib.stride_tricks.sliding_window_view(scale(test), WINDOW)):
        x = dict(enumerate(w))
        score[i + WINDOW - 1] = hst.score_one(x)
        hst.learn_one(x)
    return score


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="UCR 135 only, 2 epochs, lstm-ae and mp only: checks that it runs (a test runs this)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(2)
    from adkit.workflows.series import score_series, train_series

    series = SERIES[:1] if args.quick else SERIES
    detectors = ("lstm-ae", "mp") if args.quick else ADKIT
    print(f"window {WINDOW}; UCR protocol tolerance {TOLERANCE} samples; seed {args.seed}"
          f"{'; quick: 2 epochs' if args.quick else '; adkit: default epochs and strides'}")
    print("\n| series | method | top sample | distance | hit | per-sample AUC | AUC, mean over windows | s |")
    print("|---|---|---|---|---|---|---|---|")
    best: dict[str, dict[str, tuple]] = {}
    missing = set()
    kw = {"label_column": "is_anomaly", "time_column": "timestamp", "seed": args.seed,
          "epochs": 2 if args.quick else None}
    for name, train_file, test_file in series:
        train, _ = read(train_file)
        test, labels = read(test_file)
        rows = {}
        for det in detectors:
            t0 = time.perf_counter()
            model = train_series(det, [train_file], **kw)
            r = score_series(model, test_file)
            rows[f"adkit {det}"] = (r["score"], time.perf_counter() - t0, mean_over_windows(r, model.spec.window))
        for method, run in peers(train, test, args.quick, args.seed).items():
            if run is None:
                missing.add(method)
                continue
            t0 = time.perf_counter()
            score = run()
            rows[method] = (score, time.perf_counter() - t0, score)
        for method, (score, secs, mean) in rows.items():
            j = judge(score, labels)
            auc_mean = judge(mean, labels)["auc"]
            best.setdefault(name, {})[method] = (j["hit"], j["distance"], auc_mean, mean, labels)
            print(f"| {name} | {method} | {j['top']} | {j['distance']} | {'yes' if j['hit'] else 'no'} | "
                  f"{j['auc']:.4f} | {auc_mean:.4f} | {secs:.1f} |", flush=True)
    if missing:
        print(f"\nnot installed: {', '.join(sorted(missing))} (pip install 'adkit[peers]'; aeon 1.6 needs numpy < 2.4)")
    print("\n| series | adkit hits (defaults) | peers' hits | best adkit AUC, mean over windows | best peer AUC | "
          "difference [95 % interval] | adkit at least matches |")
    print("|---|---|---|---|---|---|---|")
    for name, methods in best.items():
        mine = {k: v for k, v in methods.items() if k.startswith("adkit")}
        other = {k: v for k, v in methods.items() if not k.startswith("adkit")}
        hits = lambda d: ", ".join(k.split(" ", 1)[1] for k, v in d.items() if v[0]) or "none"
        top = lambda d: max(d, key=lambda m: d[m][2])
        a = top(mine)
        if not other:
            print(f"| {name} | {hits(mine)} | - | {mine[a][2]:.4f} ({a}) | - | - | - |")
            continue
        b = top(other)
        hit_ok = any(v[0] for v in mine.values()) or not any(v[0] for v in other.values())
        diff, lo, hi = auc_difference(mine[a][3], other[b][3], mine[a][4], args.seed)
        verdict = "yes (higher)" if lo > 0 else ("no (lower)" if hi < 0 else "tie (within the interval)")
        print(f"| {name} | {hits(mine)} | {hits(other)} | {mine[a][2]:.4f} ({a}) | {other[b][2]:.4f} ({b}) | "
              f"{diff:+.4f} [{lo:+.4f}, {hi:+.4f}] | UCR hit: {'yes' if hit_ok else 'no'}; AUC: {verdict} |")
    print("\nper-sample AUC: the ROC AUC of the per-sample scores each tool writes (adkit: the maximum over the "
          "windows covering a sample); AUC, mean over windows: adkit's window scores turned into per-sample scores "
          "by aeon's rule (the mean over covering windows; aeon's and river's rows are their own scores), the "
          "AUC the verdict compares; samples no window covers are left out; s: training and scoring time here. "
          "The difference's interval: a moving-block bootstrap of the test series (blocks of one window, 400 "
          "resamples); a verdict on the AUC only where it excludes 0.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
