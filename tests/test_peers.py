"""adkit's detectors under their peers' own test suites.

- scikit-learn's estimator checks (the cases ``parametrize_with_checks`` builds) over every
  one-sample detector, declared outlier detectors; the checks adkit fails on purpose are listed
  with their reasons in :mod:`adkit.detectors.checks` and marked through scikit-learn's own
  mechanism (``expected_failed_checks``).
- the body of pyod's generic model test (``pyod/test/test_ecod.py``, the same for every pyod
  model) over the same detectors, with their defaults, on pyod's ``generate_data``.
- pyod's probability, confidence and rejection outputs against pyod's ``BaseDetector`` on the same scores.

The supervised detectors are not outlier detectors in scikit-learn's sense and are checked in
their own modules: ``student`` and ``sequence-student`` regress a teacher's score (``y`` required),
``nplm`` and ``nplm-nn`` learn data (y = 1) against a reference (y = 0).
"""
from __future__ import annotations

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_less, assert_equal
from scipy.stats import rankdata
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.utils.estimator_checks import estimator_checks_generator

from adkit.detectors import available, get
from adkit.detectors.checks import expected_failed_checks
from adkit.errors import ConfigError

pyod_data = pytest.importorskip("pyod.utils.data", reason="pyod is in the test extra")

ONE_SAMPLE = [n for n in available() if not (get(n).uses_target or get(n).two_sample)]
#: Small budgets for scikit-learn's checks (about 40 fits of tiny data per detector).
CHECK_BUDGET = {"epochs": 3, "n_estimators": 20, "width": 16, "n_landmarks": 50}

def expected_failures(estimator) -> dict[str, str]:
    """The checks a detector fails on purpose, and why (scikit-learn's ``expected_failed_checks``)."""
    return expected_failed_checks(estimator)


def _for_checks(name: str):
    cls = get(name)
    return cls(**{k: v for k, v in CHECK_BUDGET.items() if k in cls.param_names()})


def _check_name(check) -> str:
    return getattr(check, "func", check).__name__


def _cases():
    """scikit-learn's checks of every detector, those expected to fail marked xfail with their reason
    (what ``parametrize_with_checks`` builds), less the array-API check: it runs only with
    SCIPY_ARRAY_API=1 set before scipy loads, so :func:`test_array_api_dispatch_with_numpy` runs it."""
    for name in ONE_SAMPLE:
        est = _for_checks(name)
        for case in estimator_checks_generator(est, mark="xfail", expected_failed_checks=expected_failures(est)):
            check = (case.values if hasattr(case, "values") else case)[1]
            if _check_name(check) != "check_array_api_input":
                kw = getattr(check, "keywords", {})
                yield pytest.param(*(case.values if hasattr(case, "values") else case),
                                   marks=getattr(case, "marks", ()),
                                   id=f"{name}-{_check_name(check)}" + "".join(f"-{k}={v}" for k, v in kw.items()))


@pytest.mark.parametrize("estimator, check", list(_cases()))
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def test_array_api_dispatch_with_numpy():
    """scikit-learn's array-API check (NumPy inputs with dispatch on give the same results), in a
    process with SCIPY_ARRAY_API=1 (scipy reads it once, on import)."""
    import os
    import subprocess
    import sys

    code = ("from sklearn.utils.estimator_checks import check_array_api_input\n"
            "from test_peers import ONE_SAMPLE, _for_checks\n"
            "for n in ONE_SAMPLE:\n"
            "    d = _for_checks(n)\n"
            "    check_array_api_input(type(d).__name__, d, array_namespace='numpy', expect_only_array_outputs=False)\n"
            "print(len(ONE_SAMPLE))\n")
    env = {**os.environ, "SCIPY_ARRAY_API": "1", "PYTHONPATH": os.path.dirname(__file__)}
    r = subprocess.run([sys.executable, "-W", "ignore", "-c", code], env=env, capture_output=True, text=True,
                       timeout=600, check=False)
    assert r.returncode == 0 and r.stdout.split() == [str(len(ONE_SAMPLE))], r.stderr[-2000:]


