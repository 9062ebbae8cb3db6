"""`adkit distill --student bdt`: boosted trees of the teacher's score, firmware through conifer."""
from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import run_cli


def _fixed(x, width, integer):
    """ap_fixed<width, integer, AP_RND_CONV, AP_SAT> as integers of 2^-(width - integer), written here."""
    frac = width - integer
    q = np.round(np.asarray(x, dtype=np.float64) * 2.0 ** frac)  # NumPy rounds half to even, as AP_RND_CONV
    return np.clip(q, -(2 ** (width - 1)), 2 ** (width - 1) - 1).astype(np.int64), frac


def test_quantized_score_matches_scikit_learns_trees_in_fixed_point():
    """The student's score against its scikit-learn model evaluated here, node by node: inputs on the
    input grid split as scikit-learn splits them, leaves × learning rate and the initial prediction
    rounded onto the score grid and summed in integers; and its float score against scikit-learn's
    own predict."""
    from sklearn.ensemble import GradientBoostingRegressor

    from adkit.detectors.bdt_student import BDTStudent

    rng = np.random.default_rng(1)
    X = rng.normal(size=(3000, 6))
    y = np.log1p((X ** 2).sum(1))
    det = BDTStudent(n_estimators=12, max_depth=3, learning_rate=0.3, seed=4).fit(X, y)
    width, integer = 14, 6  # the default input type, ap_fixed<14,6>
    xi, fx = _fixed(X, width, integer)
    Xq = xi / 2.0 ** fx
    ref = GradientBoostingRegressor(n_estimators=12, max_depth=3, learning_rate=0.3, random_state=4).fit(Xq, y)
    np.testing.assert_allclose(det.float_score(Xq), ref.predict(Xq), rtol=0, atol=1e-6)  # scikit-learn sums in float32
    s = det.score_type()
    acc, fs = _fixed(ref.init_.predict(Xq[:1])[0], s.width, s.integer)
    acc = np.full(len(X), acc)
    for est in ref.estimators_[:, 0]:
        t = est.tree_
        node = np.zeros(len(X), dtype=int)
        while True:
            leaf = t.children_left[node] == -1
            if leaf.all():
                break
            go_left = Xq[np.arange(len(X)), np.where(leaf, 0, t.feature[node])] <= t.threshold[node]  # scikit-learn's split
            node = np.where(leaf, node, np.where(go_left, t.children_left[node], t.children_right[node]))
        acc = acc + _fixed(t.value[node, 0, 0] * 0.3, s.width, s.integer)[0]
    np.testing.assert_array_equal(det.decision_function(X), acc / 2.0 ** fs)
    assert det.cost()["trees"] == 12 and det.cost()["multiplications"] == 0


def test_model_file_round_trip_and_damage(tmp_path):
    from adkit.detectors.bdt_student import BDTStudent
    from adkit.detectors.base import Detector

    rng = np.random.default_rng(2)
    X = rng.normal(size=(500, 4))
    det = BDTStudent(n_estimators=4, max_depth=2).fit(X, X[:, 0] ** 2)
    config, tensors = det._tensors()
    again = BDTStudent(n_estimators=4, max_depth=2)
    again._load_tensors(json.loads(json.dumps(config)), {k: v.copy() for k, v in tensors.items()})
    np.testing.assert_array_equal(again.decision_function(X), det.decision_function(X))
    assert isinstance(again, Detector)
    bad = {k: v.copy() for k, v in tensors.items()}
    bad["left"][0, 0] = 10_000
    with pytest.raises(ValueError, match="damaged"):
        BDTStudent()._load_tensors(config, bad)


def test_distill_a_bdt_student_whose_c_simulation_matches_bit_for_bit(tmp_path, adc_file):
    """conifer's HLS project, compiled as its C simulation, scores every held-out event exactly as the
    student's own arithmetic does; the report gives conifer's estimate (no DSP) and the budget."""
    pytest.importorskip("conifer")
    from adkit.artifact import Model

    assert run_cli("train", "--detector", "ae", "--epochs", "1", "--data", str(adc_file), cwd=tmp_path).exit_code == 0
    r = run_cli("distill", "--student", "bdt", "--trees", "6", "--depth", "3", "--data", str(adc_file),
                "--background", str(adc_file), "--json", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)["report"]
    b = report["bdt"]
    assert b["events"] == 5000 and b["events_differing"] == 0 and b["max_abs_difference"] == 0.0
    assert b["estimate"]["dsp"] == 0 and b["estimate"]["lut"] > 0 and b["estimate"]["cycles"] >= 1
    assert report["cost"]["student"]["trees"] == 6
    hls = tmp_path / "hls"
    assert (hls / "firmware" / "BDT.h").exists() and (hls / "report.md").exists()
    assert "conifer HLS C simulation vs the quantized student: 0 of 5000" in r.stderr
    student = Model.load(tmp_path / "student.adkit")
    assert student.detector.name == "bdt-student"
    from adkit.datasets import background

    X = background(200, seed=9)[0][:, :, :3]
    Z = student.scaler.transform(student.spec.features.compute(X).astype(np.float32))
    assert np.isfinite(student.detector.decision_function(Z)).all()


def test_bdt_student_refuses_nn_only_options(tmp_path, adc_file):
    assert run_cli("train", "--detector", "ae", "--epochs", "1", "--data", str(adc_file), cwd=tmp_path).exit_code == 0
    r = run_cli("distill", "--student", "bdt", "--strategy", "da", "--rtl", "rtl", "--data", str(adc_file),
                cwd=tmp_path)
    assert r.exit_code == 2 and "--student bdt" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "student.adkit").exists() and not (tmp_path / "hls").exists()
