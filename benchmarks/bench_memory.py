"""Peak memory of reading stays flat when the input grows tenfold (chunked readers).

Each measurement runs in a fresh process that iterates over all events of one file with
``open_events`` (keeping only a running sum) and reports its peak RSS; for contrast, the
same file loaded whole with uproot. Run: ``python benchmarks/bench_memory.py [--events N]``.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, sys
import numpy as np
from adkit.io import open_events
import uproot, h5py, awkward
def hwm():  # peak RSS of this process in kB (VmHWM, reset at exec unlike ru_maxrss)
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1])
path, step, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
base = hwm()
if mode == "adkit":
    total, n = 0.0, 0
    for b in open_events(path, step=step):
        total += float(b.features[:, 0].sum()); n += len(b)
else:
    import uproot
    arr = uproot.open(path)["Events"].arrays(library="ak") if path.endswith(".root") else None
    n = len(arr)
print(json.dumps({"events": n, "import_kb": base, "peak_kb": hwm()}))
"""


def measure(path: Path, step: int, mode: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), str(step), mode], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--step", type=int, default=20_000)
    ap.add_argument("--quick", action="store_true", help="tiny sizes, to check that it runs (a test runs this)")
    args = ap.parse_args()
    if args.quick:
        args.events, args.step = 2_000, 1_000
    from adkit.datasets import background, write_nanoaod_root, write_particles_h5

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (args.events, 10 * args.events):
            p = background(n, seed=7)[0]
            h5 = write_particles_h5(Path(tmp) / f"{n}.h5", p)
            root = write_nanoaod_root(Path(tmp) / f"{n}.root", p)
            del p
            for label, path, mode in (("adkit HDF5", h5, "adkit"), ("adkit ROOT", root, "adkit"),
                                      ("whole-file uproot", root, "whole")):
                m = measure(path, args.step, mode)
                rows.append((label, n, m["peak_kb"] / 1024, (m["peak_kb"] - m["import_kb"]) / 1024))
    print(f"chunk {args.step} events; peak RSS of a process that reads every event")
    print(f"{'reader':20s} {'events':>9s} {'peak MB':>9s} {'above imports MB':>17s}")
    for r in rows:
        print(f"{r[0]:20s} {r[1]:9d} {r[2]:9.1f} {r[3]:17.1f}")
    for label in ("adkit HDF5", "adkit ROOT", "whole-file uproot"):
        small, big = [r for r in rows if r[0] == label]
        print(f"{label:20s} peak ratio 10x input / 1x input: {big[2] / small[2]:.2f}"
              + ("   (target: flat, <= 1.1)" if label.startswith("adkit") else "   (for contrast)"))


if __name__ == "__main__":
    main()
