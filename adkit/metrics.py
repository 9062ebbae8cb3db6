"""Trigger metrics: AUC, TPR at fixed FPR, and TPR at a rate budget of a 40 MHz input.

A trigger threshold is set on background: a budget of R kHz out of an input rate of
``bunch_rate_mhz`` MHz means FPR = R / (1000 · bunch_rate_mhz); 1 kHz of 40 MHz is 2.5e-5.
Every efficiency comes with the counts behind it and its Clopper–Pearson interval (central,
68.27 % by default: the exact binomial "1 σ"). A working point is *resolved* only when at
least :data:`MIN_BACKGROUND` background events pass it (its FPR then known to about ±30 %);
otherwise its TPR is reported but flagged, and no trigger threshold is stored there unless
the user forces it.
"""
from __future__ import annotations

import numpy as np

BUNCH_RATE_MHZ = 40.0
DEFAULT_FPRS = (1e-5, 1e-4, 1e-3)
DEFAULT_RATES_KHZ = (1.0, 10.0, 100.0)
#: Background events that must pass a working point for it to count as resolved.
MIN_BACKGROUND = 10
#: Confidence level of the intervals printed with every efficiency (the Gaussian 1 σ).
CL = 0.6827


def clopper_pearson(k, n, cl: float = CL) -> tuple:
    """Exact (Clopper–Pearson) central interval of a binomial efficiency k/n; arrays broadcast.

    Lower edge: the cl/2 quantile below of Beta(k, n−k+1) (0 when k = 0); upper edge: Beta(k+1, n−k)
    (1 when k = n).
    """
    from scipy.stats import beta

    k, n = np.asarray(k, dtype=np.float64), np.asarray(n, dtype=np.float64)
    a = (1.0 - cl) / 2.0
    with np.errstate(all="ignore"):
        lo = np.where(k > 0, beta.ppf(a, k, n - k + 1), 0.0)
        hi = np.where(k < n, beta.ppf(1 - a, k + 1, n - k), 1.0)
    if lo.ndim == 0:
        return float(lo), float(hi)
    return lo, hi


def poisson_interval(k: float, cl: float = CL) -> tuple[float, float]:
    """Exact (Garwood) central interval of a Poisson mean given k observed events."""
    from scipy.stats import chi2

    a = (1.0 - cl) / 2.0
    return (float(chi2.ppf(a, 2 * k) / 2) if k > 0 else 0.0, float(chi2.ppf(1 - a, 2 * k + 2) / 2))


def efficiency(k: float, n: float, cl: float = CL) -> dict:
    """An efficiency as it is reported everywhere: value, counts and interval."""
    lo, hi = clopper_pearson(k, n, cl)
    return {"value": float(k / n) if n else float("nan"), "passed": k, "total": n, "interval": [lo, hi], "cl": cl}


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


def effective_counts(passed: np.ndarray, weight: np.ndarray | None) -> tuple[float, float]:
    """(k, n) of a selection: plain counts, or for weighted events the effective numbers
    n = (Σw)²/Σw² and k = n·(Σ_pass w / Σw), so that k/n is the weighted efficiency."""
    if weight is None:
        return int(passed.sum()), int(len(passed))
    w = np.asarray(weight, dtype=np.float64)
    n = float(w.sum() ** 2 / (w ** 2).sum()) if len(w) else 0.0
    return n * float(w[passed].sum() / w.sum()) if len(w) else 0.0, n


