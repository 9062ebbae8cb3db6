"""adkit as a library: scikit-learn/pyod conventions for every detector that takes plain arrays,
adkit.save/load, and docs/api.md run as written."""
from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import ROOT

from adkit.detectors import available, get

ARRAY_DETECTORS = [n for n in available() if not (get(n).uses_condition or get(n).uses_target)]
FAST = {"epochs": 1, "n_train": 200, "n_estimators": 10, "n_landmarks": 50}


def _params(name: str) -> dict:
    return {k: v for k, v in FAST.items() if k in get(name).param_names()}


@pytest.mark.parametrize("name", ARRAY_DETECTORS)
def test_clone_pipeline_and_pyod_attributes(name, tmp_path):
    from sklearn.base import clone
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import adkit

    X = np.random.default_rng(0).normal(size=(400, 6)).astype(np.float32)
    det = get(name)(**_params(name))
    twin = clone(det)
    assert type(twin) is type(det) and twin.get_params(deep=True) == det.get_params() and not twin.is_fitted
    pipe = make_pipeline(StandardScaler(), twin).fit(X)
    s = pipe.decision_function(X[:20])
    assert s.shape == (20,) and np.isfinite(s).all()
    assert twin.decision_scores_.shape == (400,) and twin.n_features_in_ == 6
    assert abs(twin.labels_.mean() - 0.1) < 0.05 and set(np.unique(pipe.predict(X))) <= {0, 1}
    twin.set_threshold(rate_khz=4000)  # 4 MHz of 40 MHz: a tenth
    assert abs(twin.labels_.mean() - 0.1) < 0.05
    path = adkit.save(twin, tmp_path / "d.adkit")
    back = adkit.load(path)
    Xs = StandardScaler().fit(X).transform(X[:20]).astype(np.float32)
    np.testing.assert_allclose(back.decision_function(Xs), twin.decision_function(Xs), rtol=1e-6, atol=1e-9)


def test_set_params_validates_and_classes_are_importable():
    from adkit.detectors import AE, CVAE, DenseAutoencoder, IsolationForest
    from adkit.errors import ConfigError

    assert AE is DenseAutoencoder and CVAE.name == "cvae" and IsolationForest.name == "iforest"
    det = AE().set_params(latent_dim=4, epochs=2)
    assert det.latent_dim == 4 and det.get_params()["epochs"] == 2
    with pytest.raises(ConfigError, match="no parameter"):
        AE().set_params(nonsense=1)
    bad = AE().set_params(latent_dim=0)  # scikit-learn's convention: values are checked by fit
    with pytest.raises(ConfigError, match="latent_dim"):
        bad.fit(np.zeros((10, 3)))


def test_docs_api_page_runs_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "api.md").read_text(), re.S)
    assert len(blocks) >= 4
    scope: dict = {}
    for code in blocks:
        exec(compile(code, "docs/api.md", "exec"), scope)  # noqa: S102 (our own documentation)
    assert (tmp_path / "ae_arrays.adkit").exists()


def test_summary_tables_in_the_docs_quote_the_generated_pages():
    """The short AUC tables typed into detectors.md and latent.md hold only numbers that appear in
    the pages the benchmark scripts wrote (ae-default.md, physics-table.md)."""
    docs = ROOT / "docs"
    for page, heading, source in (("detectors.md", "| AUC, seeds 0 / 1 / 2", "ae-default.md"),
                                  ("latent.md", "| AUC | A→4l", "physics-table.md")):
        text = (docs / page).read_text()
        table = text[text.index(heading):].split("\n\n")[0]
        quoted = re.findall(r"\d\.\d{3}", table)
        assert len(quoted) >= 12
        generated = (docs / source).read_text()
        missing = [q for q in quoted if q not in generated]
        assert not missing, f"{page}: {missing} are not in {source}"


def test_saved_array_detector_keeps_its_training_range(tmp_path):
    """adkit.save stores what the detector was fitted on, so `adkit score` can warn on inputs far outside it."""
    import numpy as np

    import adkit
    from adkit.artifact import Model
    from adkit.detectors import IForest

    X = np.random.default_rng(0).normal(size=(500, 3)).astype(np.float32)
    det = IForest().fit(X)
    adkit.save(det, tmp_path / "f.adkit")
    ranges = Model.load(tmp_path / "f.adkit").ranges
    np.testing.assert_allclose(ranges["max"], X.max(axis=0), rtol=1e-6)
    assert ranges["events"] == 500
