"""Time series: readers and their errors, windows and per-sample scores, sequence models, evaluation."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import SHARED_DATA

from adkit.cli import main
from adkit.errors import InputError
from adkit.features.windows import per_sample, window_matrix, window_starts
from adkit.io.series import read_series

SHARED = SHARED_DATA / "sensor"


def run_cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _write_csv(path: Path, cols: dict[str, np.ndarray]) -> Path:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    pcsv.write_csv(pa.table({k: np.asarray(v) for k, v in cols.items()}), path)
    return path


def test_formats_agree(tmp_path):
    import h5py
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    vals = rng.normal(size=(500, 3)).astype(np.float32)
    t = np.arange(500) / 100.0
    cols = {"time": t, "a": vals[:, 0], "b": vals[:, 1], "c": vals[:, 2]}
    _write_csv(tmp_path / "s.csv", cols)
    pq.write_table(pa.table(cols), tmp_path / "s.parquet")
    with h5py.File(tmp_path / "s.h5", "w") as h5:
        ds = h5.create_dataset("strain", data=vals)
        ds.attrs["columns"] = ["a", "b", "c"]
        ds.attrs["sampling_rate"] = 100.0
    np.save(tmp_path / "s.npy", vals)
    np.savez(tmp_path / "s.npz", values=vals, time=t, columns=np.array(["a", "b", "c"]))
    ref = read_series(tmp_path / "s.csv")
    assert ref.channels == ["a", "b", "c"] and ref.step == pytest.approx(0.01)
    for name, kw in (("s.parquet", {}), ("s.h5", {}), ("s.npz", {}), ("s.npy", {"rate": 100.0})):
        s = read_series(tmp_path / name, **kw)
        np.testing.assert_array_equal(s.values, ref.values)
        np.testing.assert_allclose(s.time, ref.time, rtol=1e-12)
    with pytest.raises(InputError, match="sampling rate"):
        read_series(tmp_path / "s.npy")


def test_real_ecg_series():
    s = read_series(SHARED / "ecg-diff-count-3_TEST.csv")
    assert s.channels == ["value-0"] and len(s) == 10_000 and int((s.labels > 0).sum()) == 300 and not s.gaps


def test_bad_time_stamps_and_gaps(tmp_path):
    t = np.arange(100, dtype=float)
    t[40] = 38.5  # goes backwards
    _write_csv(tmp_path / "back.csv", {"time": t, "x": np.zeros(100)})
    with pytest.raises(InputError, match=r"back.csv: time stamps are not increasing at row 40"):
        read_series(tmp_path / "back.csv")
    t = np.r_[np.arange(50), np.arange(80, 130)].astype(float)  # a 30 s hole after row 49
    _write_csv(tmp_path / "gap.csv", {"time": t, "x": np.arange(100.0)})
    s = read_series(tmp_path / "gap.csv")
    assert s.gaps == [(50, 31.0)] and s.segments() == [(0, 50), (50, 100)]
    starts = window_starts(s, 10, 5)
    assert all((a + 10 <= 50) or a >= 50 for a in starts) and 45 not in starts and 40 in starts
    x = np.array([1.0, np.nan])
    _write_csv(tmp_path / "nan.csv", {"time": [0.0, 1.0], "x": x})
    with pytest.raises(InputError, match="NaN"):
        read_series(tmp_path / "nan.csv")
    r = run_cli("train", "--detector", "conv-ae", "--data", tmp_path / "back.csv", "-o", tmp_path / "m.adkit")
    assert r.exit_code == 2 and "back.csv" in r.stderr and "Traceback" not in r.output
    assert not (tmp_path / "m.adkit").exists()


def test_windows_and_per_sample_alignment():
    values = np.arange(40, dtype=np.float32).reshape(20, 2)
    starts = np.array([0, 3, 6, 9, 12])
    W = window_matrix(values, starts, 5)
    assert W.shape == (5, 10) and list(W[1, :4]) == [6, 7, 8, 9]  # time-major: row 3 (both channels), row 4
    scores = np.array([1.0, 5.0, 2.0, 0.5, 3.0])
    ps = per_sample(scores, starts, 5, 20)
    brute = [max([scores[i] for i, a in enumerate(starts) if a <= r < a + 5], default=np.nan) for r in range(20)]
    np.testing.assert_array_equal(ps, np.array(brute))


@pytest.fixture(scope="module")
def gw_files(tmp_path_factory):
    from adkit.datasets.sensor import gw

    d = tmp_path_factory.mktemp("gw")
    for seed, name in ((1, "train.csv"), (2, "test.csv")):
        _write_csv(d / name, gw(seconds=40, rate=512, seed=seed, n_transients=8, n_glitches=4))
    return d


@pytest.mark.parametrize("model", ["lstm-ae", "gru-ae", "conv-ae"])
def test_sequence_models_find_transients(gw_files, tmp_path, model):
    out = tmp_path / "m.adkit"
    r = run_cli("train", "--detector", model, "--data", gw_files / "train.csv", "--window", "32", "--stride", "8",
                "--epochs", "8", "-o", out)
    assert r.exit_code == 0, r.output
    assert "2 channel(s) (h1, l1)" in r.stderr
    r = run_cli("evaluate", "--model", out, "--series", gw_files / "test.csv", "-o", tmp_path / "rep")
    assert r.exit_code == 0, r.output
    res = json.loads((tmp_path / "rep" / "metrics.json").read_text())
    assert res["n_anomalies"] == 12 and res["sample_auc"] > 0.8, res["sample_auc"]
    wp = res["working_points"]["100"]
    assert wp is not None and wp["efficiency"] >= 0.5 and wp["false_alarm_rate"] <= 100
    assert (tmp_path / "rep" / "series.png").stat().st_size > 1000
    # per-sample scores aligned with the input rows
    r = run_cli("score", "--model", out, gw_files / "test.csv", "-o", tmp_path / "s.h5")
    assert r.exit_code == 0, r.output
    import h5py

    with h5py.File(tmp_path / "s.h5") as h5:
        score, time, w = h5["score"][:], h5["time"][:], h5["windows/score"][:]
        starts = h5["windows/row"][:]
    assert len(score) == len(time) == 40 * 512 and np.isfinite(score).all()
    assert score[starts[3] + 10] >= w[3] and np.nanmax(score) == w.max()


def test_cvae_with_context_finds_trigger_faults(tmp_path):
    from adkit.datasets.sensor import rates

    _write_csv(tmp_path / "train.csv", rates(hours=12, seed=1))
    _write_csv(tmp_path / "test.csv", rates(hours=12, seed=2))
    out = tmp_path / "c.adkit"
    r = run_cli("train", "--detector", "cvae", "--data", tmp_path / "train.csv", "--conditions", "lumi,pileup",
                "--window", "8", "--stride", "4", "--epochs", "6", "-o", out)
    assert r.exit_code == 0, r.output
    from adkit.artifact import Model
    from adkit.workflows.series import evaluate_series

    m = Model.load(out)
    assert m.spec.channels == [f"path{i}" for i in range(6)] and m.spec.context == ["lumi", "pileup"]
    res = evaluate_series(m, [tmp_path / "test.csv"])
    assert res["n_anomalies"] == 3 and res["sample_auc"] > 0.8, res["sample_auc"]


def test_demo_out_of_the_box(tmp_path, monkeypatch):
    """`adkit train --detector lstm-ae --data sensor-demo` as typed (two epochs to keep CI short)."""
    monkeypatch.chdir(tmp_path)
    r = run_cli("train", "--detector", "lstm-ae", "--data", "sensor-demo", "--epochs", "1")
    assert r.exit_code == 0, r.output
    assert "wrote model.adkit: lstm-ae on" in r.stderr and Path("model.adkit").exists()


def test_intervals_file_equals_label_column(gw_files, tmp_path):
    """Labelled intervals given as a CSV (start, stop) evaluate exactly like the label column."""
    from adkit.workflows.series import evaluate_series, intervals, train_series

    model = train_series("conv-ae", [gw_files / "train.csv"], window=32, stride=8, epochs=2)
    s = read_series(gw_files / "test.csv")
    rows = intervals(s.labels > 0)
    _write_csv(tmp_path / "iv.csv", {"start": [s.time[a] for a, _ in rows], "stop": [s.time[b - 1] for _, b in rows]})
    a = evaluate_series(model, [gw_files / "test.csv"])
    b = evaluate_series(model, [gw_files / "test.csv"], interval_file=tmp_path / "iv.csv")
    assert a["n_anomalies"] == b["n_anomalies"] == len(rows) and a["curve"] == b["curve"]
    _write_csv(tmp_path / "bad.csv", {"begin": [1.0], "end": [2.0]})
    r = run_cli("evaluate", "--model", tmp_path / "none.adkit", "--series", gw_files / "test.csv")
    assert r.exit_code == 2
    model.save(tmp_path / "m.adkit")
    r = run_cli("evaluate", "--model", tmp_path / "m.adkit", "--series", gw_files / "test.csv", "--intervals",
                tmp_path / "bad.csv", "-o", tmp_path / "rep")
    assert r.exit_code == 2 and "bad.csv" in r.stderr and "'start' and 'stop'" in r.stderr


def test_series_files_are_read_in_blocks_keeping_only_the_wanted_columns(tmp_path, monkeypatch):
    """CSV and Parquet stream block by block; with --channels only those, the context and the
    time/label columns are read. Small blocks give exactly the whole-file result."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    import adkit.io.series as io_series

    n = 5000
    rng = np.random.default_rng(0)
    table = {"time": np.arange(n) / 100.0, "a": rng.normal(size=n), "b": rng.normal(size=n),
             "unused": rng.normal(size=n), "is_anomaly": (np.arange(n) % 97 == 0).astype(int)}
    pq.write_table(pa.table(table), tmp_path / "s.parquet")
    with open(tmp_path / "s.csv", "w") as fh:
        fh.write(",".join(table) + "\n")
        for row in zip(*table.values()):
            fh.write(",".join(repr(float(v)) if isinstance(v, float) else str(v) for v in row) + "\n")
    whole = {f: read_series(tmp_path / f) for f in ("s.csv", "s.parquet")}
    monkeypatch.setattr(io_series, "BLOCK_ROWS", 64)
    seen = []
    real = io_series._blocks
    monkeypatch.setattr(io_series, "_blocks", lambda names, batches: seen.append(names) or real(names, batches))
    for f in ("s.csv", "s.parquet"):
        s = read_series(tmp_path / f, channels=["b"])
        assert s.channels == ["b"] and "unused" not in seen[-1] and "a" not in seen[-1]
        np.testing.assert_array_equal(s.values[:, 0], whole[f].values[:, whole[f].channels.index("b")])
        np.testing.assert_array_equal(s.labels, whole[f].labels)
        np.testing.assert_array_equal(s.time, whole[f].time)


