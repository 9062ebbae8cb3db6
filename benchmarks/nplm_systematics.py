"""NPLM with systematic uncertainties: where the truth is known, and what a toy costs.

1. The 1D exponential toy (reference N_R = 50,000 events of exp(1), N(0) = 2,000; kernel σ = 0.5,
   M = 120 centres). Nuisances: a 10 % normalisation and the exponential's scale, with reference
   samples at scale 1.1 (+1σ) and 0.9 (−1σ). Data sets: nominal; 15 % more events (normalisation
   mis-modelled by 1.5σ); scale 1.1 (shape mis-modelled by 1σ); nominal plus 60 signal events at
   x = 2.5 (σ 0.1). Each is tested without nuisances and with them profiled (t = τ − Δ); each
   test calibrated on its own null toys (with nuisances: auxiliary measurements fluctuated).
2. Cost at the benchmark size of ``bench_nplm.py``: N_R = 200,000, N(0) = 20,000, 5 exponential
   features, kernel defaults: seconds per toy without and with two nuisances (normalisation 5 %
   and a shape from samples with the first feature's scale ±5 %), toys per hour on this machine's
   2 cores, and the smallest p-value that many toys resolve. First it checks that the profiled
   statistic with a frozen nuisance (σ = 1e-9) equals the plain one.

    python benchmarks/nplm_systematics.py [--toys 200] [--quick]
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def fmt_p(r: dict) -> str:
    """The fitted p-value with its interval from the toy count, and the empirical one."""
    emp = f"{'<' if r['p_value_empirical_bound'] else ''}{r['p_value_empirical']:.2g}"
    if r.get("p_value") is None:
        return f"– | {emp}"
    lo, hi = r["p_value_fit_interval"]
    return f"{r['p_value']:.2g} [{lo:.2g}, {hi:.2g}] | {emp}"


def truth_table(n_ref: int, n0: int, toys: int, store) -> None:
    from adkit.stats.nplm import nplm_test
    from adkit.stats.nuisance import Nuisance

    params = {"sigma": 0.5, "n_centres": 120}
    rng = np.random.default_rng(11)
    ref = rng.exponential(1.0, (n_ref, 1))
    shifted = {"scale": (rng.exponential(1.1, (n_ref, 1)), rng.exponential(0.9, (n_ref, 1)))}
    nuis = [Nuisance("norm", sigma=0.1), Nuisance("scale", up=["up"], down=["down"])]
    r = np.random.default_rng(101)
    cases = {"nominal": r.exponential(1.0, (r.poisson(n0), 1)),
             "normalisation +15 %": r.exponential(1.0, (r.poisson(1.15 * n0), 1)),
             "scale 1.1": r.exponential(1.1, (r.poisson(n0), 1)),
             "signal, 60 events": np.concatenate([r.exponential(1.0, (r.poisson(n0), 1)),
                                                  r.normal(2.5, 0.1, (int(60 * n0 / 2000), 1))])}
    print(f"1D exponential toy: N_R {n_ref}, N(0) {n0}, {toys} null toys per test; nuisances norm (σ 10 %) and "
          "scale (±1σ samples at 1.1 and 0.9)")
    print()
    print("| data | t plain | p fit [68 % from toys] | p empirical | t = τ − Δ | p fit [68 % from toys] | "
          "p empirical | ν̂ (Δ fit) |")
    print("|---|---|---|---|---|---|---|---|")
    for name, data in cases.items():
        plain, _, _ = nplm_test(ref, data, n_expected=n0, params=params, n_toys=toys, store=store)
        prof, _, _ = nplm_test(ref, data, n_expected=n0, params=params, n_toys=toys, store=store, nuisances=nuis,
                               shifted=shifted)
        nu = ", ".join(f"{k} {v:+.2f}" for k, v in prof["nu_hat_delta"].items())
        print(f"| {name} | {plain['t']:.1f} | {fmt_p(plain)} | {prof['t']:.1f} = {prof['tau']:.1f} − "
              f"{prof['delta']:.1f} | {fmt_p(prof)} | {nu} |")
    print()


def cost(n_ref: int, n0: int, toys: int) -> None:
    from adkit.detectors.nplm import default_centres, default_sigma
    from adkit.stats import nuisance as nu
    from adkit.stats.nplm import fit_t, run_toy

    rng = np.random.default_rng(5)
    ref = rng.exponential(1.0, (n_ref, 5))
    data = rng.exponential(1.0, (rng.poisson(n0), 5))
    params = {"sigma": default_sigma(ref), "n_centres": default_centres(n_ref + n0)}
    # the check: a frozen nuisance (σ 1e-9) leaves the statistic as it is
    frozen = [nu.Nuisance("norm", sigma=1e-9)]
    L = (nu.templates(frozen, ref, {})[0], nu.templates(frozen, data, {})[0])
    Q = (np.zeros_like(L[0]), np.zeros_like(L[1]))
    t_plain = fit_t(ref, data, n0, "kernel", params)[1]
    t_frozen = nu.profiled_t(ref, data, L, Q, n0, np.zeros(1), params, 0)["t"]
    if abs(t_frozen - t_plain) > 1e-6 * max(1.0, abs(t_plain)):
        raise SystemExit(f"the profiled t with a frozen nuisance ({t_frozen}) differs from the plain t ({t_plain})")
    up = ref * np.r_[1.05, 1, 1, 1, 1]
    down = ref * np.r_[0.95, 1, 1, 1, 1]
    shape = {"jes": (nu.shape_ratio(ref, up, params, 0), nu.shape_ratio(ref, down, params, 0))}
    nuis = [nu.Nuisance("norm", sigma=0.05), nu.Nuisance("jes", up=["u"], down=["d"])]
    Lr, Qr = nu.templates(nuis, ref, shape)
    seconds = {}
    for label, fn in (("without nuisances", lambda i: run_toy(ref, n0, "kernel", params, 0, i)),
                      ("with 2 nuisances", lambda i: nu.run_toy(ref, Lr, Qr, n0, params, 0, i))):
        t0 = time.perf_counter()
        for i in range(toys):
            fn(i)
        seconds[label] = (time.perf_counter() - t0) / toys
    print(f"Cost at N_R {n_ref}, N(0) {n0}, 5 features (kernel M {params['n_centres']}, σ {params['sigma']:.2f}), "
          f"{toys} toys each, 2 threads; check passed: frozen-nuisance t = plain t = {t_plain:.3f}")
    print()
    print("| toys | seconds per toy | toys per hour | smallest p an hour of toys resolves | Z |")
    print("|---|---|---|---|---|")
    from scipy import stats

    for label, s in seconds.items():
        per_hour = 3600 / s
        p = 1 / (per_hour + 1)
        print(f"| {label} | {s:.2f} | {per_hour:,.0f} | {p:.2g} | {stats.norm.isf(p):.2f} |")
    print()
    p3 = stats.norm.sf(3.0)
    n3 = int(np.ceil(1 / p3 - 1))  # (0 + 1) / (n + 1) <= p3: the empirical p can reach 3σ
    print(f"An empirical 3σ (p = {p3:.3g}) needs at least {n3} toys: "
          + ", ".join(f"{n3 * s / 3600:.2f} h {label}" for label, s in seconds.items()) + ".")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--toys", type=int, default=200, help="null toys per test in part 1")
    ap.add_argument("--cost-toys", type=int, default=3, help="toys timed in part 2")
    ap.add_argument("--quick", action="store_true", help="tiny sizes, to check that it runs (a test runs this)")
    args = ap.parse_args()
    import tempfile
    from pathlib import Path

    import torch

    torch.set_num_threads(2)
    sizes = ((5_000, 200, 4, 1), (3_000, 300, 1)) if args.quick else ((50_000, 2_000, args.toys, 1),
                                                                        (200_000, 20_000, args.cost_toys))
    with tempfile.TemporaryDirectory() as tmp:
        truth_table(*sizes[0][:3], Path(tmp) / "toys.jsonl")
    cost(*sizes[1])


if __name__ == "__main__":
    main()
