"""Knowledge distillation: a small quantized student learns a teacher's (log-)score.

    from adkit.artifact import Model
    from adkit.distill import distill
    student, info = distill(Model.load("model.adkit"))

The student (:class:`adkit.detectors.student.QuantizedStudent`) is an ordinary adkit model:
it scores files, is evaluated, stores thresholds. :mod:`adkit.firmware` turns it into an HLS
project. The student reads the teacher's input features with the ``pooled`` scaling (affine,
no log: what the trigger's input stage can do); a table teacher's condition columns become
ordinary student inputs.

Background alone rarely visits the regions where a teacher's score is extreme (an event with
four leptons): the weights reading the third and fourth lepton slots of a student trained only
on background are never constrained, so it extrapolates at random there. ``augment`` adds that
many artificial events per background event, labelled by the teacher like any other, so the
student learns the teacher's function on a wider domain. For a teacher of collision objects the
default is one event with extra objects per background event
(:func:`adkit.features.artificial.extra_objects`); the feature-space methods (``mix`` ...) are
the alternative for tables. docs/distill.md has the study behind the choice.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from adkit.artifact import Model, file_record, versions
from adkit.detectors.base import TrainOptions
from adkit.distill.options import EVENT_BATCH, EVENT_HIDDEN
from adkit.distill.options import DistillOptions as _D
from adkit.errors import ConfigError, InputError

#: Seed of the embedded background the student learns from (the teacher trained on seed 0,
#: evaluation uses seed 1).
DISTILL_SEED = 2
MIN_EVENTS = 100
#: Events with extra objects per background event, by default (docs/distill.md: the study).
DEFAULT_AUGMENT = 1.0


def teacher_target(scores: np.ndarray, transform: str = "auto") -> tuple[np.ndarray, dict]:
    """The regression target from teacher scores: log (when all are > 0) or as is, standardised.

    Raises :class:`ConfigError` for scores that carry nothing to learn (non-finite, constant,
    too few, or non-positive with ``transform="log"``).
    """
    s = np.asarray(scores, dtype=np.float64)
    if len(s) < MIN_EVENTS:
        raise ConfigError(f"the teacher scored only {len(s)} events; distillation needs at least {MIN_EVENTS}")
    if not np.isfinite(s).all():
        raise ConfigError(f"the teacher's scores are not all finite ({int((~np.isfinite(s)).sum())} NaN/inf): "
                          "they cannot be distilled")
    if transform not in ("auto", "log", "none"):
        raise ConfigError(f"unknown score transform {transform!r}; valid: auto, log, none")
    if transform == "auto":
        transform = "log" if s.min() > 0 else "none"
    if transform == "log":
        if s.min() <= 0:
            raise ConfigError(f"the teacher's scores reach {s.min():.4g} <= 0, so their log is undefined; "
                              "use --transform none")
        s = np.log(s)
    std = s.std()
    if not std > 1e-12 * max(1.0, abs(s.mean())):
        raise ConfigError("the teacher gives every event the same score: there is nothing to distill")
    return ((s - s.mean()) / std).astype(np.float32), {"transform": transform, "mean": float(s.mean()),
                                                      "std": float(std)}


def _student_spec(teacher: Model):
    from adkit.io import InputSpec

    if teacher.spec.kind == "table":
        return InputSpec(table_columns=list(teacher.spec.table_columns) + list(teacher.spec.table_conditions or []))
    return InputSpec(teacher.spec.features)


def _artificial(teacher: Model, Xs: np.ndarray, n: int, method: str, seed: int):
    """Artificial events in the student's input space, and the teacher's view of them."""
    from adkit.features.artificial import artificial_anomalies, extra_objects
    from adkit.io.schema import FeatureSet

    if method == "objects":
        if not reads_objects(teacher):
            raise ConfigError("augment method 'objects' adds collision objects, so the teacher must read the raw "
                              "object inputs; use --augment-method mix")
        schema = teacher.spec.features.schema
        o = extra_objects(Xs.reshape(len(Xs), schema.n_rows, 3), schema, n, seed=seed + 17)
        Xa = o.reshape(n, -1).astype(np.float32)
        return Xa, (teacher.spec.conditions.compute(o) if teacher.spec.conditions else None), Xa
    Xa = artificial_anomalies(Xs, n, method, seed=seed + 17).astype(np.float32)
    if teacher.spec.kind == "table":
        nf = len(teacher.spec.table_columns)
        return Xa[:, :nf], (Xa[:, nf:] if teacher.spec.table_conditions else None), Xa
    if teacher.spec.conditions is None:
        return Xa, None, Xa
    if not reads_objects(teacher):
        raise ConfigError("augmenting needs the teacher's conditions for artificial events, which adkit can only "
                          "recompute when the teacher reads the raw object inputs; distill with augment=0")
    n_obj = len(FeatureSet(teacher.spec.features.schema).columns) // 3
    return Xa, teacher.spec.conditions.compute(Xa.reshape(len(Xa), n_obj, 3)), Xa


def reads_objects(teacher: Model) -> bool:
    """Whether the teacher's features are the raw objects (pT, eta, phi of every slot)."""
    from adkit.io.schema import FeatureSet

    if teacher.spec.kind == "table":
        return False
    return teacher.spec.features.columns == FeatureSet(teacher.spec.features.schema).columns


