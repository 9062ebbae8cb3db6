"""Fidelity kernels k(x, y) = |⟨φ(x)|φ(y)⟩|², exact (fast path) or through qiskit primitives,
and the quantum-kernel plumbing the kernel detectors share."""
from __future__ import annotations

import numpy as np

from adkit.errors import ConfigError
from adkit.quantum.feature_maps import _feature_map
from adkit.quantum.statevector import BLOCK, statevectors

METHODS = ("exact", "qiskit")


def kernel_matrix(X: np.ndarray, Y: np.ndarray | None = None, feature_map: str = "dense_u", reps: int = 3,
                  method: str = "exact", shots: int | None = None, sampler=None, seed: int | None = None) -> np.ndarray:
    """Gram matrix k(x, y) = |⟨φ(x)|φ(y)⟩|² of rows of ``X`` against rows of ``Y`` (default ``X``).

    ``method="exact"``: the fast batched statevector path (``shots`` adds binomial shot noise of
    a compute-uncompute measurement to each entry). ``method="qiskit"``: qiskit-machine-learning's
    kernels; with ``shots`` (or a ``sampler``) the compute-uncompute fidelity on a sampler.
    """
    X = np.asarray(X, dtype=np.float64)
    Yv = X if Y is None else np.asarray(Y, dtype=np.float64)
    qc = _feature_map(feature_map, X.shape[1], reps)
    if method == "exact":
        K = _exact_gram(qc, X, None if Y is None else Yv)
        if shots:
            rng = np.random.default_rng(seed)
            K = rng.binomial(int(shots), np.clip(K, 0.0, 1.0)) / float(shots)
            if Y is None:
                K = np.triu(K, 1) + np.triu(K, 1).T + np.eye(len(K))
        return K
    if method == "qiskit":
        return _qiskit_gram(qc, X, None if Y is None else Yv, shots, sampler, seed)
    raise ConfigError(f"unknown kernel method {method!r}; valid: {', '.join(METHODS)}")


def fidelity_gram(psi_x: np.ndarray, psi_y: np.ndarray) -> np.ndarray:
    """|⟨x|y⟩|² for statevectors already computed (rows), in blocks of BLOCK rows."""
    K = np.empty((len(psi_x), len(psi_y)))
    for s in range(0, len(psi_x), BLOCK):
        G = psi_x[s:s + BLOCK].conj() @ psi_y.T
        K[s:s + BLOCK] = G.real ** 2 + G.imag ** 2
    return K


def _exact_gram(qc, X: np.ndarray, Y: np.ndarray | None) -> np.ndarray:
    """Statevectors of X in blocks of BLOCK rows against those of Y (or X): memory ~ (BLOCK + |Y|)·2ⁿ."""
    psi_y = statevectors(qc, X if Y is None else Y)
    if Y is None:  # Hermitian: one rank-k update (zherk) computes the upper triangle only
        from scipy.linalg.blas import zherk

        G = zherk(1.0, psi_y, lower=0)  # the strictly lower triangle is left 0
        U = np.square(G.real)
        U += np.square(G.imag)
        K = U + U.T  # the mirror of the upper triangle; the diagonal was counted twice
        np.fill_diagonal(K, U.diagonal())
        return K
    K = np.empty((len(X), len(psi_y)))
    for s in range(0, len(X), BLOCK):
        psi = psi_y[s:s + BLOCK] if Y is None else statevectors(qc, X[s:s + BLOCK])
        K[s:s + BLOCK] = np.abs(psi.conj() @ psi_y.T) ** 2
    return K


def _qiskit_gram(qc, X: np.ndarray, Y: np.ndarray | None, shots: int | None, sampler, seed: int | None):
    from qiskit_machine_learning.kernels import FidelityQuantumKernel, FidelityStatevectorKernel

    if shots is None and sampler is None:
        kernel = FidelityStatevectorKernel(feature_map=qc)
    else:
        from qiskit.primitives import StatevectorSampler
        from qiskit_machine_learning.state_fidelities import ComputeUncompute

        sampler = sampler or StatevectorSampler(default_shots=int(shots), seed=seed)
        kernel = FidelityQuantumKernel(feature_map=qc, fidelity=ComputeUncompute(sampler=sampler))
    return np.asarray(kernel.evaluate(X, Y), dtype=np.float64)


class QuantumKernelMixin:
    """Quantum-kernel plumbing shared by ``qsvm`` and ``svc --kernel quantum``."""

    feature_map: str
    reps: int
    angle_scale: float
    method: str
    shots: int | None
    seed: int

    def angles(self, X: np.ndarray) -> np.ndarray:
        """Standardised inputs → rotation angles in (0, π): π·σ(angle_scale·x). Monotonic and bounded,
        so far outliers go to the edges of the range instead of wrapping round to the bulk."""
        from scipy.special import expit

        return np.pi * expit(self.angle_scale * np.asarray(X, dtype=np.float64))

    def quantum_kernel(self, A: np.ndarray, B: np.ndarray) -> np.ndarray:
        if B is getattr(self, "support_", None) and self.method == "exact" and not self.shots:
            # scoring: the support's statevectors are the same for every block of events
            qc = _feature_map(self.feature_map, B.shape[1], self.reps)
            cached = getattr(self, "_support_states", None)
            if cached is None or cached[0] is not B:
                self._support_states = (B, statevectors(qc, self.angles(B)))
            return fidelity_gram(statevectors(qc, self.angles(A)), self._support_states[1])
        return kernel_matrix(self.angles(A), self.angles(B), self.feature_map, self.reps,
                             method=self.method, shots=self.shots, seed=self.seed)

    def check_qubits(self, n_features: int) -> None:
        from adkit.quantum.feature_maps import n_qubits

        n_qubits(self.feature_map, n_features)
