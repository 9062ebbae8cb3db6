"""Outputs people expect: JSON from every reporting command, one colour per process, peaks kept in
series plots, plain progress lines when stderr is not a terminal."""
from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import run_cli


def test_every_reporting_command_prints_json(tmp_path, small_model, adc_file, shared_data):
    runs = {
        "models": ["models"], "features": ["features"], "show": ["show", str(small_model)],
        "info": ["info", str(shared_data / "real" / "nano_dy.root")],
        "train": ["train", "--detector", "ae", "--epochs", "1", "--data", str(adc_file), "-o", "m.adkit"],
        "score": ["score", "--model", str(small_model), str(adc_file), "-o", "s.h5"],
        "evaluate": ["evaluate", "--model", str(small_model), "--background", str(adc_file),
                     f"--signal=self={adc_file}", "--rates", "100"],
        "nplm": ["nplm", "--reference", str(adc_file), "--data", str(adc_file), "--toys", "0", "-o", "n"],
    }
    for name, argv in runs.items():
        r = run_cli(*argv, "--json", cwd=tmp_path)
        assert r.exit_code == 0, (name, r.output)
        doc = json.loads(r.stdout)  # stdout holds the JSON document and nothing else
        assert doc, name
    # the JSON of evaluate carries every efficiency's counts and interval
    r = run_cli(*runs["evaluate"], "--json", "-o", "rep2", cwd=tmp_path)
    eff = json.loads(r.stdout)["signals"]["self"]["efficiency_at_rate_khz"]["100"]
    assert eff["total"] == 5000 and eff["interval"][0] <= eff["value"] <= eff["interval"][1]


def test_one_colour_and_label_per_process_in_every_run():
    from adkit.report.style import PLOT_LABELS, color, label

    assert label("Ato4l") == "A→4ℓ" and label("h0totautau") == "h⁰→ττ" and label("mine") == "mine"
    assert PLOT_LABELS["h0totautau"].startswith("$")  # mathtext: the plot fonts lack ⁰ and ℓ
    code = "from adkit.report.style import color; print(color('my_signal'), color('Ato4l'))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.split()
    assert other == [color("my_signal"), color("Ato4l")]  # stable across processes (no hash seed)
    assert len({color(n) for n in ("background", "Ato4l", "LQtobtau", "h0totautau", "hchtotaunu")}) == 5


def test_series_plot_keeps_a_one_sample_peak():
    from adkit.workflows.series import minmax_decimate

    t = np.arange(1_000_000, dtype=np.float64)
    y = np.random.default_rng(0).normal(size=len(t))
    y[123_457] = 50.0
    y[999_999] = -40.0  # in the tail that does not fill a bin
    td, yd = minmax_decimate(t, y, n_bins=1000)
    assert len(yd) <= 2 * 1000 + 2 and yd.max() == 50.0 and yd.min() == -40.0
    assert np.all(np.diff(td) > 0)  # still a time series


def test_plain_progress_lines_when_not_on_a_terminal(monkeypatch):
    import adkit.progress as progress

    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    pb = progress.bar(True, "loss")
    assert isinstance(pb, progress.LogProgress)
    out = io.StringIO()
    pb = progress.LogProgress(("loss",), interval=0.0, stream=out)
    with pb:
        task = pb.add_task("train ae", total=4)
        for epoch in range(1, 5):
            pb.update(task, completed=epoch, loss=f"loss {1 / epoch:.3g}")
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("adkit: train ae 1/4 (25%), loss 1") and "4/4 (100%)" in lines[-1]
    assert not progress.bar(False) or isinstance(progress.bar(False), progress.NoProgress)


@pytest.mark.parametrize("n", [0, 1])
def test_progress_is_silent_for_short_loops(n):
    from adkit.progress import LogProgress

    out = io.StringIO()
    with LogProgress((), interval=60.0, stream=out) as pb:
        task = pb.add_task("score", total=10)
        pb.update(task, advance=n)
    assert out.getvalue() == ""
