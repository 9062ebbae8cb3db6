"""What is specific to each detector of the zoo (the shared contract is in test_conformance.py)."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import run_cli

from adkit.detectors import create
from adkit.errors import ConfigError
from adkit.features.artificial import artificial_anomalies


def _standardised(n=3000, seed=0):
    from adkit.datasets import background
    from adkit.features.preprocess import Standardizer

    X = background(n, seed)[0][:, :, :3].reshape(n, -1)
    return Standardizer().fit(X).transform(X)


def _trigger_rates(n: int, seed: int, fault: bool = False) -> np.ndarray:
    """Trigger-monitoring table: rates of 6 paths proportional to luminosity (+ pile-up term)."""
    rng = np.random.default_rng(seed)
    lumi = rng.uniform(0.5, 2.0, n)  # 1e34 cm^-2 s^-1
    pileup = 30 * lumi + rng.normal(0, 2, n)
    slopes = np.array([10.0, 4.0, 25.0, 1.5, 7.0, 3.0])
    rates = lumi[:, None] * slopes + 0.01 * pileup[:, None] ** 2 * (slopes / 10)
    rates = rng.poisson(rates * 20) / 20.0  # counting noise
    if fault:
        rates *= 0.6  # dead time: every path loses 40 %, which looks like a lower luminosity
    return np.column_stack([lumi, pileup, rates]).astype(np.float32)


def _write_table(path, data):
    import h5py

    with h5py.File(path, "w") as h5:
        ds = h5.create_dataset("rates", data=data)
        ds.attrs["columns"] = ["lumi", "pileup"] + [f"path{i}" for i in range(data.shape[1] - 2)]


def test_cvae_default_command_conditions_on_multiplicities(tmp_path, adc_file):
    from adkit.artifact import Model
    from adkit.datasets import generate, write_particles_h5
    from adkit.io.writers import read_scores

    r = run_cli("train", "--detector", "cvae", "--epochs", "1", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    assert "n_electrons,n_muons,n_jets" in r.stderr and "--conditions" in r.stderr
    model = Model.load(tmp_path / "model.adkit")
    assert model.spec.condition_names == ["n_electrons", "n_muons", "n_jets"]
    r = run_cli("score", str(adc_file), "-o", "s.h5", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    scores = read_scores(tmp_path / "s.h5")
    np.testing.assert_allclose(scores["score"], scores["score_reco"] + scores["score_kl"], rtol=1e-5)
    sig = tmp_path / "Ato4l.h5"
    write_particles_h5(sig, generate("Ato4l", 1000, 3))
    r = run_cli("evaluate", "--background", str(adc_file), f"--signal=Ato4l={sig}", cwd=tmp_path)
    assert r.exit_code == 0 and "A→4ℓ" in r.stdout
    r = run_cli("train", "--detector", "ae", "--conditions", "n_jets", "-o", "x.adkit", cwd=tmp_path)
    assert r.exit_code == 2 and "does not use conditions" in r.stderr and "cvae" in r.stderr


def test_cvae_on_a_table_with_named_condition_columns(tmp_path):
    """Pol et al.'s use: path rates conditioned on luminosity; a rate wrong for its luminosity stands out."""
    from adkit.io import load_arrays
    from adkit.workflows import train

    good, bad = tmp_path / "good.h5", tmp_path / "bad.h5"
    _write_table(good, _trigger_rates(20000, 0))
    _write_table(bad, np.concatenate([_trigger_rates(2000, 1), _trigger_rates(2000, 2, fault=True)]))
    with pytest.raises(ConfigError, match="needs --conditions"):
        train("cvae", [good], epochs=1)
    with pytest.raises(ConfigError, match="'lumy' is not in the table"):
        train("cvae", [good], conditions="lumy", epochs=1)
    model = train("cvae", [good], conditions="lumi,pileup", epochs=15, params={"latent_dim": 2})
    assert model.spec.columns == [f"path{i}" for i in range(6)] and model.spec.condition_names == ["lumi", "pileup"]
    X, C, _ = load_arrays([bad], model.spec)
    assert C.shape == (4000, 2)
    s = model.decision_function(X, C)
    from adkit.metrics import roc_auc

    auc = roc_auc(s[:2000], s[2000:])
    # without the luminosity the faulty rates look like a quieter fill: the condition is what finds them
    plain = train("vae", [good], features=model.spec.columns, epochs=15, params={"latent_dim": 2, "score": "total"})
    auc_plain = roc_auc(plain.decision_function(X[:2000]), plain.decision_function(X[2000:]))
    assert auc > 0.95 and auc_plain < auc - 0.1, (auc, auc_plain)


