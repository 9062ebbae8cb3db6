"""adkit detectors in the scikit-learn workflow a notebook user expects, on pyod's own test data.

    python examples/sklearn_workflow.py [--small]

Pipeline fitted with labels (ignored, as by every scikit-learn outlier detector), cross-validated
ROC AUC, a grid search over ``contamination`` and a hyper-parameter scored by F1 (``predict``'s
1 = anomaly matches the labels), ``score`` as one number, then every one-sample detector with its
defaults on pyod's ``generate_data``: scikit-learn's ``check_estimator`` tally, ROC AUC with its 68% interval (Hanley & McNeil), and the
predictions after pickle and after ``adkit.save``/``adkit.load``. docs/api.md shows this output.
"""
from __future__ import annotations

import argparse
import pickle
import tempfile
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

import adkit
from adkit.detectors import IForest, available, get
from adkit.detectors.checks import expected_failed_checks

#: Small budgets for scikit-learn's checks (about 40 fits of tiny data per detector).
CHECK_BUDGET = {"epochs": 3, "n_estimators": 20, "width": 16, "n_landmarks": 50}


def auc_interval(auc: float, n_pos: int, n_neg: int) -> float:
    """The standard error of a ROC AUC (Hanley & McNeil 1982)."""
    q1, q2 = auc / (2 - auc), 2 * auc ** 2 / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc ** 2) + (n_neg - 1) * (q2 - auc ** 2)) / (n_pos * n_neg)
    return float(np.sqrt(max(var, 0.0)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true", help="a few detectors only (the tests)")
    small = ap.parse_args().small
    try:
        from pyod.utils.data import generate_data
    except ImportError:
        raise SystemExit("this example uses pyod's test data: pip install 'adkit[bench]'") from None
    X_train, X_test, y_train, y_test = generate_data(n_train=200, n_test=100, n_features=10, contamination=0.1,
                                                     random_state=42)
    X, y = np.r_[X_train, X_test], np.r_[y_train, y_test]

    folds = StratifiedKFold(3, shuffle=True, random_state=0)  # generate_data puts the outliers last
    pipe = make_pipeline(StandardScaler(), IForest(n_estimators=100)).fit(X, y)
    print(f"pipeline fitted with y: ROC AUC {roc_auc_score(y, pipe.decision_function(X)):.3f}")
    aucs = cross_val_score(IForest(n_estimators=100), X, y, scoring="roc_auc", cv=folds)
    print(f"cross_val_score(scoring='roc_auc', stratified 3 folds): {', '.join(f'{a:.3f}' for a in aucs)}")
    grid = GridSearchCV(IForest(), {"contamination": [0.02, 0.1, 0.3], "n_estimators": [20, 100]},
                        scoring="f1", cv=folds).fit(X, y)
    print(f"GridSearchCV(scoring='f1'): best {grid.best_params_}, F1 {grid.best_score_:.3f}")
    print(f"score(X) (mean score_samples, higher = more normal): {grid.best_estimator_.score(X_test):.4f}")

    names = [n for n in available() if not (get(n).uses_target or get(n).two_sample)]
    if small:
        names = ["ae", "iforest", "ocsvm"]
    print("\nscikit-learn's check_estimator (the checks failed on purpose: adkit.detectors.checks):")
    for name in names:
        det = get(name)(**{k: v for k, v in CHECK_BUDGET.items() if k in get(name).param_names()})
        expected = expected_failed_checks(det)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results = check_estimator(det, expected_failed_checks=expected, on_fail=None, on_skip=None)
        count = Counter(r["status"] for r in results)
        print(f"{name:10s} {count['passed']:2d} passed, {count['failed']} failed, {count['skipped']} skipped, "
              f"{count['xfail']:2d} expected failures: {', '.join(c[6:] for c in sorted(set(expected)))}")
    print("(skipped: the array-API check, which needs SCIPY_ARRAY_API=1 before scipy loads; the tests run it so)")

    print("\ndefaults on generate_data (200 train, 100 test, 10 features, 10% outliers):")
    print(f"{'detector':10s} {'ROC AUC':>15s}  predict after pickle / adkit.load")
    n_pos, n_neg = int(y_test.sum()), int((1 - y_test).sum())
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        for name in names:
            det = get(name)().fit(X_train)
            s = det.decision_function(X_test)
            auc = roc_auc_score(y_test, s)
            back = adkit.load(adkit.save(det, Path(tmp) / f"{name}.adkit"))
            same = all(np.array_equal(d.predict(X_test), det.predict(X_test))
                       for d in (pickle.loads(pickle.dumps(det)), back))
            note = "  (a shape-only series baseline: blind to this data by design)" if det.tags.shape_only else ""
            print(f"{name:10s} {auc:7.3f} ± {auc_interval(auc, n_pos, n_neg):.3f}  "
                  f"{'same' if same else 'DIFFERENT'}{note}")


if __name__ == "__main__":
    main()
