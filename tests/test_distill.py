"""Distillation into a quantized student, the hls4ml firmware and its C-simulation agreement."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import run_cli

from adkit.distill import distill, teacher_target
from adkit.errors import ConfigError
from adkit.fixedpoint import FixedType, parse_precision


@pytest.fixture(scope="module")
def teacher():
    from adkit.workflows import train

    return train("ae", epochs=2, n_default=8000)


@pytest.fixture(scope="module")
def student(teacher):
    return distill(teacher, n_default=8000, epochs=8, batch_size=256, sparsity=0.3)


def test_fixed_point_types():
    t = FixedType.parse("ap_fixed<8,2>")
    assert (t.min, t.max, t.step, str(t)) == (-2.0, 2 - 1 / 64, 1 / 64, "ap_fixed<8,2,AP_RND_CONV,AP_SAT>")
    x = np.array([0.3, -5.0, 3.0, 1.5 / 128, 0.5 / 128])
    np.testing.assert_array_equal(t.quantize(x), [19 / 64, -2.0, 2 - 1 / 64, 2 / 128, 0.0])  # half to even
    import torch

    np.testing.assert_array_equal(t.quantize(torch.tensor(x)).numpy(), t.quantize(x))
    trn = FixedType.parse("ap_fixed<4,2,AP_TRN,AP_WRAP>")
    np.testing.assert_array_equal(trn.quantize(np.array([0.3, 2.0, -2.25])), [0.25, -2.0, 1.75])
    u = FixedType.parse("ap_ufixed<6,3>")
    assert (u.min, u.max) == (0.0, 8 - 1 / 8)
    for bad in ("ap_fixed<8>", "float", "ap_fixed<8,2,AP_ROUND>", "ap_fixed<0,0>"):
        with pytest.raises(ConfigError, match="precision"):
            FixedType.parse(bad)
    p = parse_precision("input=ap_fixed<12,5>, weight=ap_fixed<6,1,AP_TRN,AP_WRAP>")
    assert p["input"] == "ap_fixed<12,5,AP_RND_CONV,AP_SAT>" and p["weight"] == "ap_fixed<6,1,AP_TRN,AP_WRAP>"
    with pytest.raises(ConfigError, match="unknown kind 'weights'"):
        parse_precision("weights=ap_fixed<6,1>")


def test_teacher_targets_that_cannot_be_distilled():
    rng = np.random.default_rng(0)
    y, info = teacher_target(rng.exponential(size=1000))
    assert info["transform"] == "log" and abs(y.mean()) < 1e-6 and abs(y.std() - 1) < 1e-5
    assert teacher_target(rng.normal(size=1000))[1]["transform"] == "none"  # e.g. an SVM decision function
    with pytest.raises(ConfigError, match="same score"):
        teacher_target(np.full(1000, 0.3))
    with pytest.raises(ConfigError, match="not all finite"):
        teacher_target(np.r_[rng.exponential(size=999), np.nan])
    with pytest.raises(ConfigError, match="log is undefined"):
        teacher_target(rng.normal(size=1000), "log")
    with pytest.raises(ConfigError, match="at least"):
        teacher_target(np.ones(10))


def test_student_is_a_quantized_pruned_detector(student):
    model, info = student
    det = model.detector
    assert info["train_correlation"] > 0.8
    cost = det.cost()
    assert cost["parameters"] == 57 * 32 + 32 + 32 * 16 + 16 + 16 + 1 and cost["sparsity"] >= 0.29
    types = det.types()
    for name, (w, b) in det.quantized_weights().items():
        np.testing.assert_array_equal(types[name]["weight"].quantize(w), w)  # on the 8-bit grid
        # the stored weights are the firmware's, so the float student is this network in float arithmetic
        np.testing.assert_array_equal(det.module_[name].weight.detach().double().numpy(), w)
        np.testing.assert_array_equal(det.module_[name].bias.detach().double().numpy(), b)
    from adkit.datasets import background

    X = model.spec.features.compute(background(2000, 1)[0][:, :, :3])
    s = model.decision_function(X)
    out = types["out"]["result"]
    np.testing.assert_array_equal(out.quantize(s), s)  # the score is the firmware's output type
    with pytest.raises(ConfigError, match="adkit distill"):
        type(det)(epochs=1).fit(np.zeros((10, 57), np.float32))


def test_firmware_agrees_with_the_student(student, teacher, tmp_path):
    """hls4ml writes the project, g++ compiles the C simulation, decisions agree (CI tier)."""
    from adkit.distill import DistillOptions
    from adkit.firmware.report import write_report
    from adkit.workflows.distill import check_student

    model, _ = student
    report = check_student(teacher, model, tmp_path / "hls", options=DistillOptions(rates=(10.0, 100.0)),
                           n_default=5000)
    fw = report["firmware"]
    assert (tmp_path / "hls" / "firmware" / "adkit_trigger.cpp").exists()
    assert all(v <= 0.001 for v in fw["decision_mismatch"].values()), fw["decision_mismatch"]
    assert fw["max_abs_difference"] == 0.0  # bit-accurate: same fixed-point arithmetic
    assert [t.name for t in model.thresholds] == ["100kHz"] and report["thresholds_unresolved"] == ["10kHz"]
    assert report["correlation"]["student_vs_teacher_spearman"] > 0.7
    # the cost counted independently: the student's non-zero quantized weights over every teacher weight
    import torch

    student_mults = sum(int(np.count_nonzero(w)) for w, _ in model.detector.quantized_weights().values())
    teacher_weights = sum(m.weight.numel() for m in teacher.detector.module_.modules() if isinstance(m, torch.nn.Linear))
    assert report["cost"]["multiplication_ratio"] == pytest.approx(student_mults / teacher_weights)
    write_report(tmp_path / "hls", report)
    assert "Trigger decisions differing" in (tmp_path / "hls" / "report.md").read_text()
    assert json.loads((tmp_path / "hls" / "report.json").read_text())["firmware"]["synthesis"]["ran"] is False


def test_distill_command_end_to_end(tmp_path, adc_file, monkeypatch):
    from adkit.artifact import Model

    assert run_cli("train", "--detector", "ae", "--epochs", "1", "--data", str(adc_file), cwd=tmp_path).exit_code == 0
    r = run_cli("distill", "--epochs", "2", "--data", str(adc_file), "--background", str(adc_file),
                "--precision", "input=ap_fixed<12,6>,weight=ap_fixed<6,1>", "--hidden", "16,8", "--json", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)  # --json: stdout is the JSON document only
    assert out["output"] == "student.adkit" and "correlation" in out["report"] and "synthesis skipped" in r.stderr
    assert "Trigger decisions differing" in (tmp_path / "hls" / "report.md").read_text()
    # hls4ml's own console messages go to the project's log file, not the user's console
    assert "Interpreting Model" not in r.output and "Interpreting Model" in (tmp_path / "hls" / "hls4ml.log").read_text()
    # test vectors for the firmware team: the scaled inputs and the quantized student's outputs
    tb = tmp_path / "hls" / "tb_data"
    X = np.loadtxt(tb / "tb_input_features.dat")
    y = np.loadtxt(tb / "tb_output_predictions.dat")
    assert X.shape == (1000, 57) and y.shape == (1000,)
    student_model = Model.load(tmp_path / "student.adkit")
    np.testing.assert_allclose(y, student_model.detector.decision_function(X.astype(np.float32)), rtol=1e-6, atol=1e-6)
    assert (tmp_path / "hls" / "test_vectors.csv").read_text().splitlines()[0].endswith(",jet10_phi,expected_score")
    student = Model.load(tmp_path / "student.adkit")
    # 5,000 held-out background events resolve 100 kHz (12 pass) but not 1 or 10 kHz: those are not stored
    assert student.detector.name == "student" and [t.name for t in student.thresholds] == ["100kHz"]
    assert "no threshold stored at 1kHz, 10kHz" in r.stderr
    assert student.detector.precisions()["input"].startswith("ap_fixed<12,6")
    assert (tmp_path / "hls" / "report.json").exists() and not list(tmp_path.glob(".hls.partial*"))
    r = run_cli("score", "--model", "student.adkit", str(adc_file), "-o", "s.h5", cwd=tmp_path)
    assert r.exit_code == 0
    # errors: one line, exit 2
    r = run_cli("distill", "--precision", "input=ap_fixd<8,3>", "--overwrite", "--data", str(adc_file), cwd=tmp_path)
    assert r.exit_code == 2 and "cannot parse 'ap_fixd<8,3>'" in r.stderr and "Traceback" not in r.output
    r = run_cli("distill", "--data", str(adc_file), cwd=tmp_path)
    assert r.exit_code == 2 and "exists" in r.stderr
    monkeypatch.setenv("CXX", "no-such-compiler")
    r = run_cli("distill", "--overwrite", "--data", str(adc_file), cwd=tmp_path)
    assert r.exit_code == 2 and "no C++ compiler 'no-such-compiler'" in r.stderr


def test_conversion_failure_is_one_line(student, tmp_path, monkeypatch):
    import hls4ml

    from adkit.firmware import FirmwareError, write_project

    def broken(*a, **k):
        raise KeyError("Dense layer without weights\nmore details")

    monkeypatch.setattr(hls4ml.converters, "convert_from_pytorch_model", broken)
    with pytest.raises(FirmwareError, match="hls4ml could not convert the student: KeyError"):
        write_project(student[0].detector, tmp_path / "x")


def test_cpu_export_reproduces_scores(student, tmp_path):
    import torch

    from adkit.export import export_torchscript

    model, _ = student
    check = export_torchscript(model, tmp_path / "s.pt")
    assert check["max_abs_difference"] == 0.0
    from adkit.datasets import background

    X = model.spec.features.compute(background(500, 4)[0][:, :, :3]).astype(np.float32)
    with torch.no_grad():
        got = torch.jit.load(str(tmp_path / "s.pt"))(torch.from_numpy(X)).double().numpy()
    np.testing.assert_array_equal(got, model.decision_function(X))
    from adkit.workflows import train

    cvae = train("cvae", epochs=1, n_default=3000)
    assert export_torchscript(cvae, tmp_path / "c.pt")["max_abs_difference"] < 1e-4
    with pytest.raises(ConfigError, match="not a torch network"):
        export_torchscript(train("iforest", n_default=2000, params={"n_train": 500}), tmp_path / "i.pt")


def test_kernel_teacher_distills(tmp_path):
    """Scores that can be negative (an SVM decision function) are distilled without the log."""
    from adkit.workflows import train

    svc = train("svc", n_default=4000, params={"n_train": 500})
    model, info = distill(svc, n_default=4000, epochs=8, batch_size=256)
    assert info["target"]["transform"] == "none" and info["train_correlation"] > 0.5


def test_a_student_that_lost_the_teachers_power_is_said_loudly():
    """The command ends with one warning line per signal and rate where the student keeps too little."""
    from adkit.metrics import efficiency
    from adkit.workflows.distill import lost_power

    def sig(tpr, n=20000):
        k = int(round(tpr * n))
        return {"tpr_at_rate_khz": {"10": tpr}, "efficiency_at_rate_khz": {"10": efficiency(k, n)}}

    report = {"thresholds": [{"name": "10kHz", "rate_khz": 10.0}],
              "metrics": {"teacher": {"signals": {"Ato4l": sig(0.3058), "h0totautau": sig(0.0004)}},
                          "student": {"signals": {"Ato4l": sig(0.0083), "h0totautau": sig(0.0)}}}}
    lines = lost_power(report, 0.5)
    assert lines == ["warning: the student keeps 3% of the teacher's A→4ℓ TPR at 10kHz (0.0083 against 0.3058), "
                     "below 50%: it lost the teacher's power there"]  # h⁰: 8 teacher events, too few to judge
    assert lost_power(report, 0.01) == []


def test_distributed_arithmetic_matches_the_student_and_writes_verilog(tmp_path, adc_file):
    """--strategy da: the da4ml adder graph reproduces the quantized student on every held-out event (its
    interpreter, before any Verilog), the estimate has no DSP, --rtl writes the pipelined Verilog."""
    pytest.importorskip("da4ml")
    from adkit.artifact import Model

    assert run_cli("train", "--detector", "ae", "--epochs", "1", "--data", str(adc_file), cwd=tmp_path).exit_code == 0
    r = run_cli("distill", "--epochs", "2", "--data", str(adc_file), "--background", str(adc_file), "--hidden", "16,8",
                "--strategy", "da", "--rtl", "rtl", "--json", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)["report"]["da"]
    assert d["events"] == 5000 and d["events_differing"] == 0 and d["max_abs_difference"] == 0.0
    assert d["estimate"]["dsp"] == 0 and d["estimate"]["lut"] > 0 and d["estimate"]["cycles"] >= 1
    assert "AP_RND" in str(Model.load(tmp_path / "student.adkit").detector.types()["fc1"]["result"])
    top = (tmp_path / "rtl" / "src" / "adkit_trigger_wrapper.v").read_text()
    assert "module adkit_trigger_wrapper" in top and not list(tmp_path.glob(".rtl.partial*"))
    rtl = json.loads(r.stdout)["report"]["rtl"]
    if shutil.which("verilator"):  # CI installs it (.ci/run): the RTL itself, simulated on every held-out event
        assert rtl["simulated"] and rtl["events"] == 5000 and rtl["differing_vs_student"] == 0
        assert rtl["differing_vs_csim"] == 0 and rtl["events_per_second"] > 0
        assert set(rtl["decisions_equal_vs_float"]) == {"100kHz"}
        assert "Verilator on 5000 held-out events: 0 differ from the quantized student" in r.stderr
    else:
        assert not rtl["simulated"] and "apt-get install verilator" in rtl["why"]
    # a student with round-half-to-even types cannot be traced exactly: one line, exit 2
    r = run_cli("distill", "--epochs", "1", "--data", str(adc_file), "--strategy", "latency", "--rtl", "r2",
                "--overwrite", cwd=tmp_path)
    assert r.exit_code == 2 and "--strategy da" in r.stderr


def test_without_verilator_the_rtl_is_written_and_that_is_said(tmp_path, adc_file, monkeypatch):
    pytest.importorskip("da4ml")
    import adkit.firmware.rtlsim as rtlsim

    monkeypatch.setattr(rtlsim.shutil, "which", lambda name: None)
    assert run_cli("train", "--detector", "ae", "--epochs", "1", "--data", str(adc_file), cwd=tmp_path).exit_code == 0
    r = run_cli("distill", "--target", "cpu", "--epochs", "1", "--data", str(adc_file), "--background", str(adc_file),
                "--hidden", "8", "--strategy", "da", "--rtl", "rtl", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    line = next(ln for ln in r.stderr.splitlines() if "not simulated" in ln)
    assert "Verilator is not installed" in line and "apt-get install verilator" in line
    assert (tmp_path / "rtl" / "src" / "adkit_trigger_wrapper.v").exists()


def test_da_trace_refuses_round_half_to_even(student):
    pytest.importorskip("da4ml")
    from adkit.errors import ConfigError
    from adkit.firmware.da import check_types

    model, _ = student
    with pytest.raises(ConfigError, match="rounds half up"):
        check_types(model.detector)


def test_axol1tl_preset_reports_the_budget(tmp_path, adc_file):
    """--preset axol1tl: the AXOL1TL v5 size and precisions, DA, and whether it fits 2 bunch crossings on the part."""
    pytest.importorskip("da4ml")
    from adkit.artifact import Model

    assert run_cli("train", "--detector", "ae", "--epochs", "1", "--data", str(adc_file), cwd=tmp_path).exit_code == 0
    r = run_cli("distill", "--target", "cpu", "--preset", "axol1tl", "--epochs", "1", "--data", str(adc_file),
                "--background", str(adc_file), "--part", "xcvu9p-flga2104-2-e", "--json", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    student = Model.load(tmp_path / "student.adkit").detector
    types = student.types()
    assert student.hidden == (32, 16) or list(student.hidden) == [32, 16]
    assert str(types["input"]["result"]).startswith("ap_fixed<14,6") and str(types["fc1"]["weight"]).startswith(
        "ap_fixed<6,3")
    assert sum(w.size for w, _ in student.quantized_weights().values()) == 57 * 32 + 32 * 16 + 16
    da = json.loads(r.stdout)["report"]["da"]
    b = da["budget"]
    assert b["limit_ns"] == 50.0 and b["latency_ns"] == da["estimate"]["cycles"] * 6.25
    assert b["part"].startswith("xcvu9p") and b["part_known"] and 0 < b["fraction"]["lut"] < 1
    assert b["fraction"]["dsp"] == 0
    assert ("fits" if b["fits_latency"] else "DOES NOT FIT") in r.stderr and "2 bunch crossings" in r.stderr


def test_rtl_simulation_never_removes_a_directory_adkit_did_not_make(tmp_path):
    """rtlsim rebuilds DIR/adkit_sim only when it is adkit's own earlier build."""
    if shutil.which("verilator") is None:
        pytest.skip("Verilator is not installed (apt-get install verilator)")
    from adkit.firmware.hls import FirmwareError
    from adkit.firmware.rtlsim import build

    (tmp_path / "adkit_sim").mkdir()
    (tmp_path / "adkit_sim" / "notes.txt").write_text("mine")
    with pytest.raises(FirmwareError, match="not replaced"):
        build(tmp_path, {"n_in": 1, "bw_in": 8, "n_out": 1, "bw_out": 8}, 1, "top")
    assert (tmp_path / "adkit_sim" / "notes.txt").read_text() == "mine"


