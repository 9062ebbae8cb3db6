"""The AXOL1TL v6-style self-supervised trigger network (``selfsup``, ``--preset axol1tl-v6``).

The reference score is written here from the definition, on each type's grid: the input word,
each dense layer's sum rounded half up and saturated to its result type, ReLU between the encoder
layers, r the last encoder word, z the bottleneck, r̂ the decoder's word; the score is
Σ (r̂ − r)², held exactly.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import run_cli

V6 = {"input": "ap_fixed<14,6,AP_RND,AP_SAT>", "weight": "ap_fixed<5,1,AP_RND,AP_SAT>",
      "bias": "ap_fixed<12,4,AP_RND,AP_SAT>", "activation": "ap_fixed<14,6,AP_RND,AP_SAT>",
      "output": "ap_fixed<18,10,AP_RND,AP_SAT>"}


def _rnd_sat(x, width, integer):
    """ap_fixed<width, integer, AP_RND, AP_SAT>: round half up onto 2^-(width-integer), clamp to the range."""
    frac = width - integer
    q = np.floor(np.asarray(x, dtype=np.float64) * 2.0 ** frac + 0.5)
    return np.clip(q, -(2.0 ** (width - 1)), 2.0 ** (width - 1) - 1) / 2.0 ** frac


def _reference(X, weights, hidden_layers):
    h = _rnd_sat(X, 14, 6)
    for k, n in enumerate(hidden_layers):
        w, b = weights[n]
        h = _rnd_sat(h @ w.T + b, 14, 6)
        if k < len(hidden_layers) - 1:  # ReLU between encoder layers; the representation r is the last word
            h = np.maximum(h, 0.0)
    r = h
    z = _rnd_sat(r @ weights["lat"][0].T + weights["lat"][1], 14, 6)
    rh = _rnd_sat(z @ weights["dec"][0].T + weights["dec"][1], 14, 6)
    return ((rh - r) ** 2).sum(1)  # held exactly: 2 x 8 fraction bits, no rounding


def test_score_is_the_squared_distance_of_the_decoded_representation():
    """The network's score equals the reference written from the definition, event by event, exactly;
    its weights are 5-bit words; it separates events the training background does not contain."""
    from adkit.detectors.selfsup import SelfSupervisedTrigger

    rng = np.random.default_rng(0)
    X = rng.normal(size=(4000, 10)).astype(np.float32)
    det = SelfSupervisedTrigger(hidden=(12, 6), bottleneck=2, precision=V6, epochs=8, batch_size=128, seed=3).fit(X)
    weights = det.quantized_weights()
    for w, _ in weights.values():
        np.testing.assert_array_equal(_rnd_sat(w, 5, 1), w)
    Xt = np.concatenate([rng.normal(size=(500, 10)), 4 * rng.normal(size=(500, 10))]).astype(np.float32)
    s = det.decision_function(Xt)
    np.testing.assert_array_equal(s, _reference(Xt, weights, ["fc1", "fc2"]))
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(np.r_[np.zeros(500), np.ones(500)], s) > 0.8


def test_da4ml_graph_of_the_network_reproduces_it_bit_for_bit():
    pytest.importorskip("da4ml")
    from adkit.detectors.selfsup import SelfSupervisedTrigger
    from adkit.firmware import da

    rng = np.random.default_rng(1)
    X = rng.normal(size=(3000, 9)).astype(np.float32)
    for quantization in ("uniform", "hgq"):
        if quantization == "hgq":
            pytest.importorskip("pquant")
        det = SelfSupervisedTrigger(hidden=(8, 5), bottleneck=2, precision=V6, epochs=4, batch_size=128,
                                    quantization=quantization, bit_cost=1e-5).fit(X)
        Xt = np.concatenate([X[:500], 3 * rng.normal(size=(500, 9)).astype(np.float32)])
        comb = da.trace(det)
        np.testing.assert_array_equal(da.predict(comb, det, Xt), det.decision_function(Xt))


def test_preset_axol1tl_v6_on_the_command_line(tmp_path, adc_file):
    """`adkit distill --preset axol1tl-v6 --rtl rtl`: the network trained on the background, its adder
    graph and Verilog checked against it on every held-out event; an HLS target is refused in one line."""
    pytest.importorskip("da4ml")
    assert run_cli("train", "--detector", "ae", "--epochs", "1", "--data", str(adc_file), cwd=tmp_path).exit_code == 0
    r = run_cli("distill", "--preset", "axol1tl-v6", "--epochs", "2", "--data", str(adc_file), "--background",
                str(adc_file), "--rtl", "rtl", "--json", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)["report"]
    assert report["da"]["events"] == 5000 and report["da"]["events_differing"] == 0
    if report["rtl"]["simulated"]:  # Verilator installed (CI installs it)
        assert report["rtl"]["differing_vs_student"] == 0
    assert (tmp_path / "rtl").is_dir() and "self-supervised" in r.stderr
    from adkit.artifact import Model

    assert Model.load(tmp_path / "student.adkit").detector.name == "selfsup"
    r = run_cli("distill", "--preset", "axol1tl-v6", "--target", "fpga", "--data", str(adc_file), "-o", "x.adkit",
                cwd=tmp_path)
    assert r.exit_code == 2 and "da4ml's Verilog" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "x.adkit").exists()
