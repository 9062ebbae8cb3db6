"""``adkit distill``: a quantized student of a trained model, its thresholds, its firmware and report
(:func:`adkit.workflows.commands.distill_command` picks the event or the series command by the teacher).

The settings are one :class:`~adkit.distill.options.DistillOptions`. The student is trained
(:mod:`adkit.distill`), its trigger thresholds are set on held-out background
(:func:`adkit.distill.heldout.set_thresholds`), then every firmware backend of the strategy
(:mod:`adkit.firmware.backends`) is checked against it (:func:`check_student`).
"""
from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Sequence
from pathlib import Path

from adkit.artifact import DEFAULT_MODEL, Model
from adkit.distill.options import DistillOptions
from adkit.errors import ConfigError
from adkit.files import check_output
from adkit.firmware.backends import FIRMWARE_BACKENDS, DistributedArithmetic, HlsLatency, Target


def options_from(cli: dict, config: str | None, say=lambda _text: None) -> DistillOptions:
    """The settings of a run: ``cli`` (the command line), then the ``--preset``, then the ``--config``
    file, then the defaults."""
    from adkit.workflows.config import load_config

    preset = {}
    if cli.get("preset") == "axol1tl":  # the CMS AXOL1TL v5 budget: its size and precisions, DA with estimates
        from adkit.firmware.da import AXOL1TL

        preset = {"hidden": AXOL1TL["hidden"], "precision": dict(AXOL1TL["precision"]), "strategy": "da"}
    elif cli.get("preset") == "axol1tl-v6":  # the self-supervised network, 5-bit weights, DA only
        from adkit.firmware.da import AXOL1TL_V6

        preset = {"hidden": AXOL1TL_V6["hidden"], "precision": dict(AXOL1TL_V6["precision"]), "strategy": "da",
                  "student": "selfsup", "target": "cpu", "lr": 1e-3}
    opts = DistillOptions.from_sources({**cli, "strategy": None if preset else cli.get("strategy")}, preset,
                                       load_config(config, "distill"))
    if preset.get("student") == "selfsup":
        p = AXOL1TL_V6["precision"]
        say(f"--preset axol1tl-v6: self-supervised network 57-{'-'.join(map(str, opts.hidden))} → "
            f"{AXOL1TL_V6['bottleneck']} → {opts.hidden[-1]}, score Σ(decoded − hidden representation)², inputs "
            f"{p['input']}, weights {p['weight']}, distributed arithmetic only (no hls4ml project: --rtl is the firmware)")
    elif preset:
        p = AXOL1TL["precision"]
        say(f"--preset axol1tl: student 57-{'-'.join(map(str, opts.hidden))}-1, inputs {p['input']}, weights "
            f"{p['weight']}, distributed arithmetic; budget 2 bunch crossings (50 ns)")
    return opts