def test_ecg_sample_index_time_stamps_statistics_and_no_anomaly(tmp_path):
    """The ECG file's time stamps are a sample index: false alarms per 1000 samples unless --rate is given; every
    working point carries its counts, intervals and the observation; a series without anomalies is refused."""
    from adkit.workflows.series import evaluate_series, train_series

    s = read_series(SHARED / "ecg-diff-count-3_TEST.csv")
    assert s.time_unit == "samples" and read_series(SHARED / "ecg-diff-count-3_TEST.csv", rate=500.0).time_unit == "s"
    model = train_series("conv-ae", [str(SHARED / "ecg-diff-count-3_TRAIN_NA.csv")], window=32, stride=8, epochs=1)
    res = evaluate_series(model, [str(SHARED / "ecg-diff-count-3_TEST.csv")], far_per_hour=(1.0, 50.0))
    assert res["time_unit"] == "samples" and res["far_unit"] == "per 1000 samples" and res["hours"] is None
    assert res["observed"] == pytest.approx(10_000)
    wp = res["working_points"]["50"]
    assert wp is not None and wp["detected"]["total"] == res["n_anomalies"]
    lo, hi = wp["false_alarm_interval"]
    assert lo <= wp["false_alarm_rate"] <= hi and wp["false_alarm_rate"] == pytest.approx(wp["false_alarms"] / 10)
    timed = evaluate_series(model, [str(SHARED / "ecg-diff-count-3_TEST.csv")], far_per_hour=(1.0,), rate=500.0)
    assert timed["far_unit"] == "per hour" and timed["hours"] == pytest.approx(10_000 / 500 / 3600)
    with pytest.raises(InputError, match="no labelled anomalous interval"):
        evaluate_series(model, [str(SHARED / "ecg-diff-count-3_TRAIN_NA.csv")])


