"""Quantum kernels and distances, latent-space models: checked against qiskit and by construction."""
from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from adkit.cli import main
from adkit.quantum import feature_map, kernel_matrix, statevectors


@pytest.mark.parametrize("name,n_features,reps", [("dense_u", 8, 3), ("dense_u", 5, 2), ("zz", 4, 2)])
def test_fast_kernel_equals_qiskit_exactly(name, n_features, reps):
    rng = np.random.default_rng(0)
    X = rng.uniform(0, np.pi, (25, n_features))
    Y = rng.uniform(0, np.pi, (15, n_features))
    fast = kernel_matrix(X, Y, name, reps)
    ref = kernel_matrix(X, Y, name, reps, method="qiskit")
    assert np.abs(fast - ref).max() < 1e-8
    gram = kernel_matrix(X, None, name, reps)
    np.testing.assert_allclose(np.diag(gram), 1.0, atol=1e-12)
    assert np.abs(gram - kernel_matrix(X, None, name, reps, method="qiskit")).max() < 1e-8


def test_statevectors_match_qiskit_statevector():
    from qiskit.quantum_info import Statevector

    qc = feature_map("dense_u", 6, 2)
    x = np.random.default_rng(1).uniform(0, np.pi, (3, 6))
    psi = statevectors(qc, x)
    for i in range(3):
        ref = Statevector(qc.assign_parameters(x[i])).data
        np.testing.assert_allclose(psi[i], ref, atol=1e-12)
    assert qc.num_qubits == 3 and qc.count_ops()["cx"] == 2 * 2 and qc.count_ops()["u"] == 3 * 2


def test_shots_agree_within_shot_noise():
    rng = np.random.default_rng(2)
    X = rng.uniform(0, np.pi, (6, 4))
    exact = kernel_matrix(X, X[:4], "dense_u", 2)
    shots = 4000
    sampled = kernel_matrix(X, X[:4], "dense_u", 2, method="qiskit", shots=shots, seed=3)
    sigma = np.sqrt(np.clip(exact * (1 - exact), 1e-4, None) / shots)
    assert np.all(np.abs(sampled - exact) < 5 * sigma + 1e-3), np.abs(sampled - exact) / sigma
    fast_noisy = kernel_matrix(X, X[:4], "dense_u", 2, shots=shots, seed=3)
    assert np.all(np.abs(fast_noisy - exact) < 5 * sigma + 1e-3) and not np.array_equal(fast_noisy, exact)


def test_too_many_qubits_is_a_clear_error():
    from adkit.errors import ConfigError

    with pytest.raises(ConfigError, match="latent space"):
        kernel_matrix(np.zeros((2, 57)))


def test_interference_distance_matches_the_circuit():
    from qiskit.quantum_info import Statevector

    from adkit.quantum.distance import distances, interference_circuit, overlap_probability

    rng = np.random.default_rng(4)
    a, b = rng.normal(size=5), rng.normal(size=5)
    probs = Statevector(interference_circuit(a, b)).probabilities([0])
    assert probs[1] == pytest.approx(overlap_probability(a[None], b[None])[0, 0], abs=1e-10)
    A, B = rng.normal(size=(20, 5)), rng.normal(size=(3, 5))
    exact = distances(A, B)
    np.testing.assert_allclose(exact, np.linalg.norm(A[:, None] - B[None], axis=-1), atol=1e-9)
    noisy = distances(A, B, shots=20000, rng=np.random.default_rng(0))
    assert np.abs(noisy - exact).max() < 0.2 * exact.max() and not np.allclose(noisy, exact)


def test_kmedians_centroids_are_medians():
    from adkit.detectors import create

    rng = np.random.default_rng(5)
    X = np.concatenate([rng.normal(-4, 1, (500, 2)), rng.normal(4, 1, (500, 2))])
    X[:20] += 60  # far outliers pull a mean, not a median
    means = np.sort(create("qkmeans").fit(X).centroids_[:, 0])
    medians = np.sort(create("qkmedians").fit(X).centroids_[:, 0])
    assert abs(medians[0] + 4) < 0.3 and abs(medians[1] - 4) < 0.3
    assert abs(means[0] + 4) > abs(medians[0] + 4) or abs(means[1] - 4) > abs(medians[1] - 4)


