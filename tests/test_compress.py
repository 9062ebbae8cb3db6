"""Heterogeneous quantization of the student (``--quantization hgq``): HGQ's per-weight bit widths,
learned with PQuantML's PyTorch quantizer, and the bit-exact firmware of the result.

The references here are written from the HGQ paper (Sun et al., "HGQ: High Granularity
Quantization for Real-time Neural Networks on FPGAs"): a value with i integer and f fractional
bits (and a sign) is clipped to [−2^i, 2^i − 2^−f] and rounded half up onto the grid 2^−f; the
gradient of the rounded value with respect to f is ln 2 · (x − q(x)); the resource proxy is
EBOPs, Σ over multiplications of the weight's bits × the input's bits.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from conftest import run_cli

pytest.importorskip("pquant")

AXO = {"input": "ap_fixed<14,6,AP_RND,AP_SAT>", "weight": "ap_fixed<6,3,AP_RND,AP_SAT>",
       "bias": "ap_fixed<12,4,AP_RND,AP_SAT>", "activation": "ap_fixed<14,6,AP_RND,AP_SAT>",
       "output": "ap_fixed<16,8,AP_RND,AP_SAT>"}


def _data(n=6000, d=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    y = np.log1p((X[:, :4] ** 2).sum(1))
    return X, ((y - y.mean()) / y.std()).astype(np.float32)


def _hgq_reference(x, i, f):
    """HGQ's quantizer, from the paper: clip to the (i, f) range, then round half up onto 2^-f."""
    lo, hi = -(2.0 ** i), 2.0 ** i - 2.0 ** -f
    return np.floor(np.clip(x, lo, hi) * 2.0 ** f + 0.5) / 2.0 ** f


def test_weight_quantizer_and_its_bit_gradient_follow_the_hgq_paper():
    """The student's per-weight quantizer (PQuantML's) gives, weight by weight, the paper's rounding,
    and the gradient the paper prescribes for a weight's fractional bits: ln 2 × (w − q(w))."""
    import torch

    from adkit.detectors.student import QuantizedStudent

    st = QuantizedStudent(hidden=(5,), precision=AXO, quantization="hgq")
    m = st.build_module(7, 0)
    wq = m["wq_fc1"]
    rng = np.random.default_rng(3)
    with torch.no_grad():  # a different integer and fractional width for every weight
        wq._f.copy_(torch.from_numpy(rng.integers(0, 4, size=wq._f.shape).astype(np.float32)))
        wq._i.copy_(torch.from_numpy(rng.integers(-1, 3, size=wq._i.shape).astype(np.float32)))
    w = torch.from_numpy(rng.uniform(-0.9, 0.9, size=(5, 7)).astype(np.float32)).requires_grad_(True)
    q = wq(w, training=True)
    i, f = wq._i.detach().numpy(), wq._f.detach().numpy()
    ref = _hgq_reference(w.detach().double().numpy(), i, f)
    np.testing.assert_array_equal(q.detach().double().numpy(), ref)
    q.sum().backward()
    inside = (np.abs(w.detach().numpy()) < 2.0 ** i - 2.0 ** -f)  # not clipped: the rounding gradient alone
    np.testing.assert_allclose(wq._f.grad.numpy()[inside], (math.log(2) * (w.detach().double().numpy() - ref))[inside],
                               rtol=1e-5, atol=1e-6)


def test_ebops_at_initialisation_is_the_paper_formula_with_the_container_widths():
    """Before training every weight has its container's bits (ap_fixed<6,3>: 5 besides the sign) and every
    hidden result its container's (ap_fixed<14,6>: 13): EBOPs = Σ_layers n_in × n_out × 5 × input bits."""
    from adkit.detectors.student import QuantizedStudent

    st = QuantizedStudent(hidden=(6, 4), precision=AXO, quantization="hgq")
    m = st.build_module(9, 0)
    expected = 9 * 6 * 5 * 14 + 6 * 4 * 5 * 13 + 4 * 1 * 5 * 13
    assert float(st.ebops(m).detach()) == expected


def test_training_learns_narrower_bits_and_the_firmware_stays_bit_exact(tmp_path):
    """With a bit cost the learned widths fall below the containers, some weights reach zero bits
    (pruned), every weight stays on its container's grid; the model file round-trips to the same
    scores; da4ml's adder graph of the learned types reproduces the student on every event."""
    pytest.importorskip("da4ml")
    from adkit.detectors.student import QuantizedStudent
    from adkit.firmware import da
    from adkit.fixedpoint import FixedType

    X, y = _data()
    kw = {"hidden": (16, 8), "precision": AXO, "epochs": 6, "batch_size": 64, "lr": 1e-2, "seed": 1}
    uni = QuantizedStudent(**kw).fit(X, y)
    het = QuantizedStudent(**kw, quantization="hgq", bit_cost=1e-4).fit(X, y)  # Adam moves a width ~lr a step
    c = het.cost()
    assert c["ebops"] < 0.6 * (12 * 16 * 5 * 14 + 16 * 8 * 5 * 13 + 8 * 5 * 13)
    container = FixedType.parse(AXO["activation"])
    for n in ("fc1", "fc2"):
        t = het.types()[n]["result"]
        assert t.width < container.width and t.integer <= container.integer and t.quant == "AP_RND"
    w_type = FixedType.parse(AXO["weight"])
    for w, _ in het.quantized_weights().values():
        np.testing.assert_array_equal(w_type.quantize(w), w)
    assert c["multiplications"] < uni.cost()["multiplications"]
    assert np.corrcoef(het.decision_function(X), y)[0, 1] > 0.8
    state, arrays = het.state()
    back = QuantizedStudent.from_state(json.loads(json.dumps(state)), arrays)
    np.testing.assert_array_equal(back.decision_function(X), het.decision_function(X))
    from adkit.errors import ModelFileError

    bad = {k: v.copy() for k, v in arrays.items()}
    bad["rq_fc1._f"][...] = 40.0  # a result type wider than its container: a damaged file
    with pytest.raises(ModelFileError, match="container"):
        QuantizedStudent.from_state(json.loads(json.dumps(state)), bad)
    comb = da.trace(het)
    np.testing.assert_array_equal(da.predict(comb, het, X), het.decision_function(X))


def test_distill_with_hgq_on_the_command_line(tmp_path, adc_file):
    """`adkit distill --strategy da --quantization hgq`: the adder graph and the Verilog reproduce the
    student; a bad --bit-cost and hgq with a BDT student are refused in one line, nothing written."""
    pytest.importorskip("da4ml")
    assert run_cli("train", "--detector", "ae", "--epochs", "1", "--data", str(adc_file), cwd=tmp_path).exit_code == 0
    r = run_cli("distill", "--strategy", "da", "--quantization", "hgq", "--bit-cost", "1e-5", "--hidden", "8",
                "--epochs", "3", "--target", "cpu", "--data", str(adc_file), "--background", str(adc_file),
                "--json", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["report"]["da"]["events_differing"] == 0
    assert out["report"]["cost"]["student"]["ebops"] > 0
    for args in (("--bit-cost", "2"), ("--student", "bdt", "--quantization", "hgq")):
        r = run_cli("distill", *args, "--data", str(adc_file), "-o", "bad.adkit", cwd=tmp_path)
        assert r.exit_code == 2 and "Traceback" not in r.stderr, r.output
        assert not (tmp_path / "bad.adkit").exists()
