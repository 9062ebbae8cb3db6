"""Units, presets and the out-of-range check on real files.

The real NanoAOD ttbar file is written again as ATLAS PHYSLITE (momenta in MeV, tree
CollectionTree) and with its momenta ×1000 under the NanoAOD names (MeV read as GeV, the
mistake the out-of-range check is for). For each file and for the Pythia samples, it prints the
preset adkit chose and the fraction of events outside the range of the embedded training
background (what a model trained by ``adkit train`` stores), which ``adkit score`` warns on
above 50 %.

    python examples/units_and_ranges.py [--small]
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from adkit.datasets import DEFAULT_TRAIN_EVENTS, TRAIN_SEED, default_background
from adkit.features import FeatureSet
from adkit.features.ranges import DEFAULT_LIMIT, RangeCheck, fit_ranges
from adkit.io import inspect_file, open_events

SHARED = Path(__file__).resolve().parents[1] / "tests" / "data"


def features(path) -> np.ndarray:
    return np.concatenate([b.features for b in open_events(path)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--small", action="store_true", help="the same (it is fast)")
    ap.parse_args()
    if not SHARED.is_dir():
        print(f"needs the shared data at {SHARED}")
        return
    import uproot

    fs = FeatureSet()
    ranges = fit_ranges(fs.compute(default_background(DEFAULT_TRAIN_EVENTS, TRAIN_SEED)[:, :, :3]))
    src = SHARED / "real" / "nano_tt_v12.root"
    names = ["MET_pt", "MET_phi"] + [f"{o}_{f}" for o in ("Electron", "Muon", "Jet") for f in ("pt", "eta", "phi")]
    t = uproot.open(src)["Events"].arrays(names)
    with tempfile.TemporaryDirectory() as tmp:
        with uproot.recreate(Path(tmp) / "physlite.root") as f:
            atlas = {"Electron": "AnalysisElectronsAuxDyn", "Muon": "AnalysisMuonsAuxDyn", "Jet": "AnalysisJetsAuxDyn"}
            f.mktree("CollectionTree", {f"{atlas[o]}.{v}": t[f"{o}_{v}"] * (1000.0 if v == "pt" else 1.0)
                                        for o in atlas for v in ("pt", "eta", "phi")})
        with uproot.recreate(Path(tmp) / "mev_as_gev.root") as f:
            f.mktree("Events", {k: t[k] * 1000.0 if k.endswith("_pt") else t[k] for k in t.fields})
        files = {"nano_tt_v12.root (NanoAOD, GeV)": src,
                 "the same as PHYSLITE (MeV)": Path(tmp) / "physlite.root",
                 "the same, pT x1000, NanoAOD names": Path(tmp) / "mev_as_gev.root",
                 "nano_dy.root": SHARED / "real" / "nano_dy.root", "delphes.root": SHARED / "real" / "delphes.root",
                 **{f"pythia {p}.h5": SHARED / "pythia" / f"{p}.h5" for p in ("W", "QCD", "ttbar", "Ato4l")}}
        for label, path in files.items():
            check = RangeCheck(ranges, fs.schema.raw_names())
            X = features(path)
            check.update(X)
            worst = ", ".join(f"{w['feature']} {w['fraction']:.0%}" for w in check.worst(2)) or "-"
            flag = "WARN" if check.exceeded else "ok"
            print(f"{label:36s} preset {inspect_file(path)['layout']:8s} mean jet1 pT {X[:, 27].mean():8.1f} GeV  "
                  f"outside {check.outside:5d}/{check.events:<6d} ({check.fraction:6.1%}) {flag:4s} worst: {worst}")
    print(f"warning limit: {DEFAULT_LIMIT:.0%} of the events")


if __name__ == "__main__":
    main()
