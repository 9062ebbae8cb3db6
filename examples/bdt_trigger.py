"""Distil an autoencoder into boosted decision trees and check their conifer firmware in C simulation.

    python examples/bdt_trigger.py [--small]

The library calls behind ``adkit distill --student bdt``: scikit-learn's gradient boosting fits
the teacher's score, conifer writes the HLS project into ``bdt_example/`` and compiles its C
simulation, and every held-out event is scored by it and by the student's own fixed-point
arithmetic (they must agree bit for bit).
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
    ap.add_argument("--small", action="store_true", help="20k events, few epochs, 10 trees")
    args = ap.parse_args()
    for out in ("bdt_example", "bdt_example.adkit"):
        if Path(out).exists():  # never replace what a user has there
            raise SystemExit(f"{out} exists: run this example in another directory, or remove it first")
    n = 20_000 if args.small else 200_000
    teacher = train("ae", epochs=3 if args.small else 30, n_default=n)
    trees = 10 if args.small else 60
    student, info = distill(teacher, n_default=n, kind="bdt", trees=trees, depth=4)
    print(f"student: {trees} trees, train correlation with the teacher {info['train_correlation']:.3f}")
    options = DistillOptions(student="bdt", trees=trees, rates=(10.0, 100.0))
    report = check_student(teacher, student, "bdt_example", options=options, n_default=n)
    write_report("bdt_example", report)
    student.save("bdt_example.adkit")
    print(markdown(report))


if __name__ == "__main__":
    main()
