"""Fitted preprocessing, stored with the model: per-feature standardisation, optionally
object-aware for collider inputs.

Plain standardisation of the 57 raw inputs has a flaw: a slot that is almost always empty
(the 10th jet, the 4th muon) has a tiny standard deviation, so the rare event that fills it
gets a z-score in the hundreds and dominates every reconstruction error, which buries real
signals at trigger-level false-positive rates. The ``physics`` preprocessing fixes that the
way the object structure suggests:

- every slot of one object type and variable (``jet1_pt`` … ``jet10_pt``) shares one mean
  and scale, computed over the *filled* slots only;
- transverse momenta and other energy-like features are compressed by log(1 + x) first;
- an empty slot (value 0) stays exactly 0.

``log-pooled`` is ``physics`` without the last rule: an empty slot is standardised like any
value, so it sits far below the filled ones instead of at their mean; and a slot the training
(almost) never filled (a 3rd electron in W/Z/tt̄/QCD: filled in fewer than a fraction ``RARE``
of the events) gets its own mean and spread, at least ``UNSEEN_SCALE`` times its group's, so an
event with more objects of a type than the training (nearly) ever had stands out by that alone
(an event outside the training's support is an anomaly by definition; measured on A→4ℓ in
docs/ae-default.md and docs/physics-table.md). ``log-pooled-unseen`` marks only the slots the
training never filled (the ``flow``'s default: a density model learns a slot filled once as part
of its support, and measured on A→4ℓ it keeps more signal that way). The autoencoder uses it
by default: keeping empty slots at 0 put "no jet" where a typical jet sits, and the plain AE
recipe of ADC2021 (log pT, empty slots scaled like any value) then reconstructed events with
extra objects better than adkit's AE (see docs/physics-table.md). ``standard`` is the plain
per-column version (used for tables); ``pooled`` is ``physics`` without the log (the affine
scaling a firmware student takes). All are elementwise, so
scoring pays one subtraction and one multiplication per value (plus a log on pT columns).
"""
from __future__ import annotations

import re

import numpy as np

from adkit.errors import ConfigError, NotFittedError

PREPROCESSING = ("physics", "log-pooled", "log-pooled-unseen", "standard", "pooled")
#: ``log-pooled``: the scale of a slot the training never filled, relative to its group's scale.
UNSEEN_SCALE = 1e-3
#: ``log-pooled``: a slot filled in fewer than this fraction of the training events (rarer than the
#: tightest trigger rate adkit reports, FPR 1e-4) is standardised on its own, not with its group.
RARE = 1e-4
_RAW = re.compile(r"^([a-z]+?)\d*_(pt|eta|phi)$")
#: Derived features that are energy-like (log-compressed) and 0 when the object is absent.
_LOG_DERIVED = {"met", "ht", "lepton_pt_sum", "leading_lepton_pt", "leading_jet_pt", "m_ll"}


def column_roles(columns: list[str], kind: str = "physics") -> tuple[list[str], np.ndarray, np.ndarray]:
    """(group per column, log mask, padding mask) for ``kind`` preprocessing of named columns."""
    if kind not in PREPROCESSING:
        raise ConfigError(f"unknown preprocessing {kind!r}; valid: {', '.join(PREPROCESSING)}")
    groups, log, pad = [], [], []
    logs = kind in ("physics", "log-pooled", "log-pooled-unseen")
    pooled_empty = kind.startswith("log-pooled")
    for c in columns:
        m = _RAW.match(c) if kind != "standard" else None
        if m:
            groups.append(f"{m.group(1)}_{m.group(2)}")
            log.append(logs and m.group(2) == "pt")
            pad.append(not pooled_empty)
        else:
            groups.append(c)
            energy = kind != "standard" and c in _LOG_DERIVED
            log.append(energy and logs)
            pad.append(energy and not pooled_empty)
    return groups, np.array(log, dtype=bool), np.array(pad, dtype=bool)


def _as_slice(idx: np.ndarray) -> slice | np.ndarray:
    """Evenly spaced column indices as a slice (every 3rd column: the pT of each object): numpy then
    works on views, without fancy indexing, and lets other threads run meanwhile."""
    if len(idx) > 1 and (d := int(idx[1] - idx[0])) > 0 and np.array_equal(np.diff(idx), np.full(len(idx) - 1, d)):
        return slice(int(idx[0]), int(idx[-1]) + 1, d)
    return idx