def distill(teacher: Model, data: Sequence[str | Path] | None = None, *, hidden: Sequence[int] = EVENT_HIDDEN,
            precision: str | dict | None = None, layer_precision: dict | None = None,
            sparsity: float = _D.sparsity, quantization: str = _D.quantization,
            bit_cost: float = _D.bit_cost, lr_schedule: str = _D.lr_schedule, epochs: int = _D.epochs, batch_size: int = EVENT_BATCH,
            lr: float = _D.lr, seed: int = _D.seed, transform: str = _D.transform, augment: float | None = None, augment_method: str | None = None, teacher_score: str | None = None,
            n_default: int | None = None, step: int | None = None, nan_policy: str = "reject",
            progress: bool = False, kind: str = "nn", trees: int = 60, depth: int = 4) -> tuple[Model, dict]:
    """Train a quantized student of ``teacher`` on background ``data`` (default: embedded, seed 2).

    ``teacher_score`` names the teacher's score component the student learns (default: its
    score); ``latent`` for a VAE or CVAE is the AXOL1TL choice, Σ μ² of the encoder. ``augment``
    (artificial events per background event) and ``augment_method`` default to
    ``DEFAULT_AUGMENT`` events with extra objects for a teacher of collision objects, none otherwise.
    ``lr_schedule`` "cosine": the learning rate decays to 0 over the ``epochs`` (docs/distill.md has the
    study). ``quantization`` "hgq": per-weight bit widths learned against ``bit_cost`` × EBOPs
    (:class:`~adkit.detectors.student.QuantizedStudent`). ``kind`` "bdt": boosted decision trees
    (``trees`` rounds of depth ``depth``) instead of the MLP; "selfsup": the AXOL1TL v6-style
    self-supervised network, trained on the background alone (no artificial events; the teacher's
    scores only measure how closely it follows them)."""
    from adkit.detectors.student import QuantizedStudent
    from adkit.features.preprocess import Standardizer
    from adkit.io import DEFAULT_STEP, load_arrays

    if teacher.spec.kind == "series":
        raise ConfigError(f"distilling a time-series model ({teacher.detector.name}) is not supported; distill a "
                          "model of collider events or of a table")
    if kind == "bdt" and lr_schedule != "constant":
        raise ConfigError("--lr-schedule is for the networks' training; boosted trees have no learning-rate schedule")
    if kind == "bdt":
        from adkit.detectors.bdt_student import BDTStudent
        from adkit.fixedpoint import parse_precision

        student = BDTStudent(n_estimators=trees, max_depth=depth, seed=seed,
                             **({"input_precision": parse_precision(precision)["input"]} if precision else {}))
    elif kind == "selfsup":
        from adkit.detectors.selfsup import SelfSupervisedTrigger

        if augment:
            raise ConfigError("the self-supervised network learns the background alone: artificial events "
                              "(--augment) would teach it that they are normal; leave --augment out")
        augment = 0.0
        student = SelfSupervisedTrigger(hidden=tuple(int(h) for h in hidden), precision=precision,
                                        layer_precision=layer_precision, sparsity=sparsity, epochs=epochs,
                                        batch_size=batch_size, lr=lr, seed=seed, quantization=quantization,
                                        bit_cost=bit_cost, lr_schedule=lr_schedule)
    elif kind == "nn":
        student = QuantizedStudent(hidden=tuple(int(h) for h in hidden), precision=precision,
                                   layer_precision=layer_precision, sparsity=sparsity, epochs=epochs,
                                   batch_size=batch_size, lr=lr, seed=seed, quantization=quantization,
                                   bit_cost=bit_cost, lr_schedule=lr_schedule)
    else:
        raise ConfigError(f"--student {kind}: expected nn, bdt or selfsup")
    student._validate()
    comps = teacher.detector.components
    if teacher_score is not None and teacher_score not in ("score", *comps):
        raise ConfigError(f"--teacher-score {teacher_score}: the {teacher.detector.name} teacher's scores are "
                          f"{', '.join(('score', *comps)) if comps else 'score (no components)'}")
    component = teacher_score or "score"

    def teacher_scores(Xt, Ct):
        return teacher.score_components(Xt, Ct)[component]

    if augment_method is None:
        augment_method = "objects" if reads_objects(teacher) else "mix"
    if augment is None:
        augment = DEFAULT_AUGMENT if augment_method == "objects" else 0.0
    spec = _student_spec(teacher)
    mapping = teacher.input_spec().mapping
    if data:
        X, C, _ = load_arrays(data, teacher.spec, mapping, step or DEFAULT_STEP, nan_policy)
        Xs, _, _ = load_arrays(data, spec, mapping, step or DEFAULT_STEP, nan_policy)
        source = {"inputs": [file_record(p) for p in data]}
    else:
        if teacher.spec.kind == "table":
            raise ConfigError("this teacher reads tables: give the background files to distill on (--data)")
        from adkit.datasets import DEFAULT_TRAIN_EVENTS, default_background

        n = n_default or DEFAULT_TRAIN_EVENTS
        objects = default_background(n, DISTILL_SEED)[:, :, :3]
        X = teacher.spec.features.compute(objects).astype(np.float32)
        C = teacher.spec.conditions.compute(objects) if teacher.spec.conditions else None
        Xs = X
        source = {"inputs": [], "embedded": {"generator": "adkit.datasets", "events": n, "seed": DISTILL_SEED}}
    if len(X) == 0:
        raise InputError("no events to distill on")
    scaler = Standardizer.for_columns(spec.columns, "standard" if spec.kind == "table" else "pooled").fit(Xs)
    scores = teacher_scores(X, C)
    if augment:
        Xa, Ca, Xsa = _artificial(teacher, Xs, int(round(augment * len(Xs))), augment_method, seed)
        scores = np.concatenate([scores, teacher_scores(Xa, Ca)])
        Xs = np.concatenate([Xs, Xsa])
    y, target = teacher_target(scores, transform)
    student.fit(scaler.transform(Xs), None if kind == "selfsup" else y, options=TrainOptions(progress=progress))
    pred = student.decision_function(scaler.transform(Xs))
    info = {"teacher": teacher.detector.name, "teacher_score": component, "target": target, "events": int(len(X)),
            "augment": {"ratio": float(augment), "method": augment_method, "events": int(len(Xs) - len(X))},
            "train_correlation": float(np.corrcoef(pred, y)[0, 1]), "cost": student.cost()}
    provenance = {**source, "seed": seed, "events": int(len(X)), "versions": versions(),
                  "teacher": {"detector": teacher.detector.name, "provenance": teacher.provenance}}
    ranges = teacher.ranges if teacher.ranges and len(teacher.ranges["min"]) == len(spec.columns) else None
    model = Model(student, spec, scaler, teacher.mapping, [], provenance, {"distill": info}, ranges=ranges)
    return model, info
