"""GRU autoencoder for time-series windows: the ``lstm-ae`` architecture with GRU cells
(fewer parameters, often as good on short windows)."""
from __future__ import annotations

from adkit.detectors.lstm_ae import LSTMAutoencoder


class GRUAutoencoder(LSTMAutoencoder):
    """GRU autoencoder for time-series windows; score = reconstruction MSE."""

    name = "gru-ae"
    cell = "gru"
