"""The original, neural-network NPLM (D'Agnolo & Wulzer), for comparison with the kernel model.

A small dense network f(x) is trained full-batch to minimise the extended likelihood loss

    L[f] = N(0)/N_R · Σ_ref (e^f − 1) − Σ_data f,

whose minimum is −t/2; every weight is clipped to [−weight_clip, weight_clip] after each step
(the papers' regulariser). Same interface as :class:`adkit.detectors.nplm.KernelNPLM`:
``fit(X, y=labels)`` with 1 for data and 0 for reference; score = f(x).
"""
from __future__ import annotations

import numpy as np

from adkit.detectors.base import TrainOptions
from adkit.detectors.two_sample import TwoSampleDetector
from adkit.errors import ConfigError


class NeuralNPLM(TwoSampleDetector):
    """Neural-network NPLM (weight clipping, full-batch Adam); score = learned log density ratio f(x)."""

    name = "nplm-nn"

    def __init__(self, hidden: tuple[int, ...] = (5, 5), weight_clip: float = 2.15, epochs: int = 30000,
                 lr: float = 1e-3, n_expected: float | None = None, seed: int = 0,
                 contamination: float = 0.1) -> None:
        self.hidden = hidden
        self.weight_clip = weight_clip
        self.epochs = epochs
        self.lr = lr
        self.n_expected = n_expected
        self.seed = seed
        self.contamination = contamination

    def _network(self, n_features: int):
        import torch
        from torch import nn

        sizes = [n_features, *[int(h) for h in self.hidden], 1]
        layers: list = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(a, b, dtype=torch.float64))
            if i < len(sizes) - 2:
                layers.append(nn.Sigmoid())
        return nn.Sequential(*layers)

    def fit(self, X: np.ndarray, y: np.ndarray | None = None, *, condition: np.ndarray | None = None,
            options: TrainOptions | None = None, progress: bool = False) -> NeuralNPLM:
        progress = options.progress if options is not None else progress
        import torch

        self.check_condition(X, condition)
        is_data = self.check_target(X, y)
        if self.epochs < 1 or self.weight_clip <= 0:
            raise ConfigError(f"{self.name}: epochs must be >= 1 and weight_clip > 0")
        n_data, n_ref = int(is_data.sum()), int((~is_data).sum())
        n0 = float(self.n_expected) if self.n_expected is not None else float(n_data)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            net = self._network(X.shape[1])
        x = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float64))
        ref = torch.from_numpy(~is_data)
        wr = n0 / n_ref
        opt = torch.optim.Adam(net.parameters(), lr=self.lr)
        from adkit.progress import bar

        history = []  # (epoch, t = -2 loss): how far from converged the network is
        with bar(progress, "loss", "val") as pb:
            task = pb.add_task(f"train {self.name}", total=self.epochs, loss="", val="")
            for epoch in range(self.epochs):
                opt.zero_grad()
                f = net(x)[:, 0]
                loss = wr * torch.sum(torch.exp(f[ref]) - 1.0) - torch.sum(f[~ref])
                loss.backward()
                opt.step()
                with torch.no_grad():
                    for p in net.parameters():
                        p.clamp_(-self.weight_clip, self.weight_clip)
                if (epoch + 1) % 100 == 0 or epoch == self.epochs - 1:
                    history.append((epoch + 1, -2.0 * loss.item()))
                    pb.update(task, completed=epoch + 1, loss=f"loss {loss.item():.4g}")
        self.weights_ = [p.detach().numpy().copy() for p in net.parameters()]
        self.info_ = {"final_loss": loss.item(), "t_history": history, "n_data": n_data, "n_reference": n_ref,
                      "n_expected": n0}
        return self

    def _score(self, X: np.ndarray, condition: np.ndarray | None = None) -> np.ndarray:
        self._check_fitted()
        self.check_condition(X, condition)
        h = np.asarray(X, dtype=np.float64)
        n_in = self.weights_[0].shape[1]
        if h.ndim != 2 or h.shape[1] != n_in:
            raise ConfigError(f"{self.name}: expects {n_in} features per event, got shape {h.shape}")
        layers = list(zip(self.weights_[::2], self.weights_[1::2]))
        for i, (W, b) in enumerate(layers):
            h = h @ W.T + b
            if i < len(layers) - 1:
                h = 1.0 / (1.0 + np.exp(-h))
        return h[:, 0]

    def _tensors(self) -> tuple[dict, dict[str, np.ndarray]]:
        return {"info": self.info_, "n_layers": len(self.weights_) // 2}, \
            {f"w{i}": w for i, w in enumerate(self.weights_)}

    def _load_tensors(self, config: dict, tensors: dict[str, np.ndarray]) -> None:
        self.weights_ = [np.asarray(tensors[f"w{i}"], dtype=np.float64) for i in range(2 * config["n_layers"])]
        self.info_ = config.get("info")
