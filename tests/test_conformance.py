"""The conformance suite: every registered detector (future ones included) must pass it.

Each test is parametrised over ``registry.available()``, so a new detector is covered the
moment it is registered. Conditional detectors get the object multiplicities as condition.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from adkit.detectors import Detector, available, create, get
from adkit.errors import AdkitError, ConfigError, NotFittedError

#: Small, fast settings: every key is used by the detectors that have that parameter.
#: Sequence models read the 57 inputs as 19 steps (MET, electrons, muons, jets) of 3 channels (pT, eta, phi).
FAST = {"epochs": 3, "batch_size": 256, "n_train": 1500, "n_estimators": 50, "n_channels": 3}
NAMES = available()


def _params(name: str, **over) -> dict:
    names = get(name).param_names()
    return {k: v for k, v in {**FAST, **over}.items() if k in names}


def _make(name: str, **over) -> Detector:
    return create(name, **_params(name, **over))


def _events(n: int, seed: int, process: str | None = None):
    """Standardised-scale events and their multiplicity condition."""
    from adkit.datasets import background, generate
    from adkit.io.schema import FeatureSet, ObjectSchema

    obj = (background(n, seed)[0] if process is None else generate(process, n, seed))[:, :, :3]
    cond = FeatureSet.parse("n_electrons,n_muons,n_jets", ObjectSchema()).compute(obj)
    return obj.reshape(n, -1).astype(np.float32), cond


@pytest.fixture(scope="module")
def data():
    from adkit.features.preprocess import Standardizer

    Xb, Cb = _events(3000, 0)
    Xs, Cs = _events(1000, 1, "Ato4l")
    sc = Standardizer().fit(Xb)
    X, S = sc.transform(Xb), sc.transform(Xs)
    basis = _pca(X)
    XL, SL = _inputs(LatentProbe, X, basis), _inputs(LatentProbe, S, basis)
    latent_sc = Standardizer().fit(XL)
    return {"raw": {"X": X, "C": Cb, "S": S, "CS": Cs, "raw_S": Xs, "scaler": sc, "spec": None},
            "latent": {"X": latent_sc.transform(XL), "C": Cb, "S": latent_sc.transform(SL), "CS": Cs, "raw_S": SL,
                       "scaler": latent_sc, "spec": [f"z{i}" for i in range(LATENT_DIM)]}, "basis": basis}


class LatentProbe:
    latent = True


def _view(data, det) -> dict:
    """The inputs, condition, signal and preprocessing a detector is tested with."""
    return data["latent" if _latent(det) else "raw"]


def _cond(det: Detector, c):
    return c if det.uses_condition else None


LATENT_DIM = 16


def _latent(det) -> bool:
    """Latent-space detectors (quantum, tensor networks) take a few coordinates, not 57 features."""
    return getattr(det, "latent", False)


def _inputs(det, X, basis):
    """X as ``det`` takes it: latent-space detectors get the top principal components."""
    return X if not _latent(det) else np.ascontiguousarray((X - basis[0]) @ basis[1], dtype=np.float32)


def _pca(X):
    from sklearn.decomposition import PCA

    pca = PCA(LATENT_DIM, random_state=0).fit(X)
    return pca.mean_, pca.components_.T / np.sqrt(pca.explained_variance_)


def _two_sample(det) -> bool:
    return getattr(det, "two_sample", False)


def _fit(det: Detector, X, C):
    """Fit with the condition it needs and, for supervised detectors (a distilled student), a
    simple teacher's score: the log squared distance from the background centre. Two-sample
    models (NPLM's f) get every third event as "data" against the rest as reference."""
    y = np.log1p((np.asarray(X, dtype=np.float64) ** 2).sum(1)) if det.uses_target else None
    if _two_sample(det):
        y = (np.arange(len(X)) % 3 == 0).astype(np.float64)
    return det.fit(X, y, condition=_cond(det, C))


def _one_sample_only(det) -> None:
    if _two_sample(det):
        pytest.skip(f"{det.name} is a two-sample model (data vs reference): its power is tested in its own module")
    if det.tags.shape_only:
        pytest.skip(f"{det.name} sees only each window's shape (offset and scale removed by design): a time-series "
                    "baseline, tested on series in tests/test_series.py")


_fitted: dict[str, Detector] = {}


@pytest.fixture
def fitted(request, data):
    """One detector per name fitted with FAST settings, shared by the tests of this module."""
    name = request.param
    if name not in _fitted:
        d = _view(data, get(name))
        _fitted[name] = _fit(_make(name), d["X"], d["C"])
    return _fitted[name]


def by_name(test):
    return pytest.mark.parametrize("fitted", NAMES, indirect=True, ids=NAMES)(test)


@pytest.mark.parametrize("name", NAMES)
def test_unfitted_and_shapes(name, data):
    det = _make(name)
    d = _view(data, det)
    assert isinstance(det, Detector) and det.name == name
    with pytest.raises(NotFittedError):
        det.decision_function(d["X"], _cond(det, d["C"]))
    assert _fit(det, d["X"], d["C"]) is det


@by_name
def test_scores_shape_dtype_components(fitted, data):
    d = _view(data, fitted)
    X, c = d["X"], _cond(fitted, d["C"])
    s = fitted.decision_function(X, c)
    assert s.shape == (len(X),) and s.dtype == np.float64 and np.isfinite(s).all()
    assert np.std(s) > 0
    np.testing.assert_array_equal(fitted.decision_function(X, c), s)
    comps = fitted.score_components(X[:50], None if c is None else c[:50])
    assert list(comps)[0] == "score" and set(fitted.components) <= set(comps)
    assert all(v.shape == (50,) and v.dtype == np.float64 for v in comps.values())
    with pytest.raises(AdkitError, match="features"):
        fitted.decision_function(X[:, :-1], None if c is None else c)


@by_name
def test_obvious_outliers_score_higher(fitted, data):
    d = _view(data, fitted)
    _one_sample_only(fitted)
    if fitted.tags.bounded:
        pytest.skip(f"{fitted.name} regresses its teacher's score with a saturating recurrent state: it follows the "
                    "teacher where it trained, not 6 standard deviations away; tests/test_sequence_firmware.py "
                    "tests it against its teacher")
    X, c = d["X"], _cond(fitted, d["C"])
    outliers = X[:300] * 4.0 + 6.0  # every feature 6+ standard deviations away
    s_bkg = fitted.decision_function(X, c)
    s_out = fitted.decision_function(outliers, None if c is None else c[:300])
    assert np.median(s_out) > np.quantile(s_bkg, 0.99), (np.median(s_out), np.quantile(s_bkg, 0.99))


@by_name
def test_scoring_in_chunks_equals_at_once(fitted, data):
    d = _view(data, fitted)
    X, c = d["X"], _cond(fitted, d["C"])
    whole = fitted.decision_function(X, c)
    parts = np.concatenate([fitted.decision_function(X[i:i + 700], None if c is None else c[i:i + 700])
                            for i in range(0, len(X), 700)])
    # same events, same arithmetic; BLAS may block a different row count differently (last bits)
    np.testing.assert_allclose(parts, whole, rtol=1e-6, atol=1e-9 * np.abs(whole).max())


@by_name
def test_state_and_model_file_round_trip(fitted, data, tmp_path):
    d = _view(data, fitted)
    from adkit.artifact import Model
    from adkit.io import InputSpec
    from adkit.workflows import default_spec

    config, tensors = fitted.state()
    json.dumps(config)  # plain JSON
    assert all(isinstance(v, np.ndarray) for v in tensors.values())
    clone = get(fitted.name).from_state(config, tensors)
    c = _cond(fitted, d["CS"])
    np.testing.assert_array_equal(clone.decision_function(d["S"], c), fitted.decision_function(d["S"], c))

    spec = default_spec(None, "n_electrons,n_muons,n_jets" if fitted.uses_condition else None, None) \
        if d["spec"] is None else InputSpec(table_columns=d["spec"])
    model = Model(fitted, spec, d["scaler"])
    path = model.save(tmp_path / "m.adkit")
    loaded = Model.load(path)
    assert isinstance(loaded.spec, InputSpec) and loaded.spec.condition_names == spec.condition_names
    np.testing.assert_array_equal(loaded.decision_function(d["raw_S"], c), model.decision_function(d["raw_S"], c))


@by_name
def test_conditions_handled_or_rejected(fitted, data):
    d = _view(data, fitted)
    X, C = d["X"][:200], d["C"][:200]
    if not fitted.uses_condition:
        with pytest.raises(ConfigError, match="does not use conditions"):
            fitted.decision_function(X, C)
        return
    with pytest.raises(ConfigError, match="needs conditions"):
        fitted.decision_function(X)
    with pytest.raises(ConfigError, match="condition"):
        fitted.decision_function(X, C[:100])
    with pytest.raises(ConfigError, match="condition column"):
        fitted.decision_function(X, C[:, :2])
    # the condition is used: the same events in another context score differently
    assert not np.allclose(fitted.decision_function(X, C), fitted.decision_function(X, C + 2.0))


@pytest.mark.parametrize("name", NAMES)
def test_deterministic_and_seed_sensitive(name, data):
    d = _view(data, get(name))
    X, C = d["X"][:2000], d["C"][:2000]
    c = _cond(get(name), C)
    a, b = _fit(_make(name), X, C), _fit(_make(name), X, C)
    ta, tb = a.state()[1], b.state()[1]
    assert ta.keys() == tb.keys() and all(np.array_equal(ta[k], tb[k]) for k in ta)
    np.testing.assert_array_equal(a.decision_function(X, c), b.decision_function(X, c))
    if "seed" in get(name).param_names():
        other = _fit(_make(name, seed=7), X, C)
        assert not np.array_equal(other.decision_function(X, c), a.decision_function(X, c))


@pytest.mark.parametrize("name", NAMES)
def test_finds_signal(name):
    """A → 4 leptons is far from the SM mix: every detector must see it (AUC > 0.75)."""
    from sklearn.metrics import roc_auc_score

    _one_sample_only(get(name))

    from adkit.features.preprocess import Standardizer

    Xb, Cb = _events(6000, 2)
    Xs, Cs = _events(2000, 3, "Ato4l")
    sc = Standardizer().fit(Xb)
    det = _make(name, epochs=8, n_train=3000)
    Xb, Xs = sc.transform(Xb), sc.transform(Xs)
    if _latent(det):  # the latent-space detectors see the top principal components
        basis = _pca(Xb)
        Xb, Xs = _inputs(det, Xb, basis), _inputs(det, Xs, basis)
    det = _fit(det, Xb, Cb)
    sb, ss = det.decision_function(Xb, _cond(det, Cb)), det.decision_function(Xs, _cond(det, Cs))
    auc = roc_auc_score(np.r_[np.zeros(len(sb)), np.ones(len(ss))], np.r_[sb, ss])
    assert auc > 0.75, auc
