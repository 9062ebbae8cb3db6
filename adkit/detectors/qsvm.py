"""One-class SVM with a quantum fidelity kernel (Belis, Woźniak et al.), for latent spaces.

The kernel is k(x, y) = |⟨φ(x)|φ(y)⟩|² of a quantum feature map (:mod:`adkit.quantum`,
``dense_u`` by default: two latent features per qubit, ``reps`` layers). scikit-learn's
one-class SVM solves the dual on the precomputed Gram matrix of ``n_train`` events (600 in
the paper); the model keeps the support events and their coefficients, and scoring
evaluates the kernel of new events against them blockwise. Score = −decision function.

Inputs are the standardised latent coordinates mapped to rotation angles in (0, π) by
π·σ(``angle_scale``·x): monotonic and bounded, so outliers cannot wrap round to the bulk.
The default ``angle_scale`` 0.5 keeps the bulk (|x| < 2) in the middle of the range; with 1.0
and the paper's circuit, events 6 σ out scored below the background's 99th percentile.
Train it on an autoencoder's latent space: ``adkit train --detector qsvm --encoder ae.adkit``.

Up to EXACT_MAX training events the dual is solved on the exact Gram matrix. Beyond that (the
Gram matrix grows as N²: 60,000 events would need 29 GB) the kernel is approximated by
Nyström's method on ``n_landmarks`` events drawn from the training set, k(x, y) ≈ φ(x)·φ(y) with
φ(x) = K(x, L) K_LL^(-1/2), and scikit-learn's ``SGDOneClassSVM`` solves the linear one-class
problem on φ; memory grows as N·n_landmarks. The model stays a kernel expansion over the
landmarks, and the relative Frobenius error of the approximated Gram matrix on 1,000 training
events is measured and kept in the model (``kernel_error_``).
"""
from __future__ import annotations

import numpy as np

from adkit.detectors.base import Tags, TrainOptions
from adkit.detectors.kernel_base import KernelDetector, subsample
from adkit.quantum.kernels import QuantumKernelMixin

#: Largest training set solved on the exact Gram matrix (8,000² doubles = 512 MB).
EXACT_MAX = 8000


class QuantumOneClassSVM(QuantumKernelMixin, KernelDetector):
    """One-class SVM with a quantum kernel (latent spaces); score = −decision function."""

    name = "qsvm"
    sign = -1.0
    #: Works on a few features: train it in a latent space (``--encoder``).
    tags = Tags(latent=True)

    def __init__(self, nu: float = 0.01, feature_map: str = "dense_u", reps: int = 3, angle_scale: float = 0.5,
                 n_train: int = 600, n_landmarks: int = 1000, method: str = "exact", shots: int | None = None,
                 seed: int = 0, contamination: float = 0.1) -> None:
        self.nu = nu
        self.feature_map = feature_map
        self.reps = reps
        self.angle_scale = angle_scale
        self.n_train = n_train
        self.n_landmarks = n_landmarks
        self.method = method
        self.shots = shots
        self.seed = seed
        self.contamination = contamination

    def kernel_function(self):
        return self.quantum_kernel

    def fit(self, X: np.ndarray, y: np.ndarray | None = None, *, condition: np.ndarray | None = None,
            options: TrainOptions | None = None) -> QuantumOneClassSVM:
        from sklearn.svm import OneClassSVM

        self.check_condition(X, condition)
        self.check_qubits(X.shape[1])
        Xt = subsample(X, self.n_train, self.seed)
        self.gamma_ = 0.0
        self.kernel_error_ = None
        if len(Xt) > EXACT_MAX:
            return self._fit_nystrom(Xt)
        clf = OneClassSVM(kernel="precomputed", nu=self.nu).fit(self.quantum_kernel(Xt, Xt))
        self._set_expansion(Xt[clf.support_], clf.dual_coef_, clf.intercept_[0])
        return self

    def _fit_nystrom(self, Xt: np.ndarray) -> QuantumOneClassSVM:
        """Linear one-class SVM on Nyström features of the quantum kernel (large training sets)."""
        from sklearn.linear_model import SGDOneClassSVM

        rng = np.random.default_rng(self.seed)
        m = min(self.n_landmarks, len(Xt))
        L = Xt[np.sort(rng.choice(len(Xt), m, replace=False))]
        w, V = np.linalg.eigh(self.quantum_kernel(L, L))
        keep = w > 1e-10 * w.max()
        T = V[:, keep] / np.sqrt(w[keep])  # φ(x) = K(x, L) T, T = K_LL^(-1/2) on its numerical range

        def phi(A: np.ndarray) -> np.ndarray:
            return np.concatenate([self.quantum_kernel(A[s:s + 4096], L) @ T for s in range(0, len(A), 4096)])

        svm = SGDOneClassSVM(nu=self.nu, random_state=self.seed).fit(phi(Xt))
        self._set_expansion(L, T @ svm.coef_, -float(svm.offset_[0]))
        probe = Xt[rng.choice(len(Xt), min(1000, len(Xt)), replace=False)]
        exact, approx = self.quantum_kernel(probe, probe), phi(probe)
        self.kernel_error_ = float(np.linalg.norm(exact - approx @ approx.T) / np.linalg.norm(exact))
        return self

    def _tensors(self) -> tuple[dict, dict[str, np.ndarray]]:
        config, tensors = super()._tensors()
        return {**config, "kernel_error": getattr(self, "kernel_error_", None)}, tensors

    def _load_tensors(self, config: dict, tensors: dict[str, np.ndarray]) -> None:
        super()._load_tensors(config, tensors)
        self.kernel_error_ = config.get("kernel_error")
