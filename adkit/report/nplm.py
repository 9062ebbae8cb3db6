"""NPLM plots: the null distribution with its chi-square fit, and what f(x) learned per feature."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from adkit.report import _save


def _style():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mplhep

    plt.style.use(mplhep.style.CMS)
    return plt


def null_plot(null: np.ndarray, t: float, dof: float | None, path: Path, overwrite: bool = False) -> str:
    """Histogram of null-toy t values, the fitted chi-square density (when there is a fit) and the observed t."""
    from scipy import stats

    from adkit.report.style import color

    plt = _style()
    fig, ax = plt.subplots(figsize=(9, 7))
    hi = max(np.max(null), t) * 1.1
    ax.hist(null, bins=min(40, max(10, len(null) // 5)), range=(0, hi), density=True, histtype="stepfilled",
            alpha=0.4, color=color("null toys"), label=f"null toys ({len(null)})")
    x = np.linspace(1e-3, hi, 400)
    if dof is not None:
        ax.plot(x, stats.chi2.pdf(x, dof), lw=2, color=color("chi-square fit"), label=f"$\\chi^2$ fit, dof = {dof:.2f}")
    ax.axvline(t, color=color("observed"), lw=2, label=f"observed t = {t:.2f}")
    ax.set(xlabel="t", ylabel="density")
    ax.legend(fontsize=14)
    name = _save(fig, path, overwrite)
    plt.close(fig)
    return name


def projection_plots(ref: np.ndarray, data: np.ndarray, f_ref: np.ndarray, n_expected: float, columns: list[str],
                     outdir: Path, overwrite: bool = False) -> list[str]:
    """Per feature, in the features' own units (``ref``/``data`` as read, not standardised): data
    counts, the reference scaled to N(0), and the reference reweighted by e^f (the data density NPLM
    learned); the ratio panel shows where f sees a difference. Counts get integer bins."""
    from adkit.report.style import color, feature_label

    plt = _style()
    w = np.full(len(ref), n_expected / len(ref))
    written = []
    for j, col in enumerate(columns):
        lo, hi = np.quantile(np.r_[ref[:, j], data[:, j]], [0.001, 0.999])
        if hi <= lo:
            continue
        values = np.r_[ref[:, j], data[:, j]]
        integer = np.all(values == np.round(values)) and hi - lo <= 40
        bins = np.arange(np.floor(lo) - 0.5, np.ceil(hi) + 1.5) if integer else np.linspace(lo, hi, 31)
        d, _ = np.histogram(data[:, j], bins)
        r, _ = np.histogram(ref[:, j], bins, weights=w)
        fit, _ = np.histogram(ref[:, j], bins, weights=w * np.exp(f_ref))
        fig, (ax, rax) = plt.subplots(2, 1, figsize=(9, 9), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
        centres = 0.5 * (bins[1:] + bins[:-1])
        ax.errorbar(centres, d, yerr=np.sqrt(d), fmt="o", color="k", label="data")
        ax.stairs(r, bins, lw=2, color=color("reference"), label="reference × N(0)/N_R")
        ax.stairs(fit, bins, lw=2, ls="--", color=color("NPLM fit"), label="reference × e^f (NPLM)")
        ax.set(ylabel="events", yscale="log")
        ax.legend(fontsize=13)
        ok = r > 0
        rax.errorbar(centres[ok], d[ok] / r[ok], yerr=np.sqrt(d[ok]) / r[ok], fmt="o", color="k")
        rax.plot(centres[ok], fit[ok] / r[ok], lw=2, ls="--", color=color("NPLM fit"))
        rax.axhline(1, color="grey", lw=1)
        rax.set(xlabel=feature_label(col), ylabel="ratio to ref.")
        safe = "".join(c if c.isalnum() or c in "_-" else "_" for c in col)
        written.append(_save(fig, outdir / f"f_{safe}.png", overwrite))
        plt.close(fig)
    return written


def feature_plots(ref: np.ndarray, sample: np.ndarray, columns: list[str], w1: dict, outdir: Path,
                  overwrite: bool = False, labels: tuple[str, str] = ("reference", "sample")) -> list[str]:
    """Per feature: both samples normalised to unit area, their ratio below, and W1 with its error
    (``adkit compare``); integer features get integer bins."""
    from adkit.report.style import color, feature_label

    plt = _style()
    written = []
    for j, col in enumerate(columns):
        lo, hi = np.quantile(np.r_[ref[:, j], sample[:, j]], [0.001, 0.999])
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        values = np.r_[ref[:, j], sample[:, j]]
        integer = np.all(values == np.round(values)) and hi - lo <= 40
        bins = np.arange(np.floor(lo) - 0.5, np.ceil(hi) + 1.5) if integer else np.linspace(lo, hi, 41)
        r, _ = np.histogram(ref[:, j], bins)
        s, _ = np.histogram(sample[:, j], bins)
        rn, sn = r / max(r.sum(), 1), s / max(s.sum(), 1)
        fig, (ax, rax) = plt.subplots(2, 1, figsize=(9, 9), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
        ax.stairs(rn, bins, lw=2, color=color(labels[0]), label=f"{labels[0]} ({len(ref)})")
        ax.stairs(sn, bins, lw=2, ls="--", color=color(labels[1]), label=f"{labels[1]} ({len(sample)})")
        err = w1["error"][j] if w1.get("error") else float("nan")
        ax.set(ylabel="fraction of events", yscale="log", title=f"W1 = {w1['value'][j]:.4g} ± {err:.2g}")
        ax.legend(fontsize=13)
        ok = (r > 0) & (s > 0)
        ratio_err = (sn[ok] / rn[ok]) * np.sqrt(1 / s[ok] + 1 / r[ok])
        rax.errorbar(0.5 * (bins[1:] + bins[:-1])[ok], sn[ok] / rn[ok], yerr=ratio_err, fmt="o", color="k")
        rax.axhline(1, color="grey", lw=1)
        rax.set(xlabel=feature_label(col), ylabel=f"{labels[1]} / ref.")
        safe = "".join(c if c.isalnum() or c in "_-" else "_" for c in col)
        written.append(_save(fig, outdir / f"w1_{safe}.png", overwrite))
        plt.close(fig)
    return written
