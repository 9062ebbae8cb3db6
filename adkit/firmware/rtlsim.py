"""Simulate the Verilog da4ml wrote, with Verilator, on real events.

adkit writes its own small C++ testbench rather than using da4ml's simulation wrapper, so
that any Verilator 5 works (the Debian package is 5.006, older than that wrapper needs). The
testbench streams one event per clock (the design is pipelined with an initiation interval of
1), reads each output ``latency`` clocks later, and exchanges raw fixed-point words with adkit
through two binary files: inputs as ``int32`` words with their least significant bit at
2^-f_in, packed ``bw_in`` bits per input, least significant input first (the layout of the
top module's ``model_inp`` port); outputs the same way. :func:`simulate` converts to and from
those words, so its result compares directly with the quantized student's scores.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np

from adkit.firmware.hls import FirmwareError

INSTALL_HINT = "install it (Debian/Ubuntu: apt-get install verilator) to simulate the RTL"

_HARNESS = r"""
// adkit testbench: stream events through the pipelined top module, one per clock.
#include <cstdint>
#include <cstdio>
#include <vector>
#include "Vsim.h"
#include "verilated.h"

static const int N_IN = @N_IN@, BW_IN = @BW_IN@, N_OUT = @N_OUT@, BW_OUT = @BW_OUT@, LATENCY = @LATENCY@;
static const int W_IN = (N_IN * BW_IN + 31) / 32, W_OUT = (N_OUT * BW_OUT + 31) / 32;

static void pack(const int32_t* v, uint32_t* words) {  // N_IN values of BW_IN bits, LSB first
    for (int w = 0; w < W_IN; ++w) words[w] = 0;
    for (int i = 0; i < N_IN; ++i) {
        uint64_t bits = (uint64_t)(uint32_t)v[i] & ((1ull << BW_IN) - 1);
        int pos = i * BW_IN, w = pos / 32, off = pos % 32;
        words[w] |= (uint32_t)(bits << off);
        if (off + BW_IN > 32 && w + 1 < W_IN) words[w + 1] |= (uint32_t)(bits >> (32 - off));
    }
}

static void unpack(const uint32_t* words, int32_t* v) {  // N_OUT raw words of BW_OUT bits
    for (int i = 0; i < N_OUT; ++i) {
        int pos = i * BW_OUT, w = pos / 32, off = pos % 32;
        uint64_t bits = words[w] >> off;
        if (off + BW_OUT > 32 && w + 1 < W_OUT) bits |= (uint64_t)words[w + 1] << (32 - off);
        v[i] = (int32_t)(bits & ((1ull << BW_OUT) - 1));
    }
}

