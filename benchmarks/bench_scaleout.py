"""Scale-out: throughput of the task runner with 1 and 2 dask workers vs the local single process.

Writes 8 ADC2021-layout files of 250,000 events each and scores them with a compute-heavy
model (a wide AE, 57-256-128-3-128-256-57) three ways, each with one torch/BLAS thread per
process: the local executor (tasks in order in this process, and a pool of 2 processes), dask
with 1 worker and dask with 2 workers (LocalCluster), all through the same
``adkit.workflows.scaleout.score_many``. Then the
per-task overhead (the same events in 20× more tasks) and the peak memory of one task for a
file 1× and 8× as large (same task size).

    python benchmarks/bench_scaleout.py
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

N_FILES, N_EVENTS, TASK, SMALL_TASK = 8, 250_000, 250_000, 5_000


def _peak_rss_mb(model: Path, path: Path, part: Path) -> float:
    code = (f"import os, resource; from adkit.workflows.scaleout import score_range; from adkit.files import sha256_file as sha256; st = os.stat({str(path)!r}); "
            f"score_range({str(model)!r}, sha256({str(model)!r}), {str(path)!r}, None, 0, {TASK}, 100000, 'reject', "
            f"{str(part)!r}, (st.st_size, st.st_mtime_ns, sha256({str(path)!r}))); "
            f"print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    import argparse

    import torch

    from adkit.datasets import background, write_particles_h5
    from adkit.executors import Executor
    from adkit.workflows import train
    from adkit.workflows.scaleout import score_many

    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="tiny sizes, to check that it runs (a test runs this)")
    global N_FILES, N_EVENTS, TASK, SMALL_TASK
    if ap.parse_args().quick:
        N_FILES, N_EVENTS, TASK, SMALL_TASK = 2, 4_000, 4_000, 1_000
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        files = []
        for i in range(N_FILES):
            files.append(d / f"f{i}.h5")
            write_particles_h5(files[-1], background(N_EVENTS, 100 + i)[0])
        model = train("ae", epochs=1, n_default=20_000, params={"hidden": (256, 128)})
        model.save(d / "m.adkit")
        total = N_FILES * N_EVENTS
        warm = d / "warm.h5"
        write_particles_h5(warm, background(4000, 99)[0])
        rows, warmup = {}, {}
        for label, kind, workers in (("local, 1 process", "local", 1), ("local, 2 processes", "local", 2),
                                     ("dask, 1 worker", "dask", 1), ("dask, 2 workers", "dask", 2)):
            out = d / label.replace(" ", "").replace(",", "_")
            out.mkdir()
            with Executor(kind, workers) as ex:
                # warm-up: the first task of each worker imports torch and loads the model (timed apart)
                t = time.perf_counter()
                score_many(d / "m.adkit", [warm], [out / "warm.scores.h5"], out / "warm.json", executor=ex,
                           task_events=1000)
                warmup[label] = time.perf_counter() - t
                t = time.perf_counter()
                score_many(d / "m.adkit", files, [out / f"{f.stem}.scores.h5" for f in files], out / "manifest.json",
                           executor=ex, task_events=TASK)
                rows[label] = time.perf_counter() - t
        base = rows["local, 1 process"]
        print(f"{N_FILES} files x {N_EVENTS} events, tasks of {TASK} events, wide AE, 1 thread per process\n")
        print("| executor | warm-up (4 tasks of 1000 events) s | seconds | events/s | speed-up vs local |")
        print("|---|---|---|---|---|")
        for label, sec in rows.items():
            print(f"| {label} | {warmup[label]:.2f} | {sec:.1f} | {total / sec:,.0f} | {base / sec:.2f} |")

        # per-task overhead: the same first two files in tasks of 5,000 instead of 250,000 events
        timing = {}
        for task in (TASK, SMALL_TASK):
            out = d / f"ovh{task}"
            out.mkdir()
            with Executor("dask", 2) as ex:
                t = time.perf_counter()
                s = score_many(d / "m.adkit", files[:2], [out / f"{f.stem}.scores.h5" for f in files[:2]],
                               out / "manifest.json", executor=ex, task_events=task)
                timing[task] = (time.perf_counter() - t, s["tasks"])
        (t_big, n_big), (t_small, n_small) = timing[TASK], timing[SMALL_TASK]
        print(f"\nper-task overhead (dask, 2 workers): {n_big} tasks {t_big:.2f} s, {n_small} tasks {t_small:.2f} s "
              f"-> {(t_small - t_big) / (n_small - n_big) * 1e3:.1f} ms per extra task (x2 workers in parallel)")

        big = d / "big.h5"
        write_particles_h5(big, background(N_FILES * N_EVENTS, 7)[0])
        small_mb = _peak_rss_mb(d / "m.adkit", files[0], d / "p1.h5")
        big_mb = _peak_rss_mb(d / "m.adkit", big, d / "p2.h5")
        print(f"peak RSS of one task of {TASK} events: file of {N_EVENTS} events {small_mb:.0f} MB, file of "
              f"{N_FILES * N_EVENTS} events {big_mb:.0f} MB (ratio {big_mb / small_mb:.2f})")


if __name__ == "__main__":
    main()
