"""Recurrent models to firmware: the quantized GRU/LSTM student of a series teacher, its hls4ml
project and the C simulation checked bit for bit against it."""
from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import SHARED_DATA, run_cli

from adkit.detectors.sequence_student import SequenceStudent

SENSOR = SHARED_DATA / "sensor"


def _windows(n: int = 1500, steps: int = 16, channels: int = 2, seed: int = 0):
    """Noisy sines on ``channels`` channels and a target that grows with the window's power."""
    rng = np.random.default_rng(seed)
    k = np.arange(steps)[None, :, None]
    X = np.sin(0.4 * k + rng.uniform(0, 6, (n, 1, channels))) * rng.uniform(0.3, 2.5, (n, 1, channels))
    X = (X + 0.1 * rng.normal(size=X.shape)).reshape(n, -1).astype(np.float32)
    y = np.log((X ** 2).mean(1))
    return X, ((y - y.mean()) / y.std()).astype(np.float32)


@pytest.fixture(scope="module", params=["gru", "lstm"])
def fitted(request):
    X, y = _windows()
    return SequenceStudent(n_channels=2, cell=request.param, epochs=20, seed=0).fit(X, y), X, y


def _reference_cell(cell: str, W: dict, seq: np.ndarray) -> np.ndarray:
    """The last state of PyTorch's GRU/LSTM equations (torch.nn docs), written out in NumPy."""
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    H = W["weight_hh"].shape[1]
    h, c = np.zeros((len(seq), H)), np.zeros((len(seq), H))
    for x in seq.transpose(1, 0, 2):
        gi, gh = x @ W["weight_ih"].T + W["bias_ih"], h @ W["weight_hh"].T + W["bias_hh"]
        if cell == "gru":  # r, z, n
            r, z = sig(gi[:, :H] + gh[:, :H]), sig(gi[:, H:2 * H] + gh[:, H:2 * H])
            n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
            h = (1 - z) * n + z * h
        else:  # i, f, g, o
            g = gi + gh
            c = sig(g[:, H:2 * H]) * c + sig(g[:, :H]) * np.tanh(g[:, 2 * H:3 * H])
            h = sig(g[:, 3 * H:]) * np.tanh(c)
    return h


def test_student_learns_and_its_float_network_is_pytorchs_cell(fitted):
    st, X, y = fitted
    assert np.corrcoef(st.decision_function(X), y)[0, 1] > 0.6
    W = st.rnn_weights()
    types = st.types()
    # the stored weights are the firmware's: on their grids
    for k, v in W.items():
        np.testing.assert_array_equal(v, types["rnn"]["weight" if k.startswith("weight") else "bias"].quantize(v))
    # float_score is the GRU/LSTM of the equations with those weights, then the dense layers
    Z = X[:50].astype(np.float64).reshape(50, 16, 2)  # float: inputs not rounded either
    h = _reference_cell(st.cell, W, Z)
    for n, (w, b) in st.quantized_weights().items():
        h = h @ w.T + b
        h = np.maximum(h, 0) if n != "out" else h
    np.testing.assert_allclose(st.float_score(X[:50]), h[:, 0], atol=1e-5)
    # the firmware arithmetic (lookup tables, fixed-point state and, for the LSTM, gate sums) stays close to it
    assert np.corrcoef(st.decision_function(X), st.float_score(X))[0, 1] > 0.99


def test_lookup_tables_are_hls4mls():
    from adkit.detectors.sequence_student import lut

    # hls4ml's sigmoid table: 1024 entries over [-8, 8), index trunc(x * 64) + 512, entry truncated to 10 bits
    x = np.array([-9.0, -8.0, -0.01, 0.0, 0.01, 0.5, 7.99, 20.0])
    idx = np.clip(np.trunc(x * 1024 / 16) + 512, 0, 1023)
    edge = 16 * (idx - 512) / 1024
    np.testing.assert_array_equal(lut("sigmoid", x), np.floor(1 / (1 + np.exp(-edge)) * 1024) / 1024)
    # tanh: over [-4, 4); 0.3 → index trunc(38.4) + 512 = 550, whose left edge is 8 * 38 / 1024
    assert lut("tanh", np.array([0.3]))[0] == np.floor(np.tanh(8 * 38 / 1024) * 1024) / 1024


def test_c_simulation_equals_the_quantized_student_bit_for_bit(fitted, tmp_path):
    from adkit.firmware.hls import csim_scores, write_project

    st, X, _ = fitted
    hls_model = write_project(st, tmp_path / "hls")
    X2, _ = _windows(400, seed=9)  # windows the student never saw
    np.testing.assert_array_equal(csim_scores(hls_model, X2), st.decision_function(X2))
    assert "GRU" in (tmp_path / "hls" / "hls4ml.log").read_text() or "LSTM" in (tmp_path / "hls" / "hls4ml.log").read_text()


def test_bursts_add_a_transient_to_some_channels():
    from adkit.features.artificial import bursts

    X, _ = _windows(200)
    B = bursts(X, 300, 2, seed=1)
    assert B.shape == (300, X.shape[1])
    again = bursts(X, 300, 2, seed=1)
    np.testing.assert_array_equal(B, again)
    # each burst window is a background window plus a localized wave: its excess power is not zero
    excess = np.array([min(((b - x) ** 2).sum() for x in X[:200]) for b in B[:20]])
    assert (excess > 0).all()


def test_distill_a_series_teacher_to_firmware(tmp_path):
    from adkit.artifact import Model

    train = str(SENSOR / "ecg-diff-count-3_TRAIN_NA.csv")
    test = str(SENSOR / "ecg-diff-count-3_TEST.csv")
    r = run_cli("train", "--detector", "gru-ae", "--data", train, "--window", "32", "--stride", "8", "--epochs", "2",
                "-o", "gru.adkit", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    r = run_cli("distill", "--teacher", "gru.adkit", "--data", train, "--background", test, "--epochs", "3",
                "--fprs", "0.05,0.002", "--json", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    rep = json.loads((tmp_path / "hls" / "report.json").read_text())
    assert rep["firmware"]["events_differing"] == 0 and rep["events"]["anomaly"] > 0
    assert set(rep["metrics"]) == {"teacher", "student_float", "student", "firmware"}
    # fewer than 10 of the ~1,000 background windows pass 0.2 %: no threshold stored there, and that is said
    assert [t["name"] for t in out["thresholds"]] == ["fpr0.05"] and "no threshold stored at fpr0.002" in r.stderr
    assert "0 of" in r.stderr and "held-out windows differ" in r.stderr
    assert "rule4ml predicts dense networks" in r.stderr
    st = Model.load(tmp_path / "student.adkit")
    assert st.detector.name == "sequence-student" and st.detector.cell == "gru"
    assert out["distill"]["augment"]["method"] == "bursts" and out["distill"]["augment"]["events"] > 0
    # the student is a series model like any other
    r = run_cli("score", test, "--model", "student.adkit", "-o", "s.h5", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    # what a series teacher cannot take: one line, exit 2, nothing written
    for extra in (["--strategy", "da"], ["--target", "cpu"], ["--signal", f"x={test}"]):
        r = run_cli("distill", "--teacher", "gru.adkit", "--data", train, "--background", test, "--overwrite",
                    *extra, cwd=tmp_path)
        assert r.exit_code == 2 and "Traceback" not in r.output and len(r.stderr.strip().splitlines()) == 1, r.output
