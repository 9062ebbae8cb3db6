"""Which student keeps the teacher's signal: AE, VAE and CVAE teachers, four ways to distill them.

Each teacher is trained with adkit's defaults on the embedded background (30 epochs); each
student is the default 57-32-16-1 quantized MLP distilled on the independent embedded
background (seed 2), 30 epochs, by one recipe:

- ``none``: background only (adkit's default before this study);
- ``mix``: plus one feature-space artificial event per background event (uniform/shuffle/smear);
- ``objects``: plus one background event with extra leptons or jets per background event
  (adkit's default now, :func:`adkit.features.artificial.extra_objects`);
- ``objects, latent`` (VAE, CVAE): as ``objects``, learning Σ μ² of the encoder (AXOL1TL's score);
- ``objects, cosine 60``: as ``objects``, 60 epochs with the learning rate decayed to 0 on a cosine
  (``--epochs 60 --lr-schedule cosine``): the student kept is the last epoch's, so its last steps
  are small.

Teacher and students score the same 1,000,000 embedded test background events (so 1 kHz, FPR
2.5e-5, has 25 background events above its threshold) and 100,000 events of each signal. Each
TPR comes with its 68.27 % Clopper–Pearson interval; "kept" is student TPR / teacher TPR (the
teacher's own score, also for the students that learn its latent score).

``--seed`` sets the students' seed (the teachers keep theirs) and ``--recipes`` picks recipes, so
the spread of a recipe over student seeds can be measured.

    python benchmarks/distill_study.py [--teachers ae,vae,cvae] [--seed 0] [--recipes "objects;..."] [--quick]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

RATES_KHZ = (1.0, 4.0, 10.0)
RECIPES = {"none": {"augment": 0.0}, "mix": {"augment": 1.0, "augment_method": "mix"},
           "objects": {"augment": 1.0, "augment_method": "objects"},
           "objects, latent": {"augment": 1.0, "augment_method": "objects", "teacher_score": "latent"},
           "objects, cosine 60": {"augment": 1.0, "augment_method": "objects", "epochs": 60, "lr_schedule": "cosine"}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--teachers", default="ae,vae,cvae")
    ap.add_argument("--signal", default="Ato4l", help="the signal the table shows (all are kept in the summary)")
    ap.add_argument("--seed", type=int, default=0, help="the students' seed")
    ap.add_argument("--recipes", default=";".join(RECIPES), help="';'-separated recipes (default: all)")
    ap.add_argument("--quick", action="store_true", help="small sizes, 1 epoch: checks that it runs (a test runs this)")
    args = ap.parse_args()
    unknown = [r for r in args.recipes.split(";") if r not in RECIPES]
    if unknown:
        ap.error(f"unknown recipe {unknown[0]!r}; recipes: {'; '.join(RECIPES)}")
    import torch

    torch.set_num_threads(2)
    from adkit.datasets import embedded_test_set
    from adkit.distill import distill
    from adkit.metrics import efficiency_cell, evaluate_scores
    from adkit.report.style import label
    from adkit.workflows import train

    n_bkg, n_train, epochs = (20_000, 5_000, 1) if args.quick else (1_000_000, None, 30)
    events = embedded_test_set(n_bkg)
    print(f"{len(events['background'])} test background events, {len(events[args.signal])} per signal; "
          f"teachers and students {epochs} epochs (unless the recipe names its own); students' seed {args.seed}")
    print(f"\n| teacher | recipe | {' | '.join(f'TPR {label(args.signal)} @{r:g} kHz' for r in RATES_KHZ)} | "
          f"{' | '.join(f'kept @{r:g} kHz' for r in RATES_KHZ)} | background above @{'/'.join(f'{r:g}' for r in RATES_KHZ)} |")
    print("|---|---|" + "---|" * (2 * len(RATES_KHZ) + 1))
    summary = []
    for name in args.teachers.split(","):
        t0 = time.perf_counter()
        teacher = train(name, epochs=epochs, n_default=n_train)
        teacher_rows = {"teacher": "score"} | ({"teacher, latent": "latent"} if "latent" in teacher.detector.components
                                               else {})
        ref = None
        for row, comp in teacher_rows.items():
            scores = {}
            for k, o in events.items():
                X = teacher.spec.features.compute(o).astype(np.float32)
                C = teacher.spec.conditions.compute(o) if teacher.spec.conditions else None
                scores[k] = teacher.score_components(X, C)[comp]
            m = table_row(name, row, scores, args.signal, None, efficiency_cell, evaluate_scores)
            ref = ref or m
        for recipe, kw in RECIPES.items():
            if recipe not in args.recipes.split(";"):
                continue
            if "teacher_score" in kw and "latent" not in teacher.detector.components:
                continue
            kw = {"epochs": epochs, **kw} if not args.quick else {**kw, "epochs": epochs}
            student, _ = distill(teacher, n_default=n_train, seed=args.seed, **kw)
            scores = {k: student.detector.decision_function(student.scaler.transform(
                student.spec.features.compute(o).astype(np.float32))) for k, o in events.items()}
            m = table_row(name, recipe, scores, args.signal, ref, efficiency_cell, evaluate_scores)
            summary.append((name, recipe, {s: [kept(m, ref, s, r) for r in RATES_KHZ] for s in m["signals"]}))
        print(f"<!-- {name}: {time.perf_counter() - t0:.0f} s -->")
    print("\nKept (student TPR / teacher TPR) at 1/4/10 kHz for every signal:\n")
    print("| teacher | recipe | " + " | ".join(label(s) for s in summary[0][2]) + " |")
    print("|---|---|" + "---|" * len(summary[0][2]))
    for name, recipe, k_ in summary:
        print(f"| {name} | {recipe} | " + " | ".join("/".join(k) for k in k_.values()) + " |")
    print("\n'-': the teacher passes no signal event there. *: fewer than 10 background events above the "
          "threshold (unresolved rate).")
    return 0


def table_row(name, row, scores, signal, ref, efficiency_cell, evaluate_scores):
    """One Markdown row: the signal's TPR with interval at each rate, the kept fraction, background above."""
    m = evaluate_scores(scores["background"], {k: v for k, v in scores.items() if k != "background"}, fprs=(),
                        rates_khz=RATES_KHZ)
    sig = m["signals"][signal]
    cells = [efficiency_cell(sig["efficiency_at_rate_khz"][f"{r:g}"]) for r in RATES_KHZ]
    ratios = ["-" if ref is None else kept(m, ref, signal, r) for r in RATES_KHZ]
    above = "/".join(str(w["background_passing"]) + ("" if w["resolved"] else "*") for w in m["working_points"]
                     if w["kind"] == "rate")
    print(f"| {name} | {row} | " + " | ".join(cells) + " | " + " | ".join(ratios) + f" | {above} |", flush=True)
    return m


def kept(m: dict, ref: dict, signal: str, rate: float) -> str:
    """Student TPR / teacher TPR at one rate, '-' where the teacher passes no signal event."""
    t = ref["signals"][signal]["tpr_at_rate_khz"][f"{rate:g}"]
    return f"{m['signals'][signal]['tpr_at_rate_khz'][f'{rate:g}'] / t:.2f}" if t > 0 else "-"


if __name__ == "__main__":
    raise SystemExit(main())
