"""The embedded generator against Pythia 8, per process, with the generative-model metrics.

For every process of ``tests/data/pythia`` the embedded generator draws as many events
(seed 11) and ``adkit.workflows.compare.compare_files`` measures FPD, KPD and the per-feature W1
on the NPLM features (met, ht, lepton_pt_sum, n_leptons, n_jets), read from the same files as
``adkit compare`` reads them. The noise floor beside it: Pythia against Pythia, the sample's two
halves (so half the events per side: the floor at full size is about half of it).

    python benchmarks/generator_vs_pythia.py [--quick]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

PYTHIA = Path(__file__).resolve().parents[1] / "tests" / "data" / "pythia"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="two processes, 3,000 events (a test runs this)")
    args = ap.parse_args()
    if not PYTHIA.is_dir():
        print(f"needs the Pythia sample in {PYTHIA}", file=sys.stderr)
        return 2
    import h5py

    from adkit.datasets import PROCESSES, generate, write_particles_h5
    from adkit.workflows.compare import compare_files

    processes = ["W", "Ato4l"] if args.quick else [p for p in PROCESSES if (PYTHIA / f"{p}.h5").exists()]
    print("| process | Pythia events | FPD generator | FPD Pythia halves | KPD generator | KPD Pythia halves | "
          "W1 generator: met, ht, lepton_pt_sum, n_leptons, n_jets |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for p in processes:
            with h5py.File(PYTHIA / f"{p}.h5") as f:
                ref = f["Particles"][: 3000 if args.quick else None]
            n = len(ref)
            paths = {k: str(Path(tmp) / f"{p}_{k}.h5") for k in ("pythia", "gen", "a", "b")}
            write_particles_h5(paths["pythia"], ref)
            write_particles_h5(paths["gen"], generate(p, n, seed=11))
            write_particles_h5(paths["a"], ref[: n // 2])
            write_particles_h5(paths["b"], ref[n // 2:])
            g = compare_files([paths["pythia"]], [paths["gen"]])
            h = compare_files([paths["a"]], [paths["b"]])

            def cell(r, k):
                return f"{r[k]['value']:.3g} ± {r[k]['error']:.2g}"
            w1 = ", ".join(f"{v:.3g} ± {e:.1g}" for v, e in zip(g["w1"]["value"], g["w1"]["error"]))
            print(f"| {p} | {n} | {cell(g, 'fpd')} | {cell(h, 'fpd')} | {cell(g, 'kpd')} | {cell(h, 'kpd')} | {w1} |")
    print()
    print("FPD and KPD on the features divided by the Pythia sample's largest |value| (jetnet's convention); "
          "W1 in GeV (counts for n_leptons, n_jets). Below 50,000 events the FPD batches shrink (20-100 % "
          "of the sample instead of 20,000-50,000).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
