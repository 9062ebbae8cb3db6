"""Quantum feature maps and fidelity kernels, exact and fast, or through qiskit primitives.

The kernel of a feature map |φ(x)⟩ = U(x)|0⟩ is k(x, y) = |⟨φ(x)|φ(y)⟩|². Two ways to compute it:

- ``method="exact"`` (fast): :func:`statevectors` simulates the feature-map circuit for a whole
  batch of inputs at once (one NumPy array of shape (batch, 2**n_qubits), every gate applied
  to all samples together with their own angles), and the Gram matrix is one complex matrix
  product, computed in blocks so memory stays bounded.
- ``method="qiskit"``: the same circuit evaluated by qiskit-machine-learning's
  ``FidelityStatevectorKernel`` (exact) or, with ``shots``, by ``FidelityQuantumKernel`` with
  the compute-uncompute fidelity on a ``StatevectorSampler`` (or any sampler you pass: a noisy
  simulator or hardware).

Feature maps (:func:`feature_map`): ``dense_u``, the dense angle encoding of Belis, Woźniak et
al. (a Hadamard layer, then ``reps`` times: a U(θ = x₂ₖ, φ = x₂ₖ₊₁, λ = 0) gate per qubit k,
two features per qubit, and a CNOT ladder 0→1→…→n−1); ``zz``, qiskit's ZZ feature map (one
qubit per feature). Inputs are angles: scale latent features to about [−π, π] first.
"""
from __future__ import annotations

import math

import numpy as np

from adkit.errors import ConfigError

FEATURE_MAPS = ("dense_u", "zz")
METHODS = ("exact", "qiskit")
BLOCK = 2048
#: Beyond this the statevectors (2**n complex numbers per event) stop being a fast path.
MAX_QUBITS = 14


def n_qubits(name: str, n_features: int) -> int:
    """Qubits a feature map needs for ``n_features`` inputs."""
    if name == "dense_u":
        n = max(1, math.ceil(n_features / 2))
    elif name == "zz":
        n = n_features
    else:
        raise ConfigError(f"unknown feature map {name!r}; valid: {', '.join(FEATURE_MAPS)}")
    if n > MAX_QUBITS:
        raise ConfigError(f"feature map {name!r} would need {n} qubits for {n_features} features (at most "
                          f"{MAX_QUBITS}); work in a latent space: adkit train --model ... --encoder ae.adkit")
    return n


def feature_map(name: str = "dense_u", n_features: int = 8, reps: int = 3):
    """The parameterised qiskit ``QuantumCircuit`` of feature map ``name`` (parameters ``x[i]``)."""
    from qiskit import QuantumCircuit
    from qiskit.circuit import ParameterVector

    if reps < 1 or n_features < 1:
        raise ConfigError(f"feature map needs reps >= 1 and n_features >= 1, got {reps}, {n_features}")
    nq = n_qubits(name, n_features)
    if name == "zz":
        from qiskit.circuit.library import zz_feature_map

        return zz_feature_map(n_features, reps=reps, entanglement="linear", parameter_prefix="x")
    x = ParameterVector("x", n_features)
    qc = QuantumCircuit(nq, name="dense_u")
    qc.h(range(nq))
    for _ in range(reps):
        for q in range(nq):
            theta = x[2 * q]
            phi = x[2 * q + 1] if 2 * q + 1 < n_features else 0.0
            qc.u(theta, phi, 0.0, q)
        for q in range(nq - 1):
            qc.cx(q, q + 1)
    return qc


# --- fast batched statevector simulation ---------------------------------------------------

_H = np.array([[1, 1], [1, -1]], dtype=np.complex128) / np.sqrt(2)


