"""Shared fixtures: the real data in tests/data, a small trained model, the CLI runner."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

# OpenMP threads that find no work sleep instead of spinning: the tests share 2 cores with the
# background jobs below, and spinning threads would take the cores the others need (set before torch loads)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

ROOT = Path(__file__).resolve().parents[1]
#: The real and Pythia files the tests read; they ship in the repository (tests/data/README.md)
SHARED_DATA = Path(os.environ.get("ADKIT_SHARED_DATA", ROOT / "tests" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"the test data is missing at {SHARED_DATA}: it ships with the repository (tests/data)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def small_model(tmp_path_factory):
    """An AE trained for 2 epochs on 20k embedded background events, thresholds stored."""
    from adkit.workflows import evaluate, thresholds_from, train

    model = train("ae", epochs=2, n_default=20_000, seed=0)
    result = evaluate(model, n_default=20_000)
    model.thresholds = thresholds_from(result, [100.0, 1000.0])
    path = tmp_path_factory.mktemp("model") / "model.adkit"
    model.save(path)
    return path


@pytest.fixture(scope="session")
def adc_file(tmp_path_factory) -> Path:
    """5,000 generated background events in the ADC2021 layout."""
    from adkit.datasets import background, write_particles_h5

    path = tmp_path_factory.mktemp("data") / "bkg.h5"
    write_particles_h5(path, background(5000, seed=5)[0])
    return path


def run_cli(*args: str, cwd: Path | None = None):
    """Run the CLI in-process; returns click's Result (exit_code, stdout, stderr)."""
    from click.testing import CliRunner

    from adkit.cli import main

    runner = CliRunner()
    old = os.getcwd()
    try:
        if cwd:
            os.chdir(cwd)
        return runner.invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


def features_of(path, **kw) -> np.ndarray:
    from adkit.io import open_events

    return np.concatenate([b.features for b in open_events(path, **kw)])


class Jobs:
    """Scripts that run as their own processes (every example, every docs page's run blocks in quick mode,
    every benchmark in quick mode), two at a time with one core each, started when collection ends, the
    longest first, while the other tests run; the tests that wait for them run last. Each such test
    asserts on its job: every job still runs, they no longer run one after the other."""

    def __init__(self, workers: int = 2) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.pool = ThreadPoolExecutor(workers)
        self.jobs: dict = {}
        self.root: Path | None = None

    def start(self, key: str, argv: list[str], timeout: float = 600) -> None:
        import subprocess
        import tempfile

        if key in self.jobs:
            return
        if self.root is None:
            self.root = Path(tempfile.mkdtemp(prefix="adkit-jobs-"))
        cwd = self.root / key.replace("/", "_")
        cwd.mkdir()
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore::DeprecationWarning"}
        self.jobs[key] = (cwd, self.pool.submit(subprocess.run, argv, cwd=cwd, capture_output=True, text=True,
                                                timeout=timeout, env=env, check=False))

    def result(self, key: str, argv: list[str]):
        """The finished run of ``key`` (started now if collection did not start it) and its directory."""
        self.start(key, argv)
        cwd, job = self.jobs[key]
        return job.result(), cwd

    def close(self) -> None:
        import shutil

        for _, job in self.jobs.values():
            job.cancel()
        self.pool.shutdown(wait=True)
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)


JOBS = Jobs()
#: Jobs that take longest, started first (the rest follow in collection order).
LONGEST_FIRST = ("docs/distill.md", "benchmark/physics.py", "example/detector_zoo.py", "example/latent_quantum.py",
                 "docs/series.md", "example/series_firmware.py", "example/distill_fpga.py", "benchmark/bench_quantum.py")


def pytest_collection_modifyitems(session, config, items) -> None:
    """Tests that wait for background jobs run last: the other tests run while the jobs do."""
    def waits(item) -> bool:
        declare = getattr(item.module, "background_jobs", None)
        return bool(declare and declare(item))

    items.sort(key=waits)  # stable: the order within each group is kept


def pytest_collection_finish(session) -> None:
    """Start the jobs of every collected test that declares them (a module's ``background_jobs(item)``)."""
    if session.config.option.collectonly:
        return
    wanted = {}
    for item in session.items:
        declare = getattr(item.module, "background_jobs", None)
        wanted.update(declare(item) if declare else {})
    for key in sorted(wanted, key=lambda k: (LONGEST_FIRST.index(k) if k in LONGEST_FIRST else len(LONGEST_FIRST))):
        JOBS.start(key, wanted[key])


def pytest_sessionfinish(session, exitstatus) -> None:
    JOBS.close()
