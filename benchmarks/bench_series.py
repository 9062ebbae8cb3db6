"""Time series: scoring throughput of the recurrent AE on one hour of two-channel 4 kHz data.

Generates one hour of the ``gw`` demo at 4096 Hz (14,745,600 samples × 2 channels), trains
``lstm-ae`` and ``gru-ae`` (window 128, stride 32) on its first 5 minutes and times one epoch,
then scores the whole hour (windows of 128 every 32 samples, the per-sample maximum) and prints
samples per second. ``conv-ae`` is timed alongside for comparison.

    python benchmarks/bench_series.py
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> None:
    import argparse

    import torch

    from adkit.datasets.sensor import gw
    from adkit.workflows.series import score_series, train_series

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes, to check that it runs (a test runs this)")
    args = ap.parse_args()
    seconds, train_minutes = (4, 0.03) if args.quick else (3600, 5)
    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        hour = gw(seconds=seconds, rate=4096, seed=3)
        vals = np.column_stack([hour["h1"], hour["l1"]])
        np.savez(Path(tmp) / "hour.npz", values=vals, time=hour["time"], columns=np.array(["h1", "l1"]))
        n5 = int(train_minutes * 60 * 4096)
        np.savez(Path(tmp) / "train.npz", values=vals[:n5], time=hour["time"][:n5], columns=np.array(["h1", "l1"]))
        print(f"{seconds} s of 2 channels at 4096 Hz: {len(vals):,} samples, generated in {time.perf_counter() - t:.1f} s")
        print(f"\n| model | training: windows | s per epoch | scoring {seconds} s: s | samples/s | x real time |")
        print("|---|---|---|---|---|---|")
        for name in ("lstm-ae", "gru-ae", "conv-ae"):
            t = time.perf_counter()
            epochs = 1 if args.quick else 2
            model = train_series(name, [Path(tmp) / "train.npz"], window=128, stride=32, epochs=epochs,
                                 params={"patience": 9})
            per_epoch = (time.perf_counter() - t) / epochs
            t = time.perf_counter()
            r = score_series(model, Path(tmp) / "hour.npz")
            sec = time.perf_counter() - t
            print(f"| {name} | {model.provenance['windows']:,} | {per_epoch:.1f} | {sec:.1f} | {len(r['score']) / sec:,.0f} | "
                  f"{seconds / sec:.0f} |")


if __name__ == "__main__":
    main()