int main(int argc, char** argv) {
    if (argc != 4) { std::fprintf(stderr, "usage: vsim N IN.bin OUT.bin\n"); return 2; }
    long n = std::atol(argv[1]);
    std::vector<int32_t> in((size_t)n * N_IN), out((size_t)n * N_OUT);
    FILE* f = std::fopen(argv[2], "rb");
    if (!f || std::fread(in.data(), sizeof(int32_t), in.size(), f) != in.size()) { std::fprintf(stderr, "cannot read inputs\n"); return 2; }
    std::fclose(f);
    Vsim* dut = new Vsim;
    uint32_t words_in[W_IN], words_out[W_OUT];
    for (long t = 0; t < n + LATENCY; ++t) {
        if (t < n) {
            pack(&in[(size_t)t * N_IN], words_in);
            @SET_INPUT@
        }
        dut->clk = 0; dut->eval();
        dut->clk = 1; dut->eval();
        if (t >= LATENCY) {
            @GET_OUTPUT@
            unpack(words_out, &out[(size_t)(t - LATENCY) * N_OUT]);
        }
    }
    dut->final();
    delete dut;
    f = std::fopen(argv[3], "wb");
    if (!f || std::fwrite(out.data(), sizeof(int32_t), out.size(), f) != out.size()) { std::fprintf(stderr, "cannot write outputs\n"); return 2; }
    std::fclose(f);
    return 0;
}
"""


def _port(name: str, bits: int, words: str, write: bool) -> str:
    """C++ moving ``words[]`` into (or out of) a Verilator port of ``bits`` bits."""
    if bits > 64:
        n = (bits + 31) // 32
        return "".join(f"dut->{name}[{w}] = {words}[{w}]; " if write else f"{words}[{w}] = dut->{name}[{w}]; "
                       for w in range(n))
    if bits > 32:
        return (f"dut->{name} = ((uint64_t){words}[1] << 32) | {words}[0];" if write else
                f"{words}[0] = (uint32_t)dut->{name}; {words}[1] = (uint32_t)(dut->{name} >> 32);")
    return f"dut->{name} = {words}[0];" if write else f"{words}[0] = dut->{name};"


def verilator() -> str:
    """The Verilator executable, or one line saying what to install."""
    exe = shutil.which("verilator")
    if exe is None:
        raise FirmwareError(f"Verilator is not installed; {INSTALL_HINT}")
    return exe


def io_layout(comb) -> dict:
    """Bits per input/output word and the position of their least significant bit (da4ml's I/O)."""
    from da4ml.codegen.rtl.rtl_model import get_io_kifs

    kin, kout = get_io_kifs(comb)
    k_in, i_in, f_in = (int(np.max(x)) for x in kin)
    k_out, i_out, f_out = (int(np.max(x)) for x in kout)
    return {"n_in": int(comb.shape[0]), "bw_in": k_in + i_in + f_in, "f_in": f_in,
            "n_out": int(comb.shape[1]), "bw_out": k_out + i_out + f_out, "k_out": k_out, "i_out": i_out,
            "f_out": f_out}


def build(rtl_dir: str | Path, layout: dict, latency: int, top: str, jobs: int = 2) -> Path:
    """Verilate the design with adkit's testbench into ``rtl_dir/adkit_sim``; returns the executable.

    The Verilog is copied there first with da4ml's lint pragmas for newer Verilator versions
    (``WIDTHTRUNC``/``WIDTHEXPAND``) spelled as the older ``WIDTH``: comments only, the logic is
    the same. Verilator's and the compiler's output go to ``adkit_sim/build.log``.
    """
    from adkit.files import owned

    exe = verilator()
    rtl = Path(rtl_dir).resolve()
    work = rtl / "adkit_sim"
    if work.exists():  # rebuilt only when it is adkit's own earlier build
        ok, why = owned(work)
        if not ok:
            raise FirmwareError(f"{work}: exists and is not replaced: {why}")
        shutil.rmtree(work)
    (work / "src").mkdir(parents=True)
    for v in (rtl / "src").rglob("*.v"):
        dest = work / "src" / v.relative_to(rtl / "src")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(v.read_text().replace("WIDTHTRUNC", "WIDTH").replace("WIDTHEXPAND", "WIDTH"))
    code = _HARNESS
    for key, val in {"N_IN": layout["n_in"], "BW_IN": layout["bw_in"], "N_OUT": layout["n_out"],
                     "BW_OUT": layout["bw_out"], "LATENCY": latency}.items():
        code = code.replace(f"@{key}@", str(val))
    code = code.replace("@SET_INPUT@", _port("model_inp", layout["n_in"] * layout["bw_in"], "words_in", True))
    code = code.replace("@GET_OUTPUT@", _port("model_out", layout["n_out"] * layout["bw_out"], "words_out", False))
    (work / "testbench.cpp").write_text(code)
    cmd = [exe, "--cc", "--exe", "--build", "-j", str(jobs), "-O2", "-Wno-fatal", "-Wno-lint", "-Wno-style",
           "--top-module", top, "--prefix", "Vsim", "-y", "src", "-y", "src/static", "-o", "vsim",
           "testbench.cpp", f"src/{top}.v"]
    with open(work / "build.log", "w") as log:
        r = subprocess.run(cmd, cwd=work, stdout=log, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        raise FirmwareError(f"{work}: Verilator could not build the RTL simulation (exit {r.returncode}); "
                            f"see {work / 'build.log'}")
    return work / "obj_dir" / "vsim"


def simulate(rtl_dir: str | Path, comb, latency: int, top: str, Zq: np.ndarray, jobs: int = 2) -> tuple[np.ndarray, float]:
    """The RTL's outputs for quantized inputs ``Zq`` (events × inputs), as float64 values, and the
    simulation's events per second (the run of the executable, not the build)."""
    import time

    from adkit.files import mark_owned

    layout = io_layout(comb)
    rtl_dir = Path(rtl_dir).resolve()
    exe = build(rtl_dir, layout, latency, top, jobs)
    work = rtl_dir / "adkit_sim"
    raw = np.floor(np.asarray(Zq, dtype=np.float64) * 2.0 ** layout["f_in"]).astype(np.int32)
    raw.tofile(work / "inputs.bin")
    t0 = time.perf_counter()
    memfiles = Path(rtl_dir) / "src" / "memfiles"
    r = subprocess.run([str(exe), str(len(raw)), str(work / "inputs.bin"), str(work / "outputs.bin")],
                       cwd=memfiles if memfiles.is_dir() else work, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if r.returncode != 0:
        raise FirmwareError(f"the RTL simulation failed: {r.stderr.strip().splitlines()[-1] if r.stderr else r.returncode}")
    out = np.fromfile(work / "outputs.bin", dtype=np.int32).reshape(len(raw), layout["n_out"]).astype(np.int64)
    k, i, f = layout["k_out"], layout["i_out"], layout["f_out"]
    span, offset = 2 ** (k + i + f), k * 2 ** (i + f)  # two's complement of k+i+f bits
    values = ((out + offset) % span - offset) * 2.0 ** -f
    for p in (work / "inputs.bin", work / "outputs.bin"):
        os.remove(p)
    mark_owned(work)
    return values[:, 0], len(raw) / seconds if seconds > 0 else float("inf")
