"""Firmware backends: the routes from a quantized student to trigger firmware, one contract.

A backend builds its design from the student (``build``), scores events with that design bit
for bit as the hardware would (``predict``), estimates its resources and latency
(``estimate``) and runs synthesis where the tools exist (``synthesize``).
:func:`adkit.firmware.report.check_firmware` scores the held-out events with every backend's
design, and each backend's ``check`` compares them with the quantized student and returns its
part of the report. The ``--strategy`` of ``adkit distill`` chooses the backends
(:data:`FIRMWARE_BACKENDS`): ``latency`` is hls4ml's Latency strategy (HLS C++ and its C
simulation); ``da`` adds da4ml's distributed arithmetic (an adder graph, and its Verilog
simulated with Verilator, and synthesized with Yosys on request). A BDT student has one backend
of its own, conifer's HLS project checked by its C simulation (:class:`ConiferBDT`).
"""
from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from adkit.firmware.budget import budget
from adkit.firmware.hls import DEFAULT_CLOCK_NS, DEFAULT_PART, FirmwareError


@dataclass(frozen=True)
class Target:
    """Where the firmware goes: the FPGA part, the clock, the HLS tool flow of hls4ml."""

    part: str = DEFAULT_PART
    clock_ns: float = DEFAULT_CLOCK_NS
    hls_backend: str = "Vitis"

    @classmethod
    def of(cls, part: str | None = None, clock_ns: float | None = None, hls_backend: str | None = None) -> Target:
        """A target with the defaults where a value is not given."""
        return cls(part or DEFAULT_PART, clock_ns or DEFAULT_CLOCK_NS, hls_backend or "Vitis")


class FirmwareBackend(Protocol):
    """One route from a quantized student to firmware."""

    #: The score version its design adds to the report ("firmware": hls4ml, "da": da4ml).
    name: str

    def build(self, student, outdir: Path | None) -> None:
        """Make the design of ``student`` (in ``outdir`` where it writes files)."""

    def predict(self, Z: np.ndarray) -> np.ndarray:
        """Scores of scaled inputs ``Z`` as the design computes them, bit for bit."""

    def estimate(self) -> dict:
        """Resources and latency: ``method``, ``error``, ``lut``/``ff``/``dsp``/``cycles`` (or ``why`` not)."""

    def synthesize(self) -> dict:
        """Synthesis results, or ``{"ran": False, "why": ...}``."""

    def check(self, scores: dict[str, dict[str, np.ndarray]], inputs: dict[str, np.ndarray], thresholds) -> dict:
        """This backend's part of the report: its design against the quantized student, from every
        version's scores (``scores[version][event set]``, ``scores[name]`` among them) and the scaled
        inputs they were computed from (``inputs[event set]``, "background" first)."""


class HlsLatency:
    """hls4ml, Latency strategy, ``io_parallel``: the HLS C++ project, checked by its C simulation.

    With ``test_vectors`` the project also gets that many held-out background events as pattern
    files: ``tb_data/tb_input_features.dat`` / ``tb_output_predictions.dat`` (what hls4ml's
    testbench reads) and ``test_vectors.csv`` (one event per row, with a header)."""

    name = "firmware"

    def __init__(self, target: Target = Target(), synth: bool = False, test_vectors: int = 1000) -> None:
        self.target, self.synth, self.test_vectors = target, synth, test_vectors
        self.model = self.outdir = self.student = None

    @staticmethod
    def check_tools() -> None:
        """Fail before training, not after: hls4ml and a C++ compiler must be there."""
        from adkit.firmware.hls import _hls4ml, compiler

        _hls4ml()
        compiler()

    def build(self, student, outdir: Path | None) -> None:
        from adkit.firmware.hls import write_project

        self.student, self.outdir = student, outdir
        self.model = write_project(student.detector, outdir, backend=self.target.hls_backend, part=self.target.part,
                                   clock_ns=self.target.clock_ns)

    def predict(self, Z: np.ndarray) -> np.ndarray:
        from adkit.firmware.hls import csim_scores

        return csim_scores(self.model, Z)

    def estimate(self) -> dict:
        from adkit.firmware.estimate import latency_estimate

        return latency_estimate(self.student.detector, self.target.part, self.target.clock_ns)

    def synthesize(self) -> dict:
        from adkit.firmware.hls import synthesize

        return synthesize(self.model, self.target.hls_backend) if self.synth else \
            {"ran": False, "why": "not requested (--synth)"}

    def check(self, scores: dict[str, dict[str, np.ndarray]], inputs: dict[str, np.ndarray], thresholds) -> dict:
        from adkit.firmware.estimate import synthesis_figures
        from adkit.firmware.hls import decision_mismatch

        n = self.test_vectors
        vectors = write_test_vectors(self.outdir, inputs["background"][:n], scores["student"]["background"][:n],
                                     self.student.spec.columns) if n else None
        mine, student = joined(scores[self.name]), joined(scores["student"])
        diff = mine - student
        fw = {"backend": self.target.hls_backend, "part": self.target.part, "clock_ns": self.target.clock_ns,
              "io_type": "io_parallel", "strategy": "Latency", "project": str(self.outdir),
              "max_abs_difference": float(np.abs(diff).max()), "events_differing": int(np.count_nonzero(diff)),
              "decision_mismatch": {t.name: decision_mismatch(mine, student, t.value) for t in thresholds},
              "test_vectors": vectors, "synthesis": self.synthesize(), "estimate": self.estimate()}
        fw["synthesis_figures"] = synthesis_figures(fw["synthesis"]) if fw["synthesis"]["ran"] else None
        if fw["estimate"].get("method"):
            fw["budget"] = budget(fw["estimate"], self.target.part)
        return {"firmware": fw}


