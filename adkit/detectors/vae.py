"""Variational autoencoder with the reconstruction and the KL-divergence anomaly scores.

Encoder 57 → 32 → 16 → (mu, log sigma²) of a ``latent_dim`` Gaussian; decoder mirrors it.
Training minimises MSE + ``beta`` · KL. ``score`` chooses the default score: ``kl`` (the
KL divergence of the event's posterior from the prior, the ADC2021/L1 choice: it needs only
the encoder, so it fits in trigger firmware), ``reco`` (MSE of the decoded mean), ``total``
(the training objective) or ``latent`` (Σ μ², the squared mean of the encoder: the score the
CMS AXOL1TL trigger computes, needing neither the variance head nor the decoder). All four are
written by ``adkit score``.
"""
from __future__ import annotations

from adkit.detectors.ae import dense_stack
from adkit.detectors.torch_base import TorchDetector

VAE_SCORES = ("kl", "reco", "total", "latent")


class VariationalAutoencoder(TorchDetector):
    """Dense VAE; scores ``kl``, ``reco``, ``total`` and ``latent``."""

    name = "vae"
    score_kinds = VAE_SCORES
    components = VAE_SCORES

    def __init__(self, latent_dim: int = 3, hidden: tuple[int, ...] = (32, 16), beta: float = 1.0,
                 score: str = "kl", epochs: int = 30, batch_size: int = 1024, lr: float = 1e-3,
                 patience: int = 5, validation_fraction: float = 0.2, seed: int = 0,
                 contamination: float = 0.1, standardize: bool = True) -> None:
        super().__init__(epochs, batch_size, lr, patience, validation_fraction, seed, contamination)
        self.standardize = standardize
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.beta = beta
        self.score_kind = score  # stored under its parameter name below


    def build_module(self, n_features: int, n_conditions: int):
        from torch import nn

        h = [int(x) for x in self.hidden]
        z = int(self.latent_dim)
        return nn.ModuleDict({
            "encoder": dense_stack([n_features, *h], final_activation=True),
            "mu": nn.Linear(h[-1], z), "logvar": nn.Linear(h[-1], z),
            "decoder": dense_stack([z, *reversed(h), n_features]),
        })

    @staticmethod
    def _parts(module, x):
        hid = module["encoder"](x)
        mu, logvar = module["mu"](hid), module["logvar"](hid).clamp(-20, 20)
        kl = 0.5 * (mu ** 2 + logvar.exp() - 1.0 - logvar).sum(dim=1)
        return mu, logvar, kl

    def batch_loss(self, module, x, c, generator, y=None):
        import torch

        mu, logvar, kl = self._parts(module, x)
        eps = torch.randn(mu.shape, generator=generator)
        recon = module["decoder"](mu + eps * (0.5 * logvar).exp())
        return ((recon - x) ** 2).mean(dim=1).mean() + self.beta * kl.mean()

    def event_scores(self, module, x, c):
        mu, _, kl = self._parts(module, x)
        reco = ((module["decoder"](mu) - x) ** 2).mean(dim=1)
        parts = {"kl": kl, "reco": reco, "total": reco + self.beta * kl, "latent": (mu ** 2).sum(dim=1)}
        return {"score": parts[self.score_kind], **parts}
