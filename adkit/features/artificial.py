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

:func:`extra_objects` works on collision events instead of feature vectors: background events
with more leptons or jets than the background has, copied from other events; :func:`bursts` adds
transients to the windows of a series.
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


def extra_objects(objects: np.ndarray, schema, n: int, *, seed: int = 0) -> np.ndarray:
    """``n`` background events with objects added: each picks one object type (not MET) and fills
    between one and all of its empty slots with objects of that type copied from other events,
    then re-orders that type by pT. The result looks like collisions with more leptons or jets
    than the background ever has, the region where a signal such as A→4ℓ lies and where a
    network trained on background alone has never had its weights constrained.

    ``objects``: [events, rows, 3] (pT, eta, phi) in ``schema``'s row order, zero-padded."""
    o = np.asarray(objects, dtype=np.float64)[:, :, :3]
    if len(o) == 0:
        raise ConfigError("extra objects need a non-empty background")
    rng = np.random.default_rng(seed)
    out = o[rng.integers(0, len(o), n)].copy()
    kinds = []
    for k in schema.objects:
        pool = o[:, schema.rows(k)].reshape(-1, 3) if k != "met" else np.empty((0, 3))
        pool = pool[pool[:, 0] > 0]
        if len(pool):
            kinds.append((schema.rows(k), pool))
    if not kinds:
        raise ConfigError("extra objects: the background has no object besides MET to copy")
    kind = rng.integers(0, len(kinds), n)
    for i, (rows, pool) in enumerate(kinds):
        sel = np.flatnonzero(kind == i)
        block = out[sel, rows]  # [m, slots, 3]
        empty = block[:, :, 0] <= 0
        free = empty.sum(axis=1)
        add = np.where(free > 0, rng.integers(1, np.maximum(free, 1) + 1), 0)
        # the first `add` empty slots of each event get a copied object
        rank = np.cumsum(empty, axis=1)
        fill = empty & (rank <= add[:, None])
        block[fill] = pool[rng.integers(0, len(pool), int(fill.sum()))]
        order = np.argsort(-block[:, :, 0], axis=1, kind="stable")
        out[sel, rows] = np.take_along_axis(block, order[:, :, None], axis=1)
    return out


def bursts(windows: np.ndarray, n: int, channels: int, *, seed: int = 0) -> np.ndarray:
    """``n`` windows of a series with a transient added: background windows (time-major, ``channels``
    values per step) plus a sine-Gaussian burst, the generic short transient of sensor data, on a
    random subset of the channels (at least one). Its centre is anywhere in the window, its width
    2 samples to a quarter of the window, its frequency 0.005–0.3 cycles per sample, its amplitude
    0.3–8 times each channel's standard deviation (log-uniform): from hidden in the noise to loud,
    so that a student learns the teacher's score across the whole range, not only on quiet data."""
    W = np.asarray(windows, dtype=np.float64)
    steps = W.shape[1] // channels
    rng = np.random.default_rng(seed)
    out = W[rng.integers(0, len(W), n)].reshape(n, steps, channels)
    std = W.reshape(len(W), steps, channels).std(axis=(0, 1))
    k = np.arange(steps)[None, :]
    centre = rng.uniform(0, steps, (n, 1))
    width = np.exp(rng.uniform(np.log(2), np.log(max(2.0, steps / 4)), (n, 1)))
    freq, phase = rng.uniform(0.005, 0.3, (n, 1)), rng.uniform(0, 2 * np.pi, (n, 1))
    amp = np.exp(rng.uniform(np.log(0.3), np.log(8), (n, 1)))
    shape = amp * np.exp(-0.5 * ((k - centre) / width) ** 2) * np.sin(2 * np.pi * freq * (k - centre) + phase)
    on = rng.uniform(size=(n, channels)) < 0.7
    on[~on.any(1), 0] = True
    return (out + shape[:, :, None] * std[None, None, :] * on[:, None, :]).reshape(n, -1)
