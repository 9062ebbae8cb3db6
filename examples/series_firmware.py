"""Recurrent models to firmware: a GRU autoencoder's quantized GRU student as an hls4ml project.

    python examples/series_firmware.py [--small]

The library calls behind ``adkit distill --teacher gru.adkit`` for a time-series teacher: train a
``gru-ae`` on 30 s of the two-channel demo series, distill it into a GRU(2→8)-8-1 student with
ap_fixed types (the teacher labels the training windows and as many windows with an injected
burst), write its hls4ml project, and check the project's C simulation against the quantized
student on the windows of an independent 30 s series, bit for bit.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from adkit.datasets.sensor import write_gw_csv
from adkit.distill import DistillOptions
from adkit.distill.series import distill_series, heldout_windows
from adkit.workflows.distill import check_student
from adkit.workflows.series import train_series


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--small", action="store_true", help="a few epochs")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        train, test = write_gw_csv(Path(tmp) / "train.csv", seed=1), write_gw_csv(Path(tmp) / "test.csv", seed=2)
        teacher = train_series("gru-ae", [train], window=32, stride=16, epochs=2 if args.small else 20)
        student, info = distill_series(teacher, [train], epochs=3 if args.small else 30)
        report = check_student(teacher, student, Path(tmp) / "hls", options=DistillOptions(fprs=(0.01,)),
                               events=heldout_windows(teacher, [test]), series=True)
    fw, m = report["firmware"], report["metrics"]
    print(f"student GRU(2→{student.detector.units})-{'-'.join(map(str, student.detector.hidden))}-1: "
          f"{info['cost']['multiplications']} multiplications per window; trained on {info['events']} windows and "
          f"{info['augment']['events']} with a burst")
    print(f"C simulation vs quantized student on {sum(report['events'].values())} held-out windows: "
          f"{fw['events_differing']} differ")
    for v in ("teacher", "student", "firmware"):
        s = m[v]["signals"]["anomaly"]
        print(f"{v}: AUC {s['auc']:.3f}, TPR at 1% of the background windows {s['tpr_at_fpr']['0.01']:.3f}")


if __name__ == "__main__":
    main()
