"""Kernel SVC trained against artificial anomalies (Schuhmacher et al.).

Background events (label 0) and as many artificial anomalies made from them (label 1, see
:mod:`adkit.features.artificial`) train a scikit-learn SVC; the score is its decision
function, which grows towards the anomaly side. Kernel SVMs cost O(N²) memory and time, so
training uses a random subsample of ``n_train`` background events (default 3,000, plus 3,000
artificial anomalies: about 20 s on 2 cores); the rest of the training file is not used.
"""
from __future__ import annotations

import numpy as np

from adkit.detectors.base import TrainOptions
from adkit.detectors.kernel_base import KernelDetector, resolve_gamma, subsample
from adkit.errors import ConfigError
from adkit.features.artificial import METHODS, artificial_anomalies
from adkit.quantum.kernels import QuantumKernelMixin
from adkit.validation import choice

KERNELS = ("rbf", "quantum")


class ArtificialAnomalySVC(QuantumKernelMixin, KernelDetector):
    """SVC separating background from artificial anomalies; score = decision function."""

    name = "svc"
    param_rules = {"kernel": choice(*KERNELS), "anomalies": choice(*METHODS)}

    def __init__(self, kernel: str = "rbf", C: float = 1.0, gamma: float | str = "scale",
                 anomalies: str = "mix", n_train: int = 3000, smear: float = 1.0, feature_map: str = "dense_u",
                 reps: int = 3, angle_scale: float = 1.0, method: str = "exact", shots: int | None = None,
                 seed: int = 0, contamination: float = 0.1) -> None:
        self.kernel = kernel
        self.C = C
        self.gamma = gamma
        self.anomalies = anomalies
        self.n_train = n_train
        self.smear = smear
        self.feature_map = feature_map
        self.reps = reps
        self.angle_scale = angle_scale
        self.method = method
        self.shots = shots
        self.seed = seed
        self.contamination = contamination

    def kernel_function(self):
        return self.quantum_kernel if self.kernel == "quantum" else super().kernel_function()

    def training_set(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The subsampled background plus the same number of artificial anomalies, and labels."""
        if self.anomalies not in METHODS:
            raise ConfigError(f"svc: anomalies must be one of {', '.join(METHODS)}, got {self.anomalies!r}")
        bkg = subsample(X, self.n_train, self.seed)
        fake = artificial_anomalies(bkg, len(bkg), self.anomalies, seed=self.seed + 1, smear=self.smear)
        return np.concatenate([bkg, fake]), np.r_[np.zeros(len(bkg)), np.ones(len(fake))]

    def fit(self, X: np.ndarray, y: np.ndarray | None = None, *, condition: np.ndarray | None = None,
            options: TrainOptions | None = None) -> ArtificialAnomalySVC:
        from sklearn.svm import SVC

        if self.kernel not in KERNELS:
            raise ConfigError(f"svc: kernel must be one of {', '.join(KERNELS)}, got {self.kernel!r}")
        self.check_condition(X, condition)
        if self.kernel == "quantum":
            self.check_qubits(X.shape[1])
        Xt, yt = self.training_set(X)
        if self.kernel == "quantum":
            self.gamma_ = 0.0
            clf = SVC(C=self.C, kernel="precomputed").fit(self.quantum_kernel(Xt, Xt), yt)
            self._set_expansion(Xt[clf.support_], clf.dual_coef_, clf.intercept_[0])
            return self
        self.gamma_ = resolve_gamma(self.gamma, Xt)
        clf = SVC(C=self.C, kernel="rbf", gamma=self.gamma_, cache_size=1000).fit(Xt, yt)
        self._set_expansion(clf.support_vectors_, clf.dual_coef_, clf.intercept_[0])
        return self
