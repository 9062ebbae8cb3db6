"""Reading a NanoAOD-like ROOT file into the 57-feature schema, against a bare uproot loop.

Baseline: ``uproot.iterate`` over the 11 branches + ``ak.pad_none``/``ak.fill_none`` to the
schema multiplicities + numpy stacking, in one loop (no adkit). adkit: ``open_events``.
Both produce the same matrix (checked). Run: ``python benchmarks/bench_read.py [--events N]``.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from _common import best_of

from adkit.io import open_events

OBJECTS = (("Electron", 4), ("Muon", 4), ("Jet", 10))


def bare(path: Path, step: int) -> np.ndarray:
    import awkward as ak
    import uproot

    branches = ["MET_pt", "MET_phi"] + [f"{o}_{f}" for o, _ in OBJECTS for f in ("pt", "eta", "phi")]
    out = []
    for arr in uproot.iterate(f"{path}:Events", branches, step_size=step, library="ak"):
        n = len(arr)
        cols = [ak.to_numpy(arr["MET_pt"]), np.zeros(n, np.float32), ak.to_numpy(arr["MET_phi"])]
        blocks = [np.stack(cols, axis=1)[:, None, :]]
        for obj, k in OBJECTS:
            fields = [ak.to_numpy(ak.fill_none(ak.pad_none(arr[f"{obj}_{f}"], k, clip=True), 0.0))
                      for f in ("pt", "eta", "phi")]
            blocks.append(np.stack(fields, axis=2))
        out.append(np.concatenate(blocks, axis=1).reshape(n, -1).astype(np.float32))
    return np.concatenate(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=500_000)
    ap.add_argument("--step", type=int, default=100_000)
    ap.add_argument("--quick", action="store_true", help="tiny sizes, to check that it runs (a test runs this)")
    args = ap.parse_args()
    if args.quick:
        args.events, args.step = 5_000, 2_000
    from adkit.datasets import background, write_nanoaod_root

    with tempfile.TemporaryDirectory() as tmp:
        path = write_nanoaod_root(Path(tmp) / "bench.root", background(args.events, seed=7)[0])
        ours = lambda: np.concatenate([b.features for b in open_events(path, step=args.step)])  # noqa: E731
        np.testing.assert_array_equal(ours(), bare(path, args.step))
        t_bare = best_of(lambda: bare(path, args.step), 3)
        t_ours = best_of(ours, 3)
    n = args.events
    print(f"events: {n}, chunk {args.step}")
    print(f"bare uproot.iterate + ak.pad_none : {n / t_bare:12,.0f} events/s")
    print(f"adkit open_events                 : {n / t_ours:12,.0f} events/s")
    print(f"ratio adkit / bare                : {t_bare / t_ours:.3f}   (target >= 0.9)")


if __name__ == "__main__":
    main()
