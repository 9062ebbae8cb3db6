"""Student vs teacher on the Pythia sample: multiplications, A→4l efficiency, firmware agreement.

Teacher (--teacher, default ae): a wide AE, VAE or CVAE (hidden 256, 128) trained on half of the ADC2021-proportioned
background mix of ``tests/data/pythia`` (as in ``benchmarks/physics.py``). Student: the
default 57 → 32 → 16 → 1 quantized MLP (``ap_fixed<14,6>`` inputs and activations, 8-bit
weights), distilled on the same training half; the firmware is its hls4ml C simulation. All
three are scored on the other half and the signal files; thresholds come from that background.

    python benchmarks/bench_distill.py

Targets: student ≤ 1/20 of the teacher's multiplications; student TPR on A→4l ≥ 90 % of the
teacher's at a 1 kHz-equivalent rate (FPR 2.5e-5; with 33,783 test background events the
lowest FPR the sample supports is ~3e-5: the threshold sits at the top background event) and
at FPR 1e-4; firmware and student agree on ≥ 99.9 % of trigger decisions.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from physics import PYTHIA, SIGNALS, adc_mix, particles  # noqa: E402

#: Teachers: wide versions of adkit's detectors, trained as in benchmarks/physics.py.
TEACHERS = {
    "ae": {"hidden": [256, 128], "latent_dim": 3, "batch_size": 256, "epochs": 100, "patience": 10},
    "vae": {"hidden": [256, 128], "latent_dim": 4, "batch_size": 256, "epochs": 100, "patience": 10},
    "cvae": {"hidden": [256, 128], "latent_dim": 4, "batch_size": 256, "epochs": 100, "patience": 10},
}
RATES_KHZ = (1.0, 4.0, 40.0)  # FPR 2.5e-5, 1e-4, 1e-3 of a 40 MHz input


def main() -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--teacher", choices=sorted(TEACHERS), default="ae")
    ap.add_argument("--augment", type=float, default=None,
                    help="artificial events per background event (default: adkit's, 1 event with extra objects)")
    ap.add_argument("--augment-method", choices=["objects", "mix", "uniform", "shuffle", "smear"], default=None,
                    help="default: adkit's (objects)")
    ap.add_argument("--teacher-score", default=None, help="the teacher's score the student learns (e.g. latent)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="3,000 events, 2 epochs each: checks that it runs "
                                                          "(a test runs this)")
    args = ap.parse_args()
    teacher_params = {**TEACHERS[args.teacher], **({"epochs": 2, "hidden": [32, 16]} if args.quick else {})}
    if not PYTHIA.is_dir():
        print(f"needs the Pythia sample at {PYTHIA}", file=sys.stderr)
        return 2
    import torch

    torch.set_num_threads(2)
    from adkit.datasets import write_particles_h5
    from adkit.distill import DistillOptions, distill
    from adkit.metrics import efficiency_cell
    from adkit.workflows import train
    from adkit.workflows.distill import check_student

    train_p, test_p = adc_mix(0)
    n_sig = None
    if args.quick:
        train_p, test_p, n_sig = train_p[:3000], test_p[:3000], 1000
    with tempfile.TemporaryDirectory() as tmp:
        files = {"train": Path(tmp) / "train.h5", "background": Path(tmp) / "test.h5"}
        write_particles_h5(files["train"], train_p)
        write_particles_h5(files["background"], test_p)
        signals = {}
        for s in SIGNALS:
            signals[s] = [str(Path(tmp) / f"{s}.h5")]
            write_particles_h5(signals[s][0], particles(s)[:n_sig])
        t = time.perf_counter()
        teacher = train(args.teacher, [files["train"]], params=teacher_params, seed=args.seed)
        t_teacher = time.perf_counter() - t
        t = time.perf_counter()
        student, info = distill(teacher, [files["train"]], epochs=2 if args.quick else 60, batch_size=256,
                                augment=args.augment, augment_method=args.augment_method,
                                teacher_score=args.teacher_score, seed=args.seed)
        t_student = time.perf_counter() - t
        t = time.perf_counter()
        report = check_student(teacher, student, Path(tmp) / "hls", options=DistillOptions(rates=tuple(RATES_KHZ)),
                               background=[str(files["background"])], signals=signals)
        t_fw = time.perf_counter() - t

    cost = report["cost"]
    m = report["metrics"]
    aug = info["augment"]
    print(f"teacher {args.teacher} {teacher_params}, student learns its {info['teacher_score']}, augment "
          f"{aug['ratio']:g} ({aug['method']}, {aug['events']} events): trained in {t_teacher:.0f} s; student distilled in {t_student:.0f} s; "
          f"HLS write + C-sim compile + scoring {sum(report['events'].values())} events in {t_fw:.0f} s")
    print(f"multiplications: teacher {cost['teacher_multiplications']}, student "
          f"{cost['student']['multiplications']} → ratio {cost['multiplication_ratio']:.4f} (target ≤ 0.05)")
    print(f"student vs teacher score correlation: Spearman {report['correlation']['student_vs_teacher_spearman']:.3f}")
    print("\n| signal | rate (FPR) | TPR teacher | TPR student | student/teacher | TPR firmware |")
    print("|---|---|---|---|---|---|")
    for s in SIGNALS:
        for r in RATES_KHZ:
            key = f"{r:g}"
            eff = {v: m[v]["signals"][s]["efficiency_at_rate_khz"][key] for v in ("teacher", "student", "firmware")}
            vals = {v: m[v]["signals"][s]["tpr_at_rate_khz"][key] for v in eff}
            ratio = vals["student"] / vals["teacher"] if vals["teacher"] else float("nan")
            print(f"| {s} | {r:g} kHz ({r / 40000:.1e}) | {efficiency_cell(eff['teacher'])} | "
                  f"{efficiency_cell(eff['student'])} | {ratio:.2f} | {vals['firmware']:.4f} |")
    print("\nTPR: value [68.27 % Clopper–Pearson interval] passing/total; teacher and student on the same events.")
    wp = {w["value"]: w for w in m["student"]["working_points"]}
    print("\nbackground events passing the student thresholds: "
          + ", ".join(f"{k:g} kHz: {w['background_passing']}{'' if w['resolved'] else ' (unresolved)'}"
                      for k, w in wp.items()))
    fw = report["firmware"]
    agree = {k: 1 - v for k, v in fw["decision_mismatch"].items()}
    print(f"firmware vs student: max |difference| {fw['max_abs_difference']:.3g}; decisions agreeing: "
          + ", ".join(f"{k} {v:.4%}" for k, v in agree.items()) + " (target ≥ 99.9 %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
