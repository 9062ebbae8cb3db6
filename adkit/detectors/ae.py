"""Dense autoencoder, the ADC2021 baseline: 57 → 32 → 16 → latent → 16 → 32 → 57.

Each hidden layer is Linear → BatchNorm → LeakyReLU. The anomaly score is the per-event
mean squared reconstruction error of the standardised inputs. Its training budget follows the
sample size unless given: 30 epochs of batch 1024 (patience 5) from 102,400 training events up,
up to 100 epochs of batch 256 (patience 10) below, where large batches make too few optimizer
steps (measured on the Pythia sample: docs/ae-default.md).
"""
from __future__ import annotations

from adkit.detectors.torch_base import TorchDetector


def dense_stack(sizes: list[int], final_activation: bool = False):
    """Linear → BatchNorm1d → LeakyReLU blocks between consecutive sizes."""
    from torch import nn

    layers: list = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2 or final_activation:
            layers += [nn.BatchNorm1d(b), nn.LeakyReLU(0.3)]
    return nn.Sequential(*layers)


class DenseAutoencoder(TorchDetector):
    """ADC2021-style dense autoencoder; score = mean squared reconstruction error."""

    name = "ae"
    #: Empty slots scaled like any value, as the ADC2021 recipe does (measured: docs/physics-table.md).
    preprocessing = "log-pooled"

    def __init__(self, latent_dim: int = 3, hidden: tuple[int, ...] = (32, 16), epochs: int | None = None,
                 batch_size: int | None = None, lr: float = 1e-3, patience: int | None = None,
                 validation_fraction: float = 0.2, seed: int = 0,
                 contamination: float = 0.1, standardize: bool = True) -> None:
        super().__init__(epochs, batch_size, lr, patience, validation_fraction, seed, contamination)
        self.standardize = standardize
        self.latent_dim = latent_dim
        self.hidden = hidden

    def build_module(self, n_features: int, n_conditions: int):
        from torch import nn

        h = [int(x) for x in self.hidden]
        enc = dense_stack([n_features, *h, int(self.latent_dim)])
        dec = dense_stack([int(self.latent_dim), *reversed(h), n_features])
        return nn.ModuleDict({"encoder": enc, "decoder": dec})

    def batch_loss(self, module, x, c, generator, y=None):
        return ((module["decoder"](module["encoder"](x)) - x) ** 2).mean()

    def event_scores(self, module, x, c):
        return {"score": ((module["decoder"](module["encoder"](x)) - x) ** 2).mean(dim=1)}

    def encode(self, X):
        """Latent coordinates of events (for latent-space detectors), standardised as in ``fit``."""
        import numpy as np
        import torch

        self._check_fitted()
        X = self._standardized(np.ascontiguousarray(X, dtype=np.float32))
        with torch.inference_mode():
            return self.module_["encoder"](torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))).numpy()
