"""Self-supervised trigger network in the style of AXOL1TL v6: the score is the distance between
what a small decoder makes of the bottleneck and the network's own hidden representation.

    x ─ fc1 ─ ReLU ─ … ─ fcK = r ─ lat = z ─ dec = r̂        score = Σ_k (r̂_k − r_k)²

The encoder layers ``hidden`` end in the representation r; ``lat`` compresses it to ``bottleneck``
numbers and ``dec`` predicts r back from them. Background events, whose representation the
bottleneck has learned to carry, get a small distance; an event whose representation the
bottleneck cannot carry gets a large one. The distance is computed in the representation's own
space (16 numbers by default), so the firmware never rebuilds the 57 inputs: two small layers, a
subtraction, 16 squares and a sum after the encoder.

Training keeps r informative without letting it collapse (a constant r would make every
distance 0): a training-only head (``aux``, not in the firmware) reconstructs the inputs from z,
which trains the encoder as an autoencoder's; ``dec`` learns r with r held fixed (no gradient
through the target). The whole network is quantization-aware like
:class:`~adkit.detectors.student.QuantizedStudent` (every weight, bias and result on its
``ap_fixed`` grid; ``quantization="hgq"`` learns per-weight widths), and the score is what the
firmware computes: the difference of two words, its square and the sum, all held exactly (the
score's type follows from the representation's; the ``output`` precision is not used). :func:`adkit.firmware.da.trace` turns it into da4ml adder graphs
(the squares become multipliers of variables) and Verilog, checked bit for bit.
"""
from __future__ import annotations

import math
from dataclasses import replace

from adkit.detectors.student import QuantizedStudent
from adkit.fixedpoint import FixedType
from adkit.validation import Rule


class SelfSupervisedTrigger(QuantizedStudent):
    """Quantized self-supervised trigger network; score = Σ (decoded representation − representation)²."""

    name = "selfsup"
    tags = replace(QuantizedStudent.tags, uses_target=False)
    param_rules = {**QuantizedStudent.param_rules, "bottleneck": Rule("int", 1, 4096)}

    def __init__(self, hidden: tuple[int, ...] = (32, 16), bottleneck: int = 3, precision: dict | str | None = None,
                 layer_precision: dict | None = None, sparsity: float = 0.0, epochs: int = 30,
                 batch_size: int = 1024, lr: float = 1e-3, patience: int = 0, validation_fraction: float = 0.2,
                 seed: int = 0, contamination: float = 0.1, quantization: str = "uniform",
                 bit_cost: float = 1e-6, lr_schedule: str = "constant") -> None:
        super().__init__(hidden, precision, layer_precision, sparsity, epochs, batch_size, lr, patience,
                         validation_fraction, seed, contamination, quantization, bit_cost, lr_schedule)
        self.bottleneck = bottleneck

    def layer_names(self) -> list[str]:
        return [f"fc{i + 1}" for i in range(len(self.hidden))] + ["lat", "dec"]

    def types(self, module=None, learned: bool = True) -> dict[str, dict[str, FixedType]]:
        """The student's types (``lat`` and ``dec`` results of the ``activation`` precision unless
        ``layer_precision`` says otherwise), and ``score``: the type that holds Σ (r̂ − r)² exactly,
        from the representation's and the decoder's types (no rounding, no overflow, so no ties the
        arithmetic made; the ``output`` precision is not used)."""
        out = super().types(module, learned)
        names = self.dense_names()
        r, rh = out[names[-3]]["result"], out["dec"]["result"]
        frac = max(r.frac, rh.frac)
        integer = 2 * max(r.integer, rh.integer) + math.ceil(math.log2(int(self.hidden[-1]))) + 1
        out["score"] = {"result": FixedType(integer + 2 * frac, integer, True, rh.quant, "AP_SAT")}
        return out

    def _learned_layers(self) -> list[str]:
        return self.dense_names()  # every layer's result is a word of the network, the decoder's included

    def build_module(self, n_features: int, n_conditions: int):
        import torch
        from torch import nn

        enc = [n_features, *[int(h) for h in self.hidden]]
        rep, lat = enc[-1], int(self.bottleneck)
        sizes = list(zip(enc[:-1], enc[1:])) + [(rep, lat), (lat, rep)]
        module = nn.ModuleDict({n: nn.Linear(a, b) for n, (a, b) in zip(self.layer_names(), sizes)})
        for n in self.layer_names():
            module.register_buffer(f"mask_{n}", torch.ones_like(module[n].weight))
        # training only (not in the firmware): reconstructs the inputs from z, so the encoder learns as an AE's
        module["aux"] = nn.Sequential(nn.Linear(lat, enc[1]), nn.ReLU(), nn.Linear(enc[1], n_features))
        if self.quantization == "hgq":
            self._add_hgq(module)
        return module

    def _parts(self, module, x, mode: str):
        """(representation r, bottleneck z, decoded r̂) of the firmware arithmetic."""
        import torch

        types = self.types(module)
        q = self._quantizer(mode)
        dtype = x.dtype if mode == "train" else torch.float64
        h = q(types["input"]["result"], x.to(dtype))
        names = self.dense_names()
        words = {}
        for n in names:
            h = self._dense(module, n, h, q, dtype, mode, types[n])
            if n in names[:-3]:
                h = torch.relu(h)
            words[n] = h
        return words[names[-3]], words["lat"], words["dec"]

    def forward(self, module, x, mode: str = "train"):
        import torch

        r, _, rh = self._parts(module, x, mode)
        d = rh - (r.detach() if mode == "train" else r)
        s = (d * d).sum(1)
        t = self.types(module)["score"]["result"]
        return s if mode != "exact" else t.quantize(s.to(torch.float64))

    def validation_loss(self, module, x, c, generator, y=None):
        """The distance (the decoder's target held fixed) plus the training head's reconstruction of x."""
        r, z, rh = self._parts(module, x, "train")
        return ((rh - r.detach()) ** 2).sum(1).mean() + ((module["aux"](z) - x) ** 2).mean(1).mean()

    # --- firmware view -------------------------------------------------------------------------
    def trace_score(self, h, quantize):
        """The score in da4ml's tracer from the quantized input word ``h``; ``quantize(h, type)``
        rounds a traced array to an ap_fixed type as the firmware does."""
        import numpy as np

        types = self.types()
        weights = self.quantized_weights()
        names = self.dense_names()
        for n in names:
            w, b = weights[n]
            h = quantize(h @ w.T + b, types[n]["result"])
            if n in names[:-3]:
                h = h.relu()
            if n == names[-3]:
                r = h
        d = h - r
        return quantize(np.sum(d * d, keepdims=True), types["score"]["result"])
