"""The hls4ml project of a quantized student and its C simulation (the ``latency`` backend,
:class:`adkit.firmware.backends.HlsLatency`).

:func:`write_project` converts the student with hls4ml (Vitis backend, ``io_parallel``,
Latency strategy by default), with every layer's fixed-point types set to the ones the
student was trained with, writes the HLS project and compiles its C simulation with the
system C++ compiler. :func:`csim_scores` runs that bit-accurate emulation; :func:`decision_mismatch`
measures how often its trigger decisions differ from the student's.

The firmware's input is the student's scaled feature vector ((x − mean) / scale per column,
stored in the student's model file), quantized to the input type; the output is the score.
"""
from __future__ import annotations

import contextlib
import os
import shutil
from collections import OrderedDict
from pathlib import Path

import numpy as np

from adkit.errors import AdkitError, ConfigError, missing_extra
from adkit.fixedpoint import accumulator_type

DEFAULT_PART = "xcvu13p-flga2577-2-e"  # a Virtex UltraScale+ of the kind in the CMS L1 trigger
DEFAULT_CLOCK_NS = 6.25  # 160 MHz
BACKENDS = ("Vitis", "Vivado")
HLS_TOOLS = {"Vitis": "vitis_hls", "Vivado": "vivado_hls"}


class FirmwareError(AdkitError):
    """hls4ml conversion, project writing or C-simulation compile failed."""


def compiler() -> str:
    """The C++ compiler hls4ml will call; a clear error when there is none."""
    cxx = os.environ.get("CXX", "g++")
    path = shutil.which(cxx)
    if not path:
        raise FirmwareError(f"no C++ compiler {cxx!r} on PATH: the HLS C simulation needs one "
                            "(Debian/Ubuntu: apt install g++; or set CXX)")
    return path


def _hls4ml():
    try:
        import hls4ml
    except ModuleNotFoundError:
        raise missing_extra("hls4ml", "fpga") from None
    return hls4ml


def plain_network(student):
    """The student as a float torch ``Sequential`` with its quantized (pruned) weights."""
    import torch
    from torch import nn

    layers: OrderedDict = OrderedDict()
    names = student.layer_names()
    for n, (w, b) in student.quantized_weights().items():
        lin = nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w))
            lin.bias.copy_(torch.from_numpy(b))
        layers[n] = lin
        if n != names[-1]:
            layers[f"relu_{n}"] = nn.ReLU()
    return nn.Sequential(layers).eval()


def sequence_network(student):
    """The sequence student as the network hls4ml reads: its recurrent layer (last state out) and dense
    layers, with their grid weights.

    For hls4ml only, not for running in torch: the recurrent layer's output is its last state, which
    hls4ml's PyTorch reader takes from ``rnn(x)[1]``, and the dense weights are stored transposed
    ((in, out), hls4ml's order): with channels-last conversion off, which a (steps, channels) input
    needs, hls4ml 1.3 does not transpose PyTorch's (out, in) weights itself."""
    import torch
    from torch import nn

    rnn_w = student.rnn_weights()
    dense = student.quantized_weights()
    names = student.dense_names()
    channels = rnn_w["weight_ih"].shape[1]

    class SequenceNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = (nn.GRU if student.cell == "gru" else nn.LSTM)(channels, int(student.units), batch_first=True)
            for n in names:
                setattr(self, n, nn.Linear(dense[n][0].shape[1], dense[n][0].shape[0]))
                if n != names[-1]:
                    setattr(self, f"relu_{n}", nn.ReLU())

        def forward(self, x):
            h = self.rnn(x)[1]
            h = h[0] if student.cell == "gru" else h[0][0]
            for n in names:
                h = getattr(self, n)(h)
                if n != names[-1]:
                    h = getattr(self, f"relu_{n}")(h)
            return h

    net = SequenceNet()
    with torch.no_grad():
        for name, key in (("weight_ih_l0", "weight_ih"), ("weight_hh_l0", "weight_hh"), ("bias_ih_l0", "bias_ih"),
                          ("bias_hh_l0", "bias_hh")):
            getattr(net.rnn, name).copy_(torch.from_numpy(rnn_w[key]))
        for n in names:
            lin = getattr(net, n)
            lin.weight = nn.Parameter(torch.from_numpy(np.ascontiguousarray(dense[n][0].T)).float())
            lin.bias.copy_(torch.from_numpy(dense[n][1]))
    return net.eval()


def _sequence_config(student, backend: str, strategy: str) -> tuple[object, dict]:
    """hls4ml config of the sequence student: (steps, channels) input, its types on every layer."""
    from hls4ml.utils import config_from_pytorch_model

    net = sequence_network(student)
    steps, channels = student.shape(student.module_n_features())
    cfg = config_from_pytorch_model(net, (steps, channels), granularity="name", backend=backend,
                                    default_precision="ap_fixed<16,6>", channels_last_conversion="off")
    types = student.types()
    cfg["Model"]["Strategy"] = strategy
    cfg["Model"]["ReuseFactor"] = 1
    layers = cfg["LayerName"]
    layers[next(k for k in layers if k not in dict(net.named_children()))]["Precision"] = {
        "result": str(types["input"]["result"])}
    from adkit.detectors.sequence_student import TABLE_SIZE, TABLE_TYPE

    t = types["rnn"]
    layers["rnn"]["Precision"].update({"weight": str(t["weight"]), "recurrent_weight": str(t["weight"]),
                                       "bias": str(t["bias"]), "recurrent_bias": str(t["bias"]),
                                       "result": str(t["result"]), "accum": str(student.accum_type()),
                                       "table": str(TABLE_TYPE)})
    layers["rnn"]["TableSize"] = TABLE_SIZE
    layers["rnn"]["ReuseFactor"] = 1
    prev = t["result"]
    for n in student.dense_names():
        t = types[n]
        layers[n]["Precision"] = {"weight": str(t["weight"]), "bias": str(t["bias"]), "result": str(t["result"]),
                                  "accum": accumulator_type(prev, t["weight"], t["bias"], getattr(net, n).in_features)}
        layers[n]["ReuseFactor"] = 1
        if f"relu_{n}" in layers:
            layers[f"relu_{n}"]["Precision"] = {"result": str(t["result"])}
        prev = t["result"]
    return net, cfg


