"""Fixed-point types as they exist in firmware (``ap_fixed<W,I,Q,O>``) and their exact emulation.

A value of ``ap_fixed<W,I>`` has W bits, I of them integer bits (sign included), so F = W − I
fractional bits: it is a multiple of 2^−F in [−2^(I−1), 2^(I−1) − 2^−F] (``ap_ufixed``:
[0, 2^I − 2^−F]). Quantisation modes: ``AP_RND_CONV`` (round half to even, what
``torch.round`` does; the default here), ``AP_RND`` (round half up), ``AP_TRN`` (floor, the
HLS default). Overflow: ``AP_SAT`` (clamp; default here) or ``AP_WRAP``. The same function runs
on torch tensors (training, with a straight-through gradient) and on NumPy arrays (checks).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from adkit.errors import ConfigError

_TYPE = re.compile(r"^\s*ap_(u?)fixed\s*<\s*(\d+)\s*,\s*(-?\d+)\s*(?:,\s*(AP_\w+)\s*)?(?:,\s*(AP_\w+)\s*)?>\s*$")
QUANT_MODES = ("AP_RND_CONV", "AP_RND", "AP_TRN")
OVERFLOW_MODES = ("AP_SAT", "AP_WRAP")


@dataclass(frozen=True)
class FixedType:
    """``ap_fixed<width, integer, quant, overflow>`` (``signed=False``: ``ap_ufixed``)."""

    width: int
    integer: int
    signed: bool = True
    quant: str = "AP_RND_CONV"
    overflow: str = "AP_SAT"

    @classmethod
    def parse(cls, text: str, what: str = "precision") -> FixedType:
        m = _TYPE.match(str(text))
        if not m:
            raise ConfigError(f"{what}: cannot parse {text!r}; expected e.g. ap_fixed<14,6> or "
                              "ap_fixed<14,6,AP_RND_CONV,AP_SAT>")
        unsigned, w, i, q, o = m.groups()
        w, i = int(w), int(i)
        if not 1 <= w <= 64 or i > w + 32:
            raise ConfigError(f"{what}: {text!r} has an unusable width ({w} bits, {i} integer bits)")
        q, o = q or "AP_RND_CONV", o or "AP_SAT"
        if q not in QUANT_MODES:
            raise ConfigError(f"{what}: quantisation mode {q!r} in {text!r}; valid: {', '.join(QUANT_MODES)}")
        if o not in OVERFLOW_MODES:
            raise ConfigError(f"{what}: overflow mode {o!r} in {text!r}; valid: {', '.join(OVERFLOW_MODES)}")
        return cls(w, i, not unsigned, q, o)

    @property
    def frac(self) -> int:
        return self.width - self.integer

    @property
    def step(self) -> float:
        return 2.0 ** -self.frac

    @property
    def min(self) -> float:
        return -(2.0 ** (self.integer - 1)) if self.signed else 0.0

    @property
    def max(self) -> float:
        return (2.0 ** (self.integer - 1) if self.signed else 2.0 ** self.integer) - self.step

    def __str__(self) -> str:
        return f"ap_{'' if self.signed else 'u'}fixed<{self.width},{self.integer},{self.quant},{self.overflow}>"

    def quantize(self, x):
        """x on this type's grid, exactly as the HLS type would hold it (torch or NumPy)."""
        is_torch = not isinstance(x, np.ndarray) and hasattr(x, "detach")
        if not is_torch and self.quant == "AP_RND_CONV" and self.overflow == "AP_SAT":  # the common case, in place
            q = np.multiply(x, 2.0 ** self.frac)
            np.round(q, out=q)
            np.clip(q, self.min * 2.0 ** self.frac, self.max * 2.0 ** self.frac, out=q)
            return np.multiply(q, self.step, out=q)
        if is_torch:
            import torch as lib
        else:
            lib = np
        scaled = x * (2.0 ** self.frac)
        if self.quant == "AP_RND_CONV":
            q = lib.round(scaled)
        elif self.quant == "AP_RND":
            q = lib.floor(scaled + 0.5)
        else:
            q = lib.floor(scaled)
        lo, hi = self.min * 2.0 ** self.frac, self.max * 2.0 ** self.frac
        if self.overflow == "AP_SAT":
            q = lib.clip(q, lo, hi) if not is_torch else q.clamp(lo, hi)
        else:
            span = hi - lo + 1
            q = (q - lo) % span + lo
        return q * self.step

    def fake_quantize(self, x):
        """Quantise in the forward pass, identity gradient in the backward pass (STE)."""
        return x + (self.quantize(x) - x).detach()


#: Defaults in the spirit of CMS AXOL1TL: 14-bit inputs and activations with 6 integer bits,
#: 8-bit weights, a 16-bit output.
DEFAULT_PRECISION = {"input": "ap_fixed<14,6>", "weight": "ap_fixed<8,2>", "bias": "ap_fixed<12,4>",
                     "activation": "ap_fixed<14,6>", "output": "ap_fixed<16,8>"}


def parse_precision(spec: str | dict | None) -> dict[str, str]:
    """``"input=ap_fixed<12,6>,weight=..."`` or a dict → a full, validated precision dict."""
    out = dict(DEFAULT_PRECISION)
    if not spec:
        return out
    if isinstance(spec, str):
        items = {}
        for part in re.split(r",(?![^<]*>)", spec):
            if not part.strip():
                continue
            key, sep, val = part.partition("=")
            if not sep:
                raise ConfigError(f"--precision: expected KIND=ap_fixed<W,I> items, got {part.strip()!r}")
            items[key.strip()] = val.strip()
        spec = items
    bad = [k for k in spec if k not in DEFAULT_PRECISION]
    if bad:
        raise ConfigError(f"--precision: unknown kind {bad[0]!r}; valid: {', '.join(DEFAULT_PRECISION)}")
    for k, v in spec.items():
        out[k] = str(FixedType.parse(v, f"--precision {k}"))
    return {k: str(FixedType.parse(v, k)) for k, v in out.items()}


def accumulator_type(in_type: FixedType, w_type: FixedType, b_type: FixedType, n_in: int) -> str:
    """A sum of ``n_in`` products plus the bias, held exactly (no rounding, no overflow)."""
    frac = max(in_type.frac + w_type.frac, b_type.frac)
    integer = max(in_type.integer + w_type.integer, b_type.integer) + math.ceil(math.log2(n_in + 1))
    return f"ap_fixed<{integer + frac},{integer},AP_TRN,AP_WRAP>"
