"""Distributed arithmetic with da4ml: the quantized student as adder graphs (no DSPs), its cost
estimate, and Verilog.

:func:`trace` replays the student's firmware arithmetic in da4ml's tracer, layer by layer: the
input word, each dense layer as a constant matrix times the previous layer's words plus the bias,
quantized to the layer's result type, then ReLU. da4ml turns every constant matrix–vector product
into a graph of shifts and additions. Its interpreter (:func:`predict`) runs that graph, so the
traced network can be compared with the student on every held-out event before any Verilog is
written.

da4ml rounds half up (``AP_RND``) or truncates (``AP_TRN``); it has no round-half-to-even, which
is adkit's default (``AP_RND_CONV``). A student meant for DA is therefore trained with ``AP_RND``
result types (``adkit distill --strategy da`` sets them); :func:`check_types` refuses the others
in one line rather than emitting firmware that differs from the student on ties.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from adkit.errors import ConfigError, missing_extra

#: Rounding of the result types da4ml reproduces, and the names it gives them.
ROUNDING = {"AP_RND": "RND", "AP_TRN": "TRN"}
OVERFLOW = {"AP_SAT": "SAT", "AP_WRAP": "WRAP"}
#: The default student precision for DA: adkit's defaults with rounding half up.
DA_PRECISION = {"input": "ap_fixed<14,6,AP_RND,AP_SAT>", "weight": "ap_fixed<8,2,AP_RND,AP_SAT>",
                "bias": "ap_fixed<12,4,AP_RND,AP_SAT>", "activation": "ap_fixed<14,6,AP_RND,AP_SAT>",
                "output": "ap_fixed<16,8,AP_RND,AP_SAT>"}


def _da4ml():
    try:
        import da4ml  # noqa: F401
    except ImportError:
        raise missing_extra("da4ml", "fpga") from None


def check_types(student) -> None:
    """Every result type must round the way da4ml does; one line naming the first that does not."""
    types = student.types()
    for name in [*student.layer_names(), *(["score"] if "score" in types else [])]:
        t = types[name]["result"]
        if t.quant not in ROUNDING:
            raise ConfigError(f"distributed arithmetic (da4ml) rounds half up or truncates, but layer {name}'s "
                              f"result type is {t}; distill with --strategy da (AP_RND types) or give AP_RND/AP_TRN "
                              "precisions")


def _kif(t) -> tuple[int, int, int]:
    """da4ml's (sign, integer bits without the sign, fraction bits) of an ap_fixed type."""
    return int(t.signed), t.integer - int(t.signed), t.frac


def _round(h, t):
    """A traced array rounded and saturated (or wrapped) to the ap_fixed type ``t``, as the firmware does."""
    return h.quantize(*_kif(t), overflow_mode=OVERFLOW[t.overflow], round_mode=ROUNDING[t.quant])


def trace(student, layers: Sequence[str] | None = None):
    """The student's firmware arithmetic as a da4ml combinational-logic graph (``CombLogic``);
    ``layers``: only these consecutive layers, fed with the previous layer's result type. A network
    that is not a chain of dense layers computes its score in its own ``trace_score``."""
    _da4ml()
    from da4ml.trace import FixedVariableArrayInput, HWConfig, comb_trace

    check_types(student)
    types = student.types()
    weights = student.quantized_weights()
    names = student.layer_names()
    if hasattr(student, "trace_score") and layers is None:
        inp = FixedVariableArrayInput((weights[names[0]][0].shape[1],), hwconf=HWConfig(1, -1, -1))
        return comb_trace(inp, student.trace_score(inp.quantize(*_kif(types["input"]["result"])), _round))
    todo = list(layers or names)
    first = names.index(todo[0])
    in_type = types["input"]["result"] if first == 0 else types[names[first - 1]]["result"]
    inp = FixedVariableArrayInput((weights[todo[0]][0].shape[1],), hwconf=HWConfig(1, -1, -1))
    h = inp.quantize(*_kif(in_type))  # the word as it arrives (already quantized; after ReLU when not the input)
    if first > 0:
        h = h.relu()
    for name in todo:
        w, b = weights[name]
        t = types[name]["result"]
        h = _round(h @ w.T + b, t)
        if name != names[-1] and name != todo[-1]:
            h = h.relu()
    return comb_trace(inp, h)


def predict(comb, student, Z: np.ndarray) -> np.ndarray:
    """The traced graph's output for scaled inputs ``Z`` (quantized to the input type first, as the
    firmware receives them), float64, one value per event."""
    Zq = student.types()["input"]["result"].quantize(np.asarray(Z, dtype=np.float64))
    return np.asarray(comb.predict(Zq.astype(np.float32)), dtype=np.float64).reshape(len(Zq), -1)[:, 0]


