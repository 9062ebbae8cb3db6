"""Check a student's firmware on held-out events and write ``report.md`` / ``report.json``.

The versions of the score compared on the same events: the teacher, the student in float
arithmetic (``student_float``: its firmware weights, inputs and results neither rounded nor
saturated; what fixed-point arithmetic costs), the quantized student (the adkit model's score)
and each firmware backend's design (:mod:`adkit.firmware.backends`: the hls4ml C simulation,
da4ml's adder graph and its RTL). The trigger thresholds are the student's own, set before on
the held-out background (:func:`adkit.distill.heldout.set_thresholds`).
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from adkit.artifact import Model
from adkit.distill.heldout import Events
from adkit.firmware.backends import FirmwareBackend, joined
from adkit.firmware.estimate import side_by_side
from adkit.metrics import evaluate_scores


def teacher_multiplications(teacher: Model) -> int | None:
    """Multiplications per event of a dense torch teacher (every Linear weight), else None (a recurrent or
    convolutional teacher's count depends on its sequence length: not given)."""
    module = getattr(teacher.detector, "module_", None)
    if module is None or teacher.detector.tags.sequence:
        return None
    import torch

    return int(sum(m.weight.numel() for m in module.modules() if isinstance(m, torch.nn.Linear)))


def reference_scores(teacher: Model, student: Model, events: Events) -> tuple[dict, dict[str, np.ndarray]]:
    """``scores[version][event set]`` of the teacher (and the teacher score the student learned, where
    that is another), the float and the quantized student; and the student's scaled inputs per set."""
    learned = student.metrics.get("distill", {}).get("teacher_score", "score")
    versions = ["teacher"] + ([f"teacher_{learned}"] if learned != "score" else []) + ["student_float", "student"]
    scores: dict[str, dict[str, np.ndarray]] = {v: {} for v in versions}
    inputs = {}
    for name, (Xt, Ct, Xs) in events.items():
        Z = inputs[name] = student.scaler.transform(Xs)
        comps = teacher.score_components(Xt, Ct)
        scores["teacher"][name] = comps["score"]
        if learned != "score":  # the score the student learned, beside the teacher's own
            scores[f"teacher_{learned}"][name] = comps[learned]
        scores["student_float"][name] = student.detector.float_score(Z)
        scores["student"][name] = student.detector.decision_function(Z)
    return scores, inputs


def check_firmware(teacher: Model, student: Model, events: Events, backends: Sequence[FirmwareBackend] = (),
                   outdir: str | Path | None = None, *, rates_khz: Sequence[float] = (),
                   fprs: Sequence[float] = (), bunch_rate_mhz: float = 40.0,
                   unresolved: Sequence[str] = (), reference: tuple[dict, dict] | None = None) -> dict:
    """Score the held-out ``events`` (:func:`adkit.distill.heldout.heldout_events`) with the teacher, the
    float and quantized student and every backend's design (built in ``outdir``); returns the report:
    metrics of every version at the student's stored thresholds (set beforehand by
    :func:`adkit.distill.heldout.set_thresholds`; ``unresolved``: the working points it left out),
    correlations, cost, and each backend's comparison with the quantized student. ``reference``: the
    :func:`reference_scores` of these events, when already computed."""
    scores, inputs = reference or reference_scores(teacher, student, events)
    for b in backends:
        b.build(student, Path(outdir) if outdir is not None else None)
        scores[b.name] = {name: b.predict(Z) for name, Z in inputs.items()}
    sig_names = [k for k in events if k != "background"]
    rates_khz = () if fprs else rates_khz
    metrics = {v: evaluate_scores(s["background"], {k: s[k] for k in sig_names}, fprs=tuple(fprs),
                                  rates_khz=rates_khz, bunch_rate_mhz=bunch_rate_mhz) for v, s in scores.items()}
    report = {
        "events": {k: int(len(v[0])) for k, v in events.items()},
        "metrics": {v: {"signals": m["signals"], "working_points": m["working_points"]} for v, m in metrics.items()},
        "correlation": correlations(student, scores),
        "thresholds": [t.to_dict() for t in student.thresholds],
        "thresholds_unresolved": list(unresolved), "background_events": int(len(scores["student"]["background"])),
        "cost": cost(teacher, student),
    }
    for b in backends:
        report.update(b.check(scores, inputs, student.thresholds))
    if "firmware" in scores:
        report["correlation"]["firmware_vs_student_pearson"] = float(
            np.corrcoef(joined(scores["firmware"]), joined(scores["student"]))[0, 1])
    return report


def correlations(student: Model, scores: dict[str, dict[str, np.ndarray]]) -> dict[str, float]:
    """The student against the teacher score it learned (Pearson on the learned scale, Spearman) and
    against its own float arithmetic."""
    from scipy.stats import spearmanr

    learned = student.metrics.get("distill", {}).get("teacher_score", "score")
    every = {v: joined(s) for v, s in scores.items()}
    t_learned = every["teacher" if learned == "score" else f"teacher_{learned}"]
    log = student.metrics.get("distill", {}).get("target", {}).get("transform") == "log"
    return {"student_vs_teacher_pearson": float(np.corrcoef(every["student"], np.log(t_learned) if log else
                                                            t_learned)[0, 1]),
            "student_vs_teacher_spearman": float(spearmanr(every["student"], t_learned)[0]),
            "student_vs_float_pearson": float(np.corrcoef(every["student"], every["student_float"])[0, 1])}


def cost(teacher: Model, student: Model) -> dict:
    """The student's parameters and multiplications, and their ratio to the teacher's."""
    tm = teacher_multiplications(teacher)
    st = student.detector.cost()
    return {"student": st, "teacher_multiplications": tm,
            "multiplication_ratio": st["multiplications"] / tm if tm else None}


def point(threshold: dict) -> tuple[str, str]:
    """(kind, key) under which a stored threshold's working point sits in the metrics: ("rate_khz", "10")
    for a trigger rate, ("fpr", "0.01") for a background fraction."""
    if threshold["rate_khz"] > 0:
        return "rate_khz", f"{threshold['rate_khz']:g}"
    return "fpr", f"{threshold['fpr']:g}"


def kept_fraction(report: dict) -> dict[str, dict[str, float | None]]:
    """Per signal and stored rate: the student's TPR over the teacher's (None where the teacher passes no event)."""
    out: dict[str, dict[str, float | None]] = {}
    for s, t in report["metrics"]["teacher"]["signals"].items():
        st = report["metrics"]["student"]["signals"][s]
        out[s] = {}
        for th in report["thresholds"]:
            kind, key = point(th)
            tt, ts = t[f"tpr_at_{kind}"][key], st[f"tpr_at_{kind}"][key]
            out[s][th["name"]] = ts / tt if tt > 0 else None
    return out


def markdown(report: dict) -> str:
    """The report as Markdown: metrics side by side, agreement, cost, then each firmware design."""
    lines = metric_lines(report) + cost_lines(report)
    for key, section in (("firmware", hls_lines), ("da", da_lines), ("rtl", rtl_lines), ("bdt", bdt_lines)):
        if report.get(key):
            lines += section(report[key])
    return "\n".join(lines) + "\n"


def metric_lines(report: dict) -> list[str]:
    """The AUC and TPR at every stored threshold of every version, the student's share of the teacher's
    TPR, and the correlations."""
    from adkit.metrics import efficiency_cell

    versions = list(report["metrics"])
    rates = [t["name"] for t in report["thresholds"]]
    points = {t["name"]: point(t) for t in report["thresholds"]}
    lines = ["# Distillation and firmware report", "",
             "Events: " + ", ".join(f"{k} {v}" for k, v in report["events"].items()), "",
             "| signal | " + " | ".join(f"AUC {v}" for v in versions) + " | "
             + " | ".join(f"TPR@{r} {v}" for r in rates for v in versions) + " |",
             "|" + "---|" * (1 + len(versions) * (1 + len(rates)))]
    for s in report["metrics"]["student"]["signals"]:
        row = [f"{report['metrics'][v]['signals'][s]['auc']:.3f}" for v in versions]
        for r in rates:
            kind, key = points[r]
            for v in versions:
                sig = report["metrics"][v]["signals"][s]
                eff = sig.get(f"efficiency_at_{kind}", {}).get(key)
                row.append(efficiency_cell(eff) if eff else f"{sig[f'tpr_at_{kind}'][key]:.4f}")
        lines.append(f"| {s} | " + " | ".join(row) + " |")
    lines += ["", "Each TPR: value [68.27 % Clopper–Pearson interval] signal events passing/total."]
    if report.get("thresholds_unresolved"):
        lines += [f"No threshold at {', '.join(report['thresholds_unresolved'])}: fewer than 10 of the "
                  f"{report.get('background_events')} held-out background events pass there."]
    if report["thresholds"]:
        lines += ["", "Student TPR / teacher TPR at the stored rates: " + "; ".join(
            f"{s} " + ", ".join(f"{r} {'-' if v is None else format(v, '.0%')}" for r, v in k.items())
            for s, k in kept_fraction(report).items())]
    c = report["correlation"]
    return lines + ["", "Correlation: " + ", ".join(f"{k} {v:.4f}" for k, v in c.items()), ""]


def cost_lines(report: dict) -> list[str]:
    """The student's size against the teacher's, and its fixed-point types layer by layer."""
    cost = report["cost"]
    st = cost["student"]
    if "trees" in st:
        return [f"Student: boosted decision trees, {st['trees']} trees of depth ≤ {st['max_depth']}, "
                f"{st['comparisons']} comparisons, {st['leaves']} leaves, no multiplications; inputs and "
                f"thresholds {st['input']}, leaves and their sum {st['score']}"
                + (f"; teacher {cost['teacher_multiplications']} multiplications" if cost.get("teacher_multiplications")
                   else ""), ""]
    lines = [f"Student: {st['parameters']} parameters, {st['multiplications']} multiplications "
             f"(sparsity {st['sparsity']:.2f}), input {st['input']}"
             + (f"; teacher {cost['teacher_multiplications']} multiplications, ratio "
                f"{cost['multiplication_ratio']:.4f}" if cost.get("teacher_multiplications") else ""), "",
             "| layer | shape | weight | bias | result |", "|---|---|---|---|---|"]
    return lines + [f"| {n} | {'x'.join(map(str, d['shape']))} | {d['weight']} | {d['bias']} | {d['result']} |"
                    for n, d in st["layers"].items()]


def hls_lines(fw: dict) -> list[str]:
    """The hls4ml project: its C simulation against the student, synthesis, test vectors, estimate."""
    tv = fw.get("test_vectors")
    return ["", f"Firmware: hls4ml {fw['backend']} backend, {fw['io_type']}, {fw['strategy']} strategy, part "
                f"{fw['part']}, clock {fw['clock_ns']} ns; project in `{fw['project']}`.",
            f"C simulation vs quantized student: max |difference| {fw['max_abs_difference']:.3g}, "
            f"{fw['events_differing']} events with any difference.",
            "Trigger decisions differing (firmware vs student): "
            + ", ".join(f"{k} {v:.4%}" for k, v in fw["decision_mismatch"].items()) + ".",
            f"Synthesis: {'ran' if fw['synthesis']['ran'] else 'skipped: ' + fw['synthesis']['why']}.",
            *([f"Test vectors: {tv['events']} held-out background events in "
               + ", ".join(f"`{f}`" for f in tv["files"]) + "."] if tv else []),
            *estimate_lines("hls4ml Latency strategy", fw["estimate"], fw.get("budget"), fw.get("synthesis_figures"))]


def da_lines(d: dict) -> list[str]:
    """da4ml's adder graph against the student, and its estimate."""
    return ["", f"Distributed arithmetic (da4ml): the traced adder graph against the quantized student on "
                f"{d['events']} held-out events: {d['events_differing']} differ (max |difference| "
                f"{d['max_abs_difference']:.3g}).",
            *estimate_lines("da4ml distributed arithmetic", d["estimate"], d.get("budget"), None)]


def bdt_lines(b: dict) -> list[str]:
    """The conifer project: its C simulation against the student, and its estimate."""
    where = f"project in `{b['project']}`" if b.get("project") else "compiled for the check, not kept (--target cpu)"
    return ["", f"Firmware: {b['backend']}, part {b['part']}, clock {b['clock_ns']} ns; {where}.",
            f"C simulation vs quantized student: {b['events_differing']} of {b['events']} held-out events differ "
            f"(max |difference| {b['max_abs_difference']:.3g}).",
            f"Synthesis: {'ran' if b['synthesis']['ran'] else 'skipped: ' + b['synthesis']['why']}.",
            *estimate_lines("conifer BDT", b["estimate"], b.get("budget"), None)]


def rtl_lines(r: dict) -> list[str]:
    """The Verilog's Verilator simulation against the student, the C simulation and the float student;
    its Yosys synthesis beside da4ml's estimate where it ran."""
    if not r["simulated"]:
        lines = [f"RTL written (`{r['top']}`), not simulated: {r['why']}."]
    else:
        csim = "" if r["differing_vs_csim"] is None else \
            f", {r['differing_vs_csim']} differ from the hls4ml C simulation"
        lines = [f"RTL (`{r['top']}`, {r['cycles']} cycles) simulated with {r['simulator']} on {r['events']} "
                 f"held-out events ({r['events_per_second']:.0f} events/s): {r['differing_vs_student']} differ "
                 f"from the quantized student{csim}. Trigger decisions equal to the float student's: "
                 + ", ".join(f"{k} {v:.4%}" for k, v in r["decisions_equal_vs_float"].items()) + "."]
    s = r.get("synthesis")
    if s:
        lines += ["", f"Synthesis of the RTL: {s['tool']} `{s['script']}` for {s['part']} ({s['seconds']:.0f} s; "
                      "out of context, no place and route):", "",
                  "| figure | da4ml estimate | Yosys | estimate / synthesis |", "|---|---|---|---|"]
        for k, v in s["beside_estimate"].items():
            est = "-" if v["estimate"] is None else f"{v['estimate']:,.0f}"
            ratio = "-" if v["ratio"] is None else f"{v['ratio']:.2f}"
            lines.append(f"| {k.upper()} | {est} | {v['synthesis']:,.0f} | {ratio} |")
    return lines


def estimate_lines(design: str, e: dict, b: dict | None, synthesis: dict | None) -> list[str]:
    """Markdown: a design's estimate per layer and in total with its method and error, its budget, and
    the estimate beside synthesis when synthesis ran."""
    if not e.get("method"):
        return ["", f"Resources and latency of the {design} design: no estimate without synthesis ({e['why']})."]
    lines = ["", f"Resources and latency of the {design} design, estimated by {e['method']}; "
                 f"error: {e.get('error', 'not stated by the method')}.", "",
             f"| layer | LUT | FF | DSP | cycles at {e['clock_ns']:g} ns |", "|---|---|---|---|---|"]
    for name, v in (e.get("layers") or {}).items():
        lines.append(f"| {name} | {v['lut']:,.0f} | {v['ff']:,.0f} | {v['dsp']:,.0f} | {v.get('cycles', '-')} |")
    lines.append(f"| total | {e['lut']:,.0f} | {e['ff']:,.0f} | {e['dsp']:,.0f} | {e['cycles']} |")
    notes = [e["note"]] if e.get("note") else []
    notes += list(e.get("caveats", []))
    if notes:
        lines += ["", "Caveats: " + "; ".join(notes) + "."]
    if b:
        share = (", ".join(f"{k.upper()} {v:.2%}" for k, v in b["fraction"].items()) + f" of {b['part']}"
                 if b["fraction"] else f"part {b['part']}: resources unknown to adkit")
        lines += ["", f"Budget: {b['latency_ns']:g} ns against {b['limit_ns']:g} ns (2 bunch crossings at 40 MHz): "
                      f"{'fits' if b['fits_latency'] else 'DOES NOT FIT'}; {share}."]
    if synthesis:
        lines += ["", f"Estimate beside synthesis ({synthesis['source']}, {synthesis['clock_ns']:g} ns clock):", "",
                  *side_by_side(e, synthesis)]
    return lines


def write_report(outdir: str | Path, report: dict) -> None:
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2, default=str))
    (out / "report.md").write_text(markdown(report))
