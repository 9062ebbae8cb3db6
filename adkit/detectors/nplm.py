"""NPLM kernel model: f(x) = log n(x|data)/n(x|reference), learned with Gaussian kernels.

The kernel version of the New Physics Learning Machine (Letizia et al., "Learning new physics
efficiently with nonparametric methods"): a Nyström model f(x) = Σ_j α_j k(x, c_j) over M
centres c_j drawn from the two samples, trained by weighted logistic regression (data label 1,
weight 1; reference label 0, weight N(0)/N_R) with a penalty λ·n·αᵀK_MMα. At the optimum f
estimates log n(x|D)/n(x|R) in expected counts, and the test statistic is

    t = -2 [ N(0)/N_R · Σ_ref (e^f − 1) − Σ_data f ].

The fit is Newton's method; each Newton system is solved by conjugate gradients with a
Falkon-style preconditioner (the Nyström approximation of the Hessian, in the eigenbasis of
the centres' kernel matrix).
The N × M kernel is handled in row blocks: cached while it fits ``memory_mb``, recomputed
block by block otherwise, so memory is bounded for any N.

As a detector (``nplm``), ``fit(X, y=labels)`` takes both samples stacked with ``y`` = 1 for
data and 0 for reference; ``score`` is f(x), the per-event log density ratio (higher = more
data-like than the reference predicts). :mod:`adkit.stats.nplm` runs the test around it.
"""
from __future__ import annotations

import numpy as np

from adkit.detectors.base import TrainOptions
from adkit.detectors.kernel_base import rbf_kernel
from adkit.detectors.two_sample import TwoSampleDetector
from adkit.errors import ConfigError

BLOCK = 8192


def gaussian_kernel(A: np.ndarray, B: np.ndarray, sigma: float) -> np.ndarray:
    """exp(-|a - b|² / 2σ²) for every pair of rows (float64): adkit's one Gaussian kernel, in σ."""
    return rbf_kernel(A, B, 0.5 / (sigma * sigma))


def default_sigma(X: np.ndarray, seed: int = 0, n: int = 2000, quantile: float = 0.9) -> float:
    """The 90th percentile of pairwise distances within (a subsample of) the reference."""
    rng = np.random.default_rng(seed)
    S = X[rng.choice(len(X), min(n, len(X)), replace=False)] if len(X) > n else X
    d2 = (S * S).sum(1)[:, None] + (S * S).sum(1)[None, :] - 2.0 * (S @ S.T)
    iu = np.triu_indices(len(S), 1)
    return float(np.sqrt(np.quantile(np.maximum(d2[iu], 0.0), quantile)))


def default_centres(n: int, cap: int = 3000) -> int:
    """M ≈ √N, at least 50 and at most ``cap``."""
    return int(min(max(round(np.sqrt(n)), 50), cap, n))


class _KernelRows:
    """K(X, centres) in row blocks: cached when it fits the memory budget, recomputed otherwise."""

    def __init__(self, X: np.ndarray, centres: np.ndarray, sigma: float, memory_mb: float) -> None:
        self.X, self.C, self.sigma = X, centres, sigma
        self.starts = range(0, len(X), BLOCK)
        cache = len(X) * len(centres) * 8 <= memory_mb * 1e6
        self.cache = [self._block(s) for s in self.starts] if cache else None

    def _block(self, s: int) -> np.ndarray:
        return gaussian_kernel(self.X[s:s + BLOCK], self.C, self.sigma)

    def blocks(self):
        for i, s in enumerate(self.starts):
            yield s, (self.cache[i] if self.cache is not None else self._block(s))

    def matvec(self, v: np.ndarray) -> np.ndarray:
        out = np.empty(len(self.X))
        for s, K in self.blocks():
            out[s:s + len(K)] = K @ v
        return out

    def rmatvec(self, u: np.ndarray) -> np.ndarray:
        out = np.zeros(self.C.shape[0])
        for s, K in self.blocks():
            out += K.T @ u[s:s + len(K)]
        return out


def _softplus(f: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, f)


def _sigmoid(f: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * f))


