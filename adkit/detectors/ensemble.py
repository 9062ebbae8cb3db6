"""Ensemble: several detectors' scores combined as calibrated tail probabilities.

Each member (a registered event detector, ``name`` or ``name:score``) is trained on the same
events except a calibration share, which it then scores. A member's score ``s`` becomes its
background tail probability ``p = P(S ≥ s)``: the empirical one, ``(k + 1) / (n + 1)`` with
``k`` of ``n`` calibration scores at or above ``s``, and beyond the top ``tail`` share of the
calibration scores an exponential tail fitted to them (the peaks-over-threshold model with
shape 0), so the probability keeps falling past the largest calibration score instead of
stopping at ``1 / (n + 1)``. The members' probabilities are combined by Fisher's method
(score ``-2 Σ log p``) or Tippett's (``-log min p``); each is a monotone map of a combined tail
probability, so members on different scales (a reconstruction error, a KL divergence, a path
length) count alike. With ``standardize`` (on for arrays given directly, off under `adkit
train`, whose scaler prepares the inputs) the ensemble standardises its inputs once; the
members never standardise again, so all of them see the scaling the model file states.
"""
from __future__ import annotations

import numpy as np

from adkit.detectors.base import Detector, TrainOptions
from adkit.errors import ConfigError, ModelFileError
from adkit.validation import Rule, choice

COMBINE = ("fisher", "tippett")


def parse_members(members: str) -> list[tuple[str, str | None]]:
    """``"ae,vae:latent"`` → ``[("ae", None), ("vae", "latent")]``, each a registered event detector."""
    from adkit.detectors.registry import get

    out = []
    for item in (m.strip() for m in str(members).split(",")):
        name, _, score = item.partition(":")
        if not name:
            raise ConfigError(f"ensemble: members={members!r}: an empty member name")
        cls = get(name)
        if cls.uses_target or cls.two_sample or cls.uses_condition or cls.sequence or cls is EnsembleDetector:
            raise ConfigError(f"ensemble: member {name!r} is not a detector of single events without conditions")
        if score and score not in cls.score_kinds:
            raise ConfigError(f"ensemble: member {name!r} has no score {score!r}"
                              + (f"; valid: {', '.join(cls.score_kinds)}" if cls.score_kinds else ""))
        out.append((name, score or None))
    if not 1 <= len(out) <= 16:
        raise ConfigError(f"ensemble: members={members!r}: give 1 to 16 members")
    return out


def tail_log_probability(s: np.ndarray, calibration: np.ndarray, top: int, scale: float) -> np.ndarray:
    """log P(S ≥ s) from the sorted ``calibration`` scores, exponential beyond the ``top`` largest
    (in logarithms: far beyond the calibration the probability is below the smallest float)."""
    n = len(calibration)
    k = n - np.searchsorted(calibration, s, side="left")
    logp = np.log((k + 1.0) / (n + 1.0))
    u = calibration[n - top - 1]
    beyond = s > u
    logp[beyond] = np.log((top + 1.0) / (n + 1.0)) - (s[beyond] - u) / scale
    return logp


