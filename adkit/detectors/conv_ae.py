"""1D convolutional autoencoder for time-series windows.

Two strided Conv1d layers (channels → 16 → 32, kernel 5, stride 2) compress the window, a
linear bottleneck holds ``latent_dim`` numbers, and transposed convolutions expand it back;
the output is cropped to the window length. Score = mean squared reconstruction error.
"""
from __future__ import annotations

from adkit.detectors.lstm_ae import SequenceAutoencoder


class ConvAutoencoder(SequenceAutoencoder):
    """1D convolutional autoencoder for time-series windows; score = reconstruction MSE."""

    name = "conv-ae"

    def __init__(self, n_channels: int | None = None, filters: tuple[int, ...] = (16, 32), latent_dim: int = 16,
                 epochs: int = 20, batch_size: int = 256, lr: float = 3e-3, patience: int = 5,
                 validation_fraction: float = 0.2, seed: int = 0,
                 contamination: float = 0.1) -> None:
        super().__init__(epochs, batch_size, lr, patience, validation_fraction, seed, contamination)
        self.n_channels = n_channels
        self.filters = filters
        self.latent_dim = latent_dim

    def build_module(self, n_features: int, n_conditions: int):
        from torch import nn

        steps, channels = self._shape(n_features)
        f1, f2 = (int(f) for f in self.filters)
        latent = int(self.latent_dim)

        class ConvAE(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.enc = nn.Sequential(nn.Conv1d(channels, f1, 5, stride=2, padding=2), nn.ReLU(),
                                         nn.Conv1d(f1, f2, 5, stride=2, padding=2), nn.ReLU())
                self.reduced = (steps + 3) // 4
                self.to_latent = nn.Linear(f2 * self.reduced, latent)
                self.from_latent = nn.Linear(latent, f2 * self.reduced)
                self.dec = nn.Sequential(nn.ConvTranspose1d(f2, f1, 4, stride=2, padding=1), nn.ReLU(),
                                         nn.ConvTranspose1d(f1, channels, 4, stride=2, padding=1))

            def forward(self, seq):
                x = seq.transpose(1, 2)  # (n, C, T)
                z = self.to_latent(self.enc(x).flatten(1))
                h = self.from_latent(z).view(len(x), -1, self.reduced)
                return self.dec(h)[:, :, :seq.shape[1]].transpose(1, 2)

        return ConvAE()
