"""One-class SVM baseline (scikit-learn, RBF kernel) on a stated training subsample.

The score is minus scikit-learn's ``decision_function`` (which is positive inside the learned
support), so higher means more anomalous. ``nu`` bounds the fraction of training events left
outside. Training uses ``n_train`` events (default 10,000) because the solver scales as N².
"""
from __future__ import annotations

import numpy as np

from adkit.detectors.base import TrainOptions
from adkit.detectors.kernel_base import KernelDetector, resolve_gamma, subsample


class OneClassSVM(KernelDetector):
    """scikit-learn OneClassSVM (RBF); score = −decision function."""

    name = "ocsvm"
    sign = -1.0

    def __init__(self, nu: float = 0.05, gamma: float | str = "scale", n_train: int = 10000, seed: int = 0,
                 contamination: float = 0.1) -> None:
        self.nu = nu
        self.gamma = gamma
        self.n_train = n_train
        self.seed = seed
        self.contamination = contamination

    def fit(self, X: np.ndarray, y: np.ndarray | None = None, *, condition: np.ndarray | None = None,
            options: TrainOptions | None = None) -> OneClassSVM:
        from sklearn.svm import OneClassSVM as SkOCSVM

        self.check_condition(X, condition)
        Xt = subsample(X, self.n_train, self.seed)
        self.gamma_ = resolve_gamma(self.gamma, Xt)
        clf = SkOCSVM(nu=self.nu, kernel="rbf", gamma=self.gamma_, cache_size=1000).fit(Xt)
        self._set_expansion(clf.support_vectors_, clf.dual_coef_, clf.intercept_[0])
        return self
