"""The embedded generator: deterministic, physically sensible, close to the Pythia sample."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import wasserstein_distance

from adkit.datasets import BACKGROUND_SHARES, PROCESSES, background, generate

# Per-feature Wasserstein-1 distance to Pythia 8, in units of the Pythia feature's standard
# deviation, over the 57 raw features. Measured values are in docs/datasets.md.
MEAN_BOUND, MAX_BOUND = 0.20, 0.80


def _h5(shared_data, process):
    import h5py

    with h5py.File(shared_data / "pythia" / f"{process}.h5") as h5:
        return h5["Particles"][:]


@pytest.mark.parametrize("process", PROCESSES)
def test_matches_pythia(shared_data, process):
    ref = _h5(shared_data, process)
    gen = generate(process, max(len(ref), 10_000), seed=11)
    R, G = ref[:, :, :3].reshape(len(ref), -1), gen[:, :, :3].reshape(len(gen), -1)
    d = np.array([wasserstein_distance(R[:, j], G[:, j]) / max(R[:, j].std(), 1e-3) for j in range(57)
                  if R[:, j].std() > 0])
    assert d.mean() < MEAN_BOUND and d.max() < MAX_BOUND, (d.mean(), d.max())
    # object multiplicities: fraction of events with >= 1 electron, muon, jet within 0.08
    for rows in (slice(1, 5), slice(5, 9), slice(9, 19)):
        assert abs((ref[:, rows, 0] > 0).any(1).mean() - (gen[:, rows, 0] > 0).any(1).mean()) < 0.08


def test_deterministic_and_layout():
    a, b = generate("W", 2000, seed=4), generate("W", 2000, seed=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, generate("W", 2000, seed=5))
    assert a.shape == (2000, 19, 4) and a.dtype == np.float32
    cls = a[:, :, 3]
    expected = np.r_[1, [2] * 4, [3] * 4, [4] * 10]
    assert ((cls == 0) | (cls == expected)).all() and (cls[:, 0] == 1).all()
    pt = a[:, :, 0]
    assert (np.diff(pt[:, 9:19], axis=1) <= 0).all()  # jets pT-ordered, zero-padded
    assert (pt[:, 9:][pt[:, 9:] > 0] > 15).all() and (np.abs(a[:, 5:9, 1][pt[:, 5:9] > 0]) < 2.1).all()


def test_physics():
    z = generate("Z", 20000, seed=1)
    lep = np.concatenate([z[:, 1:3], z[:, 5:7]], axis=1)
    from adkit.io.schema import DERIVED, ObjectSchema

    mll = DERIVED["m_ll"][0](z[:, :, :3], ObjectSchema())
    two = (lep[:, :, 0] > 0).sum(1) >= 2
    assert abs(np.median(mll[two]) - 91.2) < 4  # Z peak
    w = generate("W", 20000, seed=1)
    # W -> l nu: the lepton pT Jacobian peak sits near m_W / 2
    lpt = np.maximum(w[:, 1, 0], w[:, 5, 0])
    hist, edges = np.histogram(lpt[lpt > 20], bins=np.arange(20, 60, 4))
    assert 30 <= edges[np.argmax(hist)] <= 44
    b, labels = background(50_000, seed=0)
    shares = np.bincount(labels, minlength=4) / len(labels)
    np.testing.assert_allclose(shares, list(BACKGROUND_SHARES.values()), atol=0.01)


def test_generate_cli(tmp_path):
    from conftest import features_of, run_cli

    r = run_cli("generate", "-o", str(tmp_path / "d"), "--events", "3000", "--signal-events", "500")
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == sorted(
        f"{n}.{e}" for n in ("background", "Ato4l", "LQtobtau", "h0totautau", "hchtotaunu") for e in ("h5", "root"))
    np.testing.assert_array_equal(features_of(tmp_path / "d" / "Ato4l.h5"), features_of(tmp_path / "d" / "Ato4l.root"))
