"""Verify a student's firmware on held-out events and write ``report.md`` / ``report.json``.

Four versions of the score are compared on the same events: the teacher, the student in float
arithmetic (``student_float``: its firmware weights, inputs and results neither rounded nor
saturated; what fixed-point arithmetic costs), the quantized student (the adkit model's score)
and the firmware (hls4ml C simulation). Trigger thresholds are set on the
held-out background at the requested rates and stored in the student model.
"""
from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from adkit.artifact import Model, Threshold
from adkit.firmware.budget import budget
from adkit.firmware.estimate import latency_estimate, side_by_side, synthesis_figures
from adkit.firmware.hls import FirmwareError, csim_scores, decision_mismatch, synthesize, write_project
from adkit.metrics import evaluate_scores, thresholds_at_rates


def teacher_multiplications(teacher: Model) -> int | None:
    """Multiplications per event of a dense torch teacher (every Linear weight), else None (a recurrent or
    convolutional teacher's count depends on its sequence length: not given)."""
    module = getattr(teacher.detector, "module_", None)
    if module is None or teacher.detector.tags.sequence:
        return None
    import torch

    return int(sum(m.weight.numel() for m in module.modules() if isinstance(m, torch.nn.Linear)))


def heldout_events(teacher: Model, student: Model, background: Sequence[str] | None = None,
                   signals: dict[str, Sequence[str]] | None = None, n_default: int | None = None):
    """{name: (teacher X, teacher C, student X)} for the background and each signal."""
    from adkit.datasets import embedded_test_set
    from adkit.io import load_arrays

    spec = teacher.input_spec()
    out = {}
    if background:
        for name, paths in {"background": list(background), **(signals or {})}.items():
            Xt, Ct, _ = load_arrays(paths, spec)
            Xs, _, _ = load_arrays(paths, student.spec, spec.mapping)
            out[name] = (Xt, Ct, Xs)
        return out
    for name, o in embedded_test_set(n_default).items():
        Xt = teacher.spec.features.compute(o).astype(np.float32)
        Ct = teacher.spec.conditions.compute(o) if teacher.spec.conditions else None
        out[name] = (Xt, Ct, student.spec.features.compute(o).astype(np.float32))
    return out


