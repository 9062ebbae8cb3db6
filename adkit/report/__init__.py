"""Evaluation report: metrics table (text and Markdown), ROC and score-distribution plots."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from adkit.io.writers import atomic_output


def table_rows(result: dict) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the metrics table: one row per signal."""
    fprs = list(next(iter(result["signals"].values()))["tpr_at_fpr"]) if result["signals"] else []
    rates = list(next(iter(result["signals"].values()))["tpr_at_rate_khz"]) if result["signals"] else []
    unresolved = {(w["kind"], f"{w['value']:g}") for w in result["working_points"] if not w["resolved"]}
    header = ["signal", "events", "AUC"] + [f"TPR@FPR {f}" for f in fprs] + [f"TPR@{r} kHz" for r in rates]
    rows = []
    for name, s in result["signals"].items():
        cells = [name, str(s["n"]), f"{s['auc']:.3f}"]
        cells += [f"{s['tpr_at_fpr'][f]:.4f}{'*' if ('fpr', f) in unresolved else ''}" for f in fprs]
        cells += [f"{s['tpr_at_rate_khz'][r]:.4f}{'*' if ('rate', r) in unresolved else ''}" for r in rates]
        rows.append(cells)
    return header, rows


def footnote(result: dict) -> str:
    nb = result["n_background"]
    note = (f"Background: {nb} events; rates are of a {result['bunch_rate_mhz']:g} MHz input "
            f"(1 kHz = FPR {1 / (1000 * result['bunch_rate_mhz']):.2g}).")
    if any(not w["resolved"] for w in result["working_points"]):
        note += " * fewer than one background event passes: the working point needs more background."
    return note


def markdown(result: dict, title: str, images: list[str]) -> str:
    header, rows = table_rows(result)
    lines = [f"# {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines += ["", footnote(result), "", "## Trigger thresholds", "", "| working point | threshold | background passing |",
              "|---|---|---|"]
    for w in result["working_points"]:
        label = f"FPR {w['value']:g}" if w["kind"] == "fpr" else f"{w['value']:g} kHz"
        lines.append(f"| {label} | {w['threshold']:.6g} | {w['background_passing']} |")
    lines += [""] + [f"![{Path(i).stem}]({i})" for i in images]
    return "\n".join(lines) + "\n"


def plots(result: dict, outdir: Path, overwrite: bool = False) -> list[str]:
    """ROC curves (log FPR, with the trigger-rate axis) and score distributions, as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mplhep

    from adkit.metrics import roc_curve

    plt.style.use(mplhep.style.CMS)
    scores = result["scores"]
    bkg = scores["background"]
    names = [k for k in scores if k != "background"]
    written = []

    fig, ax = plt.subplots(figsize=(9, 8))
    for name in names:
        fpr, tpr = roc_curve(bkg, scores[name])
        ax.plot(fpr[1:], tpr[1:], label=f"{name} (AUC {result['signals'][name]['auc']:.3f})")
    ax.set(xscale="log", yscale="log", xlabel="background efficiency (FPR)", ylabel="signal efficiency (TPR)",
           xlim=(max(1.0 / len(bkg), 1e-6), 1))
    sec = ax.secondary_xaxis("top", functions=(lambda f: f * result["bunch_rate_mhz"] * 1e3,
                                               lambda r: r / (result["bunch_rate_mhz"] * 1e3)))
    sec.set_xlabel("trigger rate [kHz]")
    ax.legend(fontsize=14, loc="lower right")
    written.append(_save(fig, outdir / "roc.png", overwrite))

    fig, ax = plt.subplots(figsize=(9, 8))
    allv = np.concatenate([scores[k] for k in scores])
    lo, hi = np.percentile(allv, 0.01), np.percentile(allv, 99.99)
    bins = np.geomspace(max(lo, 1e-6), hi, 60) if lo > 0 else np.linspace(lo, hi, 60)
    for name in ["background", *names]:
        ax.hist(np.clip(scores[name], bins[0], bins[-1]), bins=bins, histtype="step", density=True, lw=2, label=name)
    ax.set(xscale="log" if lo > 0 else "linear", yscale="log", xlabel="anomaly score", ylabel="density")
    ax.legend(fontsize=14)
    written.append(_save(fig, outdir / "scores.png", overwrite))
    plt.close("all")
    return written


def _save(fig, path: Path, overwrite: bool) -> str:
    with atomic_output(path, overwrite) as tmp:
        fig.savefig(tmp, format="png", dpi=90, bbox_inches="tight")
    return path.name


REPORT_FILES = ["metrics.json", "report.md", "roc.png", "scores.png"]


def write_report(result: dict, outdir: str | Path, title: str = "adkit evaluation", overwrite: bool = False) -> list[Path]:
    """Write ``metrics.json``, ``roc.png``, ``scores.png`` and ``report.md`` into ``outdir``
    (each checked before the first is written)."""
    from adkit.io.files import check_outputs

    out = check_outputs(outdir, REPORT_FILES, overwrite)
    out.mkdir(parents=True, exist_ok=True)
    images = plots(result, out, overwrite)
    metrics = {k: v for k, v in result.items() if k != "scores"}
    with atomic_output(out / "metrics.json", overwrite) as tmp:
        tmp.write_text(json.dumps(metrics, indent=2))
    with atomic_output(out / "report.md", overwrite) as tmp:
        tmp.write_text(markdown(result, title, images))
    return [out / "metrics.json", out / "report.md", *(out / i for i in images)]