def efficiency_cell(e: dict, sep: str = " ") -> str:
    """``0.3540 [0.3507–0.3573] 7080/20000``: value, Clopper–Pearson interval, counts (as tables print it)."""
    lo, hi = e["interval"]

    def count(x: float) -> str:
        return f"{x:.0f}" if float(x) == int(x) else f"{x:.1f}"

    return f"{e['value']:.4f}{sep}[{lo:.4f}–{hi:.4f}]{sep}{count(e['passed'])}/{count(e['total'])}"


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
                    background_weight: np.ndarray | None = None, min_background: int = MIN_BACKGROUND,
                    cl: float = CL) -> dict:
    """Metrics of every signal against the background.

    Per working point: the threshold, the background events passing it with the measured FPR
    and its interval, and ``resolved``. Per signal: AUC, and at every working point the TPR
    (``tpr_at_fpr``/``tpr_at_rate_khz``, plain numbers) with its counts and interval
    (``efficiency_at_fpr``/``efficiency_at_rate_khz``).
    """
    b = np.asarray(background)
    nb = len(b)
    if background_weight is not None:
        w = np.asarray(background_weight, dtype=np.float64)
        total = float(w.sum()) if np.isfinite(w).all() else float("nan")
        if not total > 0:
            from adkit.errors import InputError

            raise InputError(f"the background event weights sum to {total:g} ({int((w == 0).sum())} of {len(w)} are "
                             "zero): no rate or efficiency can be computed; check the mapping's 'weight' branch")
    points = [("fpr", f, f) for f in fprs] + [("rate", r, rate_to_fpr(r, bunch_rate_mhz)) for r in rates_khz]
    thresholds = {}
    for kind, value, fpr in points:
        t = threshold_at_fpr(b, fpr, background_weight)
        passed = b > t
        k, n = effective_counts(passed, background_weight)
        thresholds[(kind, value)] = {"threshold": t, "fpr": fpr, "background_passing": int(passed.sum()),
                                     "fpr_measured": efficiency(k, n, cl), "resolved": k >= min_background}
    out = {"n_background": nb, "bunch_rate_mhz": bunch_rate_mhz, "min_background": min_background, "cl": cl,
           "signals": {}, "working_points": [{"kind": k, "value": v, **thresholds[(k, v)]} for k, v, _ in points]}
    for name, s in signals.items():
        s = np.asarray(s)
        row = {"n": len(s), "auc": roc_auc(b, s, background_weight), "tpr_at_fpr": {}, "tpr_at_rate_khz": {},
               "efficiency_at_fpr": {}, "efficiency_at_rate_khz": {}}
        for kind, value, _ in points:
            k = int((s > thresholds[(kind, value)]["threshold"]).sum())
            key = "fpr" if kind == "fpr" else "rate_khz"
            row[f"tpr_at_{key}"][f"{value:g}"] = k / len(s) if len(s) else float("nan")
            row[f"efficiency_at_{key}"][f"{value:g}"] = efficiency(k, len(s), cl)
        out["signals"][name] = row
    return out


def bootstrap_tpr(background: dict[str, np.ndarray], signals: dict[str, dict[str, np.ndarray]],
                  fprs: tuple[float, ...], n_boot: int = 200, seed: int = 0) -> dict[str, dict[str, dict[float, np.ndarray]]]:
    """Bootstrap replicas of the TPR at fixed FPR, the threshold re-derived in every replica.

    ``background[det]`` and ``signals[det][name]`` are detector ``det``'s scores of the same events
    for every detector, so replica r reweights the same events for all of them (paired): the
    spread of a difference between two detectors is then the spread of the replicas' differences.
    Poisson weights (the large-sample form of resampling with replacement) keep it cheap for
    millions of background events: only the top of each detector's background decides its
    threshold. Returns ``out[det][name][fpr]``, an array of ``n_boot`` TPRs.
    """
    dets = list(background)
    n_b = len(background[dets[0]])
    top, top_scores = {}, {}
    m = min(n_b, max(2000, int(40 * max(fprs) * n_b)))
    for d in dets:  # the background events that can decide a threshold, highest score first
        idx = np.argpartition(-background[d], m - 1)[:m] if m < n_b else np.arange(n_b)
        top[d] = idx[np.argsort(-background[d][idx], kind="stable")]
        top_scores[d] = background[d][top[d]]
    out = {d: {s: {f: np.empty(n_boot) for f in fprs} for s in signals[d]} for d in dets}
    names = list(signals[dets[0]])
    for r in range(n_boot):
        rng = np.random.default_rng([seed, r])
        wb = rng.poisson(1.0, n_b).astype(np.float64)
        ws = {s: rng.poisson(1.0, len(signals[dets[0]][s])).astype(np.float64) for s in names}
        total = wb.sum()
        for d in dets:
            b = top_scores[d]
            cw = np.cumsum(wb[top[d]]) / total
            for f in fprs:
                k = int(np.searchsorted(cw, f, side="right"))
                t = b[k] if k < len(b) else -np.inf
                for s in names:
                    w = ws[s]
                    out[d][s][f][r] = w[signals[d][s] > t].sum() / w.sum()
    return out


def interval(replicas: np.ndarray, level: float = 0.68) -> tuple[float, float]:
    """Central percentile interval of bootstrap replicas."""
    lo = (1.0 - level) / 2.0
    return float(np.quantile(replicas, lo)), float(np.quantile(replicas, 1.0 - lo))


def thresholds_at_rates(background: np.ndarray, rates_khz, bunch_rate_mhz: float = BUNCH_RATE_MHZ,
                        weight: np.ndarray | None = None) -> list[dict]:
    """Trigger thresholds for rate budgets in kHz: ``name`` ("10kHz"), ``value``, ``rate_khz``, ``fpr``
    (the fields of a stored :class:`adkit.artifact.Threshold`)."""
    out = []
    for r in rates_khz:
        fpr = rate_to_fpr(r, bunch_rate_mhz)
        out.append({"name": f"{r:g}kHz", "value": threshold_at_fpr(background, fpr, weight), "rate_khz": float(r),
                    "fpr": fpr})
    return out