class DistributedArithmetic:
    """da4ml: the student as a multiplier-free adder graph; with ``rtl_dir``, its Verilog, simulated
    with Verilator on every held-out event (:func:`rtl_check`) and, with ``yosys``, synthesized by
    Yosys beside da4ml's estimate (:mod:`adkit.firmware.yosys`)."""

    name = "da"

    def __init__(self, target: Target = Target(), rtl_dir: str | Path | None = None, yosys: bool = False) -> None:
        self.target, self.rtl_dir, self.yosys = target, rtl_dir, yosys
        self.comb = self.student = None

    @staticmethod
    def check_tools() -> None:
        from adkit.firmware.da import _da4ml

        _da4ml()

    def build(self, student, outdir: Path | None) -> None:
        from adkit.firmware import da

        self.student, self.comb = student, da.trace(student.detector)

    def predict(self, Z: np.ndarray) -> np.ndarray:
        from adkit.firmware import da

        return da.predict(self.comb, self.student.detector, Z)

    def estimate(self) -> dict:
        from adkit.firmware import da

        return {**da.estimate(self.comb, self.target.clock_ns),
                "layers": da.layer_estimates(self.student.detector, self.target.clock_ns),
                "caveats": [da.LAYER_CAVEAT]}

    def synthesize(self, top: str = "adkit_trigger_wrapper") -> dict:
        """Yosys on the Verilog in ``rtl_dir`` (written by :meth:`check`), when asked for."""
        if not (self.yosys and self.rtl_dir is not None):
            return {"ran": False, "why": "not requested (--synth yosys, with --rtl)"}
        from adkit.firmware import yosys

        return yosys.synthesize(self.rtl_dir, top, self.target.part)

    def check(self, scores: dict[str, dict[str, np.ndarray]], inputs: dict[str, np.ndarray], thresholds) -> dict:
        every = {v: joined(s) for v, s in scores.items()}
        diff = every[self.name] - every["student"]
        out = {"da": {"events": int(len(diff)), "events_differing": int(np.count_nonzero(diff)),
                      "max_abs_difference": float(np.abs(diff).max()) if len(diff) else 0.0,
                      "estimate": self.estimate()}}
        out["da"]["budget"] = budget(out["da"]["estimate"], self.target.part)
        if self.rtl_dir is not None:
            Zq = self.student.detector.types()["input"]["result"].quantize(joined(inputs).astype(np.float64))
            out["rtl"] = rtl_check(self.comb, self.rtl_dir, self.target.clock_ns, Zq, every, thresholds)
            if self.yosys:
                from adkit.firmware.yosys import beside

                syn = self.synthesize(out["rtl"]["top"])
                out["rtl"]["synthesis"] = {**syn, "beside_estimate": beside(out["da"]["estimate"], syn)}
        return out


