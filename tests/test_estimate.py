"""Estimates without synthesis: rule4ml for the hls4ml Latency design, da4ml per layer, and the
estimate beside synthesis figures."""
from __future__ import annotations

import numpy as np
import pytest

from adkit.distill import distill


@pytest.fixture(scope="module")
def student():
    from adkit.firmware.da import DA_PRECISION
    from adkit.workflows import train

    teacher = train("ae", epochs=1, n_default=3000)
    return distill(teacher, n_default=3000, epochs=2, sparsity=0.3, precision=DA_PRECISION)[0].detector


def test_rule4ml_estimate_is_rule4mls_own_prediction_shared_out_by_multipliers(student):
    pytest.importorskip("rule4ml", reason="rule4ml not installed (pip install 'adkit[estimate]')")
    import torch
    from rule4ml.models.wrappers import MultiModelWrapper

    from adkit.firmware.estimate import latency_estimate

    e = latency_estimate(student, "xcvu9p-flga2104-2-e", 6.25)
    assert e["method"].startswith("rule4ml") and e["board"] == "alveo-u200" and e["clock_ns"] == 10.0
    assert "sMAPE" in e["error"] and any("10 ns" in c for c in e["caveats"])
    # the reference: rule4ml asked directly, on a network of the same layer sizes built here
    sizes = [57, 32, 16, 1]
    net = torch.nn.Sequential(torch.nn.Linear(57, 32), torch.nn.ReLU(), torch.nn.Linear(32, 16), torch.nn.ReLU(),
                              torch.nn.Linear(16, 1))
    ref = MultiModelWrapper()
    ref.load_default_models()
    row = ref.predict(net, hls_configs=[{"board": "alveo-u200", "model": {"strategy": "latency",
                                                                        "precision": "ap_fixed<16, 8>",
                                                                        "reuse_factor": 1}}],
                      hls4ml_versions=["1.1.0"], vivado_versions=["2023.2"]).iloc[0]
    for k in ("lut", "ff", "dsp"):
        assert e[k] == pytest.approx(max(0.0, float(row[k.upper()])))
    assert e["cycles"] == round(float(row["CYCLES"]))
    # per layer: the totals shared out by the non-zero weights, which pruning reduced
    mults = {n: int(np.count_nonzero(w)) for n, (w, _) in student.quantized_weights().items()}
    assert {n: v["multiplications"] for n, v in e["layers"].items()} == mults
    assert sum(mults.values()) < sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    for k in ("lut", "ff", "dsp"):
        assert sum(v[k] for v in e["layers"].values()) == pytest.approx(e[k])


def test_latency_estimate_says_why_not(student, monkeypatch):
    import sys

    from adkit.firmware.estimate import latency_estimate

    e = latency_estimate(student, "xc7a35t", 6.25)
    assert e["method"] is None and "xcvu9p" in e["why"]
    monkeypatch.setitem(sys.modules, "rule4ml.models.wrappers", None)  # as if it were not installed
    e = latency_estimate(student, "xcvu13p-flga2577-2-e", 6.25)
    assert e["method"] is None and "pip install 'adkit[estimate]'" in e["why"]


def test_da_estimate_per_layer(student):
    pytest.importorskip("da4ml")
    from adkit.firmware import da

    whole = da.estimate(da.trace(student), 6.25)
    layers = da.layer_estimates(student, 6.25)
    assert list(layers) == student.layer_names()
    assert all(v["dsp"] == 0 and v["cycles"] >= 1 and v["lut"] > 0 for v in layers.values())
    # each layer alone costs about what it costs inside the whole network (da4ml shares little across layers)
    assert sum(v["lut"] for v in layers.values()) == pytest.approx(whole["lut"], rel=0.1)
    # a layer traced alone computes what that layer computes: the first layer's words for some inputs
    comb = da.trace(student, ["fc1"])
    t = student.types()
    rng = np.random.default_rng(0)
    Zq = t["input"]["result"].quantize(rng.normal(size=(200, 57)))
    w, b = student.quantized_weights()["fc1"]
    expect = t["fc1"]["result"].quantize(Zq @ w.T + b)  # before the ReLU, which the next layer applies
    got = np.asarray(comb.predict(Zq.astype(np.float32)), dtype=np.float64).reshape(len(Zq), -1)
    np.testing.assert_array_equal(got, expect)


def test_estimate_beside_synthesis():
    from adkit.firmware.estimate import side_by_side, synthesis_figures
    from adkit.firmware.report import estimate_lines

    # the shape of hls4ml's parsed C-synthesis report (hls4ml.report.parse_vivado_report)
    rep = {"report": {"CSynthesisReport": {"TargetClockPeriod": "6.25", "BestLatency": "4", "WorstLatency": "5",
                                           "BRAM_18K": "0", "DSP": "120", "FF": "9000", "LUT": "30000",
                                           "AvailableLUT": "1728000"}}}
    s = synthesis_figures(rep)
    assert s == {"lut": 30000.0, "ff": 9000.0, "dsp": 120.0, "bram": 0.0, "cycles": 5, "clock_ns": 6.25,
                 "source": "HLS C synthesis"}
    e = {"method": "m", "error": "e", "lut": 24000.0, "ff": 9000.0, "dsp": 240.0, "bram": 0.0, "cycles": 5,
         "clock_ns": 6.25}
    rows = side_by_side(e, s)
    assert "| LUT | 24,000 | 30,000 | 0.80 |" in rows and "| DSP | 240 | 120 | 2.00 |" in rows
    text = "\n".join(estimate_lines("hls4ml Latency strategy", e, None, s))
    assert "Estimate beside synthesis (HLS C synthesis, 6.25 ns clock)" in text
    assert synthesis_figures({"ran": True, "report": {}}) is None