def test_every_sample_of_a_long_enough_segment_gets_a_score(tmp_path):
    """The last window of each segment ends on its last sample; samples of segments shorter than a window
    are the only ones without a score, and the command says how many."""
    t = np.r_[np.arange(97), np.arange(200, 205)].astype(float)  # 97 rows, a gap, then 5 rows
    rng = np.random.default_rng(0)
    _write_csv(tmp_path / "s.csv", {"time": t, "x": rng.normal(size=len(t))})
    s = read_series(tmp_path / "s.csv")
    starts = window_starts(s, 10, 7)
    assert starts[-1] == 87 and list(starts[:3]) == [0, 7, 14] and all(a + 10 <= 97 for a in starts)
    r = run_cli("train", "--detector", "conv-ae", "--data", tmp_path / "s.csv", "--window", "10", "--stride", "7",
                "--epochs", "1", "-o", tmp_path / "m.adkit")
    assert r.exit_code == 0, r.output
    assert "warning: only 14 training windows" in r.stderr and "--stride" in r.stderr
    r = run_cli("score", tmp_path / "s.csv", "--model", tmp_path / "m.adkit", "-o", tmp_path / "s.scores.h5")
    assert r.exit_code == 0, r.output
    assert "warning:" in r.stderr and "5 samples lie in segments" in r.stderr
    import h5py

    with h5py.File(tmp_path / "s.scores.h5") as h5:
        score = h5["score"][:]
    assert np.isfinite(score[:97]).all() and np.isnan(score[97:]).all()


