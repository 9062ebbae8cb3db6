"""Quantized MLP student for trigger firmware (knowledge distillation: Pol, Govorkova et al.).

A small dense network (57 → 32 → 16 → 1 by default, ReLU) regresses a teacher's
(standardised log-)score. It is trained *quantization-aware*: inputs, weights, biases, each
layer's result and the output are rounded to the fixed-point types they will have in the
firmware (straight-through gradients), and optional magnitude pruning zeroes a fraction of
the hidden-layer weights (the zeros cost no multiplier in HLS). Scoring evaluates exactly
that arithmetic in float64, so the score equals what the HLS C simulation computes.

Precisions: ``input``, ``weight``, ``bias``, ``activation`` (each hidden layer's result),
``output``; ``layer_precision`` overrides them per layer (``{"fc1": {"weight": ...}}``).

``quantization="hgq"``: heterogeneous quantization as HGQ (Sun et al., FPGA '26) and PQuantML
learn it, with PQuantML's PyTorch quantizer (``pquant-ml``, extra ``compress``). Every weight
has its own integer and fractional bits, each hidden layer's result its own pair; they are
trained with the network (the gradient of a bit-width is the HGQ surrogate, ln 2 times the
rounding error) against ``bit_cost`` times the effective bit operations (EBOPs: Σ over the
multiplications of weight bits × input bits, the HGQ paper's resource proxy). The precisions
given are the containers: no learned width exceeds them, so every weight stays on its layer's
grid and the firmware types are unchanged apart from each hidden layer's learned result type.
A weight whose bits reach zero is pruned. ``sparsity`` adds magnitude pruning on top.
"""
from __future__ import annotations

import math
from dataclasses import replace
from functools import lru_cache

import numpy as np

from adkit.detectors.torch_base import TorchDetector
from adkit.errors import ConfigError, ModelFileError, missing_extra
from adkit.fixedpoint import FixedType, parse_precision
from adkit.validation import Rule, choice

#: Quantization schemes: one type per layer and kind, or HGQ's learned per-weight bit widths.
QUANTIZATION = ("uniform", "hgq")
#: ``lr_schedule``: a constant learning rate, or cosine decay to 0 over the epochs.
LR_SCHEDULES = ("constant", "cosine")
#: pquant's name of each ap_fixed rounding mode.
_ROUND = {"AP_RND": "RND", "AP_RND_CONV": "RND_CONV", "AP_TRN": "TRN"}


@lru_cache(maxsize=64)
def _parsed(spec_json: str) -> dict[str, str]:
    """:func:`parse_precision` of a precision given as JSON text (parsed once per distinct value)."""
    import json

    return parse_precision(json.loads(spec_json))


def _hgq_quantizer():
    """PQuantML's PyTorch HGQ quantizer (without Keras's TensorFlow backend, unless the user chose it)."""
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        from pquant.core.torch.hgq_quantizer import HGQQuantizer
    except ImportError:
        raise missing_extra("pquant-ml", "compress") from None
    return HGQQuantizer


