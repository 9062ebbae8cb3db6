"""adkit's ``mps`` against tn4ml's matrix product state on the same latent events.

Both are Born machines over the same function space: each standardised latent coordinate z
is squashed to (0, 1) (adkit: u = σ(z); tn4ml: x = 2σ(z) − 1 ∈ (−1, 1)) and embedded by
Legendre polynomials of degree ≤ 3 (adkit: orthonormal on [0, 1]; tn4ml:
``LegendreEmbedding(degree=3)``, the plain P_m on [−1, 1], which its ``embed`` scales to a unit
vector per site); bond dimension 8; Adam, learning
rate 1e-3, batch 256, the same number of epochs, no early stopping. Each library trains its
own way (adkit: exact normalised NLL; tn4ml: its ``NegLogLikelihood`` with the MPS normalised
after every step).

Both models are then scored by the same quantity, written out here from the definition and
not taken from either library: the density of z,
    p(z) = |ψ(x)|² / Z · Π_k dx_k/dz_k,   Z = ∫ |ψ(x)|² dx,
with Z contracted exactly through the embedding's Gram matrix. For adkit the script checks
that this independent evaluation equals ``score`` (−log p) before comparing anything.
Reported: the mean test NLL of background and the AUC per signal, for several seeds each.

tn4ml needs JAX; it can live in its own environment: ``--tn4ml-python PATH`` runs the tn4ml
side with that interpreter (it needs numpy and tn4ml only).

    python benchmarks/bench_mps_tn4ml.py [--tn4ml-python /path/to/venv/bin/python]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

BOND, DEGREE, LR, BATCH = 8, 3, 1e-3, 256


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def log_amplitude2(cores: list[np.ndarray], phi: np.ndarray) -> np.ndarray:
    """log|ψ(x)|² of an open-boundary MPS (cores (l, r, p), 1 at the ends) at embedded inputs
    ``phi`` (n, sites, p), rescaled at every site."""
    left, log_amp = np.ones((phi.shape[0], 1)), np.zeros(phi.shape[0])
    for k, A in enumerate(cores):
        left = np.einsum("nl,lrp,np->nr", left, A, phi[:, k])
        s = np.abs(left).max(1, keepdims=True)
        s[s == 0] = 1.0
        left /= s
        log_amp += np.log(s[:, 0])
    return 2 * (np.log(np.abs(left[:, 0])) + log_amp)


def born_nll(cores: list[np.ndarray], phi: np.ndarray, gram: np.ndarray, log_jacobian: np.ndarray) -> np.ndarray:
    """−log p(z) = −log|ψ|² + log Z − log|dx/dz|, Z contracted through the embedding's Gram matrix."""
    env, log_z = np.ones((1, 1)), 0.0
    for A in cores:
        env = np.einsum("ls,lrp,stq,pq->rt", env, A, A, gram)
        m = np.abs(env).max()
        env /= m
        log_z += np.log(m)
    return -log_amplitude2(cores, phi) + (log_z + np.log(env[0, 0])) - log_jacobian


def legendre(x: np.ndarray, degree: int) -> np.ndarray:
    """P_0 … P_degree at x ∈ [−1, 1] (plain Legendre polynomials): (..., degree + 1)."""
    return np.stack([np.polynomial.legendre.Legendre.basis(m)(x) for m in range(degree + 1)], axis=-1)


def tn4ml_side(inp: Path, out: Path) -> None:
    """Train tn4ml's MPS for each seed and write the test NLLs (runs where tn4ml is installed)."""
    import jax
    import optax
    from tn4ml.embeddings import LegendreEmbedding
    from tn4ml.initializers import gramschmidt
    from tn4ml.metrics import NegLogLikelihood
    from tn4ml.models.mps import MPS_initialize
    from tn4ml.util import TrainingType

    d = np.load(inp)
    tests = [k for k in d.files if k.startswith("test_")]
    res = {}
    for seed in d["seeds"]:
        model = MPS_initialize(L=d["train"].shape[1], initializer=gramschmidt("normal", 1e-2),
                               key=jax.random.key(int(seed)), bond_dim=BOND, phys_dim=DEGREE + 1)
        model.configure(optimizer=optax.adam, learning_rate=LR, loss=NegLogLikelihood,
                        train_type=TrainingType.UNSUPERVISED, strategy="global")
        x = 2 * sigmoid(d["train"]) - 1
        model.train(x, batch_size=BATCH, epochs=int(d["epochs"]), embedding=LegendreEmbedding(degree=DEGREE),
                    normalize=True, seed=int(seed))
        cores = []
        for k, t in enumerate(model.tensors):  # into (left, right, physical), bond 1 at the ends
            inds = [model.bond(k - 1, k)] if k > 0 else []
            inds += [model.bond(k, k + 1)] if k < model.L - 1 else []
            a = np.asarray(t.transpose(*inds, model.site_ind(k)).data, dtype=np.float64)
            cores.append(a.reshape((1,) * (k == 0) + a.shape[:-1] + (1,) * (k == model.L - 1) + a.shape[-1:]))
        # the cores were read out right: tn4ml's own loss on a few events is −log|ψ|² of these cores
        from tn4ml.embeddings import embed

        xs = 2 * sigmoid(d[tests[0]][:3]) - 1
        theirs = [float(NegLogLikelihood(model, embed(v, LegendreEmbedding(degree=DEGREE)))) for v in xs]
        np.testing.assert_allclose(-log_amplitude2(cores, unit_legendre(xs)), theirs, rtol=1e-4, atol=1e-4)
        for k in tests:
            res[f"{k}_seed{seed}"] = nll_tn4ml(cores, d[k])
    np.savez(out, **res)


