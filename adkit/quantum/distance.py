"""Quantum distance estimation for k-means / k-medians (Belis, Woźniak et al.).

Two vectors a and b are amplitude-encoded (normalised, zero-padded to 2**m entries) in two
branches of an ancilla qubit, |ψ⟩ = (|0⟩|â⟩ + |1⟩|b̂⟩)/√2; a Hadamard on the ancilla makes the
branches interfere destructively, and the probability of reading the ancilla as 1 is
P₁ = (1 − ⟨â|b̂⟩)/2 for real vectors. The Euclidean distance follows from the norms kept
classically: d² = |a|² + |b|² − 2|a||b|(1 − 2P₁).

:func:`distances` evaluates that estimate for all pairs: exactly (it is then the Euclidean
distance) or with ``shots`` measurements of the ancilla (binomial noise on P₁).
:func:`interference_circuit` builds the circuit itself with qiskit, so that the estimate can be
checked against a simulator or run on a device.
"""
from __future__ import annotations

import numpy as np


def overlap_probability(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """P₁ = (1 − ⟨â|b̂⟩)/2 for every pair of rows of A and B."""
    na = np.linalg.norm(A, axis=1, keepdims=True)
    nb = np.linalg.norm(B, axis=1, keepdims=True)
    cos = (A / np.where(na > 0, na, 1.0)) @ (B / np.where(nb > 0, nb, 1.0)).T
    return np.clip(0.5 * (1.0 - cos), 0.0, 1.0)


def distances(A: np.ndarray, B: np.ndarray, shots: int | None = None, rng: np.random.Generator | None = None):
    """Distance estimates between rows of A and rows of B from the interference measurement."""
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    p1 = overlap_probability(A, B)
    if shots:
        rng = rng or np.random.default_rng(0)
        p1 = rng.binomial(int(shots), p1) / float(shots)
    na = np.linalg.norm(A, axis=1)[:, None]
    nb = np.linalg.norm(B, axis=1)[None, :]
    d2 = na ** 2 + nb ** 2 - 2.0 * na * nb * (1.0 - 2.0 * p1)
    return np.sqrt(np.maximum(d2, 0.0))


def interference_circuit(a: np.ndarray, b: np.ndarray):
    """The qiskit circuit whose ancilla (qubit 0) reads 1 with probability (1 − ⟨â|b̂⟩)/2."""
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import StatePreparation

    n = max(len(a), len(b), 2)
    m = int(np.ceil(np.log2(n)))
    pad = np.zeros((2, 2 ** m))
    pad[0, :len(a)], pad[1, :len(b)] = a, b
    pad /= np.linalg.norm(pad, axis=1, keepdims=True)
    qc = QuantumCircuit(m + 1)
    qc.h(0)
    qc.append(StatePreparation(pad[1]).control(1, ctrl_state=1), [0, *range(1, m + 1)])
    qc.append(StatePreparation(pad[0]).control(1, ctrl_state=0), [0, *range(1, m + 1)])
    qc.h(0)
    return qc