def test_extra_objects_add_objects_of_one_type_copied_from_the_background():
    from adkit.datasets import default_background
    from adkit.features.artificial import extra_objects
    from adkit.io.schema import ObjectSchema

    s = ObjectSchema()
    o = default_background(3000, 5)[:, :, :3].astype(np.float64)
    a = extra_objects(o, s, 2000, seed=1)
    assert a.shape == (2000, s.n_rows, 3)
    np.testing.assert_array_equal(a, extra_objects(o, s, 2000, seed=1))  # same seed, same events
    met = {tuple(r) for r in o[:, s.rows("met")].reshape(-1, 3)}
    assert all(tuple(r) in met for r in a[:, s.rows("met")].reshape(-1, 3))
    for k in ("electron", "muon", "jet"):
        rows = s.rows(k)
        pool = {tuple(r) for r in o[:, rows].reshape(-1, 3) if r[0] > 0}
        got = a[:, rows]
        # every object of the type is one of the background's objects of that type, pT-ordered, no gaps
        assert all(tuple(r) in pool for r in got.reshape(-1, 3) if r[0] > 0)
        assert (np.diff(got[:, :, 0], axis=1) <= 0).all()
    n_obj = lambda x, k: (x[:, s.rows(k), 0] > 0).sum(axis=1)  # noqa: E731
    leptons_o = n_obj(o, "electron") + n_obj(o, "muon")
    leptons_a = n_obj(a, "electron") + n_obj(a, "muon")
    assert leptons_o.max() < 3 <= leptons_a.max()  # events the background never has: three or more leptons
    total = sum(n_obj(a, k) for k in ("electron", "muon", "jet")).mean()
    assert total > sum(n_obj(o, k) for k in ("electron", "muon", "jet")).mean() + 1


