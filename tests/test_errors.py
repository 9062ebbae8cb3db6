"""Bad input never crashes and never loses data: one line, exit code 2, nothing half-written."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli


def assert_user_error(result, *fragments: str) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("adkit: error: ")]
    # one error line, last; lines before it may only announce defaults ("using ...", "writing ...")
    assert len(errors) == 1 and lines[-1] == errors[0], lines
    assert "Traceback" not in result.output
    err = errors[0]
    for f in fragments:
        assert f in err, (f, err)
    return err


def score(tmp_path, *files, model, extra=()):
    return run_cli("score", *map(str, files), "--model", str(model), "-o", str(tmp_path / "out.h5"), *extra)


def no_output(tmp_path):
    return not (tmp_path / "out.h5").exists() and not list(tmp_path.glob(".out.h5.partial*"))


def test_missing_file(tmp_path, small_model):
    assert_user_error(score(tmp_path, tmp_path / "nope.root", model=small_model), "nope.root", "no such file")
    assert no_output(tmp_path)


def test_directory_instead_of_file(tmp_path, small_model):
    assert_user_error(score(tmp_path, tmp_path, model=small_model), str(tmp_path), "is a directory")


def test_not_root_or_hdf5(tmp_path, small_model):
    f = tmp_path / "events.root"
    f.write_text("run,event\n1,2\n")
    assert_user_error(score(tmp_path, f, model=small_model), "events.root", "not a ROOT, HDF5 or Parquet file")
    assert no_output(tmp_path)


def test_damaged_root(tmp_path, small_model, shared_data):
    assert_user_error(score(tmp_path, shared_data / "real" / "bad_delphes.root", model=small_model),
                      "bad_delphes.root")
    assert no_output(tmp_path)


def test_corrupted_compressed_root_baskets(tmp_path, small_model, shared_data):
    """A byte flipped every 997 bytes through the data: zlib refuses the baskets, adkit says which file."""
    data = bytearray((shared_data / "real" / "nano_dy.root").read_bytes())
    for k in range(len(data) // 4, 3 * len(data) // 4, 997):
        data[k] ^= 0xFF
    f = tmp_path / "flipped.root"
    f.write_bytes(bytes(data))
    assert_user_error(score(tmp_path, f, model=small_model), "flipped.root")
    assert no_output(tmp_path)


def test_a_bug_while_reading_root_is_not_called_a_damaged_file(tmp_path, small_model, shared_data, monkeypatch):
    """Only the errors of damaged files become "damaged file": adkit's own bug keeps its traceback."""
    import uproot

    def buggy(*args, **kwargs):
        raise AttributeError("'NoneType' object has no attribute 'classnames'")

    monkeypatch.setattr(uproot, "open", buggy)
    with pytest.raises(AttributeError, match="NoneType"):
        score(tmp_path, shared_data / "real" / "nano_dy.root", model=small_model)


