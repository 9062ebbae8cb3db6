"""Resources and latency of the hls4ml Latency-strategy design before synthesis, and the side-by-side
view once synthesis has run.

hls4ml itself gives resource and latency figures only from HLS synthesis. Before synthesis adkit
asks rule4ml (Rahimifar, Ezzaoui Rahali, Therrien, arXiv:2408.05314; ``pip install
'adkit[estimate]'``), predictors trained on thousands of hls4ml designs synthesised with Vivado.
Its error, as its authors state it: R² 0.8–0.98 and sMAPE 10–30 % on their validation set. It
predicts whole networks, so the per-layer rows are its totals shared out by each layer's
multiplier count (what hls4ml's Latency strategy instantiates at reuse factor 1), and say so.

rule4ml knows four boards; the two Virtex UltraScale+ ones carry the silicon of the parts
trigger boards use: the Alveo U200 a VU9P, the U250 a VU13P. It was trained at a 10 ns clock,
io_parallel, one precision for the whole network; adkit gives it the widest of the student's
types and reports its cycles at 10 ns, with these caveats next to the figures.
"""
from __future__ import annotations

import os

import numpy as np

#: rule4ml's board whose FPGA is the part (same die and resources).
RULE4ML_BOARDS = {"xcvu9p": "alveo-u200", "xcvu13p": "alveo-u250"}
RULE4ML_ERROR = "R² 0.8–0.98, sMAPE 10–30 % on its authors' validation set (arXiv:2408.05314)"
RULE4ML_CLOCK_NS = 10.0
#: The hls4ml and Vivado versions asked of rule4ml (the newest it was trained on).
RULE4ML_VERSIONS = ("1.1.0", "2023.2")


def _widest(student) -> str:
    """One precision for rule4ml: the widest result type of the student (inputs and layer results)."""
    types = student.types()
    ts = [types["input"]["result"], *(types[n]["result"] for n in student.layer_names())]
    t = max(ts, key=lambda x: (x.width, x.integer))
    return f"ap_fixed<{t.width}, {t.integer}>"


def layer_multiplications(student) -> dict[str, int]:
    """Multipliers per layer of the Latency design at reuse factor 1: its non-zero weights."""
    return {n: int(np.count_nonzero(w)) for n, (w, _) in student.quantized_weights().items()}


def latency_estimate(student, part: str, clock_ns: float) -> dict:
    """rule4ml's LUT, FF, DSP, BRAM and cycles for the student as an hls4ml Latency design, per layer
    (shared out by multipliers) and in total; ``{"method": None, "why": ...}`` when it cannot."""
    if getattr(student, "cell", None):
        return {"method": None, "why": f"rule4ml predicts dense networks; this student has a {student.cell.upper()} "
                                       "layer"}
    board = next((b for k, b in RULE4ML_BOARDS.items() if part.lower().startswith(k)), None)
    if board is None:
        return {"method": None, "why": f"rule4ml has no board with the part {part} (it knows "
                                        f"{', '.join(RULE4ML_BOARDS)} among trigger parts)"}
    from adkit.firmware.hls import chatter_to, plain_network

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        with chatter_to(os.devnull):  # TensorFlow's start-up lines, at the file-descriptor level too
            from rule4ml.models.wrappers import MultiModelWrapper
    except ImportError:
        return {"method": None, "why": "rule4ml is not installed (pip install 'adkit[estimate]')"}
    from importlib.metadata import version

    precision = _widest(student)
    cfg = {"board": board, "model": {"strategy": "latency", "precision": precision, "reuse_factor": 1}}
    with chatter_to(os.devnull):
        est = MultiModelWrapper()
        est.load_default_models()
        row = est.predict(plain_network(student), hls_configs=[cfg], hls4ml_versions=[RULE4ML_VERSIONS[0]],
                          vivado_versions=[RULE4ML_VERSIONS[1]]).iloc[0]
    total = {r: max(0.0, float(row[r.upper()])) for r in ("lut", "ff", "dsp", "bram")}
    cycles = max(1, int(round(float(row["CYCLES"]))))
    mults = layer_multiplications(student)
    n = max(1, sum(mults.values()))
    layers = {k: {"multiplications": m, **{r: v * m / n for r, v in total.items()}} for k, m in mults.items()}
    caveats = [f"trained at a {RULE4ML_CLOCK_NS:g} ns clock: cycles are at {RULE4ML_CLOCK_NS:g} ns"
               + (f", not at the chosen {clock_ns:g} ns" if abs(clock_ns - RULE4ML_CLOCK_NS) > 1e-9 else ""),
               f"one precision for the whole network: given {precision}, the widest of the student's types",
               f"board {board}, whose FPGA is the {part.split('-')[0]}",
               "it sees layer sizes and that precision, not the weights: pruning and narrower weight types "
               "do not change its figures",
               "per-layer figures are the totals shared out by multipliers, not predicted per layer"]
    return {"method": f"rule4ml {version('rule4ml')} (predictors trained on hls4ml {RULE4ML_VERSIONS[0]} / "
                      f"Vivado {RULE4ML_VERSIONS[1]} syntheses; no synthesis here)",
            "error": RULE4ML_ERROR, **total, "cycles": cycles, "clock_ns": RULE4ML_CLOCK_NS,
            "latency_ns": cycles * RULE4ML_CLOCK_NS, "precision": precision, "board": board,
            "layers": layers, "caveats": caveats}


def synthesis_figures(result: dict) -> dict | None:
    """LUT, FF, DSP, BRAM and cycles from hls4ml's synthesis report (``hls_model.build``), or None."""
    rep = (result or {}).get("report") or {}
    c = rep.get("CSynthesisReport")
    if not c:
        return None
    clock = float(c.get("TargetClockPeriod", "nan"))
    out = {"lut": float(c["LUT"]), "ff": float(c["FF"]), "dsp": float(c["DSP"]), "bram": float(c.get("BRAM_18K", 0)),
           "cycles": int(c.get("WorstLatency", c["BestLatency"])), "clock_ns": clock}
    v = rep.get("VivadoSynthReport")
    if v:  # logic synthesis supersedes the HLS estimate of the same quantities
        out.update(lut=float(v["LUT"]), ff=float(v["FF"]), dsp=float(v.get("DSP48E", v.get("DSP", out["dsp"]))),
                   source="Vivado logic synthesis")
    out.setdefault("source", "HLS C synthesis")
    return out


def side_by_side(estimate: dict, synthesis: dict | None) -> list[str]:
    """Markdown rows: each figure estimated, synthesised, and their ratio."""
    if not estimate.get("method"):
        return []
    lines = ["| figure | estimate | synthesis | estimate / synthesis |", "|---|---|---|---|"]
    for k in ("lut", "ff", "dsp", "bram", "cycles"):
        if k not in estimate:
            continue
        e = float(estimate[k])
        s = None if synthesis is None else float(synthesis[k])
        ratio = "-" if not s else f"{e / s:.2f}"
        lines.append(f"| {k.upper()} | {e:,.0f} | {'-' if s is None else format(s, ',.0f')} | {ratio} |")
    return lines
