"""Trigger metrics: AUC, TPR at fixed FPR, and TPR at a rate budget of a 40 MHz input.

A trigger threshold is set on background: a budget of R kHz out of an input rate of
``bunch_rate_mhz`` MHz means FPR = R / (1000 · bunch_rate_mhz); 1 kHz of 40 MHz is 2.5e-5.
A working point is *resolved* only when at least ``min_background`` background events pass
it; otherwise its TPR is reported but flagged, since it rests on too few events.
"""
from __future__ import annotations

import numpy as np

BUNCH_RATE_MHZ = 40.0
DEFAULT_FPRS = (1e-5, 1e-4, 1e-3)
DEFAULT_RATES_KHZ = (1.0, 10.0, 100.0)


def rate_to_fpr(rate_khz: float, bunch_rate_mhz: float = BUNCH_RATE_MHZ) -> float:
    """Trigger rate in kHz → false-positive rate on background."""
    return float(rate_khz) / (1000.0 * float(bunch_rate_mhz))


def threshold_at_fpr(background: np.ndarray, fpr: float, weight: np.ndarray | None = None) -> float:
    """Score threshold such that the (weighted) fraction of background with score > t is ≤ fpr."""
    b = np.asarray(background, dtype=np.float64)
    if len(b) == 0:
        raise ValueError("no background scores")
    w = np.ones_like(b) if weight is None else np.asarray(weight, dtype=np.float64)
    order = np.argsort(-b, kind="stable")
    bs, cw = b[order], np.cumsum(w[order]) / w.sum()
    # the largest number k of top events whose weight fraction stays within fpr
    k = int(np.searchsorted(cw, fpr, side="right"))
    if k >= len(bs):
        return float(np.nextafter(bs[-1], -np.inf))
    return float(bs[k])  # events strictly above bs[k] pass


def tpr_at_threshold(signal: np.ndarray, threshold: float, weight: np.ndarray | None = None) -> float:
    s = np.asarray(signal, dtype=np.float64)
    w = np.ones_like(s) if weight is None else np.asarray(weight, dtype=np.float64)
    return float(w[s > threshold].sum() / w.sum()) if len(s) else float("nan")


def roc_auc(background: np.ndarray, signal: np.ndarray, wb: np.ndarray | None = None,
            ws: np.ndarray | None = None) -> float:
    """Area under the ROC curve (scikit-learn's, with ties counted half)."""
    from sklearn.metrics import roc_auc_score

    y = np.r_[np.zeros(len(background)), np.ones(len(signal))]
    w = None if wb is None and ws is None else np.r_[
        np.ones(len(background)) if wb is None else wb, np.ones(len(signal)) if ws is None else ws]
    return float(roc_auc_score(y, np.r_[background, signal], sample_weight=w))


def roc_curve(background: np.ndarray, signal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.metrics import roc_curve as _rc

    y = np.r_[np.zeros(len(background)), np.ones(len(signal))]
    fpr, tpr, _ = _rc(y, np.r_[background, signal])
    return fpr, tpr


def evaluate_scores(background: np.ndarray, signals: dict[str, np.ndarray], *, fprs=DEFAULT_FPRS,
                    rates_khz=DEFAULT_RATES_KHZ, bunch_rate_mhz: float = BUNCH_RATE_MHZ,
                    background_weight: np.ndarray | None = None, min_background: int = 1) -> dict:
    """Metrics of every signal against the background."""
    nb = len(background)
    points = [("fpr", f, f) for f in fprs] + [("rate", r, rate_to_fpr(r, bunch_rate_mhz)) for r in rates_khz]
    thresholds = {}
    for kind, value, fpr in points:
        t = threshold_at_fpr(background, fpr, background_weight)
        n_pass = int((np.asarray(background) > t).sum())
        thresholds[(kind, value)] = {"threshold": t, "fpr": fpr, "background_passing": n_pass,
                                     "resolved": fpr * nb >= min_background}
    out = {"n_background": nb, "bunch_rate_mhz": bunch_rate_mhz, "signals": {}, "working_points": [
        {"kind": k, "value": v, **thresholds[(k, v)]} for k, v, _ in points]}
    for name, s in signals.items():
        row = {"n": len(s), "auc": roc_auc(background, s, background_weight), "tpr_at_fpr": {}, "tpr_at_rate_khz": {}}
        for kind, value, _ in points:
            tpr = tpr_at_threshold(s, thresholds[(kind, value)]["threshold"])
            row["tpr_at_fpr" if kind == "fpr" else "tpr_at_rate_khz"][f"{value:g}"] = tpr
        out["signals"][name] = row
    return out