def test_distill_defaults_augment_objects_and_learns_a_named_teacher_score():
    from adkit.workflows import train

    vae = train("vae", epochs=1, n_default=3000)
    _, info = distill(vae, n_default=3000, epochs=1, teacher_score="latent")
    assert info["augment"] == {"ratio": 1.0, "method": "objects", "events": 3000}
    assert info["teacher_score"] == "latent"
    X = vae.spec.features.compute(__import__("adkit.datasets", fromlist=["x"]).default_background(50, 3)[:, :, :3])
    comps = vae.score_components(X.astype(np.float32))
    mu = vae.detector.module_["mu"]  # latent = Σ μ², μ from the encoder, as AXOL1TL computes it
    import torch

    with torch.no_grad():
        h = vae.detector.module_["encoder"](torch.from_numpy(vae.scaler.transform(X).astype(np.float32)))
        np.testing.assert_allclose(comps["latent"], (mu(h) ** 2).sum(dim=1).numpy(), rtol=1e-5)
    with pytest.raises(ConfigError, match="kl, reco, total, latent"):
        distill(vae, n_default=3000, epochs=1, teacher_score="nope")
    with pytest.raises(ConfigError, match="must read the raw object inputs"):
        distill(train("ae", epochs=1, n_default=3000, features="ht,n_leptons"), n_default=3000, epochs=1,
                augment_method="objects")


