"""Distances between a reference sample and a generated one (Kansal et al., "Evaluating generative
models in high energy physics", Phys. Rev. D 107 (2023) 076017).

Features are first divided by the largest |value| of each feature in the reference, as jetnet does.

- **FPD**, the Fréchet physics distance: the Fréchet distance between Gaussians with the two
  samples' means and covariances, ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^½). It is biased upwards
  by ∝ 1/N at batch size N, so it is measured on ``batches`` batches (drawn with replacement)
  at ``points`` sizes evenly spaced in 1/N between ``min_size`` and ``max_size``, and the mean
  per size is fitted by FPD(N) = FPD∞ + b/N (both ≥ 0): FPD∞ and its standard error.
- **KPD**, the kernel physics distance: the unbiased estimator of the squared maximum mean
  discrepancy with the polynomial kernel k(x, y) = (x·y/d + 1)⁴, on ``batches`` batches of
  ``size`` events; the median, and half the 16–84 % inter-quantile range as its error.
- **W1** per feature: the Wasserstein-1 distance between the two samples' distributions of that
  feature (in the feature's units), the mean and standard deviation over ``batches`` batches.

Defaults are the paper's (and jetnet 0.2.5's): FPD 20,000–50,000 events, 10 sizes × 20 batches;
KPD 10 batches of 5,000. Smaller samples get smaller batches and a note.
"""
from __future__ import annotations

import numpy as np

from adkit.errors import InputError

FPD_SIZES, FPD_POINTS, FPD_BATCHES = (20_000, 50_000), 10, 20
KPD_SIZE, KPD_BATCHES = 5_000, 10
W1_BATCHES = 5


def scale(reference: np.ndarray, sample: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Both samples divided by the reference's largest |value| per feature (1 for an all-zero feature)."""
    m = np.abs(reference).max(axis=0)
    m = np.where(m == 0, 1.0, m)
    return reference / m, sample / m, m


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray) -> float:
    """‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^½), the square root by the eigenvalues of Σ₁^½ Σ₂ Σ₁^½
    (symmetric, so real and ≥ 0 up to rounding: Tr (Σ₁Σ₂)^½ = Σ √λ)."""
    cov1, cov2 = np.atleast_2d(cov1), np.atleast_2d(cov2)
    w, V = np.linalg.eigh(cov1)
    root1 = (V * np.sqrt(np.clip(w, 0, None))) @ V.T
    lam = np.linalg.eigvalsh(root1 @ cov2 @ root1)
    diff = np.atleast_1d(mu1) - np.atleast_1d(mu2)
    return float(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2.0 * np.sqrt(np.clip(lam, 0, None)).sum())


def mmd2_poly(X: np.ndarray, Y: np.ndarray, degree: int = 4) -> float:
    """Unbiased MMD² with k(x, y) = (x·y/d + 1)^degree: the mean of k over distinct pairs within X and
    within Y, minus twice its mean over X × Y."""
    d = X.shape[1]

    def k(A, B):  # in place: three [n, n] arrays are the whole memory
        K = A @ B.T
        K /= d
        K += 1.0
        if degree == 4:  # two squarings: several times faster than a general power
            np.square(K, out=K)
            return np.square(K, out=K)
        return np.power(K, degree, out=K)

    kxx, kyy, kxy = k(X, X), k(Y, Y), k(X, Y)
    m, n = len(X), len(Y)
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
                 - 2.0 * kxy.mean())


def _sizes(n: int, lo: int, hi: int) -> tuple[int, int, str | None]:
    if n >= hi:
        return lo, hi, None
    note = f"{n} events: FPD batches of {max(2, n // 5)}–{n} instead of {lo}–{hi} (the paper's, for ≥ {hi})"
    return max(2, n // 5), n, note


def fpd(reference: np.ndarray, sample: np.ndarray, *, sizes: tuple[int, int] = FPD_SIZES, points: int = FPD_POINTS,
        batches: int = FPD_BATCHES, seed: int = 0) -> dict:
    """FPD∞ and its error, with the per-size means it was extrapolated from (already scaled inputs)."""
    from scipy.optimize import curve_fit

    rng = np.random.default_rng(seed)
    n = np.unique((1.0 / np.linspace(1.0 / sizes[0], 1.0 / sizes[1], points)).astype(np.int64))
    means = []
    for size in n:
        vals = []
        for _ in range(batches):
            a, b = reference[rng.integers(0, len(reference), size)], sample[rng.integers(0, len(sample), size)]
            vals.append(frechet_distance(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False)))
        means.append(float(np.mean(vals)))
    (value, slope), cov = curve_fit(lambda x, c, s: c + s * x, 1.0 / n, means, bounds=([0, 0], [np.inf, np.inf]))
    return {"value": float(value), "error": float(np.sqrt(cov[0, 0])), "sizes": n.tolist(), "means": means,
            "slope": float(slope)}


def kpd(reference: np.ndarray, sample: np.ndarray, *, size: int = KPD_SIZE, batches: int = KPD_BATCHES,
        seed: int = 0) -> dict:
    """KPD: the median of the batch MMD² values and half their 16–84 % range (already scaled inputs)."""
    rng = np.random.default_rng(seed + 1)
    size = min(size, len(reference), len(sample))
    vals = np.array([mmd2_poly(reference[rng.integers(0, len(reference), size)],
                               sample[rng.integers(0, len(sample), size)]) for _ in range(batches)])
    lo, hi = np.percentile(vals, [16.275, 83.725])
    return {"value": float(np.median(vals)), "error": float((hi - lo) / 2), "batch_size": int(size),
            "batches": vals.tolist()}


def w1(reference: np.ndarray, sample: np.ndarray, *, batches: int = W1_BATCHES, size: int = 50_000,
       seed: int = 0) -> dict:
    """Per feature: the mean and standard deviation of W1 over batches (unscaled inputs: the feature's units)."""
    from scipy.stats import wasserstein_distance

    rng = np.random.default_rng(seed + 2)
    size = min(size, len(reference), len(sample))
    vals = np.empty((batches, reference.shape[1]))
    for i in range(batches):
        a, b = reference[rng.integers(0, len(reference), size)], sample[rng.integers(0, len(sample), size)]
        vals[i] = [wasserstein_distance(a[:, j], b[:, j]) for j in range(reference.shape[1])]
    return {"value": vals.mean(0).tolist(), "error": vals.std(0, ddof=1).tolist() if batches > 1 else None,
            "batch_size": int(size)}


def compare(reference: np.ndarray, sample: np.ndarray, seed: int = 0) -> dict:
    """FPD, KPD and per-feature W1 of ``sample`` against ``reference`` ([events, features] each)."""
    reference = np.asarray(reference, dtype=np.float64)
    sample = np.asarray(sample, dtype=np.float64)
    if reference.ndim != 2 or sample.ndim != 2 or reference.shape[1] != sample.shape[1]:
        raise InputError(f"the two samples must have the same features, got shapes {reference.shape} and "
                         f"{sample.shape}")
    if min(len(reference), len(sample)) < 10:
        raise InputError(f"too few events to compare ({len(reference)} and {len(sample)}; at least 10 each)")
    R, S, maxes = scale(reference, sample)
    lo, hi, note = _sizes(min(len(R), len(S)), *FPD_SIZES)
    return {"fpd": fpd(R, S, sizes=(lo, hi), seed=seed), "kpd": kpd(R, S, seed=seed),
            "w1": w1(reference, sample, seed=seed), "scale": maxes.tolist(),
            "notes": [note] if note else [], "n_reference": int(len(R)), "n_sample": int(len(S))}
