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
FAST = {"epochs": 3, "batch_size": 256, "n_train": 1500, "n_estimators": 50}
NAMES = available()


def _params(name: str, **over) -> dict:
    names = get(name).param_names()
    return {k: v for k, v in {**FAST, **over}.items() if k in names}


def _make(name: str, **over) -> Detector:
    return create(name, **_params(name, **over))


def _events(n: int, seed: int, process: str | None = None):
    """Standardised-scale events and their multiplicity condition."""
    from adkit.datasets import background, generate
    from adkit.features.schema import FeatureSet, ObjectSchema

    obj = (background(n, seed)[0] if process is None else generate(process, n, seed))[:, :, :3]
    cond = FeatureSet.parse("n_electrons,n_muons,n_jets", ObjectSchema()).compute(obj)
    return obj.reshape(n, -1).astype(np.float32), cond


@pytest.fixture(scope="module")
def data():
    from adkit.features.preprocess import Standardizer

    Xb, Cb = _events(3000, 0)
    Xs, Cs = _events(1000, 1, "Ato4l")
    sc = Standardizer().fit(Xb)
    return {"X": sc.transform(Xb), "C": Cb, "S": sc.transform(Xs), "CS": Cs, "raw_S": Xs, "scaler": sc}


def _cond(det: Detector, c):
    return c if det.uses_condition else None


def _fit(det: Detector, X, C):
    """Fit with the condition it needs and, for supervised detectors (a distilled student), a
    simple teacher's score: the log squared distance from the background centre."""
    y = np.log1p((np.asarray(X, dtype=np.float64) ** 2).sum(1)) if det.uses_target else None
    return det.fit(X, _cond(det, C), y)


_fitted: dict[str, Detector] = {}


@pytest.fixture
def fitted(request, data):
    """One detector per name fitted with FAST settings, shared by the tests of this module."""
    name = request.param
    if name not in _fitted:
        _fitted[name] = _fit(_make(name), data["X"], data["C"])
    return _fitted[name]


def by_name(test):
    return pytest.mark.parametrize("fitted", NAMES, indirect=True, ids=NAMES)(test)


@pytest.mark.parametrize("name", NAMES)
def test_unfitted_and_shapes(name, data):
    det = _make(name)
    assert isinstance(det, Detector) and det.name == name
    with pytest.raises(NotFittedError):
        det.score(data["X"], _cond(det, data["C"]))
    assert _fit(det, data["X"], data["C"]) is det


@by_name
def test_scores_shape_dtype_components(fitted, data):
    X, c = data["X"], _cond(fitted, data["C"])
    s = fitted.score(X, c)
    assert s.shape == (len(X),) and s.dtype == np.float64 and np.isfinite(s).all()
    assert np.std(s) > 0
    np.testing.assert_array_equal(fitted.decision_function(X, c), s)
    comps = fitted.score_components(X[:50], None if c is None else c[:50])
    assert list(comps)[0] == "score" and set(fitted.components) <= set(comps)
    assert all(v.shape == (50,) and v.dtype == np.float64 for v in comps.values())
    with pytest.raises(AdkitError, match="features"):
        fitted.score(X[:, :10], None if c is None else c)


@by_name
def test_obvious_outliers_score_higher(fitted, data):
    X, c = data["X"], _cond(fitted, data["C"])
    outliers = X[:300] * 4.0 + 6.0  # every feature 6+ standard deviations away
    s_bkg = fitted.score(X, c)
    s_out = fitted.score(outliers, None if c is None else c[:300])
    assert np.median(s_out) > np.quantile(s_bkg, 0.99), (np.median(s_out), np.quantile(s_bkg, 0.99))


@by_name
def test_scoring_in_chunks_equals_at_once(fitted, data):
    X, c = data["X"], _cond(fitted, data["C"])
    whole = fitted.score(X, c)
    parts = np.concatenate([fitted.score(X[i:i + 700], None if c is None else c[i:i + 700])
                            for i in range(0, len(X), 700)])
    # same events, same arithmetic; BLAS may block a different row count differently (last bits)
    np.testing.assert_allclose(parts, whole, rtol=1e-6, atol=1e-9 * np.abs(whole).max())


@by_name
def test_state_and_model_file_round_trip(fitted, data, tmp_path):
    from adkit.artifact import Model
    from adkit.io import InputSpec
    from adkit.pipeline import default_spec

    config, tensors = fitted.state()
    json.dumps(config)  # plain JSON
    assert all(isinstance(v, np.ndarray) for v in tensors.values())
    clone = get(fitted.name).from_state(config, tensors)
    c = _cond(fitted, data["CS"])
    np.testing.assert_array_equal(clone.score(data["S"], c), fitted.score(data["S"], c))

    spec = default_spec(None, "n_electrons,n_muons,n_jets" if fitted.uses_condition else None, None)
    model = Model(fitted, spec, data["scaler"])
    path = model.save(tmp_path / "m.adkit")
    loaded = Model.load(path)
    assert isinstance(loaded.spec, InputSpec) and loaded.spec.condition_names == spec.condition_names
    np.testing.assert_array_equal(loaded.score(data["raw_S"], c), model.score(data["raw_S"], c))


@by_name
def test_conditions_handled_or_rejected(fitted, data):
    X, C = data["X"][:200], data["C"][:200]
    if not fitted.uses_condition:
        with pytest.raises(ConfigError, match="does not use conditions"):
            fitted.score(X, C)
        return
    with pytest.raises(ConfigError, match="needs conditions"):
        fitted.score(X)
    with pytest.raises(ConfigError, match="condition"):
        fitted.score(X, C[:100])
    with pytest.raises(ConfigError, match="condition column"):
        fitted.score(X, C[:, :2])
    # the condition is used: the same events in another context score differently
    assert not np.allclose(fitted.score(X, C), fitted.score(X, C + 2.0))


@pytest.mark.parametrize("name", NAMES)
def test_deterministic_and_seed_sensitive(name, data):
    X, C = data["X"][:2000], data["C"][:2000]
    c = _cond(get(name), C)
    a, b = _fit(_make(name), X, C), _fit(_make(name), X, C)
    ta, tb = a.state()[1], b.state()[1]
    assert ta.keys() == tb.keys() and all(np.array_equal(ta[k], tb[k]) for k in ta)
    np.testing.assert_array_equal(a.score(X, c), b.score(X, c))
    if "seed" in get(name).param_names():
        other = _fit(_make(name, seed=7), X, C)
        assert not np.array_equal(other.score(X, c), a.score(X, c))


@pytest.mark.parametrize("name", NAMES)
def test_finds_signal(name):
    """A → 4 leptons is far from the SM mix: every detector must see it (AUC > 0.75)."""
    from sklearn.metrics import roc_auc_score

    from adkit.features.preprocess import Standardizer

    Xb, Cb = _events(6000, 2)
    Xs, Cs = _events(2000, 3, "Ato4l")
    sc = Standardizer().fit(Xb)
    det = _fit(_make(name, epochs=8, n_train=3000), sc.transform(Xb), Cb)
    sb, ss = det.score(sc.transform(Xb), _cond(det, Cb)), det.score(sc.transform(Xs), _cond(det, Cs))
    auc = roc_auc_score(np.r_[np.zeros(len(sb)), np.ones(len(ss))], np.r_[sb, ss])
    assert auc > 0.75, auc