def _u_matrices(theta: np.ndarray, phi: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """U(θ, φ, λ) for each sample: (batch, 2, 2), qiskit's convention."""
    c, s = np.cos(theta / 2), np.sin(theta / 2)
    m = np.empty((len(theta), 2, 2), dtype=np.complex128)
    m[:, 0, 0] = c
    m[:, 0, 1] = -np.exp(1j * lam) * s
    m[:, 1, 0] = np.exp(1j * phi) * s
    m[:, 1, 1] = np.exp(1j * (phi + lam)) * c
    return m


def _apply_1q(state: np.ndarray, q: int, m: np.ndarray, nq: int) -> np.ndarray:
    """Apply a one-qubit gate (2, 2) or per-sample gates (batch, 2, 2) to qubit ``q``."""
    b = state.shape[0]
    v = state.reshape(b, 2 ** (nq - q - 1), 2, 2 ** q)  # little-endian: qubit q is bit q
    if m.ndim == 2:
        out = np.einsum("ij,bajc->baic", m, v)
    else:
        out = np.einsum("bij,bajc->baic", m, v)
    return out.reshape(b, -1)


def _apply_cx(state: np.ndarray, control: int, target: int, nq: int) -> np.ndarray:
    idx = np.arange(2 ** nq)
    flip = ((idx >> control) & 1).astype(bool)
    perm = np.where(flip, idx ^ (1 << target), idx)
    return state[:, perm]


def _apply_phase_diag(state: np.ndarray, qubits: list[int], phase: np.ndarray, nq: int, kind: str) -> np.ndarray:
    """Diagonal gates: ``p``/``rz`` on one qubit, ``rzz`` on two, with per-sample angles."""
    idx = np.arange(2 ** nq)
    if kind == "p":
        bit = (idx >> qubits[0]) & 1
        return state * np.exp(1j * np.outer(phase, bit))
    if kind == "rz":
        sign = 2 * ((idx >> qubits[0]) & 1) - 1
        return state * np.exp(0.5j * np.outer(phase, sign))
    parity = ((idx >> qubits[0]) ^ (idx >> qubits[1])) & 1  # rzz: exp(-i θ/2 Z⊗Z)
    return state * np.exp(0.5j * np.outer(phase, 2 * parity - 1))


def _angle_functions(qc):
    """For every parameter of every instruction, a vectorised function X → angle (or a constant)."""
    from qiskit.circuit import ParameterExpression

    params = list(qc.parameters)
    index = {p: i for i, p in enumerate(params)}
    cache: dict = {}

    def fn(value):
        if not isinstance(value, ParameterExpression):
            v = float(value)
            return lambda X: np.full(len(X), v)
        if value.is_real() and not value.parameters:
            v = float(value)
            return lambda X: np.full(len(X), v)
        key = str(value)
        if key not in cache:
            import sympy

            syms = sorted(value.parameters, key=lambda p: index[p])
            expr = value.sympify()
            f = sympy.lambdify([sympy.Symbol(p.name) for p in syms], expr, "numpy")
            cols = [index[p] for p in syms]
            cache[key] = lambda X, f=f, cols=cols: np.broadcast_to(
                np.asarray(f(*[X[:, c] for c in cols]), dtype=np.float64), (len(X),))
        return cache[key]

    return params, fn


def statevectors(qc, X: np.ndarray) -> np.ndarray:
    """|φ(x)⟩ for every row of ``X`` (columns in the order of ``qc.parameters``): (n, 2**n_qubits)."""
    nq = qc.num_qubits
    X = np.asarray(X, dtype=np.float64)
    params, fn = _angle_functions(qc)
    if X.ndim != 2 or X.shape[1] != len(params):
        raise ConfigError(f"the feature map takes {len(params)} features per event, got shape {X.shape}")
    state = np.zeros((len(X), 2 ** nq), dtype=np.complex128)
    state[:, 0] = 1.0
    for inst in qc.data:
        name = inst.operation.name
        qubits = [qc.find_bit(q).index for q in inst.qubits]
        angles = [fn(p)(X) for p in inst.operation.params]
        if name == "h":
            state = _apply_1q(state, qubits[0], _H, nq)
        elif name == "u":
            state = _apply_1q(state, qubits[0], _u_matrices(*angles), nq)
        elif name == "cx":
            state = _apply_cx(state, qubits[0], qubits[1], nq)
        elif name in ("p", "rz", "rzz"):
            state = _apply_phase_diag(state, qubits, angles[0], nq, name)
        elif name in ("rx", "ry"):
            a = angles[0]
            c, s = np.cos(a / 2), np.sin(a / 2)
            m = np.empty((len(X), 2, 2), dtype=np.complex128)
            m[:, 0, 0] = m[:, 1, 1] = c
            m[:, 0, 1] = -1j * s if name == "rx" else -s
            m[:, 1, 0] = -1j * s if name == "rx" else s
            state = _apply_1q(state, qubits[0], m, nq)
        elif name == "barrier":
            continue
        else:
            raise ConfigError(f"the fast simulator has no gate {name!r}; use method='qiskit'")
    return state


def kernel_matrix(X: np.ndarray, Y: np.ndarray | None = None, feature_map: str = "dense_u", reps: int = 3,
                  method: str = "exact", shots: int | None = None, sampler=None, seed: int | None = None) -> np.ndarray:
    """Gram matrix k(x, y) = |⟨φ(x)|φ(y)⟩|² of rows of ``X`` against rows of ``Y`` (default ``X``).

    ``method="exact"``: the fast batched statevector path (``shots`` adds binomial shot noise of
    a compute-uncompute measurement to each entry). ``method="qiskit"``: qiskit-machine-learning's
    kernels; with ``shots`` (or a ``sampler``) the compute-uncompute fidelity on a sampler.
    """
    X = np.asarray(X, dtype=np.float64)
    Yv = X if Y is None else np.asarray(Y, dtype=np.float64)
    qc = globals()["feature_map"](feature_map, X.shape[1], reps)
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


def _exact_gram(qc, X: np.ndarray, Y: np.ndarray | None) -> np.ndarray:
    """Statevectors of X in blocks of BLOCK rows against those of Y (or X): memory ~ (BLOCK + |Y|)·2ⁿ."""
    psi_y = statevectors(qc, X if Y is None else Y)
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
