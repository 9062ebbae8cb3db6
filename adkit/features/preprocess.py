"""Fitted preprocessing: per-feature standardisation, stored with the model."""
from __future__ import annotations

import numpy as np

from adkit.errors import NotFittedError


class Standardizer:
    """x → (x - mean) / scale, with scale 1 for constant features (e.g. MET eta)."""

    def __init__(self) -> None:
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None
        self._inv: np.ndarray | None = None

    def fit(self, X: np.ndarray, weight: np.ndarray | None = None) -> Standardizer:
        X = np.asarray(X, dtype=np.float64)
        w = None if weight is None else np.asarray(weight, dtype=np.float64)
        mean = np.average(X, axis=0, weights=w)
        var = np.average((X - mean) ** 2, axis=0, weights=w)
        scale = np.sqrt(var)
        scale[scale < 1e-8] = 1.0
        self.mean_, self.scale_, self._inv = mean.astype(np.float32), scale.astype(np.float32), None
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        if self.mean_ is None:
            raise NotFittedError("Standardizer is not fitted")
        if self._inv is None:
            self._inv = (1.0 / self.scale_).astype(np.float32)
        out = np.subtract(np.asarray(X, dtype=np.float32), self.mean_, dtype=np.float32)
        out *= self._inv  # in place, by the inverse: one allocation, no division on the hot path
        return out

    def state(self) -> dict[str, np.ndarray]:
        return {"mean": self.mean_, "scale": self.scale_}

    @classmethod
    def from_state(cls, tensors: dict[str, np.ndarray]) -> Standardizer:
        s = cls()
        s.mean_, s.scale_ = tensors["mean"].astype(np.float32), tensors["scale"].astype(np.float32)
        return s
