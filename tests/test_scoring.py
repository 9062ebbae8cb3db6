"""Scoring output, model files, metrics, determinism end to end."""
from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
from conftest import run_cli

from adkit.artifact import Model
from adkit.io.writers import read_scores


def test_score_rows_in_input_order(tmp_path, small_model, shared_data):
    files = [shared_data / "pythia" / "Z.h5", shared_data / "real" / "nano_dy.root"]
    out = tmp_path / "s.h5"
    r = run_cli("score", *map(str, files), "--model", str(small_model), "-o", str(out), "--step", "2500")
    assert r.exit_code == 0, r.output
    s = read_scores(out)
    assert len(s["score"]) == 5000 + 40
    assert list(s["source"][:1]) == [str(files[0])] and list(s["source"][-1:]) == [str(files[1])]
    np.testing.assert_array_equal(s["entry"], np.r_[np.arange(5000), np.arange(40)])
    model = Model.load(small_model)
    from adkit.io import load_arrays

    X, _, _ = load_arrays([files[0]], model.spec)
    np.testing.assert_allclose(s["score"][:5000], model.decision_function(X), rtol=1e-5)
    for t in model.thresholds:
        np.testing.assert_array_equal(s[f"pass_{t.name}"], s["score"] > t.value)
    assert s["pass_100kHz"].mean() < 0.05


def test_parquet_and_friend(tmp_path, small_model, shared_data):
    import uproot

    f = shared_data / "real" / "nano_tt_v12.root"
    r = run_cli("score", str(f), "--model", str(small_model), "-o", str(tmp_path / "s.parquet"), "--friend")
    assert r.exit_code == 0, r.output
    s = read_scores(tmp_path / "s.parquet")
    assert len(s["score"]) == 200 and set(s["source"]) == {str(f)}
    friend = uproot.open(tmp_path / "s.nano_tt_v12.friend.root")["adkit"]
    assert friend.num_entries == uproot.open(f)["Events"].num_entries
    np.testing.assert_allclose(friend["score"].array(library="np"), s["score"])


def test_score_default_output_name(tmp_path, small_model, adc_file):
    r = run_cli("score", str(adc_file), "--model", str(small_model), cwd=tmp_path)
    assert r.exit_code == 0 and "bkg.scores.h5" in r.stderr
    assert (tmp_path / "bkg.scores.h5").exists()


def test_model_file_has_no_pickle_and_full_provenance(tmp_path, small_model):
    with zipfile.ZipFile(small_model) as z:
        assert sorted(z.namelist()) == ["manifest.json", "tensors.safetensors"]
        manifest = json.loads(z.read("manifest.json"))
    assert manifest["format"] == "adkit-model" and manifest["format_version"] == 1
    assert manifest["detector"]["name"] == "ae"
    assert manifest["input"]["columns"][:2] == ["met_pt", "met_eta"]
    assert {"seed", "events", "versions", "embedded"} <= set(manifest["provenance"])
    assert [t["name"] for t in manifest["thresholds"]] == ["100kHz", "1000kHz"]


def test_train_on_files_records_inputs(tmp_path, shared_data):
    f = shared_data / "pythia" / "Z.root"
    out = tmp_path / "m.adkit"
    r = run_cli("train", "--detector", "vae", "--data", str(f), "--epochs", "2", "-o", str(out))
    assert r.exit_code == 0, r.output
    prov = Model.load(out).provenance
    assert prov["inputs"][0]["path"] == str(f) and prov["inputs"][0]["size"] == f.stat().st_size
    assert len(prov["inputs"][0]["sha256"]) == 64 and prov["events"] == 5000
    r = run_cli("show", str(out))
    assert "vae" in r.output and "sha256" in r.output


def test_same_seed_same_model_and_scores(tmp_path, adc_file):
    outs = []
    for i in range(2):
        m = tmp_path / f"m{i}.adkit"
        assert run_cli("train", "--data", str(adc_file), "--epochs", "2", "--seed", "3", "-o", str(m)).exit_code == 0
        assert run_cli("score", str(adc_file), "--model", str(m), "-o", str(tmp_path / f"s{i}.h5")).exit_code == 0
        outs.append(m)
    from safetensors.numpy import load

    t0, t1 = (load(zipfile.ZipFile(m).read("tensors.safetensors")) for m in outs)
    assert t0.keys() == t1.keys() and all(np.array_equal(t0[k], t1[k]) for k in t0)
    np.testing.assert_array_equal(read_scores(tmp_path / "s0.h5")["score"], read_scores(tmp_path / "s1.h5")["score"])


