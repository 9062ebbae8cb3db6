"""Reading and scoring a NanoAOD-like ROOT file, against a bare uproot loop.

Reading: ``uproot.iterate`` over the 11 branches + ``ak.pad_none``/``ak.fill_none`` to the
schema multiplicities + numpy stacking, in one loop (no adkit), against ``open_events``; both
produce the same matrix (checked). Scoring: that loop followed by the AE's preprocessing by hand
in torch and the network (scores in memory, no checks), serial and with read-ahead (reading and
preprocessing of the next chunk in a second thread), against adkit's ``score_files`` serial and
with read-ahead (every check on, score file written); scores checked equal (relative 1e-5).
One torch thread. Run: ``python benchmarks/bench_read.py [--events N]``.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch
from _common import best_of
from bench_score import _read_ahead

from adkit.io import open_events

OBJECTS = (("Electron", 4), ("Muon", 4), ("Jet", 10))


def bare_chunks(path: Path, step: int):
    """The notebook's reading loop, one (events, 57) float32 matrix per chunk."""
    import awkward as ak
    import uproot

    branches = ["MET_pt", "MET_phi"] + [f"{o}_{f}" for o, _ in OBJECTS for f in ("pt", "eta", "phi")]
    for arr in uproot.iterate(f"{path}:Events", branches, step_size=step, library="ak"):
        n = len(arr)
        cols = [ak.to_numpy(arr["MET_pt"]), np.zeros(n, np.float32), ak.to_numpy(arr["MET_phi"])]
        blocks = [np.stack(cols, axis=1)[:, None, :]]
        for obj, k in OBJECTS:
            fields = [ak.to_numpy(ak.fill_none(ak.pad_none(arr[f"{obj}_{f}"], k, clip=True), 0.0))
                      for f in ("pt", "eta", "phi")]
            blocks.append(np.stack(fields, axis=2))
        yield np.concatenate(blocks, axis=1).reshape(n, -1).astype(np.float32)


def bare(path: Path, step: int) -> np.ndarray:
    return np.concatenate(list(bare_chunks(path, step)))


def bare_scores(path: Path, step: int, model, read_ahead: bool) -> np.ndarray:
    """The bare reading loop, chunk by chunk, then bench_score's preprocessing and network."""
    module, sc = model.detector.module_, model.scaler
    log, mean, scale = torch.from_numpy(sc.log), torch.from_numpy(sc.mean_), torch.from_numpy(sc.scale_)

    def prep(x: np.ndarray) -> torch.Tensor:
        t = torch.from_numpy(x)
        return (torch.where(log, torch.log1p(t.clamp(min=0)), t) - mean) / scale

    inputs = (prep(x) for x in bare_chunks(path, step))
    out = []
    with torch.inference_mode():
        for z in (_read_ahead(inputs) if read_ahead else inputs):
            out.append(((module["decoder"](module["encoder"](z)) - z) ** 2).mean(1).numpy())
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
    from adkit.io.writers import read_scores
    from adkit.workflows import train
    from adkit.workflows.scoring import score_files

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_nanoaod_root(Path(tmp) / "bench.root", background(args.events, seed=7)[0])
        ours = lambda: np.concatenate([b.features for b in open_events(path, step=args.step)])
        np.testing.assert_array_equal(ours(), bare(path, args.step))
        t_bare = best_of(lambda: bare(path, args.step), 3)
        t_ours = best_of(ours, 3)
        model = train("ae", epochs=1, n_default=20_000)
        out = Path(tmp) / "s.h5"
        score = {ra: (lambda ra=ra: score_files(model, [path], out, step=args.step, overwrite=True, read_ahead=ra))
                 for ra in (False, True)}
        score[True]()
        for ra in (False, True):
            np.testing.assert_allclose(bare_scores(path, args.step, model, ra), read_scores(out)["score"], rtol=1e-5,
                                       atol=1e-7)
        times = {ra: (best_of(lambda ra=ra: bare_scores(path, args.step, model, ra), 3), best_of(score[ra], 3))
                 for ra in (False, True)}
    n = args.events
    print(f"events: {n}, chunk {args.step}, torch threads 1, best of 3; the same matrix and scores (rtol 1e-5)")
    print(f"read        bare uproot.iterate + ak.pad_none : {n / t_bare:12,.0f} events/s")
    print(f"read        adkit open_events                 : {n / t_ours:12,.0f} events/s   ratio {t_bare / t_ours:.3f}")
    for ra, label in ((False, "serial"), (True, "read-ahead")):
        tb, ta = times[ra]
        print(f"{label:<11} bare loop + torch AE            : {n / tb:12,.0f} events/s")
        print(f"{label:<11} adkit score                     : {n / ta:12,.0f} events/s   ratio {tb / ta:.3f}")
    print("targets: ratio >= 0.9 to the bare loop of the same kind")


if __name__ == "__main__":
    main()