def test_distill_options_come_from_the_command_line_then_preset_then_config_then_defaults(tmp_path):
    """One set of defaults (DistillOptions); a --config value is used unless the command line gives one
    (before, --rates had a click default and a config's rates were never read)."""
    from adkit.distill import DistillOptions
    from adkit.errors import ConfigError
    from adkit.workflows.distill import options_from

    cfg = tmp_path / "distill.yaml"
    cfg.write_text("rates: [5, 50]\nepochs: 7\nhidden: [16, 8]\ncell: lstm\nfprs: [0.02]\n")
    o = options_from({"epochs": 3, "rates": None, "hidden": None}, str(cfg))
    assert (o.epochs, o.rates, o.hidden, o.cell, o.fprs) == (3, (5.0, 50.0), (16, 8), "lstm", (0.02,))
    assert o.lr == DistillOptions.lr and o.batch_for(series=False) == 1024 and o.batch_for(series=True) == 256
    said = []
    o = options_from({"preset": "axol1tl", "hidden": "8"}, str(cfg), said.append)
    assert o.hidden == (8,) and o.strategy == "da" and o.precision["weight"].startswith("ap_fixed<6,3")
    assert said and "--preset axol1tl: student 57-8-1" in said[0]
    assert DistillOptions.from_sources({}).rates == (1.0, 10.0, 100.0)
    with pytest.raises(ConfigError, match="--rates: rate 0 kHz"):
        DistillOptions.from_sources({"rates": "0"})
    with pytest.raises(ConfigError, match="--fprs 2"):
        DistillOptions.from_sources({"fprs": "2"})
    with pytest.raises(ConfigError, match="--hidden"):
        DistillOptions.from_sources({"hidden": "32,x"})