class QuantizedStudent(TorchDetector):
    """Quantization-aware MLP student of a teacher's score; score = predicted teacher log-score."""

    name = "student"
    tags = replace(TorchDetector.tags, uses_target=True)
    select_best = False  # pruning changes the network during training: keep the final one
    param_rules = {"quantization": choice(*QUANTIZATION), "bit_cost": Rule("float", 0, 1),
                   "lr_schedule": choice(*LR_SCHEDULES)}
    legacy_params = {**TorchDetector.legacy_params, "quantization": "uniform", "bit_cost": 0.0,
                     "lr_schedule": "constant"}
    #: Class defaults for subclasses without these parameters (the sequence student is uniform).
    quantization, bit_cost, lr_schedule = "uniform", 0.0, "constant"

    def __init__(self, hidden: tuple[int, ...] = (32, 16), precision: dict | str | None = None,
                 layer_precision: dict | None = None, sparsity: float = 0.0, epochs: int = 30,
                 batch_size: int = 1024, lr: float = 3e-3, patience: int = 0, validation_fraction: float = 0.2,
                 seed: int = 0, contamination: float = 0.1, quantization: str = "uniform",
                 bit_cost: float = 1e-6, lr_schedule: str = "constant") -> None:
        super().__init__(epochs, batch_size, lr, patience, validation_fraction, seed, contamination)
        self.hidden = hidden
        self.precision = precision  # stored as given (scikit-learn's convention); read by precisions()
        self.layer_precision = layer_precision
        self.sparsity = sparsity
        self.quantization = quantization
        self.bit_cost = bit_cost
        self.lr_schedule = lr_schedule

    # --- layers and their types -------------------------------------------------------------
    def layer_names(self) -> list[str]:
        return [f"fc{i + 1}" for i in range(len(self.hidden))] + ["out"]

    def types(self, module=None, learned: bool = True) -> dict[str, dict[str, FixedType]]:
        """Fixed-point type of every quantity: {"input": {...}, "fc1": {"weight", "bias", "result"}, ...}.

        With ``quantization="hgq"`` a hidden layer's result type is the one learned (of ``module``,
        default the fitted network); before training, or with ``learned=False``, the container given."""
        names = self.layer_names()
        precision, layers = self.precisions(), self.layer_precision or {}
        if not isinstance(layers, dict) or not all(isinstance(v, dict) for v in layers.values()):
            raise ConfigError("student: layer_precision must map layer names to {kind: type} mappings")
        bad = [k for k in layers if k not in names]
        if bad:
            raise ConfigError(f"student: layer_precision names unknown layer {bad[0]!r}; layers: {', '.join(names)}")
        out = {"input": {"result": FixedType.parse(precision["input"], "input precision")}}
        for n in names:
            over = layers.get(n, {})
            unknown = [k for k in over if k not in ("weight", "bias", "result")]
            if unknown:
                raise ConfigError(f"student: layer {n}: unknown precision kind {unknown[0]!r}; valid: weight, bias, result")
            default_result = precision["output" if n == "out" else "activation"]
            out[n] = {k: FixedType.parse(over.get(k, d), f"{n} {k} precision") for k, d in
                      (("weight", precision["weight"]), ("bias", precision["bias"]),
                       ("result", default_result))}
        module = module if module is not None else getattr(self, "module_", None)
        if self.quantization == "hgq" and learned and module is not None:
            cached = getattr(self, "_learned_", None) if module is getattr(self, "module_", None) else None
            for n in self._learned_layers():
                out[n]["result"] = cached[n] if cached else self._learned_type(module[f"rq_{n}"], out[n]["result"])
        return out

    def _cache_learned(self) -> None:
        """The fitted network's learned result types, read once (a traced export cannot read tensors as
        numbers); each must lie within its container, else the network (a model file) is damaged."""
        self._learned_ = None
        if self.quantization != "hgq":
            return
        containers = self.types(learned=False)
        learned = {n: t["result"] for n, t in self.types().items() if n in self._learned_layers()}
        for n, t in learned.items():
            c = containers[n]["result"]
            if not (1 <= t.width <= c.width and t.integer <= c.integer and t.frac <= c.frac):
                raise ModelFileError(f"{self.name}: layer {n}'s learned type {t} is not within its container {c}: "
                                     "the network is damaged")
        self._learned_ = learned

    def precisions(self) -> dict[str, str]:
        """The ``precision`` parameter as a full, validated dict (the defaults where it is silent)."""
        import json

        return dict(_parsed(json.dumps(self.precision, sort_keys=True)))

    @staticmethod
    def _learned_type(q, container: FixedType) -> FixedType:
        """The ap_fixed type of a trained per-layer HGQ quantizer (signed, saturating, the container's rounding)."""
        f = int(round(float(q.f.detach().reshape(-1)[0])))
        i = max(int(round(float(q.i.detach().reshape(-1)[0]))), -f)
        return FixedType(1 + i + f, 1 + i, True, container.quant, "AP_SAT")

    def _validate(self) -> None:
        self.check_hyperparameters()  # the ranges of sparsity, bit_cost, quantization ... (param_rules)
        super()._validate()
        self.types()
        if self.quantization == "hgq":
            _hgq_quantizer()

    # --- network ----------------------------------------------------------------------------------
    def build_module(self, n_features: int, n_conditions: int):
        import torch
        from torch import nn

        sizes = [n_features, *[int(h) for h in self.hidden], 1]
        module = nn.ModuleDict({n: nn.Linear(a, b) for n, a, b in zip(self.layer_names(), sizes[:-1], sizes[1:])})
        for n in self.layer_names():
            module.register_buffer(f"mask_{n}", torch.ones_like(module[n].weight))
        if self.quantization == "hgq":
            self._add_hgq(module)
        return module

    def _add_hgq(self, module) -> None:
        """PQuantML's HGQ quantizers: ``wq_<layer>`` per weight, ``rq_<layer>`` per hidden layer's result,
        each bounded by its container type (never wider, so every value stays on the container's grid)."""
        HGQQuantizer = _hgq_quantizer()
        types = self.types(learned=False)
        names = self.dense_names()
        for n in names:
            w, r = types[n]["weight"], types[n]["result"]
            wq = HGQQuantizer(1, w.integer - 1, w.frac, "SAT", "RND", is_data=False, granularity="per_weight",
                              i_min=-w.frac, i_max=w.integer - 1, f_min=-w.integer, f_max=w.frac)
            wq.build(tuple(module[n].weight.shape))
            module[f"wq_{n}"] = wq
            if n in self._learned_layers():
                rq = HGQQuantizer(1, r.integer - 1, r.frac, "SAT", _ROUND[r.quant], is_data=True,
                                  granularity="per_tensor", i_min=0, i_max=r.integer - 1, f_min=0, f_max=r.frac)
                rq.build((1, module[n].weight.shape[0]))
                module[f"rq_{n}"] = rq

    def forward(self, module, x, mode: str = "train"):
        """The firmware arithmetic. ``train``: fake-quantized (straight-through gradients);
        ``exact``: quantized in float64, what the firmware computes; ``float``: no quantization."""
        import torch

        types = self.types(module)
        q = self._quantizer(mode)
        dtype = x.dtype if mode == "train" else torch.float64
        return self.dense_forward(module, q(types["input"]["result"], x.to(dtype)), q, dtype, mode)

    @staticmethod
    def _quantizer(mode: str):
        """``train``: fake-quantized (straight-through gradients); ``exact``: quantized in float64;
        ``float``: no quantization."""
        if mode == "train":
            return lambda t, v: t.fake_quantize(v)
        if mode == "exact":
            return lambda t, v: t.quantize(v)
        return lambda t, v: v

    def dense_names(self) -> list[str]:
        """The dense layers (all of them here; a sequence student puts its recurrent layer first)."""
        return self.layer_names()

    def dense_forward(self, module, h, q, dtype, mode: str = "exact"):
        """The dense layers on ``h``: ReLU between them, the last one's result squeezed to the score."""
        import torch

        types = self.types(module)
        names = self.dense_names()
        for n in names:
            h = self._dense(module, n, h, q, dtype, mode, types[n])
            if n != names[-1]:
                h = torch.relu(h)
        return h.squeeze(1)

    def _dense(self, module, n: str, h, q, dtype, mode: str, t: dict):
        """One dense layer's result word: weights and bias on their grids, the sum rounded to its type
        (HGQ: each weight on its own grid; in training the learned quantizers, with their surrogate
        gradients for the bit widths)."""
        import torch

        hgq = self.quantization == "hgq"
        w = module[n].weight * getattr(module, f"mask_{n}")
        if hgq:
            w = module[f"wq_{n}"](w, training=mode == "train")
        w = q(t["weight"], w.to(dtype))
        b = q(t["bias"], module[n].bias.to(dtype))
        h = torch.nn.functional.linear(h, w, b)
        if hgq and mode == "train" and n in self._learned_layers():
            return module[f"rq_{n}"](h, training=True)
        return q(t["result"], h)

    def _learned_layers(self) -> list[str]:
        """The layers whose result type HGQ learns: all but the output (the score's resolution sets the thresholds)."""
        return self.dense_names()[:-1]

    def ebops(self, module=None):
        """HGQ's effective bit operations: Σ over the multiplications of the weight's bits (its learned
        integer + fractional bits; 0 when pruned) × the bits of the input it multiplies. A tensor
        with gradients in training; ``quantization="hgq"`` only."""
        import torch

        module = module if module is not None else self.module_
        t_in = self.types(module)["input"]["result"]
        bits_in = torch.tensor(float(t_in.width))
        total = torch.tensor(0.0)
        names = self.dense_names()
        for n in names:
            wb = module[f"wq_{n}"].b * getattr(module, f"mask_{n}")
            total = total + (wb * bits_in).sum()
            if n in self._learned_layers():
                bits_in = module[f"rq_{n}"].b.reshape(1, -1).expand(1, wb.shape[0])
        return total

    def on_epoch_start(self, module, epoch: int) -> None:
        """Magnitude pruning: sparsity ramps up linearly over the first half of the epochs."""
        import torch

        if not self.sparsity:
            return
        frac = float(self.sparsity) * min(1.0, epoch / max(1, self.epochs // 2))
        with torch.no_grad():
            for n in self.dense_names()[:-1]:
                w = module[n].weight.abs().flatten()
                k = int(frac * len(w))
                mask = getattr(module, f"mask_{n}")
                mask.fill_(1.0)
                if k:
                    thr = w.kthvalue(k).values
                    mask.copy_((module[n].weight.abs() > thr).float())

    def learning_rate(self, epoch: int) -> float:
        """``lr`` throughout, or with ``lr_schedule="cosine"`` decayed to 0 over the epochs (the network
        kept is the last one, so the last epochs make small steps)."""
        if self.lr_schedule == "cosine":
            return float(self.lr) * 0.5 * (1.0 + math.cos(math.pi * epoch / max(int(self.epochs), 1)))
        return float(self.lr)

    def batch_loss(self, module, x, c, generator, y=None):
        """The task's loss (:meth:`validation_loss`), plus ``bit_cost`` × EBOPs with HGQ."""
        loss = self.validation_loss(module, x, c, generator, y)
        if self.quantization == "hgq":
            loss = loss + float(self.bit_cost) * self.ebops(module)
        return loss

    def validation_loss(self, module, x, c, generator, y=None):
        return ((self.forward(module, x) - y) ** 2).mean()

    def event_scores(self, module, x, c):
        return {"score": self.forward(module, x, "exact")}

    def fit(self, X, y=None, **kwargs) -> QuantizedStudent:
        self._learned_ = None  # an earlier fit's types are not this network's
        super().fit(X, y, **kwargs)
        self._snap_to_grid()
        self._cache_learned()
        return self

    def _load_tensors(self, config: dict, tensors: dict[str, np.ndarray]) -> None:
        super()._load_tensors(config, tensors)
        self._cache_learned()

    def _snap_to_grid(self) -> None:
        """Keep the firmware's weights: every weight and bias on its fixed-point grid, pruned ones 0.

        Quantization-aware training leaves float "shadow" weights between the grid points; the
        network they define is a training device that nothing deploys, and it can rank events
        differently from the firmware. After this the stored weights are the firmware's, the
        quantized score is unchanged, and :meth:`float_score` is this very network in float
        arithmetic."""
        import torch

        types = self.types()
        with torch.no_grad():
            for n in self.dense_names():
                lin, mask = self.module_[n], getattr(self.module_, f"mask_{n}")
                w = lin.weight * mask
                if self.quantization == "hgq":
                    w = self.module_[f"wq_{n}"](w, training=False)
                lin.weight.copy_(types[n]["weight"].quantize(w.double()).float())
                lin.bias.copy_(types[n]["bias"].quantize(lin.bias.double()).float())

    def float_score(self, X: np.ndarray) -> np.ndarray:
        """The same network (its firmware weights) in float arithmetic: inputs, layer results and
        output neither rounded nor saturated (what fixed-point arithmetic costs, for reports)."""
        import torch

        self._check_fitted()
        with torch.inference_mode():
            return self.forward(self.module_, torch.from_numpy(np.asarray(X, dtype=np.float32)), "float").numpy()

    # --- firmware view -------------------------------------------------------------------------
    def quantized_weights(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """(weight, bias) per layer, on their fixed-point grids, pruned weights exactly 0."""
        self._check_fitted()
        types = self.types()
        out = {}
        for n in self.dense_names():
            lin = self.module_[n]
            w = lin.weight * getattr(self.module_, f"mask_{n}")
            if self.quantization == "hgq":
                w = self.module_[f"wq_{n}"](w, training=False)
            w = w.detach().double().numpy()
            out[n] = (types[n]["weight"].quantize(w), types[n]["bias"].quantize(lin.bias.detach().double().numpy()))
        return out

    def cost(self) -> dict:
        """Parameters, multiplications (non-zero weights) and bit widths of the firmware network."""
        qw = self.quantized_weights()
        types = self.types()
        return {"parameters": int(sum(w.size + b.size for w, b in qw.values())),
                "multiplications": int(sum(np.count_nonzero(w) for w, _ in qw.values())),
                "sparsity": float(1 - sum(np.count_nonzero(w) for w, _ in qw.values()) / sum(w.size for w, _ in qw.values())),
                "layers": {n: {"shape": list(qw[n][0].shape), **{k: str(v) for k, v in types[n].items()}}
                           for n in self.layer_names()},
                "input": str(types["input"]["result"]),
                **({"ebops": int(round(float(self.ebops().detach())))} if self.quantization == "hgq" else {})}
