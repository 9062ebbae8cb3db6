"""Hostile inputs, unsafe outputs and bad values, driven by one table of cases.

Every case runs one command in a fresh directory holding copies of a model and data files,
and asserts the promise: exit code 2, exactly one line on stderr (``adkit: error: ...``) with
the expected words, no traceback, and every file in the directory untouched (same names,
same checksums: no output, no partial file, inputs and pre-existing outputs unchanged).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli

# --- the world each case runs in ---------------------------------------------------------------------


@dataclass
class World:
    d: Path
    model: Path
    h5: Path
    root: Path
    series_model: Path

    def p(self, name: str) -> str:
        return str(self.d / name)


def _snapshot(d: Path) -> dict[str, str]:
    out = {}
    for f in sorted(d.rglob("*")):
        if f.is_symlink():
            out[str(f.relative_to(d))] = "link->" + os.readlink(f)
        elif f.is_file():
            out[str(f.relative_to(d))] = hashlib.sha256(f.read_bytes()).hexdigest()
        elif f.is_dir():
            out[str(f.relative_to(d))] = "dir"
    return out


@pytest.fixture(scope="module")
def series_model(tmp_path_factory) -> Path:
    """An LSTM AE on a one-channel CSV series (columns timestamp, value, is_anomaly)."""
    from adkit.workflows.series import train_series

    d = tmp_path_factory.mktemp("series")
    (d / "train.csv").write_text(_series_csv([0] * 600))
    train_series("lstm-ae", [str(d / "train.csv")], window=16, params={"epochs": 1}).save(d / "series.adkit")
    return d / "series.adkit"


@pytest.fixture
def world(tmp_path, small_model, adc_file, series_model) -> World:
    return make_world(tmp_path, small_model, adc_file, series_model)


def make_world(tmp_path: Path, small_model: Path, adc_file: Path, series_model: Path) -> World:
    shutil.copy(small_model, tmp_path / "model.adkit")
    shutil.copy(adc_file, tmp_path / "data.h5")
    shutil.copy(series_model, tmp_path / "series.adkit")
    from conftest import SHARED_DATA

    root = tmp_path / "nano.root"
    shutil.copy(SHARED_DATA / "real" / "nano_dy.root", root)
    _WORLD_H5[:] = [tmp_path / "data.h5"]
    return World(tmp_path, tmp_path / "model.adkit", tmp_path / "data.h5", root, tmp_path / "series.adkit")


# --- hostile model files -------------------------------------------------------------------------------

def _bundle(w: World) -> tuple[dict, dict[str, np.ndarray]]:
    from adkit.artifact import read_bundle

    return read_bundle(w.model)


def _write_model(path: Path, manifest, tensors=None, *, raw_manifest: bytes | None = None,
                 compress=zipfile.ZIP_DEFLATED, extra: dict | None = None, encrypt_flag=False,
                 tensor_blob: bytes | None = None) -> None:
    from safetensors.numpy import save

    with zipfile.ZipFile(path, "w", compression=compress) as z:
        info = zipfile.ZipInfo("manifest.json")
        info.compress_type = compress
        z.writestr(info, raw_manifest if raw_manifest is not None else json.dumps(manifest))
        if tensor_blob is not None:
            z.writestr("tensors.safetensors", tensor_blob)
        elif tensors is not None:
            z.writestr("tensors.safetensors", save({k: np.ascontiguousarray(v) for k, v in tensors.items()}))
        for k, v in (extra or {}).items():
            z.writestr(k, v)
    if encrypt_flag:  # zipfile will not write the flag itself: set it in the local and central headers
        b = bytearray(path.read_bytes())
        for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            i = b.find(sig)
            b[i + off] |= 0x1
        path.write_bytes(bytes(b))


def bad_model(edit: Callable[[dict, dict], None] | None = None, **kw) -> Callable[[World], Path]:
    """A setup writing ``bad.adkit``: the small model with its manifest/tensors edited."""
    def setup(w: World) -> Path:
        manifest, tensors = _bundle(w)
        if edit is not None:
            edit(manifest, tensors)
        _write_model(w.d / "bad.adkit", manifest, tensors, **kw)
        return w.d / "bad.adkit"
    return setup


def _set(path: str, value):
    def edit(m, t):
        node = m
        keys = path.split(".")
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value
    return edit


def _tensor(name_part: str, fn):
    """Edit the first (by name) floating-point matrix or vector whose name contains ``name_part``."""
    def edit(m, t):
        keys = sorted(k for k in t if name_part in k and t[k].dtype.kind == "f" and t[k].ndim >= 1)
        k = next((k for k in keys if t[k].ndim == 2), keys[0])
        t[k] = fn(t[k])
    return edit


def _nested(depth: int) -> bytes:
    return ('{"format": "adkit-model", "format_version": 1, "x": ' + "[" * depth + "]" * depth + "}").encode()


def _special(kind: str) -> Callable[[World], Path]:
    def setup(w: World) -> Path:
        p = w.d / f"special.{kind}"
        if kind == "fifo":
            os.mkfifo(p)
        else:
            os.symlink("/dev/zero", p)
        return p
    return setup


def _text(name: str, content: bytes) -> Callable[[World], Path]:
    def setup(w: World) -> Path:
        (w.d / name).write_bytes(content)
        return w.d / name
    return setup


# --- hostile data files ---------------------------------------------------------------------------------

def _h5(name: str, data, dataset="Particles") -> Callable[[World], Path]:
    def setup(w: World) -> Path:
        import h5py

        with h5py.File(w.d / name, "w") as h5:
            h5.create_dataset(dataset, data=data)
        return w.d / name
    return setup


def _parquet(name: str, columns: dict) -> Callable[[World], Path]:
    def setup(w: World) -> Path:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table(columns), w.d / name)
        return w.d / name
    return setup


def _nano_parquet(**override):
    base = {"MET_pt": [10.0, 20.0, 30.0], "MET_phi": [0.1, 0.2, 0.3],
            "Jet_pt": [[50.0, 30.0], [40.0], []], "Jet_eta": [[0.1, 0.2], [0.3], []], "Jet_phi": [[0.1, 0.2], [0.3], []],
            "Electron_pt": [[], [], []], "Electron_eta": [[], [], []], "Electron_phi": [[], [], []],
            "Muon_pt": [[], [], []], "Muon_eta": [[], [], []], "Muon_phi": [[], [], []]}
    return {**base, **override}


def _csv(name: str, text: str) -> Callable[[World], Path]:
    return _text(name, text.encode())


def _series_csv(label_values: list, value_col=None) -> str:
    n = len(label_values)
    vals = value_col or [f"{np.sin(i / 5):.4f}" for i in range(n)]
    return "timestamp,value,is_anomaly\n" + "".join(f"{i},{v},{lab}\n" for i, (v, lab) in
                                                    enumerate(zip(vals, label_values)))


def _mapping(name: str, text: str) -> Callable[[World], Path]:
    return _text(name, text.encode() if isinstance(text, str) else text)


# --- the table ---------------------------------------------------------------------------------------------

@dataclass
class Case:
    id: str
    args: Callable[[World, Path | None], list[str]]
    words: tuple[str, ...]
    setup: Callable[[World], Path] | None = None
    marks: tuple = field(default_factory=tuple)


def score_with(model_of=lambda w, s: s):
    return lambda w, s: ["score", str(w.h5), "--model", str(model_of(w, s)), "-o", w.p("out.h5")]


def score_file(extra=()):
    return lambda w, s: ["score", str(s), "--model", str(w.model), "-o", w.p("out.h5"), *extra]


def score_opts(*extra):
    return lambda w, s: ["score", str(w.h5), "--model", str(w.model), "-o", w.p("out.h5"), *extra]


def score_root_mapping():
    return lambda w, s: ["score", str(w.root), "--model", str(w.model), "-o", w.p("out.h5"), "--mapping", str(s)]


def evaluate_opts(*extra):
    return lambda w, s: ["evaluate", "--model", str(w.model), "--background", str(w.h5), "--signal",
                         f"x={w.h5}", "-o", w.p("report"), *extra]


def train_opts(*extra, model="ae"):
    return lambda w, s: ["train", "--detector", model, "--data", str(w.h5), "-o", w.p("new.adkit"), *extra]


def series_eval(w, s):
    return ["evaluate", "--model", str(w.series_model), "--series", str(s), "-o", w.p("report")]


MODEL_CASES = [
    Case("model-missing", score_with(lambda w, s: w.d / "nope.adkit"), ("nope.adkit", "not found")),
    Case("model-directory", score_with(lambda w, s: w.d), ("is a directory",)),
    Case("model-fifo", score_with(), ("FIFO",), _special("fifo")),
    Case("model-dev-zero", score_with(), ("character device",), _special("zero")),
    Case("model-text", score_with(), ("not an adkit model file",), _text("t.adkit", b"hello")),
    Case("model-empty", score_with(), ("not an adkit model file",), _text("e.adkit", b"")),
    Case("model-truncated", score_with(), ("bad.adkit",),
         lambda w: _text("bad.adkit", w.model.read_bytes()[: w.model.stat().st_size // 2])(w)),
    Case("model-no-manifest", score_with(), ("no manifest.json",),
         lambda w: (_write_model(w.d / "bad.adkit", None, raw_manifest=b"{}", extra={}) or
                    _zip_rename(w.d / "bad.adkit"))),
    Case("model-manifest-not-json", score_with(), ("corrupted",), bad_model(raw_manifest=b"{not json")),
    Case("model-manifest-list", score_with(), ("not a JSON object",), bad_model(raw_manifest=b"[1, 2]")),
    Case("model-wrong-format", score_with(), ("not an adkit-model file",), bad_model(_set("format", "other"))),
    Case("model-future-version", score_with(), ("format version 99",), bad_model(_set("format_version", 99))),
    Case("model-nested-json", score_with(), ("nested",), bad_model(raw_manifest=_nested(100_000))),
    Case("model-deep-json", score_with(), ("nested deeper",), bad_model(raw_manifest=_nested(200))),
    Case("model-encrypted", score_with(), ("encrypted",), bad_model(encrypt_flag=True)),
    Case("model-bzip2", score_with(), ("unsupported compression",), bad_model(compress=zipfile.ZIP_BZIP2)),
    Case("model-many-members", score_with(), ("members",), bad_model(extra={f"x{i}": b"" for i in range(10)})),
    Case("model-no-tensors", score_with(), ("no tensors.safetensors",),
         lambda w: (_write_model(w.d / "bad.adkit", _bundle(w)[0]), w.d / "bad.adkit")[1]),
    Case("model-tensors-corrupt", score_with(), ("tensor block is corrupted",),
         lambda w: (_write_model(w.d / "bad.adkit", _bundle(w)[0], tensor_blob=b"\x10garbage"), w.d / "bad.adkit")[1]),
    Case("model-tensor-nan", score_with(), ("NaN or inf",), bad_model(_tensor("detector.", lambda a: a * np.nan))),
    Case("model-tensor-shape", score_with(), ("bad.adkit", "do not match"), bad_model(_tensor("detector.", lambda a: a.T.copy()
                                                                                  if a.ndim == 2 else a[:1]))),
    Case("model-scale-zero", score_with(), ("scale is zero",), bad_model(_tensor("preprocessing.scale",
                                                                                 lambda a: a * 0))),
    Case("model-huge-width", score_with(), ("hidden",), bad_model(_set("detector.config.params.hidden", [10**9]))),
    Case("model-latent-zero", score_with(), ("latent_dim",), bad_model(_set("detector.config.params.latent_dim", 0))),
    Case("model-lr-text", score_with(), ("lr",), bad_model(_set("detector.config.params.lr", "abc"))),
    Case("model-unknown-detector", score_with(), ("unknown model",), bad_model(_set("detector.name", "nosuch"))),
    Case("model-thresholds-type", score_with(), ("thresholds",), bad_model(_set("thresholds", "all"))),
    Case("model-columns-type", score_with(), ("columns",), bad_model(_set("input.columns", 5))),
    Case("model-input-kind", score_with(), ("kind",), bad_model(_set("input.kind", "pickle"))),
    Case("model-cut-pow", score_with(), ("cut",), bad_model(_set("mapping", {"cut": "MET_pt ** 99999999"}))),
    Case("model-mapping-multiplicity", score_with(), ("multiplicities",),
         bad_model(_set("mapping", {"multiplicities": {"jet": 10**9}}))),
    Case("model-scores-inf", score_with(), ("NaN/inf scores",),
         bad_model(_tensor("detector.", lambda a: np.full_like(a, 3e38)))),
    Case("show-damaged-model", lambda w, s: ["show", str(s)], ("NaN or inf",),
         bad_model(_tensor("detector.", lambda a: a * np.nan))),
    Case("show-huge-width", lambda w, s: ["show", str(s)], ("hidden",),
         bad_model(_set("detector.config.params.hidden", [10**9]))),
]


def _zip_rename(path: Path) -> Path:
    """A zip holding only a member that is not the manifest."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("other.json", "{}")
    return path


