"""The data-loss cases by name: outputs that would replace inputs or user folders, concurrent
writers, inputs that change (on resume, or while being read), disk full, killed workers,
leftover partial files, and fuzzing of the model manifest and the mapping/cut parser."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adkit.errors import AdkitError, ConfigError, InputError, ModelFileError, OutputError
from adkit.files import atomic_output, check_replace_dir, input_scope, note_input, remove_stale_partials, replace_dir


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _tree(d: Path) -> dict[str, str]:
    return {str(f.relative_to(d)): _sha(f) for f in sorted(d.rglob("*")) if f.is_file()}


# --- 1. never delete or replace what adkit did not create --------------------------------------------

def test_hls_dir_of_user_files_is_never_wiped(tmp_path, small_model):
    user = tmp_path / "analysis"
    user.mkdir()
    shutil.copy(small_model, user / "model.adkit")
    (user / "data.h5").write_bytes(b"events")
    before = _tree(user)
    for hls in (str(user), str(user / "sub" / ".."), "."):
        (user / "sub").mkdir(exist_ok=True)
        r = run_cli("distill", "--teacher", "model.adkit", "--hls-dir", hls, "--overwrite", "-o", "s.adkit", cwd=user)
        assert r.exit_code == 2 and "Traceback" not in r.output, r.output
        (user / "sub").rmdir()
        assert _tree(user) == before


def test_owned_directory_is_replaced_and_foreign_one_is_not(tmp_path):
    dest = tmp_path / "hls"
    for round_ in range(2):  # made, then replaced because adkit made it
        tmp = tmp_path / f".build{round_}"
        tmp.mkdir()
        (tmp / "firmware.cpp").write_text(f"round {round_}")
        with input_scope():
            check_replace_dir(dest, overwrite=True, option="--hls-dir")
            replace_dir(tmp, dest, True, "--hls-dir")
        assert (dest / "firmware.cpp").read_text() == f"round {round_}"
    (dest / "my_notes.txt").write_text("mine")  # a file adkit did not write makes it the user's
    with pytest.raises(OutputError, match="did not write"):
        check_replace_dir(dest, overwrite=True, option="--hls-dir")
    assert (dest / "my_notes.txt").exists()


def test_store_thresholds_refuses_a_model_changed_since_read(tmp_path, small_model, monkeypatch):
    """Another run retrains the model while `evaluate --store-thresholds` works: the newer file stays."""
    model = tmp_path / "m.adkit"
    shutil.copy(small_model, model)
    import adkit.report as report

    real = report.write_report

    def retrain_meanwhile(*a, **k):
        out = real(*a, **k)
        data = model.read_bytes()
        model.write_bytes(data + b"\0")  # someone else's newer file (a different size and mtime)
        return out
    monkeypatch.setattr(report, "write_report", retrain_meanwhile)
    r = run_cli("evaluate", "--model", str(model), "--store-thresholds", "10", "-o", str(tmp_path / "rep"))
    assert r.exit_code == 2 and "changed since adkit read it" in r.stderr, r.output
    assert model.read_bytes().endswith(b"\0")  # the newer file was kept


def test_store_thresholds_through_a_symlink_updates_the_target(tmp_path, small_model):
    target = tmp_path / "models" / "m.adkit"
    target.parent.mkdir()
    shutil.copy(small_model, target)
    link = tmp_path / "current.adkit"
    link.symlink_to(target)
    r = run_cli("evaluate", "--model", str(link), "--store-thresholds", "10", "-o", str(tmp_path / "rep"))
    assert r.exit_code == 0, r.output
    assert link.is_symlink() and os.readlink(link) == str(target)
    from adkit.artifact import Model

    names = [t.name for t in Model.load(target).thresholds]
    assert names == ["100kHz", "1000kHz", "10kHz"]  # the new one added, the stored ones kept
    assert "kept 100kHz, 1000kHz" in r.stderr


def test_no_replace_at_the_moment_of_the_rename(tmp_path):
    """A file that appears while adkit writes (another run) is kept; this output is dropped."""
    out = tmp_path / "out.h5"
    with pytest.raises(OutputError, match="appeared while this run was writing"):
        with atomic_output(out) as tmp:
            tmp.write_text("mine")
            out.write_text("the other run's complete file")
    assert out.read_text() == "the other run's complete file"
    assert not list(tmp_path.glob(".out.h5.partial*"))


def test_concurrent_writers_never_replace_each_other(tmp_path, small_model, adc_file):
    """Two real processes write the same -o without --overwrite: one wins, the other refuses."""
    cmd = [sys.executable, "-m", "adkit.cli", "score", str(adc_file), "--model", str(small_model), "-o",
           str(tmp_path / "out.h5")]
    procs = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.returncode, p.communicate()[1]) for p in procs]
    results = [(p.returncode, err) for p, (_, err) in zip(procs, results)]
    codes = sorted(c for c, _ in results)
    assert codes == [0, 2], results
    loser = next(e for c, e in results if c == 2)
    assert len(loser.strip().splitlines()) == 1 and ("already exists" in loser or "appeared" in loser)
    from adkit.io.writers import read_scores

    assert len(read_scores(tmp_path / "out.h5")["score"]) == 5000
    assert not list(tmp_path.glob(".out.h5.partial*"))


# --- 2. nothing stale or half-done is taken as done ---------------------------------------------------

@pytest.fixture(scope="module")
def two_inputs(tmp_path_factory):
    from adkit.datasets import background, generate, write_particles_h5

    d = tmp_path_factory.mktemp("resume")
    write_particles_h5(d / "a.h5", background(4000, seed=11)[0])
    write_particles_h5(d / "b.h5", generate("Ato4l", 3000, 12))
    write_particles_h5(d / "b_changed.h5", generate("Ato4l", 3000, 13))
    return d


def test_changed_input_on_resume_is_rescored(tmp_path, two_inputs, small_model):
    """A complete output whose input changed since (same size, even the same mtime) is redone, not skipped."""
    from adkit.io.writers import read_scores

    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    shutil.copy(two_inputs / "a.h5", a)
    shutil.copy(two_inputs / "b.h5", b)
    args = ["score", str(a), str(b), "--model", str(small_model), "-o", str(tmp_path / "o"), "--task-events", "1000"]
    assert run_cli(*args).exit_code == 0
    mtime = b.stat().st_mtime_ns
    shutil.copy(two_inputs / "b_changed.h5", b)
    os.utime(b, ns=(mtime, mtime))  # the same size and the same modification time: only the content differs
    r = run_cli(*args)
    assert r.exit_code == 0 and "scored 1 file(s), skipped 1" in r.stderr, r.output
    fresh = tmp_path / "fresh.h5"
    assert run_cli("score", str(b), "--model", str(small_model), "-o", str(fresh)).exit_code == 0
    np.testing.assert_array_equal(read_scores(tmp_path / "o" / "b.scores.h5")["score"], read_scores(fresh)["score"])
    rec = json.loads((tmp_path / "o" / "manifest.json").read_text())["files"][1]
    assert rec["input_sha256"] == _sha(b)  # the manifest describes the data that was scored


def test_parts_from_other_data_are_not_reused(tmp_path, two_inputs, small_model):
    """A part left by a killed run is reused only for the same input bytes, range and model."""
    from adkit.io.writers import read_scores

    b = tmp_path / "b.h5"
    shutil.copy(two_inputs / "b.h5", b)
    shutil.copy(two_inputs / "a.h5", tmp_path / "a.h5")
    args = ["score", str(b), str(tmp_path / "a.h5"), "--model", str(small_model), "-o", str(tmp_path / "o"),
            "--task-events", "1000"]
    assert run_cli(*args).exit_code == 0
    saved = tmp_path / "saved"
    shutil.copytree(tmp_path / "o", saved)
    # recreate the situation of a killed run: parts of b exist (scored from the old b), no output yet
    import h5py

    from adkit.workflows.scaleout import PARTS

    (tmp_path / "o" / "b.scores.h5").unlink()
    (tmp_path / "o" / "manifest.json").unlink()
    (tmp_path / "o" / "a.scores.h5").unlink()
    parts = tmp_path / "o" / PARTS
    parts.mkdir()
    (parts / ".adkit-made.json").write_text('{"format": "adkit-parts"}')  # the killed run's own parts directory
    old = read_scores(saved / "b.scores.h5")
    for start in range(0, 3000, 1000):
        with h5py.File(parts / f"b.scores.h5.{start}-{start + 1000}.h5", "w") as h5:
            h5["entry"], h5["score"] = old["entry"][start:start + 1000], old["score"][start:start + 1000]
            h5.attrs.update({"model_sha256": "x", "start": start, "stop": start + 1000})
    shutil.copy(two_inputs / "b_changed.h5", b)
    assert run_cli(*args).exit_code == 0
    fresh = tmp_path / "fresh.h5"
    assert run_cli("score", str(b), "--model", str(small_model), "-o", str(fresh)).exit_code == 0
    np.testing.assert_array_equal(read_scores(tmp_path / "o" / "b.scores.h5")["score"], read_scores(fresh)["score"])


def test_file_modified_while_read_is_refused(tmp_path, adc_file, small_model, monkeypatch):
    data = tmp_path / "data.h5"
    shutil.copy(adc_file, data)
    import adkit.workflows.scoring as scoring

    real = scoring.score_batch

    def touch_during_read(model, batch, prepared=None):
        os.utime(data, ns=(time.time_ns(), time.time_ns() + 10**9))  # someone appends to the file
        return real(model, batch, prepared)
    monkeypatch.setattr(scoring, "score_batch", touch_during_read)
    r = run_cli("score", str(data), "--model", str(small_model), "-o", str(tmp_path / "out.h5"))
    assert r.exit_code == 2 and "changed while adkit was reading it" in r.stderr, r.output
    assert not (tmp_path / "out.h5").exists() and not list(tmp_path.glob(".out.h5.partial*"))


def test_leftover_partials_of_killed_runs_are_removed(tmp_path, adc_file, small_model):
    import socket

    host = socket.gethostname()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    leftovers = [tmp_path / f".out.h5.partial-{host}-{pid}", tmp_path / f".out.h5.partial-{pid}"]  # killed runs
    kept = [tmp_path / f".out.h5.partial-{host}-{os.getppid()}",  # a live run's
            tmp_path / f".out.h5.partial-other-node-{pid}"]  # another machine's, on a shared file system
    for p in leftovers + kept:
        p.write_bytes(b"half")
    r = run_cli("score", str(adc_file), "--model", str(small_model), "-o", str(tmp_path / "out.h5"))
    assert r.exit_code == 0
    assert not any(p.exists() for p in leftovers) and all(p.exists() for p in kept)
    assert remove_stale_partials(tmp_path / "out.h5") == []


def test_killed_workers_exit_with_their_parent(tmp_path, two_inputs, small_model):
    """SIGKILL a `--workers 2` run: its worker processes exit too; the next run cleans up and completes."""
    files = [str(two_inputs / "a.h5"), str(two_inputs / "b.h5")]
    cmd = [sys.executable, "-m", "adkit.cli", "score", *files, "--model", str(small_model), "-o", str(tmp_path / "o"),
           "--workers", "2", "--task-events", "100", "--step", "100"]
    proc = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
    children: set[int] = set()
    deadline = time.time() + 60
    while time.time() < deadline and len(children) < 2 and proc.poll() is None:
        children = set(_children(proc.pid))
        time.sleep(0.05)
    time.sleep(0.5)
    children |= set(_children(proc.pid))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert len(children) >= 2, "the run ended before its workers started"
    deadline = time.time() + 10
    while time.time() < deadline and any(_alive(c) for c in children):
        time.sleep(0.1)
    assert not any(_alive(c) for c in children), "orphaned workers"
    again = subprocess.run(cmd, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert not list((tmp_path / "o").rglob("*.partial-*"))


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


# --- disk full and read-only file systems --------------------------------------------------------------

@pytest.fixture
def small_tmpfs(tmp_path):
    d = tmp_path / "tiny"
    d.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(d)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({r.stderr.strip() or 'not permitted'})")
    yield d
    subprocess.run(["umount", str(d)], capture_output=True)


def test_disk_full_is_one_line_and_leaves_nothing(small_tmpfs, tmp_path, small_model, adc_file):
    from adkit.datasets import background, write_particles_h5

    big = tmp_path / "big.h5"
    write_particles_h5(big, np.tile(background(5000, seed=3)[0], (12, 1, 1)), compression=None)  # 60k events
    (small_tmpfs / "filler").write_bytes(b"\0" * (1536 * 1024))
    for out in ("s.h5", "s.parquet"):
        r = run_cli("score", str(big), "--model", str(small_model), "-o", str(small_tmpfs / out))
        lines = r.stderr.strip().splitlines()
        assert r.exit_code == 2 and len(lines) == 1 and "no space left on device" in lines[0], r.output
        assert sorted(p.name for p in small_tmpfs.iterdir()) == ["filler"]
    r = run_cli("train", "--detector", "ae", "--epochs", "1", "--data", str(adc_file), "-o", str(small_tmpfs / "m.adkit"),
                "--param", "hidden=[512,512]")
    assert r.exit_code == 2 and "no space left on device" in r.stderr, r.output
    assert sorted(p.name for p in small_tmpfs.iterdir()) == ["filler"]


@pytest.mark.parametrize("err", [OSError(28, "No space left on device"), OSError(30, "Read-only file system"),
                                 OSError(5, "Input/output error"),
                                 RuntimeError("file write failed: errno = 28, error message = 'No space left'")])
def test_write_errors_mid_write_are_one_line(tmp_path, err):
    out = tmp_path / "o.bin"
    with pytest.raises(OutputError) as e:
        with atomic_output(out) as tmp:
            tmp.write_bytes(b"half")
            raise err
    assert str(out) in str(e.value) and "\n" not in str(e.value)
    assert list(tmp_path.iterdir()) == []


def test_read_only_directory(small_tmpfs, small_model, adc_file):
    subprocess.run(["mount", "-o", "remount,ro", str(small_tmpfs)], check=True)
    r = run_cli("score", str(adc_file), "--model", str(small_model), "-o", str(small_tmpfs / "s.h5"))
    assert r.exit_code == 2 and "not writable" in r.stderr and len(r.stderr.strip().splitlines()) == 1


# --- 3. fuzzing: the manifest and the cut parser never crash ------------------------------------------

def _containers(inner):
    return st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)


_json = st.recursive(st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=True) |
                     st.text(max_size=20), _containers, max_leaves=20)
_PATHS = ["detector", "detector.name", "detector.config", "detector.config.params", "input", "input.kind",
          "input.columns", "thresholds", "mapping", "preprocessing", "encoder", "provenance", "format_version"]


@settings(max_examples=120, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(_PATHS), value=_json, params=st.dictionaries(
    st.sampled_from(["hidden", "latent_dim", "epochs", "lr", "batch_size", "seed", "bogus"]), _json, max_size=3))
def test_fuzz_manifest(small_model, tmp_path_factory, path, value, params):
    from safetensors.numpy import save

    from adkit.artifact import Model, read_bundle

    manifest, tensors = read_bundle(small_model)
    node = manifest
    keys = path.split(".")
    for k in keys[:-1]:
        node = node[k]
    node[keys[-1]] = value
    if isinstance(manifest.get("detector"), dict) and isinstance(manifest["detector"].get("config"), dict):
        cfg = manifest["detector"]["config"]
        if isinstance(cfg.get("params"), dict):
            cfg["params"].update(params)
    p = tmp_path_factory.mktemp("fuzz") / "m.adkit"
    import zipfile

    with zipfile.ZipFile(p, "w") as z:
        z.writestr("manifest.json", json.dumps(manifest))
        z.writestr("tensors.safetensors", save(tensors))
    try:
        Model.load(p)
    except ModelFileError:
        pass  # the only acceptable failure: one clear line


_TOKENS = st.sampled_from(["MET_pt", "nJet", "x", "1", "2.5", "1e400", "-3", "(", ")", "&", "|", "~", "+", "-",
                           "*", "/", "%", "**", "<", ">", "==", "!=", "abs(", "and", "or", "not", ".", "[", "]",
                           "'s'", "lambda", ":", ",", "__class__", " "])


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(_TOKENS, min_size=1, max_size=30).map(" ".join))
def test_fuzz_cut(expr):
    from adkit.io.mapping import _names_in, evaluate_cut

    cols = {"MET_pt": np.linspace(0, 100, 50), "nJet": np.arange(50) % 5, "x": np.ones(50)}
    try:
        names = _names_in(expr)
    except ConfigError:
        return
    assert set(names) <= set(re.findall(r"[A-Za-z_]\w*", expr))  # only names the expression holds
    t0 = time.perf_counter()
    try:
        mask = evaluate_cut(expr, cols)
    except (ConfigError, InputError):
        return
    assert mask.dtype == bool and mask.shape == (50,)
    assert time.perf_counter() - t0 < 1.0


@settings(max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=st.dictionaries(st.sampled_from(["preset", "tree", "cut", "weight", "dataset", "multiplicities",
                                            "objects", "bogus"]), _json, max_size=4))
def test_fuzz_mapping(doc):
    from adkit.io.mapping import Mapping

    try:
        Mapping.from_dict(doc)
    except ConfigError:
        pass


def test_special_files_are_refused_as_inputs(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(AdkitError, match="FIFO"):
        note_input(fifo)
    with pytest.raises(AdkitError, match="character device"):
        note_input("/dev/zero")
