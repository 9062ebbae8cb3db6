"""ALAD: Adversarially Learned Anomaly Detection (Zenati et al. 2018; Knapp et al. on CMS open data).

A bidirectional GAN: an encoder E(x) → z and a generator G(z) → x are trained against three
discriminators, all spectrally normalised:

- D_xz tells (x, E(x)) from (G(z), z): the joint distributions must match (BiGAN);
- D_xx tells (x, x) from (x, G(E(x))): cycle consistency in data space;
- D_zz tells (z, z) from (z, E(G(z))): cycle consistency in latent space.

After training, a background event is reconstructed well and D_xx sees (x, G(E(x))) like (x, x).
Scores: ``fm`` (default) the L1 distance between D_xx's intermediate features of (x, x) and
(x, G(E(x))); ``l1`` and ``l2`` reconstruction errors; ``logits`` −log σ(D_xx(x, G(E(x)))).

Stable CPU settings (documented in docs/detectors.md): Adam lr 1e-4, betas (0.5, 0.999),
batch 256, latent 8, 64/128-unit layers, no dropout (so training is seed-deterministic).
GAN losses do not measure progress, so there is no early stopping: ALAD trains for ``epochs``
and keeps the last weights; the validation L1 reconstruction error is reported for monitoring.
"""
from __future__ import annotations

from adkit.detectors.torch_base import TorchDetector

ALAD_SCORES = ("fm", "l1", "l2", "logits")


def _sn_linear(a: int, b: int):
    from torch import nn
    from torch.nn.utils.parametrizations import spectral_norm

    return spectral_norm(nn.Linear(a, b))


def _build(n_x: int, n_z: int, width: int):
    """E, G and the three discriminators as one ModuleDict (saved and loaded together)."""
    import torch
    from torch import nn

    act = nn.LeakyReLU(0.2)

    class Pair(nn.Module):
        """A discriminator on a concatenated pair; ``features`` is its last hidden layer."""

        def __init__(self, n_a: int, n_b: int, hidden: int) -> None:
            super().__init__()
            self.body = nn.Sequential(_sn_linear(n_a + n_b, hidden), act, _sn_linear(hidden, hidden), act)
            self.head = _sn_linear(hidden, 1)

        def forward(self, a, b):
            f = self.body(torch.cat([a, b], dim=1))
            return self.head(f).squeeze(1), f

    return nn.ModuleDict({
        "encoder": nn.Sequential(nn.Linear(n_x, 2 * width), act, nn.Linear(2 * width, width), act, nn.Linear(width, n_z)),
        "generator": nn.Sequential(nn.Linear(n_z, width), nn.ReLU(), nn.Linear(width, 2 * width), nn.ReLU(),
                                   nn.Linear(2 * width, n_x)),
        "d_xz": Pair(n_x, n_z, 2 * width),
        "d_xx": Pair(n_x, n_x, 2 * width),
        "d_zz": Pair(n_z, n_z, width // 2),
    })


class ALAD(TorchDetector):
    """Adversarially learned anomaly detection; scores ``fm``, ``l1``, ``l2``, ``logits``."""

    name = "alad"
    score_kinds = ALAD_SCORES
    components = ("fm", "l1", "l2", "logits")
    select_best = False  # GAN losses do not measure progress: train all epochs, keep the last weights

    def __init__(self, latent_dim: int = 8, width: int = 64, score: str = "fm", epochs: int = 30,
                 batch_size: int = 256, lr: float = 1e-4, patience: int = 0,
                 validation_fraction: float = 0.2, seed: int = 0,
                 contamination: float = 0.1, standardize: bool = True) -> None:
        super().__init__(epochs, batch_size, lr, patience, validation_fraction, seed, contamination)
        self.standardize = standardize
        self.latent_dim = latent_dim
        self.width = width
        self.score_kind = score


    def build_module(self, n_features: int, n_conditions: int):
        return _build(n_features, int(self.latent_dim), int(self.width))

    def configure_optimizers(self, module):
        import torch

        disc = [p for k in ("d_xz", "d_xx", "d_zz") for p in module[k].parameters()]
        gen = [p for k in ("encoder", "generator") for p in module[k].parameters()]
        return {"disc": torch.optim.Adam(disc, lr=self.lr, betas=(0.5, 0.999)),
                "gen": torch.optim.Adam(gen, lr=self.lr, betas=(0.5, 0.999))}

    def train_step(self, module, x, c, generator, optimizers, y=None) -> float:
        import torch
        from torch.nn.functional import binary_cross_entropy_with_logits as bce

        def loss(logit, label: float):
            return bce(logit, torch.full_like(logit, label))

        z = torch.randn((len(x), int(self.latent_dim)), generator=generator)
        ex, gz = module["encoder"](x), module["generator"](z)
        rec_x, rec_z = module["generator"](ex), module["encoder"](gz)

        # discriminators: real pairs → 1, generated pairs → 0
        d = (loss(module["d_xz"](x, ex.detach())[0], 1.0) + loss(module["d_xz"](gz.detach(), z)[0], 0.0)
             + loss(module["d_xx"](x, x)[0], 1.0) + loss(module["d_xx"](x, rec_x.detach())[0], 0.0)
             + loss(module["d_zz"](z, z)[0], 1.0) + loss(module["d_zz"](z, rec_z.detach())[0], 0.0))
        optimizers["disc"].zero_grad(set_to_none=True)
        d.backward()
        optimizers["disc"].step()

        # encoder and generator: the same pairs with flipped labels
        g = (loss(module["d_xz"](x, ex)[0], 0.0) + loss(module["d_xz"](gz, z)[0], 1.0)
             + loss(module["d_xx"](x, x)[0], 0.0) + loss(module["d_xx"](x, rec_x)[0], 1.0)
             + loss(module["d_zz"](z, z)[0], 0.0) + loss(module["d_zz"](z, rec_z)[0], 1.0))
        optimizers["gen"].zero_grad(set_to_none=True)
        g.backward()
        optimizers["gen"].step()
        return float(d.detach() + g.detach())

    def batch_loss(self, module, x, c, generator, y=None):
        """Validation criterion: mean L1 reconstruction error."""
        return (module["generator"](module["encoder"](x)) - x).abs().mean()

    def event_scores(self, module, x, c):
        from torch.nn.functional import softplus

        rec = module["generator"](module["encoder"](x))
        logit_rec, f_rec = module["d_xx"](x, rec)
        _, f_real = module["d_xx"](x, x)
        parts = {"fm": (f_real - f_rec).abs().sum(dim=1), "l1": (x - rec).abs().sum(dim=1),
                 "l2": ((x - rec) ** 2).sum(dim=1), "logits": softplus(-logit_rec)}
        return {"score": parts[self.score_kind], **parts}
