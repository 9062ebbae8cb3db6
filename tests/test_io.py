"""Readers: every format gives the collider schema, the same events give the same matrix."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import features_of

from adkit.errors import ConfigError, InputError
from adkit.features import FeatureSet
from adkit.io import InputSpec, Mapping, ObjectMap, inspect_file, open_events


def test_nanoaod_ttree_rntuple_parquet_agree(shared_data):
    real = shared_data / "real"
    tree = features_of(real / "nano_dy.root")
    assert tree.shape == (40, 57) and tree.dtype == np.float32
    np.testing.assert_array_equal(tree, features_of(real / "nano_dy_rntuple.root"))
    np.testing.assert_array_equal(tree, features_of(real / "nano_dy.parquet"))


def test_nanoaod_values_match_branches(shared_data):
    import awkward as ak
    import uproot

    path = shared_data / "real" / "nano_tt_v12.root"
    X = features_of(path)
    t = uproot.open(path)["Events"].arrays(["MET_pt", "Jet_pt", "Jet_eta", "Muon_pt"])
    np.testing.assert_allclose(X[:, 0], ak.to_numpy(t["MET_pt"]))
    jets = ak.to_numpy(ak.fill_none(ak.pad_none(t["Jet_pt"], 10, clip=True), 0))
    np.testing.assert_allclose(X[:, 27:57:3], jets)
    eta = ak.to_numpy(ak.fill_none(ak.pad_none(t["Jet_eta"], 10, clip=True), 0))
    np.testing.assert_allclose(X[:, 28:57:3], eta)
    assert (X[:, 1] == 0).all()  # MET eta is 0 by convention


def test_delphes(shared_data):
    X = features_of(shared_data / "real" / "delphes.root")
    assert X.shape == (25, 57)
    assert (X[:, 0] > 0).all()  # MissingET.MET mapped
    assert (X[:, 27] > 0).any()  # jets present


@pytest.mark.parametrize("process", ["W", "Z", "Ato4l"])
def test_pythia_h5_equals_root(shared_data, process):
    h5 = features_of(shared_data / "pythia" / f"{process}.h5")
    root = features_of(shared_data / "pythia" / f"{process}.root")
    np.testing.assert_array_equal(h5, root)


def test_chunks_are_bounded_and_complete(shared_data):
    path = shared_data / "pythia" / "W.root"
    batches = list(open_events(path, step=7000))
    assert max(len(b) for b in batches) <= 7000 and len(batches) >= 6
    assert [b.entry_start for b in batches] == sorted(b.entry_start for b in batches)
    np.testing.assert_array_equal(np.concatenate([b.features for b in batches]), features_of(path))
    assert all(b.source == str(path) for b in batches)


def test_h5_chunks_keep_entry_numbers(adc_file):
    batches = list(open_events(adc_file, step=1000))
    entries = np.concatenate([b.entry for b in batches])
    np.testing.assert_array_equal(entries, np.arange(5000))


def test_user_mapping_multiplicities_selection_cut(shared_data):
    path = shared_data / "pythia" / "W.root"
    m = Mapping(multiplicities={"jet": 2, "electron": 1, "muon": 1},
                objects={"jet": ObjectMap("Jet_pt", "Jet_eta", "Jet_phi", min_pt=30.0, max_abs_eta=2.4)},
                cut="MET_pt > 40")
    batches = list(open_events(path, mapping=m, spec=InputSpec(FeatureSet(m.schema()))))
    X = np.concatenate([b.features for b in batches])
    entries = np.concatenate([b.entry for b in batches])
    assert X.shape[1] == 3 * (1 + 1 + 1 + 2)
    full = features_of(path)
    np.testing.assert_array_equal(entries, np.flatnonzero(full[:, 0] > 40))
    jets = X[:, 9::3]
    assert ((jets == 0) | (jets > 30)).all()
    assert (np.abs(X[:, 10::3]) < 2.4).all()


def test_mapping_yaml(tmp_path, shared_data):
    y = tmp_path / "m.yaml"
    y.write_text("tree: Events\nmultiplicities: {jet: 4}\nobjects:\n  jet: {pt: Jet_pt, eta: Jet_eta, phi: Jet_phi}\n")
    m = Mapping.load(y)
    assert m.schema().n_rows == 13
    y.write_text("objects:\n  jet: {pt: Jet_pt, colour: red}\n")
    with pytest.raises(ConfigError, match="colour"):
        Mapping.load(y)


def test_plain_hdf5_table(tmp_path):
    import h5py

    path = tmp_path / "table.h5"
    data = np.random.default_rng(0).normal(size=(1234, 5)).astype(np.float32)
    with h5py.File(path, "w") as h5:
        ds = h5.create_dataset("features", data=data)
        ds.attrs["columns"] = ["a", "b", "c", "d", "e"]
    batches = list(open_events(path, step=500))
    np.testing.assert_array_equal(np.concatenate([b.features for b in batches]), data)
    sel = list(open_events(path, spec=InputSpec(table_columns=["c", "a"])))[0]
    np.testing.assert_array_equal(sel.features, data[:, [2, 0]])


def test_derived_features(shared_data):
    path = shared_data / "pythia" / "Z.h5"
    fs = FeatureSet.parse("n_electrons,n_muons,n_leptons,n_jets,met,ht,m_ll,leading_jet_pt,jet1_pt")
    X = np.concatenate([b.features for b in open_events(path, spec=InputSpec(fs))])
    raw = features_of(path)
    np.testing.assert_array_equal(X[:, 0], (raw[:, 3:15:3] > 0).sum(1))
    np.testing.assert_array_equal(X[:, 2], X[:, 0] + X[:, 1])
    np.testing.assert_allclose(X[:, 5], raw[:, 27::3].sum(1), rtol=1e-5)
    np.testing.assert_array_equal(X[:, 7], X[:, 8])
    two_lep = X[:, 2] >= 2
    # Z -> ll: the dilepton mass peaks near 91 GeV
    assert abs(np.median(X[two_lep, 6]) - 91) < 6
    assert (X[~two_lep, 6] == 0).all()
    with pytest.raises(ConfigError, match="unknown feature 'n_jet'.*n_jets"):
        FeatureSet.parse("n_jet")


def test_inspect(shared_data):
    d = inspect_file(shared_data / "real" / "delphes.root")
    assert d["layout"] == "delphes" and d["entries"] == 25 and d["tree"] == "Delphes"
    assert all(not s["missing"] for s in d["objects"].values())
    d = inspect_file(shared_data / "real" / "nano_dy_rntuple.root")
    assert "RNTuple" in d["format"]
    m = Mapping(objects={"jet": ObjectMap("L1Jet_pt", "L1Jet_eta", "L1Jet_phi")})
    d = inspect_file(shared_data / "real" / "nano_dy.root", m)
    assert d["objects"]["jet"]["missing"] == ["L1Jet_pt", "L1Jet_eta", "L1Jet_phi"]


def test_nan_policies(tmp_path):
    from adkit.datasets import background, write_particles_h5

    p = background(1000, seed=2)[0]
    p[[3, 500], 0, 0] = np.nan
    p[7, 10, 1] = np.inf
    path = tmp_path / "nan.h5"
    write_particles_h5(path, p)
    with pytest.raises(InputError, match="3 event.*NaN/inf.*first at entry 3"):
        list(open_events(path))
    b = list(open_events(path, nan_policy="drop"))[0]
    assert len(b) == 997 and 3 not in b.entry and 500 not in b.entry and 7 not in b.entry
    b = list(open_events(path, nan_policy="zero"))[0]
    assert len(b) == 1000 and np.isfinite(b.features).all() and b.features[3, 0] == 0
