"""Read NanoAOD, Delphes, RNTuple, Parquet and ADC2021 HDF5 files into the collider schema.

    python examples/read_files.py [--small] [DATA_DIR]

DATA_DIR defaults to tests/data (the project's real test files); without it, a small
generated file in both .h5 and .root is read instead.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from adkit.features import FeatureSet
from adkit.io import InputSpec, Mapping, ObjectMap, inspect_file, open_events


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("data", nargs="?", default=str(Path(__file__).resolve().parents[1] / "tests" / "data"))
    ap.add_argument("--small", action="store_true")
    args = ap.parse_args()
    data = Path(args.data)
    if data.is_dir():
        files = [data / "real" / f for f in ("nano_dy.root", "nano_dy_rntuple.root", "nano_dy.parquet", "delphes.root")]
        files += [data / "pythia" / "Z.h5"]
    else:
        from adkit.datasets import generate, write_nanoaod_root, write_particles_h5

        z = generate("Z", 2000, seed=0)
        files = [write_particles_h5("Z.h5", z, overwrite=True), write_nanoaod_root("Z.root", z, overwrite=True)]
    for f in files:
        info = inspect_file(f)
        X = np.concatenate([b.features for b in open_events(f, step=10_000)])
        print(f"{f.name:22s} {info['format']:14s} layout={info['layout']:8s} features {X.shape}, "
              f"mean MET {X[:, 0].mean():6.1f} GeV")
    # derived features and a user mapping: two central jets above 30 GeV, events with MET > 20 GeV
    m = Mapping(multiplicities={"jet": 2}, objects={"jet": ObjectMap("Jet_pt", "Jet_eta", "Jet_phi", 30.0, 2.4)},
                cut="MET_pt > 20")
    spec = InputSpec(FeatureSet.parse("n_leptons,m_ll,ht,met,jet1_pt", m.schema()))
    root = next(f for f in files if str(f).endswith(".root"))
    batch = next(open_events(root, spec, mapping=m))
    print(f"{root.name}: {len(batch)} events pass MET > 20; first entries {batch.entry[:5].tolist()}")
    print("n_leptons, m_ll, ht, met, jet1_pt of the first event:", np.round(batch.features[0], 1).tolist())
    Path("read_files.done").write_text("ok\n")


if __name__ == "__main__":
    main()
