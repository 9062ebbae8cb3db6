"""What the model was trained on, per feature, and how far new inputs stray from it.

A model stores the per-feature minimum and maximum of its training inputs and how often
each feature is populated (non-zero). At scoring, :class:`RangeCheck` counts, chunk by chunk
(bounded memory), the events with a *well-sampled* feature (populated in at least
:data:`WELL_SAMPLED` of training events: MET, the leading objects) outside that range. Sparse
slots (a 7th jet, a 3rd electron) are left out of the alarm: a process with more objects
than the training background (ttbar, A→4ℓ) legitimately fills them beyond anything seen,
which is what an anomaly detector is for. A wrong unit or mapping moves the well-sampled
features themselves (MeV read as GeV: nearly every event outside). The warning names the
worst features with their training range and the mean seen here.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Fraction of events outside the training range above which scoring warns (or, strict, stops).
DEFAULT_LIMIT = 0.5
#: A feature takes part in the check when at least this fraction of training events populate it.
WELL_SAMPLED = 0.1


def fit_ranges(X: np.ndarray) -> dict:
    """The per-feature range of training inputs, as stored in the model file."""
    X = np.asarray(X, dtype=np.float64)
    return {"min": X.min(axis=0).tolist(), "max": X.max(axis=0).tolist(), "populated": (X != 0).mean(axis=0).tolist(),
            "events": int(len(X))}


def _float32_bound(x: np.ndarray, up: bool) -> np.ndarray:
    """The float32 nearest ``x`` on the side ``up`` (≥ x) or down (≤ x); infinite stays infinite."""
    with np.errstate(over="ignore"):
        b = x.astype(np.float32)
    off = b < x if up else b > x
    return np.where(off, np.nextafter(b, np.float32(np.inf if up else -np.inf)), b).astype(np.float32)


@dataclass
class RangeCheck:
    """Counts of events (and of values per feature) outside the stored training range."""

    ranges: dict
    names: list[str]
    limit: float = DEFAULT_LIMIT
    events: int = 0
    outside: int = 0
    per_feature: np.ndarray = field(init=False)  # values outside, per feature
    sums: np.ndarray = field(init=False)  # of |values| of the checked features, for the mean seen

    def __post_init__(self) -> None:
        self.lo = np.asarray(self.ranges["min"], dtype=np.float64)
        self.hi = np.asarray(self.ranges["max"], dtype=np.float64)
        populated = self.ranges.get("populated")
        self.checked = (np.ones(len(self.lo), bool) if populated is None
                        else np.asarray(populated, dtype=np.float64) >= WELL_SAMPLED)
        self.per_feature = np.zeros(len(self.lo), dtype=np.int64)
        self.sums = np.zeros(len(self.lo))
        self.columns = np.flatnonzero(self.checked)
        # the same bounds in float32, rounded outwards: for a float32 x, x < lo32 exactly when x < lo
        # (no float32 lies between lo and lo32), so float32 chunks compare without a float64 copy
        self._bounds32 = (_float32_bound(self.lo[self.columns], up=True), _float32_bound(self.hi[self.columns], up=False))

    def update(self, X: np.ndarray) -> None:
        lo, hi = self._bounds32 if X.dtype == np.float32 else (self.lo[self.columns], self.hi[self.columns])
        self.events += len(X)
        if not len(X):
            return
        # the checked columns only, taken in one block (np.take: a quarter of the time of X[:, cols])
        sub = np.take(X, self.columns, axis=1)
        out = (sub < lo) | (sub > hi)
        self.outside += int(np.count_nonzero(out.any(axis=1)))
        self.per_feature[self.columns] += np.count_nonzero(out, axis=0)
        self.sums[self.columns] += np.add.reduce(np.abs(sub), axis=0, dtype=X.dtype)

    def state(self) -> dict:
        """The counts, to merge checks of several chunks scored elsewhere (:meth:`add`)."""
        return {"events": self.events, "outside": self.outside, "per_feature": self.per_feature.tolist(),
                "sums": self.sums.tolist()}

    def add(self, state: dict) -> None:
        self.events += state["events"]
        self.outside += state["outside"]
        self.per_feature += np.asarray(state["per_feature"], dtype=np.int64)
        self.sums += np.asarray(state["sums"])

    @property
    def fraction(self) -> float:
        return self.outside / self.events if self.events else 0.0

    @property
    def exceeded(self) -> bool:
        return self.events > 0 and self.fraction > self.limit

    def worst(self, n: int = 3) -> list[dict]:
        """The well-sampled features with the most values outside, with their fraction and training range."""
        order = np.argsort(-self.per_feature, kind="stable")[:n]
        out = []
        for i in order:
            if self.per_feature[i] == 0:
                break
            train_scale = max(abs(self.lo[i]), abs(self.hi[i]))
            out.append({"feature": self.names[i], "fraction": float(self.per_feature[i] / self.events),
                        "training_range": [float(self.lo[i]), float(self.hi[i])],
                        "mean_abs": float(self.sums[i] / self.events), "training_max_abs": float(train_scale)})
        return out

    def summary(self) -> dict:
        return {"events": self.events, "outside": self.outside, "fraction": self.fraction, "limit": self.limit,
                "exceeded": self.exceeded, "worst": self.worst()}

    def message(self, source: str) -> str:
        """One line: how many events are outside, the worst features, the usual causes."""
        parts = []
        for w in self.worst():
            lo, hi = w["training_range"]
            parts.append(f"{w['feature']} {100 * w['fraction']:.0f}% (trained on {lo:.3g}…{hi:.3g}, "
                         f"mean |x| here {w['mean_abs']:.3g})")
        return (f"{source}: {self.outside} of {self.events} events ({100 * self.fraction:.0f}%) have inputs outside "
                f"the model's training range; worst: {'; '.join(parts)}. Check the units and the mapping "
                f"(`adkit info FILE`); scores of such events mean little")