def verify(teacher: Model, student: Model, outdir: str | Path | None, *, rates_khz: Sequence[float] = (1, 10, 100),
           bunch_rate_mhz: float = 40.0, background=None, signals=None, n_default: int | None = None,
           backend: str = "Vitis", part: str | None = None, clock_ns: float | None = None, synth: bool = False,
           firmware: bool = True, test_vectors: int = 1000, strategy: str = "latency",
           rtl_dir: str | Path | None = None, events: dict | None = None, fprs: Sequence[float] | None = None
           ) -> dict:
    """Score held-out events four ways, set and store thresholds, compare decisions; returns the report.

    With firmware, the project also gets ``test_vectors`` held-out background events as pattern files:
    ``tb_data/tb_input_features.dat`` / ``tb_output_predictions.dat`` (what hls4ml's testbench reads)
    and ``test_vectors.csv`` (the same, one event per row, with a header), so the firmware team can
    repeat the check in their own simulation. With ``strategy="da"`` the da4ml adder graph scores every
    event too; with ``rtl_dir`` its Verilog is written there and simulated with Verilator on every
    held-out event (:func:`rtl_check`). ``events`` ({name: (teacher X, teacher C, student X)}, a
    "background" among them) replaces the held-out collision events, e.g. a series' windows; ``fprs``
    sets the thresholds at those fractions of the background instead of at trigger rates."""
    from adkit.firmware.hls import DEFAULT_CLOCK_NS, DEFAULT_PART

    events = events or heldout_events(teacher, student, background, signals, n_default)
    hls_model = None
    if firmware:
        hls_model = write_project(student.detector, outdir, backend=backend, part=part or DEFAULT_PART,
                                  clock_ns=clock_ns or DEFAULT_CLOCK_NS)
    learned = student.metrics.get("distill", {}).get("teacher_score", "score")
    versions = ["teacher"] + ([f"teacher_{learned}"] if learned != "score" else []) + \
        ["student_float", "student"] + (["firmware"] if firmware else []) + (["da"] if strategy == "da" else [])
    comb = None
    if strategy == "da":
        from adkit.firmware import da

        comb = da.trace(student.detector)
    scores: dict[str, dict[str, np.ndarray]] = {v: {} for v in versions}
    inputs = {}
    for name, (Xt, Ct, Xs) in events.items():
        Z = student.scaler.transform(Xs)
        inputs[name] = Z
        comps = teacher.score_components(Xt, Ct)
        scores["teacher"][name] = comps["score"]
        if learned != "score":  # the score the student learned, beside the teacher's own
            scores[f"teacher_{learned}"][name] = comps[learned]
        scores["student_float"][name] = student.detector.float_score(Z)
        scores["student"][name] = student.detector.decision_function(Z)
        if firmware:
            scores["firmware"][name] = csim_scores(hls_model, Z)
        if comb is not None:
            scores["da"][name] = da.predict(comb, student.detector, Z)
    tv = None
    if firmware and test_vectors:
        Zb = student.scaler.transform(events["background"][2])[:test_vectors]
        tv = write_test_vectors(outdir, Zb, scores["student"]["background"][:test_vectors], student.spec.columns)
    sig_names = [k for k in events if k != "background"]
    rates_khz = () if fprs else rates_khz
    metrics = {v: evaluate_scores(s["background"], {k: s[k] for k in sig_names}, fprs=tuple(fprs or ()),
                                  rates_khz=rates_khz, bunch_rate_mhz=bunch_rate_mhz) for v, s in scores.items()}
    bkg = scores["student"]["background"]
    resolved = {w["fpr"]: w["resolved"] for w in metrics["student"]["working_points"]}
    every = [Threshold(**t) for t in (thresholds_at_fprs(bkg, fprs) if fprs else
                                      thresholds_at_rates(bkg, rates_khz, bunch_rate_mhz))]
    # a working point that fewer than MIN_BACKGROUND background events resolve gets no stored threshold
    student.thresholds = [t for t in every if resolved.get(t.fpr, True)]
    unresolved = [t.name for t in every if not resolved.get(t.fpr, True)]
    allev = {v: np.concatenate([s[k] for k in events]) for v, s in scores.items()}
    target = student.metrics.get("distill", {}).get("target", {})
    t_learned = allev["teacher" if learned == "score" else f"teacher_{learned}"]
    t_all = np.log(t_learned) if target.get("transform") == "log" else t_learned
    from scipy.stats import spearmanr

    report = {
        "events": {k: int(len(v[0])) for k, v in events.items()},
        "metrics": {v: {"signals": m["signals"], "working_points": m["working_points"]} for v, m in metrics.items()},
        "correlation": {"student_vs_teacher_pearson": float(np.corrcoef(allev["student"], t_all)[0, 1]),
                        "student_vs_teacher_spearman": float(spearmanr(allev["student"], t_learned)[0]),
                        "student_vs_float_pearson": float(np.corrcoef(allev["student"], allev["student_float"])[0, 1])},
        "thresholds": [t.to_dict() for t in student.thresholds],
        "thresholds_unresolved": unresolved, "background_events": int(len(bkg)),
        "cost": {"student": student.detector.cost(), "teacher_multiplications": teacher_multiplications(teacher)},
    }
    if comb is not None:
        diff = allev["da"] - allev["student"]
        report["da"] = {"events": int(len(diff)), "events_differing": int(np.count_nonzero(diff)),
                        "max_abs_difference": float(np.abs(diff).max()) if len(diff) else 0.0,
                        "estimate": {**da.estimate(comb, clock_ns or DEFAULT_CLOCK_NS),
                                     "layers": da.layer_estimates(student.detector, clock_ns or DEFAULT_CLOCK_NS),
                                     "caveats": [da.LAYER_CAVEAT]}}
        report["da"]["budget"] = budget(report["da"]["estimate"], part or DEFAULT_PART)
        if rtl_dir is not None:
            Zq = student.detector.types()["input"]["result"].quantize(
                np.concatenate([inputs[k] for k in events]).astype(np.float64))
            report["rtl"] = rtl_check(comb, rtl_dir, clock_ns or DEFAULT_CLOCK_NS, Zq, allev, student.thresholds)
    tm = report["cost"]["teacher_multiplications"]
    report["cost"]["multiplication_ratio"] = (report["cost"]["student"]["multiplications"] / tm) if tm else None
    if firmware:
        diff = allev["firmware"] - allev["student"]
        report["correlation"]["firmware_vs_student_pearson"] = float(np.corrcoef(allev["firmware"], allev["student"])[0, 1])
        report["firmware"] = {
            "backend": backend, "part": part or DEFAULT_PART, "clock_ns": clock_ns or DEFAULT_CLOCK_NS,
            "io_type": "io_parallel", "strategy": "Latency", "project": str(outdir),
            "max_abs_difference": float(np.abs(diff).max()), "events_differing": int(np.count_nonzero(diff)),
            "decision_mismatch": {t.name: decision_mismatch(allev["firmware"], allev["student"], t.value)
                                  for t in student.thresholds},
            "test_vectors": tv,
            "synthesis": synthesize(hls_model, backend) if synth else
            {"ran": False, "why": "not requested (--synth)"},
            "estimate": latency_estimate(student.detector, part or DEFAULT_PART, clock_ns or DEFAULT_CLOCK_NS),
        }
        fw = report["firmware"]
        fw["synthesis_figures"] = synthesis_figures(fw["synthesis"]) if fw["synthesis"]["ran"] else None
        if fw["estimate"].get("method"):
            fw["budget"] = budget(fw["estimate"], part or DEFAULT_PART)
    return report


