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
    # per repetition: two data gates per qubit (U(π/2, a, b) and U(a, b, 0)) and a CNOT ladder
    assert qc.num_qubits == 3 and qc.count_ops()["cx"] == 2 * 2 and qc.count_ops()["u"] == 2 * 3 * 2


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


# --- independent references, written from the papers gate by gate (no adkit, no qiskit) -----------------

def _u(theta: float, phi: float, lam: float) -> np.ndarray:
    """The U(θ, φ, λ) gate as defined in OpenQASM (and used by the paper's qiskit code)."""
    c, s = np.cos(theta / 2), np.sin(theta / 2)
    return np.array([[c, -np.exp(1j * lam) * s], [np.exp(1j * phi) * s, np.exp(1j * (phi + lam)) * c]])


def _on(q: int, gate: np.ndarray, n: int) -> np.ndarray:
    """``gate`` on qubit q of n as a 2ⁿ matrix; qubit 0 is the least significant bit of the index."""
    m = np.eye(1)
    for k in range(n - 1, -1, -1):
        m = np.kron(m, gate if k == q else np.eye(2))
    return m


def _cnot(c: int, t: int, n: int) -> np.ndarray:
    m = np.zeros((2 ** n, 2 ** n))
    for i in range(2 ** n):
        m[i ^ (1 << t) if (i >> c) & 1 else i, i] = 1
    return m


def _dense_u_paper(x: np.ndarray, reps: int) -> np.ndarray:
    """Belis, Woźniak et al. (arXiv:2301.10780), the dense U-encoding with re-uploading: per
    repetition U(π/2, x_2k, x_2k+1) on every qubit k, CNOTs 0→1→…→n−1, then U(x_2k, x_2k+1, 0)."""
    n = (len(x) + 1) // 2
    xs = np.append(x, 0.0) if len(x) % 2 else x
    psi = np.zeros(2 ** n, complex)
    psi[0] = 1
    for _ in range(reps):
        for k in range(n):
            psi = _on(k, _u(np.pi / 2, xs[2 * k], xs[2 * k + 1]), n) @ psi
        for k in range(n - 1):
            psi = _cnot(k, k + 1, n) @ psi
        for k in range(n):
            psi = _on(k, _u(xs[2 * k], xs[2 * k + 1], 0.0), n) @ psi
    return psi


def _zz_paper(x: np.ndarray, reps: int) -> np.ndarray:
    """Havlíček et al. (Nature 567, 2019) ZZ map, linear entanglement: per repetition H on every
    qubit, P(2 x_i), and for each neighbour pair exp(-i (π−x_i)(π−x_j) Z_i Z_j) as CX·P(2φ)·CX."""
    n = len(x)
    h = np.array([[1, 1], [1, -1]]) / np.sqrt(2)
    p = lambda a: np.diag([1, np.exp(1j * a)])  # noqa: E731
    psi = np.zeros(2 ** n, complex)
    psi[0] = 1
    for _ in range(reps):
        for i in range(n):
            psi = _on(i, p(2 * x[i]), n) @ _on(i, h, n) @ psi
        for i in range(n - 1):
            phi = (np.pi - x[i]) * (np.pi - x[i + 1])
            psi = _cnot(i, i + 1, n) @ _on(i + 1, p(2 * phi), n) @ _cnot(i, i + 1, n) @ psi
    return psi


@pytest.mark.parametrize("name,n_features,reps,ref", [("dense_u", 16, 3, _dense_u_paper), ("dense_u", 5, 2, _dense_u_paper),
                                                        ("zz", 4, 2, _zz_paper)])
def test_feature_maps_are_the_papers_circuits(name, n_features, reps, ref):
    """adkit's fast path and qiskit running adkit's circuit both equal the paper's circuit to 1e-10."""
    from qiskit.quantum_info import Statevector
    from qiskit_machine_learning.kernels import FidelityStatevectorKernel

    rng = np.random.default_rng(7)
    X = rng.uniform(-np.pi, np.pi, (6, n_features))
    want = np.array([ref(x, reps) for x in X])
    qc = feature_map(name, n_features, reps)
    fast = statevectors(qc, X)
    via_qiskit = np.array([Statevector(qc.assign_parameters(x)).data for x in X])
    for got in (fast, via_qiskit):  # global phases cancel in the kernel, but none appear here either
        assert np.abs(got - want).max() < 1e-10
    k_ref = np.abs(want.conj() @ want.T) ** 2
    assert np.abs(kernel_matrix(X, None, name, reps) - k_ref).max() < 1e-10
    assert np.abs(FidelityStatevectorKernel(feature_map=qc).evaluate(X) - k_ref).max() < 1e-10


