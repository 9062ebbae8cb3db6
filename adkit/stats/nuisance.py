"""Systematic uncertainties in the NPLM test: nuisance parameters, profiled.

After d'Agnolo, Grosso, Pierini, Wulzer and Zanetti, "Learning new physics from an imperfect
machine" (Eur. Phys. J. C 82 (2022) 275). The reference is known up to nuisance parameters ν,
each in units of its standard deviation and constrained by an auxiliary Gaussian measurement
A ~ N(ν, 1); the reference model is

    n(x|R_ν) = n(x|R_0) · exp g_ν(x),   g_ν(x) = Σ_a ν_a L_a(x) + ν_a² Q_a(x),

- a normalisation uncertainty σ (``norm=0.05``): L = log(1 + σ), Q = 0, so ν = ±1 scales the
  expected counts by (1 + σ)^±1;
- a shape uncertainty from reference samples generated at ν = +1 and −1 (``NAME=UP,DOWN``):
  L = (ℓ₊ − ℓ₋)/2, Q = (ℓ₊ + ℓ₋)/2 with ℓ± = log n(x|R_±1)/n(x|R_0) learned by the kernel model
  from those samples against the nominal reference (the paper's quadratic expansion; one
  sample ``NAME=UP`` gives the linear term only).

With the extended likelihood relative to R_0 and the auxiliary term,

    ℓ(ν, f) = −N(0)/N_R · Σ_ref (e^(g_ν + f) − 1) + Σ_data (g_ν + f) − ½|ν − A|² + ½|A|²,

the test statistic is t = τ − Δ with τ = 2 max_{ν,f} ℓ(ν, f) (new physics f on top of R_ν) and
Δ = 2 max_ν ℓ(ν, 0) (the nuisances alone). τ is maximised by alternating: f fitted by the kernel
model with each reference event weighted by e^(g_ν) (the reference moved to R_ν), then ν by
L-BFGS at fixed f, three times, starting from Δ's ν̂. Observed data have A = 0 (the nuisances'
central values); calibration toys draw their data from the nominal reference and A from N(0, 1)
per nuisance, so the null distribution of t includes the auxiliary measurements' fluctuations.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from adkit.errors import ConfigError

#: Alternations of the f fit and the ν fit in τ.
TAU_ITERATIONS = 3


@dataclass
class Nuisance:
    """One nuisance: a normalisation (``sigma``) or a shape (reference files at +1σ and −1σ)."""

    name: str
    sigma: float | None = None
    up: list[str] = field(default_factory=list)
    down: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return "norm" if self.sigma is not None else "shape"

    @classmethod
    def parse(cls, text: str) -> Nuisance:
        """``NAME=0.05`` (normalisation, relative) or ``NAME=UP_FILE[,DOWN_FILE]`` (shape)."""
        name, sep, value = str(text).partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise ConfigError(f"--nuisance {text!r}: expected NAME=SIGMA (e.g. norm=0.05) or NAME=UP_FILE,DOWN_FILE")
        try:
            sigma = float(value)
        except ValueError:
            files = [v.strip() for v in value.split(",") if v.strip()]
            if len(files) > 2:
                raise ConfigError(f"--nuisance {text!r}: a shape nuisance takes one or two reference files "
                                  "(at +1σ and −1σ)") from None
            return cls(name, up=files[:1], down=files[1:])
        if not 0 < sigma < 1:
            raise ConfigError(f"--nuisance {text!r}: a normalisation uncertainty is a relative σ in (0, 1), "
                              "e.g. 0.05 for 5 %")
        return cls(name, sigma=sigma)

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "sigma": self.sigma, "up": self.up, "down": self.down}


def check_names(nuisances: Sequence[Nuisance]) -> None:
    names = [n.name for n in nuisances]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ConfigError(f"--nuisance {dup[0]} is given twice")


def shape_ratio(ref: np.ndarray, shifted: np.ndarray, params: dict, seed: int):
    """The kernel model of ℓ(x) = log n(x|shifted)/n(x|ref) for samples of any sizes (shape only)."""
    from adkit.stats.nplm import make_model

    det = make_model("kernel", params, float(len(shifted)), seed)
    det.fit(np.concatenate([ref, shifted]), y=np.r_[np.zeros(len(ref)), np.ones(len(shifted))])
    return det


def templates(nuisances: Sequence[Nuisance], X: np.ndarray, shapes: dict) -> tuple[np.ndarray, np.ndarray]:
    """(L, Q), each [events, nuisances]: g_ν(x) = L(x)·ν + Q(x)·ν² on the events ``X``. ``shapes``
    maps a shape nuisance's name to its fitted (up, down or None) ratio models."""
    L = np.zeros((len(X), len(nuisances)))
    Q = np.zeros((len(X), len(nuisances)))
    for a, n in enumerate(nuisances):
        if n.kind == "norm":
            L[:, a] = np.log1p(n.sigma)
            continue
        up, down = shapes[n.name]
        lu = up.decision_function(X)
        if down is None:
            L[:, a] = lu
        else:
            ld = down.decision_function(X)
            L[:, a], Q[:, a] = 0.5 * (lu - ld), 0.5 * (lu + ld)
    return L, Q


