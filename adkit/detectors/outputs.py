"""pyod's outputs of a fitted detector, as functions of its training and test scores.

Each follows the paper pyod cites, vectorised (pyod loops over events in Python); the tests
compare them with pyod's ``BaseDetector`` on the same scores.

- :func:`probability`: ``linear`` (min-max of the training scores) or ``unify`` (Kriegel et al.
  2011, "Interpreting and unifying outlier scores": Gaussian scaling, erf).
- :func:`confidence`: ExCeeD (Perini, Vercruyssen, Davis 2020, "Quantifying the confidence of
  anomaly detectors in their example-wise predictions").
- :func:`rejection_stats`: the expected and upper-bound rejection rate and cost of rejecting
  low-confidence predictions (Perini, Davis 2023, "Unsupervised anomaly detection with rejection").
"""
from __future__ import annotations

import numpy as np

PROBABILITY_METHODS = ("linear", "unify")


def probability(train: np.ndarray, test: np.ndarray, method: str = "linear") -> np.ndarray:
    """[n, 2]: probability of normal, of outlier."""
    from scipy.special import erf

    train = np.asarray(train, dtype=np.float64)
    test = np.asarray(test, dtype=np.float64)
    if method == "linear":
        lo, span = train.min(), np.ptp(train)
        p = (test - lo) / (span if span > 0 else 1.0)
    elif method == "unify":
        sigma = train.std()
        p = erf((test - train.mean()) / ((sigma if sigma > 0 else 1.0) * np.sqrt(2)))
    else:
        raise ValueError(f"{method!r} is not a probability method; use one of {', '.join(PROBABILITY_METHODS)}")
    p = np.clip(p, 0.0, 1.0)
    return np.column_stack([1.0 - p, p])


def outlier_confidence(train: np.ndarray, test: np.ndarray, share: float) -> np.ndarray:
    """ExCeeD: the probability that an event is among the top ``share`` of scores when the
    training set is redrawn (Bayesian estimate of its outlier probability, then a binomial tail)."""
    from scipy.stats import binom

    n = len(train)
    below = np.searchsorted(np.sort(np.asarray(train, dtype=np.float64)), test, side="right")
    p = (1.0 + below) / (2.0 + n)
    return 1.0 - binom.cdf(n - int(n * share), n, p)


def confidence(train: np.ndarray, test: np.ndarray, share: float, predicted: np.ndarray) -> np.ndarray:
    """Confidence in each prediction: of an outlier for events predicted 1, of an inlier otherwise."""
    c = outlier_confidence(train, test, share)
    return np.where(np.asarray(predicted) == 1, c, 1.0 - c)


def reject(outlier_conf: np.ndarray, predicted: np.ndarray, T: float) -> np.ndarray:
    """Labels with -2 where the prediction is not confident: 2|c − ½| ≤ 1 − 2e^−T."""
    out = np.array(predicted, dtype=int)
    out[2 * np.abs(outlier_conf - 0.5) <= 1 - 2 * np.exp(-T)] = -2
    return out


def _binom_quantile_p(k: int, n: int, level: float) -> float:
    """The success probability p at which P(Binomial(n, p) ≤ k) = level."""
    from scipy.optimize import brentq
    from scipy.stats import binom

    return float(brentq(lambda p: binom.cdf(k, n, p) - level, 0.0, 1.0))


def rejection_stats(n: int, share: float, T: float = 32, delta: float = 0.1, c_fp: float = 1.0,
                    c_fn: float = 1.0, c_r: float = -1.0) -> tuple[float, float, float]:
    """(expected rejection rate, its upper bound with probability 1 − delta, upper bound of the cost)
    for ``n`` training events and a threshold at the top ``share``; ``c_r < 0`` means ``share``."""
    if c_r < 0:
        c_r = share
    if not 0 < delta < 1:
        delta = 0.1
    k = int(n * share) - 1
    q1 = _binom_quantile_p(k, n, 1 - np.exp(-T))
    q2 = _binom_quantile_p(k, n, np.exp(-T))
    expected = q2 - q1
    g = share
    right = min(1.0, (-g * (n + 2) + n + 1) / n + T * (n + 2) / np.sqrt(2 * n ** 3 * T))
    inner = 0.5 * n ** 5 * (2 * n * (-3 * g ** 2 - 2 * n * (1 - g) ** 2 + 4 * g - 3) + T * (n + 2) ** 2 - 8)
    left = max(0.0, (2 + n * (1 - g) * (n + 1)) / n ** 2 - np.sqrt(inner) / n ** 4)
    upper = right - left + 2 * np.sqrt(np.log(2 / delta) / (2 * n))
    cost = min(g, q1) * c_fp + min(1 - q2, g) * c_fn + (q2 - q1) * c_r
    return float(expected), float(upper), float(cost)