def test_ucr_archive_files_and_protocol(tmp_path):
    """A UCR Anomaly Archive file: its name gives the training part and the anomaly; training reads only the
    training part; the protocol's answer is the top-scored test sample, a hit within the tolerance."""
    from adkit.io.series import ucr_fields
    from adkit.workflows.series import ucr_protocol

    rng = np.random.default_rng(0)
    t = np.arange(3000)
    x = np.sin(2 * np.pi * t / 50) + 0.05 * rng.normal(size=3000)
    x[2000:2040] = np.sin(2 * np.pi * t[2000:2040] / 20)  # a faster beat: the anomaly
    f = tmp_path / "001_UCR_Anomaly_sine_1200_2001_2040.txt"
    f.write_text("\n".join(f"{v:.6f}" for v in x))
    assert ucr_fields(f) == {"name": "sine", "train": 1200, "begin": 2001, "end": 2040}
    s = read_series(f)
    assert s.train_stop == 1200 and s.labels.sum() == 40 and s.labels[2000] == 1 and s.labels[1999] == 0
    r = run_cli("train", "--detector", "conv-ae", "--data", f, "--window", "32", "--stride", "4", "--epochs", "3",
                "-o", tmp_path / "m.adkit")
    assert r.exit_code == 0, r.output
    from adkit.artifact import Model

    model = Model.load(tmp_path / "m.adkit")
    assert model.provenance["windows"] == len(range(0, 1200 - 32 + 1, 4))  # the training part only, last aligned
    res = ucr_protocol(model, [f])
    row = res["series"][0]
    assert row["test_start"] == 1200 and row["anomalies"] == [[2000, 2039]] and row["top_sample"] >= 1200
    assert row["hit"] == (row["distance"] <= 100) and res["accuracy"]["total"] == 1
    # the tolerance is what decides: the same answer is a miss with a tolerance below its distance
    far = ucr_protocol(model, [f], tolerance=0)
    assert far["series"][0]["hit"] == (row["distance"] == 0)
    r = run_cli("evaluate", "--model", tmp_path / "m.adkit", "--protocol", "ucr", "--series", f, "-o", tmp_path / "r")
    assert r.exit_code == 0, r.output
    assert "| 001_UCR_Anomaly_sine_1200_2001_2040.txt | 1200 | 2000–2039 |" in r.stdout
    assert (tmp_path / "r" / "ucr.json").exists() and (tmp_path / "r" / "ucr.md").exists()
    bad = tmp_path / "002_UCR_Anomaly_short_100_5000_5010.txt"
    bad.write_text("1 2 3")
    r = run_cli("evaluate", "--model", tmp_path / "m.adkit", "--protocol", "ucr", "--series", bad, "-o", tmp_path / "r2")
    assert r.exit_code == 2 and "002_UCR_Anomaly_short_100_5000_5010.txt" in r.stderr and "Traceback" not in r.output
    nolabel = tmp_path / "n.csv"
    _write_csv(nolabel, {"time": np.arange(500.0), "value": np.zeros(500)})
    r = run_cli("evaluate", "--model", tmp_path / "m.adkit", "--protocol", "ucr", "--series", nolabel, "-o",
                tmp_path / "r3")
    assert r.exit_code == 2 and "no labelled anomaly" in r.stderr


