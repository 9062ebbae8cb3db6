"""Matrix-profile discords: the time-series baseline people try first (Yeh, Keogh et al.).

A window's score is its distance to the nearest window of the training series, after
z-normalising each channel of both (``normalize=False``: plain Euclidean). With training
windows at stride 1 and one channel this is the AB-join matrix profile that stumpy computes
(``stumpy.stump(test, m, T_B=train, ignore_trivial=False)``), and the highest score is the
top discord; the tests check adkit against stumpy on the same series. Several channels: the
z-normalised channels side by side, one Euclidean distance. A constant channel z-normalises
to zeros.

The model file keeps the training windows (at most ``n_train``, a seeded subsample when there
are more), as float32.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from adkit.detectors.base import Detector, TrainOptions
from adkit.detectors.kernel_base import subsample, subsample_rows
from adkit.errors import ConfigError

#: Test windows per block of the nearest-neighbour search (memory: block × training windows).
BLOCK = 2048


def znormalize(W: np.ndarray, n_channels: int) -> np.ndarray:
    """Windows [n, T·C] (time-major) with each channel of each window at mean 0 and std 1 (float64)."""
    n, f = W.shape
    x = W.reshape(n, f // n_channels, n_channels).astype(np.float64)
    mu, sd = x.mean(axis=1, keepdims=True), x.std(axis=1, keepdims=True)
    z = np.divide(x - mu, sd, out=np.zeros_like(x), where=sd > 1e-12 * np.maximum(1.0, np.abs(mu)))
    return z.reshape(n, f)


class MatrixProfile(Detector):
    """Matrix-profile discord; score = z-normalised distance to the nearest training window."""

    name = "mp"
    tags = replace(Detector.tags, sequence=True, shape_only=True)
    series_stride = "one"

    def __init__(self, n_channels: int | None = None, normalize: bool = True, n_train: int = 20000,
                 seed: int = 0, contamination: float = 0.1) -> None:
        self.n_channels = n_channels
        self.normalize = normalize
        self.n_train = n_train
        self.seed = seed
        self.contamination = contamination

    def _prepare(self, W: np.ndarray) -> np.ndarray:
        c = int(self.n_channels or 1)
        if W.shape[1] % c:
            raise ConfigError(f"{self.name}: {W.shape[1]} features are not windows of {c} channels")
        return znormalize(W, c) if self.normalize else np.asarray(W, dtype=np.float64)

    def fit(self, X: np.ndarray, y: np.ndarray | None = None, *, condition: np.ndarray | None = None,
            options: TrainOptions | None = None) -> MatrixProfile:
        self.check_condition(X, condition)
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or len(X) < 1:
            raise ConfigError(f"{self.name}: needs training windows [n, window × channels], got shape {X.shape}")
        self.train_ = subsample(X, self.n_train, self.seed).astype(np.float32)
        self._index()
        return self

    def _index(self) -> None:
        """The training windows as the search compares them (normalised once, not per scoring call)."""
        self._train_z = self._prepare(self.train_)
        self._train_sq = (self._train_z ** 2).sum(axis=1)

    def _score(self, X: np.ndarray, condition: np.ndarray | None = None, own: np.ndarray | None = None) -> np.ndarray:
        self._check_fitted()
        self.check_condition(X, condition)
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != self.train_.shape[1]:
            raise ConfigError(f"{self.name}: expects {self.train_.shape[1]} features per window, got shape {X.shape}")
        T, t2 = self._train_z, self._train_sq
        out = np.empty(len(X))
        for i in range(0, len(X), BLOCK):
            Q = self._prepare(X[i:i + BLOCK])
            d2 = (Q ** 2).sum(axis=1)[:, None] + t2[None, :] - 2.0 * (Q @ T.T)
            if own is not None:  # a training window is not its own nearest neighbour
                rows = np.flatnonzero(own[i:i + BLOCK] >= 0)
                d2[rows, own[i:i + BLOCK][rows]] = np.inf
            out[i:i + BLOCK] = np.sqrt(np.maximum(d2.min(axis=1), 0.0))
        return out

    def _training_scores(self, X: np.ndarray, condition: np.ndarray | None = None) -> np.ndarray:
        """Each training window's distance to its nearest *other* training window (the self-join
        matrix profile; scoring a window against itself would give 0 to all and no threshold)."""
        own = np.full(len(X), -1)
        own[subsample_rows(len(X), self.n_train, self.seed)] = np.arange(len(self.train_))
        return self._score(X, condition, own)

    def _tensors(self) -> tuple[dict, dict[str, np.ndarray]]:
        return {}, {"train": self.train_}

    def _load_tensors(self, config: dict, tensors: dict[str, np.ndarray]) -> None:
        self.train_ = np.ascontiguousarray(tensors["train"], dtype=np.float32)
        self._index()