def distill_events_command(teacher_model: Model, options: DistillOptions, *, teacher: str = DEFAULT_MODEL,
                           output: str = "student.adkit", hls_dir: str = "hls", background: Sequence[str] = (),
                           signals: Sequence[str] = (), overwrite: bool = False, progress: bool = False, say=print,
                           echo=print, as_json: bool = False) -> Model:
    """A student of an event teacher: trained, then its HLS project (``fpga``) or TorchScript export (``cpu``)
    emitted and checked."""
    from adkit.distill import distill
    from adkit.workflows.config import signal_files

    sig = signal_files(signals)
    opts = check_event_run(options, output, Path(hls_dir), overwrite, sig, background, say)
    if not opts.data:
        say("no --data: distilling on the embedded background (seed 2, independent of the teacher's)")
    student, info = distill(teacher_model, list(opts.data), hidden=opts.hidden_for(False), precision=opts.precision,
                            layer_precision=opts.layer_precision, sparsity=opts.sparsity,
                            quantization=opts.quantization, bit_cost=opts.bit_cost, lr_schedule=opts.lr_schedule,
                            epochs=opts.epochs,
                            lr=opts.lr, batch_size=opts.batch_for(False), seed=opts.seed, transform=opts.transform,
                            augment=opts.augment, augment_method=opts.augment_method,
                            teacher_score=opts.teacher_score, progress=progress, kind=opts.student,
                            trees=opts.trees, depth=opts.depth)
    c = info["cost"]
    hid = opts.hidden_for(False)
    shape = f"{'-'.join(map(str, [student.n_features, *hid]))} → {student.detector.bottleneck} → {hid[-1]}, score the " \
        f"squared distance: {c['multiplications']} multiplications by weights" if opts.student == "selfsup" else \
        f"BDT of {c['trees']} trees, depth {c['max_depth']}: {c['comparisons']} comparisons, {c['leaves']} " \
        f"leaves" if opts.student == "bdt" else \
        f"{'-'.join(map(str, [student.n_features, *opts.hidden_for(False), 1]))}: {c['multiplications']} multiplications"
    say(f"student {shape}, train correlation with the teacher {info['train_correlation']:.3f}")
    from adkit.files import staged_dir

    quiet = (lambda _text: None) if as_json else echo
    with staged_dir(opts.rtl, overwrite, "--rtl") if opts.rtl else contextlib.nullcontext() as rtl_tmp:
        if opts.target == "fpga":
            report = firmware_project(teacher_model, student, opts, Path(hls_dir), overwrite, say, quiet, rtl_tmp,
                                      background=list(background), signals=sig)
        else:
            report = cpu_export(teacher_model, student, opts, Path(output).with_suffix(".pt"), overwrite, say,
                                rtl_tmp, background=list(background), signals=sig)
    return finish(student, info, report, opts, output, overwrite, say, echo, as_json, "no rate")


def check_event_run(opts: DistillOptions, output, hls_path: Path, overwrite: bool, sig: dict, background,
                    say) -> DistillOptions:
    """Refuse, before any training, what cannot work: options for a series teacher, outputs that would
    replace files, missing tools; the DA types where none are given."""
    from adkit.files import check_replace_dir

    if opts.cell != DistillOptions.cell or opts.fprs != DistillOptions.fprs:
        raise ConfigError("--cell and --fprs are for a time-series teacher; this teacher reads events "
                          "(its thresholds are set at --rates)")
    if opts.student == "selfsup" and (opts.target == "fpga" or opts.strategy != "da"):
        raise ConfigError("the self-supervised network (--preset axol1tl-v6) is not a chain of dense layers, which "
                          "hls4ml's project needs: its firmware is da4ml's Verilog; give --target cpu --strategy da "
                          "--rtl DIR")
    if opts.student == "bdt" and (opts.strategy != "latency" or opts.rtl or opts.synth or opts.preset
                                  or opts.quantization != "uniform"
                                  or opts.target == "cpu" and opts.cpu_format != "torchscript"):
        raise ConfigError("--student bdt emits conifer's HLS project: --strategy da, --rtl, --synth, --preset and "
                          "--quantization hgq are for the neural-network student")
    if opts.rtl and opts.strategy != "da":
        raise ConfigError("--rtl writes da4ml's Verilog: give --strategy da with it")
    if opts.synth == "yosys":
        from adkit.firmware import yosys

        if not opts.rtl:
            raise ConfigError("--synth yosys synthesizes the Verilog of --rtl: give --strategy da --rtl DIR")
        yosys.family(opts.part or Target.of().part)
        yosys.check_tool()
    if sig and not background:
        raise ConfigError("--signal needs --background files to set the thresholds on")
    check_output(output, overwrite)
    if opts.student == "bdt":
        from adkit.firmware.backends import ConiferBDT

        ConiferBDT.check_tools()
    if opts.target == "fpga":
        check_replace_dir(hls_path, overwrite, "--hls-dir")
        if opts.student != "bdt":
            HlsLatency.check_tools()
    elif opts.student != "bdt":
        check_output(Path(output).with_suffix(".pt"), overwrite)
    if opts.strategy == "da":
        from adkit.firmware.da import DA_PRECISION

        DistributedArithmetic.check_tools()
        if opts.rtl:
            check_replace_dir(Path(opts.rtl), overwrite, "--rtl")
        if not opts.precision:
            say("--strategy da: student types round half up (AP_RND), as da4ml's adder graphs do")
            return dataclasses.replace(opts, precision=dict(DA_PRECISION))
    return opts


