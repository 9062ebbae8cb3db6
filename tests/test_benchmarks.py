"""Every benchmark runs at HEAD: each script in benchmarks/ in its --quick mode (tiny sizes).

A benchmark checks that adkit and its baseline compute the same thing before it times them,
so running it is also a correctness test; this only makes sure none of them can rot."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import JOBS

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p for p in (ROOT / "benchmarks").glob("*.py") if not p.name.startswith("_"))


def test_every_benchmark_is_listed():
    assert {p.name for p in SCRIPTS} >= {"bench_score.py", "bench_quantum.py", "physics.py"}


def background_jobs(item) -> dict[str, list[str]]:
    """The quick run of the benchmark a collected test checks (tests/conftest.py starts it early)."""
    script = item.callspec.params.get("script") if hasattr(item, "callspec") else None
    if script is None:
        return {}
    return {f"benchmark/{script.name}": [sys.executable, str(script), "--quick"]}


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_benchmark_runs_in_quick_mode(script):
    r, _ = JOBS.result(f"benchmark/{script.name}", [sys.executable, str(script), "--quick"])
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip(), "a benchmark prints its numbers"
