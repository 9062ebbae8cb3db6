"""The ensemble detector: members' tail probabilities, calibrated and combined (Fisher, Tippett).

The reference is written here from the definitions (an empirical survival function with the
(k + 1) / (n + 1) convention, an exponential peaks-over-threshold tail, Fisher's -2 Σ log p and
Tippett's -log min p), from the members' own scores, not from adkit's ensemble code."""
from __future__ import annotations

import math

import numpy as np
import pytest

from adkit.detectors import get
from adkit.errors import ConfigError


def reference_log_p(s: float, cal: list[float], tail: float) -> float:
    """log P(S >= s): counted below the tail threshold, exponential above it."""
    cal = sorted(cal)
    n = len(cal)
    top = min(n - 1, max(10, math.ceil(tail * n)))
    u = cal[n - top - 1]
    if s > u:
        excess = [c - u for c in cal[n - top:]]
        return math.log((top + 1) / (n + 1)) - (s - u) / (sum(excess) / len(excess))
    return math.log((sum(1 for c in cal if c >= s) + 1) / (n + 1))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 6))
    test = np.vstack([rng.normal(size=(2000, 6)), rng.normal(size=(50, 6)) + 4])
    return X, test


@pytest.mark.parametrize("combine", ["fisher", "tippett"])
def test_scores_follow_the_definitions(data, combine):
    X, test = data
    det = get("ensemble")(members="iforest,ocsvm", combine=combine, tail=0.02).fit(X)
    got = det.decision_function(test)
    cal = [c.tolist() for c in det.calibration_]  # the members' scores of the held-out share
    sd = X.std(0)
    Z, Zt = (X - X.mean(0)) / sd, (test - X.mean(0)) / sd  # the ensemble standardises once, for all members
    for m, c in zip(det.members_, cal):
        assert not getattr(m, "standardize", False)
        held = np.sort(m.decision_function(Z[np.sort(np.random.default_rng(0).permutation(len(X))[:600])]))
        np.testing.assert_allclose(held, c)
    per_member = [m.decision_function(Zt) for m in det.members_]
    for i in (0, 1, 500, 2000, 2049):
        logs = [reference_log_p(float(s[i]), c, 0.02) for s, c in zip(per_member, cal)]
        want = -2 * sum(logs) if combine == "fisher" else -min(logs)
        assert got[i] == pytest.approx(want, rel=1e-9, abs=1e-9)
    assert got[2000:].mean() > np.quantile(got[:2000], 0.99), "the shifted events score high"


def test_tail_probabilities_are_calibrated(data):
    """On fresh background, each member's probability is below α for about a share α of events."""
    X, _ = data
    det = get("ensemble")(members="iforest,ocsvm").fit(X)
    fresh = np.random.default_rng(1).normal(size=(20_000, 6))
    p = np.exp(det.member_log_probabilities(fresh))
    for alpha in (0.1, 0.01):
        share = (p < alpha).mean(0)
        sigma = math.sqrt(alpha * (1 - alpha) / 600) * 3 + 3 * math.sqrt(alpha / 20_000)  # calibration + test spread
        assert np.all(np.abs(share - alpha) < sigma), (alpha, share)


def test_members_are_checked_and_the_model_file_round_trips(data, tmp_path):
    import adkit

    X, test = data
    for bad, why in (("nope", "unknown model"), ("student", "not a detector of single events"),
                     ("vae:nope", "has no score 'nope'"), ("ae,,vae", "expected detector names")):
        with pytest.raises(ConfigError, match=why):
            get("ensemble")(members=bad).fit(X)
    det = get("ensemble")(members="ae,vae:latent", epochs=2).fit(X)
    back = adkit.load(adkit.save(det, tmp_path / "e.adkit"))
    np.testing.assert_array_equal(back.decision_function(test), det.decision_function(test))
    assert [m.name for m in back.members_] == ["ae", "vae"] and back.members_[1].score_kind == "latent"


def test_the_model_scales_inputs_as_its_first_member_wants():
    """``--preprocessing auto`` gives an ensemble its first member's scaling (an AE's log-pooled)."""
    from adkit.workflows import train

    model = train("ensemble", epochs=1, n_default=3000, params={"members": "ae,iforest"})
    assert model.scaler.kind == "log-pooled"
    assert train("ensemble", n_default=3000, params={"members": "iforest"}).scaler.kind == "physics"