class KernelNPLM(TwoSampleDetector):
    """NPLM kernel model (Gaussian kernels, Nyström centres); score = learned log density ratio f(x)."""

    name = "nplm"
    def __init__(self, n_centres: int | None = None, sigma: float | None = None, lam: float = 1e-6,
                 n_expected: float | None = None, max_iter: int = 30, tol: float = 1e-7, cg_max_iter: int = 100,
                 memory_mb: float = 2000.0, seed: int = 0, contamination: float = 0.1) -> None:
        self.n_centres = n_centres
        self.sigma = sigma
        self.lam = lam
        self.n_expected = n_expected
        self.max_iter = max_iter
        self.tol = tol
        self.cg_max_iter = cg_max_iter
        self.memory_mb = memory_mb
        self.seed = seed
        self.contamination = contamination

    def fit(self, X: np.ndarray, y: np.ndarray | None = None, *, condition: np.ndarray | None = None,
            options: TrainOptions | None = None, progress: bool = False,
            reference_weight: np.ndarray | None = None) -> KernelNPLM:
        """``reference_weight``: a factor per event, applied to the reference events (the reference
        reweighted to a nuisance hypothesis, :mod:`adkit.stats.nuisance`); data events ignore it."""
        progress = options.progress if options is not None else progress
        self.check_condition(X, condition)
        is_data = self.check_target(X, y)
        X = np.ascontiguousarray(X, dtype=np.float64)
        if self.lam <= 0:
            raise ConfigError(f"{self.name}: lam must be positive, got {self.lam}")
        n_data, n_ref = int(is_data.sum()), int((~is_data).sum())
        n0 = float(self.n_expected) if self.n_expected is not None else float(n_data)
        w = np.where(is_data, 1.0, n0 / n_ref)
        if reference_weight is not None:
            w = w * np.where(is_data, 1.0, np.asarray(reference_weight, dtype=np.float64))
        rng = np.random.default_rng(self.seed)
        m = int(self.n_centres) if self.n_centres else default_centres(len(X))
        if not 1 <= m <= len(X):
            raise ConfigError(f"{self.name}: n_centres must be between 1 and {len(X)}, got {m}")
        centres = X[np.sort(rng.choice(len(X), m, replace=False))]
        sigma = float(self.sigma) if self.sigma else default_sigma(X[~is_data], self.seed)
        alpha, info = newton_pcg(_KernelRows(X, centres, sigma, self.memory_mb), gaussian_kernel(centres, centres, sigma),
                                 is_data.astype(np.float64), w, self.lam, self.max_iter, self.tol, self.cg_max_iter)
        self.centres_, self.alpha_, self.sigma_ = centres, alpha, sigma
        self.info_ = {**info, "n_centres": m, "sigma": sigma, "n_data": n_data, "n_reference": n_ref,
                      "n_expected": n0}
        return self

    def _score(self, X: np.ndarray, condition: np.ndarray | None = None) -> np.ndarray:
        self._check_fitted()
        self.check_condition(X, condition)
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.centres_.shape[1]:
            raise ConfigError(f"{self.name}: expects {self.centres_.shape[1]} features per event, got shape {X.shape}")
        return _KernelRows(X, self.centres_, self.sigma_, 0).matvec(self.alpha_)

    def _tensors(self) -> tuple[dict, dict[str, np.ndarray]]:
        return {"sigma": self.sigma_, "info": self.info_}, {"centres": self.centres_, "alpha": self.alpha_}

    def _load_tensors(self, config: dict, tensors: dict[str, np.ndarray]) -> None:
        self.centres_ = np.asarray(tensors["centres"], dtype=np.float64)
        self.alpha_ = np.asarray(tensors["alpha"], dtype=np.float64)
        self.sigma_ = float(config["sigma"])
        self.info_ = config.get("info")


def newton_pcg(K: _KernelRows, Kmm: np.ndarray, y: np.ndarray, w: np.ndarray, lam: float, max_iter: int,
               tol: float, cg_max_iter: int) -> tuple[np.ndarray, dict]:
    """Minimise Σ w_i [softplus(f_i) − y_i f_i] + λ n αᵀK_MMα with f = K_nM α (Newton + PCG).

    Solved in the eigenbasis of K_MM (Falkon's change of variables): with K_MM = U Λ Uᵀ and
    α = U Λ^(-1/2) β the penalty is λ n |β|², the Hessian Φᵀ D Φ + 2λn I with Φ = K_nM U Λ^(-1/2)
    is bounded below, and its Nyström approximation (Σd / M) Λ + 2λn I is a diagonal
    preconditioner. Directions of K_MM below 1e-10 of its largest eigenvalue carry no
    function and are dropped.
    """
    n, m = len(y), len(Kmm)
    reg = 2.0 * lam * n
    evals, evecs = np.linalg.eigh(Kmm)
    keep = evals > 1e-10 * evals[-1]
    lam_k = evals[keep]
    W = evecs[:, keep] / np.sqrt(lam_k)  # α = W β
    beta = np.zeros(keep.sum())
    f = np.zeros(n)

    def phi(v):
        return K.matvec(W @ v)

    def phi_t(u):
        return W.T @ K.rmatvec(u)

    def objective(f, b):
        return float(w @ (_softplus(f) - y * f) + 0.5 * reg * b @ b)

    obj = objective(f, beta)
    newton = cg_total = 0
    converged = False
    for newton in range(1, max_iter + 1):
        p = _sigmoid(f)
        grad = phi_t(w * (p - y)) + reg * beta
        d = w * p * (1.0 - p)
        precond = 1.0 / ((d.sum() / m) * lam_k + reg)
        gnorm = np.linalg.norm(grad)
        step, iters = _pcg(lambda v: phi_t(d * phi(v)) + reg * v, -grad, lambda r: precond * r,
                           min(0.5, np.sqrt(gnorm)) * gnorm, cg_max_iter)
        cg_total += iters
        decrement = -float(grad @ step)
        if decrement / 2 <= tol * max(1.0, abs(obj)):
            converged = True
            break
        df = phi(step)
        t = 1.0
        while t >= 1e-6:  # backtracking line search (Armijo)
            new = objective(f + t * df, beta + t * step)
            if new <= obj - 0.25 * t * decrement:
                break
            t *= 0.5
        else:
            break  # no descent along this direction: as good as Newton gets
        beta, f, obj = beta + t * step, f + t * df, new
    return W @ beta, {"newton_iterations": newton, "cg_iterations": cg_total, "objective": obj,
                      "converged": converged, "rank": int(keep.sum()), "kernel_cached": K.cache is not None}


def _pcg(matvec, b: np.ndarray, precond, atol: float, max_iter: int) -> tuple[np.ndarray, int]:
    """Preconditioned conjugate gradients for a symmetric positive-definite system."""
    x = np.zeros_like(b)
    r = b.copy()
    z = precond(r)
    p = z.copy()
    rz = r @ z
    it = 0
    for it in range(1, max_iter + 1):
        Ap = matvec(p)
        a = rz / (p @ Ap)
        x += a * p
        r -= a * Ap
        if np.linalg.norm(r) <= atol:
            break
        z = precond(r)
        rz_new = r @ z
        p = z + (rz_new / rz) * p
        rz = rz_new
    return x, it
