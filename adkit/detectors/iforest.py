"""Isolation forest baseline (scikit-learn) on a stated training subsample.

Model files hold arrays and JSON only, never pickled scikit-learn objects. A forest is fully
determined by its training events and its seed, so the model file stores the ``n_train``
(default 10,000) events the forest was grown on, as float32, and loading grows the identical
forest again (a fraction of a second). Score = −``score_samples`` (higher = more anomalous).
"""
from __future__ import annotations

import numpy as np

from adkit.detectors.base import Detector, TrainOptions
from adkit.detectors.kernel_base import subsample
from adkit.errors import ConfigError


class IsolationForest(Detector):
    """scikit-learn IsolationForest; score = −score_samples."""

    name = "iforest"

    def __init__(self, n_estimators: int = 200, max_samples: int = 256, n_train: int = 10000, seed: int = 0,
                 contamination: float = 0.1) -> None:
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.n_train = n_train
        self.seed = seed
        self.contamination = contamination

    def _grow(self) -> None:
        from sklearn.ensemble import IsolationForest as SkIF

        self._forest = SkIF(n_estimators=self.n_estimators, max_samples=min(self.max_samples, len(self.train_)),
                            random_state=self.seed, n_jobs=1).fit(self.train_)

    def fit(self, X: np.ndarray, y: np.ndarray | None = None, *, condition: np.ndarray | None = None,
            options: TrainOptions | None = None) -> IsolationForest:
        self.check_condition(X, condition)
        self.train_ = subsample(X, self.n_train, self.seed).astype(np.float32)
        self._grow()
        return self

    def _score(self, X: np.ndarray, condition: np.ndarray | None = None) -> np.ndarray:
        self._check_fitted()
        self.check_condition(X, condition)
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != self.train_.shape[1]:
            raise ConfigError(f"{self.name}: expects {self.train_.shape[1]} features per event, got shape {X.shape}")
        return -self._forest.score_samples(X).astype(np.float64)

    def _tensors(self) -> tuple[dict, dict[str, np.ndarray]]:
        return {}, {"train": self.train_}

    def _load_tensors(self, config: dict, tensors: dict[str, np.ndarray]) -> None:
        self.train_ = np.ascontiguousarray(tensors["train"], dtype=np.float32)
        self._grow()
