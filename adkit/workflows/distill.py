"""``adkit distill``: a quantized student of a trained model, its firmware project and report."""
from __future__ import annotations

from pathlib import Path

from adkit.artifact import DEFAULT_MODEL, Model
from adkit.errors import ConfigError
from adkit.files import check_output


def distill_command(*, teacher, target, output, hls_dir, config, data, background, signals, hidden, precision,
                    sparsity, epochs, augment, seed, rates, backend, part, clock, synth, cpu_format, overwrite,
                    progress: bool, say, echo, as_json: bool = False, min_kept: float = 0.5,
                    strategy: str = "latency", rtl: str | None = None, preset: str | None = None,
                    augment_method: str | None = None, teacher_score: str | None = None, cell: str | None = None,
                    fprs: str | None = None) -> Model:
    """Train the student, then emit and verify the HLS project (``fpga``) or a TorchScript export (``cpu``)."""
    from adkit.distill import distill
    from adkit.validation import check_rates
    from adkit.workflows.config import csv_floats, load_config, signal_files

    cfg = load_config(config, "distill")
    if preset == "axol1tl":  # the CMS AXOL1TL v5 budget: its size and precisions, DA with estimates
        from adkit.firmware.da import AXOL1TL

        hidden = hidden or ",".join(map(str, AXOL1TL["hidden"]))
        precision = precision or dict(AXOL1TL["precision"])
        strategy = "da"
        say(f"--preset axol1tl: student 57-{hidden.replace(',', '-')}-1, inputs {AXOL1TL['precision']['input']}, "
            f"weights {AXOL1TL['precision']['weight']}, distributed arithmetic; budget 2 bunch crossings (50 ns)")
    rate_list = check_rates(csv_floats(rates, "--rates") or csv_floats(str(cfg.get("rates", "")), "rates"), "--rates")
    hidden_sizes = layer_sizes(hidden, cfg, [32, 16])
    sig = signal_files(signals)
    if teacher == DEFAULT_MODEL:
        say(f"using ./{DEFAULT_MODEL} as the teacher (change with --teacher)")
    teacher_model = Model.load(teacher)
    if teacher_model.spec.kind == "series":
        if preset or strategy == "da" or rtl:
            raise ConfigError(f"{teacher}: a time-series teacher gets a recurrent student, which hls4ml builds with "
                              "the Latency strategy; --preset, --strategy da and --rtl are for dense students")
        if sig or target == "cpu" or augment_method not in (None, "bursts"):
            raise ConfigError(f"{teacher}: a time-series teacher is checked on labelled held-out series (--background), "
                              "its student goes to --target fpga and its augmentation is bursts (no --signal, "
                              "--target cpu or other --augment-method)")
        return distill_series_command(teacher_model, output, hls_dir, cfg, data, background, hidden, precision,
                                      sparsity, epochs, seed, backend, part, clock, synth, overwrite, progress, say,
                                      echo, as_json, min_kept, teacher_score, cell, fprs, augment)
    if cell or fprs:
        raise ConfigError("--cell and --fprs are for a time-series teacher; this teacher reads events "
                          "(its thresholds are set at --rates)")
    check_output(output, overwrite)
    hls_path, export_path = Path(hls_dir), Path(output).with_suffix(".pt")
    if target == "fpga":
        from adkit.files import check_replace_dir
        from adkit.firmware import _hls4ml, compiler

        check_replace_dir(hls_path, overwrite, "--hls-dir")
        _hls4ml()
        compiler()  # fail before training, not after
    else:
        check_output(export_path, overwrite)
    if rtl and strategy != "da":
        raise ConfigError("--rtl writes da4ml's Verilog: give --strategy da with it")
    if strategy == "da":
        from adkit.firmware.da import DA_PRECISION, _da4ml

        _da4ml()  # fail before training, not after
        if rtl:
            from adkit.files import check_replace_dir

            check_replace_dir(Path(rtl), overwrite, "--rtl")
        if not (precision or cfg.get("precision")):
            precision = dict(DA_PRECISION)
            say("--strategy da: student types round half up (AP_RND), as da4ml's adder graphs do")
    if sig and not background:
        raise ConfigError("--signal needs --background files to set the thresholds on")
    data = list(data) or list(cfg.get("data") or [])
    if not data:
        say("no --data: distilling on the embedded background (seed 2, independent of the teacher's)")
    student, info = distill(teacher_model, data, hidden=hidden_sizes, precision=precision or cfg.get("precision"),
                            layer_precision=cfg.get("layer_precision"),
                            sparsity=sparsity if sparsity is not None else cfg.get("sparsity", 0.0),
                            epochs=epochs or cfg.get("epochs", 30), lr=cfg.get("lr", 3e-3),
                            batch_size=cfg.get("batch_size", 1024), seed=seed if seed is not None else cfg.get("seed", 0),
                            transform=cfg.get("transform", "auto"),
                            augment=augment if augment is not None else cfg.get("augment"),
                            augment_method=augment_method or cfg.get("augment_method"),
                            teacher_score=teacher_score or cfg.get("teacher_score"), progress=progress)
    say(f"student {'-'.join(map(str, [student.n_features, *hidden_sizes, 1]))}: "
        f"{info['cost']['multiplications']} multiplications, train correlation with the teacher "
        f"{info['train_correlation']:.3f}")
    import contextlib

    from adkit.files import staged_dir

    with staged_dir(rtl, overwrite, "--rtl") if rtl else contextlib.nullcontext() as rtl_tmp:
        report = _check_student(target, teacher_model, student, hls_path, overwrite, rate_list, list(background), sig,
                                backend, part or cfg.get("part"), clock or cfg.get("clock"), synth, say,
                                (lambda _text: None) if as_json else echo, strategy, rtl_tmp, export_path, cpu_format)
    student.metrics["report"] = stored_report(report)
    student.save(output, overwrite)
    say(f"wrote {output} with thresholds at {', '.join(t.name for t in student.thresholds) or 'no rate'}")
    for line in check_lines(report, rtl):
        say(line)
    for line in lost_power(report, min_kept):
        say(line)
    if as_json:
        import json

        echo(json.dumps({"output": str(output), "target": target, "distill": info,
                         "report": student.metrics.get("report"),
                         "thresholds": [t.to_dict() for t in student.thresholds]}, indent=2, default=str))
    return student