def unit_legendre(x: np.ndarray) -> np.ndarray:
    """tn4ml's site vector: its ``embed`` scales each site's Legendre vector to unit length."""
    v = legendre(x, DEGREE)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def nll_tn4ml(cores: list[np.ndarray], z: np.ndarray) -> np.ndarray:
    x = 2 * sigmoid(z) - 1
    q, w = np.polynomial.legendre.leggauss(400)  # ∫₋₁¹ φ̂ φ̂ᵀ dx (smooth, not polynomial: many points)
    v = unit_legendre(q)
    gram = (v * w[:, None]).T @ v
    log_jac = np.log(2 * sigmoid(z) * (1 - sigmoid(z))).sum(1)
    return born_nll(cores, unit_legendre(x), gram, log_jac)


def nll_adkit(det, z: np.ndarray) -> np.ndarray:
    """The same density for adkit's trained cores: u = σ(z), orthonormal Legendre on [0, 1]."""
    state = det.state()[1]
    n_sites = z.shape[1]
    cores = [np.asarray(state[str(k)], dtype=np.float64).transpose(0, 2, 1) for k in range(n_sites)]  # (l, p, r)
    u = sigmoid(z)
    phi = legendre(2 * u - 1, DEGREE) * np.sqrt(2 * np.arange(DEGREE + 1) + 1)
    log_jac = np.log(u * (1 - u)).sum(1)
    return born_nll(cores, phi, np.eye(DEGREE + 1), log_jac)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes and one seed: checks that it runs")
    ap.add_argument("--tn4ml-python", help="interpreter of an environment with tn4ml (default: this one)")
    ap.add_argument("--worker", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        tn4ml_side(*args.worker)
        return 0
    import torch
    from sklearn.metrics import roc_auc_score

    from adkit.datasets import generate
    from adkit.datasets.generator import SIGNALS, background
    from adkit.detectors import create
    from adkit.workflows import train

    torch.set_num_threads(2)
    n_train, n_test, n_sig, epochs, seeds = (2000, 2000, 500, 2, [0]) if args.quick else \
        (20_000, 20_000, 5_000, 20, [0, 1, 2])
    enc = train("ae", epochs=1 if args.quick else 3, n_default=5 * n_train, params={"latent_dim": 16})

    def latent(p: np.ndarray) -> np.ndarray:
        return enc.encode(enc.spec.features.compute(p[:, :, :3]).astype(np.float32)).astype(np.float64)

    raw = latent(background(n_train, 21)[0])
    mu, sd = raw.mean(0), raw.std(0)
    tests = {"background": background(n_test, 22)[0], **{s: generate(s, n_sig, 23 + i) for i, s in enumerate(SIGNALS)}}
    z_train = (raw - mu) / sd
    z_tests = {k: (latent(v) - mu) / sd for k, v in tests.items()}

    results: dict[str, dict[str, list[float]]] = {"adkit mps": {}, "tn4ml MPS": {}}

    def record(side: str, nll: dict[str, np.ndarray]) -> None:
        r = results[side]
        r.setdefault("NLL", []).append(float(nll["background"].mean()))
        for s in SIGNALS:
            y = np.r_[np.zeros(len(nll["background"])), np.ones(len(nll[s]))]
            r.setdefault(s, []).append(float(roc_auc_score(y, np.r_[nll["background"], nll[s]])))

    for seed in seeds:
        det = create("mps", bond_dim=BOND, local_dim=DEGREE + 1, basis="legendre", lr=LR, batch_size=BATCH,
                     epochs=epochs, patience=epochs, validation_fraction=0.0, seed=seed).fit(z_train.astype(np.float32))
        ours = {k: det.decision_function(v.astype(np.float32)) for k, v in z_tests.items()}
        check = nll_adkit(det, z_tests["background"].astype(np.float32).astype(np.float64))
        diff = np.abs(check - ours["background"]).max()
        assert diff < 1e-3 * max(1.0, np.abs(check).max()), f"independent density differs from adkit's score by {diff}"
        record("adkit mps", ours)

    with tempfile.TemporaryDirectory() as tmp:
        inp, out = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
        np.savez(inp, train=z_train, seeds=np.array(seeds), epochs=np.array(epochs),
                 **{f"test_{k}": v for k, v in z_tests.items()})
        py = args.tn4ml_python or sys.executable
        run = subprocess.run([py, __file__, "--worker", str(inp), str(out)], capture_output=True, text=True)
        if run.returncode != 0:
            last = " | ".join(line.strip() for line in run.stderr.strip().splitlines()[-6:]) or "?"
            print(f"adkit side done; tn4ml side did not run ({last}). Install tn4ml (pip install tn4ml, it brings "
                  "JAX) or pass --tn4ml-python with an environment that has it.")
            return 0 if args.quick else 1
        d = np.load(out)
        for seed in seeds:
            record("tn4ml MPS", {k: d[f"test_{k}_seed{seed}"] for k in z_tests})

    print(f"{n_train:,} training / {n_test:,} test background latent events (AE latent 16, embedded generator), "
          f"{n_sig:,} per signal; bond {BOND}, Legendre degree {DEGREE}, {epochs} epochs, seeds {seeds}")
    print("mean ± standard deviation over seeds (single values for one seed):")
    for side, r in results.items():
        cells = [f"{k} {np.mean(v):.3f} ± {np.std(v):.3f}" for k, v in r.items()]
        print(f"  {side:10s} " + ", ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
