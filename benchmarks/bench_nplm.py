"""NPLM speed and power: the kernel model vs the original neural network, same toys, one run.

5-dimensional toy: reference of N_R = 200,000 events with five independent exponential
features; data of Poisson(N(0) = 20,000) reference-like events, plus, for the signal toys,
Poisson(N_S) events of a narrow Gaussian bump at (2.5, 2.5, 1, 1, 1) (σ 0.2 in the first two
features). Both models use their defaults (kernel: M ≈ √N centres, σ = 90th percentile of
pairwise distances, λ = 1e-6; network 5-5-5-1 with weight clipping 2.15, full-batch Adam).

    python benchmarks/bench_nplm.py [--toys 3] [--nn-epochs 3000]

The network is trained for ``--nn-epochs`` (the papers train for ~300,000); its time per toy
is measured for those epochs and also given per 1,000 epochs, so the cost of a full-length
training is a multiplication, printed as such, not a measurement.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

N_REF, N0, N_SIG = 200_000, 20_000, 300


def toy(seed: int, signal: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng([seed, signal])
    ref = rng.exponential(1.0, (N_REF, 5))
    data = rng.exponential(1.0, (rng.poisson(N0), 5))
    if signal:
        bump = np.column_stack([rng.normal(2.5, 0.2, (N_SIG, 2)), rng.exponential(1.0, (N_SIG, 3))])
        data = np.concatenate([data, bump])
    return ref, data


def main() -> None:
    import torch

    from adkit.detectors.nplm import default_centres, default_sigma
    from adkit.stats.nplm import fit_t

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--toys", type=int, default=3, help="kernel toys of each kind (null, signal)")
    ap.add_argument("--nn-epochs", type=int, default=3000)
    ap.add_argument("--quick", action="store_true", help="tiny sizes, to check that it runs (a test runs this)")
    args = ap.parse_args()
    if args.quick:
        global N_REF, N0
        N_REF, N0, args.toys, args.nn_epochs = 5_000, 500, 1, 50
    torch.set_num_threads(2)

    ref0, _ = toy(0, False)
    kparams = {"sigma": default_sigma(ref0), "n_centres": default_centres(N_REF + N0)}
    print(f"5D toy: N_R {N_REF}, N(0) {N0}, signal {N_SIG} events; kernel M {kparams['n_centres']}, "
          f"sigma {kparams['sigma']:.3f}, lambda 1e-6")
    rows = {}
    for kind in (False, True):
        ts, times = [], []
        for i in range(args.toys):
            ref, data = toy(100 + i, kind)
            t0 = time.perf_counter()
            det, t = fit_t(ref, data, N0, "kernel", kparams, seed=i)
            times.append(time.perf_counter() - t0)
            ts.append(t)
        rows[("kernel", kind)] = (ts, times)
    nparams = {"epochs": args.nn_epochs}
    history = {}
    for kind in (False, True):
        ref, data = toy(100, kind)
        t0 = time.perf_counter()
        det, t = fit_t(ref, data, N0, "nn", nparams)
        rows[("nn", kind)] = ([t], [time.perf_counter() - t0])
        history[kind] = dict(det.info_["t_history"])

    print("\n| model | toys | seconds per toy | t null (median) | t signal (median) |")
    print("|---|---|---|---|---|")
    for model in ("kernel", "nn"):
        tn, sn = rows[(model, False)]
        tsig, ss = rows[(model, True)]
        label = model if model == "kernel" else f"nn ({args.nn_epochs} epochs)"
        print(f"| {label} | {len(tn)} + {len(tsig)} | {np.mean(sn + ss):.2f} | {np.median(tn):.1f} | "
              f"{np.median(tsig):.1f} |")
    marks = sorted({e for e in (500, 1000, 2000, 5000, 10_000, 20_000, 50_000) if e <= args.nn_epochs} | {args.nn_epochs})
    print("\nnn training (first toy of each kind): t = -2 loss after")
    print("| epochs | " + " | ".join(str(e) for e in marks) + " |")
    print("|---" * (len(marks) + 1) + "|")
    for kind, label in ((False, "null"), (True, "signal")):
        print(f"| {label} | " + " | ".join(f"{history[kind][e]:.1f}" for e in marks) + " |")
    k_time = np.mean(rows[("kernel", False)][1] + rows[("kernel", True)][1])
    nn_time = np.mean(rows[("nn", False)][1] + rows[("nn", True)][1])
    per_k = nn_time / args.nn_epochs * 1000
    print(f"\nkernel: {k_time:.2f} s per toy (target ≤ 30 s)")
    print(f"nn: {nn_time:.1f} s per toy at {args.nn_epochs} epochs ({per_k:.1f} s per 1000 epochs); "
          f"measured ratio nn/kernel {nn_time / k_time:.0f}x")
    print(f"at the papers' 300,000 epochs the network would take {per_k * 300:.0f} s per toy "
          f"(multiplied, not run): ratio {per_k * 300 / k_time:.0f}x")


if __name__ == "__main__":
    main()
