"""The fitted input scaling stored with every model."""
from __future__ import annotations

import numpy as np
import pytest

from adkit.errors import ConfigError
from adkit.features.preprocess import Standardizer, column_roles
from adkit.io.schema import FeatureSet, ObjectSchema


def _raw(n=20000, seed=0):
    from adkit.datasets import background

    return background(n, seed)[0][:, :, :3].reshape(n, -1).astype(np.float32)


def test_roles_of_collider_columns():
    groups, log, pad = column_roles(ObjectSchema().raw_names())
    assert groups[3] == groups[6] == "electron_pt" and groups[-3] == "jet_pt" and groups[0] == "met_pt"
    assert log.sum() == 19 and pad.all()
    g, log, pad = column_roles(["n_jets", "ht", "m_ll"])
    assert g == ["n_jets", "ht", "m_ll"] and log.tolist() == [False, True, True] and pad.tolist() == [False, True, True]
    assert not column_roles(ObjectSchema().raw_names(), "standard")[1].any()
    g, log, pad = column_roles(ObjectSchema().raw_names(), "pooled")
    assert not log.any() and pad.all() and g[-3] == "jet_pt"
    g, log, pad = column_roles(ObjectSchema().raw_names(), "log-pooled")
    assert log.sum() == 19 and not pad.any() and g[-3] == "jet_pt"
    with pytest.raises(ConfigError, match="valid: physics, log-pooled, log-pooled-unseen, standard, pooled"):
        column_roles(["a"], "minmax")


def test_physics_scaling_keeps_padding_and_bounds_rare_slots():
    X = _raw()
    names = ObjectSchema().raw_names()
    phys = Standardizer.for_columns(names).fit(X)
    Z = phys.transform(X)
    assert (Z[X == 0] == 0).all()  # empty slots stay exactly 0
    jet_pt = [i for i, n in enumerate(names) if n.startswith("jet") and n.endswith("_pt")]
    filled = X[:, jet_pt] > 0
    z = Z[:, jet_pt][filled]
    assert abs(z.mean()) < 0.05 and abs(z.std() - 1) < 0.05  # pooled over all filled jet slots
    plain = Standardizer().fit(X).transform(X)
    assert np.abs(plain).max() > 50 > np.abs(Z).max()  # a rarely filled slot no longer explodes
    # state round trip, through the arrays a model file stores
    again = Standardizer.from_state({k: np.array(v) for k, v in phys.state().items()})
    np.testing.assert_array_equal(again.transform(X[:100]), Z[:100])
    assert phys.kind == "physics" and Standardizer().fit(X).kind == "standard"


def test_standard_scaling_on_derived_and_weights():
    fs = FeatureSet.parse("n_jets,n_leptons")
    from adkit.datasets import background

    X = fs.compute(background(5000, 1)[0][:, :, :3])
    w = np.r_[np.ones(2500), np.zeros(2500)]
    s = Standardizer.for_columns(fs.columns).fit(X, w)
    np.testing.assert_allclose(s.mean_, X[:2500].mean(0), rtol=1e-5)


def test_pipeline_uses_physics_for_events_and_standard_for_tables(tmp_path):
    import h5py

    from adkit.workflows import train

    m = train("iforest", n_default=3000, params={"n_train": 500, "n_estimators": 10})
    assert m.scaler.kind == "physics"
    assert train("iforest", n_default=3000, preprocessing="standard",
                 params={"n_train": 500, "n_estimators": 10}).scaler.kind == "standard"
    path = tmp_path / "t.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=np.random.default_rng(0).normal(size=(500, 3)).astype(np.float32))
    assert train("iforest", [path], params={"n_train": 200, "n_estimators": 10}).scaler.kind == "standard"


def test_auto_preprocessing_is_the_detectors_choice(tmp_path):
    """``auto`` gives the AE the ADC2021 recipe (empty slots scaled like any value) and keeps the
    object-aware padding for the others; a saved model reloads with its own kind."""
    from adkit.artifact import Model
    from adkit.workflows import train

    ae = train("ae", n_default=2000, epochs=1)
    assert ae.scaler.kind == "log-pooled"
    assert train("vae", n_default=2000, epochs=1).scaler.kind == "physics"
    X = _raw(200, seed=3)
    assert (ae.scaler.transform(X)[X == 0] != 0).mean() > 0.5, "log-pooled scales empty slots like any value"
    again = Model.load(ae.save(tmp_path / "ae.adkit"))
    assert again.scaler.kind == "log-pooled"
    np.testing.assert_array_equal(again.scaler.transform(X), ae.scaler.transform(X))


