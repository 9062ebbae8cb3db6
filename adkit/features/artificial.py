"""Artificial anomalies made from background by a random process (Schuhmacher et al.).

A supervised classifier trained to separate background from these learns the boundary of
the background's support without ever seeing a real signal. Each method keeps some of the
background's structure and breaks the rest:

- ``uniform``: uniform in the background's per-feature box, widened by ``margin``; keeps
  only the ranges, fills the empty corners of feature space;
- ``shuffle``: every feature permuted independently across events; keeps each marginal
  distribution exactly, destroys the correlations between features;
- ``smear``: background events plus Gaussian noise of ``smear`` times each feature's standard
  deviation; keeps the correlations, probes the close neighbourhood of the background;
- ``mix`` (default): equal shares of the three.
"""
from __future__ import annotations

import numpy as np

from adkit.errors import ConfigError

METHODS = ("mix", "uniform", "shuffle", "smear")


def artificial_anomalies(X: np.ndarray, n: int, method: str = "mix", *, seed: int = 0,
                         margin: float = 0.1, smear: float = 1.0) -> np.ndarray:
    """``n`` artificial anomalies shaped like ``X`` (float64), reproducible from ``seed``."""
    if method not in METHODS:
        raise ConfigError(f"unknown artificial-anomaly method {method!r}; valid: {', '.join(METHODS)}")
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or len(X) == 0:
        raise ConfigError(f"artificial anomalies need a non-empty [n, F] background, got shape {X.shape}")
    rng = np.random.default_rng(seed)
    if method == "mix":
        sizes = [n // 3 + (i < n % 3) for i in range(3)]
        parts = [artificial_anomalies(X, k, m, seed=seed + 1 + i, margin=margin, smear=smear)
                 for i, (k, m) in enumerate(zip(sizes, METHODS[1:]))]
        out = np.concatenate(parts)
        return out[rng.permutation(len(out))]
    if method == "uniform":
        lo, hi = X.min(axis=0), X.max(axis=0)
        pad = margin * (hi - lo)
        return rng.uniform(lo - pad, hi + pad, size=(n, X.shape[1]))
    rows = rng.integers(0, len(X), size=(n, X.shape[1]) if method == "shuffle" else n)
    if method == "shuffle":
        return np.take_along_axis(X, rows, axis=0)
    return X[rows] + rng.normal(size=(n, X.shape[1])) * (smear * X.std(axis=0))
