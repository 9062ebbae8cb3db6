"""NPLM: the kernel fit, the test statistic, calibration on the 1D exponential toy, the command."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from adkit.cli import main
from adkit.detectors.nplm import KernelNPLM, gaussian_kernel
from adkit.stats.nplm import calibrate, chi2_fit, fit_t, nplm_test, t_statistic

N_REF, N0 = 20_000, 500


def exponential_toy(seed: int, n_signal: int = 0):
    """The NPLM papers' 1D toy: exponential reference, signal a narrow Gaussian bump."""
    rng = np.random.default_rng(seed)
    ref = rng.exponential(1.0, (N_REF, 1))
    data = rng.exponential(1.0, (rng.poisson(N0), 1))
    if n_signal:
        data = np.concatenate([data, rng.normal(4.0, 0.2, (n_signal, 1))])
    return ref, data


def test_kernel_learns_the_log_density_ratio():
    """Data exponential with rate 0.8 vs reference rate 1: f(x) = log(N_D p_D / N0 p_R) = log 0.8 + 0.2 x."""
    rng = np.random.default_rng(0)
    ref = rng.exponential(1.0, (40_000, 1))
    data = rng.exponential(1 / 0.8, (4_000, 1))
    det, t = fit_t(ref, data, 4_000)
    x = np.linspace(0.2, 3.0, 15)[:, None]
    truth = np.log(0.8) + 0.2 * x[:, 0]
    assert np.max(np.abs(det.decision_function(x) - truth)) < 0.08, det.decision_function(x) - truth
    f = det.decision_function(np.concatenate([ref, data]))
    assert t == pytest.approx(t_statistic(f[:len(ref)], f[len(ref):], 4_000))
    assert t > 20  # a 20 % slope on 4k events is a clear difference
    assert det.info_["converged"]


def test_blockwise_kernel_equals_cached(monkeypatch):
    ref, data = exponential_toy(1)
    X = np.concatenate([ref, data])
    y = np.r_[np.zeros(len(ref)), np.ones(len(data))]
    cached = KernelNPLM(n_expected=N0, memory_mb=1e4).fit(X, y=y)
    streamed = KernelNPLM(n_expected=N0, memory_mb=0).fit(X, y=y)
    assert cached.info_["kernel_cached"] and not streamed.info_["kernel_cached"]
    np.testing.assert_allclose(streamed.decision_function(X), cached.decision_function(X), atol=1e-9)
    K = gaussian_kernel(X[:5], X[5:9], 0.7)
    d2 = ((X[:5, None, :] - X[None, 5:9, :]) ** 2).sum(-1)
    np.testing.assert_allclose(K, np.exp(-d2 / (2 * 0.49)), rtol=1e-12)


def test_null_is_chi_square_and_signal_is_seen():
    """≥ 100 null toys: the chi-square fit passes KS; injected signal sits far in the tail."""
    ref, _ = exponential_toy(2)
    params = {"sigma": 0.3, "n_centres": 150}
    null = calibrate(ref, N0, 100, params=params, seed=3)
    fit = chi2_fit(null)
    assert fit["ks_p_value"] > 0.01, fit
    assert 1 < fit["dof"] < 30
    rng = np.random.default_rng(9)
    signal = rng.normal(4.0, 0.2, (1000, 1))
    with_signal = calibrate(ref, N0, 10, params=params, seed=4, signal=signal, n_signal=25)
    assert np.median(with_signal) > np.quantile(null, 0.99), (np.median(with_signal), np.quantile(null, 0.99))