def test_expected_failures_are_few_and_tagged():
    from sklearn.base import is_outlier_detector
    from sklearn.utils import get_tags

    for name in ONE_SAMPLE:
        det = get(name)()
        assert is_outlier_detector(det) and get_tags(det).estimator_type == "outlier_detector", name
        assert not get_tags(det).input_tags.allow_nan
        assert len(expected_failures(det)) <= 3 or name == "zscore"


# --- pyod's generic model test ---------------------------------------------------------------------

N_TRAIN, N_TEST, CONTAMINATION, ROC_FLOOR = 200, 100, 0.1, 0.8
_fitted: dict = {}


@pytest.fixture(scope="module")
def pyod_sample():
    return pyod_data.generate_data(n_train=N_TRAIN, n_test=N_TEST, n_features=10, contamination=CONTAMINATION,
                                   random_state=42)


def _fit_default(name, sample):
    if name not in _fitted:
        _fitted[name] = get(name)(contamination=CONTAMINATION).fit(sample[0])
    return _fitted[name]


@pytest.fixture
def clf(request, pyod_sample):
    return _fit_default(request.param, pyod_sample)


def each_detector(test):
    return pytest.mark.parametrize("clf", ONE_SAMPLE, indirect=True, ids=ONE_SAMPLE)(test)


@each_detector
def test_pyod_parameters(clf):
    assert getattr(clf, "decision_scores_", None) is not None
    assert getattr(clf, "labels_", None) is not None
    assert getattr(clf, "threshold_", None) is not None


@each_detector
def test_pyod_train_scores(clf, pyod_sample):
    assert_equal(len(clf.decision_scores_), pyod_sample[0].shape[0])


@each_detector
def test_pyod_prediction_scores(clf, pyod_sample):
    X_test, y_test = pyod_sample[1], pyod_sample[3]
    pred_scores = clf.decision_function(X_test)
    assert_equal(pred_scores.shape[0], X_test.shape[0])
    if clf.tags.shape_only:  # see test_shape_only_detectors_find_discords
        return
    assert roc_auc_score(y_test, pred_scores) >= ROC_FLOOR


def test_shape_only_detectors_find_discords():
    """The series baselines ``mp`` and ``zscore`` z-normalise every window (shape only, by design):
    pyod's data, a shifted Gaussian blob against uniform noise, is invisible to them. On their own
    kind of data, windows of a sine with pyod's share of spiked windows, they pass pyod's floor."""
    rng = np.random.default_rng(42)
    t = np.arange(32)
    clean = np.sin(2 * np.pi * (t[None, :] + rng.uniform(0, 32, (N_TRAIN + N_TEST, 1))) / 16)
    X = clean + 0.05 * rng.normal(size=clean.shape)
    y = (rng.uniform(size=len(X)) < CONTAMINATION).astype(int)
    X[y == 1, -1] += rng.choice([-3.0, 3.0], size=int(y.sum()))  # a spike: the newest sample jumps
    for name in ONE_SAMPLE:
        if get(name).tags.shape_only:
            det = get(name)(contamination=CONTAMINATION).fit(X[:N_TRAIN][y[:N_TRAIN] == 0])
            assert roc_auc_score(y[N_TRAIN:], det.decision_function(X[N_TRAIN:])) >= ROC_FLOOR, name


@each_detector
def test_pyod_prediction_labels(clf, pyod_sample):
    assert_equal(clf.predict(pyod_sample[1]).shape, pyod_sample[3].shape)


@each_detector
def test_pyod_prediction_proba(clf, pyod_sample):
    for method in ("linear", "unify"):
        proba = clf.predict_proba(pyod_sample[1], method=method)
        assert proba.shape == (N_TEST, 2) and proba.min() >= 0 and proba.max() <= 1
        assert_allclose(proba.sum(axis=1), 1.0)
    assert_allclose(clf.predict_proba(pyod_sample[1]), clf.predict_proba(pyod_sample[1], method="linear"))
    with pytest.raises(ValueError):
        clf.predict_proba(pyod_sample[1], method="something")


