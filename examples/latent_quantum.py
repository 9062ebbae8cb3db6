"""Quantum and tensor-network detectors in the latent space of an autoencoder.

    python examples/latent_quantum.py [--small]

The library calls behind ``adkit train --detector ae --param latent_dim=16`` followed by
``adkit train --detector qsvm --encoder ae.adkit`` (and ``qkmeans``, ``mps``): each latent model
stores the encoder and scores raw events. Also checks the fast quantum kernel against
qiskit-machine-learning on a few events.
"""
from __future__ import annotations

import argparse

import numpy as np

from adkit.quantum import kernel_matrix
from adkit.workflows import evaluate, train


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--small", action="store_true", help="20k events, 3 encoder epochs")
    args = ap.parse_args()
    n = 20_000 if args.small else 200_000
    encoder = train("ae", epochs=3 if args.small else 30, n_default=n, params={"latent_dim": 16})
    z = encoder.encode(encoder.spec.features.compute(
        __import__("adkit.datasets", fromlist=["background"]).background(20, 9)[0][:, :, :3]))
    angles = np.pi / (1 + np.exp(-z))
    diff = np.abs(kernel_matrix(angles) - kernel_matrix(angles, method="qiskit")).max()
    print(f"fast kernel vs qiskit-machine-learning on 20 events (8 qubits): max |difference| {diff:.1e}")
    for name, params in (("qsvm", {}), ("ocsvm", {"n_train": 600, "nu": 0.01}), ("qkmedians", {"shots": 1000}),
                         ("mps", {"epochs": 3 if args.small else 30})):
        model = train(name, n_default=n, params=params, encoder=encoder)
        res = evaluate(model, n_default=n, rates_khz=(10.0,))
        print(f"{name:10s} " + "  ".join(f"{s} AUC {v['auc']:.3f}" for s, v in res["signals"].items()))


if __name__ == "__main__":
    main()
