"""Quantum k-medians (Belis, Woźniak et al.): as ``qkmeans``, with geometric-median centroids.

The median of a cluster is found by Weiszfeld's iteration, whose weights are the inverse
quantum distance estimates of the members to the current median; medians are less pulled by
the tails of the background than means.
"""
from __future__ import annotations

import numpy as np

from adkit.detectors.qkmeans import QuantumKMeans


class QuantumKMedians(QuantumKMeans):
    """k-medians with quantum distance estimates (latent spaces); score = sum of (or nearest) centroid distances."""

    name = "qkmedians"

    def update(self, members: np.ndarray, old: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        m = np.median(members, axis=0)
        for _ in range(50):
            d = np.maximum(self.distances(members, m[None, :], rng)[:, 0], 1e-9)
            new = (members / d[:, None]).sum(axis=0) / (1.0 / d).sum()
            if np.abs(new - m).max() < 1e-7:
                return new
            m = new
        return m