def backends(opts: DistillOptions, hls: bool = True, rtl_dir: Path | None = None, test_vectors: int = 1000) -> list:
    """The firmware backends of ``opts.strategy`` (without hls4ml's project when ``hls`` is false)."""
    target = Target.of(opts.part, opts.clock, opts.backend)
    if opts.student == "bdt":
        from adkit.firmware.backends import ConiferBDT

        return [ConiferBDT(target)]
    made = {HlsLatency: lambda: HlsLatency(target, synth=opts.synth == "hls", test_vectors=test_vectors),
            DistributedArithmetic: lambda: DistributedArithmetic(target, rtl_dir, yosys=opts.synth == "yosys")}
    return [made[b]() for b in FIRMWARE_BACKENDS[opts.strategy] if hls or b is not HlsLatency]


def check_student(teacher: Model, student: Model, outdir: str | Path | None = None, *,
                  options: DistillOptions = DistillOptions(), background: Sequence[str] | None = None,
                  signals: dict | None = None, n_default: int | None = None, events: dict | None = None,
                  series: bool = False, rtl_dir: Path | None = None, test_vectors: int = 1000) -> dict:
    """Set the student's thresholds on held-out background (at ``options.rates``, or ``options.fprs``
    of the windows of a ``series`` teacher), then check every firmware backend of ``options.strategy``
    against the student (hls4ml's project in ``outdir``; none without it). ``events`` replaces the
    held-out events (:func:`adkit.distill.heldout.heldout_events`); the hls4ml project gets
    ``test_vectors`` background events as pattern files. Returns the report."""
    from adkit.distill.heldout import heldout_events, set_thresholds
    from adkit.firmware.report import check_firmware, reference_scores

    events = events or heldout_events(teacher, student, background, signals, n_default)
    fprs = options.fprs if series else ()
    reference = reference_scores(teacher, student, events)  # scored once: for the thresholds and the checks
    unresolved = set_thresholds(student, reference[0]["student"]["background"], rates_khz=options.rates, fprs=fprs)
    chosen = backends(options, outdir is not None, rtl_dir, test_vectors)
    return check_firmware(teacher, student, events, chosen, outdir, rates_khz=options.rates, fprs=fprs,
                          unresolved=unresolved, reference=reference)


def firmware_project(teacher: Model, student: Model, opts: DistillOptions, hls_path: Path, overwrite: bool, say,
                     echo, rtl_dir: Path | None = None, **heldout) -> dict:
    """Build and check the HLS project in a temporary directory; put it in place only when complete."""
    from adkit.files import staged_dir, write_error
    from adkit.firmware.report import markdown, write_report

    try:
        with staged_dir(hls_path, overwrite, "--hls-dir") as tmp:
            report = check_student(teacher, student, tmp, options=opts, rtl_dir=rtl_dir, **heldout)
            key = "bdt" if "bdt" in report else "firmware"
            report[key]["project"] = str(hls_path)
            write_report(tmp, report)
    except OSError as e:
        err = write_error(e, hls_path)
        if err is None:
            raise
        raise err from None
    echo(markdown(report))
    fw = report[key]
    if not fw["synthesis"]["ran"]:
        say(f"synthesis skipped: {fw['synthesis']['why']}")
    say(f"wrote the HLS project and report.md/report.json to {hls_path}/")
    return report