def _check_student(target, teacher_model, student, hls_path, overwrite, rate_list, background, sig, backend, part,
                   clock, synth, say, echo, strategy, rtl_tmp, export_path, cpu_format) -> dict:
    """The firmware project and its checks (``fpga``), or the CPU export and the same score checks (``cpu``)."""
    if target == "fpga":
        return firmware_project(teacher_model, student, hls_path, overwrite, rate_list, background, sig, backend,
                                part, clock, synth, say, echo, strategy, rtl_tmp)
    from adkit.export import export_torchscript
    from adkit.firmware.report import verify

    report = verify(teacher_model, student, None, rates_khz=rate_list, background=background, signals=sig,
                    firmware=False, strategy=strategy, rtl_dir=rtl_tmp, clock_ns=clock, part=part)
    check = export_torchscript(student, export_path, overwrite=overwrite)
    say(f"wrote {export_path} ({cpu_format}): reproduces adkit's scores to {check['max_abs_difference']:.2g} "
        f"on {check['events']} events")
    return report


def layer_sizes(hidden: str | None, cfg: dict, default: list[int]) -> list[int]:
    """``--hidden 32,16`` (or the config's ``hidden``, or ``default``) as validated layer sizes."""
    from adkit.validation import check_params

    try:
        sizes = [int(h) for h in (hidden.split(",") if hidden else cfg.get("hidden", default))]
    except (ValueError, TypeError):
        raise ConfigError(f"--hidden {hidden!r}: expected comma-separated layer sizes, e.g. "
                          f"{','.join(map(str, default))}") from None
    check_params({"hidden": sizes}, "--hidden")
    return sizes


def stored_report(report: dict) -> dict:
    """The part of the report kept in the student's model file."""
    keep = ("correlation", "thresholds", "cost", "thresholds_unresolved", "background_events", "da", "rtl")
    out = {k: report[k] for k in keep if k in report}
    if "firmware" in report:
        out["decision_mismatch"] = report["firmware"]["decision_mismatch"]
    return out


