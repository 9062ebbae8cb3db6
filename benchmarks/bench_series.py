"""Time series: scoring throughput of the recurrent AE on one hour of two-channel 4 kHz data.

Generates one hour of the ``gw`` demo at 4096 Hz (14,745,600 samples × 2 channels), trains
``lstm-ae`` and ``gru-ae`` (window 128, stride 32) on its first 5 minutes and times one epoch,
then scores the whole hour (windows of 128 every 32 samples, the per-sample maximum) and prints
samples per second. ``conv-ae`` is timed alongside for comparison, and the matrix-profile baseline
``mp`` (2,000 training windows) on the same hour. Last, the streaming latency: rows appended to a
CSV in real time while ``adkit score --follow``'s iterator scores it.

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
        models = {}
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
            models[name] = model
        mp = train_series("mp", [Path(tmp) / "train.npz"], window=128, stride=32, params={"n_train": 2000})
        t = time.perf_counter()
        r = score_series(mp, Path(tmp) / "hour.npz")
        sec = time.perf_counter() - t
        print(f"| mp (matrix profile, 2,000 training windows) | {mp.provenance['windows']:,} | - | {sec:.1f} | "
              f"{len(r['score']) / sec:,.0f} | {seconds / sec:.0f} |")
        streaming_latency(models["conv-ae"], vals, hour["time"], Path(tmp), 20 if args.quick else 200)


def streaming_latency(model, vals, times, tmp: Path, n_windows: int) -> None:
    """Append rows to a CSV in bursts (as a data logger does) while ``follow`` scores it; the latency of a
    window is the time from the write of its last row to its score."""
    import threading

    from adkit.workflows.stream import follow

    path = tmp / "live.csv"
    rows = (n_windows + 4) * model.spec.stride + model.spec.window
    written: dict[int, float] = {}
    path.write_text("time,h1,l1\n")

    def writer():
        with open(path, "a") as fh:
            for i in range(0, rows, 64):
                fh.write("".join(f"{times[j]:.9f},{vals[j, 0]:.6g},{vals[j, 1]:.6g}\n" for j in range(i, i + 64)))
                fh.flush()
                now = time.perf_counter()
                for j in range(i, i + 64):
                    written[j] = now
                time.sleep(64 / 4096)  # real time at 4096 Hz

    th = threading.Thread(target=writer, daemon=True)
    th.start()
    lat = []
    for w in follow(model, path, poll=0.005, max_windows=n_windows):
        lat.append(time.perf_counter() - written.get(w["row"], time.perf_counter()))
    th.join()
    lat_ms = 1000 * np.array(lat)
    print(f"\nstreaming ({model.detector.name}, `adkit score --follow`, poll 5 ms, rows appended in bursts of 64 at 4096 Hz): "
          f"{len(lat)} windows, latency from the write of a window's last row to its score: median "
          f"{np.median(lat_ms):.1f} ms, 99th percentile {np.quantile(lat_ms, 0.99):.1f} ms")


if __name__ == "__main__":
    main()