def test_matrix_profile_equals_stumpy_ab_join_and_zscore_is_the_rolling_z_score():
    """The baselines against their references: stumpy's AB-join matrix profile (training windows at stride 1),
    the plain Euclidean nearest neighbour and the rolling z-score written out here window by window."""
    stumpy = pytest.importorskip("stumpy", reason="stumpy not installed (it is in the test extra)")
    from adkit.detectors import create

    rng = np.random.default_rng(3)
    t = np.arange(1500)
    train = np.sin(2 * np.pi * t / 40) + 0.1 * rng.normal(size=1500)
    test = np.sin(2 * np.pi * t[:600] / 40) + 0.1 * rng.normal(size=600)
    test[300:320] += np.linspace(0, 2, 20)  # a ramp: the discord
    m = 32

    def windows(x):
        return np.lib.stride_tricks.sliding_window_view(x, m).astype(np.float32)

    mp = create("mp", n_channels=1).fit(windows(train))
    ours = mp.decision_function(windows(test))
    ref = stumpy.stump(test.astype(np.float64), m, T_B=train.astype(np.float64), ignore_trivial=False)[:, 0]
    np.testing.assert_allclose(ours, ref.astype(np.float64), rtol=1e-4, atol=1e-4)
    assert 300 - m < int(np.argmax(ours)) < 320
    plain = create("mp", n_channels=1, normalize=False).fit(windows(train)).decision_function(windows(test))
    A, B = windows(test).astype(np.float64), windows(train).astype(np.float64)  # brute force, window by window
    ref_plain = [np.sqrt(((B - a) ** 2).sum(axis=1)).min() for a in A[::37]]
    np.testing.assert_allclose(plain[::37], ref_plain, rtol=1e-4, atol=1e-4)

    z = create("zscore", n_channels=1).fit(windows(train)).decision_function(windows(test))
    for k in (0, 100, 290, 568):  # window k ends on sample k + m - 1
        past = test[k:k + m - 1]
        assert z[k] == pytest.approx(abs(test[k + m - 1] - past.mean()) / past.std(ddof=1), rel=1e-5)


def test_multichannel_csv_with_named_channels_and_label_column(tmp_path):
    """Accelerometer-like channels on scales a thousand times apart, an annotation column adkit cannot guess,
    and a text column: --channels and --label choose, each channel is normalised on its own scale."""
    rng = np.random.default_rng(1)
    n = 6000
    t = np.arange(n) / 100.0
    ax = 0.02 * np.sin(2 * np.pi * 1.3 * t) + 0.002 * rng.normal(size=n)
    ay = 500 * np.sin(2 * np.pi * 0.7 * t + 1) + 20 * rng.normal(size=n)
    az = 9.81 + 0.05 * np.cos(2 * np.pi * 1.3 * t) + 0.005 * rng.normal(size=n)
    ann = np.zeros(n, dtype=int)
    for a in (2000, 4500):
        ay[a:a + 80] += np.linspace(0, 1500, 80)
        ann[a:a + 80] = 1
    lines = ["t,ax,ay,az,annotation,operator"] + [f"{t[i]:.2f},{ax[i]:.6f},{ay[i]:.3f},{az[i]:.6f},{ann[i]},bob"
                                                  for i in range(n)]
    (tmp_path / "acc.csv").write_text("\n".join(lines) + "\n")
    r = run_cli("train", "--detector", "conv-ae", "--data", tmp_path / "acc.csv", "--channels", "ax,ay,az", "--label",
                "annotation", "--time-column", "t", "--window", "64", "--stride", "8", "--epochs", "2",
                "-o", tmp_path / "m.adkit")
    assert r.exit_code == 0, r.output
    from adkit.artifact import Model

    m = Model.load(tmp_path / "m.adkit")
    assert m.spec.channels == ["ax", "ay", "az"] and m.spec.label_column == "annotation"
    clean = np.ones(n, dtype=bool)
    for a in (2000, 4500):  # windows touching an annotation are left out of training
        clean[a - 63:a + 80] = False
    per_channel = {c: (v[clean].mean(), v[clean].std()) for c, v in (("ax", ax), ("ay", ay), ("az", az))}
    mean, scale = np.asarray(m.scaler.mean_).reshape(64, 3), np.asarray(m.scaler.scale_).reshape(64, 3)
    for j, c in enumerate(("ax", "ay", "az")):  # one mean and scale per channel, at that channel's own scale
        mu, sd = per_channel[c]
        assert np.allclose(mean[:, j], mean[0, j]) and mean[0, j] == pytest.approx(mu, abs=0.05 * sd)
        assert scale[0, j] == pytest.approx(sd, rel=0.05)
    r = run_cli("evaluate", "--model", tmp_path / "m.adkit", "--series", tmp_path / "acc.csv", "-o", tmp_path / "rep",
                "--json")
    assert r.exit_code == 0, r.output
    import json

    res = json.loads(r.stdout)
    assert res["n_anomalies"] == 2 and res["n_samples"] == n
    r = run_cli("train", "--detector", "conv-ae", "--data", tmp_path / "acc.csv", "--channels", "ax,ay,az", "--label",
                "annotaton", "--time-column", "t", "-o", tmp_path / "m2.adkit")
    assert r.exit_code == 2 and "annotation" in r.stderr and not (tmp_path / "m2.adkit").exists()


