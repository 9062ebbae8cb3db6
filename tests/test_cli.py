"""The commands as users type them."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import JOBS, ROOT, run_cli

from adkit.cli import COMMANDS as COMMAND_MODULES

COMMANDS = sorted(COMMAND_MODULES)


@pytest.mark.parametrize("command", COMMANDS)
def test_help(command):
    r = run_cli(command, "--help")
    assert r.exit_code == 0 and "Usage: " in r.output


def test_help_does_not_import_heavy_libraries():
    """`adkit --help` lists every command (importing each command module) and loads not even numpy; a
    command's own --help loads no torch, uproot or h5py."""
    for args, heavy in (([], ("numpy", "torch", "uproot", "h5py")), (["train"], ("torch", "uproot", "h5py")),
                        (["score"], ("torch", "uproot", "h5py"))):
        code = ("import sys; from adkit.cli import main\ntry: main([*%r, '--help'])\nexcept SystemExit: pass\n"
                "print('HEAVY', sorted(m for m in %r if m in sys.modules))" % (args, heavy))
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
        assert "HEAVY []" in out, (args, out[-300:])


def test_models_and_features():
    r = run_cli("models")
    assert r.exit_code == 0 and r.output.startswith("ae ") and "\nvae " in r.output and "`" not in r.output
    r = run_cli("features")
    assert "m_ll" in r.output and "57 in all" in r.output


def test_info_table_and_json(shared_data):
    files = [shared_data / "real" / "delphes.root", shared_data / "pythia" / "W.h5"]
    r = run_cli("info", *map(str, files))
    assert r.exit_code == 0 and "Delphes" in r.output and "mapped" in r.output and "adc2021" in r.output
    d = json.loads(run_cli("info", "--json", *map(str, files)).output)
    assert [x["entries"] for x in d] == [25, 40000] and d[0]["layout"] == "delphes"


def quick(argv: list[str]) -> list[str]:
    """A docs command as the tests run it (docs/generate.py's quick mode: small data, one epoch)."""
    from test_docs import gen

    return gen.quick(argv)


def readme_quickstart() -> list[list[str]]:
    """The adkit commands of the README's first quick-start line, as argument lists (globs expanded later)."""
    import re
    import shlex

    text = (ROOT / "README.md").read_text()
    line = re.search(r"```bash\n(python3 -m venv[^\n]*)\n```", text).group(1)
    return [shlex.split(part)[1:] for part in line.split("&&") if part.strip().startswith("adkit ")]


def test_quickstart_runs_twice_and_evaluates_its_own_scores(tmp_path):
    """The README's main job as written (quick mode: 1 epoch, 20k events), twice in a row in the same
    directory; evaluate reads the scores the run just made, and refuses them once they are stale."""
    import glob

    cmds = readme_quickstart()
    assert [c[0] for c in cmds] == ["train", "generate", "score", "evaluate"]
    for attempt in (1, 2):
        for argv in cmds:
            argv = [a for g in argv for a in (sorted(glob.glob(g, root_dir=tmp_path)) if "*" in g else [g])]
            r = run_cli(*quick(argv), cwd=tmp_path)
            assert r.exit_code == 0, (attempt, argv, r.output)
        assert "using the scores in scores/" in r.stderr and "A→4ℓ" in r.stdout
        assert (tmp_path / "report" / "report.md").exists()
    # a retrained model makes the stored scores stale: evaluate says so, and how to redo them
    assert run_cli(*quick(cmds[0]), cwd=tmp_path).exit_code == 0
    r = run_cli(*cmds[-1], cwd=tmp_path)
    assert r.exit_code == 2 and "scored with another model file" in r.stderr and "adkit score" in r.stderr


def test_train_config_and_resume(tmp_path, adc_file, monkeypatch):
    cfg = tmp_path / "run.yaml"
    cfg.write_text(f"model: vae\nepochs: 4\nseed: 2\nfeatures: met,ht,n_jets,n_leptons,m_ll\n"
                   f"params: {{latent_dim: 2, batch_size: 512}}\ndata: [{adc_file}]\n")
    from dataclasses import replace

    import adkit.detectors.torch_base as tb

    real_fit = tb.TorchDetector.fit  # the workflow passes TrainOptions; stop after two epochs on purpose
    monkeypatch.setattr(tb.TorchDetector, "fit", lambda self, X, y=None, *, condition=None, options=None:
                        real_fit(self, X, y, condition=condition, options=replace(options, stop_after_epochs=2)))
    r = run_cli("train", "--config", str(cfg), "-o", str(tmp_path / "m.adkit"))
    assert r.exit_code == 130 and (tmp_path / "m.adkit.ckpt").exists() and not (tmp_path / "m.adkit").exists()
    monkeypatch.setattr(tb.TorchDetector, "fit", real_fit)
    r = run_cli("train", "--config", str(cfg), "-o", str(tmp_path / "m.adkit"), "--resume")
    assert r.exit_code == 0, r.output
    from adkit.artifact import Model

    m = Model.load(tmp_path / "m.adkit")
    assert m.detector.name == "vae" and m.detector.latent_dim == 2 and m.spec.columns[0] == "met"
    assert [h["epoch"] for h in m.detector.history_] == [1, 2, 3, 4] and not (tmp_path / "m.adkit.ckpt").exists()


EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def background_jobs(item) -> dict[str, list[str]]:
    """Every example's --small run, when test_examples_run is collected (tests/conftest.py starts them early)."""
    if item.name != "test_examples_run":
        return {}
    return {f"example/{p.name}": [sys.executable, str(p), "--small"] for p in EXAMPLES}


def test_examples_run():
    """Every example runs (small mode, in its own directory) and writes something. This is the one place
    examples run: the docs' run blocks skip them in quick mode (docs/generate.py)."""
    for script in EXAMPLES:
        r, where = JOBS.result(f"example/{script.name}", [sys.executable, str(script), "--small"])
        assert r.returncode == 0, (script.name, r.stderr[-2000:])
        assert r.stdout.strip() or list(where.iterdir()), script.name