def test_log_pooled_marks_slots_the_training_never_filled():
    """A 3rd electron where the training had at most 2: its slot stays 0 when empty and, filled,
    lies UNSEEN_SCALE⁻¹ group scales away, above anything a seen slot can give."""
    from adkit.features.preprocess import UNSEEN_SCALE

    names = ObjectSchema().raw_names()
    X = _raw()
    e3 = [names.index(f"electron3_{v}") for v in ("pt", "eta", "phi")]
    X[:, e3] = 0.0  # the training never has a 3rd electron
    s = Standardizer.for_columns(names, "log-pooled").fit(X)
    Z = s.transform(X)
    assert np.all(Z[:, e3] == 0.0)
    e1 = names.index("electron1_pt")
    group_scale = s.scale_[e1]
    assert s.scale_[e3[0]] == pytest.approx(group_scale * UNSEEN_SCALE, rel=1e-6)
    event = X[:1].copy()
    event[0, e3] = [30.0, 0.5, 1.0]  # a 30 GeV electron in the unseen slot
    z = s.transform(event)[0, e3[0]]
    assert z == pytest.approx(np.log1p(30.0) / (group_scale * UNSEEN_SCALE), rel=1e-5)
    assert abs(z) > 100 * np.abs(Z[:, e1]).max()
    # the other kinds leave a never-filled slot alone
    assert Standardizer.for_columns(names, "physics").fit(X).scale_[e3[0]] == pytest.approx(group_scale, rel=0.5)


def test_log_pooled_treats_a_slot_filled_once_as_its_own_column():
    """A slot one training event in 20,000 fills (rarer than RARE) is standardised on its own, as a
    per-column z-score would: empty it stays 0, and the next event that fills it lies about
    √N of its own standard deviations out, far beyond anything a common slot gives."""
    from adkit.features.preprocess import RARE

    names = ObjectSchema().raw_names()
    X = _raw()
    e3 = [names.index(f"electron3_{v}") for v in ("pt", "eta", "phi")]
    X[:, e3] = 0.0
    X[7, e3] = [25.0, -0.3, 2.0]  # the one training event with a 3rd electron
    assert 1 / len(X) < RARE
    s = Standardizer.for_columns(names, "log-pooled").fit(X)
    f = np.log1p(X[:, e3[0]].astype(np.float64))
    assert s.mean_[e3[0]] == pytest.approx(f.mean(), rel=1e-5)
    assert s.scale_[e3[0]] == pytest.approx(f.std(), rel=1e-4)
    Z = s.transform(X)
    assert abs(Z[0, e3[0]]) < 0.01  # empty: about 0
    event = X[:1].copy()
    event[0, e3] = [30.0, 0.5, 1.0]
    z = s.transform(event)[0, e3[0]]
    e1 = names.index("electron1_pt")
    assert z > 100 and z > 10 * np.abs(Z[:, e1]).max()
    # a slot filled in 1 % of the events keeps its group's mean and scale
    X[:200, e3] = [25.0, -0.3, 2.0]
    s = Standardizer.for_columns(names, "log-pooled").fit(X)
    assert s.scale_[e3[0]] == s.scale_[e1] and s.mean_[e3[0]] == s.mean_[e1]


def test_log_pooled_unseen_marks_only_never_filled_slots():
    """The flow's variant: a slot filled once keeps its group's mean and scale; one never filled is marked."""
    names = ObjectSchema().raw_names()
    X = _raw()
    e3 = [names.index(f"electron3_{v}") for v in ("pt", "eta", "phi")]
    m3 = [names.index(f"muon3_{v}") for v in ("pt", "eta", "phi")]
    X[:, e3] = 0.0
    X[:, m3] = 0.0
    X[7, e3] = [25.0, -0.3, 2.0]
    s = Standardizer.for_columns(names, "log-pooled-unseen").fit(X)
    e1 = names.index("electron1_pt")
    assert s.scale_[e3[0]] == s.scale_[e1] and s.mean_[e3[0]] == s.mean_[e1]
    assert s.mean_[m3[0]] == 0.0 and s.scale_[m3[0]] < s.scale_[names.index("muon1_pt")] * 0.01