rng = np.random.default_rng(0)
_particles = np.zeros((20, 19, 4), np.float32)
_particles[:, 0, :] = [30.0, 0.0, 0.1, 1]

INPUT_CASES = [
    Case("data-missing", score_file(), ("no such file",), lambda w: w.d / "nope.h5"),
    Case("data-directory", score_file(), ("is a directory",), lambda w: w.d),
    Case("data-fifo", score_file(), ("FIFO",), _special("fifo")),
    Case("data-dev-zero", score_file(), ("character device",), _special("zero")),
    Case("data-empty", score_file(), ("file is empty",), _text("e.h5", b"")),
    Case("data-text", score_file(), ("not a ROOT, HDF5 or Parquet",), _text("t.root", b"run,event\n1,2\n")),
    Case("data-truncated-h5", score_file(), ("cut.h5",),
         lambda w: _text("cut.h5", w.h5.read_bytes()[: w.h5.stat().st_size // 2])(w)),
    Case("data-complex-h5", score_file(), ("complex numbers",), _h5("c.h5", _particles.astype(np.complex64))),
    Case("data-string-h5", score_file(), ("not real numbers",),
         _h5("s.h5", np.array([[b"a", b"b"]] * 5), dataset="table")),
    Case("data-wrong-shape-h5", score_file(), ("shape",), _h5("w.h5", np.zeros((5, 7, 4), np.float32))),
    Case("data-parquet-nulls", score_file(), ("n.parquet", "NaN"),
         _parquet("n.parquet", _nano_parquet(Jet_pt=[[50.0, None], [40.0], []]))),
    Case("data-parquet-met-null", score_file(), ("MET_pt",),
         _parquet("m.parquet", _nano_parquet(MET_pt=[10.0, None, 30.0]))),
    Case("data-parquet-strings", score_file(), ("MET_pt",),
         _parquet("s.parquet", _nano_parquet(MET_pt=["a", "b", "c"]))),
    Case("data-parquet-jagged-counts", score_file(), ("disagree",),
         _parquet("j.parquet", _nano_parquet(Jet_eta=[[0.1], [0.3, 0.2], []]))),
    Case("data-parquet-jagged-met", score_file(), ("MET",),
         _parquet("jm.parquet", _nano_parquet(MET_pt=[[10.0, 5.0], [20.0], [30.0]]))),
    Case("data-nan-reject", score_file(), ("NaN/inf", "--nan-policy"),
         _h5("nan.h5", np.where(np.arange(20)[:, None, None] == 3, np.nan, _particles).astype(np.float32))),
    Case("mapping-cut-none-kept", score_root_mapping(), ("keeps none",), _mapping("m.yaml", "cut: 'MET_pt < 0'\n")),
    Case("mapping-cut-pow", score_root_mapping(), ("may use",), _mapping("m.yaml", "cut: 'MET_pt ** 9999999'\n")),
    Case("mapping-cut-call", score_root_mapping(), ("abs(x) only",),
         _mapping("m.yaml", "cut: \"__import__('os').system('true')\"\n")),
    Case("mapping-cut-attribute", score_root_mapping(), ("may use",), _mapping("m.yaml", "cut: 'MET_pt.real > 1'\n")),
    Case("mapping-cut-constant", score_root_mapping(), ("constants",), _mapping("m.yaml", "cut: 'MET_pt > 1e300'\n")),
    Case("mapping-cut-string", score_root_mapping(), ("constants",), _mapping("m.yaml", "cut: \"MET_pt > 'a'\"\n")),
    Case("mapping-cut-and", score_root_mapping(), ("instead of 'and'",),
         _mapping("m.yaml", "cut: 'MET_pt > 1 and MET_pt < 9'\n")),
    Case("mapping-cut-jagged", score_root_mapping(), ("jagged",), _mapping("m.yaml", "cut: 'Jet_pt > 1'\n")),
    Case("mapping-cut-unknown", score_root_mapping(), ("nope",), _mapping("m.yaml", "cut: 'nope > 1'\n")),
    Case("mapping-cut-long", score_root_mapping(), ("longer than 1000",),
         _mapping("m.yaml", "cut: '" + " + ".join(["MET_pt"] * 300) + " > 1'\n")),
    Case("mapping-multiplicity-text", score_root_mapping(), ("multiplicities",),
         _mapping("m.yaml", "multiplicities: {jet: abc}\n")),
    Case("mapping-not-utf8", score_root_mapping(), ("not UTF-8",), _mapping("m.yaml", b"tree: \xff\xfe\n")),
    Case("mapping-not-dict", score_root_mapping(), ("dictionary",), _mapping("m.yaml", "- a\n- b\n")),
    Case("mapping-unknown-key", score_root_mapping(), ("unknown key",), _mapping("m.yaml", "trees: Events\n")),
    Case("mapping-pt-number", score_root_mapping(), ("objects",), _mapping("m.yaml", "objects: {jet: {pt: 5}}\n")),
    Case("mapping-met-jagged", score_root_mapping(), ("MET",),
         _mapping("m.yaml", "objects: {met: {pt: Jet_pt, phi: Jet_phi}}\n")),
    Case("mapping-counts-disagree", score_root_mapping(), ("disagree",),
         _mapping("m.yaml", "objects: {jet: {pt: Jet_pt, eta: Electron_eta, phi: Jet_phi}}\n")),
    Case("mapping-fifo", score_root_mapping(), ("FIFO",), _special("fifo")),
    Case("series-label-not-binary", series_eval, ("0 (normal) or 1",), _csv("l.csv", _series_csv([0, 2] * 40))),
    Case("series-label-text", series_eval, ("0 (normal) or 1",), _csv("l.csv", _series_csv(["no", "yes"] * 40))),
    Case("series-value-text", series_eval, ("text or mixed",),
         _csv("v.csv", _series_csv([0] * 80, ["a"] * 80))),
    Case("series-fifo", series_eval, ("FIFO",), _special("fifo")),
]

OPTION_CASES = [
    Case("rates-negative", evaluate_opts("--rates", "-1"), ("--rates", "-1")),
    Case("rates-zero", evaluate_opts("--rates", "0"), ("--rates",)),
    Case("rates-nan", evaluate_opts("--rates", "nan"), ("--rates",)),
    Case("rates-above-input", evaluate_opts("--rates", "50000"), ("input rate",)),
    Case("rates-text", evaluate_opts("--rates", "fast"), ("--rates", "numbers")),
    Case("store-thresholds-negative", evaluate_opts("--store-thresholds", "-5"), ("--store-thresholds",)),
    Case("bunch-rate-nan", evaluate_opts("--bunch-rate", "nan"), ("--bunch-rate", "finite")),
    Case("bunch-rate-zero", evaluate_opts("--bunch-rate", "0"), ("--bunch-rate",)),
    Case("param-latent-zero", train_opts("--param", "latent_dim=0"), ("latent_dim=0",)),
    Case("param-lr-text", train_opts("--param", "lr=abc"), ("lr='abc'", "number")),
    Case("param-hidden-zero", train_opts("--param", "hidden=[0]"), ("hidden",)),
    Case("param-hidden-huge", train_opts("--param", "hidden=[1000000000]"), ("hidden",)),
    Case("param-epochs-fraction", train_opts("--param", "epochs=1.5"), ("epochs",)),
    Case("param-unknown", train_opts("--param", "nosuch=1"), ("no parameter 'nosuch'",)),
    Case("param-no-equals", train_opts("--param", "latent_dim"), ("NAME=VALUE",)),
    Case("param-bad-yaml", train_opts("--param", "hidden=[0"), ("--param",)),
    Case("param-deep-list", train_opts("--param", "hidden=" + "[" * 60 + "]" * 60), ("hidden",)),
    Case("param-ocsvm-nu", train_opts("--param", "nu=2", model="ocsvm"), ("nu=2",)),
    Case("features-comma", train_opts("--features", ","), ("no feature names",)),
    Case("features-twice", train_opts("--features", "met,met"), ("twice",)),
    Case("features-unknown", train_opts("--features", "met,nosuch"), ("nosuch",)),
    Case("seed-negative", train_opts("--seed", "-1"), ("--seed",)),
    Case("seed-huge", train_opts("--seed", str(2**40)), ("--seed",)),
    Case("epochs-zero", train_opts("--epochs", "0"), ("--epochs",)),
    Case("model-name-unknown", train_opts(model="nosuch"), ("unknown model",)),
    Case("config-not-utf8", lambda w, s: ["train", "--config", str(s), "-o", w.p("n.adkit")], ("not UTF-8",),
         _text("c.yaml", b"epochs: \xff\n")),
    Case("config-epochs-text", lambda w, s: ["train", "--config", str(s), "-o", w.p("n.adkit")], ("epochs",),
         _text("c.yaml", b"epochs: abc\n")),
    Case("config-unknown-key", lambda w, s: ["train", "--config", str(s), "-o", w.p("n.adkit")], ("unknown key",),
         _text("c.yaml", b"epoch: 3\n")),
    Case("config-not-dict", lambda w, s: ["train", "--config", str(s), "-o", w.p("n.adkit")], ("not a dictionary",),
         _text("c.yaml", b"[1, 2]\n")),
    Case("config-seed-negative", lambda w, s: ["train", "--config", str(s), "-o", w.p("n.adkit")], ("seed",),
         _text("c.yaml", b"seed: -3\n")),
    Case("config-missing", lambda w, s: ["train", "--config", w.p("nope.yaml"), "-o", w.p("n.adkit")],
         ("not found",)),
    Case("generate-events-huge", lambda w, s: ["generate", "-o", w.p("gen"), "--events", str(10**10)], ("--events",)),
    Case("generate-format", lambda w, s: ["generate", "-o", w.p("gen"), "--format", "csv", "--events", "10"],
         ("--format",)),
    Case("scheduler-garbage", score_opts("--executor", "dask", "--scheduler", "not an address!"), ("--scheduler",)),
    Case("scheduler-port", score_opts("--executor", "dask", "--scheduler", "tcp://localhost:99999"), ("port",)),
    Case("workers-zero", score_opts("--workers", "0"), ("--workers",)),
    Case("step-zero", score_opts("--step", "0"), ("--step",)),
    Case("task-events-zero", score_opts("--task-events", "0"), ("--task-events",)),
    Case("nan-policy-bogus", score_opts("--nan-policy", "bogus"), ("--nan-policy",)),
    Case("unknown-option", score_opts("--bogus"), ("--bogus",)),
    Case("unknown-command", lambda w, s: ["scroe"], ("scroe",)),
    Case("missing-argument", lambda w, s: ["score"], ("FILES",)),
    Case("signal-no-equals", evaluate_opts("--signal", "nofile"), ("NAME=FILE",)),
    Case("distill-series-teacher", lambda w, s: ["distill", "--teacher", str(w.series_model), "-o", w.p("st.adkit"),
                                                 "--target", "cpu"], ("time-series",)),
    Case("distill-sparsity", lambda w, s: ["distill", "--teacher", str(w.model), "--sparsity", "1.5"],
         ("--sparsity",)),
    Case("distill-rates-negative", lambda w, s: ["distill", "--teacher", str(w.model), "-o", w.p("st.adkit"),
                                                 "--rates", "-1", "--target", "cpu"], ("--rates",)),
    Case("distill-hidden-text", lambda w, s: ["distill", "--teacher", str(w.model), "-o", w.p("st.adkit"),
                                              "--hidden", "a,b", "--target", "cpu"], ("--hidden",)),
    Case("distill-hidden-zero", lambda w, s: ["distill", "--teacher", str(w.model), "-o", w.p("st.adkit"),
                                              "--hidden", "0", "--target", "cpu"], ("hidden",)),
    Case("nplm-n-expected-nan", lambda w, s: ["nplm", "--reference", str(w.h5), "--data", str(w.h5), "-o",
                                              w.p("np"), "--n-expected", "nan", "--features", "met"],
         ("--n-expected",)),
    Case("nplm-sigma-negative", lambda w, s: ["nplm", "--reference", str(w.h5), "--data", str(w.h5), "-o",
                                              w.p("np"), "--param", "sigma=-1", "--features", "met", "--toys", "0"],
         ("sigma=-1",)),
    Case("nplm-centres-zero", lambda w, s: ["nplm", "--reference", str(w.h5), "--data", str(w.h5), "-o",
                                            w.p("np"), "--param", "n_centres=0", "--features", "met", "--toys", "0"],
         ("n_centres=0",)),
    Case("series-false-alarms", lambda w, s: ["evaluate", "--model", str(w.series_model), "--series",
                                              str(s), "-o", w.p("report"), "--false-alarms", "-1"],
         ("--false-alarms",), _csv("ok.csv", _series_csv([0, 1] * 40))),
]


def _link(kind: str, target: str = "data.h5") -> Callable[[World], Path]:
    def setup(w: World) -> Path:
        p = w.d / f"alias-{kind}.h5"
        (os.symlink if kind == "sym" else os.link)(w.d / target, p)
        return p
    return setup


def _user_dir(w: World) -> Path:
    d = w.d / "mine"
    d.mkdir()
    (d / "thesis.tex").write_text("years of work")
    return d


def _fake_stamp(w: World) -> Path:
    d = w.d / "hls"
    d.mkdir()
    (d / ".adkit-made.json").write_text(json.dumps({"format": "adkit-made", "files": []}))
    (d / "notes.txt").write_text("mine")
    return d


def _existing(name: str, content: str = "precious") -> Callable[[World], Path]:
    def setup(w: World) -> Path:
        (w.d / name).parent.mkdir(parents=True, exist_ok=True)
        (w.d / name).write_text(content)
        return w.d / name
    return setup


def distill_to(hls: Callable[[World, Path], str], *extra):
    return lambda w, s: ["distill", "--teacher", str(w.model), "-o", w.p("student.adkit"), "--hls-dir", hls(w, s),
                         "--overwrite", *extra]


OUTPUT_CASES = [
    Case("out-is-input", lambda w, s: ["score", str(w.h5), "--model", str(w.model), "-o", str(w.h5), "--overwrite"],
         ("is the input",)),
    Case("out-symlink-to-input", lambda w, s: ["score", str(w.h5), "--model", str(w.model), "-o", str(s),
                                               "--overwrite"], ("is the input",), _link("sym")),
    Case("out-hardlink-to-input", lambda w, s: ["score", str(w.h5), "--model", str(w.model), "-o", str(s),
                                                "--overwrite"], ("is the input",), _link("hard")),
    Case("out-relative-input", lambda w, s: ["score", str(w.h5), "--model", str(w.model), "-o",
                                             str(w.d / "sub" / ".." / "data.h5"), "--overwrite"], ("is the input",),
         lambda w: (w.d / "sub").mkdir() or w.d / "sub"),
    Case("out-is-model", lambda w, s: ["score", str(w.h5), "--model", str(s), "-o", str(s), "--overwrite"],
         ("is the input",), lambda w: Path(shutil.copy(w.model, w.d / "model.h5"))),
    Case("train-out-is-data", lambda w, s: ["train", "--data", str(w.h5), "-o", str(w.h5), "--overwrite",
                                            "--detector", "ae"], ("is the input",)),
    Case("train-out-is-encoder", lambda w, s: ["train", "--detector", "ocsvm", "--data", str(w.h5), "--encoder",
                                               str(w.model), "-o", str(w.model), "--overwrite"], ("is the input",)),
    Case("train-out-is-config", lambda w, s: ["train", "--config", str(s), "-o", str(s), "--overwrite"],
         ("is the input",), _text("c.yaml", b"model: ae\n")),
    Case("encode-out-is-input", lambda w, s: ["encode", str(w.h5), "--model", str(w.model), "-o", str(w.h5),
                                              "--overwrite"], ("is the input",)),
    Case("export-out-is-model", lambda w, s: ["export", "--model", str(w.model), "-o", str(w.model), "--overwrite"],
         ("is the input",)),
    Case("distill-out-is-teacher", lambda w, s: ["distill", "--teacher", str(w.model), "-o", str(w.model),
                                                 "--overwrite", "--target", "cpu"], ("is the input",)),
    Case("nplm-save-model-is-reference", lambda w, s: ["nplm", "--reference", str(w.h5), "--data", str(w.h5), "-o",
                                                       w.p("np"), "--save-model", str(w.h5), "--overwrite"],
         ("is the input",)),
    Case("out-exists", score_opts(), ("already exists", "--overwrite"), _existing("out.h5")),
    Case("out-dev-null", lambda w, s: ["score", str(w.h5), "--model", str(w.model), "-o", str(s), "--overwrite"],
         ("character device",), lambda w: (os.symlink("/dev/null", w.d / "null.h5"), w.d / "null.h5")[1]),
    Case("out-missing-dir", lambda w, s: ["score", str(w.h5), "--model", str(w.model), "-o", w.p("no/dir/o.h5")],
         ("does not exist",)),
    Case("out-unknown-suffix", lambda w, s: ["score", str(w.h5), "--model", str(w.model), "-o", w.p("o.csv")],
         ("unknown score file type",)),
    Case("hls-dir-user-files", distill_to(lambda w, s: str(s)), ("adkit did not make it",), _user_dir),
    Case("hls-dir-dot", distill_to(lambda w, s: "."), ("working directory",)),
    Case("hls-dir-parent-dotdot", distill_to(lambda w, s: str(w.d / "sub" / "..")), ("working directory",),
         lambda w: (w.d / "sub").mkdir() or w.d),
    Case("hls-dir-holds-teacher", lambda w, s: ["distill", "--teacher", str(s), "-o", w.p("student.adkit"),
                                                "--hls-dir", w.p("t"), "--overwrite"], ("holds the input",),
         lambda w: ((w.d / "t").mkdir(), Path(shutil.copy(w.model, w.d / "t" / "teacher.adkit")))[1]),
    Case("hls-dir-stamp-foreign-file", distill_to(lambda w, s: str(s)), ("did not write",), _fake_stamp),
    Case("hls-dir-is-file", distill_to(lambda w, s: str(s)), ("is a file",), _existing("hlsfile")),
    Case("evaluate-report-exists", evaluate_opts(), ("report.md", "already exists"), _existing("report/report.md")),
    Case("evaluate-report-is-file", evaluate_opts(), ("is a file",), _existing("report")),
    Case("scores-dir-foreign-manifest", lambda w, s: ["score", str(w.h5), str(w.model.with_name("data2.h5")),
                                                      "--model", str(w.model), "-o", w.p("scores"), "--overwrite"],
         ("not an adkit score manifest",),
         lambda w: (shutil.copy(w.h5, w.d / "data2.h5"), _existing("scores/manifest.json")(w))[1]),
    Case("series-same-file-twice", lambda w, s: ["score", str(s), str(s), "--model", str(w.series_model),
                                                 "-o", w.p("sc")], ("same file",), _csv("a.csv", _series_csv([0] * 80))),
]


# --- inputs reached through other files (HDF5 virtual, external storage, external links), given twice ---------

def _vds(name: str, source: str, dataset: str = "Particles") -> Callable[[World], Path]:
    """``name``: a virtual dataset reading all of ``source``'s ``dataset`` (made beside it)."""
    def setup(w: World) -> Path:
        import h5py

        src = w.d / source
        if not src.exists():
            shutil.copy(w.h5, src)
        with h5py.File(src, "r") as f:
            shape, dtype = f[dataset].shape, f[dataset].dtype
        layout = h5py.VirtualLayout(shape=shape, dtype=dtype)
        layout[:] = h5py.VirtualSource(source, dataset, shape=shape)
        with h5py.File(w.d / name, "w") as f:
            f.create_virtual_dataset(dataset, layout)
        return w.d / name
    return setup


def _external_raw(name: str, raw: str, make_raw: Callable[[Path, int], None] | None = None) -> Callable[[World], Path]:
    """``name``: a dataset stored in the raw file ``raw`` (HDF5 external storage)."""
    def setup(w: World) -> Path:
        import h5py

        shape, nbytes = (20, 19, 4), 20 * 19 * 4 * 4
        if make_raw is not None:
            make_raw(w.d / raw, nbytes)
        elif not (w.d / raw).exists():
            _particles.tofile(w.d / raw)
        with h5py.File(w.d / name, "w") as f:
            f.create_dataset("Particles", shape=shape, dtype=np.float32, external=[(raw, 0, nbytes)])
        return w.d / name
    return setup


def _external_link(name: str, target: str, make_target: Callable[[Path], None] | None = None) -> Callable[[World], Path]:
    def setup(w: World) -> Path:
        import h5py

        if make_target is not None:
            make_target(w.d / target)
        with h5py.File(w.d / name, "w") as f:
            f["Particles"] = h5py.ExternalLink(target, "Particles")
        return w.d / name
    return setup


def _copy_data(name: str) -> Callable[[World], Path]:
    return lambda w: Path(shutil.copy(w.h5, w.d / name))


def _then(*setups) -> Callable[[World], Path]:
    """Several setups in turn; the last one's path is the case's."""
    def setup(w: World) -> Path:
        out = None
        for s in setups:
            out = s(w)
        return out
    return setup


def score_to(out: str, *extra):
    return lambda w, s: ["score", str(s), "--model", str(w.model), "-o", w.p(out), "--overwrite", *extra]


LINK_CASES = [
    Case("vds-score-over-source", score_to("t.h5"), ("t.h5", "is the input"), _vds("x.h5", "t.h5")),
    Case("vds-score-dir-over-source", lambda w, s: ["score", str(s), str(w.h5), "--model", str(w.model), "-o",
                                                     w.p("out"), "--overwrite"], ("is the input",),
         _then(lambda w: (w.d / "out").mkdir() or w.d, _copy_data("out/x.scores.h5"),
               lambda w: _vds("x.h5", "out/data.scores.h5")(w))),
    Case("vds-train-over-source", lambda w, s: ["train", "--detector", "ae", "--data", str(s), "-o", w.p("t.h5"),
                                                "--overwrite", "--epochs", "1"], ("is the input",), _vds("x.h5", "t.h5")),
    Case("vds-evaluate-dir-holds-source", lambda w, s: ["evaluate", "--model", str(w.model), "--background", str(s),
                                                        "--signal", f"x={w.h5}", "-o", w.p("rep"), "--overwrite"],
         ("report.md", "is the input"), _then(lambda w: (w.d / "rep").mkdir() or w.d, _vds("x.h5", "rep/report.md"))),
    Case("vds-source-missing", score_to("o.h5"), ("gone.h5", "does not exist"),
         _then(_vds("x.h5", "gone.h5"), lambda w: (w.d / "gone.h5").unlink() or w.d / "x.h5")),
    Case("vds-source-fifo", score_to("o.h5"), ("FIFO",),
         _then(_vds("x.h5", "p.h5"), lambda w: ((w.d / "p.h5").unlink(), os.mkfifo(w.d / "p.h5"), w.d / "x.h5")[2])),
    Case("vds-of-vds-over-source", score_to("t.h5"), ("t.h5", "is the input"),
         _then(_vds("y.h5", "t.h5"), _vds("x.h5", "y.h5"))),
    Case("external-raw-score-over-raw", lambda w, s: ["score", str(s), "--model", str(w.model), "-o", w.p("raw.h5"),
                                                      "--overwrite"], ("raw.h5", "is the input"),
         _external_raw("e.h5", "raw.h5")),
    Case("external-raw-dev-zero", score_to("o.h5"), ("character device",),
         _external_raw("e.h5", "zero.bin", lambda p, n: os.symlink("/dev/zero", p))),
    Case("external-raw-fifo", score_to("o.h5"), ("FIFO",), _external_raw("e.h5", "f.bin", lambda p, n: os.mkfifo(p))),
    Case("external-link-over-target", score_to("t.h5"), ("t.h5", "is the input"),
         _external_link("l.h5", "t.h5", lambda p: shutil.copy(_WORLD_H5[0], p))),
    Case("external-link-fifo", score_to("o.h5"), ("FIFO",), _external_link("l.h5", "f.h5", os.mkfifo)),
    Case("external-link-info-fifo", lambda w, s: ["info", str(s)], ("FIFO",), _external_link("l.h5", "f.h5", os.mkfifo)),
    Case("vds-encode-over-source", lambda w, s: ["encode", str(s), "--model", str(w.model), "-o", w.p("t.h5"),
                                                 "--overwrite"], ("is the input",), _vds("x.h5", "t.h5")),
    Case("vds-nplm-save-model-over-source", lambda w, s: ["nplm", "--reference", str(w.h5), "--data", str(s), "-o",
                                                          w.p("np"), "--features", "met", "--toys", "0",
                                                          "--save-model", w.p("t.h5"), "--overwrite"],
         ("is the input",), _vds("x.h5", "t.h5")),
    Case("vds-compare-dir-holds-source", lambda w, s: ["compare", str(w.h5), str(s), "--features", "met", "-o",
                                                       w.p("cmp"), "--overwrite"], ("compare.json", "is the input"),
         _then(lambda w: (w.d / "cmp").mkdir() or w.d, _vds("x.h5", "cmp/compare.json"))),
    Case("vds-absolute-source", score_to("t.h5"), ("is the input",),
         lambda w: _vds("x.h5", str(w.d / "t.h5"))(w)),
    Case("vds-source-is-directory", score_to("o.h5"), ("srcdir", "does not exist"),
         _then(_vds("x.h5", "srcdir"), lambda w: ((w.d / "srcdir").unlink(), (w.d / "srcdir").mkdir(),
                                                  w.d / "x.h5")[2])),
    Case("external-link-loop", score_to("o.h5"), ("Particles",),
         _then(lambda w: _loop_links(w), lambda w: w.d / "la.h5")),
    Case("series-h5-external-over-report", lambda w, s: ["evaluate", "--model", str(w.series_model), "--series", str(s),
                                                    "-o", w.p("rep"), "--overwrite"],
         ("report.md", "is the input"), lambda w: _series_vds(w)),
    Case("table-twice-one-output", lambda w, s: ["score", str(w.h5), "./data.h5", "--model", str(w.model), "-o",
                                                 w.p("o.h5")], ("same file",)),
    Case("table-twice-hardlink", lambda w, s: ["score", str(w.h5), str(s), "--model", str(w.model), "-o",
                                               w.p("o.h5")], ("same file",), _link("hard")),
    Case("train-data-twice", lambda w, s: ["train", "--detector", "ae", "--data", str(w.h5), "--data", "./data.h5",
                                           "-o", w.p("n.adkit"), "--epochs", "1"], ("same file",)),
    Case("series-train-twice", lambda w, s: ["train", "--detector", "zscore", "--data", str(s), "--data", str(s),
                                             "-o", w.p("n.adkit"), "--window", "8"], ("same file",),
         _csv("a.csv", _series_csv([0] * 80))),
    Case("series-evaluate-twice", lambda w, s: ["evaluate", "--model", str(w.series_model), "--series", str(s),
                                                "--series", "./" + s.name, "-o", w.p("report")], ("same file",),
         _csv("a.csv", _series_csv([0, 1] * 40))),
]

def _loop_links(w: World) -> None:
    """la.h5 links to lb.h5, which links back to la.h5: walked once each, and neither holds the data."""
    import h5py

    for a, b in (("la.h5", "lb.h5"), ("lb.h5", "la.h5")):
        with h5py.File(w.d / a, "w") as f:
            f["Particles"] = h5py.ExternalLink(b, "Particles")


def _series_vds(w: World) -> Path:
    """A (T, 1) series dataset stored externally in rep/report.md (its bytes read as numbers)."""
    import h5py

    (w.d / "rep").mkdir()
    (w.d / "rep" / "report.md").write_bytes(np.zeros(80, np.float64).tobytes())
    with h5py.File(w.d / "s.h5", "w") as f:
        ds = f.create_dataset("series", shape=(80, 1), dtype=np.float64, external=[("rep/report.md", 0, 640)])
        ds.attrs["columns"], ds.attrs["sampling_rate"] = ["value"], 100.0
    return w.d / "s.h5"


_WORLD_H5: list[Path] = []  # the world's data file, for setups that copy it under another name


# --- options that replace or rewrite files come from the command line only; planted files ---------------------

def _toys(header: dict | None, lines: list[dict]) -> Callable[[World], Path]:
    def setup(w: World) -> Path:
        (w.d / "np").mkdir()
        text = "".join(json.dumps(x) + "\n" for x in ([header] if header else []) + lines)
        (w.d / "np" / "toys.jsonl").write_text(text)
        return w.d / "np"
    return setup


def nplm_to(*extra):
    return lambda w, s: ["nplm", "--reference", str(w.h5), "--data", str(w.h5), "-o", str(s), "--features", "met",
                         "--toys", "3", *extra]


def _escaping_manifest(w: World) -> Path:
    """A score directory whose manifest points a record at a file outside it (with its true hash)."""
    d = _scores_dir(["background.h5"])(w)
    doc = json.loads((d / "manifest.json").read_text())
    doc["files"][0]["output_name"] = "../model.adkit"
    doc["files"][0]["output_sha256"] = hashlib.sha256(w.model.read_bytes()).hexdigest()
    (d / "manifest.json").write_text(json.dumps(doc))
    return d


def _scores_dir(names: list[str]) -> Callable[[World], Path]:
    """A score directory of ``names`` (copies of the data, scored by the model)."""
    def setup(w: World) -> Path:
        files = [str(shutil.copy(w.h5, w.d / n)) for n in names]
        r = run_cli("score", *files, "--model", str(w.model), "-o", w.p("sc") + "/", cwd=w.d)
        assert r.exit_code == 0, r.output
        return w.d / "sc"
    return setup


UNASKED_CASES = [
    Case("nplm-toys-foreign", nplm_to(), ("toys.jsonl", "not written by adkit"),
         _toys(None, [{"key": "x", "toy": 0, "t": 1e9}])),
    Case("nplm-toys-other-seed", nplm_to(), ("toys.jsonl", "other reference"),
         _toys({"format": "adkit-nplm-toys", "version": 1, "reference": ["0"], "data": ["0"], "model": "kernel",
                "seed": 7}, [])),
    Case("scores-same-stem", lambda w, s: ["evaluate", "--model", str(w.model), "--scores", str(s), "-o",
                                           w.p("rep")], ("both named", "'background'"),
         lambda w: ((w.d / "r1").mkdir(), (w.d / "r2").mkdir(), shutil.copy(w.h5, w.d / "r1" / "background.h5"),
                    shutil.copy(w.h5, w.d / "r2" / "background.h5"),
                    run_cli("score", w.p("r1/background.h5"), w.p("r2/background.h5"), "--model", str(w.model),
                            "-o", w.p("sc"), cwd=w.d), w.d / "sc")[-1]),
    Case("scores-output-outside", lambda w, s: ["evaluate", "--model", str(w.model), "--scores", str(s), "-o",
                                                w.p("rep")], ("outside",), lambda w: _escaping_manifest(w)),
    Case("scores-prefix-names", lambda w, s: ["evaluate", "--model", str(w.model), "--scores", str(s), "-o",
                                              w.p("rep")], ("background",),
         _scores_dir(["background.v2.h5", "bkg.a.h5"])),
]


# --- limits computed before anything is allocated ---------------------------------------------------------------

def _safetensors_zero_blob(n_bytes: int) -> Callable[[World], Path]:
    """The small model with one extra all-zero float32 tensor of ``n_bytes``, deflated (a zip bomb)."""
    def setup(w: World) -> Path:
        manifest, tensors = _bundle(w)
        from safetensors.numpy import save

        small = save({k: np.ascontiguousarray(v) for k, v in tensors.items()})
        hlen = int.from_bytes(small[:8], "little")
        header = json.loads(small[8:8 + hlen])
        body = small[8 + hlen:]
        header["detector.zeros"] = {"dtype": "F32", "shape": [n_bytes // 4], "data_offsets": [len(body), len(body) + n_bytes]}
        hb = json.dumps(header).encode()
        hb += b" " * (-len(hb) % 8)
        path = w.d / "bomb.adkit"
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
            z.writestr("manifest.json", json.dumps(manifest))
            with z.open("tensors.safetensors", "w", force_zip64=True) as fh:
                fh.write(len(hb).to_bytes(8, "little") + hb + body)
                zeros = bytes(1 << 24)
                for _ in range(n_bytes >> 24):
                    fh.write(zeros)
        return path
    return setup


def _npy_claiming(name: str, shape: tuple, npz: bool = False) -> Callable[[World], Path]:
    """A .npy (or an .npz holding one as ``values``) whose header claims ``shape`` float64 values but holds 8."""
    def setup(w: World) -> Path:
        import io

        buf = io.BytesIO()
        np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False, "shape": shape})
        data = buf.getvalue() + bytes(64)
        if npz:
            with zipfile.ZipFile(w.d / name, "w") as z:
                z.writestr("values.npy", data)
        else:
            (w.d / name).write_bytes(data)
        return w.d / name
    return setup


def _big_table(w: World) -> Path:
    """A table of 200,001 events that costs nothing to write: one float column, unchunked zeros."""
    import h5py

    with h5py.File(w.d / "big.h5", "w") as f:
        f.create_dataset("Particles", data=np.zeros((200_001, 19, 4), np.float32), compression="gzip")
    return w.d / "big.h5"


def _huge_chunk_h5(w: World) -> Path:
    import h5py

    with h5py.File(w.d / "chunk.h5", "w") as f:
        f.create_dataset("Particles", shape=(20, 19, 4), maxshape=(None, 19, 4), chunks=(4_000_000, 19, 4),
                         dtype=np.float32)
    return w.d / "chunk.h5"


def _yaml_laughs(key_line: str) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, (prev, cur) in enumerate(zip("abcdefgh", "bcdefghi")):
        lines.append(f"{cur}: &{cur} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]")
    lines.append(key_line)
    return "\n".join(lines) + "\n"


LIMIT_CASES = [
    Case("model-two-wide-layers", score_with(), ("bad.adkit", "GiB"),
         bad_model(_set("detector.config.params.hidden", [65536, 65536]))),
    Case("show-two-wide-layers", lambda w, s: ["show", str(s)], ("bad.adkit", "GiB"),
         bad_model(_set("detector.config.params.hidden", [65536, 65536]))),
    Case("train-two-wide-layers", train_opts("--param", "hidden=[65536,65536]"), ("GiB",)),
    Case("model-feature-multiplicity", score_with(), ("bad.adkit", "multiplicit"),
         bad_model(_set("input.features.schema.objects", [["met", 1], ["electron", 4], ["muon", 4],
                                                          ["jet", 100_000_000]]))),
    Case("model-zero-tensor-bomb", score_with(), ("bomb.adkit", "limit"), _safetensors_zero_blob(1 << 30)),
    Case("series-model-window-huge", lambda w, s: ["score", w.p("a.csv"), "--model", str(s), "-o", w.p("o.h5")],
         ("window",), lambda w: (_csv("a.csv", _series_csv([0] * 80))(w), _series_edit(w, window=10**8))[1]),
    Case("series-model-stride-zero", lambda w, s: ["score", w.p("a.csv"), "--model", str(s), "-o", w.p("o.h5")],
         ("stride",), lambda w: (_csv("a.csv", _series_csv([0] * 80))(w), _series_edit(w, stride=0))[1]),
    Case("data-huge-hdf5-chunk", score_file(), ("chunk",), _huge_chunk_h5),
    Case("task-events-one", lambda w, s: ["score", str(w.h5), str(s), "--model", str(w.model), "-o", w.p("sc"),
                                          "--task-events", "1"], ("--task-events", "tasks"),
         lambda w: _big_table(w)),
    Case("step-huge", score_opts("--step", str(10**12)), ("--step",)),
    Case("nplm-toys-huge", nplm_to("--toys", str(10**9)), ("--toys",), lambda w: w.d / "np"),
    Case("series-npy-header-huge", series_eval, ("values",), _npy_claiming("big.npy", (10**12,))),
    Case("series-npz-inflates", series_eval, ("values",), _npy_claiming("big.npz", (1 << 29, 1), npz=True)),
    Case("config-billion-laughs", lambda w, s: ["train", "--config", str(s), "-o", w.p("n.adkit")], ("alias",),
         _text("c.yaml", _yaml_laughs("params: {hidden: *i}").encode())),
    Case("mapping-billion-laughs", score_root_mapping(), ("alias",),
         _mapping("m.yaml", _yaml_laughs("objects: {jet: {pt: *i}}"))),
    Case("mapping-billion-laughs-h5", lambda w, s: ["score", str(w.h5), "--model", str(w.model), "-o", w.p("o.h5"),
                                                    "--mapping", str(s)], ("alias",),
         _mapping("m.yaml", _yaml_laughs("multiplicities: {jet: *i}"))),
    Case("param-billion-laughs", train_opts("--param", "hidden=" + _yaml_laughs("").replace("\n", " ")),
         ("--param",)),
]


def _series_edit(w: World, **input_fields) -> Path:
    from adkit.artifact import read_bundle

    manifest, tensors = read_bundle(w.series_model)
    manifest["input"].update(input_fields)
    _write_model(w.d / "bad-series.adkit", manifest, tensors)
    return w.d / "bad-series.adkit"


# --- no garbage numbers -------------------------------------------------------------------------------------------

def _threshold(value, name="t1", twice=False):
    t = {"name": name, "value": value, "rate_khz": 1.0, "fpr": 2.5e-5}
    return _set("thresholds", [t, dict(t)] if twice else [t])


def _ranges_nan(m, t):
    m["input_ranges"]["min"][0] = float("nan")


def _parquet_weights(w: World) -> Path:
    _parquet("z.parquet", {**_nano_parquet(), "w": [0.0, 0.0, 0.0]})(w)
    (w.d / "wmap.yaml").write_text("weight: w\n")
    return w.d / "z.parquet"


GARBAGE_CASES = [
    Case("threshold-nan", score_with(), ("threshold", "finite"), bad_model(_threshold(float("nan")))),
    Case("threshold-inf", score_with(), ("threshold", "finite"), bad_model(_threshold(float("inf")))),
    Case("threshold-minus-inf", lambda w, s: ["show", str(s)], ("threshold", "finite"),
         bad_model(_threshold(float("-inf")))),
    Case("threshold-rate-nan", score_with(), ("threshold", "finite"),
         bad_model(_set("thresholds", [{"name": "t", "value": 1.0, "rate_khz": float("nan"), "fpr": 1e-5}]))),
    Case("threshold-fpr-above-one", score_with(), ("threshold", "FPR"),
         bad_model(_set("thresholds", [{"name": "t", "value": 1.0, "rate_khz": 1.0, "fpr": 7.0}]))),
    Case("threshold-twice", score_with(), ("threshold", "twice"), bad_model(_threshold(1.0, twice=True))),
    Case("ranges-nan", score_with(), ("input_ranges", "NaN or inf"), bad_model(_ranges_nan)),
    Case("weights-all-zero", lambda w, s: ["evaluate", "--model", str(w.model), "--background", str(s), "--signal",
                                           f"x={s}", "--mapping", w.p("wmap.yaml"), "-o", w.p("rep")],
         ("weight",), _parquet_weights),
    Case("series-values-overflow", series_eval, ("NaN/inf",),
         _csv("big.csv", _series_csv([0, 1] * 40, ["3e38", "-3e38"] * 40))),
    Case("series-score-overflow", lambda w, s: ["score", str(s), "--model", str(w.series_model), "-o", w.p("o.h5")],
         ("NaN/inf",), _csv("big.csv", _series_csv([0] * 80, ["3e38", "-3e38"] * 40))),
    Case("validation-fraction-no-step", lambda w, s: ["train", "--detector", "ae", "--data", str(s), "-o",
                                                      w.p("n.adkit"), "--param", "validation_fraction=0.95"],
         ("validation_fraction",), _h5("small.h5", _particles)),
]


# --- every OS error is one line, and a refused run leaves nothing --------------------------------------------------

def _user_parts(w: World) -> Path:
    (w.d / "sc" / ".adkit-parts").mkdir(parents=True)
    (w.d / "sc" / ".adkit-parts" / "mine.txt").write_text("my notes")
    return Path(shutil.copy(w.h5, w.d / "b.h5"))


def _checkpoint(manifest_edit: dict) -> Callable[[World], Path]:
    def setup(w: World) -> Path:
        manifest = {"format": "adkit-checkpoint", "format_version": 1, "key": "x", "epoch": 1, "best": 1.0, "wait": 0,
                    "history": [], "optimizers": {}, **manifest_edit}
        _write_model(w.d / "new.adkit.ckpt", manifest, {"module.x": np.zeros(2, np.float32)})
        return w.d / "new.adkit.ckpt"
    return setup


def _bad_name(w: World) -> Path:
    name = os.fsdecode(b"caf\xe9.h5")
    shutil.copy(w.h5, w.d / name)
    (w.d / os.fsdecode(b"caf\xe9.h5")).chmod(0o644)
    return w.d / name


OS_CASES = [
    Case("parts-dir-of-user", lambda w, s: ["score", str(w.h5), str(s), "--model", str(w.model), "-o", w.p("sc")],
         (".adkit-parts", "did not make"), _user_parts),
    Case("model-trailing-slash", lambda w, s: ["score", str(w.h5), "--model", str(w.model) + "/", "-o", w.p("o.h5")],
         ("model.adkit/",)),
    Case("model-trailing-slash-update", lambda w, s: ["evaluate", "--model", str(w.model) + "/", "--background",
                                                      str(w.h5), "--signal", f"x={w.h5}", "-o", w.p("rep"),
                                                      "--store-thresholds", "1000"], ("model.adkit/",)),
    Case("parquet-malformed", score_file(), ("bad.parquet",), _text("bad.parquet", b"PAR1" + b"\x00" * 64 + b"PAR1")),
    Case("parquet-footer-garbage", score_file(), ("bad2.parquet",),
         _text("bad2.parquet", b"PAR1" + b"\x07" * 64 + (50).to_bytes(4, "little") + b"PAR1")),
    Case("series-time-text", series_eval, ("time",),
         _csv("t.csv", "timestamp,value,is_anomaly\n" + "".join(f"t{i},{i % 5},{i % 2}\n" for i in range(80)))),
    Case("series-time-mixed", series_eval, ("time",),
         _csv("t.csv", "timestamp,value,is_anomaly\n" + "".join(f"{i if i != 40 else 'x'},{i % 5},{i % 2}\n"
                                                                 for i in range(80)))),
    Case("data-name-not-utf8", score_file(), ("caf",), lambda w: (_h5("x", np.zeros((5, 7, 4), np.float32))(w),
                                                                  _bad_name(w))[1] if False else _wrong_shape_bad_name(w)),
    Case("checkpoint-epoch-text", lambda w, s: ["train", "--detector", "ae", "--data", str(w.h5), "-o", w.p("new.adkit"),
                                                "--resume", "--epochs", "1"], ("new.adkit.ckpt", "damaged", "epoch"),
         _checkpoint({"epoch": "abc"})),
    Case("checkpoint-history-number", lambda w, s: ["train", "--detector", "ae", "--data", str(w.h5), "-o",
                                                    w.p("new.adkit"), "--resume", "--epochs", "1"],
         ("new.adkit.ckpt", "damaged", "history"), _checkpoint({"history": 5, "optimizers": []})),
    Case("nplm-bad-plot-feature-before-toys", nplm_to("--plot-features", "nosuch", "--n-expected", "100"),
         ("--plot-features",), lambda w: w.d / "np"),
    Case("evaluate-signal-missing-before-dir", lambda w, s: ["evaluate", "--model", str(w.model), "--background",
                                                             str(w.h5), "--signal", f"x={w.p('nope.h5')}", "-o",
                                                             w.p("newrep")], ("nope.h5",)),
    Case("series-score-dir-refused-leaves-nothing", lambda w, s: ["score", str(s), w.p("missing.csv"), "--model",
                                                                  str(w.series_model), "-o", w.p("sdir")],
         ("missing.csv",), _csv("a.csv", _series_csv([0] * 80))),
]


def _wrong_shape_bad_name(w: World) -> Path:
    import h5py

    name = w.d / os.fsdecode(b"caf\xe9.h5")
    with h5py.File(name, "w") as f:
        f.create_dataset("Particles", data=np.zeros((5, 7, 4), np.float32))
    return name


ALL = (MODEL_CASES + INPUT_CASES + OPTION_CASES + OUTPUT_CASES + LINK_CASES + UNASKED_CASES + LIMIT_CASES
       + GARBAGE_CASES + OS_CASES)


@pytest.mark.parametrize("case", ALL, ids=[c.id for c in ALL])
def test_hostile_case(case: Case, world: World):
    s = case.setup(world) if case.setup else None
    before = _snapshot(world.d)
    r = run_cli(*map(str, case.args(world, s)), cwd=world.d)
    lines = r.stderr.strip().splitlines()
    assert r.exit_code == 2, (r.exit_code, r.output)
    assert len(lines) == 1 and lines[0].startswith("adkit: error: "), lines
    assert "Traceback" not in r.output
    for word in case.words:
        assert word in lines[0], (word, lines[0])
    assert _snapshot(world.d) == before, "files changed"


#: The cases that asked for gigabytes before adkit computed limits from the manifest or the header.
ALLOCATION_CASES = ["model-two-wide-layers", "show-two-wide-layers", "train-two-wide-layers",
                    "model-feature-multiplicity", "model-zero-tensor-bomb", "series-model-window-huge",
                    "data-huge-hdf5-chunk", "series-npy-header-huge", "series-npz-inflates", "config-billion-laughs",
                    "mapping-billion-laughs-h5"]
#: Address space a refused allocation case may use: a normal `adkit evaluate` of a series model peaks near
#: 2.4 GiB of address space here (torch, matplotlib and their thread arenas), scoring near 1.3 GiB.
MEMORY_CEILING = int(3.5 * 2**30)
_CHILD = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[1]), int(sys.argv[1])))
import os
from click.testing import CliRunner
from adkit.cli import main
out = []
for cwd, args in json.loads(sys.argv[2]):
    os.chdir(cwd)
    r = CliRunner().invoke(main, args)
    out.append([r.exit_code, r.stderr])
