"""Generative-model metrics (FPD, KPD, W1; Kansal et al.): the formulas, jetnet on the same inputs,
and ``adkit compare``."""
from __future__ import annotations

import json
import sys
import types

import numpy as np
import pytest
from click.testing import CliRunner

from adkit.cli import main
from adkit.stats import gen_metrics as gm


def _jetnet():
    """jetnet 0.2.5's gen_metrics. jetnet pins numpy < 2 through energyflow, which adkit's quantum stack
    cannot take, so CI installs it without its dependencies (.ci/run); the modules its other parts
    import at load time (coffea's vector behaviour, energyflow) are stubbed when absent: FPD and KPD
    use none of them."""
    import importlib.util

    if importlib.util.find_spec("jetnet") is None:
        pytest.skip("jetnet is not installed (CI installs jetnet==0.2.5 --no-deps)")
    missing = {top for top in ("energyflow", "coffea") if top not in sys.modules and importlib.util.find_spec(top) is None}
    for name, attrs in (("energyflow", {"EFPSet": object}), ("energyflow.emd", {"emds": None}), ("coffea", {}),
                        ("coffea.nanoevents", {}), ("coffea.nanoevents.methods", {}),
                        ("coffea.nanoevents.methods.vector", {"behavior": {}})):
        if name.split(".")[0] in missing:
            mod = types.ModuleType(name)
            mod.__dict__.update(attrs)
            sys.modules.setdefault(name, mod)
    from jetnet.evaluation import gen_metrics

    return gen_metrics


def test_frechet_distance_of_gaussians_is_the_formula():
    # N(0, I) against N(δ, s² I) in d dimensions: d δ² + d (1 − s)²
    d, delta, s = 3, 0.2, 1.5
    assert gm.frechet_distance(np.zeros(d), np.eye(d), np.full(d, delta), s * s * np.eye(d)) == \
        pytest.approx(d * delta ** 2 + d * (1 - s) ** 2, rel=1e-12)
    # non-commuting covariances: Tr (Σ₁Σ₂)^½ from scipy's matrix square root
    from scipy import linalg

    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(4, 4)), rng.normal(size=(4, 4))
    c1, c2 = A @ A.T + np.eye(4), B @ B.T + np.eye(4)
    ref = np.trace(c1) + np.trace(c2) - 2 * np.trace(linalg.sqrtm(c1 @ c2)).real
    assert gm.frechet_distance(np.zeros(4), c1, np.zeros(4), c2) == pytest.approx(ref, rel=1e-9)


def test_unbiased_mmd_is_the_pair_average():
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(30, 3)), rng.normal(0.3, 1, size=(25, 3))

    def k(a, b):
        return (a @ b / 3 + 1) ** 4

    xx = np.mean([k(X[i], X[j]) for i in range(30) for j in range(30) if i != j])
    yy = np.mean([k(Y[i], Y[j]) for i in range(25) for j in range(25) if i != j])
    xy = np.mean([k(x, y) for x in X for y in Y])
    assert gm.mmd2_poly(X, Y) == pytest.approx(xx + yy - 2 * xy, rel=1e-10)


def test_fpd_extrapolates_to_the_true_distance():
    rng = np.random.default_rng(2)
    X, Y = rng.normal(size=(60_000, 3)), rng.normal(0.05, 1.1, size=(60_000, 3))
    R, S, m = gm.scale(X, Y)
    true = float(np.sum((0.05 / m) ** 2 + ((1 - 1.1) / m) ** 2))
    f = gm.fpd(R, S, batches=8)
    assert abs(f["value"] - true) < 4 * f["error"] + 0.1 * true, (f, true)


def test_same_inputs_as_jetnet():
    jg = _jetnet()
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(20_000, 4)), rng.normal(size=(20_000, 4)) * 1.05 + 0.02
    c1, c2 = np.cov(X, rowvar=False), np.cov(Y, rowvar=False)
    assert gm.frechet_distance(X.mean(0), c1, Y.mean(0), c2) == \
        pytest.approx(jg._calculate_frechet_distance(X.mean(0), c1, Y.mean(0), c2), rel=1e-9)
    assert gm.mmd2_poly(X[:400], Y[:400]) == pytest.approx(jg._mmd_poly_quadratic_unbiased(X[:400], Y[:400]),
                                                           rel=1e-9)
    # the estimators, each with its own random batches (both at 5,000-20,000 events for FPD and 2,000 for
    # KPD, smaller than the paper's to keep the test short): equal within their errors
    R, S, _ = gm.scale(X, Y)
    fpd, kpd = gm.fpd(R, S, sizes=(5000, 20_000)), gm.kpd(R, S, size=2000)
    with pytest.warns(RuntimeWarning, match="50,000"):
        f_val, f_err = jg.fpd(X, Y, min_samples=5000, max_samples=20_000)
    k_val, k_err = jg.kpd(X, Y, batch_size=2000)
    assert abs(fpd["value"] - f_val) < 3 * np.hypot(fpd["error"], f_err), (fpd, f_val, f_err)
    assert abs(kpd["value"] - k_val) < 3 * np.hypot(kpd["error"], k_err), (kpd, k_val, k_err)


def test_adkit_compare_command(tmp_path, monkeypatch):
    from adkit.datasets import background, generate, write_particles_h5

    monkeypatch.chdir(tmp_path)
    write_particles_h5("ref.h5", background(4000, seed=1)[0])
    write_particles_h5("same.h5", background(4000, seed=2)[0])
    write_particles_h5("sig.h5", generate("Ato4l", 4000, 3))
    r = CliRunner().invoke(main, ["compare", "ref.h5", "same.h5", "--json", "-o", "a"])
    assert r.exit_code == 0, r.output
    same = json.loads(r.stdout.strip().splitlines()[-1])
    r = CliRunner().invoke(main, ["compare", "ref.h5", "sig.h5", "-o", "b", "--features", "met,n_leptons"])
    assert r.exit_code == 0, r.output
    assert "FPD = " in r.stdout and "| n_leptons |" in r.stdout
    other = json.loads((tmp_path / "b" / "compare.json").read_text())
    assert {"w1_met.png", "w1_n_leptons.png"} <= {p.name for p in (tmp_path / "b").iterdir()}
    # the background against itself is close, against A → 4ℓ far
    assert same["fpd"]["value"] < 0.1 * other["fpd"]["value"] and same["kpd"]["value"] < other["kpd"]["value"]
    assert any("FPD batches" in n for n in same["notes"])  # 4,000 events: smaller batches, said
    r = CliRunner().invoke(main, ["compare", "ref.h5", "missing.h5"])
    assert r.exit_code == 2 and "missing.h5" in r.stderr and "Traceback" not in r.output
    r = CliRunner().invoke(main, ["compare", "ref.h5", "sig.h5", "-o", "b"])
    assert r.exit_code == 2 and "exists" in r.stderr