def test_follow_scores_a_growing_csv_window_by_window_as_batch_scoring_does(tmp_path):
    """Rows appended in bursts (one line half-written for a while) give the same window scores as scoring the
    finished file; thresholds raise alarms; the file is only read."""
    import threading
    import time

    from adkit.workflows.series import score_series, train_series
    from adkit.workflows.stream import follow

    rng = np.random.default_rng(2)
    n = 1200
    t = np.arange(n) / 50.0
    x = np.sin(2 * np.pi * t) + 0.05 * rng.normal(size=n)
    x[900:920] += 3.0
    full = tmp_path / "full.csv"
    _write_csv(full, {"time": t, "x": x})
    model = train_series("conv-ae", [str(full)], window=32, stride=8, epochs=2)
    batch = score_series(model, full)
    ref = dict(zip(batch["window_row"].tolist(), batch["window_score"].tolist()))
    from adkit.artifact import Threshold

    model.thresholds = [Threshold("hot", float(np.quantile(batch["window_score"], 0.97)), 0.0, 0.0)]
    lines = full.read_text().splitlines(keepends=True)
    live = tmp_path / "live.csv"
    live.write_text(lines[0])

    def writer():
        with open(live, "a") as fh:
            for i in range(1, len(lines), 97):
                for line in lines[i:i + 97]:
                    fh.write(line)
                fh.flush()
                time.sleep(0.02)
            fh.write("12.0,")  # half a line: must not be scored until its newline arrives
            fh.flush()

    th = threading.Thread(target=writer)
    th.start()
    got = list(follow(model, live, poll=0.01, max_windows=len(range(0, n - 32 + 1, 8))))
    th.join()
    assert [w["row"] - 31 for w in got] == list(range(0, n - 32 + 1, 8))
    np.testing.assert_allclose([w["score"] for w in got], [ref[w["row"] - 31] for w in got], rtol=1e-5)
    assert any(w["alarms"] == ["hot"] for w in got if 860 <= w["row"] <= 960)
    assert got[-1]["time"] == pytest.approx(t[got[-1]["row"]])
    r = run_cli("score", full, "--model", tmp_path / "none.adkit", "--follow")
    assert r.exit_code == 2 and "Traceback" not in r.output


