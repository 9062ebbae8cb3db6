"""Registry behaviour and detector specifics (the shared contract is in test_conformance.py)."""
from __future__ import annotations

import numpy as np
import pytest

from adkit.detectors import Detector, available, create, get, register
from adkit.errors import ConfigError

FAST = {"epochs": 3, "batch_size": 256}


def _data(n=3000, seed=0):
    from adkit.datasets import background, generate
    from adkit.features.preprocess import Standardizer

    b = background(n, seed)[0][:, :, :3].reshape(n, -1)
    s = generate("Ato4l", n // 3, seed)[:, :, :3].reshape(n // 3, -1)
    sc = Standardizer().fit(b)
    return sc.transform(b), sc.transform(s)


def _make(name):
    cls = get(name)
    params = {k: v for k, v in FAST.items() if k in cls.param_names()}
    return create(name, **params)


def test_unknown_and_duplicate_names():
    with pytest.raises(ConfigError, match="unknown model 'autoencoder'.*ae"):
        get("autoencoder")
    with pytest.raises(ConfigError, match="already registered"):
        register("ae", "adkit.detectors.ae:DenseAutoencoder")
    with pytest.raises(ConfigError, match="no parameter 'latent'.*latent_dim"):
        create("ae", latent=2)


def test_runtime_registration():
    from adkit.detectors import registry

    with pytest.warns(FutureWarning, match="0.1's protocol"):  # a plug-in written for adkit 0.1 still works
        _check_registration(registry)


def _check_registration(registry):
    class Norm(Detector):
        """Distance from the origin of standardised inputs."""

        name = "norm_test"

        def __init__(self, power: int = 2) -> None:
            self.power = power
            self.n_ = None

        def fit(self, X, condition=None, y=None):
            self.n_ = np.array([X.shape[1]])
            return self

        def score(self, X, condition=None):
            self._check_fitted()
            return (np.abs(X) ** self.power).sum(1).astype(np.float64)

        def _tensors(self):
            return {}, {"n": self.n_}

        def _load_tensors(self, config, tensors):
            self.n_ = tensors["n"]

    register("norm_test", Norm)
    try:
        assert "norm_test" in available()
        det = create("norm_test", power=1).fit(np.ones((3, 2)))
        assert det.decision_function(np.ones((1, 2)))[0] == 2.0
    finally:
        registry._extra.pop("norm_test")


def test_vae_scores():
    X, S = _data(3000)
    det = create("vae", epochs=3, score="reco").fit(X)
    comps = det.score_components(S)
    np.testing.assert_array_equal(comps["score"], comps["reco"])
    np.testing.assert_allclose(comps["total"], comps["reco"] + comps["kl"], rtol=1e-6)
    assert (comps["kl"] >= 0).all()
    with pytest.raises(ConfigError, match="score='elbo': expected one of kl, reco, total, latent"):
        create("vae", score="elbo").fit(X)


def test_ae_architecture():
    import torch

    det = create("ae", epochs=1).fit(_data(1000)[0])
    linears = [m for m in det.module_.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(57, 32), (32, 16), (16, 3), (3, 16), (16, 32), (32, 57)]
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in det.module_.modules()) == 4
    assert det.encode(_data(1000)[0][:5]).shape == (5, 3)


def test_early_stopping_and_resume(tmp_path):
    X, _ = _data(3000)
    full = create("ae", epochs=6, batch_size=256, patience=100).fit(X)
    ckpt = tmp_path / "m.ckpt"
    with pytest.raises(KeyboardInterrupt):
        create("ae", epochs=6, batch_size=256, patience=100).fit(X, checkpoint=ckpt, stop_after_epochs=3)
    assert ckpt.exists()
    resumed = create("ae", epochs=6, batch_size=256, patience=100).fit(X, checkpoint=ckpt, resume=True)
    assert not ckpt.exists()
    assert [h["epoch"] for h in resumed.history_] == [1, 2, 3, 4, 5, 6]
    ta, tb = full.state()[1], resumed.state()[1]
    assert all(np.array_equal(ta[k], tb[k]) for k in ta)  # bit-identical to an uninterrupted run
    # a checkpoint from other settings is refused
    with pytest.raises(KeyboardInterrupt):
        create("ae", epochs=6, batch_size=256).fit(X, checkpoint=ckpt, stop_after_epochs=1)
    with pytest.raises(ConfigError, match="other settings"):
        create("ae", epochs=6, batch_size=128).fit(X, checkpoint=ckpt, resume=True)
    stopped = create("ae", epochs=50, batch_size=256, patience=0, lr=0.05).fit(X)
    assert len(stopped.history_) < 50  # early stopping ended it