def loglik(nu: np.ndarray, ref: tuple, data: tuple, n_expected: float, A: np.ndarray) -> tuple[float, np.ndarray]:
    """ℓ(ν, f) and its gradient in ν; ``ref`` and ``data`` are (L, Q, f) of their events."""
    (Lr, Qr, fr), (Ld, Qd, fd) = ref, data
    w = n_expected / len(fr)
    er = np.exp(Lr @ nu + Qr @ nu ** 2 + fr)
    value = -w * float(np.sum(er - 1.0)) + float(np.sum(Ld @ nu + Qd @ nu ** 2 + fd)) \
        - 0.5 * float(np.sum((nu - A) ** 2)) + 0.5 * float(np.sum(A ** 2))
    grad = -w * (er @ Lr + 2 * nu * (er @ Qr)) + Ld.sum(0) + 2 * nu * Qd.sum(0) - (nu - A)
    return value, grad


def best_nu(ref: tuple, data: tuple, n_expected: float, A: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, float]:
    """(ν̂, ℓ(ν̂)) at fixed f."""
    from scipy.optimize import minimize

    res = minimize(lambda v: tuple(-x for x in loglik(v, ref, data, n_expected, A)), start, jac=True,
                   method="L-BFGS-B", bounds=[(-20.0, 20.0)] * len(start))
    return res.x, -float(res.fun)


def profiled_t(ref: np.ndarray, data: np.ndarray, L: tuple, Q: tuple, n_expected: float, A: np.ndarray,
               model_params: dict, seed: int) -> dict:
    """t = τ − Δ for one data set: ``L`` and ``Q`` are (reference, data) template arrays."""
    from adkit.stats.nplm import make_model

    zr, zd = np.zeros(len(ref)), np.zeros(len(data))
    nu_delta, l_delta = best_nu((L[0], Q[0], zr), (L[1], Q[1], zd), n_expected, A, np.zeros(len(A)))
    nu = nu_delta
    X = np.concatenate([ref, data])
    y = np.r_[np.zeros(len(ref)), np.ones(len(data))]
    det = l_tau = None
    for _ in range(TAU_ITERATIONS):
        det = make_model("kernel", model_params, n_expected, seed)
        det.fit(X, y=y, reference_weight=np.r_[np.exp(L[0] @ nu + Q[0] @ nu ** 2), np.ones(len(data))])
        f = det.decision_function(X)
        nu, l_tau = best_nu((L[0], Q[0], f[:len(ref)]), (L[1], Q[1], f[len(ref):]), n_expected, A, nu)
    tau, delta = 2.0 * l_tau, 2.0 * l_delta
    return {"t": tau - delta, "tau": tau, "delta": delta, "nu_hat": nu.tolist(), "nu_hat_delta": nu_delta.tolist(),
            "detector": det}


def run_toy(ref: np.ndarray, L: np.ndarray, Q: np.ndarray, n_expected: float, params: dict, seed: int,
            toy: int) -> float:
    """t of one null toy with nuisances: Poisson(N(0)) reference events as data, the rest as reference,
    auxiliary measurements A ~ N(0, 1). Deterministic in (seed, toy)."""
    from adkit.stats.nplm import toy_split

    pick, rng = toy_split(len(ref), n_expected, seed, toy)
    A = rng.normal(size=L.shape[1])
    return profiled_t(ref[~pick], ref[pick], (L[~pick], L[pick]), (Q[~pick], Q[pick]), n_expected, A, params,
                      seed)["t"]
