"""Quantum k-means on a latent space (Belis, Woźniak et al.): distances from an interference circuit.

Lloyd's algorithm with k centroids (k = 2 by default), where every event-to-centroid distance
is the estimate of :mod:`adkit.quantum.distance`: amplitude encoding and destructive
interference, exact or from ``shots`` measurements. Centroids are the cluster means
(``qkmedians`` uses medians). Score: the sum of the distances to all centroids (the paper's
choice, ``score="sum"``) or the distance to the nearest one (``"min"``). Train it on an
autoencoder's latent space: ``adkit train --detector qkmeans --encoder ae.adkit``.
"""
from __future__ import annotations

import numpy as np

from adkit.detectors.base import Detector, Tags, TrainOptions
from adkit.detectors.kernel_base import subsample
from adkit.errors import ConfigError

BLOCK = 65536


class QuantumKMeans(Detector):
    """k-means with quantum distance estimates (latent spaces); score = sum of (or nearest) centroid distances."""

    name = "qkmeans"
    score_kinds = ("sum", "min")
    tags = Tags(latent=True)
    components = ("min", "sum")

    def __init__(self, k: int = 2, score: str = "sum", shots: int | None = None, n_train: int = 10000,
                 max_iter: int = 100, tol: float = 1e-6, seed: int = 0,
                 contamination: float = 0.1) -> None:
        self.k = k
        self.score_kind = score
        self.shots = shots
        self.n_train = n_train
        self.max_iter = max_iter
        self.tol = tol
        self.seed = seed
        self.contamination = contamination

    def distances(self, X: np.ndarray, C: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        from adkit.quantum.distance import distances

        return distances(X, C, self.shots, rng)

    def update(self, members: np.ndarray, old: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The new centroid of one cluster: its mean (k-medians overrides this)."""
        return members.mean(axis=0)

    def fit(self, X: np.ndarray, y: np.ndarray | None = None, *, condition: np.ndarray | None = None,
            options: TrainOptions | None = None) -> QuantumKMeans:
        self.check_condition(X, condition)
        self.check_score_kind()
        if not isinstance(self.k, int) or self.k < 1:
            raise ConfigError(f"{self.name}: k must be a positive integer, got {self.k!r}")
        Xt = subsample(X, self.n_train, self.seed)
        rng = np.random.default_rng(self.seed)
        C = Xt[rng.choice(len(Xt), self.k, replace=False)].copy()
        labels = np.full(len(Xt), -1)
        for n_iter in range(1, self.max_iter + 1):
            self.n_iter_ = n_iter
            new_labels = np.argmin(self.distances(Xt, C, rng), axis=1)
            changed = np.mean(new_labels != labels)
            labels = new_labels
            new = np.array([self.update(Xt[labels == j], C[j], rng) if np.any(labels == j) else C[j]
                            for j in range(self.k)])
            shift = np.abs(new - C).max()
            C = new
            # with shots the assignments of boundary events flicker: stop when almost none change
            if shift <= self.tol or changed < 1e-3:
                break
        self.centroids_ = C
        return self

    def _score_components(self, X: np.ndarray, condition: np.ndarray | None = None) -> dict[str, np.ndarray]:
        self._check_fitted()
        self.check_condition(X, condition)
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.centroids_.shape[1]:
            raise ConfigError(f"{self.name}: expects {self.centroids_.shape[1]} features per event, got shape {X.shape}")
        rng = np.random.default_rng(self.seed + 1)
        d = np.concatenate([self.distances(X[s:s + BLOCK], self.centroids_, rng) for s in range(0, len(X), BLOCK)]) \
            if len(X) else np.zeros((0, self.k))
        comps = {"min": d.min(axis=1) if len(d) else np.zeros(0), "sum": d.sum(axis=1)}
        return {"score": comps[self.score_kind], **comps}

    def _score(self, X: np.ndarray, condition: np.ndarray | None = None) -> np.ndarray:
        return self._score_components(X, condition)["score"]

    def _tensors(self) -> tuple[dict, dict[str, np.ndarray]]:
        return {}, {"centroids": self.centroids_}

    def _load_tensors(self, config: dict, tensors: dict[str, np.ndarray]) -> None:
        self.centroids_ = np.asarray(tensors["centroids"], dtype=np.float64)
