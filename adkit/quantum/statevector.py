"""Fast batched statevector simulation of a feature-map circuit: every event at once."""
from __future__ import annotations

import functools

import numpy as np

from adkit.errors import ConfigError

BLOCK = 2048

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


# The state is a torch tensor (batch, 2**n_qubits), complex128. One-qubit gates are not applied
# one by one: consecutive gates on a qubit are multiplied into one per-sample 2x2 matrix, and a
# layer of them is applied as a few batched matrix products, one per group of up to GROUP
# qubits (the Kronecker product of the group's matrices, 16x16 for four qubits). For the dense
# U-encoding that is two batched products per layer instead of sixteen passes over the state.

#: Qubits per fused block: a 2**GROUP square matrix per sample.
GROUP = 4


def _kron_batched(mats: list):
    """Per-sample Kronecker product of (batch, 2, 2) matrices, the first the most significant
    (pairwise, as a tree: fewer multiplications than one factor at a time)."""
    while len(mats) > 1:
        pairs = []
        for a, b in zip(mats[::2], mats[1::2]):
            n, r, s = a.shape[0], a.shape[1], b.shape[1]
            pairs.append((a[:, :, None, :, None] * b[:, None, :, None, :]).reshape(n, r * s, r * s))
        mats = pairs + ([mats[-1]] if len(mats) % 2 else [])
    return mats[0]


def _apply_layer(state, pending: dict[int, np.ndarray], nq: int):
    """Apply the pending per-sample one-qubit matrices {qubit: (batch, 2, 2)} to the state."""
    import torch

    b = state.shape[0]
    eye = torch.eye(2, dtype=torch.complex128).expand(b, 2, 2)
    for q0 in range(0, nq, GROUP):
        qs = [q for q in range(q0, min(q0 + GROUP, nq)) if q in pending]
        if not qs:
            continue
        lo, hi = qs[0], qs[-1] + 1  # only the span that has gates: qubit q is bit q (little-endian)
        k = _kron_batched([torch.from_numpy(pending[q]) if q in pending else eye for q in range(hi - 1, lo - 1, -1)])
        v = state.view(b, 2 ** (nq - hi), 2 ** (hi - lo), 2 ** lo)
        if lo == 0:  # (b, a, j) @ K^T: one batched product
            state = torch.matmul(v.view(b, -1, 2 ** hi), k.transpose(1, 2)).view(b, -1)
        elif hi == nq:  # K @ (b, j, c)
            state = torch.matmul(k, v.view(b, 2 ** (hi - lo), -1)).view(b, -1)
        else:
            state = torch.einsum("bij,bajc->baic", k, v).reshape(b, -1)
    pending.clear()
    return state


def _apply_phase_diag(state, qubits: list[int], phase: np.ndarray, nq: int, kind: str):
    """Diagonal gates: ``p``/``rz`` on one qubit, ``rzz`` on two, with per-sample angles."""
    import torch

    idx = np.arange(2 ** nq)
    if kind == "p":
        diag = np.exp(1j * np.outer(phase, (idx >> qubits[0]) & 1))
    elif kind == "rz":
        diag = np.exp(0.5j * np.outer(phase, 2 * ((idx >> qubits[0]) & 1) - 1))
    else:  # rzz: exp(-i θ/2 Z⊗Z)
        parity = ((idx >> qubits[0]) ^ (idx >> qubits[1])) & 1
        diag = np.exp(0.5j * np.outer(phase, 2 * parity - 1))
    return state.mul_(torch.from_numpy(diag))