def test_follow_reads_a_parquet_file_rewritten_with_more_rows(tmp_path):
    """A periodic Parquet dump (the file replaced atomically with more rows each time, in several row
    groups) gives the window scores of the finished file; a file replaced by a shorter one is refused."""
    import os
    import threading
    import time

    import pyarrow as pa
    import pyarrow.parquet as pq

    from adkit.workflows.series import score_series, train_series
    from adkit.workflows.stream import follow

    rng = np.random.default_rng(4)
    n = 900
    t = np.arange(n) / 50.0
    x = np.sin(2 * np.pi * t) + 0.05 * rng.normal(size=n)
    full = tmp_path / "full.csv"
    _write_csv(full, {"time": t, "x": x})
    model = train_series("conv-ae", [str(full)], window=32, stride=8, epochs=1)
    ref = score_series(model, full)
    ref = dict(zip(ref["window_row"].tolist(), ref["window_score"].tolist()))
    live = tmp_path / "live.parquet"

    def dump(k):  # the first k rows, replacing the file atomically
        tmp = tmp_path / "part.tmp"
        pq.write_table(pa.table({"time": t[:k], "x": x[:k]}), tmp, row_group_size=128)
        os.replace(tmp, live)

    dump(100)

    def writer():
        for k in [*range(250, n, 150), n]:
            time.sleep(0.05)
            dump(k)

    th = threading.Thread(target=writer)
    th.start()
    expected = list(range(0, n - 32 + 1, 8))
    got = list(follow(model, live, poll=0.01, max_windows=len(expected)))
    th.join()
    assert [w["row"] - 31 for w in got] == expected
    np.testing.assert_allclose([w["score"] for w in got], [ref[w["row"] - 31] for w in got], rtol=1e-5)
    assert got[-1]["time"] == pytest.approx(t[got[-1]["row"]])
    # replaced by a shorter stream: one line, not silently re-scored
    dump(200)
    stream = follow(model, live, poll=0.01)
    next(stream)
    pq.write_table(pa.table({"time": t[:50], "x": x[:50]}), live)
    with pytest.raises(InputError, match="fewer than the 200 already scored"):
        list(stream)


def test_one_strategy_per_kind_of_input():
    """adkit.workflows.commands picks the series or the event strategy once, from the inputs or the model;
    a keyword only events take is refused for series in one line, before any training."""
    from adkit.detectors import get
    from adkit.errors import ConfigError
    from adkit.workflows import train
    from adkit.workflows.commands import EVENTS, SERIES, training_kind

    assert training_kind(["sensor-demo"], get("ae"), {}) is SERIES
    assert training_kind([], get("lstm-ae"), {}) is SERIES  # a sequence detector
    assert training_kind([], get("ae"), {"window": 16}) is SERIES
    assert training_kind(["x.h5"], get("ae"), {}) is EVENTS
    with pytest.raises(ConfigError, match="n_default: not for time series"):
        train("lstm-ae", ["sensor-demo"], n_default=1000)


UCR = Path(__file__).parent / "data" / "ucr"


def test_each_detector_takes_its_own_default_stride_and_says_so(tmp_path):
    """mp scores every window (a discord is defined on all of them); an autoencoder takes the largest
    stride up to window/4 that leaves >= 300 training windows (UCR 135: 1,200 training samples)."""
    train = UCR / "135_UCR_Anomaly_InternalBleeding16_TRAIN.csv"
    test = UCR / "135_UCR_Anomaly_InternalBleeding16_TEST.csv"
    common = ("--data", train, "--time-column", "timestamp", "--label", "is_anomaly", "--epochs", "1")
    r = run_cli("train", "--detector", "mp", *common, "-o", tmp_path / "mp.adkit")
    assert r.exit_code == 0, r.output
    assert "stride 1 (mp's default: every window; change with --stride): 1073 training windows" in r.stderr
    r = run_cli("train", "--detector", "conv-ae", *common, "-o", tmp_path / "conv.adkit")
    assert r.exit_code == 0, r.output
    n = (1200 - 128) // 3 + 1 + 1  # stride 3 from sample 0, plus the window that ends on the last sample
    assert f"stride 3 (conv-ae's default: the largest up to window/4 that gives at least 300 training windows; " \
           f"change with --stride): {n} training windows" in r.stderr
    r = run_cli("train", "--detector", "conv-ae", *common, "--stride", "32", "-o", tmp_path / "c32.adkit")
    assert r.exit_code == 0 and "only 35 training windows" in r.stderr and "change with --stride)" not in r.stderr
    # the discord at stride 1 is the labelled anomaly (samples 4187-4198), exactly
    r = run_cli("evaluate", "--model", tmp_path / "mp.adkit", "--series", test, "--protocol", "ucr",
                "-o", tmp_path / "ucr", "--json")
    assert r.exit_code == 0, r.output
    row = json.loads(r.stdout)["series"][0]
    assert row["hit"] and row["distance"] == 0 and 4187 <= row["top_sample"] <= 4198