class Standardizer:
    """x → (f(x) - mean) / scale per column, f = log1p on ``log`` columns; zeros of ``padding``
    columns stay 0. Columns of one ``group`` share mean and scale. Scale 1 for constant features;
    with ``unseen``, a column of a group of several that is never nonzero, or nonzero in fewer
    than a fraction ``rare`` of the events, gets its own mean and standard deviation, floored at
    ``unseen`` times the group's scale."""

    def __init__(self, groups: list[str] | None = None, log: np.ndarray | None = None,
                 padding: np.ndarray | None = None, unseen: float | None = None, rare: float = RARE) -> None:
        self.groups = groups
        self.unseen, self.rare = unseen, rare
        self.log = None if log is None or not np.any(log) else np.asarray(log, dtype=bool)
        self.padding = None if padding is None or not np.any(padding) else np.asarray(padding, dtype=bool)
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None
        self._inv: np.ndarray | None = None
        self._log_idx: slice | np.ndarray | None = None

    @classmethod
    def for_columns(cls, columns: list[str], kind: str = "physics") -> Standardizer:
        groups, log, pad = column_roles(columns, kind)
        return cls(groups, log, pad, UNSEEN_SCALE if kind.startswith("log-pooled") else None,
                   RARE if kind == "log-pooled" else 0.0)

    def _f(self, X: np.ndarray, dtype) -> np.ndarray:
        out = np.array(X, dtype=dtype, copy=True)
        if self.log is not None:
            out[:, self.log] = np.log1p(np.maximum(out[:, self.log], 0))
        return out

    def fit(self, X: np.ndarray, weight: np.ndarray | None = None) -> Standardizer:
        X = np.asarray(X)
        F = self._f(X, np.float64)
        w = np.ones(len(F)) if weight is None else np.asarray(weight, dtype=np.float64)
        groups = self.groups or [str(i) for i in range(F.shape[1])]
        if len(groups) != F.shape[1]:
            raise ConfigError(f"preprocessing was set up for {len(groups)} columns, the data has {F.shape[1]}")
        pad = np.zeros(F.shape[1], bool) if self.padding is None else self.padding
        mean, scale = np.zeros(F.shape[1]), np.ones(F.shape[1])
        for g in dict.fromkeys(groups):
            cols = [i for i, gi in enumerate(groups) if gi == g]
            vals, ws = F[:, cols], np.broadcast_to(w[:, None], (len(F), len(cols)))
            if pad[cols].all():
                filled = X[:, cols] != 0
                vals, ws = vals[filled], ws[filled]
            if ws.sum() <= 0:
                continue  # never filled: leave (x - 0) / 1
            m = np.average(vals, weights=ws)
            s = np.sqrt(np.average((vals - m) ** 2, weights=ws))
            mean[cols], scale[cols] = m, (s if s > 1e-8 else 1.0)
            if self.unseen and len(cols) > 1:
                for i in cols:  # a slot (almost) never filled: its own mean and spread, floored
                    filled = np.average(X[:, i] != 0, weights=w)
                    if filled == 0 or filled < self.rare:
                        mi = np.average(F[:, i], weights=w)
                        si = np.sqrt(np.average((F[:, i] - mi) ** 2, weights=w))
                        mean[i], scale[i] = mi, max(si, scale[i] * self.unseen)
        self.mean_, self.scale_, self._inv = mean.astype(np.float32), scale.astype(np.float32), None
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        if self.mean_ is None:
            raise NotFittedError("Standardizer is not fitted")
        if self._inv is None:
            self._inv = (1.0 / self.scale_).astype(np.float32)
        X = np.asarray(X, dtype=np.float32)
        if self.log is None and self.padding is None:
            out = np.subtract(X, self.mean_, dtype=np.float32)
            out *= self._inv  # in place, by the inverse: one allocation, no division on the hot path
            return out
        # (x - mean) · (1 / scale) in one pass over the whole array, then the log columns redone from
        # one gathered block: bit for bit the column-wise result, a third of the time of a masked log1p
        out = np.subtract(X, self.mean_, dtype=np.float32)
        if self.log is not None:
            if self._log_idx is None:
                self._log_idx = _as_slice(np.flatnonzero(self.log))
            g = np.maximum(X[:, self._log_idx], 0)
            np.log1p(g, out=g)
            g -= self.mean_[self._log_idx]
            out[:, self._log_idx] = g
        out *= self._inv
        if self.padding is not None:
            np.putmask(out, (X == 0) & self.padding, 0.0)
        return out

    @property
    def kind(self) -> str:
        if self.log is not None:
            return "physics" if self.padding is not None else "log-pooled"
        return "standard" if self.padding is None else "pooled"

    def state(self) -> dict[str, np.ndarray]:
        out = {"mean": self.mean_, "scale": self.scale_}
        if self.log is not None:
            out["log"] = self.log.astype(np.uint8)
        if self.padding is not None:
            out["padding"] = self.padding.astype(np.uint8)
        return out

    @classmethod
    def from_state(cls, tensors: dict[str, np.ndarray]) -> Standardizer:
        s = cls(None, tensors["log"].astype(bool) if "log" in tensors else None,
                tensors["padding"].astype(bool) if "padding" in tensors else None)
        s.mean_, s.scale_ = tensors["mean"].astype(np.float32), tensors["scale"].astype(np.float32)
        n = s.mean_.shape
        masks = [m for m in (s.log, s.padding) if m is not None]
        if s.mean_.ndim != 1 or s.scale_.shape != n or any(m.shape != n for m in masks):
            raise ValueError(f"preprocessing tensors disagree in shape ({s.mean_.shape} vs {s.scale_.shape})")
        if not (np.isfinite(s.scale_).all() and (s.scale_ > 0).all()):
            raise ValueError("a preprocessing scale is zero, negative or not finite (division by it would give "
                             "inf); the model file is damaged")
        return s
