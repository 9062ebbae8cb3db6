"""Conditional VAE (Pol et al., anomaly detection with conditional variational autoencoders).

The condition ``c`` (per-event context: object multiplicities for collider events; luminosity,
pile-up or other named columns for tables) is appended to the input of the encoder,
q(z | x, c), and of the decoder, p(x | z, c). The decoder outputs a Gaussian (mean and log
variance per feature), so the reconstruction term is the negative log-likelihood of the event
given its context. Scores:

- ``reco``: −log p(x | mu_z, c), the Gaussian NLL at the posterior mean,
- ``kl``: KL(q(z | x, c) || N(0, 1)),
- ``total``: reco + beta · kl, the negative ELBO the network is trained on (the paper's score),
- ``latent``: Σ mu_z², the squared posterior mean (the AXOL1TL trigger's score: encoder only).

The conditions are standardised inside the network (mean and scale are buffers saved with
the weights), so raw luminosities or counts can be given as they are.
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from adkit.detectors.ae import dense_stack
from adkit.detectors.torch_base import TorchDetector

CVAE_SCORES = ("total", "reco", "kl", "latent")
LOGVAR_RANGE = (-6.0, 6.0)  # bounds the decoder variance: no collapse onto single training points


class ConditionalVAE(TorchDetector):
    """Dense conditional VAE with a Gaussian decoder; scores ``total``, ``reco``, ``kl`` and ``latent``."""

    name = "cvae"
    score_kinds = CVAE_SCORES
    components = CVAE_SCORES
    tags = replace(TorchDetector.tags, uses_condition=True)

    def __init__(self, latent_dim: int = 4, hidden: tuple[int, ...] = (32, 16), beta: float = 1.0,
                 score: str = "total", epochs: int = 30, batch_size: int = 1024, lr: float = 1e-3,
                 patience: int = 5, validation_fraction: float = 0.2, seed: int = 0,
                 contamination: float = 0.1, standardize: bool = True) -> None:
        super().__init__(epochs, batch_size, lr, patience, validation_fraction, seed, contamination)
        self.standardize = standardize
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.beta = beta
        self.score_kind = score
        self._cond_stats: tuple[np.ndarray, np.ndarray] | None = None


    def fit(self, X, y=None, *, condition=None, **kwargs) -> ConditionalVAE:
        """Fit on events ``X`` given their ``condition`` [n, C]; without one (scikit-learn's checks, a
        quick look) it is an unconditional VAE with a Gaussian decoder (``adkit train`` requires one)."""
        if condition is None:
            condition = np.zeros((len(X), 0), dtype=np.float32)
        c = self.check_condition(np.asarray(X), condition)
        scale = c.std(axis=0)
        self._cond_stats = (c.mean(axis=0), np.where(scale > 1e-8, scale, 1.0).astype(np.float32))
        return super().fit(X, y, condition=c, **kwargs)

    def check_condition(self, X, condition, n_conditions=None):
        if condition is None and not n_conditions:  # fitted without one
            condition = np.zeros((len(X), 0), dtype=np.float32)
        return super().check_condition(X, condition, n_conditions)

    def build_module(self, n_features: int, n_conditions: int):
        import torch
        from torch import nn

        h = [int(x) for x in self.hidden]
        z = int(self.latent_dim)
        module = nn.ModuleDict({
            "encoder": dense_stack([n_features + n_conditions, *h], final_activation=True),
            "mu": nn.Linear(h[-1], z), "logvar": nn.Linear(h[-1], z),
            "decoder": dense_stack([z + n_conditions, *reversed(h)], final_activation=True),
            "x_mean": nn.Linear(h[0], n_features), "x_logvar": nn.Linear(h[0], n_features),
        })
        mean, scale = self._cond_stats or (np.zeros(n_conditions), np.ones(n_conditions))
        module.register_buffer("c_mean", torch.tensor(np.asarray(mean), dtype=torch.float32))
        module.register_buffer("c_scale", torch.tensor(np.asarray(scale), dtype=torch.float32))
        return module

    @staticmethod
    def _parts(module, x, c):
        import torch

        c = (c - module.c_mean) / module.c_scale
        hid = module["encoder"](torch.cat([x, c], dim=1))
        mu, logvar = module["mu"](hid), module["logvar"](hid).clamp(-20, 20)
        kl = 0.5 * (mu ** 2 + logvar.exp() - 1.0 - logvar).sum(dim=1)
        return c, mu, logvar, kl

    @staticmethod
    def _nll(module, z, c, x):
        import torch

        d = module["decoder"](torch.cat([z, c], dim=1))
        mean, logvar = module["x_mean"](d), module["x_logvar"](d).clamp(*LOGVAR_RANGE)
        return 0.5 * (((x - mean) ** 2) * torch.exp(-logvar) + logvar + math.log(2 * math.pi)).sum(dim=1)

    def batch_loss(self, module, x, c, generator, y=None):
        import torch

        c, mu, logvar, kl = self._parts(module, x, c)
        z = mu + torch.randn(mu.shape, generator=generator) * (0.5 * logvar).exp()
        return (self._nll(module, z, c, x) + self.beta * kl).mean()

    def event_scores(self, module, x, c):
        c, mu, _, kl = self._parts(module, x, c)
        reco = self._nll(module, mu, c, x)
        parts = {"total": reco + self.beta * kl, "reco": reco, "kl": kl, "latent": (mu ** 2).sum(dim=1)}
        return {"score": parts[self.score_kind], **parts}