@pytest.mark.parametrize("name", ["W.root", "W.h5"])
def test_truncated_data_file(tmp_path, small_model, shared_data, name):
    data = (shared_data / "pythia" / name).read_bytes()
    f = tmp_path / f"cut_{name}"
    f.write_bytes(data[: len(data) // 2])
    assert_user_error(score(tmp_path, f, model=small_model), f.name)
    assert no_output(tmp_path)


def test_empty_tree(tmp_path, small_model, shared_data):
    assert_user_error(score(tmp_path, shared_data / "real" / "nano_dy_empty.root", model=small_model),
                      "nano_dy_empty.root", "no events")
    assert no_output(tmp_path)


def test_missing_branch(tmp_path, small_model, shared_data):
    m = tmp_path / "m.yaml"
    m.write_text("objects:\n  jet: {pt: L1Jet_pt, eta: L1Jet_eta, phi: L1Jet_phi}\n")
    assert_user_error(score(tmp_path, shared_data / "real" / "nano_dy.root", model=small_model,
                            extra=("--mapping", str(m))), "nano_dy.root", "no branch 'L1Jet_pt'", "--mapping")


def test_missing_dataset_and_wrong_shape(tmp_path, small_model):
    import h5py

    f = tmp_path / "x.h5"
    with h5py.File(f, "w") as h5:
        h5["Particles"] = np.zeros((10, 19, 2), np.float32)
    assert_user_error(score(tmp_path, f, model=small_model), "x.h5", "shape (10, 19, 2)", "(N, 19, 4)")
    g = tmp_path / "y.h5"
    with h5py.File(g, "w") as h5:
        h5["a"] = np.zeros((10, 3))
        h5["b"] = np.zeros((10, 4))
    assert_user_error(score(tmp_path, g, model=small_model), "y.h5", "no 'Particles' dataset", "--dataset")
    assert no_output(tmp_path)


def test_nan_inputs(tmp_path, small_model):
    from adkit.datasets import background, write_particles_h5

    p = background(300, seed=3)[0]
    p[[5, 6], 0, 0] = np.nan
    f = tmp_path / "nan.h5"
    write_particles_h5(f, p)
    assert_user_error(score(tmp_path, f, model=small_model), "nan.h5", "2 event(s) with NaN/inf", "--nan-policy")
    assert no_output(tmp_path)
    r = score(tmp_path, f, model=small_model, extra=("--nan-policy", "drop"))
    assert r.exit_code == 0, r.output
    from adkit.io.writers import read_scores

    assert len(read_scores(tmp_path / "out.h5")["score"]) == 298


def test_feature_count_mismatch(tmp_path, small_model):
    import h5py

    f = tmp_path / "table.h5"
    with h5py.File(f, "w") as h5:
        h5["features"] = np.zeros((10, 12), np.float32)
    assert_user_error(score(tmp_path, f, model=small_model), "table.h5", "table with 12 columns", "57 features")
    assert no_output(tmp_path)


@pytest.mark.parametrize("damage", ["truncated", "corrupted", "deflate", "foreign", "future", "empty"])
def test_bad_model_file(tmp_path, small_model, adc_file, damage):
    bad = tmp_path / "bad.adkit"
    data = small_model.read_bytes()
    if damage == "truncated":
        bad.write_bytes(data[: len(data) // 2])
    elif damage == "corrupted":
        bad.write_bytes(data[:200] + bytes(len(data) - 400) + data[-200:])
    elif damage == "deflate":  # zip headers intact, the compressed tensor stream damaged: zlib's own error
        import zlib

        with zipfile.ZipFile(small_model) as z:
            info = z.getinfo("tensors.safetensors")
        start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
        for at in range(start + 16, start + info.compress_size - 64, 97):
            bad.write_bytes(data[:at] + bytes(b ^ 0x5A for b in data[at:at + 64]) + data[at + 64:])
            try:
                zipfile.ZipFile(bad).read("tensors.safetensors")
            except zlib.error:
                break
            except zipfile.BadZipFile:
                continue
        else:
            pytest.fail("no damage found that zlib itself reports")
    elif damage == "foreign":
        with zipfile.ZipFile(bad, "w") as z:
            z.writestr("manifest.json", '{"format": "keras"}')
    elif damage == "future":
        with zipfile.ZipFile(small_model) as src, zipfile.ZipFile(bad, "w") as z:
            for name in src.namelist():
                blob = src.read(name)
                if name == "manifest.json":
                    blob = blob.replace(b'"format_version": 1', b'"format_version": 99')
                z.writestr(name, blob)
    else:
        bad.write_bytes(b"")
    err = assert_user_error(score(tmp_path, adc_file, model=bad), "bad.adkit")
    if damage == "future":
        assert "format version 99" in err
    assert no_output(tmp_path)


def test_unknown_model_name(tmp_path):
    err = assert_user_error(run_cli("train", "--detector", "vea", "-o", str(tmp_path / "m.adkit")), "unknown model 'vea'")
    assert "vae" in err and "ae" in err
    assert not (tmp_path / "m.adkit").exists()


def test_existing_output_needs_overwrite(tmp_path, small_model, adc_file):
    out = tmp_path / "out.h5"
    out.write_bytes(b"precious")
    assert_user_error(score(tmp_path, adc_file, model=small_model), "out.h5", "--overwrite")
    assert out.read_bytes() == b"precious"
    r = score(tmp_path, adc_file, model=small_model, extra=("--overwrite",))
    assert r.exit_code == 0 and out.read_bytes() != b"precious"


def test_missing_output_directory(tmp_path, small_model, adc_file):
    r = run_cli("score", str(adc_file), "--model", str(small_model), "-o", str(tmp_path / "no" / "dir" / "s.h5"))
    assert_user_error(r, "s.h5", "does not exist")


def test_unwritable_output_directory(tmp_path, small_model, adc_file):
    if os.geteuid() == 0:
        pytest.skip("root ignores permission bits; the read-only case for root is a read-only mount, "
                    "tests/test_safety.py::test_read_only_directory")
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    assert_user_error(run_cli("score", str(adc_file), "--model", str(small_model), "-o", str(ro / "s.h5")),
                      "not writable")


def test_interrupted_scoring_leaves_no_complete_looking_file(tmp_path, small_model, adc_file, monkeypatch):
    import adkit.workflows.scoring as scoring

    calls = {"n": 0}
    real = scoring.score_batch

    def flaky(model, batch, prepared=None):
        calls["n"] += 1
        if calls["n"] == 2:  # the second of two chunks
            raise KeyboardInterrupt
        return real(model, batch, prepared)

    monkeypatch.setattr(scoring, "score_batch", flaky)
    r = run_cli("score", str(adc_file), "--model", str(small_model), "-o", str(tmp_path / "out.h5"), "--step", "1000")
    assert r.exit_code == 130 and "interrupted" in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_killed_scoring_leaves_only_a_partial_name(tmp_path, small_model, shared_data):
    """SIGKILL mid-run: at most a hidden .partial file, never the final name."""
    big = tmp_path / "big.h5"
    shutil.copy(shared_data / "pythia" / "W.h5", big)
    out = tmp_path / "s.h5"
    proc = subprocess.Popen([sys.executable, "-c", (
        "import sys, time, adkit.workflows.scoring as s\n"
        "real = s.score_batch\n"
        "def slow(m, b, p=None):\n    time.sleep(0.5)\n    return real(m, b, p)\n"
        "s.score_batch = slow\n"
        "from adkit.cli import main\n"
        f"main(['score', {str(big)!r}, '--model', {str(small_model)!r}, '-o', {str(out)!r}, '--step', '2500'])\n")])
    import time

    deadline = time.time() + 60
    while not list(tmp_path.glob(".s.h5.partial*")) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.1)
    proc.kill()
    proc.wait()
    assert not out.exists()


def test_subprocess_error_has_no_traceback(tmp_path):
    r = subprocess.run([sys.executable, "-m", "adkit.cli", "info", str(tmp_path / "missing.h5")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip() == f"adkit: error: {tmp_path / 'missing.h5'}: no such file"
    r = subprocess.run([sys.executable, "-m", "adkit.cli", "--debug", "info", str(tmp_path / "missing.h5")],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "Traceback" in r.stderr


def test_bad_options(tmp_path):
    assert run_cli("score").exit_code == 2  # click usage error
    assert_user_error(run_cli("train", "--features", "n_jet", "-o", str(tmp_path / "m.adkit")), "n_jet", "n_jets")
    cfg = tmp_path / "run.yaml"
    cfg.write_text("epoch: 3\n")
    assert_user_error(run_cli("train", "--config", str(cfg), "-o", str(tmp_path / "m.adkit")), "run.yaml", "epoch")
    assert_user_error(run_cli("train", "--param", "nonsense=1", "-o", str(tmp_path / "m.adkit")), "nonsense")
    assert not list(Path(tmp_path).glob("*.adkit"))
