"""Evaluation report: metrics table (text and Markdown), ROC and score-distribution plots."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from adkit.io.writers import atomic_output
from adkit.metrics import efficiency_cell
from adkit.report.style import label


def table_rows(result: dict, sep: str = " ") -> tuple[list[str], list[list[str]]]:
    """Header and rows of the metrics table: one row per signal, every TPR with interval and counts."""
    first = next(iter(result["signals"].values()), None)
    fprs = list(first["tpr_at_fpr"]) if first else []
    rates = list(first["tpr_at_rate_khz"]) if first else []
    unresolved = {(w["kind"], f"{w['value']:g}") for w in result["working_points"] if not w["resolved"]}
    header = ["signal", "events", "AUC"] + [f"TPR@FPR {f}" for f in fprs] + [f"TPR@{r} kHz" for r in rates]
    rows = []
    for name, s in result["signals"].items():
        cells = [label(name), str(s["n"]), f"{s['auc']:.3f}"]
        for key, kind, points in (("fpr", "fpr", fprs), ("rate_khz", "rate", rates)):
            for v in points:
                eff = s.get(f"efficiency_at_{key}", {}).get(v)
                text = efficiency_cell(eff, sep) if eff else f"{s[f'tpr_at_{key}'][v]:.4f}"
                cells.append(text + ("*" if (kind, v) in unresolved else ""))
        rows.append(cells)
    return header, rows


def footnote(result: dict) -> str:
    nb = result["n_background"]
    cl = result.get("cl", 0.6827)
    note = (f"Background: {nb} events; rates are of a {result['bunch_rate_mhz']:g} MHz input "
            f"(1 kHz = FPR {1 / (1000 * result['bunch_rate_mhz']):.2g}). Each TPR: value [{100 * cl:.2f} % "
            f"Clopper–Pearson interval] signal events passing/total.")
    if any(not w["resolved"] for w in result["working_points"]):
        note += (f" * unresolved: fewer than {result.get('min_background', 1)} background events pass this working "
                 "point, so its threshold (and FPR) rests on too few events; give more background.")
    return note


def working_point_rows(result: dict) -> list[list[str]]:
    """One row per working point: target, threshold, background passing/total, measured FPR with interval."""
    rows = []
    for w in result["working_points"]:
        name = f"FPR {w['value']:g}" if w["kind"] == "fpr" else f"{w['value']:g} kHz"
        m = w.get("fpr_measured")
        fpr = (f"{m['value']:.3g} [{m['interval'][0]:.2g}–{m['interval'][1]:.2g}]" if m else "")
        rows.append([name, f"{w['threshold']:.6g}", f"{w['background_passing']}/{result['n_background']}", fpr,
                     "yes" if w["resolved"] else "no"])
    return rows


WORKING_POINT_HEADER = ["working point", "threshold", "background passing", "FPR measured (68 % interval)", "resolved"]


def markdown(result: dict, title: str, images: list[str]) -> str:
    header, rows = table_rows(result)
    lines = [f"# {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines += ["", footnote(result), "", "## Trigger thresholds", "", "| " + " | ".join(WORKING_POINT_HEADER) + " |",
              "|" + "---|" * len(WORKING_POINT_HEADER)]
    lines += ["| " + " | ".join(r) + " |" for r in working_point_rows(result)]
    lines += [""] + [f"![{Path(i).stem}]({i})" for i in images]
    return "\n".join(lines) + "\n"


def plots(result: dict, outdir: Path, overwrite: bool = False) -> list[str]:
    """ROC curves (log FPR, with the trigger-rate axis) and score distributions, as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mplhep

    from adkit.metrics import clopper_pearson, roc_curve
    from adkit.report.style import color, plot_label

    plt.style.use(mplhep.style.CMS)
    scores = result["scores"]
    bkg = scores["background"]
    names = [k for k in scores if k != "background"]
    written = []
    cl = result.get("cl", 0.6827)

    fig, ax = plt.subplots(figsize=(9, 8))
    for name in names:
        fpr, tpr = roc_curve(bkg, scores[name])
        n = len(scores[name])
        lo, hi = clopper_pearson(np.rint(tpr * n), n, cl)
        c = color(name)
        ax.fill_between(fpr[1:], lo[1:], hi[1:], color=c, alpha=0.25, lw=0, step="post")
        ax.plot(fpr[1:], tpr[1:], color=c, label=f"{plot_label(name)} (AUC {result['signals'][name]['auc']:.3f})")
    unresolved = max(result.get("min_background", 1) / len(bkg), 1.0 / len(bkg))
    ax.axvspan(1.0 / len(bkg) / 10, unresolved, color="0.85", zorder=0,
               label=f"< {result.get('min_background', 1)} background events")
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
        ax.hist(np.clip(scores[name], bins[0], bins[-1]), bins=bins, histtype="step", density=True, lw=2,
                label=plot_label(name), color=color(name))
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
    from adkit.files import check_outputs

    out = check_outputs(outdir, REPORT_FILES, overwrite)
    out.mkdir(parents=True, exist_ok=True)
    images = plots(result, out, overwrite)
    metrics = {k: v for k, v in result.items() if k != "scores"}
    with atomic_output(out / "metrics.json", overwrite) as tmp:
        tmp.write_text(json.dumps(metrics, indent=2))
    with atomic_output(out / "report.md", overwrite) as tmp:
        tmp.write_text(markdown(result, title, images))
    return [out / "metrics.json", out / "report.md", *(out / i for i in images)]
