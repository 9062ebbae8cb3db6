"""Evaluate a model: AUC and TPR at fixed FPR and at trigger rates, per signal (events), or
efficiency against false alarms per hour (time series)."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from adkit.artifact import Model, Threshold
from adkit.errors import ConfigError, InputError
from adkit.io import DEFAULT_STEP, Mapping, load_arrays
from adkit.io.schema import FeatureSet


def evaluate(model: Model, background: Sequence[str | Path] | None = None, signals: dict[str, Sequence[str]] | None = None,
             *, rates_khz: Sequence[float] = (1.0, 10.0, 100.0), fprs: Sequence[float] = (1e-5, 1e-4, 1e-3),
             bunch_rate_mhz: float = 40.0, mapping: Mapping | None = None, step: int = DEFAULT_STEP,
             nan_policy: str = "reject", n_default: int | None = None,
             far_per_hour: Sequence[float] = (1.0, 10.0, 100.0), intervals: str | Path | None = None) -> dict:
    """Score background and signals and compute the trigger metrics (see :mod:`adkit.metrics`).

    With no files, the embedded test background (independent seed) and the four benchmark
    signals are used. Returns the metrics dict plus the raw score arrays under ``"scores"``.
    A series model is evaluated on the labelled series ``background`` (efficiency against
    false alarms per hour, :func:`adkit.workflows.series.evaluate_series`).
    """
    if model.spec.kind == "series":
        from adkit.workflows.series import evaluate_series

        return evaluate_series(model, list(background or []), far_per_hour=far_per_hour, interval_file=intervals)
    from adkit.metrics import evaluate_scores

    spec = model.input_spec(mapping)
    scores: dict[str, np.ndarray] = {}
    if background:
        Xb, Cb, Wb = load_arrays(background, spec, step=step, nan_policy=nan_policy)
        scores["background"] = model.score(Xb, Cb)
        sig_arrays = {name: load_arrays(paths, spec, step=step, nan_policy=nan_policy)[:2]
                      for name, paths in (signals or {}).items()}
    else:
        if model.spec.kind != "objects":
            raise ConfigError("this model reads tables; give --background and --signal files")
        from adkit.datasets import embedded_test_set

        Wb = None
        events = embedded_test_set(n_default, list(signals) if signals else None)
        ob = events.pop("background")
        scores["background"] = model.score(_features(model, ob), _conditions(model, ob))
        sig_arrays = {s: (_features(model, o), _conditions(model, o)) for s, o in events.items()}
    if len(scores["background"]) == 0:
        raise InputError("no background events to set thresholds on")
    for name, (X, C) in sig_arrays.items():
        scores[name] = model.score(X, C)
    for name, v in scores.items():
        bad = ~np.isfinite(v)
        if bad.any():
            from adkit.errors import ModelFileError

            raise ModelFileError(f"the model gives NaN/inf scores for {int(bad.sum())} of {len(v)} {name} event(s); "
                                 "its weights may be damaged or the inputs far outside its training range; nothing "
                                 "was evaluated")
    result = evaluate_scores(scores["background"], {k: v for k, v in scores.items() if k != "background"},
                             fprs=fprs, rates_khz=rates_khz, bunch_rate_mhz=bunch_rate_mhz,
                             background_weight=Wb)
    result["scores"] = scores
    return result


def _features(model: Model, objects: np.ndarray) -> np.ndarray:
    return model.spec.features.compute(objects).astype(np.float32) if model.spec.features else \
        FeatureSet().compute(objects)


def _conditions(model: Model, objects: np.ndarray):
    return model.spec.conditions.compute(objects) if model.spec.conditions else None


def thresholds_from(result: dict, rates_khz: Sequence[float]) -> list[Threshold]:
    """Trigger thresholds at the given rates, from an :func:`evaluate` result."""
    from adkit.metrics import thresholds_at_rates

    return [Threshold(**t) for t in thresholds_at_rates(result["scores"]["background"], rates_khz,
                                                         result["bunch_rate_mhz"])]


def evaluate_command(*, model_path, background, signals, outdir, rates, bunch_rate, store_thresholds, overwrite,
                     series_files, intervals, false_alarms, mapping, nan_policy, step, say, echo) -> dict:
    """``adkit evaluate``: metrics, report and plots; with ``store_thresholds`` the model file updated."""
    from adkit.io.files import check_output, check_outputs
    from adkit.report import REPORT_FILES, footnote, table_rows, write_report
    from adkit.validation import check_rates
    from adkit.workflows.config import csv_floats, mapping_from, signal_files

    model = Model.load(model_path)
    if model.spec.kind == "series":
        from adkit.workflows.series import evaluate_series_command

        return evaluate_series_command(model, model_path, series_files, outdir, false_alarms, store_thresholds,
                                       overwrite, intervals, say, echo)
    sig = signal_files(signals)
    if sig and not background:
        raise ConfigError("--signal needs --background files to set the thresholds on")
    if not background:
        say("no --background: using the embedded test background and the four benchmark signals")
    rate_list = check_rates(csv_floats(rates, "--rates"), "--rates", bunch_rate)
    store = check_rates(csv_floats(store_thresholds, "--store-thresholds"), "--store-thresholds", bunch_rate)
    check_outputs(outdir, REPORT_FILES, overwrite)
    if store:
        check_output(model_path, updates=model.source)
    result = evaluate(model, list(background), sig, rates_khz=rate_list, bunch_rate_mhz=bunch_rate,
                      mapping=mapping_from(mapping), step=step, nan_policy=nan_policy)
    from rich.console import Console
    from rich.table import Table

    header, rows = table_rows(result)
    table = Table(*header, title=f"{model.detector.name} — {Path(model_path).name}")
    for r in rows:
        table.add_row(*r)
    console = Console(width=max(120, Console().width))
    console.print(table)
    console.print(footnote(result))
    written = write_report(result, outdir, f"adkit evaluation of {Path(model_path).name}", overwrite)
    say(f"wrote {', '.join(str(p) for p in written)}")
    if store:
        model.thresholds = thresholds_from(result, store)
        model.metrics["evaluation"] = {k: v for k, v in result.items() if k != "scores"}
        model.update()
        say(f"stored thresholds in {model_path}: " + ", ".join(f"{t.name} > {t.value:.6g}" for t in model.thresholds))
    return result
