"""`adkit score` throughput on an ADC-layout HDF5 file with the AE, against the bare minimum.

Baseline: h5py slices, the model's preprocessing written out by hand in torch (log1p of the pT
columns, the pooled mean and scale) and the same torch network in one loop, scores kept in
memory (no adkit, no output file, no checks). adkit: the full ``score_files`` path (reader,
batch building, NaN check, range check, preprocessing, model, NaN check of the scores, HDF5
score file written atomically).

Like with like: one torch thread everywhere, and three pairs: both serial (one thread does
everything); both with read-ahead (the baseline reads *and preprocesses* the next chunk in a
second thread while torch scores the current one, its fastest form); and directory mode,
``adkit score`` with ``--workers 2`` on two files (tasks in a pool of 2 processes, input and
output hashed for the manifest) against the serial bare loop on each file in a pool of 2
processes. Pools are warmed up first. Before anything is timed, the baseline's scores are
checked against adkit's (relative 1e-5).

    python benchmarks/bench_score.py [--events N] [--quick]
"""
from __future__ import annotations

import argparse
import functools
import queue
import tempfile
import threading
from pathlib import Path

import numpy as np
import torch
from _common import adc_file, best_of

from adkit.artifact import Model
from adkit.workflows import train
from adkit.workflows.scoring import score_files


def _chunks(path: Path, step: int):
    import h5py

    with h5py.File(path, "r") as h5:
        ds = h5["Particles"]
        for s in range(0, ds.shape[0], step):
            yield ds[s:s + step][:, :, :3].reshape(-1, 57)


def _read_ahead(it):
    """The next chunk is read in a thread while the current one is scored (one chunk waits)."""
    q: queue.Queue = queue.Queue(maxsize=1)
    done = object()

    def work():
        for item in it:
            q.put(item)
        q.put(done)

    threading.Thread(target=work, daemon=True).start()
    while (item := q.get()) is not done:
        yield item


def bare(path: Path, model: Model, step: int, read_ahead: bool = False) -> np.ndarray:
    """The notebook loop: preprocessing by hand from the model's stored arrays, then the network;
    with ``read_ahead`` the reading and preprocessing of the next chunk run in a second thread."""
    module = model.detector.module_
    sc = model.scaler
    log = torch.from_numpy(sc.log) if sc.log is not None else torch.zeros(57, dtype=torch.bool)
    pad = torch.from_numpy(sc.padding) if sc.padding is not None else torch.zeros(57, dtype=torch.bool)
    mean, scale = torch.from_numpy(sc.mean_), torch.from_numpy(sc.scale_)

    def prep(raw: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(raw)
        f = torch.where(log, torch.log1p(x.clamp(min=0)), x)
        return torch.where(pad & (x == 0), torch.zeros_like(f), (f - mean) / scale)

    out = []
    inputs = (prep(raw) for raw in _chunks(path, step))
    with torch.inference_mode():
        for z in (_read_ahead(inputs) if read_ahead else inputs):
            out.append(((module["decoder"](module["encoder"](z)) - z) ** 2).mean(1).numpy())
    return np.concatenate(out)


def _bare_in_worker(path: str, model_path: str, step: int) -> np.ndarray:
    """One file's bare serial loop in a pool process (one torch thread)."""
    torch.set_num_threads(1)
    return bare(Path(path), _load(model_path), step)


@functools.lru_cache(maxsize=1)
def _load(model_path: str) -> Model:
    return Model.load(model_path)


def directory_mode(tmp: Path, model: Model, n: int, step: int, repeat: int) -> tuple[float, float]:
    """Seconds (best of ``repeat``) for two files: ``adkit score --workers 2`` into a directory, and
    the bare loop on each file in a pool of two processes. Scores are checked equal first."""
    from concurrent.futures import ProcessPoolExecutor

    import h5py

    from adkit.datasets import background, write_particles_h5
    from adkit.executors import Executor
    from adkit.workflows.scaleout import score_many

    files = [write_particles_h5(tmp / f"dir{i}.h5", background(n, seed=11 + i)[0], compression=None)
             for i in range(2)]
    model_path = tmp / "m.adkit"
    model.save(model_path)
    outs = [tmp / "scores" / f"dir{i}.scores.h5" for i in range(2)]

    def ours() -> None:
        score_many(model_path, files, outs, tmp / "scores" / "manifest.json", executor=ex, step=step,
                   overwrite=True)

    def theirs() -> list[np.ndarray]:
        return list(pool.map(_bare_in_worker, [str(f) for f in files], [str(model_path)] * 2, [step] * 2))

    with Executor("local", 2) as ex, ProcessPoolExecutor(2) as pool:
        ours()  # warm-up of both pools, and the same result
        for out, want in zip(outs, theirs()):
            with h5py.File(out, "r") as h5:
                np.testing.assert_allclose(want, h5["score"][:], rtol=1e-5, atol=1e-7)
        return best_of(ours, repeat), best_of(theirs, repeat)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--step", type=int, default=100_000)
    ap.add_argument("--quick", action="store_true", help="20,000 events, one repetition (a test runs this)")
    args = ap.parse_args()
    n, step, repeat = (20_000, 5_000, 1) if args.quick else (args.events, args.step, 5)
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = adc_file(tmp / "bench.h5", n)
        model = train("ae", epochs=1, n_default=20_000)
        out = tmp / "s.h5"
        from adkit.io.writers import read_scores

        score_files(model, [path], out, step=step, overwrite=True)  # same result first, then time
        want = read_scores(out)["score"]
        for ahead in (False, True):
            np.testing.assert_allclose(bare(path, model, step, ahead), want, rtol=1e-5, atol=1e-7)
        t_bare = best_of(lambda: bare(path, model, step), repeat)
        t_bare_ra = best_of(lambda: bare(path, model, step, read_ahead=True), repeat)
        t_serial = best_of(lambda: score_files(model, [path], out, step=step, overwrite=True, read_ahead=False),
                           repeat)
        t_adkit = best_of(lambda: score_files(model, [path], out, step=step, overwrite=True), repeat)
        t_dir, t_dir_bare = directory_mode(tmp, model, n, step, repeat)
    print(f"events: {n}, chunk {step}, torch threads 1, best of {repeat}; baseline scores equal adkit's (rtol 1e-5)")
    print(f"serial      bare h5py + torch loop : {n / t_bare:12,.0f} events/s")
    print(f"serial      adkit score            : {n / t_serial:12,.0f} events/s   ratio to bare {t_bare / t_serial:.3f}")
    print(f"read-ahead  bare h5py + torch loop : {n / t_bare_ra:12,.0f} events/s")
    print(f"read-ahead  adkit score (default)  : {n / t_adkit:12,.0f} events/s   ratio to bare {t_bare_ra / t_adkit:.3f}")
    print(f"directory   2 bare loops, 2 procs  : {2 * n / t_dir_bare:12,.0f} events/s   (2 files of {n} events)")
    print(f"directory   adkit score --workers 2: {2 * n / t_dir:12,.0f} events/s   ratio to bare "
          f"{t_dir_bare / t_dir:.3f}")
    print("targets: ratio >= 0.9 to the bare loop of the same kind")


if __name__ == "__main__":
    main()