def test_cosine_learning_rate_schedule_decays_to_zero_over_the_epochs(teacher, monkeypatch):
    """``lr_schedule="cosine"``: the rate in epoch e of E is lr · (1 + cos(π e / E)) / 2 (written here
    from the formula), set on the optimizer before every epoch; "constant" keeps lr; a student
    distilled with it records the schedule in its parameters."""
    import math

    from adkit.detectors.student import QuantizedStudent

    lr, epochs = 0.01, 4
    expected = [lr * (1 + math.cos(math.pi * e / epochs)) / 2 for e in range(epochs)]
    seen: list[float] = []
    step = QuantizedStudent.train_step

    def spy(self, module, x, c, generator, optimizers, y=None):
        seen.append(optimizers["main"].param_groups[0]["lr"])
        return step(self, module, x, c, generator, optimizers, y)

    monkeypatch.setattr(QuantizedStudent, "train_step", spy)
    X = np.random.default_rng(0).normal(size=(400, 5)).astype(np.float32)
    QuantizedStudent(hidden=(4,), epochs=epochs, lr=lr, batch_size=400, validation_fraction=0.0,
                     lr_schedule="cosine").fit(X, X.sum(1).astype(np.float32))
    np.testing.assert_allclose(list(dict.fromkeys(seen)), expected, rtol=1e-12)  # one rate per epoch, in order
    assert QuantizedStudent(lr=lr).learning_rate(3) == lr
    monkeypatch.undo()
    model, _ = distill(teacher, n_default=2000, epochs=2, lr_schedule="cosine")
    assert model.detector.lr_schedule == "cosine"
    with pytest.raises(ConfigError, match="lr_schedule"):
        QuantizedStudent(lr_schedule="linear")._validate()
    with pytest.raises(ConfigError, match="--lr-schedule"):
        distill(teacher, n_default=2000, kind="bdt", lr_schedule="cosine")


def test_lr_schedule_on_the_command_line(tmp_path, adc_file):
    """`--lr-schedule cosine` reaches the student; with a BDT student it is refused in one line."""
    assert run_cli("train", "--detector", "ae", "--epochs", "1", "--data", str(adc_file), cwd=tmp_path).exit_code == 0
    r = run_cli("distill", "--lr-schedule", "cosine", "--hidden", "8", "--epochs", "2", "--target", "cpu",
                "--data", str(adc_file), "--background", str(adc_file), "--json", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    from adkit.artifact import Model

    assert Model.load(tmp_path / json.loads(r.stdout)["output"]).detector.lr_schedule == "cosine"
    r = run_cli("distill", "--lr-schedule", "cosine", "--student", "bdt", "--data", str(adc_file), "-o", "bad.adkit",
                cwd=tmp_path)
    assert r.exit_code == 2 and "Traceback" not in r.stderr and "--lr-schedule" in r.stderr, r.output
    assert not (tmp_path / "bad.adkit").exists()