def test_mps_is_a_normalised_density():
    from adkit.detectors import create

    rng = np.random.default_rng(6)
    X = np.column_stack([rng.normal(size=3000), rng.normal(size=3000) * 0.5 + 0.3 * rng.normal(size=3000)])
    for basis in ("legendre", "fourier", "trig"):
        det = create("mps", epochs=4, bond_dim=4, basis=basis, batch_size=256).fit(X.astype(np.float32))
        g = np.linspace(-14, 14, 561)
        xx, yy = np.meshgrid(g, g)
        p = np.exp(-det.score(np.c_[xx.ravel(), yy.ravel()].astype(np.float32)))
        assert p.sum() * (g[1] - g[0]) ** 2 == pytest.approx(1.0, abs=2e-3), basis
    # trained: the background is more probable than a uniform box of the same size would be
    assert np.mean(-det.score(X.astype(np.float32))) > -np.log(8.0 * 4.0)


def test_mps_stable_with_many_sites():
    from adkit.detectors import create

    X = np.random.default_rng(7).normal(size=(2000, 40)).astype(np.float32)
    det = create("mps", epochs=2, bond_dim=16, batch_size=500).fit(X)
    assert np.isfinite(det.score(X)).all() and np.isfinite(det.score(X * 10)).all()


@pytest.fixture(scope="module")
def encoder_file(tmp_path_factory):
    from adkit.pipeline import train

    d = tmp_path_factory.mktemp("latent")
    train("ae", epochs=2, n_default=20_000, params={"latent_dim": 6}).save(d / "ae.adkit")
    return d / "ae.adkit"


def test_encode_and_latent_model_scores_raw_events(encoder_file, tmp_path):
    import h5py

    from adkit.artifact import Model
    from adkit.datasets import write_dataset

    write_dataset(tmp_path, 3000, 500, 3, ("h5",))
    r = CliRunner().invoke(main, ["encode", "--model", str(encoder_file), str(tmp_path / "background.h5"),
                                  "-o", str(tmp_path / "lat.h5")])
    assert r.exit_code == 0, r.output
    enc = Model.load(encoder_file)
    with h5py.File(tmp_path / "lat.h5") as h5, h5py.File(tmp_path / "background.h5") as src:
        lat = h5["latent"][:]
        raw = enc.spec.features.compute(src["Particles"][:, :, :3])
        assert list(h5["latent"].attrs["columns"]) == [f"z{i}" for i in range(6)]
        np.testing.assert_allclose(lat, enc.encode(raw), rtol=1e-6)
        assert np.array_equal(h5["entry"][:], np.arange(3000))
    out = tmp_path / "q.adkit"
    r = CliRunner().invoke(main, ["train", "--model", "qsvm", "--encoder", str(encoder_file), "--param", "n_train=200",
                                  "-o", str(out)])
    assert r.exit_code == 0, r.output
    q = Model.load(out)
    assert q.encoder is not None and q.encoder.detector.name == "ae" and q.n_features == 57
    direct = q.detector.score(q.scaler.transform(enc.encode(raw)))
    np.testing.assert_array_equal(q.score(raw), direct)
    r = CliRunner().invoke(main, ["score", "--model", str(out), str(tmp_path / "Ato4l.h5"), "-o",
                                  str(tmp_path / "s.h5")])
    assert r.exit_code == 0, r.output
    # a model without an encoder cannot encode
    r = CliRunner().invoke(main, ["encode", "--model", str(out), str(tmp_path / "Ato4l.h5"), "-o",
                                  str(tmp_path / "x.h5")])
    assert r.exit_code == 2 and "no encoder" in r.stderr
