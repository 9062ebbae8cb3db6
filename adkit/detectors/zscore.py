"""Rolling z-score: the simplest time-series baseline.

A window's score is how far its last sample lies from the mean of the window's earlier samples,
in units of their standard deviation, the largest over channels. With ``--stride 1`` every
sample is the last of exactly one window, and the per-sample score (the maximum over covering
windows) is then the textbook rolling z-score with a trailing window of ``window − 1`` samples.
Nothing is learned; the model file holds only the window shape.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from adkit.detectors.base import Detector, TrainOptions
from adkit.errors import ConfigError


class RollingZScore(Detector):
    """Rolling z-score of each window's last sample against the samples before it."""

    name = "zscore"
    tags = replace(Detector.tags, sequence=True, shape_only=True)
    series_stride = "one"

    def __init__(self, n_channels: int | None = None, contamination: float = 0.1) -> None:
        self.n_channels = n_channels
        self.contamination = contamination

    def fit(self, X: np.ndarray, y: np.ndarray | None = None, *, condition: np.ndarray | None = None,
            options: TrainOptions | None = None) -> RollingZScore:
        self.check_condition(X, condition)
        X = np.asarray(X)
        c = int(self.n_channels or 1)
        if X.ndim != 2 or X.shape[1] % c or X.shape[1] // c < 3:
            raise ConfigError(f"{self.name}: needs windows of at least 3 samples × {c} channel(s), got n_features = "
                              f"{X.shape[1] if X.ndim == 2 else X.shape}")
        self.n_features_ = int(X.shape[1])
        return self

    def _score(self, X: np.ndarray, condition: np.ndarray | None = None) -> np.ndarray:
        self._check_fitted()
        self.check_condition(X, condition)
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features_:
            raise ConfigError(f"{self.name}: expects {self.n_features_} features per window, got shape {X.shape}")
        c = int(self.n_channels or 1)
        w = X.reshape(len(X), -1, c)
        past, last = w[:, :-1], w[:, -1]
        mu, sd = past.mean(axis=1), past.std(axis=1, ddof=1)
        z = np.abs(last - mu) / np.maximum(sd, 1e-12 * np.maximum(1.0, np.abs(mu)))
        return z.max(axis=1)

    def _tensors(self) -> tuple[dict, dict[str, np.ndarray]]:
        return {"n_features": self.n_features_}, {}

    def _load_tensors(self, config: dict, tensors: dict[str, np.ndarray]) -> None:
        self.n_features_ = int(config["n_features"])
