"""Evaluate an event model: AUC and TPR at fixed FPR and at trigger rates, per signal (a series
model: :mod:`adkit.workflows.series`; :mod:`adkit.workflows.commands` picks one by the model)."""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from adkit.artifact import Model, Threshold
from adkit.errors import ConfigError, InputError
from adkit.io import DEFAULT_STEP, Mapping, load_arrays
from adkit.io.schema import FeatureSet


def evaluate_events(model: Model, background: Sequence[str | Path] | None = None,
                    signals: dict[str, Sequence[str]] | None = None, *, rates_khz: Sequence[float] = (1.0, 10.0, 100.0),
                    fprs: Sequence[float] = (1e-5, 1e-4, 1e-3), bunch_rate_mhz: float = 40.0,
                    mapping: Mapping | None = None, step: int = DEFAULT_STEP, nan_policy: str = "reject",
                    n_default: int | None = None) -> dict:
    """Score background and signals and compute the trigger metrics (see :mod:`adkit.metrics`).

    With no files, the embedded test background (independent seed) and the four benchmark
    signals are used. Returns the metrics dict plus the raw score arrays under ``"scores"``.
    """
    from adkit.metrics import evaluate_scores

    spec = model.input_spec(mapping)
    scores: dict[str, np.ndarray] = {}
    if background:
        Xb, Cb, Wb = load_arrays(background, spec, step=step, nan_policy=nan_policy)
        scores["background"] = model.decision_function(Xb, Cb)
        sig_arrays = {name: load_arrays(paths, spec, step=step, nan_policy=nan_policy)[:2]
                      for name, paths in (signals or {}).items()}
    else:
        if model.spec.kind != "objects":
            raise ConfigError("this model reads tables; give --background and --signal files")
        from adkit.datasets import embedded_test_set

        Wb = None
        events = embedded_test_set(n_default, list(signals) if signals else None)
        ob = events.pop("background")
        scores["background"] = model.decision_function(_features(model, ob), _conditions(model, ob))
        sig_arrays = {s: (_features(model, o), _conditions(model, o)) for s, o in events.items()}
    if len(scores["background"]) == 0:
        raise InputError("no background events to set thresholds on")
    for name, (X, C) in sig_arrays.items():
        scores[name] = model.decision_function(X, C)
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


def scores_from_directory(model_path: str | Path, directory: str | Path,
                          background_name: str = "background") -> dict[str, np.ndarray]:
    """The scores ``adkit score FILES -o DIR`` wrote, keyed by input name, if they are this model's and current.

    Refused, with the reason and the command that fixes it, when the directory was scored by
    another model file, a score file changed since it was written, or an input changed since it
    was scored (the scores would be stale). The input named ``background_name`` is the background.
    """
    import json

    from adkit.files import sha256_file
    from adkit.io.writers import read_scores
    from adkit.workflows.scaleout import MANIFEST_FORMAT

    d = Path(directory)
    again = f"score again: adkit score FILES --model {model_path} -o {d} --overwrite"
    try:
        if (d / "manifest.json").stat().st_size > 64 << 20:
            raise ValueError("larger than 64 MiB")
        doc = json.loads((d / "manifest.json").read_text())
    except (OSError, ValueError):
        raise InputError(f"{d}: no readable manifest.json; --scores takes a directory written by "
                         f"`adkit score FILES -o {d}`") from None
    if not isinstance(doc, dict) or doc.get("format") != MANIFEST_FORMAT:
        raise InputError(f"{d}/manifest.json: not an adkit score manifest")
    if doc.get("model", {}).get("sha256") != sha256_file(model_path):
        raise InputError(f"{d}: scored with another model file ({doc.get('model', {}).get('path')}), not "
                         f"{model_path} as it is now; {again}")
    scores = {}
    for rec in doc.get("files", []):
        name = Path(rec["input"]).stem  # the file name without its extension only: bkg.a.h5 is "bkg.a"
        if name in scores:
            raise InputError(f"{d}: two scored inputs are both named {name!r}; evaluate each group from its own "
                             "score directory")
        out = d / (rec.get("output_name") or Path(rec.get("output", "")).name)  # beside the manifest
        if not os.path.realpath(out).startswith(os.path.realpath(d) + os.sep):
            raise InputError(f"{d}/manifest.json: names a score file outside {d} ({out}); not an adkit score "
                             "directory as adkit wrote it")
        if rec.get("status") != "done" or not out.is_file():
            raise InputError(f"{d}: {rec['input']} has no finished score file ({rec.get('reason', 'not done')}); "
                             f"{again}")
        if sha256_file(out) != rec.get("output_sha256"):
            raise InputError(f"{out}: changed since adkit wrote it; {again}")
        src = Path(rec["input"])
        st = src.stat() if src.exists() else None
        if st is None or (st.st_size, st.st_mtime_ns) != (rec.get("input_size"), rec.get("input_mtime_ns")):
            raise InputError(f"{src}: {'gone' if st is None else 'changed'} since it was scored, so its scores in "
                             f"{out} are stale; {again}")
        scores[name] = read_scores(out)["score"]
    if background_name not in scores:
        raise InputError(f"{d}: no scored input named {background_name!r} to set the thresholds on (inputs: "
                         f"{', '.join(scores) or 'none'}); name the background with --background-name")
    return {"background": scores.pop(background_name), **scores}


