"""The commands that treat collision events and time series differently, dispatched once.

A :class:`Kind` is the strategy for one kind of input: what ``train``, ``evaluate``, ``score``
and ``distill`` do with events and tables (:data:`EVENTS`: :mod:`adkit.workflows.train`,
:mod:`~adkit.workflows.evaluate`, :mod:`~adkit.workflows.score`, :mod:`~adkit.workflows.distill`)
or with windows of time series (:data:`SERIES`: :mod:`adkit.workflows.series`). :func:`kind_of`
picks it from a model, :func:`training_kind` from the inputs and the detector; no other workflow
branches on the kind. The functions here are the library API and what the CLI calls.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import adkit.workflows.distill as _distill
import adkit.workflows.evaluate as _evaluate
import adkit.workflows.score as _score
import adkit.workflows.series as _series
import adkit.workflows.train as _train
from adkit.artifact import DEFAULT_MODEL, Model
from adkit.distill.options import DistillOptions


@dataclass(frozen=True)
class Kind:
    """What each command does with one kind of input (every function takes the command's keywords and
    uses those that apply to it)."""

    name: str
    #: (detector name, data, **train keywords) → Model
    train: Callable[..., Model]
    #: (TrainRun, command-line options, say) → Model, written
    train_command: Callable[..., Model]
    #: (model, background, signals, **keywords) → metrics
    evaluate: Callable[..., dict]
    #: (model, **command-line options) → metrics, report written
    evaluate_command: Callable[..., dict]
    #: (model, **command-line options) → summary, scores written
    score_command: Callable[..., dict]
    #: (teacher, DistillOptions, **command-line options) → student, written
    distill_command: Callable[..., Model]


def _evaluate_series(model: Model, background=None, signals=None, *, far_per_hour: Sequence[float] = (1.0, 10.0, 100.0),
                     intervals: str | Path | None = None, **_events) -> dict:
    return _series.evaluate_series(model, list(background or []), far_per_hour=far_per_hour, interval_file=intervals)


def _evaluate_series_command(model: Model, *, protocol: str = "events", model_path, series_files, outdir, overwrite,
                             say, echo, rate=None, as_json: bool = False, tolerance: int = 100, false_alarms=None,
                             store_thresholds=None, intervals=None, **_events) -> dict:
    if protocol == "ucr":
        return _series.ucr_command(model, model_path, list(series_files), outdir, tolerance, overwrite, say, echo,
                                   rate=rate, as_json=as_json)
    return _series.evaluate_series_command(model, model_path, series_files, outdir, false_alarms, store_thresholds,
                                           overwrite, intervals, say, echo, rate=rate, as_json=as_json)


def _distill_series(teacher: Model, options: DistillOptions, *, teacher_path: str = DEFAULT_MODEL, **cli) -> Model:
    return _distill.distill_series_command(teacher, options, teacher_path=teacher_path, **cli)


def _distill_events(teacher: Model, options: DistillOptions, *, teacher_path: str = DEFAULT_MODEL, **cli) -> Model:
    return _distill.distill_events_command(teacher, options, teacher=teacher_path, **cli)


EVENTS = Kind("events", _train.train_events, _train.train_events_command, _evaluate.evaluate_events,
              _evaluate.evaluate_events_command, _score.score_events_command, _distill_events)
SERIES = Kind("series", _series.train_windows, _series.train_series_command, _evaluate_series,
              _evaluate_series_command, _series.score_series_command, _distill_series)


def kind_of(model: Model) -> Kind:
    """The strategy for a trained model: by the kind of input it reads."""
    return SERIES if model.spec.kind == "series" else EVENTS


#: The train() keywords that only time series take.
SERIES_OPTIONS = ("window", "stride", "channels", "time_column", "rate", "label_column", "label")


def training_kind(data: Sequence, det_cls, options: dict) -> Kind:
    """The strategy for training: series inputs (CSV/NPY/NPZ, ``sensor-demo``), a series option, or a
    sequence detector mean time series."""
    series = _train.is_series_training(data, det_cls, any(options.get(k) for k in SERIES_OPTIONS))
    return SERIES if series else EVENTS


def train(model_name: str, data: Sequence[str | Path] | None = None, **kwargs) -> Model:
    """Train ``model_name`` on ``data`` files (or the embedded default data): events and tables
    (:func:`adkit.workflows.train.train_events`), or the windows of time series
    (:func:`adkit.workflows.series.train_series`) when the inputs are series, a series keyword
    (``window``, ``stride``, ``channels``, ``time_column``, ``rate``, ``label_column``) is given or
    the detector is a sequence model."""
    from adkit.detectors import registry

    return training_kind(data or [], registry.get(model_name), kwargs).train(model_name, data, **kwargs)


def evaluate(model: Model, background: Sequence[str | Path] | None = None,
             signals: dict[str, Sequence[str]] | None = None, **kwargs) -> dict:
    """The model's metrics: AUC and TPR at fixed FPR and at trigger rates per signal
    (:func:`adkit.workflows.evaluate.evaluate_events`; with no files, the embedded test set), or for a
    series model the efficiency against false alarms per hour on the labelled series ``background``
    (:func:`adkit.workflows.series.evaluate_series`)."""
    return kind_of(model).evaluate(model, background, signals, **kwargs)


def train_command(*, say, **cli) -> Model:
    """``adkit train``: defaults announced through ``say``, the model trained and written."""
    run = _train.train_run(cli, say)
    return training_kind(run.data, run.det_cls, cli).train_command(run, cli, say)


def evaluate_command(*, model_path, **cli) -> dict:
    """``adkit evaluate``: metrics, report and plots; with ``store_thresholds`` the model file updated."""
    model = Model.load(model_path)
    return kind_of(model).evaluate_command(model, model_path=model_path, **cli)


def score_command(*, model_path, say, **cli) -> dict:
    """``adkit score``: scores of every input, with the model's stored thresholds."""
    if model_path == DEFAULT_MODEL:
        say(f"using the model ./{DEFAULT_MODEL} (change with --model)")
    model = Model.load(model_path)
    return kind_of(model).score_command(model, model_path=model_path, say=say, **cli)


def distill_command(options: DistillOptions, *, teacher: str = DEFAULT_MODEL, say=print, **cli) -> Model:
    """``adkit distill``: the student trained, its thresholds set, its firmware (or CPU export) checked."""
    if teacher == DEFAULT_MODEL:
        say(f"using ./{DEFAULT_MODEL} as the teacher (change with --teacher)")
    model = Model.load(teacher)
    return kind_of(model).distill_command(model, options, teacher_path=teacher, say=say, **cli)