class EnsembleDetector(Detector):
    """Members' calibrated tail probabilities combined (Fisher or Tippett)."""

    name = "ensemble"
    param_rules = {"members": Rule("detectors"), "combine": choice(*COMBINE), "calibration_fraction": Rule("float", 0.05, 0.5),
                   "tail": Rule("float", 0.001, 0.5), "epochs": Rule("int", 1, 10_000_000, none_ok=True)}

    def __init__(self, members: str = "ae,iforest", combine: str = "fisher", calibration_fraction: float = 0.2,
                 tail: float = 0.01, epochs: int | None = None, seed: int = 0, contamination: float = 0.1,
                 standardize: bool = True) -> None:
        self.members = members
        self.standardize = standardize
        self.combine = combine
        self.calibration_fraction = calibration_fraction
        self.tail = tail
        self.epochs = epochs
        self.seed = seed
        self.contamination = contamination

    #: The scaling of the default members (``ae`` first); :meth:`input_scaling` follows the actual first member.
    preprocessing = "log-pooled"

    def input_scaling(self) -> str:
        """The input scaling under ``--preprocessing auto``: the first member's (log-pooled for ``ae``)."""
        return self.member_classes()[0].preprocessing

    def member_classes(self) -> list[type[Detector]]:
        """The classes of the members (for the checks that depend on what the members are)."""
        from adkit.detectors.registry import get

        return [get(name) for name, _ in parse_members(self.members)]

    def _member(self, name: str, score: str | None) -> Detector:
        from adkit.detectors.registry import get

        cls = get(name)
        names = cls.param_names()
        kw = {k: v for k, v in (("seed", self.seed), ("epochs", self.epochs), ("score", score),
                                ("standardize", False)) if k in names and v is not None}
        return cls(**kw)

    def fit(self, X: np.ndarray, y: np.ndarray | None = None, *, condition: np.ndarray | None = None,
            options: TrainOptions | None = None) -> EnsembleDetector:
        self.check_condition(X, condition)
        specs = parse_members(self.members)
        rng = np.random.default_rng(self.seed)
        order = rng.permutation(len(X))
        n_cal = max(2, round(len(X) * self.calibration_fraction))
        if len(X) - n_cal < 2:
            raise ConfigError(f"ensemble: {len(X)} events are too few to train and calibrate members")
        cal, train = X[np.sort(order[:n_cal])], X[np.sort(order[n_cal:])]
        self.members_, self.calibration_, self.tail_ = [], [], []
        for name, score in specs:
            member = self._member(name, score).fit(train)
            self._calibrate(member, member.decision_function(cal))
        return self

    def _calibrate(self, member: Detector, scores: np.ndarray) -> None:
        c = np.sort(np.asarray(scores, dtype=np.float64))
        top = int(min(len(c) - 1, max(10, np.ceil(self.tail * len(c)))))
        u = c[len(c) - top - 1]
        excess = c[len(c) - top:] - u
        scale = float(excess.mean()) if excess.size and excess.mean() > 0 else float(np.std(c)) or 1.0
        self.members_.append(member)
        self.calibration_.append(c)
        self.tail_.append((top, scale))

    def member_log_probabilities(self, X: np.ndarray) -> np.ndarray:
        """Each member's calibrated log tail probability of every event, shape (n, members)."""
        return np.stack([tail_log_probability(m.decision_function(X), c, top, scale)
                         for m, c, (top, scale) in zip(self.members_, self.calibration_, self.tail_)], 1)

    def _score(self, X: np.ndarray, condition: np.ndarray | None = None) -> np.ndarray:
        self._check_fitted()
        self.check_condition(X, condition)
        logp = self.member_log_probabilities(X)
        return -2.0 * logp.sum(1) if self.combine == "fisher" else -logp.min(1)

    def _tensors(self) -> tuple[dict, dict[str, np.ndarray]]:
        configs, tensors = [], {}
        for i, (m, c, t) in enumerate(zip(self.members_, self.calibration_, self.tail_)):
            config, own = m.state(training_scores=False)
            configs.append({"name": m.name, "config": config, "tail": [int(t[0]), float(t[1])]})
            tensors.update({f"m{i}.{k}": v for k, v in own.items()})
            tensors[f"calibration{i}"] = c
        return {"members": configs}, tensors

    def _load_tensors(self, config: dict, tensors: dict[str, np.ndarray]) -> None:
        from adkit.detectors.registry import get

        self.members_, self.calibration_, self.tail_ = [], [], []
        try:
            for i, m in enumerate(config["members"]):
                own = {k[len(f"m{i}."):]: v for k, v in tensors.items() if k.startswith(f"m{i}.")}
                self.members_.append(get(m["name"]).from_state(m["config"], own))
                self.calibration_.append(np.asarray(tensors[f"calibration{i}"], dtype=np.float64))
                self.tail_.append((int(m["tail"][0]), float(m["tail"][1])))
        except (KeyError, TypeError, ValueError, IndexError) as e:
            raise ModelFileError(f"ensemble: the stored members are damaged ({type(e).__name__}: {e})") from None
