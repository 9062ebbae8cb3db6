"""Every benchmark runs at HEAD: each script in benchmarks/ in its --quick mode (tiny sizes).

A benchmark checks that adkit and its baseline compute the same thing before it times them,
so running it is also a correctness test; this only makes sure none of them can rot."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p for p in (ROOT / "benchmarks").glob("*.py") if not p.name.startswith("_"))
NEEDS_PYTHIA = {"physics.py", "bench_distill.py", "ae_default.py", "generator_vs_pythia.py"}
NEEDS_SENSOR = {"series_baselines.py"}


def test_every_benchmark_is_listed():
    assert {p.name for p in SCRIPTS} >= {"bench_score.py", "bench_quantum.py", "physics.py"}


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_benchmark_runs_in_quick_mode(script, tmp_path, shared_data):
    if script.name in NEEDS_PYTHIA and not (shared_data / "pythia").is_dir():
        pytest.skip("needs ../shared/data/pythia")
    if script.name in NEEDS_SENSOR and not (shared_data / "sensor").is_dir():
        pytest.skip("needs ../shared/data/sensor")
    env = {**os.environ, "PYTHONWARNINGS": "ignore::DeprecationWarning"}
    r = subprocess.run([sys.executable, str(script), "--quick"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=600, env=env, check=False)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip(), "a benchmark prints its numbers"