def cpu_export(teacher: Model, student: Model, opts: DistillOptions, export_path: Path, overwrite: bool, say,
               rtl_dir: Path | None = None, **heldout) -> dict:
    """The TorchScript export, checked like firmware: the same score checks, without the HLS project."""
    from adkit.export import export_torchscript

    report = check_student(teacher, student, None, options=opts, rtl_dir=rtl_dir, **heldout)
    if opts.student == "bdt":
        say("--target cpu with a BDT student: no TorchScript export (the model file scores it); conifer's C "
            "simulation was compiled and checked")
        return report
    check = export_torchscript(student, export_path, overwrite=overwrite)
    say(f"wrote {export_path} ({opts.cpu_format}): reproduces adkit's scores to {check['max_abs_difference']:.2g} "
        f"on {check['events']} events")
    return report


def finish(student: Model, info: dict, report: dict, opts: DistillOptions, output, overwrite: bool, say, echo,
           as_json: bool, none_stored: str, extra: Sequence[str] = (), of: str = "") -> Model:
    """Save the student with its report, say what the checks found, and print the JSON summary."""
    student.metrics["report"] = stored_report(report)
    student.save(output, overwrite)
    say(f"wrote {output} with thresholds at {', '.join(t.name for t in student.thresholds) or none_stored}{of}")
    for line in [*extra, *check_lines(report, opts.rtl), *lost_power(report, opts.min_kept)]:
        say(line)
    if as_json:
        import json

        echo(json.dumps({"output": str(output), "target": opts.target, "distill": info,
                         "report": student.metrics["report"],
                         "thresholds": [t.to_dict() for t in student.thresholds]}, indent=2, default=str))
    return student


def stored_report(report: dict) -> dict:
    """The part of the report kept in the student's model file."""
    keep = ("correlation", "thresholds", "cost", "thresholds_unresolved", "background_events", "da", "rtl", "bdt")
    out = {k: report[k] for k in keep if k in report}
    if "firmware" in report:
        out["decision_mismatch"] = report["firmware"]["decision_mismatch"]
    return out


def check_lines(report: dict, rtl: str | None) -> list[str]:
    """What the checks found, one line each: unresolved rates, each design's estimate and budget, the RTL."""
    from adkit.metrics import MIN_BACKGROUND

    lines = []
    if report.get("thresholds_unresolved"):
        lines.append(f"warning: no threshold stored at {', '.join(report['thresholds_unresolved'])}: fewer than "
                     f"{MIN_BACKGROUND} of the {report['background_events']} held-out background events pass there; "
                     "give more background with --background to resolve those rates")
    return lines + hls_check_lines(report.get("firmware")) + da_check_lines(report.get("da")) + \
        rtl_check_lines(report.get("rtl"), rtl) + bdt_check_lines(report.get("bdt"))


def bdt_check_lines(b: dict | None) -> list[str]:
    """The conifer C simulation against the student, and conifer's estimate with its budget."""
    if not b:
        return []
    e, bud = b["estimate"], b["budget"]
    share = f", {bud['fraction']['lut']:.2%} of the LUTs of {bud['part']}" if bud["fraction"] else ""
    lines = [f"conifer HLS C simulation vs the quantized student: {b['events_differing']} of {b['events']} held-out "
             f"events differ; estimate {e['lut']:,.0f} LUT, {e['ff']:,.0f} FF, 0 DSP, {e['cycles']} cycles at "
             f"{e['clock_ns']:g} ns = {bud['latency_ns']:g} ns ({'fits' if bud['fits_latency'] else 'DOES NOT FIT'} "
             f"{bud['limit_ns']:g} ns{share}; conifer's estimate, not synthesis)"]
    if b["events_differing"]:
        lines.append("warning: the conifer C simulation does not reproduce the quantized BDT bit for bit; do not use "
                     "this firmware")
    return lines


