"""`adkit train --detector ae` with no options against the plain ADC2021 notebook AE, several seeds.

The same split of the shared Pythia sample as ``physics.py``. adkit's AE is trained exactly as
the command does with no options (its defaults: 30 epochs, batch 1024, early stopping with
patience 5 on a 20 % validation split, ``auto`` preprocessing); the notebook AE is the
ADC2021 recipe (log pT, per-column standardisation, 57-32-16-3-16-32-57 with BatchNorm and
LeakyReLU, MSE, 20 epochs, batch 1024) with each preprocessing of ``physics.VARIANTS`` (adkit's
log-pooled; log pT z-scored with scale 1 for constant columns; with scale sd + 1e-8). Per seed:
the AUC difference and the TPR differences at FPR 1e-3 and 1e-4 with their paired 95 %
bootstrap intervals, against each variant.

    python benchmarks/ae_default.py [--seeds 0,1,2]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from physics import FPRS, NOTEBOOK, PYTHIA, SIGNALS, VARIANTS, adc_mix, adkit_scores, head_to_head, particles, \
    plain_net, summarise  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (of both networks)")
    ap.add_argument("--preprocessing", default="auto", help="adkit's --preprocessing (auto: the AE's default, "
                                                             "log-pooled; physics: the default before it)")
    ap.add_argument("--quick", action="store_true", help="3,000 events, one seed, 2 epochs: checks that it runs")
    args = ap.parse_args()
    if not PYTHIA.is_dir():
        print(f"needs the Pythia sample at {PYTHIA}", file=sys.stderr)
        return 2
    import torch

    from adkit.datasets import write_particles_h5
    from adkit.workflows import train

    torch.set_num_threads(2)
    train_p, test_p = adc_mix(0)
    tests = {"background": test_p, **{s: particles(s) for s in SIGNALS}}
    seeds = [int(s) for s in args.seeds.split(",")]
    notebook = dict(NOTEBOOK)
    if args.quick:
        train_p, tests, seeds = train_p[:3000], {k: v[:3000] for k, v in tests.items()}, seeds[:1]
        notebook["epochs"] = 2
    preps = {k: fit(train_p) for k, (_, fit) in VARIANTS.items()}
    a = "adkit ae (defaults)" if args.preprocessing == "auto" else f"adkit ae ({args.preprocessing})"
    with tempfile.TemporaryDirectory() as tmp:
        train_file = write_particles_h5(Path(tmp) / "train.h5", train_p)
        for seed in seeds:
            model = train("ae", [train_file], seed=seed, epochs=2 if args.quick else None,
                          preprocessing=args.preprocessing)
            scores = {a: adkit_scores(model, tests)}
            for k, prep in preps.items():
                plain = plain_net("ae", prep(train_p), seed=seed, **notebook)
                scores[f"plain AE (notebook) [{k}]"] = {n: plain(prep(v)) for n, v in tests.items()}
            rows = summarise(scores, FPRS, seed)
            print(f"seed {seed} ({model.scaler.kind} preprocessing, {len(model.detector.history_)} epochs):")
            for b in list(scores)[1:]:
                print("\n".join("  " + line for line in head_to_head(rows, a, b, FPRS, SIGNALS)), flush=True)
    print("preprocessing: " + "; ".join(f"[{k}] {name}" for k, (name, _) in VARIANTS.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
