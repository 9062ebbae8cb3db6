"""Shared machinery of the kernel detectors (``svc``, ``ocsvm``; the quantum ones build on it).

scikit-learn's libsvm solver does the fitting. A fitted kernel machine is a kernel
expansion, f(x) = Σ_i a_i k(x, s_i) + b over its support vectors s_i; that is what the model
file stores (arrays, no pickle), and scoring evaluates it blockwise so memory stays bounded.
The expansion reproduces scikit-learn's ``decision_function`` (tested).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from adkit.detectors.base import Detector
from adkit.errors import ConfigError
from adkit.validation import block_rows

BLOCK = 8192  # events per kernel block when scoring


def rbf_kernel(A: np.ndarray, B: np.ndarray, gamma: float) -> np.ndarray:
    """The Gaussian kernel exp(-γ |a - b|²) for every pair of rows (float64), the one adkit uses
    (kernel SVMs with γ; NPLM with γ = 1/2σ²)."""
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    d2 = (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2.0 * (A @ B.T)
    np.maximum(d2, 0.0, out=d2)
    d2 *= -gamma
    return np.exp(d2, out=d2)


def resolve_gamma(gamma: float | str, X: np.ndarray) -> float:
    """scikit-learn's ``"scale"`` (1 / (F · var X)) and ``"auto"`` (1 / F) rules, or a number."""
    if gamma == "scale":
        var = float(np.var(X))
        return 1.0 / (X.shape[1] * var) if var > 0 else 1.0
    if gamma == "auto":
        return 1.0 / X.shape[1]
    try:
        g = float(gamma)
    except (TypeError, ValueError):
        raise ConfigError(f"gamma must be 'scale', 'auto' or a positive number, got {gamma!r}") from None
    if g <= 0:
        raise ConfigError(f"gamma must be positive, got {g}")
    return g


def subsample_rows(n_rows: int, n: int, seed: int) -> np.ndarray:
    """The indices :func:`subsample` keeps: all rows, or ``n`` drawn without replacement, sorted."""
    if not isinstance(n, int) or n < 2:
        raise ConfigError(f"n_train must be an integer >= 2, got {n!r}")
    if n_rows <= n:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(seed).choice(n_rows, n, replace=False))


def subsample(X: np.ndarray, n: int, seed: int) -> np.ndarray:
    """At most ``n`` rows of ``X``, drawn without replacement (kernel fits scale as N²)."""
    idx = subsample_rows(len(X), n, seed)
    return np.asarray(X if len(idx) == len(X) else X[idx], dtype=np.float64)


class KernelDetector(Detector):
    """A detector whose score is ``sign · (Σ_i a_i k(x, s_i) + b)``; subclasses fit it."""

    #: +1 when the expansion already grows with anomaly, -1 when it grows with normality.
    sign: float = 1.0

    def kernel_function(self) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """k(A, B) → Gram block; the classical RBF here, quantum kernels in subclasses."""
        return lambda A, B: rbf_kernel(A, B, self.gamma_)

    def _set_expansion(self, support: np.ndarray, coef: np.ndarray, intercept: float) -> None:
        self.support_ = np.ascontiguousarray(support, dtype=np.float64)
        self.coef_ = np.ascontiguousarray(np.ravel(coef), dtype=np.float64)
        self.intercept_ = float(intercept)

    def _score(self, X: np.ndarray, condition: np.ndarray | None = None) -> np.ndarray:
        self._check_fitted()
        self.check_condition(X, condition)
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.support_.shape[1]:
            raise ConfigError(f"{self.name}: expects {self.support_.shape[1]} features per event, got shape {X.shape}")
        k = self.kernel_function()
        out = np.empty(len(X))
        rows = block_rows(len(self.support_), BLOCK)  # many support vectors: fewer events a block
        for s in range(0, len(X), rows):
            out[s:s + rows] = k(X[s:s + rows], self.support_) @ self.coef_
        out += self.intercept_
        out *= self.sign
        return out

    def _tensors(self) -> tuple[dict, dict[str, np.ndarray]]:
        return {"intercept": self.intercept_, "gamma": self.gamma_}, {"support": self.support_, "coef": self.coef_}

    def _load_tensors(self, config: dict, tensors: dict[str, np.ndarray]) -> None:
        self._set_expansion(tensors["support"], tensors["coef"], config["intercept"])
        self.gamma_ = config["gamma"]
