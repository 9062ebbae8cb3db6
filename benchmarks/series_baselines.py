"""adkit's sequence autoencoders against the baselines a time-series person tries first, on a real ECG.

Trains ``lstm-ae``, ``gru-ae``, ``conv-ae`` and the two baselines, ``mp`` (matrix-profile
discord: z-normalised distance to the nearest training window, equal to stumpy's AB-join) and
``zscore`` (rolling z-score), on the anomaly-free ``ecg-diff-count-3_TRAIN_NA.csv`` of
``tests/data/sensor`` (window 32, stride 1 for the baselines and 4 for the autoencoders,
every model with the same windows and per-channel scaling), and evaluates each on the two
labelled files (``_TEST``, ``_TRAIN_A``): per-sample AUC, the UCR protocol (the top-scored
sample within 100 samples of a labelled anomaly) and the event efficiency at 1 false alarm per
1000 samples. Then times scoring (samples/s).

    python benchmarks/series_baselines.py [--quick]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

SENSOR = Path(__file__).resolve().parents[1] / "tests" / "data" / "sensor"
MODELS = {"lstm-ae": 4, "gru-ae": 4, "conv-ae": 4, "mp": 1, "zscore": 1}  # name: training stride


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 epochs: checks that it runs (a test runs this)")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if not SENSOR.is_dir():
        print(f"needs the labelled ECG series in {SENSOR}", file=sys.stderr)
        return 2
    import torch

    torch.set_num_threads(2)
    from adkit.metrics import efficiency_cell
    from adkit.workflows.series import evaluate_series, score_series, train_series, ucr_protocol

    train = [str(SENSOR / "ecg-diff-count-3_TRAIN_NA.csv")]
    tests = [str(SENSOR / "ecg-diff-count-3_TEST.csv"), str(SENSOR / "ecg-diff-count-3_TRAIN_A.csv")]
    epochs = 2 if args.quick else args.epochs
    print(f"train: {Path(train[0]).name}; evaluated on {', '.join(Path(t).name for t in tests)}; window 32; "
          f"autoencoders {epochs} epochs, seed {args.seed}")
    print("\n| model | per-sample AUC (TEST / TRAIN_A) | UCR hits | efficiency at 1 false alarm per 1000 samples "
          "| scoring samples/s |")
    print("|---|---|---|---|---|")
    for name, stride in MODELS.items():
        model = train_series(name, train, window=32, stride=stride, epochs=epochs, seed=args.seed)
        aucs = [evaluate_series(model, [t], far_per_hour=(1.0,))["sample_auc"] for t in tests]
        ev = evaluate_series(model, tests, far_per_hour=(1.0,))
        wp = ev["working_points"]["1"]
        ucr = ucr_protocol(model, tests)
        t0 = time.perf_counter()
        n = sum(len(score_series(model, t)["score"]) for t in tests)
        rate = n / (time.perf_counter() - t0)
        print(f"| {name} | {aucs[0]:.3f} / {aucs[1]:.3f} | {ucr['hits']}/{ucr['total']} | "
              f"{efficiency_cell(wp['detected']) if wp else 'no threshold reaches it'} | {rate:,.0f} |")
    print("\nEfficiency: labelled anomalous intervals detected / labelled, 68.27 % Clopper–Pearson interval.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
