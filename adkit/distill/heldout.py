"""The held-out events a student is checked on, and the trigger thresholds set on them.

Thresholds belong to the student (they are stored in its model file), so they are set here, on
the quantized student's own scores of the held-out background, before any firmware is compared
with it (:mod:`adkit.firmware.report`).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from adkit.artifact import Model, Threshold
from adkit.metrics import MIN_BACKGROUND, threshold_at_fpr, thresholds_at_rates

#: {name: (teacher X, teacher C, student X)}, "background" among the names.
Events = dict[str, tuple[np.ndarray, "np.ndarray | None", np.ndarray]]


def heldout_events(teacher: Model, student: Model, background: Sequence[str] | None = None,
                   signals: dict[str, Sequence[str]] | None = None, n_default: int | None = None) -> Events:
    """{name: (teacher X, teacher C, student X)} for the background and each signal: read from the files
    given, else the embedded test set (``n_default`` events each)."""
    from adkit.datasets import embedded_test_set
    from adkit.io import load_arrays

    spec = teacher.input_spec()
    out = {}
    if background:
        for name, paths in {"background": list(background), **(signals or {})}.items():
            Xt, Ct, _ = load_arrays(paths, spec)
            Xs, _, _ = load_arrays(paths, student.spec, spec.mapping)
            out[name] = (Xt, Ct, Xs)
        return out
    for name, o in embedded_test_set(n_default).items():
        Xt = teacher.spec.features.compute(o).astype(np.float32)
        Ct = teacher.spec.conditions.compute(o) if teacher.spec.conditions else None
        out[name] = (Xt, Ct, student.spec.features.compute(o).astype(np.float32))
    return out


def thresholds_at_fprs(background: np.ndarray, fprs: Sequence[float]) -> list[dict]:
    """Thresholds passing the fractions ``fprs`` of the background (windows of a series, where a trigger
    rate in kHz means nothing), named "fpr0.01"; the fields of a stored :class:`Threshold`."""
    return [{"name": f"fpr{f:g}", "value": threshold_at_fpr(background, f), "rate_khz": 0.0, "fpr": float(f)}
            for f in fprs]


def set_thresholds(student: Model, bkg: np.ndarray, *, rates_khz: Sequence[float] = (),
                   fprs: Sequence[float] = (), bunch_rate_mhz: float = 40.0) -> list[str]:
    """Store on ``student`` its thresholds at the trigger rates (or, with ``fprs``, at fractions of the
    background) on ``bkg``, its scores of the held-out background; returns the names of the working
    points fewer than :data:`~adkit.metrics.MIN_BACKGROUND` background events resolve, which get no
    threshold."""
    every = [Threshold(**t) for t in (thresholds_at_fprs(bkg, fprs) if fprs else
                                      thresholds_at_rates(bkg, rates_khz, bunch_rate_mhz))]
    resolved = [t for t in every if int((bkg > t.value).sum()) >= MIN_BACKGROUND]
    student.thresholds = resolved
    return [t.name for t in every if all(t.name != r.name for r in resolved)]