def rtl_check(comb, rtl_dir: str | Path, clock_ns: float, Zq: np.ndarray, allev: dict[str, np.ndarray],
              thresholds) -> dict:
    """Write the Verilog and simulate it with Verilator on every event: bit-exact against the quantized
    student and the hls4ml C simulation, trigger decisions against the float student."""
    from adkit.firmware import da, rtlsim

    meta = da.write_rtl(comb, rtl_dir, clock_ns)
    out = {"top": meta["top"], "cycles": meta["metadata"].get("latency"), "files": meta["files"], "simulated": False}
    try:
        rtlsim.verilator()
    except FirmwareError as e:
        return {**out, "why": str(e)}
    y, rate = rtlsim.simulate(rtl_dir, comb, int(meta["metadata"].get("latency", 0)), meta["top"], Zq)
    version = subprocess.run([rtlsim.verilator(), "--version"], capture_output=True, text=True).stdout.strip()
    out.update(simulated=True, simulator=version, events=int(len(y)), events_per_second=float(rate),
               differing_vs_student=int(np.count_nonzero(y != allev["student"])),
               differing_vs_csim=(int(np.count_nonzero(y != allev["firmware"])) if "firmware" in allev else None),
               decisions_equal_vs_float={t.name: float(np.mean((y > t.value) == (allev["student_float"] > t.value)))
                                         for t in thresholds})
    return out


def write_test_vectors(outdir: str | Path, Z: np.ndarray, expected: np.ndarray, columns: Sequence[str]) -> dict:
    """Input/expected-output patterns of the firmware: the inputs as the firmware sees them (scaled) and
    the quantized student's output, which the firmware reproduces bit for bit."""
    d = Path(outdir)
    (d / "tb_data").mkdir(parents=True, exist_ok=True)
    fmt = "%.10g"
    np.savetxt(d / "tb_data" / "tb_input_features.dat", Z, fmt=fmt, delimiter=" ")
    np.savetxt(d / "tb_data" / "tb_output_predictions.dat", np.asarray(expected).reshape(-1, 1), fmt=fmt)
    header = ",".join([*columns, "expected_score"])
    np.savetxt(d / "test_vectors.csv", np.column_stack([Z, expected]), fmt=fmt, delimiter=",", header=header,
               comments="")
    return {"events": int(len(Z)), "files": ["tb_data/tb_input_features.dat", "tb_data/tb_output_predictions.dat",
                                             "test_vectors.csv"]}


