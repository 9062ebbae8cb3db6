"""`adkit score` throughput on an ADC-layout HDF5 file with the AE, against the bare minimum.

Baseline: h5py slices + the same standardisation and torch model in one loop, scores kept
in memory (no adkit, no output file). adkit: the full `score_files` path (reader, batch
building, NaN check, model, HDF5 score file written atomically). One torch thread, so the
events/s are per core for the model; the default
read-ahead overlaps the HDF5 read of the next chunk in a second thread (shown separately). Run: ``python benchmarks/bench_score.py [--events N]``.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch
from _common import adc_file, best_of

from adkit.artifact import Model
from adkit.pipeline import train
from adkit.scoring import score_files


def bare(path: Path, model: Model, step: int) -> np.ndarray:
    import h5py

    module = model.detector.module_
    mean, scale = torch.from_numpy(model.scaler.mean_), torch.from_numpy(model.scaler.scale_)
    out = []
    with h5py.File(path, "r") as h5, torch.inference_mode():
        ds = h5["Particles"]
        for s in range(0, ds.shape[0], step):
            x = (torch.from_numpy(ds[s:s + step][:, :, :3].reshape(-1, 57)) - mean) / scale
            out.append(((module["decoder"](module["encoder"](x)) - x) ** 2).mean(1).numpy())
    return np.concatenate(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--step", type=int, default=100_000)
    args = ap.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = adc_file(tmp / "bench.h5", args.events)
        model = train("ae", epochs=1, n_default=20_000)
        out = tmp / "s.h5"

        t_bare = best_of(lambda: bare(path, model, args.step), 5)
        t_serial = best_of(lambda: score_files(model, [path], out, step=args.step, overwrite=True, read_ahead=False), 5)
        t_adkit = best_of(lambda: score_files(model, [path], out, step=args.step, overwrite=True), 5)
        from adkit.io.writers import read_scores

        np.testing.assert_allclose(read_scores(out)["score"], bare(path, model, args.step), rtol=1e-5)
    n = args.events
    print(f"events: {n}, chunk {args.step}, torch threads 1")
    print(f"bare h5py + torch loop : {n / t_bare:12,.0f} events/s")
    print(f"adkit score, serial    : {n / t_serial:12,.0f} events/s   ratio {t_bare / t_serial:.3f}"
          "   (read-ahead off: one thread does everything)")
    print(f"adkit score (default)  : {n / t_adkit:12,.0f} events/s   ratio {t_bare / t_adkit:.3f}"
          "   (reads the next chunk while torch scores)")
    print("targets: ratio >= 0.9 to the bare loop, >= 500k events/s with one torch thread")


if __name__ == "__main__":
    main()