def hls_config(student, backend: str = "Vitis", strategy: str = "Latency") -> tuple[object, dict]:
    """(torch network, hls4ml config) with the student's types on every layer."""
    from hls4ml.utils import config_from_pytorch_model

    if getattr(student, "cell", None):
        return _sequence_config(student, backend, strategy)
    net = plain_network(student)
    n_in = net[0].in_features
    cfg = config_from_pytorch_model(net, (n_in,), granularity="name", backend=backend,
                                    default_precision="ap_fixed<16,6>")
    types = student.types()
    cfg["Model"]["Strategy"] = strategy
    cfg["Model"]["ReuseFactor"] = 1
    layers = cfg["LayerName"]
    input_name = next(k for k in layers if k not in dict(net.named_children()))
    layers[input_name]["Precision"] = {"result": str(types["input"]["result"])}
    prev = types["input"]["result"]
    for n in student.layer_names():
        t = types[n]
        lin = dict(net.named_children())[n]
        layers[n]["Precision"] = {"weight": str(t["weight"]), "bias": str(t["bias"]), "result": str(t["result"]),
                                  "accum": accumulator_type(prev, t["weight"], t["bias"], lin.in_features)}
        layers[n]["ReuseFactor"] = 1
        if f"relu_{n}" in layers:
            layers[f"relu_{n}"]["Precision"] = {"result": str(t["result"])}
        prev = t["result"]
    return net, cfg


@contextlib.contextmanager
def chatter_to(log: str | Path):
    """Send everything printed meanwhile (hls4ml's messages, the compiler's output: Python prints and
    the process's own stdout/stderr file descriptors) to the file ``log`` instead of the console."""
    import io
    import sys

    Path(log).parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a", encoding="utf-8") as fh:
        saved = []
        for fd, stream in ((1, sys.stdout), (2, sys.stderr)):
            try:
                stream.flush()
                saved.append((fd, os.dup(fd)))
                os.dup2(fh.fileno(), fd)
            except (OSError, ValueError, io.UnsupportedOperation):
                pass
        try:
            with contextlib.redirect_stdout(fh), contextlib.redirect_stderr(fh):
                yield
        finally:
            fh.flush()
            for fd, copy in saved:
                os.dup2(copy, fd)
                os.close(copy)


def write_project(student, outdir: str | Path, *, backend: str = "Vitis", part: str = DEFAULT_PART,
                  clock_ns: float = DEFAULT_CLOCK_NS, io_type: str = "io_parallel", strategy: str = "Latency",
                  project_name: str = "adkit_trigger"):
    """Convert, write and compile; returns the compiled hls4ml model (its ``predict`` is the C sim).
    hls4ml's console messages and the compiler's output go to ``<outdir>/hls4ml.log``."""
    if backend not in BACKENDS:
        raise ConfigError(f"unknown HLS backend {backend!r}; valid: {', '.join(BACKENDS)}")
    hls4ml = _hls4ml()
    compiler()
    net, cfg = hls_config(student, backend, strategy)
    log = Path(outdir) / "hls4ml.log"
    try:
        with chatter_to(log):
            model = hls4ml.converters.convert_from_pytorch_model(
                net, output_dir=str(outdir), project_name=project_name, backend=backend, hls_config=cfg,
                io_type=io_type, part=part, clock_period=clock_ns)
    except Exception as e:  # hls4ml raises many kinds; the user needs the first line
        raise FirmwareError(f"hls4ml could not convert the student: {type(e).__name__}: {str(e).splitlines()[0]}") from e
    try:
        with chatter_to(log):
            model.compile()
    except Exception as e:
        raise FirmwareError(f"{outdir}: compiling the HLS C simulation failed: {str(e).splitlines()[0]} "
                            f"(details in {log})") from e
    return model


def csim_scores(hls_model, X_scaled: np.ndarray, batch: int = 20000) -> np.ndarray:
    """The firmware's output for already scaled inputs (float64)."""
    X = np.ascontiguousarray(X_scaled, dtype=np.float64)
    out = [np.asarray(hls_model.predict(X[s:s + batch])).reshape(-1) for s in range(0, len(X), batch)]
    return np.concatenate(out).astype(np.float64) if out else np.zeros(0)


def decision_mismatch(a: np.ndarray, b: np.ndarray, threshold: float) -> float:
    """Fraction of events whose pass/fail at ``threshold`` differs between two score arrays."""
    return float(np.mean((np.asarray(a) > threshold) != (np.asarray(b) > threshold))) if len(a) else 0.0


def synthesize(hls_model, backend: str) -> dict:
    """Run HLS synthesis when the vendor tool is on PATH; otherwise say why it was skipped."""
    tool = HLS_TOOLS[backend]
    if not shutil.which(tool):
        return {"ran": False, "why": f"{tool} is not on PATH (synthesis needs the AMD/Xilinx tools)"}
    with chatter_to(Path(hls_model.config.get_output_dir()) / "hls4ml.log"):
        report = hls_model.build(csim=False, synth=True, vsynth=False)
    return {"ran": True, "report": report}