def pipeline(comb, clock_ns: float, latency_cutoff: float | None = None):
    """The graph cut into pipeline stages of at most ``latency_cutoff`` of da4ml's delay units
    (default: the clock period's value, the cut-off da4ml's own command line takes from the clock).
    The unit is da4ml's adder-delay model, not a timing-closed figure."""
    from da4ml.trace import to_pipeline

    cutoff = latency_cutoff if latency_cutoff is not None else max(1.0, float(clock_ns))
    # without retiming: da4ml's retiming pass did not finish (minutes, then stopped) on some students
    return to_pipeline(comb, cutoff, retiming=False, verbose=False)


def estimate(comb, clock_ns: float) -> dict:
    """Resources and latency from da4ml's own cost model, with the method named."""
    lo, hi = comb.latency
    pipe = pipeline(comb, clock_ns)
    return {"method": "da4ml cost model (adder graph; no synthesis)", "lut": float(comb.cost), "dsp": 0,
            "ff": int(pipe.reg_bits), "adder_depth": float(hi), "cycles": int(len(pipe.solutions)),
            "clock_ns": float(clock_ns),
            "note": "LUT = da4ml's cost (adder bits), its proxy for LUTs; FF = the pipeline's register bits; DSP 0 "
                    "by construction (no multipliers); cycles = pipeline stages with at most one clock period of "
                    "da4ml delay units each; not checked against synthesis here"}


#: What the per-layer rows of :func:`layer_estimates` are, said next to them in the report.
LAYER_CAVEAT = "per-layer rows traced and pipelined one layer at a time; the total is the whole network, " \
               "optimised across layers"


def layer_estimates(student, clock_ns: float) -> dict[str, dict]:
    """da4ml's cost and pipeline per layer, each traced on its own from the previous layer's output
    word: LUT, FF, DSP (0) and cycles. Their sum can differ from the whole network's figures, which
    da4ml optimises and pipelines across layer boundaries."""
    out = {}
    if hasattr(student, "trace_score"):  # not a chain of layers: the whole network only
        return out
    for name in student.layer_names():
        comb = trace(student, [name])
        pipe = pipeline(comb, clock_ns)
        out[name] = {"lut": float(comb.cost), "ff": int(pipe.reg_bits), "dsp": 0, "cycles": int(len(pipe.solutions))}
    return out


#: The CMS AXOL1TL v5 budget: 57 inputs at ap_fixed<14,6>, ~6-bit weights (ap_fixed<6,3>), about
#: 2,300 weights (57-32-16-1 has 2,352), a score within 2 bunch crossings of the 40 MHz input.
AXOL1TL = {"hidden": [32, 16], "bunch_crossings": 2, "bunch_ns": 25.0,
           "precision": {"input": "ap_fixed<14,6,AP_RND,AP_SAT>", "weight": "ap_fixed<6,3,AP_RND,AP_SAT>",
                         "bias": "ap_fixed<12,4,AP_RND,AP_SAT>", "activation": "ap_fixed<14,6,AP_RND,AP_SAT>",
                         "output": "ap_fixed<16,8,AP_RND,AP_SAT>"}}


#: An AXOL1TL v6-style network (:class:`adkit.detectors.selfsup.SelfSupervisedTrigger`): the v5 encoder
#: sizes, a 3-number bottleneck, the self-supervised distance as the score, 5-bit weights.
AXOL1TL_V6 = {"hidden": [32, 16], "bottleneck": 3, "bunch_crossings": 2, "bunch_ns": 25.0,
              "precision": {"input": "ap_fixed<14,6,AP_RND,AP_SAT>", "weight": "ap_fixed<5,1,AP_RND,AP_SAT>",
                            "bias": "ap_fixed<12,4,AP_RND,AP_SAT>", "activation": "ap_fixed<14,6,AP_RND,AP_SAT>"}}


def write_rtl(comb, outdir: str | Path, clock_ns: float, name: str = "adkit_trigger") -> dict:
    """Verilog of the pipelined network (da4ml's RTL model) in the new directory ``outdir``; returns its metadata."""
    import json

    from da4ml.codegen import RTLModel

    out = Path(outdir)
    if out.exists() and any(out.iterdir()):
        raise ConfigError(f"{out}: exists and is not empty; the Verilog goes into a new directory")
    model = RTLModel(pipeline(comb, clock_ns), name, out, flavor="verilog", clock_period=float(clock_ns))
    model.write()
    meta_path = out / "metadata.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    return {"directory": str(out), "top": f"{name}_wrapper", "files": sorted(p.name for p in (out / "src").glob("*.v")),
            "metadata": meta}
