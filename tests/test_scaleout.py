"""Scoring many files as tasks: per-input outputs, manifest, dask, resume after SIGKILL, failures."""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from adkit.cli import main
from adkit.io.writers import read_scores


def run_cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    from adkit.datasets import write_dataset
    from adkit.workflows import train

    d = tmp_path_factory.mktemp("scaleout")
    write_dataset(d, 60_000, 3000, 5, ("h5",))
    model = train("ae", epochs=1, n_default=5000)
    model.save(d / "m.adkit")
    return d


def _files(d: Path) -> list[Path]:
    return [d / "background.h5", d / "Ato4l.h5", d / "LQtobtau.h5"]


def test_directory_mode_local_and_dask_identical(inputs, tmp_path):
    from adkit.artifact import Model

    files = _files(inputs)
    r = run_cli("score", *files, "--model", inputs / "m.adkit", "-o", tmp_path / "local", "--task-events", "7000")
    assert r.exit_code == 0, r.output
    r = run_cli("score", *files, "--model", inputs / "m.adkit", "-o", tmp_path / "dask", "--task-events", "7000",
                "--executor", "dask", "--workers", "2")
    assert r.exit_code == 0, r.output
    assert "dask dashboard: http" in r.stderr
    manifest = json.loads((tmp_path / "dask" / "manifest.json").read_text())
    model = Model.load(inputs / "m.adkit")
    for f, rec in zip(files, manifest["files"]):
        name = f"{f.stem}.scores.h5"
        assert rec["status"] == "done" and rec["output"].endswith(name) and rec["input"] == str(f)
        assert (tmp_path / "local" / name).read_bytes() == (tmp_path / "dask" / name).read_bytes()
        s = read_scores(tmp_path / "dask" / name)
        X = model.spec.features.compute(__import__("h5py").File(f)["Particles"][:, :, :3])
        np.testing.assert_allclose(s["score"], model.decision_function(X), rtol=1e-5)
        assert rec["events"] == len(s["score"]) and np.array_equal(s["entry"], np.arange(len(X)))
    assert manifest["files"][0]["tasks"] == 9  # 60,000 entries in tasks of 7,000
    assert not (tmp_path / "dask" / ".adkit-parts").exists()
    # a re-run skips the complete outputs
    r = run_cli("score", *files, "--model", inputs / "m.adkit", "-o", tmp_path / "dask", "--task-events", "7000")
    assert r.exit_code == 0 and "skipped 3 already complete" in r.stderr and "in 0 task(s)" in r.stderr


