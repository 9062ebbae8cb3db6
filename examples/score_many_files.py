"""Score many files as tasks on a dask LocalCluster, then resume after "losing" one output.

    python examples/score_many_files.py [--small]

The library call behind ``adkit score FILES... -o DIR --executor dask --workers 2``: one
score file per input plus ``manifest.json``; a second run scores only what is missing.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from adkit.datasets import background, write_particles_h5
from adkit.executors import Executor
from adkit.workflows import train
from adkit.workflows.scaleout import score_many


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--small", action="store_true", help="4 files of 20k events")
    args = ap.parse_args()
    n_files, n = (4, 20_000) if args.small else (8, 250_000)
    work = Path("many_files")
    work.mkdir(exist_ok=True)
    files = [work / f"run{i}.h5" for i in range(n_files)]
    for i, f in enumerate(files):
        if not f.exists():
            write_particles_h5(f, background(n, 10 + i)[0])
    train("ae", epochs=1, n_default=20_000).save(work / "model.adkit", overwrite=True)
    out = work / "scores"
    out.mkdir(exist_ok=True)
    outputs = [out / f"{f.stem}.scores.h5" for f in files]
    with Executor("dask", workers=2) as ex:
        print(f"dask dashboard: {ex.dashboard}")
        first = score_many(work / "model.adkit", files, outputs, out / "manifest.json", executor=ex,
                           task_events=n // 4, overwrite=True)
        outputs[1].unlink()  # as if that output had been lost
        again = score_many(work / "model.adkit", files, outputs, out / "manifest.json", executor=ex,
                           task_events=n // 4)
    print(f"first run: {first['events']} events in {first['tasks']} tasks, {first['seconds']:.1f} s")
    print("second run: " + ", ".join(f"{Path(f['input']).name} {f['status']}" for f in again["files"])
          + f" ({again['tasks']} tasks)")
    manifest = json.loads((out / "manifest.json").read_text())
    print(f"manifest: {len(manifest['files'])} inputs, all {set(f['status'] for f in manifest['files'])}")


if __name__ == "__main__":
    main()
