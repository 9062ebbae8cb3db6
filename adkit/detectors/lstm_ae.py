"""Recurrent autoencoder for multichannel time series (Moreno et al., source-agnostic
gravitational-wave detection with recurrent autoencoders).

A window of T samples × C channels (the flattened, time-major window events of
:mod:`adkit.io.series`) is read by an LSTM encoder whose last hidden state is projected to a
latent vector; the decoder repeats the latent vector over T steps, runs a second LSTM and maps
each step back to C channels. Score = mean squared reconstruction error of the window.
``n_channels`` is set from the series when training (``adkit train --detector lstm-ae --data
series.csv``); any other input is read as one channel.
"""
from __future__ import annotations

from dataclasses import replace

from adkit.detectors.torch_base import TorchDetector
from adkit.errors import ConfigError


class SequenceAutoencoder(TorchDetector):
    """Shared by the sequence autoencoders: (n, T·C) events ↔ (n, T, C) sequences."""

    #: A sequence model: ``adkit train`` passes the series' channel count.
    tags = replace(TorchDetector.tags, sequence=True)

    def _shape(self, n_features: int) -> tuple[int, int]:
        c = int(self.n_channels or 1)
        if n_features % c:
            raise ConfigError(f"{self.name}: {n_features} features are not whole windows of {c} channels")
        return n_features // c, c

    def as_sequence(self, x):
        t, c = self._shape(x.shape[1])
        return x.reshape(len(x), t, c)

    def batch_loss(self, module, x, c, generator, y=None):
        return ((module(self.as_sequence(x)) - self.as_sequence(x)) ** 2).mean()

    def event_scores(self, module, x, c):
        seq = self.as_sequence(x)
        return {"score": ((module(seq) - seq) ** 2).mean(dim=(1, 2))}


class _Recurrent:
    """Builds the torch module lazily so that importing adkit does not import torch."""

    @staticmethod
    def build(cell: str, channels: int, steps: int, hidden: int, latent: int):
        import torch
        from torch import nn

        rnn = nn.LSTM if cell == "lstm" else nn.GRU

        class RecurrentAE(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.enc = rnn(channels, hidden, batch_first=True)
                self.to_latent = nn.Linear(hidden, latent)
                self.dec = rnn(latent, hidden, batch_first=True)
                self.out = nn.Linear(hidden, channels)

            def forward(self, seq):
                h, _ = self.enc(seq)
                z = torch.tanh(self.to_latent(h[:, -1]))
                d, _ = self.dec(z[:, None, :].expand(-1, seq.shape[1], -1))
                return self.out(d)

        return RecurrentAE()


class LSTMAutoencoder(SequenceAutoencoder):
    """LSTM autoencoder for time-series windows; score = reconstruction MSE."""

    name = "lstm-ae"
    cell = "lstm"

    def __init__(self, n_channels: int | None = None, hidden: int = 32, latent_dim: int = 8, epochs: int = 20,
                 batch_size: int = 256, lr: float = 1e-2, patience: int = 5, validation_fraction: float = 0.2,
                 seed: int = 0,
                 contamination: float = 0.1) -> None:
        super().__init__(epochs, batch_size, lr, patience, validation_fraction, seed, contamination)
        self.n_channels = n_channels
        self.hidden = hidden
        self.latent_dim = latent_dim

    def build_module(self, n_features: int, n_conditions: int):
        steps, channels = self._shape(n_features)
        return _Recurrent.build(self.cell, channels, steps, int(self.hidden), int(self.latent_dim))