@each_detector
def test_pyod_prediction_confidence(clf, pyod_sample):
    X_test, y_test = pyod_sample[1], pyod_sample[3]
    labels, confidence = clf.predict(X_test, return_confidence=True)
    assert_equal(labels.shape, y_test.shape)
    assert_equal(confidence.shape, y_test.shape)
    assert confidence.min() >= 0 and confidence.max() <= 1
    proba, confidence = clf.predict_proba(X_test, method="linear", return_confidence=True)
    assert proba.min() >= 0 and proba.max() <= 1 and confidence.shape == y_test.shape
    assert_allclose(clf.predict_confidence(X_test), confidence)


@each_detector
def test_pyod_prediction_with_rejection(clf, pyod_sample):
    labels = clf.predict_with_rejection(pyod_sample[1], return_stats=False)
    assert_equal(labels.shape, pyod_sample[3].shape)
    assert set(np.unique(labels)) <= {-2, 0, 1}
    _, (expected, upper, cost) = clf.predict_with_rejection(pyod_sample[1], return_stats=True)
    assert 0 <= expected <= 1 and 0 <= upper <= 1 and cost >= 0


@each_detector
def test_pyod_fit_predict_and_score(clf, pyod_sample):
    X_train, X_test, y_train, y_test = pyod_sample
    other = clone(clf)
    assert_equal(other.fit_predict(X_train).shape, y_train.shape)
    for scoring in ("roc_auc_score", "prc_n_score"):
        assert 0 <= other.fit_predict_score(X_test, y_test, scoring=scoring) <= 1
    with pytest.raises(NotImplementedError):
        other.fit_predict_score(X_test, y_test, scoring="something")


@each_detector
def test_pyod_predict_rank(clf, pyod_sample):
    X_test = pyod_sample[1]
    scores = clf.decision_function(X_test)
    for normalized, top in ((False, N_TRAIN + 1), (True, 1.01)):
        ranks = clf._predict_rank(X_test, normalized=normalized)
        assert_allclose(rankdata(ranks), rankdata(scores), atol=3)
        assert_array_less(ranks, top)
        assert_array_less(-0.1, ranks)


@each_detector
def test_pyod_clone_pickle_and_dataframe(clf, pyod_sample, tmp_path):
    import joblib
    import pandas as pd

    import adkit

    X_train, X_test = pyod_sample[0], pyod_sample[1]
    twin = clone(clf)
    assert twin.get_params() == clf.get_params() and not twin.is_fitted
    want = clf.decision_function(X_test)
    for back in (pickle.loads(pickle.dumps(clf)), adkit.load(adkit.save(clf, tmp_path / "m.adkit"))):
        assert_equal(back.decision_function(X_test), want)
        assert_equal(back.predict(X_test), clf.predict(X_test))
        assert back.threshold_ == clf.threshold_ and back.n_features_in_ == clf.n_features_in_
        assert_equal(back.labels_, clf.labels_)
        assert back.get_params() == clf.get_params()  # tuples stay tuples
        back.set_threshold(0.2)
        assert abs(back.labels_.mean() - 0.2) <= 1 / N_TRAIN
    joblib.dump(clf, tmp_path / "m.joblib")
    assert_equal(joblib.load(tmp_path / "m.joblib").decision_function(X_test), want)
    cols = [f"f{i}" for i in range(X_train.shape[1])]
    frame = clone(clf).fit(pd.DataFrame(X_train, columns=cols))
    assert list(frame.feature_names_in_) == cols
    # a DataFrame arrives column-major: sums may round differently in the last bits
    assert_allclose(frame.decision_function(pd.DataFrame(X_test, columns=cols)), want, rtol=1e-9, atol=1e-12)


