"""Every series detector with its defaults on a UCR Anomaly Archive series, as a new user runs it.

Series 135 (InternalBleeding16, ``tests/data/ucr``): each detector is trained on the anomaly-free
``_TRAIN`` file with no option but the data (window 128, the detector's own default stride,
its default epochs) and judged by the UCR protocol on ``_TEST``: the one sample with the highest
score is the answer, a hit when it lies within 100 samples of the labelled anomaly. Printed per
detector: the stride it chose and why, the training windows, the top sample, its distance to the
anomaly, and whether it hits. Then the same with the stride before per-detector defaults
(window/4 = 32 for every detector).

    python benchmarks/series_defaults.py [--quick]
"""
from __future__ import annotations

import argparse
from pathlib import Path

UCR = Path(__file__).resolve().parents[1] / "tests" / "data" / "ucr"
TRAIN, TEST = UCR / "135_UCR_Anomaly_InternalBleeding16_TRAIN.csv", UCR / "135_UCR_Anomaly_InternalBleeding16_TEST.csv"
DETECTORS = ("lstm-ae", "gru-ae", "conv-ae", "mp", "zscore")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 epochs: checks that it runs (a test runs this)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(2)
    from adkit.workflows.series import train_series, ucr_protocol

    kw = {"label_column": "is_anomaly", "time_column": "timestamp", "seed": args.seed}
    epochs = 2 if args.quick else None
    print(f"train: {TRAIN.name}; UCR protocol on {TEST.name} (tolerance 100 samples); window 128; seed {args.seed}"
          f"{'; 2 epochs (quick)' if args.quick else '; default epochs'}")
    print("\n| detector | stride | why | training windows | top sample | distance | hit |")
    print("|---|---|---|---|---|---|---|")
    for stride in (None, 32):
        for name in DETECTORS:
            model = train_series(name, [str(TRAIN)], stride=stride, epochs=epochs, **kw)
            row = ucr_protocol(model, [str(TEST)])["series"][0]
            why = model.provenance["stride"]["why"] if stride is None else "window/4 (the old default for all)"
            print(f"| {name} | {model.spec.stride} | {why} | {model.provenance['windows']} | {row['top_sample']} | "
                  f"{row['distance']} | {'yes' if row['hit'] else 'no'} |", flush=True)
    print("\nthe labelled anomaly: samples 4187-4198 of the test file")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