def check_lines(report: dict, rtl: str | None) -> list[str]:
    """What the checks found, one line each: unresolved rates, the DA graph and budget, the RTL simulation."""
    from adkit.metrics import MIN_BACKGROUND

    lines = []
    if report.get("thresholds_unresolved"):
        lines.append(f"warning: no threshold stored at {', '.join(report['thresholds_unresolved'])}: fewer than "
                     f"{MIN_BACKGROUND} of the {report['background_events']} held-out background events pass there; "
                     "give more background with --background to resolve those rates")
    e = (report.get("firmware") or {}).get("estimate")
    if e and e.get("method"):
        b = report["firmware"]["budget"]
        lines.append(f"hls4ml Latency design, {e['method'].split(' (')[0]} estimate ({e['error']}): {e['lut']:,.0f} LUT, "
                     f"{e['ff']:,.0f} FF, {e['dsp']:,.0f} DSP, {e['cycles']} cycles at {e['clock_ns']:g} ns = "
                     f"{b['latency_ns']:g} ns: {'fits' if b['fits_latency'] else 'does not fit'} "
                     f"{b['limit_ns']:g} ns")
    elif e:
        lines.append(f"hls4ml Latency design: no resource estimate without synthesis: {e['why']}")
    d = report.get("da")
    if d:
        e = d["estimate"]
        lines.append(f"da4ml adder graph vs the quantized student: {d['events_differing']} of {d['events']} held-out "
                     f"events differ; estimate {e['lut']:.0f} LUT, {e['ff']} FF, 0 DSP, {e['cycles']} cycles")
        b = d["budget"]
        share = f", {b['fraction']['lut']:.2%} of the LUTs of {b['part']}" if b["fraction"] else ""
        lines.append(f"latency {b['latency_ns']:g} ns against {b['limit_ns']:g} ns (2 bunch crossings at 40 MHz): "
                     f"{'fits' if b['fits_latency'] else 'DOES NOT FIT'}{share} (da4ml estimate, not synthesis)")
    rt = report.get("rtl")
    if rt and not rt["simulated"]:
        lines.append(f"wrote the Verilog to {rtl}/; not simulated: {rt['why']}")
    elif rt:
        csim = f", {rt['differing_vs_csim']} from the hls4ml C simulation" if rt["differing_vs_csim"] is not None else ""
        lines.append(f"wrote the Verilog to {rtl}/ (top {rt['top']}, {rt['cycles']} cycles); Verilator on "
                     f"{rt['events']} held-out events: {rt['differing_vs_student']} differ from the quantized "
                     f"student{csim}")
        if rt["differing_vs_student"]:
            lines.append("warning: the RTL does not reproduce the quantized student bit for bit; do not use this "
                         "firmware")
    return lines


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


def firmware_project(teacher: Model, student: Model, hls_path: Path, overwrite: bool, rates, background, signals,
                     backend, part, clock, synth, say, echo, strategy: str = "latency", rtl_dir: Path | None = None,
                     events: dict | None = None, fprs=None) -> dict:
    """Build and check the HLS project in a temporary directory; put it in place only when complete."""
    from adkit.files import staged_dir, write_error
    from adkit.firmware.report import markdown, verify, write_report

    try:
        with staged_dir(hls_path, overwrite, "--hls-dir") as tmp:
            report = verify(teacher, student, tmp, rates_khz=rates, background=background, signals=signals,
                            backend=backend, part=part, clock_ns=clock, synth=synth, strategy=strategy,
                            rtl_dir=rtl_dir, events=events, fprs=fprs)
            report["firmware"]["project"] = str(hls_path)
            write_report(tmp, report)
    except OSError as e:
        err = write_error(e, hls_path)
        if err is None:
            raise
        raise err from None
    echo(markdown(report))
    fw = report["firmware"]
    if not fw["synthesis"]["ran"]:
        say(f"synthesis skipped: {fw['synthesis']['why']}")
    say(f"wrote the HLS project and report.md/report.json to {hls_path}/")
    return report


