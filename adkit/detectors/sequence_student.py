"""Quantized recurrent student of a time-series teacher, for hls4ml firmware.

The recurrent autoencoders of the gravitational-wave trigger papers (Que et al., "Accelerating
recurrent neural networks for gravitational wave experiments") run on FPGAs through hls4ml.
hls4ml's PyTorch reader takes a GRU or LSTM layer that hands its last state on (not a decoder
that returns the whole sequence), so the student of a window model is a one-layer GRU (or
LSTM) reading the window step by step, whose last state feeds a small dense network that
regresses the teacher's (standardised log-)score, as the collider student does.

It is trained quantization-aware like :class:`~adkit.detectors.student.QuantizedStudent`:
inputs, weights, biases, the recurrent state after every step (its ``rnn`` result type, what
hls4ml stores it in) and each dense result are rounded to their firmware types, with float
gates. Scoring evaluates hls4ml 1.3's recurrent layer step by step as its C++ does
(``nnet_recurrent.h``): the gate sums in the layer's accumulator type, product by product,
and the sigmoid and tanh of hls4ml's lookup tables (:func:`lut`), so that the score is the
one the firmware computes; the firmware report checks that on held-out windows.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from adkit.detectors.student import QuantizedStudent
from adkit.errors import ConfigError
from adkit.fixedpoint import FixedType, accumulator_type

CELLS = ("gru", "lstm")
#: hls4ml's lookup tables of the recurrent layer's sigmoid and tanh: entries and their type.
TABLE_SIZE = 1024
TABLE_TYPE = FixedType(18, 8, quant="AP_TRN", overflow="AP_WRAP")
#: The input range each table covers: sigmoid [-8, 8), tanh [-4, 4).
TABLE_SPAN = {"sigmoid": 16, "tanh": 8}


def lut(kind: str, x: np.ndarray, size: int = TABLE_SIZE, table: FixedType = TABLE_TYPE) -> np.ndarray:
    """hls4ml's sigmoid or tanh of ``x``: the table entry at index trunc(x·size/span) + size/2 (clamped),
    each entry the float32 function at that entry's left edge, truncated to ``table``."""
    span = TABLE_SPAN[kind]
    index = np.clip(np.trunc(x * (size / span)) + size // 2, 0, size - 1).astype(np.int64)
    at = (np.float32(span) * ((np.arange(size, dtype=np.float32) - np.float32(size / 2)) / np.float32(size)))
    f = (np.float32(1) / (np.float32(1) + np.exp(-at))) if kind == "sigmoid" else np.tanh(at)
    return table.quantize(f.astype(np.float64))[index]


def _dense(x: np.ndarray, w: np.ndarray, b: np.ndarray, acc: FixedType, exact: bool = False) -> np.ndarray:
    """hls4ml's latency dense layer inside a recurrent layer: each product and each partial sum held
    in the accumulator type, inputs added in order. ``exact``: the accumulator holds every product
    and sum exactly (its width is made so), and so does float64 (well under 53 bits): one product."""
    if exact:
        return acc.quantize(x @ w.T + b)
    out = np.broadcast_to(acc.quantize(b), (len(x), len(b))).copy()
    for i in range(w.shape[1]):
        out = acc.quantize(out + acc.quantize(x[:, i:i + 1] * w[:, i]))
    return out


class SequenceStudent(QuantizedStudent):
    """Quantization-aware GRU/LSTM student of a window model; score = predicted teacher log-score."""

    name = "sequence-student"
    tags = replace(QuantizedStudent.tags, sequence=True, bounded=True)

    def __init__(self, n_channels: int | None = None, cell: str = "gru", units: int = 8, hidden: tuple[int, ...] = (8,),
                 precision: dict | str | None = None, layer_precision: dict | None = None, sparsity: float = 0.0,
                 epochs: int = 30, batch_size: int = 256, lr: float = 3e-3, patience: int = 0,
                 validation_fraction: float = 0.2, seed: int = 0, contamination: float = 0.1) -> None:
        super().__init__(hidden, precision, layer_precision, sparsity, epochs, batch_size, lr, patience,
                         validation_fraction, seed, contamination)
        self.n_channels = n_channels
        self.cell = cell
        self.units = units

    def _validate(self) -> None:
        super()._validate()
        if self.cell not in CELLS:
            raise ConfigError(f"{self.name}: cell {self.cell!r}; valid: {', '.join(CELLS)}")
        if int(self.units) < 1:
            raise ConfigError(f"{self.name}: units must be at least 1, got {self.units}")

    def layer_names(self) -> list[str]:
        return ["rnn", *super().layer_names()]

    def dense_names(self) -> list[str]:
        return super().layer_names()

    def shape(self, n_features: int) -> tuple[int, int]:
        """(steps, channels) of a window of ``n_features`` time-major values."""
        c = int(self.n_channels or 1)
        if n_features % c:
            raise ConfigError(f"{self.name}: {n_features} features are not whole windows of {c} channels")
        return n_features // c, c

    def build_module(self, n_features: int, n_conditions: int):
        import torch
        from torch import nn

        _, channels = self.shape(n_features)
        rnn = (nn.GRU if self.cell == "gru" else nn.LSTM)(channels, int(self.units), batch_first=True)
        sizes = [int(self.units), *[int(h) for h in self.hidden], 1]
        module = nn.ModuleDict({"rnn": rnn, **{n: nn.Linear(a, b) for n, a, b in
                                                zip(self.dense_names(), sizes[:-1], sizes[1:])}})
        for n in self.dense_names():
            module.register_buffer(f"mask_{n}", torch.ones_like(module[n].weight))
        return module

    def accum_type(self) -> FixedType:
        """The recurrent layer's accumulator: gate sums held exactly (AP_TRN, AP_WRAP). hls4ml 1.3's
        LSTM compiles only with its accumulator of the result type, so an LSTM's is that."""
        t = self.types()
        if self.cell == "lstm":
            return t["rnn"]["result"]
        x, r = t["input"]["result"], t["rnn"]["result"]
        widest = FixedType(max(x.integer, r.integer) + max(x.frac, r.frac), max(x.integer, r.integer))
        fan_in = 2 * max(int(self.n_channels or 1), int(self.units))
        return FixedType.parse(accumulator_type(widest, t["rnn"]["weight"], t["rnn"]["bias"], fan_in))

    def forward(self, module, x, mode: str = "train"):
        """The firmware arithmetic (see :meth:`QuantizedStudent.forward`). ``exact``: hls4ml's recurrent
        layer (:meth:`_firmware_rnn`); ``train`` and ``float``: PyTorch's own GRU/LSTM with the (fake-)
        quantized weights, its state not rounded (a few units of its last bit; the gradients need the fast
        cell)."""
        import torch

        types = self.types()
        q = self._quantizer(mode)
        dtype = x.dtype if mode == "train" else torch.float64
        steps, channels = self.shape(x.shape[1])
        seq = q(types["input"]["result"], x.to(dtype)).reshape(len(x), steps, channels)
        if mode == "exact":
            h = torch.from_numpy(self._firmware_rnn(seq.numpy(), *(t.numpy() for t in self._rnn_tensors(module, q, dtype))))
            return self.dense_forward(module, h, q, dtype)
        from torch.func import functional_call

        names = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
        last = functional_call(module["rnn"], dict(zip(names, self._rnn_tensors(module, q, dtype))), (seq,))[1]
        h = last[0] if self.cell == "gru" else last[0][0]
        return self.dense_forward(module, h, q, dtype)

    def _firmware_rnn(self, seq: np.ndarray, w_ih, w_hh, b_ih, b_hh) -> np.ndarray:
        """The last state as hls4ml 1.3's ``gru_static`` / ``lstm_static`` compute it (PyTorch gate order)."""
        acc, res = self.accum_type(), self.types()["rnn"]["result"]
        exact = self.cell == "gru"  # the GRU's accumulator is wide enough; the LSTM's is its result type
        n, H = len(seq), int(self.units)
        h, c = np.zeros((n, H)), np.zeros((n, H))
        for k in range(seq.shape[1]):
            gi, gh = _dense(seq[:, k], w_ih, b_ih, acc, exact), _dense(h, w_hh, b_hh, acc, exact)
            if self.cell == "gru":
                zr = acc.quantize(lut("sigmoid", acc.quantize(gi[:, :2 * H] + gh[:, :2 * H])))
                r, z = zr[:, :H], zr[:, H:]
                cand = acc.quantize(lut("tanh", acc.quantize(gi[:, 2 * H:] + acc.quantize(r * gh[:, 2 * H:]))))
                h = res.quantize(cand * (1 - z) + h * z)
            else:
                ifo = acc.quantize(lut("sigmoid", acc.quantize(np.concatenate([gi[:, :2 * H] + gh[:, :2 * H],
                                                                               gi[:, 3 * H:] + gh[:, 3 * H:]], 1))))
                cand = acc.quantize(lut("tanh", acc.quantize(gi[:, 2 * H:3 * H] + gh[:, 2 * H:3 * H])))
                c = res.quantize(cand * ifo[:, :H] + c * ifo[:, H:2 * H])
                h = res.quantize(ifo[:, 2 * H:] * acc.quantize(lut("tanh", c)))
        return h

    def _rnn_tensors(self, module, q, dtype):
        t = self.types()["rnn"]
        rnn = module["rnn"]
        return (q(t["weight"], rnn.weight_ih_l0.to(dtype)), q(t["weight"], rnn.weight_hh_l0.to(dtype)),
                q(t["bias"], rnn.bias_ih_l0.to(dtype)), q(t["bias"], rnn.bias_hh_l0.to(dtype)))

    def _snap_to_grid(self) -> None:
        import torch

        super()._snap_to_grid()
        t = self.types()["rnn"]
        rnn = self.module_["rnn"]
        with torch.no_grad():
            for name, kind in (("weight_ih_l0", "weight"), ("weight_hh_l0", "weight"), ("bias_ih_l0", "bias"),
                               ("bias_hh_l0", "bias")):
                p = getattr(rnn, name)
                p.copy_(t[kind].quantize(p.double()).float())

    def rnn_weights(self) -> dict[str, np.ndarray]:
        """The recurrent layer's weights and biases on their grids (PyTorch's names and gate order)."""
        self._check_fitted()
        import torch

        q = self._quantizer("exact")
        with torch.no_grad():
            w_ih, w_hh, b_ih, b_hh = self._rnn_tensors(self.module_, q, torch.float64)
        return {"weight_ih": w_ih.numpy(), "weight_hh": w_hh.numpy(), "bias_ih": b_ih.numpy(), "bias_hh": b_hh.numpy()}

    def cost(self) -> dict:
        """As the dense student's, plus the recurrent layer (its multiplications once per window step)."""
        dense = self.quantized_weights()
        rnn = self.rnn_weights()
        types = self.types()
        steps, _ = self.shape(self.module_n_features())
        per_step = int(np.count_nonzero(rnn["weight_ih"]) + np.count_nonzero(rnn["weight_hh"]))
        weights = [rnn["weight_ih"], rnn["weight_hh"], *(w for w, _ in dense.values())]
        return {"parameters": int(sum(w.size for w in rnn.values()) + sum(w.size + b.size for w, b in dense.values())),
                "multiplications": int(steps * per_step + sum(np.count_nonzero(w) for w, _ in dense.values())),
                "sparsity": float(1 - sum(np.count_nonzero(w) for w in weights) / sum(w.size for w in weights)),
                "layers": {"rnn": {"shape": [rnn["weight_ih"].shape[1], int(self.units)], "cell": self.cell, "steps": steps,
                                   **{k: str(v) for k, v in types["rnn"].items()}},
                           **{n: {"shape": list(dense[n][0].shape), **{k: str(v) for k, v in types[n].items()}}
                              for n in self.dense_names()}},
                "input": str(types["input"]["result"])}