def test_alad_components_and_bit_identical_resume(tmp_path):
    X = _standardised(2000)
    kw = dict(epochs=4, batch_size=256, patience=100)
    full = create("alad", **kw).fit(X)
    ckpt = tmp_path / "alad.ckpt"
    with pytest.raises(KeyboardInterrupt):
        create("alad", **kw).fit(X, checkpoint=ckpt, stop_after_epochs=2)
    resumed = create("alad", **kw).fit(X, checkpoint=ckpt, resume=True)
    ta, tb = full.state()[1], resumed.state()[1]
    assert all(np.array_equal(ta[k], tb[k]) for k in ta)  # both optimizers restored
    comps = full.score_components(X[:100])
    assert set(comps) == {"score", "fm", "l1", "l2", "logits"} and np.array_equal(comps["score"], comps["fm"])
    assert (comps["l1"] >= 0).all() and (comps["logits"] >= 0).all()
    import torch

    sn = [n for n, _ in full.module_.named_parameters() if "parametrizations" in n]
    assert {n.split(".")[0] for n in sn} == {"d_xz", "d_xx", "d_zz"}  # spectral norm on all three
    with torch.no_grad():
        w = full.module_["d_xx"].head.weight
    assert torch.linalg.matrix_norm(w, ord=2) < 1.01


@pytest.mark.parametrize("name", ["svc", "ocsvm"])
def test_kernel_expansion_reproduces_sklearn(name):
    """The stored expansion Σ a_i k(x, s_i) + b is scikit-learn's decision function."""
    from sklearn.svm import SVC, OneClassSVM

    X = _standardised(2000)
    det = create(name, n_train=800, seed=3).fit(X)
    if name == "svc":
        Xt, yt = det.training_set(X)
        ref = SVC(kernel="rbf", gamma=det.gamma_).fit(Xt, yt).decision_function(X)
    else:
        from adkit.detectors.kernel_base import subsample

        ref = -OneClassSVM(nu=det.nu, gamma=det.gamma_).fit(subsample(X, 800, 3)).decision_function(X)
    np.testing.assert_allclose(det.decision_function(X), ref, rtol=1e-7, atol=1e-9)
    assert len(det.support_) <= (1600 if name == "svc" else 800)  # the stated subsample bounds the model


def test_artificial_anomalies():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=500), rng.exponential(size=500)])
    X[:, 1] += X[:, 0]  # correlated
    for method in ("mix", "uniform", "shuffle", "smear"):
        a = artificial_anomalies(X, 300, method, seed=1)
        assert a.shape == (300, 2)
        np.testing.assert_array_equal(a, artificial_anomalies(X, 300, method, seed=1))
        assert not np.array_equal(a, artificial_anomalies(X, 300, method, seed=2))
    uni = artificial_anomalies(X, 2000, "uniform", margin=0.0)
    assert (uni >= X.min(0)).all() and (uni <= X.max(0)).all()
    shuf = artificial_anomalies(X, 2000, "shuffle")
    assert all(np.isin(shuf[:, j], X[:, j]).all() for j in range(2))  # marginals kept
    assert abs(np.corrcoef(shuf.T)[0, 1]) < 0.1 < np.corrcoef(X.T)[0, 1]  # correlation destroyed
    smear = artificial_anomalies(X, 2000, "smear", smear=0.5)
    np.testing.assert_allclose(smear.std(0), X.std(0) * np.sqrt(1.25), rtol=0.1)
    with pytest.raises(ConfigError, match="valid: mix"):
        artificial_anomalies(X, 10, "gaussian")