class ConiferBDT:
    """conifer, ``xilinxhls`` backend: the BDT student's HLS project, checked by its compiled C
    simulation against the student's own quantized arithmetic on every held-out event."""

    name = "bdt"

    def __init__(self, target: Target = Target()) -> None:
        self.target = target
        self.model = self.outdir = self.student = None
        self._tmp = None

    @staticmethod
    def check_tools() -> None:
        from adkit.firmware.bdt import _conifer, ap_headers
        from adkit.firmware.hls import compiler

        _conifer()
        ap_headers()
        compiler()

    def build(self, student, outdir: Path | None) -> None:
        import tempfile

        from adkit.firmware.bdt import write

        self.student = student
        if outdir is None:  # --target cpu: the C simulation is still compiled and checked, then dropped
            self._tmp = tempfile.TemporaryDirectory(prefix="adkit-bdt-")
            outdir = Path(self._tmp.name) / "conifer"
        self.outdir = outdir
        self.model = write(student.detector, outdir, self.target.part, self.target.clock_ns)

    def predict(self, Z: np.ndarray) -> np.ndarray:
        from adkit.firmware.bdt import csim_scores

        return csim_scores(self.model, self.student.detector, Z)

    def estimate(self) -> dict:
        from adkit.firmware.bdt import estimate

        return estimate(self.model, self.target.clock_ns)

    def synthesize(self) -> dict:
        return {"ran": False, "why": "HLS synthesis of the conifer project needs Vitis HLS (build_hls.tcl is in "
                                     "the project)"}

    def check(self, scores: dict[str, dict[str, np.ndarray]], inputs: dict[str, np.ndarray], thresholds) -> dict:
        mine, student = joined(scores[self.name]), joined(scores["student"])
        diff = mine - student
        out = {"backend": "conifer xilinxhls", "part": self.target.part, "clock_ns": self.target.clock_ns,
               "project": None if self._tmp else str(self.outdir), "events": int(len(diff)),
               "events_differing": int(np.count_nonzero(diff)),
               "max_abs_difference": float(np.abs(diff).max()) if len(diff) else 0.0,
               "estimate": self.estimate(), "synthesis": self.synthesize()}
        out["budget"] = budget(out["estimate"], self.target.part)
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        return {"bdt": out}


#: The backends of each ``--strategy``, hls4ml's first where a project is built.
FIRMWARE_BACKENDS: dict[str, tuple[type, ...]] = {"latency": (HlsLatency,),
                                                  "da": (HlsLatency, DistributedArithmetic)}


def joined(per_set: dict[str, np.ndarray]) -> np.ndarray:
    """All held-out event sets in one array, in the order of the report's ``events``."""
    return np.concatenate(list(per_set.values()))


def rtl_check(comb, rtl_dir: str | Path, clock_ns: float, Zq: np.ndarray, scores: dict[str, np.ndarray],
              thresholds) -> dict:
    """Write the Verilog and simulate it with Verilator on every event: bit-exact against the quantized
    student and the hls4ml C simulation, trigger decisions against the float student."""
    from adkit.firmware import da, rtlsim

    meta = da.write_rtl(comb, rtl_dir, clock_ns)
    out = {"top": meta["top"], "cycles": meta["metadata"].get("latency"), "files": meta["files"], "simulated": False}
    try:
        rtlsim.verilator()
    except FirmwareError as e:
        return {**out, "why": str(e)}
    y, rate = rtlsim.simulate(rtl_dir, comb, int(meta["metadata"].get("latency", 0)), meta["top"], Zq)
    version = subprocess.run([rtlsim.verilator(), "--version"], capture_output=True, text=True).stdout.strip()
    out.update(simulated=True, simulator=version, events=int(len(y)), events_per_second=float(rate),
               differing_vs_student=int(np.count_nonzero(y != scores["student"])),
               differing_vs_csim=(int(np.count_nonzero(y != scores["firmware"])) if "firmware" in scores else None),
               decisions_equal_vs_float={t.name: float(np.mean((y > t.value) == (scores["student_float"] > t.value)))
                                         for t in thresholds})
    return out


def write_test_vectors(outdir: str | Path, Z: np.ndarray, expected: np.ndarray, columns: Sequence[str]) -> dict:
    """Input/expected-output patterns of the firmware: the inputs as the firmware sees them (scaled) and
    the quantized student's output, which the firmware reproduces bit for bit."""
    d = Path(outdir)
    (d / "tb_data").mkdir(parents=True, exist_ok=True)
    fmt = "%.10g"
    np.savetxt(d / "tb_data" / "tb_input_features.dat", Z, fmt=fmt, delimiter=" ")
    np.savetxt(d / "tb_data" / "tb_output_predictions.dat", np.asarray(expected).reshape(-1, 1), fmt=fmt)
    header = ",".join([*columns, "expected_score"])
    np.savetxt(d / "test_vectors.csv", np.column_stack([Z, expected]), fmt=fmt, delimiter=",", header=header,
               comments="")
    return {"events": int(len(Z)), "files": ["tb_data/tb_input_features.dat", "tb_data/tb_output_predictions.dat",
                                             "test_vectors.csv"]}
