"""Normalizing-flow density detector: a masked autoregressive flow (zuko's ``MAF``, Papamakarios
et al. 2017) fitted to the background by maximum likelihood; the anomaly score is the event's
negative log-density, −log p(x), in nats.

Collider inputs have point masses (an empty slot always has the same value), on which a density
grows without bound; the flow is therefore trained on inputs with Gaussian noise of width
``noise`` added (dequantisation), and it scores the inputs as they are. Needs the ``flow`` extra
(``zuko``).
"""
from __future__ import annotations

from adkit.detectors.torch_base import TorchDetector
from adkit.errors import ConfigError
from adkit.validation import Rule


def _zuko():
    try:
        import zuko
    except ImportError:
        raise ConfigError("detector 'flow' needs zuko: pip install 'adkit[flow]'") from None
    return zuko


class NormalizingFlow(TorchDetector):
    """Masked autoregressive flow; score = −log p(x)."""

    name = "flow"
    param_rules = {"transforms": Rule("int", 1, 64), "noise": Rule("float", 0, 10)}
    #: Log pT and pooled scales with empty slots as values, as the AE: the density sees how many objects there are.
    preprocessing = "log-pooled-unseen"  # only never-filled slots marked (docs/detectors.md)

    def __init__(self, transforms: int = 5, hidden: tuple[int, ...] = (128, 128), noise: float = 0.05,
                 epochs: int = 30, batch_size: int = 1024, lr: float = 1e-3, patience: int = 5,
                 validation_fraction: float = 0.2, seed: int = 0, contamination: float = 0.1,
                 standardize: bool = True) -> None:
        super().__init__(epochs, batch_size, lr, patience, validation_fraction, seed, contamination)
        self.standardize = standardize
        self.transforms = transforms
        self.hidden = hidden
        self.noise = noise

    def build_module(self, n_features: int, n_conditions: int):
        return _zuko().flows.MAF(n_features, 0, transforms=int(self.transforms),
                                 hidden_features=tuple(int(h) for h in self.hidden))

    def check_size(self, n_features: int, n_conditions: int) -> int:
        """The weights counted from the layer sizes (zuko's masks cannot be built on torch's meta
        device), refused over the limit before anything is allocated."""
        from adkit.validation import LIMITS

        sizes = [n_features, *(int(h) for h in self.hidden), 2 * n_features]
        per = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
        need = 4 * 2 * per * int(self.transforms)  # weights and their masks
        if need > LIMITS["network_bytes"]:
            raise ConfigError(f"{self.name}: this flow has {need // 8:,} weights ({need / 2**30:.1f} GiB), over the "
                              f"limit of {LIMITS['network_bytes'] / 2**30:g} GiB; choose fewer or smaller layers")
        widest = max(sizes)
        self._score_step = int(min(1 << 14, max(16, LIMITS["score_bytes"] // (16 * widest))))
        self._memory = {"network_bytes": need, "step_events": self._score_step,
                        "step_bytes": 2 * 4 * self._score_step * sum(sizes) * int(self.transforms)}
        return need

    def batch_loss(self, module, x, c, generator, y=None):
        import torch

        noisy = x + self.noise * torch.randn(x.shape, generator=generator) if self.noise else x
        return -module().log_prob(noisy).mean()

    def event_scores(self, module, x, c):
        return {"score": -module().log_prob(x)}