def thresholds_at_fprs(background: np.ndarray, fprs: Sequence[float]) -> list[dict]:
    """Thresholds passing the fractions ``fprs`` of the background (windows of a series, where a trigger
    rate in kHz means nothing), named "fpr0.01"; the fields of a stored :class:`Threshold`."""
    from adkit.metrics import threshold_at_fpr

    return [{"name": f"fpr{f:g}", "value": threshold_at_fpr(background, f), "rate_khz": 0.0, "fpr": float(f)}
            for f in fprs]


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
    """The report as Markdown: metrics side by side, agreement, cost."""
    versions = list(report["metrics"])
    signals = list(report["metrics"]["student"]["signals"])
    rates = [t["name"] for t in report["thresholds"]]
    points = {t["name"]: point(t) for t in report["thresholds"]}
    lines = ["# Distillation and firmware report", "",
             "Events: " + ", ".join(f"{k} {v}" for k, v in report["events"].items()), "",
             "| signal | " + " | ".join(f"AUC {v}" for v in versions) + " | "
             + " | ".join(f"TPR@{r} {v}" for r in rates for v in versions) + " |",
             "|" + "---|" * (1 + len(versions) * (1 + len(rates)))]
    from adkit.metrics import efficiency_cell

    for s in signals:
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
    kept = kept_fraction(report)
    if report["thresholds"]:
        lines += ["", "Student TPR / teacher TPR at the stored rates: " + "; ".join(
            f"{s} " + ", ".join(f"{r} {'-' if v is None else format(v, '.0%')}" for r, v in k.items())
            for s, k in kept.items())]
    c = report["correlation"]
    lines += ["", "Correlation: " + ", ".join(f"{k} {v:.4f}" for k, v in c.items()), ""]
    cost = report["cost"]
    st = cost["student"]
    lines += [f"Student: {st['parameters']} parameters, {st['multiplications']} multiplications "
              f"(sparsity {st['sparsity']:.2f}), input {st['input']}"
              + (f"; teacher {cost['teacher_multiplications']} multiplications, ratio "
                 f"{cost['multiplication_ratio']:.4f}" if cost.get("teacher_multiplications") else ""), "",
              "| layer | shape | weight | bias | result |", "|---|---|---|---|---|"]
    lines += [f"| {n} | {'x'.join(map(str, d['shape']))} | {d['weight']} | {d['bias']} | {d['result']} |"
              for n, d in st["layers"].items()]
    fw = report.get("firmware")
    if fw:
        lines += ["", f"Firmware: hls4ml {fw['backend']} backend, {fw['io_type']}, {fw['strategy']} strategy, part "
                      f"{fw['part']}, clock {fw['clock_ns']} ns; project in `{fw['project']}`.",
                  f"C simulation vs quantized student: max |difference| {fw['max_abs_difference']:.3g}, "
                  f"{fw['events_differing']} events with any difference.",
                  "Trigger decisions differing (firmware vs student): "
                  + ", ".join(f"{k} {v:.4%}" for k, v in fw["decision_mismatch"].items()) + ".",
                  f"Synthesis: {'ran' if fw['synthesis']['ran'] else 'skipped: ' + fw['synthesis']['why']}.",
                  *([f"Test vectors: {fw['test_vectors']['events']} held-out background events in "
                     + ", ".join(f"`{f}`" for f in fw["test_vectors"]["files"]) + "."] if fw.get("test_vectors")
                    else []),
                  *estimate_lines("hls4ml Latency strategy", fw["estimate"], fw.get("budget"),
                                  fw.get("synthesis_figures"))]
    d = report.get("da")
    if d:
        e = d["estimate"]
        lines += ["", f"Distributed arithmetic (da4ml): the traced adder graph against the quantized student on "
                      f"{d['events']} held-out events: {d['events_differing']} differ (max |difference| "
                      f"{d['max_abs_difference']:.3g}).",
                  *estimate_lines("da4ml distributed arithmetic", e, d.get("budget"), None)]
    r = report.get("rtl")
    if r:
        if r["simulated"]:
            csim = (f", {r['differing_vs_csim']} differ from the hls4ml C simulation"
                    if r["differing_vs_csim"] is not None else "")
            lines += [f"RTL (`{r['top']}`, {r['cycles']} cycles) simulated with {r['simulator']} on {r['events']} "
                      f"held-out events ({r['events_per_second']:.0f} events/s): {r['differing_vs_student']} differ "
                      f"from the quantized student{csim}. Trigger decisions equal to the float student's: "
                      + ", ".join(f"{k} {v:.4%}" for k, v in r["decisions_equal_vs_float"].items()) + "."]
        else:
            lines += [f"RTL written (`{r['top']}`), not simulated: {r['why']}."]
    return "\n".join(lines) + "\n"


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