def distill_series_command(teacher: Model, output, hls_dir, cfg: dict, data, background, hidden, precision,
                           sparsity, epochs, seed, backend, part, clock, synth, overwrite, progress: bool, say, echo,
                           as_json: bool, min_kept: float, teacher_score, cell, fprs, augment=None) -> Model:
    """``adkit distill`` of a time-series teacher: a quantized GRU/LSTM student, its hls4ml project
    checked against it on held-out windows, thresholds at fractions of the background windows."""
    from adkit.distill.series import DEFAULT_AUGMENT, DISTILL_SEED, HELDOUT_SEED, distill_series, heldout_windows
    from adkit.files import check_replace_dir
    from adkit.firmware import _hls4ml, compiler
    from adkit.workflows.config import csv_floats

    fpr_list = csv_floats(fprs or str(cfg.get("fprs", "0.01,0.001")), "--fprs")
    if not fpr_list or not all(0 < f < 1 for f in fpr_list):
        raise ConfigError(f"--fprs {fprs}: give fractions of the background windows in (0, 1), e.g. 0.01,0.001")
    hidden_sizes = layer_sizes(hidden, cfg, [8])
    check_output(output, overwrite)
    hls_path = Path(hls_dir)
    check_replace_dir(hls_path, overwrite, "--hls-dir")
    _hls4ml()
    compiler()  # fail before training, not after
    if not background:
        say(f"no --background: checking on the teacher's embedded series (seed {HELDOUT_SEED})")
    events = heldout_windows(teacher, background)  # a bad held-out file fails before training, not after
    if not data and not cfg.get("data"):
        say(f"no --data: distilling on the teacher's embedded series (seed {DISTILL_SEED})")
    student, info = distill_series(teacher, list(data) or list(cfg.get("data") or []), cell=cell or cfg.get("cell", "gru"),
                                   units=cfg.get("units", 8), hidden=hidden_sizes,
                                   precision=precision or cfg.get("precision"),
                                   layer_precision=cfg.get("layer_precision"),
                                   sparsity=sparsity if sparsity is not None else cfg.get("sparsity", 0.0),
                                   epochs=epochs or cfg.get("epochs", 30), lr=cfg.get("lr", 3e-3),
                                   batch_size=cfg.get("batch_size", 256),
                                   seed=seed if seed is not None else cfg.get("seed", 0),
                                   transform=cfg.get("transform", "auto"),
                                   teacher_score=teacher_score or cfg.get("teacher_score"),
                                   augment=augment if augment is not None else cfg.get("augment", DEFAULT_AUGMENT),
                                   progress=progress)
    st = student.detector
    say(f"student {st.cell.upper()}({len(teacher.spec.channels)}→{st.units}) over {teacher.spec.window} steps, then "
        f"{'-'.join(map(str, [st.units, *hidden_sizes, 1]))}: {info['cost']['multiplications']} multiplications per "
        f"window, train correlation with the teacher {info['train_correlation']:.3f}")
    report = firmware_project(teacher, student, hls_path, overwrite, (), background, {}, backend,
                              part or cfg.get("part"), clock or cfg.get("clock"), synth, say,
                              (lambda _text: None) if as_json else echo, events=events, fprs=fpr_list)
    student.metrics["report"] = stored_report(report)
    student.save(output, overwrite)
    say(f"wrote {output} with thresholds at {', '.join(t.name for t in student.thresholds) or 'no working point'} "
        "of the held-out background windows")
    fw = report["firmware"]
    say(f"C simulation vs the quantized student: {fw['events_differing']} of {sum(report['events'].values())} held-out "
        "windows differ")
    if fw["events_differing"]:
        say("warning: the firmware does not reproduce the quantized student bit for bit; do not use this firmware")
    for line in check_lines(report, None) + lost_power(report, min_kept):
        say(line)
    if as_json:
        import json

        echo(json.dumps({"output": str(output), "target": "fpga", "distill": info, "report": student.metrics["report"],
                         "thresholds": [t.to_dict() for t in student.thresholds]}, indent=2, default=str))
    return student
