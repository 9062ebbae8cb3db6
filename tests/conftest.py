"""Shared fixtures: the real data beside the project, a small trained model, the CLI runner."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("ADKIT_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test data not found at {SHARED_DATA} (../shared/data beside the project)")
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