def hls_check_lines(fw: dict | None) -> list[str]:
    e = (fw or {}).get("estimate")
    if not e:
        return []
    if not e.get("method"):
        return [f"hls4ml Latency design: no resource estimate without synthesis: {e['why']}"]
    b = fw["budget"]
    return [f"hls4ml Latency design, {e['method'].split(' (')[0]} estimate ({e['error']}): {e['lut']:,.0f} LUT, "
            f"{e['ff']:,.0f} FF, {e['dsp']:,.0f} DSP, {e['cycles']} cycles at {e['clock_ns']:g} ns = "
            f"{b['latency_ns']:g} ns: {'fits' if b['fits_latency'] else 'does not fit'} {b['limit_ns']:g} ns"]


def da_check_lines(d: dict | None) -> list[str]:
    if not d:
        return []
    e, b = d["estimate"], d["budget"]
    share = f", {b['fraction']['lut']:.2%} of the LUTs of {b['part']}" if b["fraction"] else ""
    return [f"da4ml adder graph vs the quantized student: {d['events_differing']} of {d['events']} held-out "
            f"events differ; estimate {e['lut']:.0f} LUT, {e['ff']} FF, 0 DSP, {e['cycles']} cycles",
            f"latency {b['latency_ns']:g} ns against {b['limit_ns']:g} ns (2 bunch crossings at 40 MHz): "
            f"{'fits' if b['fits_latency'] else 'DOES NOT FIT'}{share} (da4ml estimate, not synthesis)"]


def rtl_check_lines(rt: dict | None, rtl: str | None) -> list[str]:
    if not rt:
        return []
    if not rt["simulated"]:
        lines = [f"wrote the Verilog to {rtl}/; not simulated: {rt['why']}"]
    else:
        csim = f", {rt['differing_vs_csim']} from the hls4ml C simulation" if rt["differing_vs_csim"] is not None \
            else ""
        lines = [f"wrote the Verilog to {rtl}/ (top {rt['top']}, {rt['cycles']} cycles); Verilator on "
                 f"{rt['events']} held-out events: {rt['differing_vs_student']} differ from the quantized "
                 f"student{csim}"]
        if rt["differing_vs_student"]:
            lines.append("warning: the RTL does not reproduce the quantized student bit for bit; do not use this "
                         "firmware")
    return lines + synthesis_lines(rt.get("synthesis"))


def synthesis_lines(s: dict | None) -> list[str]:
    """Yosys's counts beside da4ml's estimate, one line."""
    if not s:
        return []
    b = s["beside_estimate"]
    ratio = ", ".join(f"{k.upper()} estimated {v['estimate']:,.0f} (estimate/synthesis {v['ratio']:.2f})"
                      for k, v in b.items() if v["ratio"] is not None)
    return [f"{s['tool']} {s['script']} ({s['seconds']:.0f} s): {s['lut']:,} LUT, {s['ff']:,} FF, {s['carry']:,} "
            f"carry, {s['dsp']} DSP, {s['bram']} BRAM; {ratio}"]


def lost_power(report: dict, min_kept: float) -> list[str]:
    """Warning lines for every signal and stored rate where the student keeps less than ``min_kept`` of the
    teacher's TPR (only where the teacher passes at least 10 signal events, so the ratio means something)."""
    from adkit.firmware.report import kept_fraction, point
    from adkit.report.style import label

    lines = []
    teacher = report["metrics"]["teacher"]["signals"]
    student = report["metrics"]["student"]["signals"]
    points = {t["name"]: point(t) for t in report["thresholds"]}
    for s, per_rate in kept_fraction(report).items():
        for name, ratio in per_rate.items():
            kind, r = points[name]
            eff_t = teacher[s][f"efficiency_at_{kind}"][r]
            if ratio is None or eff_t["passed"] < 10 or ratio >= min_kept:
                continue
            shown = f"{ratio:.0%}" if float(f"{ratio:.2f}") < min_kept else f"{ratio:.1%}"  # never "50% below 50%"
            lines.append(f"warning: the student keeps {shown} of the teacher's {label(s)} TPR at {name} "
                         f"({student[s][f'tpr_at_{kind}'][r]:.4f} against {teacher[s][f'tpr_at_{kind}'][r]:.4f}), "
                         f"below {min_kept:.0%}: it lost the teacher's power there")
    return lines


