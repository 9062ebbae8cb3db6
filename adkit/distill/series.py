"""Distillation of a time-series model into a quantized recurrent student (hls4ml firmware).

    from adkit.distill.series import distill_series
    student, info = distill_series(Model.load("lstm.adkit"), ["normal.csv"])

The student (:class:`adkit.detectors.sequence_student.SequenceStudent`) reads the teacher's
windows, normalised per channel with the teacher's own scaling, and regresses the teacher's
standardised log-score on the clean (unlabelled) windows of the training series. It is an
ordinary series model: ``adkit score SERIES --model student.adkit`` scores a file with it.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from adkit.artifact import Model, file_record, versions
from adkit.detectors.base import TrainOptions
from adkit.distill.options import SERIES_BATCH, SERIES_HIDDEN
from adkit.distill.options import DistillOptions as _D
from adkit.errors import ConfigError, InputError

#: Seeds of the embedded sensor demo when the teacher trained on it: the student learns from seed 3
#: and is checked on seed 4 (the teacher trained on seed 1, ``adkit evaluate`` uses seed 2).
DISTILL_SEED, HELDOUT_SEED = 3, 4
#: Windows with a burst per clean window, by default (docs/series.md: without them the student
#: never sees the loud windows where the teacher's score is high).
DEFAULT_AUGMENT = 1.0


def demo_source(teacher: Model, seed: int) -> str | None:
    """The teacher's embedded demo series with another seed, or None when it trained on files."""
    mix = teacher.provenance.get("embedded", {}).get("mix")
    return f"{mix.split(',')[0].strip()}@{seed}" if mix else None


def windows(teacher: Model, paths: Sequence[str | Path], clean: bool) -> tuple[np.ndarray, np.ndarray | None,
                                                                               np.ndarray]:
    """(windows, context, labelled) of the series ``paths`` as the teacher reads them; ``labelled``
    says which windows hold a labelled anomalous sample. ``clean`` keeps only the others."""
    from adkit.features.windows import labelled as labelled_windows
    from adkit.features.windows import window_context, window_matrix, window_starts

    spec = teacher.spec
    Xs, Cs, Ls = [], [], []
    for p in paths:
        s = spec.read(p)
        starts = window_starts(s, spec.window, spec.stride)
        if len(starts) == 0:
            raise InputError(f"{p}: no complete window of {spec.window} samples")
        labelled = labelled_windows(s.labels, starts, spec.window)
        keep = ~labelled if clean else np.ones(len(starts), bool)
        Xs.append(window_matrix(s.values, starts, spec.window)[keep])
        C = window_context(s.context, starts, spec.window)
        Cs.append(None if C is None else C[keep])
        Ls.append(labelled[keep])
    C = None if Cs[0] is None else np.concatenate(Cs)
    return np.concatenate(Xs).astype(np.float32), C, np.concatenate(Ls)


def distill_series(teacher: Model, data: Sequence[str | Path] | None = None, *, cell: str = _D.cell,
                   units: int = _D.units, hidden: Sequence[int] = SERIES_HIDDEN, precision: str | dict | None = None,
                   layer_precision: dict | None = None, sparsity: float = _D.sparsity, epochs: int = _D.epochs,
                   batch_size: int = SERIES_BATCH, lr: float = _D.lr, seed: int = _D.seed,
                   transform: str = _D.transform,
                   teacher_score: str | None = None, augment: float = DEFAULT_AUGMENT,
                   progress: bool = False) -> tuple[Model, dict]:
    """Train a quantized GRU/LSTM student of the series model ``teacher`` on the clean windows of
    ``data`` (default: the teacher's embedded demo, seed 3) and ``augment`` windows with a burst
    (:func:`adkit.features.artificial.bursts`) per clean window, all labelled by the teacher."""
    from adkit.detectors.sequence_student import SequenceStudent
    from adkit.distill.student import teacher_target
    from adkit.features.artificial import bursts

    if teacher.spec.kind != "series":
        raise ConfigError("distill_series takes a time-series model; use adkit.distill.distill for events")
    paths = list(data or [])
    if not paths:
        demo = demo_source(teacher, DISTILL_SEED)
        if demo is None:
            raise ConfigError("this teacher trained on series files: give normal series to distill on (--data)")
        paths = [demo]
    comps = teacher.detector.components
    if teacher_score is not None and teacher_score not in ("score", *comps):
        raise ConfigError(f"--teacher-score {teacher_score}: the {teacher.detector.name} teacher's scores are "
                          f"{', '.join(('score', *comps))}")
    component = teacher_score or "score"
    student = SequenceStudent(n_channels=len(teacher.spec.channels), cell=cell, units=units,
                              hidden=tuple(int(h) for h in hidden), precision=precision,
                              layer_precision=layer_precision, sparsity=sparsity, epochs=epochs,
                              batch_size=batch_size, lr=lr, seed=seed)
    student._validate()
    X, C, _ = windows(teacher, paths, clean=True)
    if len(X) == 0:
        raise InputError("no clean windows to distill on (every window holds a labelled anomaly)")
    n_clean = len(X)
    if augment:
        if C is not None:
            raise ConfigError("augmenting a teacher with context columns is not supported; give --augment 0")
        X = np.concatenate([X, bursts(X, int(round(augment * n_clean)), len(teacher.spec.channels),
                                      seed=seed + 17).astype(np.float32)])
    y, target = teacher_target(teacher.score_components(X, C)[component], transform)
    Z = teacher.scaler.transform(X)
    student.fit(Z, y, options=TrainOptions(progress=progress))
    pred = student.decision_function(Z)
    info = {"teacher": teacher.detector.name, "teacher_score": component, "target": target, "events": n_clean,
            "augment": {"ratio": float(augment), "method": "bursts", "events": int(len(X) - n_clean)},
            "train_correlation": float(np.corrcoef(pred, y)[0, 1]), "cost": student.cost()}
    from adkit.io.series import demo_name

    demos = [demo_name(p) for p in paths if demo_name(p)]
    provenance = {"inputs": [file_record(p) for p in paths if not demo_name(p)], "seed": seed,
                  "events": n_clean, "versions": versions(), "windows": n_clean,
                  "teacher": {"detector": teacher.detector.name, "provenance": teacher.provenance}}
    if demos:
        provenance["embedded"] = {"generator": "adkit.datasets.sensor", "mix": demos[0][0], "seed": demos[0][1],
                                  "events": n_clean}
    return Model(student, teacher.spec, teacher.scaler, None, [], provenance, {"distill": info}), info


def heldout_windows(teacher: Model, background: Sequence[str | Path] | None = None):
    """{"background": ..., "anomaly": ...} of (teacher X, teacher C, student X) from held-out series
    (default: the teacher's embedded demo, seed 4): windows without and with labelled anomalies."""
    paths = list(background or [])
    if not paths:
        demo = demo_source(teacher, HELDOUT_SEED)
        if demo is None:
            raise ConfigError("this teacher trained on series files: give held-out labelled series with "
                              "--background (a label column marks the anomalies)")
        paths = [demo]
    X, C, labelled = windows(teacher, paths, clean=False)
    out = {"background": (X[~labelled], None if C is None else C[~labelled], X[~labelled])}
    if labelled.any():
        out["anomaly"] = (X[labelled], None if C is None else C[labelled], X[labelled])
    return out
