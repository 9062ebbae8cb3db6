"""Trigger firmware from a quantized student: the backends (:mod:`adkit.firmware.backends`: hls4ml's
project and C simulation, :mod:`adkit.firmware.hls`; da4ml's adder graph and Verilog,
:mod:`adkit.firmware.da`), and the check of every one against the student (:mod:`adkit.firmware.report`)."""
from adkit.firmware.hls import (
    BACKENDS,
    DEFAULT_CLOCK_NS,
    DEFAULT_PART,
    HLS_TOOLS,
    FirmwareError,
    _hls4ml,
    accumulator_type,
    compiler,
    csim_scores,
    decision_mismatch,
    hls_config,
    plain_network,
    synthesize,
    write_project,
)

__all__ = ["BACKENDS", "DEFAULT_CLOCK_NS", "DEFAULT_PART", "HLS_TOOLS", "FirmwareError", "_hls4ml",
           "accumulator_type", "compiler", "csim_scores", "decision_mismatch", "hls_config", "plain_network",
           "synthesize", "write_project"]
