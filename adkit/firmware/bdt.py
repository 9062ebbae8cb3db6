"""Firmware of a BDT student through conifer (the hls4ml team's tool for trees on FPGAs).

:func:`conifer_model` turns the student's trees into conifer's ensemble description (the
format of its own scikit-learn converter: one-hot node weights, leaf values already scaled by
the learning rate, ``n_classes`` 2 for a single output) and configures conifer's ``xilinxhls``
backend with the student's types: inputs and thresholds in the student's input type, leaves
and their sum in its score type. :func:`write` writes the HLS project and compiles its C
simulation (g++ with the ``ap_fixed`` headers that hls4ml ships); the C simulation's scores
are compared with the student's own quantized arithmetic event by event. :func:`estimate`
gives conifer's resource and latency estimate for the HLS design (its performance model, a BDT
fitted to HLS syntheses; conifer calls it experimental), next to the NN student's.
"""
from __future__ import annotations

import contextlib
import gc
import io
import logging
import os
import warnings
from pathlib import Path

import numpy as np

from adkit.errors import missing_extra

LEAF = -2


def _conifer():
    try:
        import conifer  # noqa: F401
    except ImportError:
        raise missing_extra("conifer", "bdt") from None


def ap_headers() -> str:
    """Where the ``ap_fixed`` headers are: ``XILINX_AP_INCLUDE`` when set, else the copy inside hls4ml."""
    given = os.environ.get("XILINX_AP_INCLUDE")
    if given:
        return given
    try:
        import hls4ml
    except ImportError:
        raise missing_extra("hls4ml", "fpga") from None
    return str(Path(hls4ml.__file__).parent / "templates" / "vivado" / "ap_types")


def ensemble(det) -> dict:
    """The student's trees as conifer's ensemble dictionary."""
    n_features = int(det.n_features_in_)
    trees = []
    for i in range(len(det.feature_)):
        n = int(det.nodes_[i])
        feature = det.feature_[i, :n].tolist()
        weight = [[0] * n_features for _ in range(n)]
        for k, f in enumerate(feature):
            if f != LEAF:
                weight[k][f] = 1
        trees.append([{"feature": feature, "weight": weight,
                       "threshold": [float(v) if f != LEAF else -2.0 for v, f in zip(det.cut_[i, :n], feature)],
                       "value": det.value_[i, :n].astype(float).tolist(),
                       "children_left": det.left_[i, :n].tolist(), "children_right": det.right_[i, :n].tolist()}])
    return {"max_depth": int(det.max_depth), "n_trees": len(trees), "n_features": n_features, "n_classes": 2,
            "trees": trees, "init_predict": [float(det.init_)], "norm": 1, "library": "sklearn",
            "splitting_convention": "<="}


def config(det, outdir: str | Path, part: str, clock_ns: float, project: str = "adkit_bdt") -> dict:
    """conifer's ``xilinxhls`` configuration with the student's types."""
    from conifer.backends import xilinxhls

    cfg = xilinxhls.auto_config()
    cfg.pop("Precision", None)
    t, s = str(det.input_type()), str(det.score_type())
    cfg.update({"OutputDir": str(outdir), "ProjectName": project, "XilinxPart": part, "ClockPeriod": str(clock_ns),
                "InputPrecision": t, "ThresholdPrecision": t, "WeightPrecision": t, "ScorePrecision": s})
    return cfg


@contextlib.contextmanager
def _quiet():
    """conifer logs and prints as it writes and compiles, and leaves files to the garbage collector
    (ResourceWarning): keep both off adkit's output, and close those files here."""
    log = logging.getLogger("conifer")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            try:
                yield
            finally:
                gc.collect()
    finally:
        log.setLevel(level)


def conifer_model(det, outdir: str | Path, part: str, clock_ns: float):
    """The conifer model of the student (nothing written yet)."""
    _conifer()
    import conifer

    with _quiet():
        return conifer.model.make_model(ensemble(det), config(det, outdir, part, clock_ns))


def write(det, outdir: str | Path, part: str, clock_ns: float):
    """Write the HLS project into ``outdir`` and compile its C simulation; returns the conifer model."""
    from adkit.firmware.hls import FirmwareError

    os.environ.setdefault("XILINX_AP_INCLUDE", ap_headers())
    model = conifer_model(det, outdir, part, clock_ns)
    try:
        with _quiet():
            model.compile()
    except Exception as e:  # conifer raises bare Exceptions on a failed g++ run
        raise FirmwareError(f"conifer could not compile the C simulation of the BDT in {outdir}: {e}") from None
    return model


def csim_scores(model, det, Z: np.ndarray, batch: int = 20000) -> np.ndarray:
    """Scores of scaled inputs ``Z`` from the compiled HLS C simulation (inputs quantized first, as the
    firmware receives them), float64."""
    Zq = det.input_type().quantize(np.asarray(Z, dtype=np.float64))
    with _quiet():
        parts = [np.asarray(model.decision_function(Zq[s:s + batch]), dtype=np.float64).reshape(-1)
                 for s in range(0, len(Zq), batch)]
    return np.concatenate(parts) if parts else np.zeros(0)


def estimate(model, clock_ns: float) -> dict:
    """conifer's estimate of the HLS design: LUT, FF, latency in clock cycles, with the method named."""
    from conifer.utils.performance import performance_estimates

    with _quiet():
        e = performance_estimates(model, "xilinxhls")
    return {"method": "conifer performance model (a BDT fitted to HLS syntheses; experimental per conifer)",
            "lut": float(e["lut"]), "ff": float(e["ff"]), "dsp": 0, "cycles": int(e["latency"]),
            "clock_ns": float(clock_ns), "error": "not stated by conifer",
            "note": "no synthesis; DSP 0: a tree compares and adds, it does not multiply"}
