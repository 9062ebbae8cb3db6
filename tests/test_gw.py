"""The gravitational-wave setup: design PSD, noise, coincidence, time slides, thresholds, efficiency.

The noise and the search need no ml4gw and run everywhere; generating injections does (the
``adkit generate --gw`` test checks the one-line refusal where it is absent, the files where not)."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from adkit.datasets.gw import aligo_psd, coloured_noise
from adkit.workflows import gw

HAS_ML4GW = importlib.util.find_spec("ml4gw") is not None


def test_design_psd_is_ajiths_fit():
    # Ajith, PRD 84, 084037 (2011), Eq. (4.7), written out here: S = 1e-49 [x^-4.14 - 5/x^2 + 111 (1-x^2+x^4/2)/(1+x^2/2)]
    for f in (20.0, 100.0, 215.0, 1000.0):
        x = f / 215.0
        ref = 1e-49 * (x ** -4.14 - 5 / x ** 2 + 111 * (1 - x ** 2 + 0.5 * x ** 4) / (1 + 0.5 * x ** 2))
        assert aligo_psd(np.array([f]))[0] == pytest.approx(ref, rel=1e-12)
    assert aligo_psd(np.array([215.0]))[0] == pytest.approx(3.3e-48, rel=1e-12)  # x = 1: -4 + 111/3
    assert np.sqrt(aligo_psd(np.array([200.0]))[0]) == pytest.approx(4e-24, rel=0.1)  # the design's ~4e-24/√Hz bucket


def test_coloured_noise_has_the_design_psd():
    from scipy.signal import welch

    rate = 4096.0
    x = coloured_noise(int(256 * rate), np.random.default_rng(3), rate)
    f, p = welch(x, fs=rate, nperseg=8192)
    band = (f > 40) & (f < 1000)
    ratio = p[band] / aligo_psd(f[band])
    assert abs(np.median(ratio) - 1) < 0.05  # the one-sided PSD, not half or twice it
    assert np.all((ratio > 0.5) & (ratio < 2.0))


def brute_background(h, l, step, k, gap, floor):
    """Every slide in full: the statistic of every window, clusters of windows above the floor, their maxima."""
    n, peaks = len(h), []
    for s in range(1, n // step):
        shifted = np.roll(l, -s * step)
        stat = np.array([min(h[i], max(shifted[(i + d) % n] for d in range(-k, k + 1))) for i in range(n)])
        above = [i for i in range(n) if stat[i] > floor]
        cluster = []
        for i in above:
            if cluster and i - cluster[-1] > gap:
                peaks.append(max(stat[j] for j in cluster))
                cluster = []
            cluster.append(i)
        if cluster:
            peaks.append(max(stat[j] for j in cluster))
    return sorted(peaks)


def test_time_slides_match_the_brute_force_count():
    rng = np.random.default_rng(0)
    h, l = rng.exponential(size=400), rng.exponential(size=400)
    peaks, slides = gw.slide_background(h, l, step=5, k=1, gap=3, floor=1.5)
    assert slides == 400 // 5 - 1
    assert sorted(peaks.tolist()) == pytest.approx(brute_background(h, l, 5, 1, 3, 1.5))
    with pytest.raises(Exception, match="coincidence"):
        gw.slide_background(h, l, step=2, k=1, gap=3, floor=1.5)


def test_far_thresholds_count_the_triggers_above():
    peaks = np.arange(1.0, 101.0)  # 100 triggers in 100 hours
    thr = gw.far_thresholds(peaks, 100 * 3600.0)
    assert thr["1/hour"] is None  # 100 allowed: the floor lets through no more than that, so lower it
    thr = gw.far_thresholds(peaks, 1000 * 3600.0)  # livetime 1000 h: 1/hour allows 1000 > 100 peaks
    assert thr["1/hour"] is None
    thr = gw.far_thresholds(peaks, 30 * 86400.0)  # 30 days: 1/day allows 30 triggers above
    assert thr["1/day"]["threshold"] == 70.0 and (peaks > 70.0).sum() == 30
    assert thr["1/year"] is None  # 30 days cannot measure one a year


def test_coincidence_needs_both_detectors():
    h = np.array([0, 5, 0, 0, 0, 0, 0, 0], dtype=float)
    l = np.array([0, 0, 4, 0, 0, 0, 9, 0], dtype=float)
    stat = gw.coincident(h, gw.around(l, 1))
    assert stat.tolist() == [0, 4, 0, 0, 0, 0, 0, 0]  # L1's 9 has no H1 partner; H1's 5 meets L1's 4 one window on


def test_found_takes_the_loudest_window_near_each_injection():
    times = np.arange(10) * 0.05
    stat = np.array([0, 1, 7, 0, 0, 0, 0, 0, 3, 0], dtype=float)
    assert gw.found(stat, times, np.array([0.1, 0.42, 5.0]), tolerance=0.06).tolist() == [7, 3, -np.inf]


def write_stream(path, rng, seconds, rate, bursts=()):
    """Two channels of white noise, with loud 50 ms bursts in both at the given times."""
    n = int(seconds * rate)
    x = rng.normal(size=(n, 2)).astype(np.float32)
    t = np.arange(n) / rate
    for tc in bursts:
        sel = np.abs(t - tc) < 0.025
        x[sel] += 6 * np.sin(2 * np.pi * 150 * (t[sel] - tc))[:, None]
    gw._write_strain(path, {"time": t, "h1": x[:, 0], "l1": x[:, 1]}, rate)


def test_search_finds_loud_coincident_bursts_at_low_far(tmp_path):
    from adkit.workflows.series import train_series

    rng, rate = np.random.default_rng(5), 1024.0
    write_stream(tmp_path / "train.h5", rng, 60, rate)
    write_stream(tmp_path / "background.h5", rng, 120, rate)
    times = np.arange(1, 11) * 4.0 + 0.3
    write_stream(tmp_path / "inj.h5", rng, 45, rate, bursts=times)
    gw._write_table(tmp_path / "inj.csv", {"time": times, "snr": np.repeat([10.0, 20.0], 5)})
    model = train_series("conv-ae", [str(tmp_path / "train.h5")], channels=["h1"], window=32, stride=16, epochs=3)
    r = gw.search(model, tmp_path / "background.h5", {"burst": (tmp_path / "inj.h5", tmp_path / "inj.csv")})
    bg = r["background"]
    assert bg["slides"] > 1000 and bg["livetime_s"] == pytest.approx(bg["slides"] * 120.0, rel=0.01)
    thr = r["thresholds"]
    assert thr["1/hour"] is not None and thr["1/year"] is None  # ~1.7 days of slides: no FAR per year
    for snr in ("10", "20"):
        assert r["injections"]["burst"][snr]["1/hour"]["value"] == 1.0
    assert r["injections"]["burst"]["10"]["1/year"] is None
    loud = r["loudest"]["burst"]  # per injection: the network statistic is never above either detector's score
    assert len(loud["network"]) == 10 and np.all(loud["network"] <= loud["h1"])
    assert np.all(loud["l1"] > 0) and list(loud["snr"]) == [10.0] * 5 + [20.0] * 5


def test_search_refuses_a_two_channel_model(tmp_path):
    from adkit.errors import ConfigError
    from adkit.workflows.series import train_series

    write_stream(tmp_path / "train.h5", np.random.default_rng(1), 20, 1024.0)
    model = train_series("zscore", [str(tmp_path / "train.h5")], window=32, stride=16)
    with pytest.raises(ConfigError, match="one-channel model"):
        gw.detector_scores(model, np.zeros(1000))


def test_generate_gw_says_what_it_needs_or_writes_the_files(tmp_path):
    from conftest import run_cli

    args = ("generate", "--gw", "-o", str(tmp_path), "--seconds", "10", "--snrs", "20", "--per-snr", "2")
    r = run_cli(*args)
    if not HAS_ML4GW:
        assert r.exit_code == 2
        assert len(r.stderr.strip().splitlines()) == 1 and "ml4gw" in r.stderr and "pip install" in r.stderr
        assert not (tmp_path / "gw").exists() or not any((tmp_path / "gw").iterdir())
        return
    assert r.exit_code == 0, r.stderr
    t, x, rate = gw.read_strain(tmp_path / "gw" / "bbh.h5")
    table = gw.read_table(tmp_path / "gw" / "bbh_injections.csv")
    assert rate == 4096.0 and x.shape == (len(t), 2) and len(table["snr"]) == 2
    again = run_cli(*args)  # never replaces without --overwrite
    assert again.exit_code == 2 and "exists" in again.stderr


def test_bad_strain_and_tables_are_one_line_errors(tmp_path):
    import h5py

    from adkit.errors import AdkitError

    with h5py.File(tmp_path / "other.h5", "w") as h5:
        h5["strain"] = np.zeros((10, 3), dtype=np.float32)  # three columns, no rate, no time
    (tmp_path / "inj.csv").write_text("t,rho\n1,2\n")
    (tmp_path / "junk.h5").write_bytes(b"not hdf5 at all")
    for bad, call in ((tmp_path / "other.h5", gw.read_strain), (tmp_path / "junk.h5", gw.read_strain),
                      (tmp_path / "missing.h5", gw.read_strain), (tmp_path / "inj.csv", gw.read_table),
                      (tmp_path, gw.read_strain)):
        with pytest.raises(AdkitError) as e:
            call(bad)
        assert str(bad) in str(e.value) and "\n" not in str(e.value)


def test_generate_gw_refuses_sizes_it_cannot_hold(tmp_path):
    from conftest import run_cli

    r = run_cli("generate", "--gw", "-o", str(tmp_path), "--seconds", "7200")
    assert r.exit_code == 2 and "7200" in r.stderr
    if HAS_ML4GW:
        r = run_cli("generate", "--gw", "-o", str(tmp_path), "--snrs", "4,8", "--per-snr", "600")
        assert r.exit_code == 2 and "at most 1000" in r.stderr and not (tmp_path / "gw" / "train.h5").exists()


def test_generate_refuses_options_of_the_other_kind(tmp_path):
    from conftest import run_cli

    for args, says in ((("--gw", "--events", "100"), "--events is for collision events"),
                       (("--seconds", "60"), "--seconds is for --gw"), (("--per-snr", "3"), "--per-snr is for --gw")):
        r = run_cli("generate", "-o", str(tmp_path), *args)
        assert r.exit_code == 2 and says in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())


@pytest.mark.skipif(not HAS_ML4GW, reason="needs ml4gw (pip install 'adkit[gw]', torch < 2.11)")
def test_an_interrupted_generate_leaves_nothing(tmp_path, monkeypatch):
    import adkit.datasets.gw as data

    def broken(*_args, **_kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(data, "injections", broken)  # after train.h5 and background.h5 are written
    with pytest.raises(KeyboardInterrupt):
        gw.write_gw(tmp_path / "gw", seconds=10, snrs=(20.0,), per_snr=1, say=lambda _s: None)
    assert list(tmp_path.iterdir()) == []
