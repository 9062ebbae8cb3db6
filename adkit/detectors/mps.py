"""Matrix product state Born machine on a latent space (Puljak et al., tensor networks for AD).

Each latent coordinate z_k is squashed to u_k = σ(z_k) ∈ (0, 1) and embedded as a vector of
``p`` basis functions φ(u_k) (``legendre``: orthonormal Legendre polynomials, ``fourier``:
1, √2 cos 2πmu, √2 sin 2πmu, or ``trig``: cos(πu/2), sin(πu/2)). The amplitude is the MPS
contraction ψ(u) = A₁[φ(u₁)] A₂[φ(u₂)] ⋯ A_n[φ(u_n)] with bond dimension ``bond_dim``, and the
model density is the Born rule, normalised exactly:

    p(z) = |ψ(u)|² / Z · Π_k σ'(z_k),   Z = ∫ |ψ(u)|² du,

where Z is the contraction of the transfer matrices Σ_ss' G_ss' A[s] ⊗ A[s'] with the basis
Gram matrix G (the identity for orthonormal bases). Both contractions renormalise at every
site and carry the logarithm of the scale, so nothing overflows for any n or bond dimension.
Training minimises the negative log-likelihood on background with Adam (the shared torch
template: validation, early stopping, checkpoints). Score = −log p(z).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from adkit.detectors.torch_base import TorchDetector
from adkit.errors import ConfigError
from adkit.validation import choice

BASES = ("legendre", "fourier", "trig")


def basis_gram(basis: str, p: int) -> np.ndarray:
    """G_ij = ∫₀¹ φ_i(u) φ_j(u) du, by Gauss-Legendre quadrature (exact for these bases)."""
    x, w = np.polynomial.legendre.leggauss(64)
    u = 0.5 * (x + 1.0)
    phi = embed_np(u, basis, p)
    return (phi * (0.5 * w)[:, None]).T @ phi


def embed_np(u: np.ndarray, basis: str, p: int) -> np.ndarray:
    """φ(u) for an array of u in [0, 1]: shape (..., p)."""
    if basis == "legendre":
        cols = [np.sqrt(2 * m + 1) * np.polynomial.legendre.Legendre.basis(m)(2 * u - 1) for m in range(p)]
    elif basis == "fourier":
        cols = [np.ones_like(u)]
        m = 1
        while len(cols) < p:
            cols.append(np.sqrt(2) * np.cos(2 * np.pi * m * u))
            if len(cols) < p:
                cols.append(np.sqrt(2) * np.sin(2 * np.pi * m * u))
            m += 1
    elif basis == "trig":
        cols = [np.cos(np.pi * u / 2), np.sin(np.pi * u / 2)]
    else:
        raise ConfigError(f"mps: basis must be one of {', '.join(BASES)}, got {basis!r}")
    return np.stack(cols, axis=-1)


class MatrixProductState(TorchDetector):
    """MPS Born machine (latent spaces): score = −log p(x)."""

    name = "mps"
    param_rules = {"basis": choice(*BASES)}
    tags = replace(TorchDetector.tags, latent=True)

    def __init__(self, bond_dim: int = 8, basis: str = "legendre", local_dim: int = 4, init_noise: float = 0.05,
                 epochs: int = 30, batch_size: int = 1024, lr: float = 1e-3, patience: int = 5,
                 validation_fraction: float = 0.2, seed: int = 0,
                 contamination: float = 0.1, standardize: bool = True) -> None:
        super().__init__(epochs, batch_size, lr, patience, validation_fraction, seed, contamination)
        self.standardize = standardize
        self.bond_dim = bond_dim
        self.basis = basis
        self.local_dim = local_dim
        self.init_noise = init_noise

    def _p(self) -> int:
        return 2 if self.basis == "trig" else int(self.local_dim)

    def build_module(self, n_features: int, n_conditions: int):
        import torch
        from torch import nn

        if self.basis not in BASES:
            raise ConfigError(f"mps: basis must be one of {', '.join(BASES)}, got {self.basis!r}")
        if not isinstance(self.bond_dim, int) or self.bond_dim < 1:
            raise ConfigError(f"mps: bond_dim must be a positive integer, got {self.bond_dim!r}")
        p, D = self._p(), int(self.bond_dim)
        cores = []
        for k in range(n_features):
            dl, dr = (1 if k == 0 else D), (1 if k == n_features - 1 else D)
            A = torch.randn(dl, p, dr) * self.init_noise
            A[:, 0, :] += torch.eye(dl, dr)  # start near the uniform density (φ₀ is constant)
            cores.append(nn.Parameter(A))
        module = nn.ParameterList(cores)
        module.register_buffer("gram", torch.tensor(basis_gram(self.basis, p), dtype=torch.float32))
        return module

    def _embed(self, x):
        import torch

        u = torch.sigmoid(x)
        p = self._p()
        if self.basis == "legendre":  # Bonnet's recursion on t = 2u − 1, then orthonormalise
            t = 2 * u - 1
            P = [torch.ones_like(t), t]
            for m in range(1, p - 1):
                P.append(((2 * m + 1) * t * P[m] - m * P[m - 1]) / (m + 1))
            cols = [np.sqrt(2 * m + 1) * P[m] for m in range(p)]
        elif self.basis == "fourier":
            cols, m = [torch.ones_like(u)], 1
            while len(cols) < p:
                cols.append(np.sqrt(2) * torch.cos(2 * np.pi * m * u))
                if len(cols) < p:
                    cols.append(np.sqrt(2) * torch.sin(2 * np.pi * m * u))
                m += 1
        else:
            cols = [torch.cos(np.pi * u / 2), torch.sin(np.pi * u / 2)]
        # log σ'(x) = log σ(x) + log σ(−x): the Jacobian of x → u
        log_jac = (torch.nn.functional.logsigmoid(x) + torch.nn.functional.logsigmoid(-x)).sum(1)
        return torch.stack(cols, dim=-1), log_jac

    def log_density(self, module, x):
        """log p(x) per event, with per-site renormalisation of both contractions."""
        import torch

        phi, log_jac = self._embed(x)  # (B, n, p)
        v = torch.einsum("bs,lsr->blr", phi[:, 0], module[0])[:, 0, :]  # (B, D)
        log_amp = torch.zeros(len(x), dtype=x.dtype)
        for k in range(1, len(module)):
            v = torch.einsum("bl,bs,lsr->br", v, phi[:, k], module[k])
            norm = v.norm(dim=1).clamp_min(1e-30)
            log_amp = log_amp + torch.log(norm)
            v = v / norm[:, None]
        log_amp = log_amp + torch.log(v.abs()[:, 0].clamp_min(1e-30))
        L = torch.ones(1, 1, dtype=x.dtype)
        log_z = torch.zeros((), dtype=x.dtype)
        for A in module:
            L = torch.einsum("ab,asc,st,btd->cd", L, A, module.gram, A)
            s = L.norm()
            log_z = log_z + torch.log(s)
            L = L / s
        log_z = log_z + torch.log(L[0, 0].abs().clamp_min(1e-30))
        return 2 * log_amp - log_z + log_jac

    def batch_loss(self, module, x, c, generator, y=None):
        return -self.log_density(module, x).mean()

    def event_scores(self, module, x, c):
        # inputs standardised by the detector (standardize=True): −log p of the raw inputs, p(x) = p(z) / Π σ
        st = getattr(self, "_standard", None)
        return {"score": -self.log_density(module, x) + (0.0 if st is None else float(np.log(st[1]).sum()))}
