"""Trigger firmware from a quantized student: the hls4ml project and its C simulation
(:mod:`adkit.firmware.hls`), and the verification report (:mod:`adkit.firmware.report`)."""
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