def _features(model: Model, objects: np.ndarray) -> np.ndarray:
    return model.spec.features.compute(objects).astype(np.float32) if model.spec.features else \
        FeatureSet().compute(objects)


def _conditions(model: Model, objects: np.ndarray):
    return model.spec.conditions.compute(objects) if model.spec.conditions else None


def thresholds_from(result: dict, rates_khz: Sequence[float], force: bool = False) -> list[Threshold]:
    """Trigger thresholds at the given rates, from an :func:`evaluate` result.

    A rate at which fewer than ``result["min_background"]`` background events pass is refused
    (its threshold would rest on a handful of events) unless ``force``.
    """
    from adkit.metrics import MIN_BACKGROUND, thresholds_at_rates

    bkg = result["scores"]["background"]
    out = []
    need = result.get("min_background", MIN_BACKGROUND)
    for t in thresholds_at_rates(bkg, rates_khz, result["bunch_rate_mhz"]):
        passing = int((bkg > t["value"]).sum())
        if passing < need and not force:
            raise ConfigError(f"the threshold at {t['rate_khz']:g} kHz (FPR {t['fpr']:.2g}) rests on {passing} "
                              f"background event(s) of {len(bkg)}, fewer than {need}: not stored; give at least "
                              f"{int(need / t['fpr']) + 1} background events, or force it (--force-thresholds)")
        out.append(Threshold(**t))
    return out


def print_tables(result: dict, title: str) -> None:
    """The metrics per signal and the working points, as terminal tables (every interval in full)."""
    from rich.console import Console
    from rich.table import Table

    from adkit.report import WORKING_POINT_HEADER, footnote, table_rows, working_point_rows

    header, rows = table_rows(result, sep="\n")
    table = Table(*header, title=title)
    for r in rows:
        table.add_row(*r)
    console = Console(width=max(170, Console().width))  # every interval in full, not cut to fit
    console.print(table)
    console.print(footnote(result))
    wp = Table(*WORKING_POINT_HEADER, title="working points")
    for r in working_point_rows(result):
        wp.add_row(*r)
    console.print(wp)


def check_event_inputs(protocol: str, sig: dict, background, scores_dir, say) -> None:
    """Refuse inputs an event evaluation cannot take; announce the embedded test set when it is used."""
    if protocol == "ucr":
        raise ConfigError("--protocol ucr scores time series: give a model trained on series")
    if scores_dir and (sig or background):
        raise ConfigError("--scores takes the background and signals from the score directory; drop --background "
                          "and --signal")
    if sig and not background:
        raise ConfigError("--signal needs --background files to set the thresholds on")
    if not background and not scores_dir:
        say("no --background: using the embedded test background and the four benchmark signals")


def evaluate_events_command(model: Model, *, model_path, background, signals, outdir, rates, bunch_rate,
                            store_thresholds, overwrite, mapping, nan_policy, step, say, echo,
                            force_thresholds: bool = False, as_json: bool = False, scores_dir=None,
                            background_name: str = "background", protocol: str = "events", **_series) -> dict:
    """``adkit evaluate`` of an event model: metrics, report and plots; with ``store_thresholds`` the model
    file updated."""
    from adkit.files import check_output, check_outputs
    from adkit.report import REPORT_FILES, write_report
    from adkit.validation import check_rates
    from adkit.workflows.config import csv_floats, mapping_from, signal_files

    sig = signal_files(signals)
    check_event_inputs(protocol, sig, background, scores_dir, say)
    rate_list = check_rates(csv_floats(rates, "--rates"), "--rates", bunch_rate)
    store = check_rates(csv_floats(store_thresholds, "--store-thresholds"), "--store-thresholds", bunch_rate)
    check_outputs(outdir, REPORT_FILES, overwrite)
    if store:
        check_output(model_path, updates=model.source)
    if scores_dir:
        from adkit.metrics import evaluate_scores

        scores = scores_from_directory(model_path, scores_dir, background_name)
        say(f"using the scores in {scores_dir}/ (this model's, inputs unchanged): background "
            f"{len(scores['background'])} events, signals {', '.join(k for k in scores if k != 'background')}")
        result = evaluate_scores(scores["background"], {k: v for k, v in scores.items() if k != "background"},
                                 fprs=(1e-5, 1e-4, 1e-3), rates_khz=rate_list, bunch_rate_mhz=bunch_rate)
        result["scores"] = scores
    else:
        result = evaluate_events(model, list(background), sig, rates_khz=rate_list, bunch_rate_mhz=bunch_rate,
                                 mapping=mapping_from(mapping), step=step, nan_policy=nan_policy)

    thresholds = thresholds_from(result, store, force_thresholds) if store else []  # refused before any write
    if as_json:
        import json

        echo(json.dumps({k: v for k, v in result.items() if k != "scores"}, indent=2))
    else:
        print_tables(result, f"{model.detector.name} — {Path(model_path).name}")
    written = write_report(result, outdir, f"adkit evaluation of {Path(model_path).name}", overwrite)
    say(f"wrote {', '.join(str(p) for p in written)}")
    if store:
        from adkit.workflows.config import store_thresholds_in

        store_thresholds_in(model, model_path, thresholds, say)
        model.metrics["evaluation"] = {k: v for k, v in result.items() if k != "scores"}
        model.update()
    return result