def test_interference_distance_is_the_papers_estimate():
    """Belis, Woźniak et al.: amplitude-encode â and b̂ in the two branches of an ancilla, apply a
    Hadamard; P(ancilla = 1) = (1 − ⟨â|b̂⟩)/2. Built here as explicit vectors and matrices."""
    from adkit.quantum.distance import distances, overlap_probability

    rng = np.random.default_rng(8)
    for _ in range(5):
        a, b = rng.normal(size=6), rng.normal(size=6)
        ah, bh = np.zeros(8), np.zeros(8)
        ah[:6], bh[:6] = a / np.linalg.norm(a), b / np.linalg.norm(b)
        state = np.concatenate([ah, bh]) / np.sqrt(2)  # ancilla is the most significant qubit here
        after = np.kron(np.array([[1, 1], [1, -1]]) / np.sqrt(2), np.eye(8)) @ state
        p1 = float(np.sum(after[8:] ** 2))
        assert overlap_probability(a[None], b[None])[0, 0] == pytest.approx(p1, abs=1e-12)
        d2 = a @ a + b @ b - 2 * np.linalg.norm(a) * np.linalg.norm(b) * (1 - 2 * p1)
        assert distances(a[None], b[None])[0, 0] == pytest.approx(np.sqrt(d2), abs=1e-9)


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
        p = np.exp(-det.decision_function(np.c_[xx.ravel(), yy.ravel()].astype(np.float32)))
        assert p.sum() * (g[1] - g[0]) ** 2 == pytest.approx(1.0, abs=2e-3), basis
    # trained: the background is more probable than a uniform box of the same size would be
    assert np.mean(-det.decision_function(X.astype(np.float32))) > -np.log(8.0 * 4.0)


def test_mps_stable_with_many_sites():
    from adkit.detectors import create

    X = np.random.default_rng(7).normal(size=(2000, 40)).astype(np.float32)
    det = create("mps", epochs=2, bond_dim=16, batch_size=500).fit(X)
    assert np.isfinite(det.decision_function(X)).all() and np.isfinite(det.decision_function(X * 10)).all()


@pytest.fixture(scope="module")
def encoder_file(tmp_path_factory):
    from adkit.workflows import train

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
    r = CliRunner().invoke(main, ["train", "--detector", "qsvm", "--encoder", str(encoder_file), "--param", "n_train=200",
                                  "-o", str(out)])
    assert r.exit_code == 0, r.output
    q = Model.load(out)
    assert q.encoder is not None and q.encoder.detector.name == "ae" and q.n_features == 57
    direct = q.detector.decision_function(q.scaler.transform(enc.encode(raw)))
    np.testing.assert_array_equal(q.decision_function(raw), direct)
    r = CliRunner().invoke(main, ["score", "--model", str(out), str(tmp_path / "Ato4l.h5"), "-o",
                                  str(tmp_path / "s.h5")])
    assert r.exit_code == 0, r.output
    # a model without an encoder cannot encode
    r = CliRunner().invoke(main, ["encode", "--model", str(out), str(tmp_path / "Ato4l.h5"), "-o",
                                  str(tmp_path / "x.h5")])
    assert r.exit_code == 2 and "no encoder" in r.stderr


def test_qsvm_large_training_sets_use_nystrom(monkeypatch):
    """Above EXACT_MAX events qsvm fits on Nyström features: the stored expansion over the landmarks
    reproduces the linear one-class SVM on those features, and the kernel error is measured and kept."""
    from sklearn.linear_model import SGDOneClassSVM

    import adkit.detectors.qsvm as qsvm_module
    from adkit.detectors import create, get
    from adkit.quantum import kernel_matrix

    monkeypatch.setattr(qsvm_module, "EXACT_MAX", 300)
    X = np.random.default_rng(3).normal(size=(400, 4))
    det = create("qsvm", n_train=400, n_landmarks=50).fit(X)
    assert det.support_.shape == (50, 4) and 0 < det.kernel_error_ < 1
    # independent of the detector: Nyström features from the landmarks, sklearn's solver on them
    angles = lambda A: np.pi / (1 + np.exp(-0.5 * A))  # noqa: E731
    K_LL = kernel_matrix(angles(det.support_), feature_map="dense_u", reps=3)
    w, V = np.linalg.eigh(K_LL)
    keep = w > 1e-10 * w.max()
    T = V[:, keep] / np.sqrt(w[keep])
    phi = lambda A: kernel_matrix(angles(A), angles(det.support_), "dense_u", 3) @ T  # noqa: E731
    svm = SGDOneClassSVM(nu=0.01, random_state=0).fit(phi(X))
    probe = np.random.default_rng(4).normal(size=(50, 4)) * 2
    np.testing.assert_allclose(det.decision_function(probe), -svm.decision_function(phi(probe)), rtol=1e-6, atol=1e-8)
    again = get("qsvm").from_state(*det.state())
    assert again.kernel_error_ == det.kernel_error_
    np.testing.assert_array_equal(again.decision_function(probe), det.decision_function(probe))
