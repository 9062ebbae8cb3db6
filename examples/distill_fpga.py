"""Distil an autoencoder into a quantized trigger student and check its firmware in C simulation.

    python examples/distill_fpga.py [--small]

The library calls behind ``adkit train --detector ae`` and ``adkit distill --target fpga``: the
student is trained quantization-aware, hls4ml writes the HLS project into ``hls_example/`` and
compiles its C simulation, and the report compares teacher, student and firmware.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from adkit.distill import DistillOptions, distill
from adkit.firmware.report import markdown, write_report
from adkit.workflows import train
from adkit.workflows.distill import check_student


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--small", action="store_true", help="20k events, few epochs")
    args = ap.parse_args()
    for out in ("hls_example", "student_example.adkit"):
        if Path(out).exists():  # never replace what a user has there
            raise SystemExit(f"{out} exists: run this example in another directory, or remove it first")
    n = 20_000 if args.small else 200_000
    teacher = train("ae", epochs=3 if args.small else 30, n_default=n)
    student, info = distill(teacher, n_default=n, epochs=8 if args.small else 30,
                            batch_size=256 if args.small else 1024,
                            precision="input=ap_fixed<14,6>,weight=ap_fixed<8,2>,activation=ap_fixed<14,6>")
    print(f"student: {info['cost']['multiplications']} multiplications, "
          f"train correlation with the teacher {info['train_correlation']:.3f}")
    # thresholds at 10 and 100 kHz on held-out background, then the hls4ml project checked against the student
    report = check_student(teacher, student, "hls_example", options=DistillOptions(rates=(10.0, 100.0)), n_default=n)
    write_report("hls_example", report)
    student.save("student_example.adkit")
    print(markdown(report))


if __name__ == "__main__":
    main()
