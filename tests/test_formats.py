"""Presets and units: the same real events written as PHYSLITE (MeV), TreeMaker and NanoAOD v15
give the same schema array as the NanoAOD original, with the preset chosen from the file."""
from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import features_of, run_cli

from adkit.io import Mapping, inspect_file

OBJECTS = {"Electron": ("AnalysisElectronsAuxDyn", "Electrons"), "Muon": ("AnalysisMuonsAuxDyn", "Muons"),
           "Jet": ("AnalysisJetsAuxDyn", "Jets")}


@pytest.fixture(scope="module")
def nano(shared_data):
    import uproot

    path = shared_data / "real" / "nano_tt_v12.root"
    names = ["MET_pt", "MET_phi"] + [f"{o}_{f}" for o in OBJECTS for f in ("pt", "eta", "phi")]
    return path, uproot.open(path)["Events"].arrays(names)


def _write(path, tree, branches):
    import uproot

    with uproot.recreate(path) as f:
        if "/" in tree:
            f.mkdir(tree.split("/")[0])
        f.mktree(tree, branches)
    return path


def test_physlite_in_mev_reads_as_nanoaod_in_gev(nano, tmp_path):
    src, t = nano
    branches = {}
    for o, (atlas, _) in OBJECTS.items():
        branches[f"{atlas}.pt"] = t[f"{o}_pt"] * 1000.0  # MeV
        branches[f"{atlas}.eta"] = t[f"{o}_eta"]
        branches[f"{atlas}.phi"] = t[f"{o}_phi"]
    path = _write(tmp_path / "DAOD_PHYSLITE.root", "CollectionTree", branches)
    d = inspect_file(path)
    assert d["layout"] == "physlite" and d["tree"] == "CollectionTree"
    assert d["objects"]["jet"]["unit"] == "MeV" and d["objects"]["met"]["rebuilt"]
    X, ref = features_of(path), features_of(src)
    np.testing.assert_allclose(X[:, 3:], ref[:, 3:], rtol=1e-6, atol=1e-4)  # every object, in GeV
    # MET: minus the vector sum of the kept electrons, muons and jets, written out here
    pt, phi = ref[:, 3::3].astype(np.float64), ref[:, 5::3].astype(np.float64)
    px, py = -(pt * np.cos(phi)).sum(axis=1), -(pt * np.sin(phi)).sum(axis=1)
    np.testing.assert_allclose(X[:, 0], np.hypot(px, py), rtol=1e-5, atol=1e-3)
    moving = X[:, 0] > 0
    np.testing.assert_allclose(X[moving, 2], np.arctan2(py, px)[moving], atol=1e-5)
    # the same file with the units declared wrong by hand is a different (wrong) input: units matter
    wrong = features_of(path, mapping=Mapping(unit="GeV"))
    assert wrong[:, 27].max() > 500 * ref[:, 27].max()


def test_treemaker_and_nanoaod_v15_are_recognised(nano, tmp_path):
    src, t = nano
    ref = features_of(src)
    tm = {"MET": t["MET_pt"], "METPhi": t["MET_phi"]}
    for o, (_, cms) in OBJECTS.items():
        for f, F in (("pt", "Pt"), ("eta", "Eta"), ("phi", "Phi")):
            tm[f"{cms}.fCoordinates.f{F}"] = t[f"{o}_{f}"]
    path = _write(tmp_path / "treemaker.root", "TreeMaker2/PreSelection", tm)
    d = inspect_file(path)
    assert (d["layout"], d["tree"]) == ("treemaker", "TreeMaker2/PreSelection")
    np.testing.assert_array_equal(features_of(path), ref)

    v15 = {("PF" + k if k.startswith("MET_") else k): t[k] for k in t.fields}
    path = _write(tmp_path / "nano_v15.root", "Events", v15)
    assert inspect_file(path)["layout"] == "nanoaod-v15"
    np.testing.assert_array_equal(features_of(path), ref)


def test_units_declared_per_object_and_in_yaml(nano, tmp_path):
    src, t = nano
    ref = features_of(src)
    (tmp_path / "m.yaml").write_text("unit: TeV\nobjects:\n  met: {pt: MET_pt, phi: MET_phi, unit: GeV}\n")
    X = features_of(src, mapping=Mapping.load(tmp_path / "m.yaml"))
    np.testing.assert_allclose(X[:, 0], ref[:, 0])
    np.testing.assert_allclose(X[:, 27], ref[:, 27] * 1000.0, rtol=1e-6)
    with pytest.raises(Exception, match="unit"):
        Mapping.from_dict({"unit": "eV"})


def test_info_exits_2_with_a_suggested_mapping_when_nothing_maps(tmp_path):
    import awkward as ak

    v = ak.unflatten(np.array([30.0, 40.0, 50.0], np.float32), np.array([1, 2, 0]))
    path = _write(tmp_path / "ntuple.root", "ntuple", {
        "AK4Jet_Pt": v, "AK4Jet_Eta": v * 0, "AK4Jet_Phi": v * 0, "Mu_pt": v, "Mu_eta": v * 0, "Mu_phi": v * 0,
        "MissingEt_met": np.array([1.0, 2.0, 3.0]), "MissingEt_phi": np.zeros(3)})
    r = run_cli("info", str(path))
    assert r.exit_code == 2 and "Traceback" not in r.output
    line = r.output.strip()
    assert "\n" not in line and "no schema object maps" in line
    assert "{tree: ntuple, objects: {met: {pt: MissingEt_met, phi: MissingEt_phi}" in line
    # the suggestion is a working mapping: passed back, the file reads
    import yaml

    (tmp_path / "m.yaml").write_text(yaml.safe_dump(yaml.safe_load(line.split("--mapping): ")[1])))
    r = run_cli("info", "--json", "--mapping", str(tmp_path / "m.yaml"), str(path))
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)[0]["objects"]["jet"]["missing"] == []


def test_scoring_warns_on_inputs_outside_the_training_range(nano, small_model, tmp_path):
    """Same events, momenta in MeV but read as GeV: a one-line warning naming the features; --strict exits 2
    and writes nothing. The correctly read file (and a file in MeV declared as MeV) gives no warning."""
    import uproot

    src, t = nano
    mev = {k: (t[k] * 1000.0 if k.endswith("_pt") else t[k]) for k in t.fields}
    with uproot.recreate(tmp_path / "mev.root") as f:
        f.mktree("Events", mev)
    r = run_cli("score", "--model", str(small_model), "-o", str(tmp_path / "ok.h5"), "--json", str(src))
    assert r.exit_code == 0 and "warning" not in r.stderr
    assert json.loads(r.stdout)["ood"][str(src)]["fraction"] < 0.2
    r = run_cli("score", "--model", str(small_model), "-o", str(tmp_path / "bad.h5"), str(tmp_path / "mev.root"))
    assert r.exit_code == 0
    warning = [line for line in r.stderr.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1 and "outside the model's training range" in warning[0]
    assert "met_pt" in warning[0] or "jet1_pt" in warning[0]
    r = run_cli("score", "--strict", "--model", str(small_model), "-o", str(tmp_path / "strict.h5"),
                str(tmp_path / "mev.root"))
    assert r.exit_code == 2 and "--strict" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "strict.h5").exists() and not list(tmp_path.glob(".strict*"))
    (tmp_path / "mev.yaml").write_text("unit: MeV\n")
    r = run_cli("score", "--strict", "--model", str(small_model), "--mapping", str(tmp_path / "mev.yaml"),
                "-o", str(tmp_path / "declared.h5"), str(tmp_path / "mev.root"))
    assert r.exit_code == 0 and "warning" not in r.stderr
