"""The scikit-learn estimator checks an adkit detector fails on purpose, and why.

Pass it to scikit-learn's own mechanism::

    from sklearn.utils.estimator_checks import check_estimator
    from adkit.detectors.checks import expected_failed_checks
    check_estimator(det, expected_failed_checks=expected_failed_checks(det))

``tests/test_peers.py`` runs every check over every one-sample detector with this list.
"""
from __future__ import annotations

PYOD_CONVENTION = ("pyod's convention, kept on purpose: predict gives 1 for an anomaly and 0 for a normal event "
                   "(scikit-learn: -1 and 1), so that labels compare with y directly (f1, precision)")
FLOAT32 = ("a float32 network: an event's score can differ between batch compositions by float32 rounding "
           "(about 1e-7 relative, BLAS kernels differ by batch size); the check asks 1e-7 absolute")
SHORT_WINDOWS = ("a rolling z-score needs windows of at least 3 samples (2 earlier samples for a standard "
                 "deviation); this check fits 2-feature data")


def expected_failed_checks(detector) -> dict[str, str]:
    """{check name: reason} for ``detector`` (scikit-learn's ``expected_failed_checks``)."""
    out = {"check_outliers_train": PYOD_CONVENTION, "check_outliers_fit_predict": PYOD_CONVENTION}
    members = getattr(detector, "member_classes", list)()  # an ensemble is float32 if any member is
    if detector.tags.torch or any(m.tags.torch for m in members):
        out["check_methods_subset_invariance"] = FLOAT32
    if detector.name == "zscore":
        out.update(dict.fromkeys(("check_estimators_overwrite_params", "check_estimators_fit_returns_self",
                                  "check_readonly_memmap_input", "check_classifier_data_not_an_array",
                                  "check_fit_idempotent", "check_fit_check_is_fitted", "check_n_features_in"),
                                 SHORT_WINDOWS))
    return out
