"""Quantum feature maps as parameterised qiskit circuits: the dense U-encoding and the ZZ map."""
from __future__ import annotations

import functools
import math

from adkit.errors import ConfigError

FEATURE_MAPS = ("dense_u", "zz")
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
                          f"{MAX_QUBITS}); work in a latent space: adkit train --detector ... --encoder ae.adkit")
    return n


def feature_map(name: str = "dense_u", n_features: int = 8, reps: int = 3):
    """The parameterised qiskit ``QuantumCircuit`` of feature map ``name`` (parameters ``x[i]``)."""
    return _feature_map(name, int(n_features), int(reps)).copy()


@functools.lru_cache(maxsize=16)
def _feature_map(name: str, n_features: int, reps: int):
    from qiskit import QuantumCircuit
    from qiskit.circuit import ParameterVector

    if reps < 1 or n_features < 1:
        raise ConfigError(f"feature map needs reps >= 1 and n_features >= 1, got {reps}, {n_features}")
    nq = n_qubits(name, n_features)
    if name == "zz":
        from qiskit.circuit.library import zz_feature_map

        return zz_feature_map(n_features, reps=reps, entanglement="linear", parameter_prefix="x")
    x = ParameterVector("x", n_features)
    pair = [(x[2 * q], x[2 * q + 1] if 2 * q + 1 < n_features else 0.0) for q in range(nq)]
    qc = QuantumCircuit(nq, name="dense_u")
    for _ in range(reps):
        for q, (a, b) in enumerate(pair):
            qc.u(math.pi / 2, a, b, q)
        for q in range(nq - 1):
            qc.cx(q, q + 1)
        for q, (a, b) in enumerate(pair):
            qc.u(a, b, 0.0, q)
    return qc
