"""`adkit generate --engine pythia`: the L1 reduction (FastJet) on hand-made events, seeds and shares,
and, where pythia8mc is installed (the ``pythia`` extra, ~30 minutes to compile), a real run."""
from __future__ import annotations

import math

import h5py
import numpy as np
import pytest
from conftest import run_cli

from adkit.datasets import pythia

NO_SMEAR = {"smear_lepton": 0.0, "smear_jet": 0.0, "smear_met": 0.0}


def particle(pt: float, eta: float, phi: float, pdg: int) -> tuple:
    """(px, py, pz, E, id) of a massless particle."""
    return (pt * math.cos(phi), pt * math.sin(phi), pt * math.sinh(eta), pt * math.cosh(eta), pdg)


@pytest.fixture
def exact(monkeypatch):
    monkeypatch.setattr(pythia, "REDUCTION", {**pythia.REDUCTION, **NO_SMEAR})


def test_reduction_of_a_hand_made_event(exact):
    """An isolated electron is kept; a muon with a pion beside it is not isolated and goes into a jet;
    a muon beyond |eta| 2.1 is dropped; anti-kT R=0.4 merges the collinear pions; MET balances all."""
    rows = [particle(50, 0.5, 0.0, 11),          # isolated electron
            particle(30, -1.0, 2.0, -13), particle(20, -1.05, 2.05, 211),  # muon in a jet
            particle(10, 2.5, -2.0, 13),         # muon outside the acceptance: a jet input (below 15 GeV alone)
            particle(40, 1.5, -1.0, 211), particle(25, 1.6, -0.9, 22),  # one jet of 2
            particle(5, -3.0, 1.0, 211)]         # soft, alone: below the jet threshold
    out = pythia.reduce_events([np.array(rows, float)], np.random.default_rng(0))[0]
    assert out.shape == (19, 4)
    assert out[1, 3] == 2 and out[1, 0] == pytest.approx(50, rel=1e-6) and out[1, 1] == pytest.approx(0.5, abs=1e-6)
    assert (out[2:9, 0] == 0).all(), "only one lepton passes (the muons are not isolated or outside)"
    jets = out[9:][out[9:, 3] == 4]
    assert len(jets) == 2
    # each jet is the vector sum of its constituents (computed here directly)
    for members in ([rows[4], rows[5]], [rows[1], rows[2]]):
        px, py = sum(r[0] for r in members), sum(r[1] for r in members)
        assert np.isclose(jets[:, 0], math.hypot(px, py), rtol=1e-5).any()
    assert jets[0, 0] >= jets[1, 0], "jets are pT-ordered"
    mx, my = -sum(r[0] for r in rows), -sum(r[1] for r in rows)
    assert out[0, 0] == pytest.approx(math.hypot(mx, my), rel=1e-5) and out[0, 3] == 1
    assert out[0, 2] == pytest.approx(math.atan2(my, mx), abs=1e-5)


def test_isolation_threshold(exact):
    """Relative isolation: the other particles' pT within ΔR < 0.3 below 15 % of the lepton's."""
    for pion_pt, kept in ((7.0, True), (8.0, False)):  # the pion at ΔR 0.14; 15 % of 50 GeV is 7.5
        rows = np.array([particle(50, 0.0, 0.0, 13), particle(pion_pt, 0.1, 0.1, 211)], float)
        out = pythia.reduce_events([rows], np.random.default_rng(0))[0]
        assert (out[5, 3] == 3) == kept, pion_pt


def test_empty_event_and_many_objects(exact):
    """No visible particle: only MET 0; eleven well-separated jets: the ten hardest kept."""
    jets = np.array([particle(100 - 5 * i, -2 + 0.4 * i, -3 + 0.55 * i, 211) for i in range(11)], float)
    out = pythia.reduce_events([np.zeros((0, 5)), jets], np.random.default_rng(0))
    assert (out[0, 1:, 3] == 0).all() and out[0, 0, 0] == 0
    assert (out[1, 9:, 3] == 4).all() and out[1, 9:, 0] == pytest.approx([100 - 5 * i for i in range(10)], rel=1e-5)


def test_shares_seeds_and_chunks():
    counts = pythia.requested(1000, 50, None)
    assert counts == {"W": 592, "QCD": 338, "Z": 67, "ttbar": 3, "Ato4l": 50, "LQtobtau": 50, "h0totautau": 50,
                      "hchtotaunu": 50}
    assert pythia.requested(1000, 50, "W,Ato4l") == {"W": 592, "Ato4l": 50}
    chunks = pythia.plan("W", 4500, 7, 2000)
    assert [c[1] for c in chunks] == [2000, 2000, 500]
    seeds = [c[2] for c in chunks] + [c[2] for c in pythia.plan("QCD", 4500, 7, 2000)]
    assert len(set(seeds)) == 6 and all(1 <= s <= 900_000_000 for s in seeds)
    assert seeds[:3] == [c[2] for c in pythia.plan("W", 4500, 7, 2000)], "the same seed gives the same chunks"
    assert pythia.plan("W", 4500, 8, 2000)[0][2] != seeds[0]