# --- pyod's outputs, against pyod's BaseDetector on the same scores ---------------------------------

def test_probability_confidence_and_rejection_match_pyod():
    from pyod.models.base import BaseDetector

    from adkit.detectors import outputs

    class Fixed(BaseDetector):
        """A pyod detector whose score is the first column: pyod's own code on given scores."""

        def __init__(self, contamination=0.1):
            super().__init__(contamination=contamination)

        def fit(self, X, y=None):
            self._set_n_classes(y)
            self.decision_scores_ = X[:, 0]
            self._process_decision_scores()
            return self

        def decision_function(self, X):
            return X[:, 0]

    rng = np.random.default_rng(3)
    train, test = rng.normal(size=(500, 1)), rng.normal(scale=1.5, size=(300, 1))
    ref = Fixed(contamination=0.1).fit(train)
    for method in ("linear", "unify"):
        assert_allclose(outputs.probability(train[:, 0], test[:, 0], method), ref.predict_proba(test, method=method))
    predicted = (test[:, 0] > ref.threshold_).astype(int)
    assert_allclose(outputs.confidence(train[:, 0], test[:, 0], 0.1, predicted), ref.predict_confidence(test))
    conf = outputs.outlier_confidence(train[:, 0], test[:, 0], 0.1)
    for T in (2, 32):
        with pytest.warns(UserWarning, match="cost of rejection"):  # pyod warns at its own default c_r
            assert_equal(outputs.reject(conf, predicted, T), ref.predict_with_rejection(test, T=T))
    for args in ((32, 0.1, 1, 1, 0.1), (4, 0.05, 2, 1, 0.3)):
        assert_allclose(outputs.rejection_stats(500, 0.1, *args), ref.compute_rejection_stats(*args), rtol=1e-9)


# --- the scikit-learn workflow ------------------------------------------------------------------------

def test_pipeline_cross_validation_and_grid_search_with_labels(pyod_sample):
    from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from adkit.detectors import IForest

    X, y = np.r_[pyod_sample[0], pyod_sample[1]], np.r_[pyod_sample[2], pyod_sample[3]]
    folds = StratifiedKFold(3, shuffle=True, random_state=0)  # generate_data puts the outliers last
    pipe = make_pipeline(StandardScaler(), IForest(n_estimators=50)).fit(X, y)  # y is ignored, as scikit-learn's
    assert roc_auc_score(y, pipe.decision_function(X)) > 0.9
    aucs = cross_val_score(IForest(n_estimators=50), X, y, scoring="roc_auc", cv=folds)
    assert aucs.shape == (3,) and aucs.min() > 0.9
    grid = GridSearchCV(IForest(), {"contamination": [0.02, 0.1, 0.3], "n_estimators": [20, 100]},
                        scoring="f1", cv=folds).fit(X, y)
    assert grid.best_params_["contamination"] == 0.1  # the true share of outliers
    assert isinstance(IForest().fit(X).score(X), float)


def test_condition_is_a_keyword_with_a_deprecation_path():
    from adkit.detectors import CVAE

    rng = np.random.default_rng(0)
    X, C = rng.normal(size=(300, 4)).astype(np.float32), rng.normal(size=(300, 1)).astype(np.float32)
    new = CVAE(epochs=2).fit(X, condition=C)
    with pytest.warns(FutureWarning, match="condition, y"):
        old = CVAE(epochs=2).fit(X, C, None)  # adkit 0.1's order: fit(X, condition, y)
    assert_equal(old.decision_function(X, C), new.decision_function(X, C))
    with pytest.warns(FutureWarning, match="Taken as the condition"):
        also_old = CVAE(epochs=2).fit(X, C)  # adkit 0.1's fit(X, condition)
    assert_equal(also_old.decision_function(X, C), new.decision_function(X, C))
    labels = (rng.uniform(size=300) < 0.1).astype(int)
    unconditional = CVAE(epochs=2).fit(X, labels)  # scikit-learn's y: labels, ignored
    assert unconditional._n_conditions == 0
    with pytest.warns(FutureWarning, match="predict"):
        assert_equal(new.predict(X, C), new.predict(X, condition=C))
    assert isinstance(new.score(X, condition=C), float)


