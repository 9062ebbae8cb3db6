"""How much of a series teacher's power its quantized GRU student keeps, with and without bursts.

For each teacher (``gru-ae``, ``lstm-ae``, ``conv-ae``; window 64, stride 16, trained on the
embedded two-channel demo, seed 1) a GRU(2→8)-8-1 student is distilled on the demo with seed 3,
once on the clean windows alone and once with as many windows with an injected burst
(``--augment 1``, adkit's default), and all of them are scored on the windows of the demo with
seed 4: AUC of the labelled windows against the clean ones and the efficiency at 1 % and 0.1 %
of the background windows, with 68 % Clopper–Pearson intervals. Before any number is printed,
the hls4ml C simulation of each student must equal its quantized score on every held-out window.

    python benchmarks/series_distill.py [--quick]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10 s of data, 2 epochs: checks that it runs (a test runs this)")
    ap.add_argument("--epochs", type=int, default=10, help="teacher epochs")
    ap.add_argument("--student-epochs", type=int, default=20)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(2)
    from adkit.distill import DistillOptions
    from adkit.distill.series import distill_series, heldout_windows
    from adkit.metrics import efficiency_cell
    from adkit.workflows.distill import check_student
    from adkit.workflows.series import train_series

    teachers = ["gru-ae"] if args.quick else ["gru-ae", "lstm-ae", "conv-ae"]
    t_epochs, s_epochs = (2, 2) if args.quick else (args.epochs, args.student_epochs)
    with tempfile.TemporaryDirectory() as tmp:
        if args.quick:  # 10 s of the demo as files instead of its 5 minutes
            from adkit.datasets.sensor import write_gw_csv

            train, data, held = ([write_gw_csv(Path(tmp) / f"s{s}.csv", seconds=10, seed=s)] for s in (1, 3, 4))
        else:
            train, data, held = ["sensor-demo@1"], ["sensor-demo@3"], ["sensor-demo@4"]
        print(f"teachers trained for {t_epochs} epochs on {train[0]}, students for {s_epochs} epochs on {data[0]}, "
              f"all scored on {held[0]}")
        print()
        print("| teacher | model | AUC | efficiency at 1 % of background | at 0.1 % |")
        print("|---|---|---|---|---|")
        for name in teachers:
            teacher = train_series(name, train, window=64, stride=16, epochs=t_epochs)
            events = heldout_windows(teacher, held)
            for augment in ((1.0,) if args.quick else (0.0, 1.0)):
                student, _ = distill_series(teacher, data, epochs=s_epochs, augment=augment)
                rep = check_student(teacher, student, Path(tmp) / f"hls-{name}-{augment:g}", events=events,
                                    options=DistillOptions(fprs=(0.01, 0.001)), series=True, test_vectors=0)
                if rep["firmware"]["events_differing"]:
                    print(f"{name}: the C simulation differs from the quantized student on "
                          f"{rep['firmware']['events_differing']} windows", file=sys.stderr)
                    return 1
                rows = [("teacher", "teacher")] if augment == 0 or args.quick else []
                rows.append(("student", f"student, {'bursts' if augment else 'clean windows only'}"))
                for version, label in rows:
                    s = rep["metrics"][version]["signals"]["anomaly"]
                    print(f"| {name} | {label} | {s['auc']:.3f} | {efficiency_cell(s['efficiency_at_fpr']['0.01'])} | "
                          f"{efficiency_cell(s['efficiency_at_fpr']['0.001'])} |")
        n_b, n_a = (len(v[0]) for v in (events["background"], events["anomaly"]))
        print()
        print(f"{n_b} background and {n_a} labelled windows held out; the C simulation equals every quantized "
              f"student on all of them ({n_b + n_a} windows each)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
