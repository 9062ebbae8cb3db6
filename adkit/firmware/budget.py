"""Does a design fit the Level-1 trigger: its latency against bunch crossings, its resources
against the FPGA part."""
from __future__ import annotations

#: Resources of the parts trigger boards use (AMD Virtex UltraScale+ data sheet, DS923).
PARTS = {"xcvu9p": {"lut": 1_182_240, "ff": 2_364_480, "dsp": 6_840},
         "xcvu13p": {"lut": 1_728_000, "ff": 3_456_000, "dsp": 12_288}}


def budget(est: dict, part: str, crossings: int = 2, bunch_ns: float = 25.0) -> dict:
    """Does the estimate fit ``crossings`` bunch crossings (cycles at the estimate's clock), and what
    share of ``part`` it takes."""
    limit = crossings * bunch_ns
    latency = est["cycles"] * est["clock_ns"]
    key = next((k for k in PARTS if part.lower().startswith(k)), None)
    share = ({r: est[r] / PARTS[key][r] for r in ("lut", "ff", "dsp")} if key else None)
    return {"latency_ns": latency, "limit_ns": limit, "fits_latency": latency <= limit, "part": part,
            "part_known": key is not None, "fraction": share}