def test_toys_reproducible_resumable_and_parallel(tmp_path):
    from adkit.executors import Executor

    ref, _ = exponential_toy(5)
    params = {"sigma": 0.3, "n_centres": 100}
    store = tmp_path / "toys.jsonl"
    full = calibrate(ref, N0, 6, params=params, seed=1)
    first = calibrate(ref, N0, 3, params=params, seed=1, store=store)
    np.testing.assert_array_equal(first, full[:3])
    with open(store, "a") as fh:  # a run killed while writing leaves a torn line
        fh.write('{"key": "')
    calls = []
    resumed = calibrate(ref, N0, 6, params=params, seed=1, store=store, on_toy=lambda d, n: calls.append(d))
    np.testing.assert_array_equal(resumed, full)
    assert calls[0] == 3  # three toys were taken from the store
    with Executor("local", workers=2) as ex:  # single-threaded BLAS in the workers: last bits may differ
        np.testing.assert_allclose(calibrate(ref, N0, 6, params=params, seed=1, executor=ex), full, rtol=1e-5)
    other = calibrate(ref, N0, 3, params=params, seed=2, store=store)
    assert not np.array_equal(other, full[:3])


def test_nn_model_sees_the_signal_the_kernel_sees():
    ref, data = exponential_toy(6, n_signal=40)
    ref0, null_data = exponential_toy(7)
    params_nn = {"epochs": 1500, "lr": 0.05, "hidden": (4,), "weight_clip": 9.0}
    _, t_sig = fit_t(ref, data, N0, "nn", params_nn)
    _, t_null = fit_t(ref0, null_data, N0, "nn", params_nn)
    _, tk_sig = fit_t(ref, data, N0, "kernel", {"sigma": 0.3})
    assert t_sig > t_null + 20 and tk_sig > 20, (t_sig, t_null, tk_sig)


def test_result_and_empirical_p_value():
    ref, data = exponential_toy(8, n_signal=30)
    result, det, null = nplm_test(ref, data, n_expected=N0, n_toys=20, params={"sigma": 0.3})
    assert len(null) == 20 and result["toys_above"] == int(np.sum(null >= result["t"]))
    assert result["p_value_empirical"] == pytest.approx((result["toys_above"] + 1) / 21)
    assert result["p_value_resolution"] == pytest.approx(1 / 21) and result["n_data"] == len(data)
    assert result["p_value_empirical_bound"] == (result["toys_above"] == 0)
    lo, hi = result["p_value_empirical_interval"]
    assert lo <= result["toys_above"] / 20 <= hi
    # 20 toys are too few for a chi-square fit (MIN_TOYS_FIT): no fitted p-value is claimed
    from adkit.stats.nplm import MIN_TOYS_FIT, p_values

    assert MIN_TOYS_FIT > 20 and result["p_value"] is None and result["Z"] is None and result["dof"] is None
    # with a fit, a p-value below the toys' resolution is marked as an extrapolation
    fitted = p_values(result["t"], null, chi2_fit(null)["dof"])
    assert fitted["Z"] > 2 and fitted["p_value_extrapolated"] == (fitted["p_value"] < 1 / 21)


def test_fit_needs_labels():
    from adkit.errors import ConfigError

    with pytest.raises(ConfigError, match="1 for data"):
        KernelNPLM().fit(np.zeros((10, 1)))
    with pytest.raises(ConfigError, match="both"):
        KernelNPLM().fit(np.zeros((10, 1)), y=np.ones(10))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    from adkit.datasets import write_dataset

    d = tmp_path_factory.mktemp("nplm")
    write_dataset(d, 6000, 600, 1, ("h5",))
    return d