def check_series_run(opts: DistillOptions, teacher: str, signals) -> None:
    """Refuse the options a time-series teacher's student cannot take."""
    if opts.preset or opts.strategy == "da" or opts.rtl or opts.quantization != "uniform" \
            or opts.lr_schedule != "constant":
        raise ConfigError(f"{teacher}: a time-series teacher gets a recurrent student, which hls4ml builds with the "
                          "Latency strategy; --preset, --strategy da, --rtl, --quantization hgq and --lr-schedule "
                          "are for dense students")
    if signals or opts.target == "cpu" or opts.augment_method not in (None, "bursts"):
        raise ConfigError(f"{teacher}: a time-series teacher is checked on labelled held-out series (--background), "
                          "its student goes to --target fpga and its augmentation is bursts (no --signal, "
                          "--target cpu or other --augment-method)")


def distill_series_command(teacher: Model, opts: DistillOptions, *, teacher_path: str = DEFAULT_MODEL,
                           output: str = "student.adkit", hls_dir: str = "hls", background: Sequence[str] = (),
                           signals: Sequence[str] = (), overwrite: bool = False, progress: bool = False, say=print,
                           echo=print, as_json: bool = False) -> Model:
    """``adkit distill`` of a time-series teacher: a quantized GRU/LSTM student, its hls4ml project
    checked against it on held-out windows, thresholds at fractions of the background windows."""
    from adkit.distill.series import DISTILL_SEED, HELDOUT_SEED, distill_series, heldout_windows
    from adkit.files import check_replace_dir

    check_series_run(opts, teacher_path, signals)

    check_output(output, overwrite)
    check_replace_dir(Path(hls_dir), overwrite, "--hls-dir")
    HlsLatency.check_tools()  # fail before training, not after
    if not background:
        say(f"no --background: checking on the teacher's embedded series (seed {HELDOUT_SEED})")
    events = heldout_windows(teacher, background)  # a bad held-out file fails before training, not after
    if not opts.data:
        say(f"no --data: distilling on the teacher's embedded series (seed {DISTILL_SEED})")
    student, info = distill_series(teacher, list(opts.data), cell=opts.cell, units=opts.units,
                                   hidden=opts.hidden_for(True), precision=opts.precision,
                                   layer_precision=opts.layer_precision, sparsity=opts.sparsity, epochs=opts.epochs,
                                   lr=opts.lr, batch_size=opts.batch_for(True), seed=opts.seed,
                                   transform=opts.transform, teacher_score=opts.teacher_score,
                                   **({} if opts.augment is None else {"augment": opts.augment}), progress=progress)
    st = student.detector
    say(f"student {st.cell.upper()}({len(teacher.spec.channels)}→{st.units}) over {teacher.spec.window} steps, then "
        f"{'-'.join(map(str, [st.units, *opts.hidden_for(True), 1]))}: {info['cost']['multiplications']} "
        f"multiplications per window, train correlation with the teacher {info['train_correlation']:.3f}")
    report = firmware_project(teacher, student, opts, Path(hls_dir), overwrite, say,
                              (lambda _text: None) if as_json else echo, events=events, series=True)
    fw = report["firmware"]
    extra = [f"C simulation vs the quantized student: {fw['events_differing']} of {sum(report['events'].values())} "
             "held-out windows differ"]
    if fw["events_differing"]:
        extra.append("warning: the firmware does not reproduce the quantized student bit for bit; do not use this "
                     "firmware")
    return finish(student, info, report, opts, output, overwrite, say, echo, as_json, "no working point", extra,
                  " of the held-out background windows")
