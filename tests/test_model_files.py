"""Every command works on every model file adkit writes: one model of every registered detector
and of every kind (student, series, latent with an encoder, NPLM), through `show`, `show --json`
and `score`, with the same validation everywhere."""
from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import run_cli

from adkit.detectors import available, get

FAST = {"epochs": 1, "batch_size": 256, "n_train": 300, "n_estimators": 20, "n_channels": 3, "max_iter": 5,
        "n_centres": 50}
SERIES = {n for n in available() if get(n).tags.sequence}  # lstm-ae, gru-ae, conv-ae, mp, zscore
TWO_SAMPLE = {"nplm", "nplm-nn", "student", "sequence-student", "bdt-student"}  # written by `adkit nplm` / `adkit distill`, below


def _params(name: str) -> dict:
    names = get(name).param_names()
    return {k: v for k, v in FAST.items() if k in names and not (name in SERIES and k == "n_channels")}


@pytest.fixture(scope="module")
def models(tmp_path_factory, adc_file):
    """name → (model path, a file it scores)."""
    from adkit.artifact import Model
    from adkit.workflows import nplm, train

    d = tmp_path_factory.mktemp("kinds")
    out = {}
    for name in available():
        if name in TWO_SAMPLE:
            continue
        if name in SERIES:
            from adkit.workflows.series import train_series

            m = train_series(name, ["sensor-demo"], window=32, params=_params(name), epochs=1)
            out[name] = (m, "sensor-demo@3")
        else:
            latent = getattr(get(name), "latent", False)
            m = train(name, [str(adc_file)], params=_params(name), epochs=1 if "epochs" in _params(name) else None,
                      features="met,ht,n_jets,n_leptons" if latent else None)
            out[name] = (m, str(adc_file))
    enc = train("ae", [str(adc_file)], params={"latent_dim": 4, "epochs": 1})
    out["latent-with-encoder"] = (train("ocsvm", [str(adc_file)], params={"n_train": 300}, encoder=enc), str(adc_file))
    from adkit.distill import distill

    student, _ = distill(out["ae"][0], [str(adc_file)], hidden=[8], epochs=1)
    out["student"] = (student, str(adc_file))
    out["bdt-student"] = (distill(out["ae"][0], [str(adc_file)], kind="bdt", trees=3, depth=2)[0], str(adc_file))
    from adkit.datasets.sensor import write_gw_csv
    from adkit.distill.series import distill_series

    small = write_gw_csv(d / "gw10s.csv", seconds=10, seed=3)  # the demo's channels, a thirtieth of its length
    out["sequence-student"] = (distill_series(out["gru-ae"][0], [small], epochs=1, augment=0)[0], small)
    _, f_model = nplm([str(adc_file)], [str(adc_file)], None, features="met,ht", params={"n_centres": 50},
                      n_toys=0, n_expected=2500)
    out["nplm"] = (f_model, str(adc_file))
    paths = {}
    for name, (m, data) in out.items():
        p = d / f"{name}.adkit"
        m.save(p)
        Model.load(p)  # what adkit writes, adkit reads
        paths[name] = (p, data)
    return paths


def test_every_kind_is_covered(models):
    kinds = set(models)
    assert set(available()) - {"nplm-nn"} <= kinds | {"nplm-nn"}
    assert {"student", "latent-with-encoder", "nplm", "lstm-ae"} <= kinds


@pytest.mark.parametrize("name", [n for n in available() if n != "nplm-nn"] + ["latent-with-encoder"])
def test_show_and_score_every_model(models, name, tmp_path):
    path, data = models[name]
    r = run_cli("show", str(path))
    assert r.exit_code == 0, r.output
    assert "detector" in r.stdout and "Traceback" not in r.output
    r = run_cli("show", str(path), "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["format"] == "adkit-model"
    r = run_cli("score", data, "--model", str(path), "-o", str(tmp_path / "s.h5"))
    assert r.exit_code == 0, r.output
    if name in SERIES:  # per-row scores of a series: every row covered (the last window ends on the last row)
        import h5py

        with h5py.File(tmp_path / "s.h5", "r") as h5:
            s = h5["score"][:]
        assert len(s) > 0 and np.isfinite(s).all()
        return
    from adkit.io.writers import read_scores

    s = read_scores(tmp_path / "s.h5")["score"]
    assert len(s) > 0 and np.isfinite(s).all()


@pytest.mark.parametrize("name", [n for n in available() if n != "nplm-nn"] + ["latent-with-encoder"])
def test_tensors_that_do_not_fit_the_config_are_one_line(models, name, tmp_path):
    """Every tensor of every kind of model, truncated in turn: loading fails with ModelFileError or
    the model still scores; never another exception."""
    import zipfile

    from safetensors.numpy import save

    from adkit.artifact import Model, read_bundle
    from adkit.errors import ModelFileError

    path, _ = models[name]
    manifest, tensors = read_bundle(path)
    for key in sorted(tensors)[:12]:
        bad = dict(tensors)
        t = tensors[key]
        bad[key] = t[:-1] if t.ndim and len(t) > 1 else np.zeros((3, 3), t.dtype)
        p = tmp_path / "bad.adkit"
        with zipfile.ZipFile(p, "w") as z:
            z.writestr("manifest.json", json.dumps(manifest))
            z.writestr("tensors.safetensors", save(bad))
        try:
            m = Model.load(p)
        except ModelFileError as e:
            assert "\n" not in str(e) and str(p) in str(e)
            continue
        m.decision_function(np.zeros((3, m.n_features), np.float32),
                np.zeros((3, len(m.spec.condition_names)), np.float32) if m.detector.uses_condition else None)


@pytest.mark.parametrize("name", available())
def test_every_detector_trains_through_adkit_train(name, adc_file, tmp_path):
    """`adkit train --detector NAME` trains every registered detector (two-sample ones against
    --reference, sequence models on a series); the student is trained by `adkit distill` and says so."""
    out = str(tmp_path / "m.adkit")
    params = [a for k, v in _params(name).items() if k != "epochs" for a in ("--param", f"{k}={v}")]
    if name in ("student", "sequence-student", "bdt-student"):
        r = run_cli("train", "--detector", name, "--data", str(adc_file), "-o", out)
        assert r.exit_code == 2 and "adkit distill" in r.stderr and len(r.stderr.strip().splitlines()) == 1
        return
    if name in SERIES:
        series = tmp_path / "s.csv"
        t = np.arange(3000)
        series.write_text("time,a,b\n" + "".join(f"{i},{np.sin(i / 7):.4f},{np.cos(i / 5):.4f}\n" for i in t))
        args = ["--data", str(series), "--window", "16", "--rate", "1"]
    elif get(name).two_sample:
        args = ["--data", str(adc_file), "--reference", str(adc_file)]
    else:
        args = ["--data", str(adc_file)]
        if getattr(get(name), "latent", False):
            args += ["--features", "met,ht,n_jets,n_leptons"]
    epochs = ["--epochs", "1"] if "epochs" in get(name).param_names() else []
    r = run_cli("train", "--detector", name, *args, *params, *epochs, "-o", out)
    assert r.exit_code == 0, r.output
    from adkit.artifact import Model

    assert Model.load(out).detector.name == name