def test_metrics_against_sklearn():
    from sklearn.metrics import roc_auc_score

    from adkit.metrics import evaluate_scores, rate_to_fpr, threshold_at_fpr

    rng = np.random.default_rng(0)
    b, s = rng.normal(size=200_000), rng.normal(1.5, 1.0, 5000)
    assert rate_to_fpr(1.0) == pytest.approx(2.5e-5)
    for fpr in (1e-4, 1e-3, 0.1):
        t = threshold_at_fpr(b, fpr)
        assert (b > t).mean() <= fpr and (b > t).mean() >= fpr - 1.5 / len(b)
    res = evaluate_scores(b, {"s": s}, rates_khz=(1.0, 40.0))
    assert res["signals"]["s"]["auc"] == pytest.approx(roc_auc_score(np.r_[np.zeros(len(b)), np.ones(len(s))], np.r_[b, s]))
    t40 = next(w for w in res["working_points"] if w["kind"] == "rate" and w["value"] == 40.0)["threshold"]
    assert res["signals"]["s"]["tpr_at_rate_khz"]["40"] == pytest.approx((s > t40).mean())
    assert res["signals"]["s"]["tpr_at_rate_khz"]["40"] == res["signals"]["s"]["tpr_at_fpr"]["0.001"]
    wp = {(w["kind"], w["value"]): w for w in res["working_points"]}
    # 200,000 background events: FPR 1e-4 has 20 events above it (resolved), 1e-5 only 2 (not)
    assert wp[("fpr", 1e-4)]["resolved"] and not wp[("fpr", 1e-5)]["resolved"]
    assert wp[("fpr", 1e-5)]["background_passing"] == 2 and wp[("fpr", 1e-5)]["fpr_measured"]["passed"] == 2
    # every TPR with its counts and the exact binomial interval (scipy's, computed independently)
    from scipy.stats import binomtest

    e = res["signals"]["s"]["efficiency_at_fpr"]["0.0001"]
    assert e["total"] == len(s) and e["passed"] == int((s > wp[("fpr", 1e-4)]["threshold"]).sum())
    ci = binomtest(e["passed"], e["total"]).proportion_ci(confidence_level=0.6827, method="exact")
    assert e["interval"] == pytest.approx([ci.low, ci.high], rel=1e-9)
    assert e["interval"][0] <= e["value"] <= e["interval"][1]


def test_evaluate_writes_report_and_stores_thresholds(tmp_path, small_model, shared_data):
    import shutil

    model = tmp_path / "m.adkit"
    shutil.copy(small_model, model)
    p = shared_data / "pythia"
    r = run_cli("evaluate", "--model", str(model), "--background", str(p / "W.h5"), "--background", str(p / "QCD.h5"),
                "--signal", f"Ato4l={p / 'Ato4l.h5'}", "--signal", f"hch={p / 'hchtotaunu.root'}",
                "-o", str(tmp_path / "rep"), "--rates", "10,100", "--store-thresholds", "100")
    assert r.exit_code == 0, r.output
    assert "A→4ℓ" in r.stdout and "TPR@100 kHz" in r.stdout
    metrics = json.loads((tmp_path / "rep" / "metrics.json").read_text())
    assert metrics["n_background"] == 65000 and set(metrics["signals"]) == {"Ato4l", "hch"}
    assert 0.5 < metrics["signals"]["hch"]["auc"] <= 1.0
    for f in ("roc.png", "scores.png"):
        assert (tmp_path / "rep" / f).read_bytes()[:4] == b"\x89PNG"
    assert "![roc](roc.png)" in (tmp_path / "rep" / "report.md").read_text()
    thr = Model.load(model).thresholds
    assert [t.name for t in thr] == ["1000kHz", "100kHz"] and thr[1].fpr == pytest.approx(2.5e-3)  # 100 kHz replaced


def test_unresolved_thresholds_are_not_stored_unless_forced(tmp_path, small_model, shared_data):
    """1 kHz of 40 MHz on 65,000 background events: about 2 events pass, too few; refused in one line before any
    output is written, stored with --force-thresholds."""
    import shutil

    model = tmp_path / "m.adkit"
    shutil.copy(small_model, model)
    before = model.read_bytes()
    p = shared_data / "pythia"
    args = ["evaluate", "--model", str(model), "--background", str(p / "W.h5"), "--background", str(p / "QCD.h5"),
            "--signal", f"Ato4l={p / 'Ato4l.h5'}", "--store-thresholds", "1"]
    r = run_cli(*args, "-o", str(tmp_path / "rep"))
    assert r.exit_code == 2 and "fewer than 10" in r.stderr and "--force-thresholds" in r.stderr
    assert model.read_bytes() == before and not (tmp_path / "rep").exists()
    r = run_cli(*args, "-o", str(tmp_path / "rep2"), "--force-thresholds", "--json")
    assert r.exit_code == 0, r.output
    assert [t.name for t in Model.load(model).thresholds] == ["100kHz", "1000kHz", "1kHz"]  # added, others kept
    res = json.loads(r.stdout)
    assert res["min_background"] == 10 and res["signals"]["Ato4l"]["efficiency_at_rate_khz"]["1"]["total"] == 2000


def test_evaluate_refuses_an_existing_report_before_computing(tmp_path, small_model, monkeypatch):
    """The outputs are checked first: an existing report is refused without scoring a single event."""
    import importlib

    ev = importlib.import_module("adkit.workflows.evaluate")  # the module (the package exports a function of the name)
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "metrics.json").write_text("{}")
    monkeypatch.setattr(ev, "evaluate_events", lambda *a, **k: pytest.fail("scored before checking the outputs"))
    r = run_cli("evaluate", "--model", str(small_model), cwd=tmp_path)
    assert r.exit_code == 2 and "already exists" in r.stderr and "--overwrite" in r.stderr
    assert (tmp_path / "report" / "metrics.json").read_text() == "{}"
