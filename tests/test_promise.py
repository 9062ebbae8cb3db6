"""The promise beyond the hostile table: long names, streams that change under --follow, directories
that cannot be written, options only from the command line, runs that stop midway, bounded
generation and workers, and model memory within the bound computed from the manifest."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli

from adkit.errors import InputError


def _tree(d: Path) -> dict[str, str]:
    return {str(f.relative_to(d)): hashlib.sha256(f.read_bytes()).hexdigest() if f.is_file() else "dir"
            for f in sorted(d.rglob("*"))}


# --- long names ----------------------------------------------------------------------------------------------

def test_a_legal_250_character_output_name_is_written(tmp_path, small_model, adc_file):
    """The temporary name beside it is shortened (a hash of the whole name), so a legal name works."""
    out = tmp_path / ("s" * 247 + ".h5")
    assert len(out.name) == 250
    r = run_cli("score", str(adc_file), "--model", str(small_model), "-o", str(out))
    assert r.exit_code == 0, r.output
    assert out.is_file() and [p.name for p in tmp_path.iterdir()] == [out.name]


def test_a_name_over_the_file_system_limit_is_one_line(tmp_path, small_model, adc_file):
    r = run_cli("score", str(adc_file), "--model", str(small_model), "-o", str(tmp_path / ("s" * 300 + ".h5")))
    lines = r.stderr.strip().splitlines()
    assert r.exit_code == 2 and len(lines) == 1 and "name too long" in lines[0].lower(), r.output
    assert list(tmp_path.iterdir()) == []


# --- options that replace files come from the command line only ---------------------------------------------

def test_environment_variables_do_not_set_options(tmp_path, small_model, adc_file, monkeypatch):
    """ADKIT_SCORE_OVERWRITE / ADKIT_EVALUATE_STORE_THRESHOLDS used to turn on --overwrite and
    --store-thresholds silently (click's auto_envvar_prefix): they do nothing now."""
    out = tmp_path / "o.h5"
    out.write_text("mine")
    model = tmp_path / "m.adkit"
    shutil.copy(small_model, model)
    before = model.read_bytes()
    monkeypatch.setenv("ADKIT_SCORE_OVERWRITE", "1")
    monkeypatch.setenv("ADKIT_EVALUATE_STORE_THRESHOLDS", "10")
    monkeypatch.setenv("ADKIT_EVALUATE_OVERWRITE", "1")
    r = run_cli("score", str(adc_file), "--model", str(model), "-o", str(out))
    assert r.exit_code == 2 and "already exists" in r.stderr and out.read_text() == "mine"
    r = run_cli("evaluate", "--model", str(model), "--background", str(adc_file), "--signal", f"x={adc_file}",
                "-o", str(tmp_path / "rep"))
    assert r.exit_code == 0, r.output
    assert model.read_bytes() == before


# --- directories that cannot be written: one line, nothing left --------------------------------------------------

def _immutable(d: Path):
    r = subprocess.run(["chattr", "+i", str(d)], capture_output=True, check=False)
    if r.returncode != 0:
        pytest.skip(f"chattr +i is not permitted here ({r.stderr.decode().strip()[:80]})")


@pytest.fixture
def locked(tmp_path):
    d = tmp_path / "locked"
    d.mkdir()
    (d / "keep.txt").write_text("mine")
    _immutable(d)
    yield d
    subprocess.run(["chattr", "-i", str(d)], capture_output=True, check=False)


def _series_csv(path: Path, n: int = 200) -> Path:
    rows = "".join(f"{i},{np.sin(i / 5):.4f},{int(120 <= i < 130)}\n" for i in range(n))
    path.write_text("timestamp,value,is_anomaly\n" + rows)
    return path


@pytest.fixture(scope="module")
def series_model(tmp_path_factory) -> Path:
    from adkit.workflows.series import train_series

    d = tmp_path_factory.mktemp("sm")
    train_series("zscore", [str(_series_csv(d / "s.csv"))], window=16).save(d / "s.adkit")
    return d / "s.adkit"


def _commands(tmp, locked, model, data, series_model, series):
    two = Path(shutil.copy(data, tmp / "two.h5"))
    return {
        "score-file": ["score", str(data), "--model", str(model), "-o", str(locked / "o.h5")],
        "score-dir": ["score", str(data), str(two), "--model", str(model), "-o", str(locked / "scores")],
        "score-dir-inside": ["score", str(data), str(two), "--model", str(model), "-o", str(locked)],
        "evaluate": ["evaluate", "--model", str(model), "--background", str(data), "--signal", f"x={two}", "-o",
                     str(locked / "rep")],
        "nplm": ["nplm", "--reference", str(data), "--data", str(two), "--features", "met", "--n-expected", "100",
                 "--toys", "2", "-o", str(locked / "np")],
        "compare": ["compare", str(data), str(two), "--features", "met", "-o", str(locked / "cmp")],
        "series-score": ["score", str(series), "--model", str(series_model), "-o", str(locked / "s.h5")],
        "series-evaluate": ["evaluate", "--model", str(series_model), "--series", str(series), "-o",
                            str(locked / "srep")],
        "train": ["train", "--detector", "ae", "--data", str(data), "--epochs", "1", "-o", str(locked / "m.adkit")],
    }


@pytest.mark.parametrize("command", ["score-file", "score-dir", "score-dir-inside", "evaluate", "nplm", "compare",
                                     "series-score", "series-evaluate", "train"])
def test_an_immutable_directory_is_one_line_and_nothing_is_left(command, tmp_path, locked, small_model, adc_file,
                                                                 series_model):
    series = _series_csv(tmp_path / "live.csv")
    args = _commands(tmp_path, locked, small_model, adc_file, series_model, series)[command]
    before = _tree(tmp_path)
    r = run_cli(*args)
    lines = r.stderr.strip().splitlines()
    assert r.exit_code == 2, r.output
    assert len(lines) == 1 and lines[0].startswith("adkit: error: ") and "Traceback" not in r.output, lines
    assert _tree(tmp_path) == before


# --- a run that stops midway says so -------------------------------------------------------------------------------

def test_a_directory_run_stopped_midway_says_so_in_its_manifest(tmp_path, small_model, adc_file, monkeypatch):
    from adkit.workflows import scaleout

    files = [shutil.copy(adc_file, tmp_path / f"{n}.h5") for n in ("a", "b")]
    calls = {"n": 0}
    real = scaleout.score_range

    def stop_on_second(*args):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(scaleout, "score_range", stop_on_second)
    r = run_cli("score", *map(str, files), "--model", str(small_model), "-o", str(tmp_path / "sc"))
    assert r.exit_code == 130
    doc = json.loads((tmp_path / "sc" / "manifest.json").read_text())
    assert doc["complete"] is False
    assert [f["status"] for f in doc["files"]] == ["done", "pending"]
    monkeypatch.setattr(scaleout, "score_range", real)
    r = run_cli("score", *map(str, files), "--model", str(small_model), "-o", str(tmp_path / "sc"))
    assert r.exit_code == 0, r.output
    doc = json.loads((tmp_path / "sc" / "manifest.json").read_text())
    assert doc["complete"] is True and [f["status"] for f in doc["files"]] == ["done", "done"]
    assert sorted(p.name for p in (tmp_path / "sc").iterdir()) == ["a.scores.h5", "b.scores.h5", "manifest.json"]


# --- streams that change under --follow ----------------------------------------------------------------------------

def _stream(tmp_path, series_model, lines: int = 80) -> Path:
    live = tmp_path / "live.csv"
    _series_csv(live, lines)
    return live


@pytest.mark.parametrize("change, words", [
    ("truncate", "truncated"),
    ("rotate", "replaced by another file"),
    ("rewrite", "rewritten"),
    ("delete", "is gone"),
])
def test_follow_notices_a_stream_that_is_truncated_rotated_or_rewritten(change, words, tmp_path, series_model):
    from adkit.artifact import Model
    from adkit.workflows.stream import follow

    model = Model.load(series_model)
    live = _stream(tmp_path, series_model)
    stream = follow(model, live, poll=0.01)
    first = next(stream)
    assert first["row"] == 15
    if change == "truncate":
        live.write_text("timestamp,value,is_anomaly\n")
    elif change == "rotate":
        _series_csv(tmp_path / "new.csv", 300)
        os.replace(tmp_path / "new.csv", live)
    elif change == "rewrite":  # same inode, longer: the old offset would land in the middle of new rows
        text = live.read_text().replace("0,0.0000,0", "0,9.0000,0", 1)
        with open(live, "r+") as fh:
            fh.write(text + "".join(f"{i},1.0,0\n" for i in range(80, 200)))
    else:
        live.unlink()
    with pytest.raises(InputError, match=words):
        for _ in stream:
            pass


def test_follow_of_a_parquet_stream_replaced_by_another_with_more_rows_stops(tmp_path, series_model):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from adkit.artifact import Model
    from adkit.workflows.stream import follow

    model = Model.load(series_model)
    t = np.arange(400, dtype=float)
    live = tmp_path / "live.parquet"
    pq.write_table(pa.table({"timestamp": t[:100], "value": np.sin(t[:100] / 5)}), live)
    stream = follow(model, live, poll=0.01)
    next(stream)
    tmp = tmp_path / "other.parquet"
    pq.write_table(pa.table({"timestamp": t + 1000, "value": np.cos(t / 5)}), tmp)
    os.replace(tmp, live)
    with pytest.raises(InputError, match="replaced by another stream"):
        for _ in stream:
            pass


# --- bounded generation and workers --------------------------------------------------------------------------------

def test_generate_holds_one_block_in_memory_whatever_the_event_count(tmp_path, monkeypatch):
    """``generate --events N`` writes block by block: its peak memory does not grow with N (measured with
    tracemalloc on 1 and on 6 blocks), and the first block is exactly the old single-array sample."""
    import tracemalloc

    import h5py

    import adkit.datasets as ds

    monkeypatch.setattr(ds, "BLOCK_EVENTS", 4000)

    def peak(n: int) -> int:
        tracemalloc.start()
        ds.write_particles_h5(tmp_path / f"b{n}.h5", ds.sample_blocks("background", n, 3))
        out = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return out

    one, six = peak(4000), peak(24_000)
    assert six < 1.5 * one, (one, six)
    with h5py.File(tmp_path / "b24000.h5") as f:
        assert f["Particles"].shape == (24_000, 19, 4)
        np.testing.assert_array_equal(f["Particles"][:4000], ds.background(4000, 3)[0])


def test_workers_far_above_the_cores_are_capped_with_a_notice(tmp_path, small_model, adc_file):
    files = [str(shutil.copy(adc_file, tmp_path / f"{n}.h5")) for n in ("a", "b")]
    r = run_cli("score", *files, "--model", str(small_model), "-o", str(tmp_path / "sc"), "--workers", "1000")
    assert r.exit_code == 0, r.output
    cores = len(os.sched_getaffinity(0))
    assert f"--workers 1000: this machine has {cores} cores; using {cores} worker processes" in r.stderr


# --- model memory within the bound computed from the manifest ---------------------------------------------------

# Peak resident memory of this process image (VmHWM): unlike ru_maxrss, not inherited from the parent at fork.
_MEASURE = """
import sys, json
from adkit.cli import main
code = 0
try:
    main(sys.argv[1:], prog_name="adkit")
except SystemExit as e:
    code = e.code
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps({"code": code, "maxrss": hwm * 1024}), file=sys.stderr)
"""


def _random_ae(tmp_path: Path, data: Path, hidden: list[int], latent: int, name: str) -> Path:
    """An AE manifest with these widths and random weights of the right shapes (no training)."""
    import torch

    from adkit.artifact import Model
    from adkit.detectors import registry
    from adkit.features.preprocess import Standardizer
    from adkit.io import InputSpec

    det = registry.get("ae").from_params({"hidden": hidden, "latent_dim": latent, "standardize": False})
    torch.manual_seed(0)
    det.module_ = det.build_module(57, 0).eval()
    det.history_, det._n_features, det._n_conditions = [], 57, 0
    scaler = Standardizer()
    scaler.mean_, scaler.scale_ = np.zeros(57, np.float32), np.ones(57, np.float32)
    return Model(det, InputSpec(), scaler).save(tmp_path / name, overwrite=True)


@pytest.mark.slow
def test_random_models_within_the_limits_stay_under_their_computed_memory(tmp_path, adc_file):
    """Random AE shapes within the documented limits: `show` prints the memory bound computed from the
    manifest, and `show` and `score` stay under it (peak resident memory above the same process
    scoring the smallest model)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    def run(*args) -> tuple[int, int, str, str]:
        r = subprocess.run([sys.executable, "-c", _MEASURE, *args], cwd=tmp_path, capture_output=True, text=True,
                           check=False, timeout=300)
        info = json.loads(r.stderr.strip().splitlines()[-1])
        return info["code"], info["maxrss"], r.stdout, r.stderr

    base = _random_ae(tmp_path, adc_file, [8], 2, "base.adkit")
    _, base_rss, _, _ = run("score", str(adc_file), "--model", str(base), "-o", "base.h5", "--overwrite")
    seen = []

    @settings(max_examples=4, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.integers(64, 4096), min_size=1, max_size=3), st.integers(1, 64))
    def check(hidden, latent):
        path = _random_ae(tmp_path, adc_file, hidden, latent, "r.adkit")
        code, rss_show, out, err = run("show", str(path), "--json")
        assert code in (0, None), err
        bound = json.loads(out)["memory"]["bound_bytes"]
        code, rss, _, err = run("score", str(adc_file), "--model", str(path), "-o", "r.h5", "--overwrite")
        assert code in (0, None), err
        seen.append((hidden, latent, rss - base_rss, bound))
        assert max(rss, rss_show) - base_rss <= bound, seen[-1]

    check()
    assert len(seen) == 4
    print("\nhidden, latent, peak resident above the smallest model, bound:", *seen, sep="\n")


def test_the_limits_table_in_the_docs_is_the_code_s():
    """docs/safety.md's table of limits shows the values adkit checks (not numbers typed once)."""
    import adkit.datasets as ds
    from adkit.validation import LIMITS, MAX_GENERATE_EVENTS
    from adkit.workflows.scaleout import MAX_TASKS

    page = (Path(__file__).resolve().parents[1] / "docs" / "safety.md").read_text()
    rows = {line.split("|")[1].strip(): line for line in page.splitlines() if line.strip().startswith("| ")}

    def cell(row: str) -> str:
        return next(line for key, line in rows.items() if key.startswith(row)).split("|")[2]

    assert f"{LIMITS['network_bytes'] >> 30} GiB ({LIMITS['network_bytes'] // 4 // 10**6} M float32)" in cell("a torch")
    assert f"{LIMITS['tensor_bytes'] >> 20} MiB" in cell("a model file")
    assert f"{LIMITS['multiplicity']}" in cell("objects of one type")
    assert f"{LIMITS['window']:,}" in cell("samples per window") and f"{LIMITS['features']:,}" in cell("samples per")
    assert f"{LIMITS['score_bytes'] >> 20} MiB" in cell("one scoring step")
    assert f"{LIMITS['chunk_bytes'] >> 20} MiB" in cell("one HDF5 chunk")
    assert f"{LIMITS['array_bytes'] >> 30} GiB" in cell("one series array")
    assert f"{LIMITS['yaml_nodes']:,} values" in cell("YAML")
    assert f"{MAX_GENERATE_EVENTS:,}" in cell("`generate --events`")
    assert f"{ds.BLOCK_EVENTS:,} events" in rows[next(k for k in rows if k.startswith("`generate"))]
    assert f"{MAX_TASKS:,} tasks" in cell("`score --task-events`")