def test_nplm_command_json_plots_and_model(files, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(main, ["nplm", "--reference", str(files / "background.h5"), "--data",
                                  str(files / "Ato4l.h5"), "--toys", "8", "--n-expected", "600", "--json",
                                  "--save-model", "f.adkit", "-o", "out"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert {"t", "p_value", "Z", "dof", "n_reference", "n_data", "p_value_resolution"} <= set(res)
    assert res["p_value"] is None and res["p_value_resolution"] == pytest.approx(1 / 9)  # 8 toys: no fit
    assert res["n_reference"] == 6000 and res["n_data"] == 600 and res["t"] > 100
    saved = json.loads((tmp_path / "out" / "nplm.json").read_text())
    assert saved["t"] == res["t"] and len(saved["null_t"]) == 8
    assert {"null.png", "f_met.png", "f_n_leptons.png"} <= {p.name for p in (tmp_path / "out").iterdir()}
    # the learned f is an ordinary adkit model: a per-event score, higher for the signal
    r = CliRunner().invoke(main, ["score", "--model", "f.adkit", str(files / "Ato4l.h5"), "-o", "sig.h5"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["score", "--model", "f.adkit", str(files / "background.h5"), "-o", "bkg.h5"])
    from adkit.io.writers import read_scores

    assert np.median(read_scores("sig.h5")["score"]) > np.quantile(read_scores("bkg.h5")["score"], 0.9)
    # a second run without --overwrite refuses; with it, the toys are taken from toys.jsonl
    r = CliRunner().invoke(main, ["nplm", "--reference", str(files / "background.h5"), "--data",
                                  str(files / "Ato4l.h5"), "--toys", "8", "-o", "out"])
    assert r.exit_code == 2 and "already exists" in r.stderr


def test_nplm_command_bad_input(files, tmp_path):
    r = CliRunner().invoke(main, ["nplm", "--reference", str(tmp_path / "missing.h5"), "--data",
                                  str(files / "Ato4l.h5"), "-o", str(tmp_path / "o")])
    assert r.exit_code == 2 and "missing.h5" in r.stderr and "Traceback" not in r.output
    r = CliRunner().invoke(main, ["nplm", "--reference", str(files / "background.h5"), "--data",
                                  str(files / "Ato4l.h5"), "--features", "met,bogus", "-o", str(tmp_path / "o")])
    assert r.exit_code == 2 and "bogus" in r.stderr


def _reference_profiled_loglik(nu, ref_lin, ref_quad, dat_lin, dat_quad, f_ref, f_dat, n0, A):
    """The paper's ℓ(ν, f), written out with loops: extended likelihood of R_ν·e^f relative to R_0,
    plus the Gaussian auxiliary term relative to ν = 0."""
    total = 0.0
    for i in range(len(f_ref)):
        g = sum(nu[a] * ref_lin[i, a] + nu[a] ** 2 * ref_quad[i, a] for a in range(len(nu)))
        total -= n0 / len(f_ref) * (np.exp(g + f_ref[i]) - 1.0)
    for i in range(len(f_dat)):
        total += sum(nu[a] * dat_lin[i, a] + nu[a] ** 2 * dat_quad[i, a] for a in range(len(nu))) + f_dat[i]
    return total - 0.5 * sum((nu[a] - A[a]) ** 2 for a in range(len(nu))) + 0.5 * sum(a * a for a in A)


def test_profiled_likelihood_and_its_gradient():
    from scipy.optimize import approx_fprime

    from adkit.stats.nuisance import loglik

    rng = np.random.default_rng(3)
    Lr, Qr, Ld, Qd = (rng.normal(0, 0.1, (n, 2)) for n in (300, 300, 40, 40))
    fr, fd = rng.normal(0, 0.2, 300), rng.normal(0, 0.2, 40)
    nu, A = np.array([0.4, -0.7]), np.array([0.2, 0.1])
    value, grad = loglik(nu, (Lr, Qr, fr), (Ld, Qd, fd), 45.0, A)
    assert value == pytest.approx(_reference_profiled_loglik(nu, Lr, Qr, Ld, Qd, fr, fd, 45.0, A), rel=1e-10)
    numeric = approx_fprime(nu, lambda v: loglik(v, (Lr, Qr, fr), (Ld, Qd, fd), 45.0, A)[0], 1e-7)
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-4)


def test_nuisances_absorb_mismodelling_but_not_a_signal():
    """The 1D toy with the truth known (N(0) = 2000): data 15 % above the reference normalisation
    (σ_norm = 10 %), or with the shape of the +1σ reference sample (exponential scale 1.1), is
    rejected by the plain test and compatible with the null once the normalisation and shape
    nuisances are profiled; a narrow signal (60 events at x = 2.5) is still seen."""
    from adkit.stats.nuisance import Nuisance

    n0, params, toys = 2000, {"n_centres": 120, "sigma": 0.5}, 24
    rng = np.random.default_rng(11)
    ref = rng.exponential(1.0, (N_REF, 1))
    shifted = {"scale": (rng.exponential(1.1, (N_REF, 1)), rng.exponential(0.9, (N_REF, 1)))}
    nuis = [Nuisance("norm", sigma=0.1), Nuisance("scale", up=["up"], down=["down"])]
    r = np.random.default_rng(101)
    cases = {"norm": r.exponential(1.0, (r.poisson(1.15 * n0), 1)),
             "scale": r.exponential(1.1, (r.poisson(n0), 1)),
             "signal": np.concatenate([r.exponential(1.0, (r.poisson(n0), 1)), r.normal(2.5, 0.1, (60, 1))])}
    plain_null = calibrate(ref, n0, toys, params=params)
    null = None
    for name, data in cases.items():
        plain, _, _ = nplm_test(ref, data, n_expected=n0, params=params)
        prof, _, toy_t = nplm_test(ref, data, n_expected=n0, params=params, n_toys=toys if null is None else 0,
                                   nuisances=nuis, shifted=shifted)
        null = toy_t if null is None else null  # the profiled null is the same for every data set
        assert plain["t"] > plain_null.max(), (name, plain["t"], plain_null.max())  # the plain test rejects
        if name == "signal":
            assert prof["t"] > null.max(), (prof["t"], null.max())  # still found with the nuisances profiled
        else:
            assert prof["t"] < np.median(null), (name, prof["t"], np.median(null))  # compatible with the null
            assert prof["delta"] > 10 and prof["nu_hat_delta"][name] > 0.7  # the nuisance took the mis-modelling


def test_nplm_command_with_nuisances(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(5)

    def table(name, x):  # an HDF5 table: one (N, 1) dataset
        import h5py

        with h5py.File(tmp_path / name, "w") as f:
            f.create_dataset("x", data=x.reshape(-1, 1))
        return name

    ref = table("ref.h5", rng.exponential(1.0, 8000))
    up, down = table("up.h5", rng.exponential(1.1, 8000)), table("down.h5", rng.exponential(0.9, 8000))
    data = table("data.h5", rng.exponential(1.1, 300))
    r = CliRunner().invoke(main, ["nplm", "--reference", ref, "--data", data, "--n-expected", "300", "--toys", "3",
                                  "--nuisance", "norm=0.1", "--nuisance", f"scale={up},{down}", "--json", "-o", "out",
                                  "--param", "n_centres=60"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert res["t"] == pytest.approx(res["tau"] - res["delta"]) and set(res["nu_hat"]) == {"norm", "scale"}
    saved = json.loads((tmp_path / "out" / "nplm.json").read_text())
    assert [n["kind"] for n in saved["nuisances"]] == ["norm", "shape"] and len(saved["null_t"]) == 3
    for bad, msg in ((["--nuisance", "norm=5"], "relative σ"), (["--nuisance", "x"], "NAME=SIGMA"),
                     (["--nuisance", "a=0.1", "--nuisance", "a=0.2"], "given twice"),
                     (["--nuisance", "norm=0.1", "--detector", "nplm-nn"], "kernel model")):
        r = CliRunner().invoke(main, ["nplm", "--reference", ref, "--data", data, "-o", "o2", *bad])
        assert r.exit_code == 2 and msg in r.stderr and "Traceback" not in r.output, r.output


def test_min_p_combination_is_calibrated_on_the_same_toys():
    from scipy import stats

    from adkit.stats.nplm import min_p

    rng = np.random.default_rng(2)
    a, b = rng.chisquare(5, 4000), rng.chisquare(5, 4000)
    t_obs = [stats.chi2.isf(0.01, 5), stats.chi2.isf(0.5, 5)]
    # two independent tests: the combined p is Šidák's 1 − (1 − 0.01)² = 0.0199
    c = min_p(t_obs, [a, b], ["x", "y"])
    assert c["best"] == "x" and c["p_min"] == pytest.approx(0.01, rel=0.1)
    assert c["p_value"] == pytest.approx(1 - 0.99 ** 2, abs=0.004)
    # the same test twice: nothing to pay, the combined p is the single test's
    same = min_p([t_obs[0], t_obs[0]], [a, a], ["x", "x again"])
    assert same["p_value"] == pytest.approx(0.01, abs=0.003)
    # few toys: the empirical p-values, each toy against the others
    few = min_p([100.0, 100.0], [a[:20], b[:20]], ["x", "y"])
    assert few["p_from"] == "the toys" and few["p_value"] == pytest.approx(1 / 21)


def test_nplm_command_combines_sigmas(tmp_path, monkeypatch):
    import h5py

    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(8)
    for name, x in (("ref.h5", rng.exponential(1.0, 6000)), ("data.h5", rng.exponential(1.0, 300))):
        with h5py.File(name, "w") as f:
            f.create_dataset("x", data=x.reshape(-1, 1))
    r = CliRunner().invoke(main, ["nplm", "--reference", "ref.h5", "--data", "data.h5", "--n-expected", "300",
                                  "--toys", "6", "--sigmas", "0.3,1", "--param", "n_centres=40", "-o", "out"])
    assert r.exit_code == 0, r.output
    assert "2 tests on the same toys" in r.stdout and "quote this one" in r.stdout
    saved = json.loads((tmp_path / "out" / "nplm.json").read_text())
    assert saved["combined"]["tests"] == ["sigma=0.3", "sigma=1"] and saved["combined"]["n_toys"] == 6
    r = CliRunner().invoke(main, ["nplm", "--reference", "ref.h5", "--data", "data.h5", "--toys", "0",
                                  "--sigmas", "0.3,1", "-o", "o2"])
    assert r.exit_code == 2 and "--toys" in r.stderr


def test_nplm_command_combines_feature_sets(files, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(main, ["nplm", "--reference", str(files / "background.h5"), "--data",
                                  str(files / "Ato4l.h5"), "--n-expected", "600", "--toys", "4", "--features", "met,ht",
                                  "--feature-set", "n_leptons,lepton_pt_sum", "--param", "n_centres=40", "--json",
                                  "-o", "out"])
    assert r.exit_code == 0, r.output
    c = json.loads(r.stdout.strip().splitlines()[-1])["combined"]
    assert c["tests"] == ["features=met,ht", "features=n_leptons,lepton_pt_sum"] and c["n_toys"] == 4
    # A→4ℓ against the background: both sets beyond all 4 toys, so the combination is at the toys' resolution
    assert c["p_values"] == pytest.approx([1 / 5, 1 / 5]) and c["p_value"] == pytest.approx(1 / 5)


def test_toys_with_nuisances_resume_and_run_in_parallel(tmp_path):
    from adkit.executors import Executor
    from adkit.stats import nuisance as nu

    ref, _ = exponential_toy(6)
    params = {"sigma": 0.5, "n_centres": 60}
    L, Q = nu.templates([nu.Nuisance("norm", sigma=0.1)], ref, {})
    store = tmp_path / "toys.jsonl"
    full = calibrate(ref, N0, 4, params=params, nuisance=(L, Q))
    np.testing.assert_array_equal(calibrate(ref, N0, 2, params=params, nuisance=(L, Q), store=store), full[:2])
    np.testing.assert_array_equal(calibrate(ref, N0, 4, params=params, nuisance=(L, Q), store=store), full)
    assert len(store.read_text().splitlines()) == 1 + 4  # the header, two from the first run, two added: none redone
    with Executor("local", workers=2) as ex:
        np.testing.assert_allclose(calibrate(ref, N0, 4, params=params, nuisance=(L, Q), executor=ex), full,
                                   rtol=1e-4)
    # the plain toys are another calibration: not taken from the nuisance toys' store
    assert not np.array_equal(calibrate(ref, N0, 2, params=params, store=store), full[:2])
