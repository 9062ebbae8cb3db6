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

Feature maps (:func:`feature_map`): ``dense_u``, the dense U-encoding with data re-uploading of
Belis, Woźniak et al. (arXiv:2301.10780), two features per qubit k: ``reps`` times a
U(π/2, x₂ₖ, x₂ₖ₊₁) gate on every qubit, a CNOT ladder 0→1→…→n−1, and a U(x₂ₖ, x₂ₖ₊₁, 0) gate
on every qubit (an odd last feature is paired with 0); ``zz``, qiskit's ZZ feature map (one
qubit per feature). Inputs are angles: scale latent features to about [−π, π] first.
"""
from adkit.quantum.feature_maps import FEATURE_MAPS, MAX_QUBITS, _feature_map, feature_map, n_qubits
from adkit.quantum.kernels import METHODS, QuantumKernelMixin, fidelity_gram, kernel_matrix
from adkit.quantum.statevector import BLOCK, statevectors

__all__ = ["BLOCK", "FEATURE_MAPS", "MAX_QUBITS", "METHODS", "QuantumKernelMixin", "feature_map", "fidelity_gram",
           "kernel_matrix", "n_qubits", "statevectors", "_feature_map"]
