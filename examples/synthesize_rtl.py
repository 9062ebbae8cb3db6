"""Distil an AE into a distributed-arithmetic student, write its Verilog, and synthesize it with Yosys.

    python examples/synthesize_rtl.py [--small]

The library calls behind ``adkit distill --strategy da --rtl rtl_example --synth yosys``: da4ml
turns the quantized student into adder graphs and Verilog, Verilator checks the Verilog on
held-out events (where it is installed), and Yosys (``pip install 'adkit[synth]'``) maps it onto
UltraScale+ primitives; the counts are printed beside da4ml's estimate.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from adkit.distill import DistillOptions, distill
from adkit.firmware.da import DA_PRECISION
from adkit.firmware.report import rtl_lines
from adkit.workflows import train
from adkit.workflows.distill import check_student


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--small", action="store_true", help="20k events, few epochs, a 57-8-1 student")
    args = ap.parse_args()
    out = Path("rtl_example")
    if out.exists():  # never replace what a user has there
        raise SystemExit(f"{out} exists: run this example in another directory, or remove it first")
    n = 20_000 if args.small else 200_000
    teacher = train("ae", epochs=3 if args.small else 30, n_default=n)
    student, _ = distill(teacher, n_default=n, hidden=(8,) if args.small else (32, 16),
                         epochs=4 if args.small else 30, precision=dict(DA_PRECISION))
    options = DistillOptions(strategy="da", rtl=str(out), synth="yosys", rates=(10.0, 100.0))
    report = check_student(teacher, student, None, options=options, n_default=n, rtl_dir=out)
    print(f"da4ml graph vs quantized student: {report['da']['events_differing']} of {report['da']['events']} "
          "held-out events differ")
    print("\n".join(rtl_lines(report["rtl"])))


if __name__ == "__main__":
    main()