def _angle_functions(qc):
    """For every parameter of every instruction, a vectorised function X → angle (or a constant)."""
    from qiskit.circuit import Parameter, ParameterExpression

    params = list(qc.parameters)
    index = {p: i for i, p in enumerate(params)}
    cache: dict = {}

    def fn(value):
        if isinstance(value, Parameter) and value in index:  # a bare input: its column
            return lambda X, c=index[value]: X[:, c]
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
    """|φ(x)⟩ for every row of ``X`` (columns in the order of ``qc.parameters``): (n, 2**n_qubits).

    Rows are simulated in blocks of BLOCK, so memory stays bounded for any n."""
    if len(X) > BLOCK:
        return np.concatenate([statevectors(qc, X[s:s + BLOCK]) for s in range(0, len(X), BLOCK)])
    nq = qc.num_qubits
    X = np.asarray(X, dtype=np.float64)
    params, fn = _angle_functions(qc)
    if X.ndim != 2 or X.shape[1] != len(params):
        raise ConfigError(f"the feature map takes {len(params)} features per event, got shape {X.shape}")
    # while no two-qubit gate has acted the state is a product: keep one 2-vector per qubit
    local = np.zeros((nq, len(X), 2), dtype=np.complex128)
    local[:, :, 0] = 1.0
    state = None
    pending: dict[int, np.ndarray] = {}  # one-qubit gates not yet applied, multiplied per qubit
    perm = None  # consecutive CNOTs (a ladder) are one permutation of the basis, applied as one gather
    for inst in qc.data:
        name = inst.operation.name
        if name == "barrier":
            continue
        qubits = [qc.find_bit(q).index for q in inst.qubits]
        angles = [fn(p)(X) for p in inst.operation.params]
        if len(qubits) == 1 and name in ("h", "u", "p", "rz", "rx", "ry"):
            q = qubits[0]
            m = _one_qubit_matrix(name, angles, len(X))
            m = np.array(np.broadcast_to(m, (len(X), 2, 2))) if m.ndim == 2 else m
            if state is None:
                local[q] = np.einsum("bij,bj->bi", m, local[q])
            elif perm is None:
                pending[q] = m if q not in pending else m @ pending[q]
            else:  # after a permutation: the gate waits until the permutation is applied
                state = _gather(state, perm)
                perm = None
                pending[q] = m
            continue
        if state is None:
            state = _product_state(local)
        state = _apply_layer(state, pending, nq) if pending else state
        if name == "cx":
            step = _cx_permutation(qubits[0], qubits[1], nq)
            perm = step if perm is None else perm[step]
            continue
        if perm is not None:
            state = _gather(state, perm)
            perm = None
        if name in ("p", "rz", "rzz"):
            state = _apply_phase_diag(state, qubits, angles[0], nq, name)
        else:
            raise ConfigError(f"the fast simulator has no gate {name!r}; use method='qiskit'")
    if state is None:
        state = _product_state(local)
    if perm is not None:
        state = _gather(state, perm)
    if pending:
        state = _apply_layer(state, pending, nq)
    return np.ascontiguousarray(state.numpy())


@functools.lru_cache(maxsize=256)
def _cx_permutation_cached(control: int, target: int, nq: int) -> np.ndarray:
    idx = np.arange(2 ** nq)
    out = np.where((idx >> control) & 1, idx ^ (1 << target), idx)
    out.flags.writeable = False
    return out


def _cx_permutation(control: int, target: int, nq: int) -> np.ndarray:
    """CNOT as a permutation of basis indices: new[i] = old[perm[i]] (qubit q is bit q)."""
    return _cx_permutation_cached(control, target, nq)


def _gather(state, perm: np.ndarray):
    """new[:, i] = old[:, perm[i]] for the (batch, 2**n) state."""
    import torch

    return state.index_select(1, torch.from_numpy(np.array(perm, dtype=np.int64)))


def _product_state(local: np.ndarray):
    """(batch, 2**n) amplitudes (a torch tensor) of the product of one-qubit states ``local`` (n, batch, 2)."""
    import torch

    nq, b = local.shape[0], local.shape[1]
    state = local[nq - 1]  # (batch, 2)
    for q in range(nq - 2, -1, -1):  # qubit 0 is the least significant index
        state = (state[:, :, None] * local[q][:, None, :]).reshape(b, -1)
    return torch.from_numpy(np.ascontiguousarray(state))


def _one_qubit_matrix(name: str, angles: list[np.ndarray], n: int) -> np.ndarray:
    """The matrix of a one-qubit gate: (2, 2) for H, (n, 2, 2) per sample for rotations."""
    if name == "h":
        return _H
    if name == "u":
        return _u_matrices(*angles)
    a = angles[0]
    m = np.zeros((n, 2, 2), dtype=np.complex128)
    if name == "p":
        m[:, 0, 0], m[:, 1, 1] = 1.0, np.exp(1j * a)
    elif name == "rz":
        m[:, 0, 0], m[:, 1, 1] = np.exp(-0.5j * a), np.exp(0.5j * a)
    else:
        c, s = np.cos(a / 2), np.sin(a / 2)
        m[:, 0, 0] = m[:, 1, 1] = c
        m[:, 0, 1] = -1j * s if name == "rx" else -s
        m[:, 1, 0] = -1j * s if name == "rx" else s
    return m