@pytest.mark.parametrize("name", [n for n in available() if n not in ONE_SAMPLE])
def test_supervised_detectors_clone_pickle_and_save(name, tmp_path):
    """The detectors that need y (a student's teacher scores, NPLM's data/reference labels) clone,
    pickle and save with their whole fit too."""
    import joblib

    import adkit

    cls = get(name)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 8)).astype(np.float32)
    y = (np.arange(300) % 3 == 0).astype(float) if cls.two_sample else np.log1p((X ** 2).sum(1))
    small = {"epochs": 2, "n_channels": 2, "n_centres": 50}
    det = cls(**{k: v for k, v in small.items() if k in cls.param_names()})
    twin = clone(det)
    assert twin.get_params() == det.get_params() and not twin.is_fitted
    det.fit(X, y)
    want = det.decision_function(X[:50])
    joblib.dump(det, tmp_path / "d.joblib")
    for back in (pickle.loads(pickle.dumps(det)), joblib.load(tmp_path / "d.joblib"),
                 adkit.load(adkit.save(det, tmp_path / "d.adkit"))):
        assert_equal(back.decision_function(X[:50]), want)
        assert back.threshold_ == det.threshold_ and back.get_params() == det.get_params()


def test_model_files_from_files_keep_thresholds_not_training_scores(tmp_path):
    """``adkit.save`` keeps the whole fit; a model trained on files (no ``arrays`` provenance) keeps
    the threshold but not a score per training event, and says so when one is needed."""
    from adkit.artifact import Model
    from adkit.detectors import IForest
    from adkit.detectors.base import FITTED_TENSOR
    from adkit.errors import NotFittedError
    from adkit.features.preprocess import Standardizer
    from adkit.io import InputSpec

    X = np.random.default_rng(0).normal(size=(500, 3))
    det = IForest(n_estimators=20).fit(X)
    scaler = Standardizer()
    scaler.mean_, scaler.scale_ = np.zeros(3, np.float32), np.ones(3, np.float32)
    model = Model(det, InputSpec(table_columns=["a", "b", "c"]), scaler, None, [], {"events": 500}, {})
    assert f"detector.{FITTED_TENSOR}" not in model.tensors()
    back = Model.load(model.save(tmp_path / "files.adkit")).detector
    assert back.threshold_ == det.threshold_ and getattr(back, "decision_scores_", None) is None
    assert_equal(back.predict(X), det.predict(X))
    with pytest.raises(NotFittedError, match="without its training scores"):
        back.predict_proba(X)


def test_every_parameter_of_every_detector_has_a_rule():
    """fit checks every hyper-parameter against its class's rules (Detector.rules()): none is left unchecked,
    every text parameter is one of stated choices, and a value outside them is refused in one line at fit."""
    missing = {n: [p for p in get(n).param_names() if p not in get(n).rules()] for n in available()}
    assert not {n: m for n, m in missing.items() if m}
    free_text = {n: [p for p in get(n).param_names() if get(n).rules()[p].kind == "str"] for n in available()}
    assert not {n: m for n, m in free_text.items() if m}
    X = np.random.default_rng(0).normal(size=(40, 4))
    for name, param in [("svc", "kernel"), ("svc", "anomalies"), ("mps", "basis"), ("qsvm", "feature_map"),
                        ("qsvm", "method"), ("vae", "score"), ("alad", "score"), ("qkmeans", "score")]:
        det = get(name)().set_params(**{param: "nonsense"})  # set_params never checks (scikit-learn's rule)
        with pytest.raises(ConfigError, match=f"{param}='nonsense': expected one of"):
            det.fit(X)