def test_killed_run_resumes_to_identical_outputs(inputs, tmp_path):
    files = _files(inputs)
    cmd = [sys.executable, "-m", "adkit.cli", "score", *map(str, files), "--model", str(inputs / "m.adkit"),
           "--task-events", "2000", "--step", "1000"]
    ref = subprocess.run(cmd + ["-o", str(tmp_path / "ref")], capture_output=True, text=True)
    assert ref.returncode == 0, ref.stderr
    out = tmp_path / "out"
    proc = subprocess.Popen(cmd + ["-o", str(out)], stderr=subprocess.DEVNULL)
    parts = out / ".adkit-parts"
    deadline = time.time() + 60
    while time.time() < deadline and (not parts.is_dir() or len(list(parts.glob("*.h5"))) < 3):
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert list(parts.glob("*.h5")), "no finished part existed when the run was killed"
    assert not (out / "manifest.json").exists() or json.loads((out / "manifest.json").read_text())
    again = subprocess.run(cmd + ["-o", str(out)], capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    n_tasks = int(again.stderr.split(" task(s)")[0].rsplit(" ", 1)[1])
    assert n_tasks < 34  # 30 + 2 + 2 tasks in all: finished parts were reused
    for f in files:
        name = f"{f.stem}.scores.h5"
        assert (out / name).read_bytes() == (tmp_path / "ref" / name).read_bytes(), name
    assert not parts.exists()


def test_damaged_input_fails_alone(inputs, tmp_path):
    bad = tmp_path / "truncated.h5"
    data = (inputs / "LQtobtau.h5").read_bytes()
    bad.write_bytes(data[: len(data) // 2])  # the header is intact, the data are cut
    good = inputs / "Ato4l.h5"
    r = run_cli("score", good, bad, "--model", inputs / "m.adkit", "-o", tmp_path / "o", "--task-events", "1000",
                "--workers", "2")
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "1 of 2 input(s) failed" in r.stderr and "truncated.h5" in r.stderr
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    status = {Path(f["input"]).name: f for f in manifest["files"]}
    assert status["Ato4l.h5"]["status"] == "done" and status["Ato4l.h5"]["events"] == 3000
    assert status["truncated.h5"]["status"] == "failed" and "truncated" in status["truncated.h5"]["reason"]
    assert not (tmp_path / "o" / "truncated.scores.h5").exists()


def test_output_rules(inputs, tmp_path):
    files = _files(inputs)[:2]
    # several inputs, a file name: the single combined table (local); with dask it is refused
    r = run_cli("score", *files, "--model", inputs / "m.adkit", "-o", tmp_path / "all.h5")
    assert r.exit_code == 0 and len(read_scores(tmp_path / "all.h5")["score"]) == 63_000
    r = run_cli("score", *files, "--model", inputs / "m.adkit", "-o", tmp_path / "all2.h5", "--executor", "dask")
    assert r.exit_code == 2 and "directory" in r.stderr
    # an existing output that the manifest does not vouch for is not overwritten silently
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "Ato4l.scores.h5").write_text("someone else's file")
    r = run_cli("score", *files, "--model", inputs / "m.adkit", "-o", tmp_path / "d")
    assert r.exit_code == 2 and "--overwrite" in r.stderr
    r = run_cli("score", *files, "--model", inputs / "m.adkit", "-o", tmp_path / "d", "--overwrite")
    assert r.exit_code == 0 and len(read_scores(tmp_path / "d" / "Ato4l.scores.h5")["score"]) == 3000
    # two inputs with the same name: the outputs mirror the inputs' paths below their common parent
    other = tmp_path / "x"
    other.mkdir()
    shutil.copy(files[1], other / files[1].name)
    r = run_cli("score", files[1], other / files[1].name, "--model", inputs / "m.adkit", "-o", tmp_path / "e")
    assert r.exit_code == 0, r.output
    stem = files[1].name.rsplit(".", 1)[0]
    outs = {Path(f["input"]).resolve(): Path(f["output"]) for f in
            json.loads((tmp_path / "e" / "manifest.json").read_text())["files"]}
    assert len(set(outs.values())) == 2 and all(o.name == f"{stem}.scores.h5" and o.exists() for o in outs.values())
    assert outs[(other / files[1].name).resolve()].parent.name == "x"
    # the same file twice is refused
    r = run_cli("score", files[1], files[1], "--model", inputs / "m.adkit", "-o", tmp_path / "f")
    assert r.exit_code == 2 and "same file" in r.stderr
    # two inputs that differ only in their extension (a ROOT file and its Parquet copy): both scored, apart
    from adkit.workflows.scaleout import output_names

    assert output_names(["a/nano.root", "a/nano.parquet", "a/other.root"]) == [
        "nano.root.scores.h5", "nano.parquet.scores.h5", "other.scores.h5"]


def test_nplm_toys_on_dask(inputs, tmp_path):
    args = ["nplm", "--reference", inputs / "background.h5", "--data", inputs / "Ato4l.h5", "--toys", "4",
            "--n-expected", "3000", "--json"]
    local = run_cli(*args, "-o", tmp_path / "a")
    dask = run_cli(*args, "-o", tmp_path / "b", "--executor", "dask", "--workers", "2")
    assert local.exit_code == 0 and dask.exit_code == 0, (local.output, dask.output)
    ta = json.loads((tmp_path / "a" / "nplm.json").read_text())["null_t"]
    tb = json.loads((tmp_path / "b" / "nplm.json").read_text())["null_t"]
    np.testing.assert_allclose(ta, tb, rtol=1e-5)


def test_executor_errors():
    from adkit.errors import ConfigError
    from adkit.executors import Executor

    with pytest.raises(ConfigError, match="--scheduler needs"):
        Executor("local", scheduler="tcp://127.0.0.1:1")
    with pytest.raises(ConfigError, match="cannot connect"):
        with Executor("dask", scheduler="tcp://127.0.0.1:1", connect_timeout=2):
            pass



def test_resume_reuses_parts_only_while_the_input_hash_is_the_manifests(inputs, tmp_path, monkeypatch):
    """The input's sha256 is computed beside the tasks and written into the manifest; a resumed run
    reuses finished parts only when the file still has that hash (same size and mtime is not enough)."""
    import os

    import h5py

    import adkit.workflows.scaleout as so

    data = tmp_path / "data.h5"
    shutil.copy(inputs / "Ato4l.h5", data)
    model, out = inputs / "m.adkit", tmp_path / "out"
    ref = so.score_many(model, [data], [tmp_path / "ref.h5"], tmp_path / "ref.json", task_events=1000)
    want = read_scores(tmp_path / "ref.h5")["score"]

    def interrupted() -> None:
        def stop(self, path):
            raise KeyboardInterrupt
        with monkeypatch.context() as m:
            m.setattr(so.ScoreRun, "finish", stop)
            with pytest.raises(KeyboardInterrupt):
                so.score_many(model, [data], [out / "data.scores.h5"], out / "manifest.json", task_events=1000)
        rec = json.loads((out / "manifest.json").read_text())["files"][0]
        assert rec["status"] == "pending" and rec["input_sha256"] == so.sha256_file(data)

    interrupted()
    again = so.score_many(model, [data], [out / "data.scores.h5"], out / "manifest.json", task_events=1000)
    assert again["tasks"] == 0 and np.array_equal(read_scores(out / "data.scores.h5")["score"], want)

    (out / "data.scores.h5").unlink()
    (out / "manifest.json").unlink()
    interrupted()
    st = data.stat()
    with h5py.File(data, "r+") as h5:  # new content, same size, the old modification time put back
        h5["Particles"][0, 0, 0] += 100.0
    os.utime(data, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert data.stat().st_size == st.st_size
    again = so.score_many(model, [data], [out / "data.scores.h5"], out / "manifest.json", task_events=1000)
    assert again["tasks"] == ref["tasks"]  # every part scored again
    got = read_scores(out / "data.scores.h5")["score"]
    assert got[0] != want[0] and np.array_equal(got[1:], want[1:])