print(json.dumps(out))
"""


def test_allocation_cases_under_a_memory_ceiling(tmp_path, small_model, adc_file, series_model):
    """Each allocation case, run (one after the other, in one process) where no more than MEMORY_CEILING
    of address space may be mapped: refused in one line before anything big is allocated (a
    MemoryError would be a traceback, exit 1), and nothing changed."""
    import subprocess
    import sys

    runs, worlds = [], []
    for case_id in ALLOCATION_CASES:
        case = next(c for c in ALL if c.id == case_id)
        (tmp_path / case_id).mkdir()
        w = make_world(tmp_path / case_id, small_model, adc_file, series_model)
        s = case.setup(w) if case.setup else None
        worlds.append((w, _snapshot(w.d)))
        runs.append([str(w.d), [str(a) for a in case.args(w, s)]])
    r = subprocess.run([sys.executable, "-c", _CHILD, str(MEMORY_CEILING), json.dumps(runs)], capture_output=True,
                       text=True, timeout=600, check=False)
    assert r.returncode == 0, r.stderr[-3000:]
    for case_id, (code, err), (w, before) in zip(ALLOCATION_CASES, json.loads(r.stdout.splitlines()[-1]), worlds):
        lines = err.strip().splitlines()
        assert code == 2, (case_id, code, err[-2000:])
        assert len(lines) == 1 and lines[0].startswith("adkit: error: "), (case_id, lines)
        assert _snapshot(w.d) == before, case_id


def test_table_size():
    """The closing note counts these; keep the table broad."""
    assert len(ALL) >= 120, len(ALL)


def test_docs_page_shows_what_the_example_prints(tmp_path, monkeypatch, capsys):
    """docs/safety.md's console block is the output of examples/safe_outputs.py."""
    import runpy
    import sys

    root = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["safe_outputs.py", "--small"])
    runpy.run_path(str(root / "examples" / "safe_outputs.py"), run_name="__main__")
    printed = capsys.readouterr().out
    page = (root / "docs" / "safety.md").read_text()
    block = page.split("```console\n", 1)[1].split("```", 1)[0]
    assert printed == block
    assert f"a table of {len(ALL)} cases" in page
