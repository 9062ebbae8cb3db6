"""The normalizing-flow detector: its score is a negative log-density, checked against a density
known in closed form, and its size is refused before anything is built."""
from __future__ import annotations

import numpy as np
import pytest

from adkit.detectors import get
from adkit.errors import ConfigError


def test_score_is_the_negative_log_density_of_a_known_gaussian():
    """Trained on a correlated 2-D Gaussian (no dequantisation noise), −log p(x) must follow the
    Gaussian's own −log N(x; μ, Σ), written out here, over the bulk of fresh events."""
    rng = np.random.default_rng(0)
    mu, cov = np.array([1.0, -2.0]), np.array([[1.0, 0.8], [0.8, 2.0]])
    X = rng.multivariate_normal(mu, cov, 20_000).astype(np.float32)
    test = rng.multivariate_normal(mu, cov, 2_000)
    det = get("flow")(transforms=2, hidden=(32, 32), noise=0.0, epochs=40, seed=0, standardize=False).fit(X)
    d = test - mu
    exact = 0.5 * np.einsum("ij,jk,ik->i", d, np.linalg.inv(cov), d) + 0.5 * np.log((2 * np.pi) ** 2 * np.linalg.det(cov))
    got = det.decision_function(test.astype(np.float32))
    assert np.corrcoef(got, exact)[0, 1] > 0.99
    assert abs(np.median(got - exact)) < 0.05  # nats: a density, not only an ordering


def test_dequantisation_keeps_point_masses_finite_and_unseen_values_far():
    """A feature that is always 0 in training (an empty slot) gives finite scores; an event with it
    filled scores above every training event."""
    rng = np.random.default_rng(1)
    X = np.c_[rng.normal(size=(4000, 3)), np.zeros(4000)].astype(np.float32)
    det = get("flow")(epochs=5, seed=0, standardize=False).fit(X)
    train = det.decision_function(X)
    odd = det.decision_function(np.array([[0.0, 0.0, 0.0, 1.0]], np.float32))
    assert np.isfinite(train).all() and odd[0] > train.max()


def test_size_is_refused_before_building(monkeypatch):
    from adkit.validation import LIMITS

    monkeypatch.setitem(LIMITS, "network_bytes", 10_000)
    with pytest.raises(ConfigError, match="flow: this flow has .* weights"):
        get("flow")(epochs=1).fit(np.zeros((50, 57), np.float32))
