"""Quantum kernels and latent-space models: speed, measured against qiskit in the same run.

1. Gram matrix, 8 qubits, dense U-encoding with 3 reps, N = 1000 and 2000 points: adkit's fast exact
   path (median of five runs) vs qiskit-machine-learning's ``FidelityStatevectorKernel`` (one
   run each: its defaults, and ``enforce_psd=False``, which skips its eigen-decomposition) on
   the same inputs, after one untimed run of both sides at the same size.
2. Scoring 100,000 events through an AE encoder (latent 16) + ``qsvm`` with 600 training
   points (its support): events per second.
3. ``qsvm`` on 60,000 latent events (ten times what the paper's code handles): above 8,000
   events it fits on Nyström features of the quantum kernel (1,000 landmarks). Time, the peak
   resident memory of the process that trains it (a fresh child, so nothing else counts), the
   measured kernel approximation error, and the AUC on the embedded generator's four signals
   next to the exact 600-event model.
4. ``mps`` training on 100,000 latent vectors with bond dimension 8: seconds per epoch.

    python benchmarks/bench_quantum.py
"""
from __future__ import annotations

import multiprocessing
import resource
import time

import numpy as np


def _large_qsvm(Z: np.ndarray, n_train: int, n_landmarks: int, queue) -> None:
    """Child process: fit qsvm on ``n_train`` latent events; report time, peak RSS and the model."""
    import torch

    from adkit.detectors import create

    torch.set_num_threads(2)
    t = time.perf_counter()
    det = create("qsvm", n_train=n_train, n_landmarks=n_landmarks).fit(Z[:n_train])
    seconds = time.perf_counter() - t
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put((seconds, peak_mb, det.state()))


def main() -> None:
    import argparse

    import torch
    from qiskit_machine_learning.kernels import FidelityStatevectorKernel

    from adkit.datasets import background
    from adkit.detectors import create
    from adkit.quantum import feature_map, kernel_matrix
    from adkit.workflows import train

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes, to check that it runs (a test runs this)")
    args = ap.parse_args()
    sizes, n_events = ((50, 100), 5_000) if args.quick else ((1000, 2000), 100_000)
    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    qc = feature_map("dense_u", 16, 3)
    X = rng.uniform(0, np.pi, (max(sizes), 16))
    for n in sizes:
        Xn = X[:n]
        # both sides once at this size before timing (imports, first-call set-up, memory pages)
        kernel_matrix(Xn, feature_map="dense_u", reps=3)
        FidelityStatevectorKernel(feature_map=qc, enforce_psd=False).evaluate(Xn)
        runs = []
        for _ in range(5):  # the fast path takes a fraction of a second: the median of five runs
            t = time.perf_counter()
            fast = kernel_matrix(Xn, feature_map="dense_u", reps=3)
            runs.append(time.perf_counter() - t)
        t_fast = float(np.median(runs))
        times, grams = {}, {}
        for psd in (True, False):
            kernel = FidelityStatevectorKernel(feature_map=qc, enforce_psd=psd)
            t = time.perf_counter()
            grams[psd] = kernel.evaluate(Xn)
            times[psd] = time.perf_counter() - t
        print(f"Gram matrix, 8 qubits, dense_u (the paper's circuit), 3 reps, N = {n} ({n * n:,} entries)")
        print(f"  adkit exact path (median of 5):                {t_fast:8.3f} s  "
              f"(runs {', '.join(f'{r:.3f}' for r in runs)})")
        for psd in (True, False):
            diff = np.abs(grams[psd] - fast).max()
            assert diff < 1e-10, f"adkit and qiskit-machine-learning differ by {diff}"
            print(f"  FidelityStatevectorKernel (enforce_psd={psd!s:5}): {times[psd]:8.3f} s -> adkit is "
                  f"{times[psd] / t_fast:6.0f}x faster, max |difference| {diff:.1e}")

    enc = train("ae", epochs=1 if args.quick else 3, n_default=n_events, params={"latent_dim": 16})
    q = train("qsvm", encoder=enc, n_default=n_events, params={"n_train": 200} if args.quick else None)
    n_sv = len(q.detector.support_)
    events = background(n_events, 5)[0][:, :, :3]
    Xr = q.spec.features.compute(events).astype(np.float32)
    q.decision_function(Xr[:1000])
    t = time.perf_counter()
    q.decision_function(Xr)
    t_score = time.perf_counter() - t
    print(f"\nencoder (AE, latent 16) + qsvm ({n_sv} support events of {q.detector.n_train} trained): scoring "
          f"{n_events:,} raw events in {t_score:.2f} s = {n_events / t_score:,.0f} events/s")

    Z = q.scaler.transform(enc.encode(Xr)).astype(np.float32)
    n_big, n_land = (9_000, 200) if args.quick else (60_000, 1000)
    from sklearn.metrics import roc_auc_score

    from adkit.datasets import generate
    from adkit.detectors import get
    from adkit.detectors.qsvm import EXACT_MAX

    big = q.scaler.transform(enc.encode(q.spec.features.compute(background(n_big, 11)[0][:, :, :3])))
    assert n_big > EXACT_MAX, "the large fit must take the Nyström path"
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_large_qsvm, args=(big, n_big, n_land, queue))
    child.start()
    seconds, peak_mb, state = queue.get()
    child.join()
    large = get("qsvm").from_state(*state)
    probe = {k: q.scaler.transform(enc.encode(q.spec.features.compute(v)))
             for k, v in {"bkg": background(20_000, 12)[0][:, :, :3],
                          **{s: generate(s, 5_000, 13)[:, :, :3] for s in ("Ato4l", "LQtobtau", "h0totautau",
                                                                             "hchtotaunu")}}.items()}

    def aucs(det) -> str:
        b = det.decision_function(probe["bkg"])
        return ", ".join(f"{k} {roc_auc_score(np.r_[np.zeros(len(b)), np.ones(len(v))], np.r_[b, det.decision_function(v)]):.3f}"
                         for k, v in probe.items() if k != "bkg")

    print(f"\nqsvm on {n_big:,} latent events (Nystrom, {n_land} landmarks; the exact Gram matrix would be "
          f"{n_big ** 2 * 8 / 1e9:.1f} GB): fit in {seconds:.1f} s, peak resident memory of the fitting process "
          f"{peak_mb:,.0f} MB, kernel approximation error {large.kernel_error_:.3f} (relative Frobenius, "
          f"1,000 training events)")
    print(f"  AUC on the generator's signals: {n_big:,} events (Nystrom): {aucs(large)}")
    print(f"  AUC on the generator's signals: {q.detector.n_train} events (exact, the paper's size): "
          f"{aucs(q.detector)}")
    det = create("mps", bond_dim=8, epochs=1 if args.quick else 3, patience=100, validation_fraction=0.0)
    t = time.perf_counter()
    det.fit(Z)
    t_mps = (time.perf_counter() - t) / det.epochs
    print(f"mps (bond 8, legendre p=4, 16 sites) on {n_events:,} latent vectors: {t_mps:.2f} s per epoch "
          f"(NLL {det.history_[0]['loss']:.3f} -> {det.history_[-1]['loss']:.3f} in {det.epochs} epochs)")


if __name__ == "__main__":
    main()