def test_cli_refuses_what_it_cannot_do(tmp_path):
    r = run_cli("generate", "--engine", "pythia", "--processes", "W,nope", "-o", str(tmp_path / "d"))
    assert r.exit_code == 2 and "--processes 'nope'" in r.output and "Traceback" not in r.output
    r = run_cli("generate", "--processes", "W", "-o", str(tmp_path / "d"))
    assert r.exit_code == 2 and "needs --engine pythia" in r.output
    assert not (tmp_path / "d").exists()


def test_a_file_adkit_did_not_make_is_never_replaced(tmp_path):
    """A file in the chunk folder under a chunk's name that adkit did not write is refused, not replaced."""
    pytest.importorskip("pythia8mc", reason="pythia8mc is in the pythia extra (it compiles for ~30 minutes)")
    chunks = tmp_path / "d" / pythia.CHUNKS
    chunks.mkdir(parents=True)
    theirs = chunks / "W-1-100-00000.h5"
    theirs.write_text("my notes")
    r = run_cli("generate", "--engine", "pythia", "--events", "100", "--processes", "W", "--chunk", "100",
                "--format", "h5", "-o", str(tmp_path / "d"))
    assert r.exit_code == 2 and "not a chunk adkit made" in r.output
    assert theirs.read_text() == "my notes" and sorted(p.name for p in (tmp_path / "d").iterdir()) == [pythia.CHUNKS]


def test_cli_without_pythia_names_the_extra(tmp_path, monkeypatch):
    import builtins

    real = builtins.__import__

    def no_pythia(name, *a, **k):
        if name == "pythia8mc":
            raise ImportError("No module named 'pythia8mc'", name="pythia8mc")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_pythia)
    r = run_cli("generate", "--engine", "pythia", "--events", "100", "-o", str(tmp_path / "d"))
    assert r.exit_code == 2 and "pip install 'adkit[pythia]'" in r.output and len(r.output.strip().splitlines()) == 1
    assert not (tmp_path / "d").exists()


def test_pythia_generates_resumes_and_repeats(tmp_path, shared_data):
    """A few hundred real Pythia events: the layout, the same events for the same seed whatever the
    number of workers, and an interrupted run that keeps its finished chunks."""
    pytest.importorskip("pythia8mc", reason="pythia8mc is in the pythia extra (it compiles for ~30 minutes)")
    args = ["generate", "--engine", "pythia", "--events", "300", "--signal-events", "40", "--processes",
            "W,QCD,Ato4l", "--chunk", "100", "--format", "h5", "--seed", "3"]
    r = run_cli(*args, "-o", str(tmp_path / "a"))
    assert r.exit_code == 0, r.output
    assert "events/s per core" in r.output
    with h5py.File(tmp_path / "a" / "W.h5") as f:
        w = f["Particles"][:]
        assert f.attrs["seed"] == 3 and f.attrs["events"] == 178
    assert w.shape == (178, 19, 4) and (w[:, 0, 3] == 1).all()
    for name, new in (("W", w), ("Ato4l", None)):  # lepton and jet counts as in the shipped Pythia sample
        if new is None:
            with h5py.File(tmp_path / "a" / f"{name}.h5") as f:
                new = f["Particles"][:]
        with h5py.File(shared_data / "pythia" / f"{name}.h5") as f:
            ref = f["Particles"][:]
        for rows, tol in ((slice(1, 9), 0.15), (slice(9, 19), 0.35)):
            a, b = ((x[:, rows, 3] > 0).sum(1).mean() for x in (new, ref))
            assert abs(a - b) < tol * max(b, 1), (name, rows, a, b)
    assert not (tmp_path / "a" / pythia.CHUNKS).exists()
    # two workers, same seed: the same events; a chunk left by an interrupted run is reused
    b = tmp_path / "b"
    first = pythia.plan("QCD", 101, 3, 100)[0]
    (b / pythia.CHUNKS).mkdir(parents=True)
    pythia.run_chunk("QCD", first[1], first[2], str(b / pythia.CHUNKS / "QCD-3-100-00000.h5"))
    r = run_cli(*args, "--workers", "2", "-o", str(b))
    assert r.exit_code == 0, r.output
    assert "100 reused" in r.output
    for name in ("W", "QCD", "Ato4l"):
        with h5py.File(tmp_path / "a" / f"{name}.h5") as fa, h5py.File(b / f"{name}.h5") as fb:
            np.testing.assert_array_equal(fa["Particles"][:], fb["Particles"][:])
    # a finished sample is not overwritten without --overwrite
    r = run_cli(*args, "-o", str(b))
    assert r.exit_code == 0 and "already complete" in r.output
