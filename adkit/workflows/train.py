"""Train a detector on event files, tables or the embedded default background (time series:
:mod:`adkit.workflows.series`; :mod:`adkit.workflows.commands` picks one by the inputs).

:func:`train_events` reads events (ROOT, HDF5, Parquet, the embedded background); two-sample
detectors (NPLM) learn ``data`` against a ``reference`` sample. :func:`train_run` is what every
``adkit train`` starts with, whatever it trains on.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from adkit.artifact import DEFAULT_MODEL, Model, file_record, versions
from adkit.detectors.base import TrainOptions
from adkit.errors import ConfigError, InputError
from adkit.features.preprocess import Standardizer
from adkit.features.ranges import fit_ranges
from adkit.io import DEFAULT_STEP, InputSpec, Mapping, load_arrays, open_reader
from adkit.io.schema import FeatureSet

#: Features NPLM uses on collider events when none are named: a few high-level ones, where a
#: kernel density ratio has the statistics to see a difference.
NPLM_FEATURES = "met,ht,lepton_pt_sum,n_leptons,n_jets"


#: Conditions a conditional detector gets on collider events when none are given (Pol et al.:
#: the event's context; here the object multiplicities).
DEFAULT_CONDITIONS = "n_electrons,n_muons,n_jets"


def _names(value: str | Sequence[str] | None) -> list[str]:
    if not value:
        return []
    return [c.strip() for c in (value.split(",") if isinstance(value, str) else value) if c.strip()]


def default_conditions(model_name: str, conditions: str | Sequence[str] | None, table: bool = False) -> str | None:
    """The conditions a detector trains with: the given ones, or the collider default for a
    conditional detector (tables have no default: their context columns must be named)."""
    from adkit.detectors import registry

    if conditions or not registry.get(model_name).uses_condition:
        return ",".join(_names(conditions)) or None
    if table:
        raise ConfigError(f"detector {model_name!r} needs --conditions naming the table's context columns "
                          "(e.g. luminosity,pileup)")
    return DEFAULT_CONDITIONS


def default_spec(features: str | Sequence[str] | None, conditions: str | Sequence[str] | None,
                 mapping: Mapping | None, table: bool = False, table_columns: list[str] | None = None) -> InputSpec:
    schema = (mapping or Mapping()).schema()
    if table:
        conds = _names(conditions)
        unknown = [c for c in conds if table_columns is not None and c not in table_columns]
        if unknown:
            raise ConfigError(f"condition column {unknown[0]!r} is not in the table; columns: {', '.join(table_columns)}")
        cols = _names(features) or [c for c in table_columns if c not in conds]
        return InputSpec(table_columns=cols, table_conditions=conds or None)
    return InputSpec(FeatureSet.parse(features, schema),
                     FeatureSet.parse(conditions, schema) if conditions else None)


def training_events(model_name: str, data, features, conditions, mapping: Mapping | None, step: int,
                    nan_policy: str, n_default: int | None):
    """(spec, X, C, weights, provenance source) of the training events: read from ``data`` files, else
    ``n_default`` events of the embedded default background."""
    if data:
        first = open_reader(data[0], mapping)
        conditions = default_conditions(model_name, conditions, first.kind == "table")
        spec = default_spec(features, conditions, mapping, first.kind == "table", first.columns)
        X, C, W = load_arrays(data, spec, mapping, step, nan_policy)
        return spec, X, C, W, {"inputs": [file_record(p) for p in data]}
    from adkit.datasets import DEFAULT_TRAIN_EVENTS, TRAIN_SEED, default_background

    n = n_default or DEFAULT_TRAIN_EVENTS
    spec = default_spec(features, default_conditions(model_name, conditions), mapping)
    objects = default_background(n, TRAIN_SEED)[:, :, :3]
    X = spec.features.compute(objects).astype(np.float32)
    C = spec.conditions.compute(objects) if spec.conditions else None
    return spec, X, C, None, {"inputs": [], "embedded": {"generator": "adkit.datasets", "events": n,
                                                         "seed": TRAIN_SEED,
                                                         "mix": "ADC2021 background (W, QCD, Z, ttbar)"}}


def train_events(model_name: str, data: Sequence[str | Path] | None = None, *, params: dict | None = None,
                 features: str | Sequence[str] | None = None, conditions: str | Sequence[str] | None = None,
                 mapping: Mapping | None = None, seed: int = 0, epochs: int | None = None,
                 n_default: int | None = None, step: int = DEFAULT_STEP, nan_policy: str = "reject",
                 checkpoint: str | Path | None = None, resume: bool = False, progress: bool = False,
                 stop_after_epochs: int | None = None, preprocessing: str = "auto", encoder: Model | None = None,
                 reference: Sequence[str | Path] | None = None) -> Model:
    """Train ``model_name`` on event or table ``data`` files (or the embedded default background).

    ``preprocessing``: ``physics`` or ``log-pooled`` (object-aware log/pooled scaling, see
    :mod:`adkit.features.preprocess`), ``standard`` (per-column z-scores), or ``auto``
    (the detector's ``preprocessing`` for collider events, standard for tables). With ``encoder`` (a trained AE
    model) the detector is trained in its latent space: events are read as the encoder reads
    them, encoded, standardised, and the encoder is stored in the returned model. A two-sample
    detector (``nplm``, ``nplm-nn``) learns ``data`` against the ``reference`` files.
    """
    from adkit.detectors import registry

    det_cls = registry.get(model_name)
    check_samples(det_cls, data, reference)
    if det_cls.two_sample:
        return _train_two_sample(det_cls, data, reference, params=params, features=features, mapping=mapping,
                                 seed=seed, epochs=epochs, step=step, nan_policy=nan_policy, progress=progress)
    if encoder is not None:
        if features or conditions or mapping:
            raise ConfigError("a latent-space model reads its inputs as its encoder does: drop --features, "
                              "--conditions and --mapping when giving --encoder")
        if det_cls.uses_condition:
            raise ConfigError(f"detector {model_name!r} is conditional; latent-space training takes no conditions")
        encoder.encode(np.zeros((1, encoder.n_features), dtype=np.float32))  # an encoder, or a clear error
        features = encoder.spec.columns
        mapping = Mapping.from_dict(encoder.mapping) if encoder.mapping else None
    detector = _build(det_cls, params, seed, epochs)
    spec, X, C, W, source = training_events(model_name, data, features, conditions, mapping, step, nan_policy,
                                            n_default)
    if len(X) == 0:
        raise InputError("no training events")
    columns = spec.columns
    ranges = fit_ranges(X)
    if encoder is not None:
        X = encoder.encode(X)
        columns = [f"z{i}" for i in range(X.shape[1])]
        preprocessing = "standard"
    if preprocessing == "auto":
        preprocessing = "standard" if spec.kind == "table" else detector.input_scaling()
    scaler = Standardizer.for_columns(columns, preprocessing).fit(X, W)
    detector.fit(scaler.transform(X), condition=C, options=TrainOptions(None if checkpoint is None else str(checkpoint), resume,
                                                              progress, stop_after_epochs))
    provenance = {**source, "seed": seed, "events": int(len(X)), "versions": versions()}
    history = getattr(detector, "history_", None) or []
    metrics = {"train": history[-1] if history else {}}
    if getattr(detector, "_budget", None):
        metrics["budget"] = dict(detector._budget)
    if encoder is not None:
        spec = encoder.spec
        provenance["encoder"] = {"detector": encoder.detector.name, "latent_dim": X.shape[1],
                                 "provenance": encoder.provenance}
    return Model(detector, spec, scaler, None if mapping is None else mapping.to_dict(), [], provenance, metrics,
                 encoder, ranges)


def train_summary(model: Model, output=None) -> dict:
    """What ``adkit train --json`` prints: the file, the detector, what it was trained on, the last epoch."""
    prov = model.provenance
    return {"output": str(output or DEFAULT_MODEL), "detector": model.detector.name, "input": model.spec.kind,
            "features": list(model.spec.columns), "events": prov.get("events"), "windows": prov.get("windows"),
            "seed": prov.get("seed"), "inputs": prov.get("inputs"), "embedded": prov.get("embedded"),
            "preprocessing": model.scaler.kind, "train": model.metrics.get("train", {})}


def check_samples(det_cls, data, reference) -> None:
    """Two-sample detectors need --data and --reference; the others take no --reference."""
    if det_cls.two_sample and not (data and reference):
        raise ConfigError(f"{det_cls.name} is a two-sample model: give --data FILE (the sample to test) and "
                          "--reference FILE (the reference sample), or run the full test with `adkit nplm`")
    if reference and not det_cls.two_sample:
        raise ConfigError(f"--reference is for two-sample detectors (nplm, nplm-nn), not {det_cls.name!r}")


def _build(det_cls, params: dict | None, seed: int, epochs: int | None):
    """The detector with validated parameters, the run's seed and, if given, its epochs."""
    params = dict(params or {})
    if "standardize" in det_cls.param_names():  # the model's scaler prepares the inputs (--preprocessing)
        params.setdefault("standardize", False)
    if "seed" in det_cls.param_names():
        params["seed"] = seed
    if epochs is not None:
        if "epochs" not in det_cls.param_names():
            raise ConfigError(f"detector {det_cls.name!r} has no epochs parameter")
        params["epochs"] = int(epochs)
    return det_cls.from_params(params)


def _train_two_sample(det_cls, data, reference, *, params, features, mapping, seed, epochs, step, nan_policy,
                      progress) -> Model:
    """NPLM's f(x) = log n(x|data)/n(x|reference), learned from ``data`` (y = 1) against ``reference`` (y = 0)."""
    check_samples(det_cls, data, reference)
    detector = _build(det_cls, params, seed, epochs)
    first = open_reader(reference[0], mapping)
    table = first.kind == "table"
    spec = default_spec(features or (None if table else NPLM_FEATURES), None, mapping, table, first.columns)
    R, _, _ = load_arrays(reference, spec, mapping, step, nan_policy)
    D, _, _ = load_arrays(data, spec, mapping, step, nan_policy)
    if len(R) == 0 or len(D) == 0:
        raise InputError(f"no events in the {'reference' if len(R) == 0 else 'data'} files")
    scaler = Standardizer.for_columns(spec.columns, "standard" if table else "physics").fit(R)
    X = np.concatenate([scaler.transform(R), scaler.transform(D)])
    y = np.concatenate([np.zeros(len(R)), np.ones(len(D))])
    detector.fit(X, y, options=TrainOptions(progress=progress))
    provenance = {"inputs": [file_record(p) for p in [*reference, *data]], "reference": [str(p) for p in reference],
                  "data": [str(p) for p in data], "seed": seed, "events": int(len(X)), "versions": versions()}
    return Model(detector, spec, scaler, None if mapping is None else mapping.to_dict(), [], provenance, {})




def is_series_training(data: Sequence, det_cls, series_options: bool = False) -> bool:
    """Time-series training: series files (CSV/NPY/NPZ, sensor-demo), series options, or a sequence model."""
    from adkit.io.series import is_series_input

    return bool(series_options) or any(is_series_input(d) for d in data) or det_cls.tags.sequence


@dataclass
class TrainRun:
    """What ``adkit train`` was asked for, after ``--config`` and the defaults: the same for events and series."""

    name: str
    det_cls: type
    cfg: dict
    data: list
    conditions: str | None
    #: train()'s keywords shared by every kind: params, seed, epochs, checkpoint, resume, progress.
    options: dict
    output: str = DEFAULT_MODEL


def train_run(cli: dict, say) -> TrainRun:
    """The detector, its parameters, data, seed and epochs from the command line, ``--config`` and defaults."""
    from adkit.detectors import registry
    from adkit.workflows.config import load_config, parse_params

    cfg = load_config(cli.get("config"), "train")
    if not (cli.get("detector") or cfg.get("detector")):
        say("using the default --detector ae")
    name = cli.get("detector") or cfg.get("detector") or "ae"
    det_cls = registry.get(name)  # fail on a bad name before any work
    if det_cls.uses_target and not det_cls.two_sample:
        raise ConfigError(f"detector {name!r} learns a teacher's score: train it with `adkit distill --teacher "
                          "MODEL` (or fit(X, y=teacher_scores) from Python)")
    params = cli.get("params") or ()
    if cli.get("kernel"):
        if "kernel" not in det_cls.param_names():
            raise ConfigError(f"--kernel applies to detectors with a kernel choice (svc), not {name!r}")
        params = (*params, f"kernel={cli['kernel']}")
    options = {"params": {**(cfg.get("params") or {}), **parse_params(params)},
               "seed": cli["seed"] if cli.get("seed") is not None else int(cfg.get("seed", 0)),
               "epochs": cli.get("epochs") or cfg.get("epochs"), "resume": bool(cli.get("resume")),
               "progress": bool(cli.get("progress"))}
    return TrainRun(name, det_cls, cfg, list(cli.get("data") or ()) or list(cfg.get("data") or []),
                    cli.get("conditions") or cfg.get("conditions"), options)


def prepare_output(run: TrainRun, output: str | None, overwrite: bool, say) -> None:
    """The model file: announced when it is the default, refused before training if it may not be written."""
    from adkit.files import check_output

    run.output = output or DEFAULT_MODEL
    if run.output == DEFAULT_MODEL:
        say(f"writing the model to ./{DEFAULT_MODEL} (change with -o)")
    check_output(run.output, overwrite)
    run.options["checkpoint"] = f"{run.output}.ckpt"


def train_events_command(run: TrainRun, cli: dict, say) -> Model:
    """``adkit train`` on events or tables: conditions and samples checked, the model trained and written."""
    from adkit.detectors import registry
    from adkit.workflows.config import mapping_from

    name, det_cls, cfg = run.name, run.det_cls, run.cfg
    features, encoder = cli.get("features") or cfg.get("features"), cli.get("encoder") or cfg.get("encoder")
    FeatureSet.parse(features)
    if det_cls.uses_condition and not run.conditions and not encoder:
        say(f"{name} is conditional: on collider events it conditions on {DEFAULT_CONDITIONS} "
            "by default (change with --conditions)")
    elif run.conditions and not det_cls.uses_condition:
        conditional = [n for n in registry.available() if registry.get(n).uses_condition]
        raise ConfigError(f"detector {name!r} does not use conditions; drop --conditions "
                          f"(conditional detectors: {', '.join(conditional)})")
    check_samples(det_cls, run.data, cli.get("reference"))  # before any default is announced
    prepare_output(run, cli.get("output"), cli.get("overwrite", False), say)
    if not run.data:
        say("no --data: training on the embedded default background (adkit.datasets)")
    if not encoder and det_cls.tags.latent:
        say(f"{name} works in a latent space: without --encoder it reads the raw features "
            "(train an AE with --param latent_dim=8 and pass --encoder ae.adkit)")
    model = train_events(name, run.data, features=features, encoder=Model.load(encoder) if encoder else None,
                         conditions=run.conditions, mapping=mapping_from(cli.get("mapping"), config=cfg),
                         step=cli.get("step") or DEFAULT_STEP, nan_policy=cli.get("nan_policy") or "reject",
                         preprocessing=cli.get("preprocessing") or "auto", reference=list(cli.get("reference") or ()),
                         **run.options)
    last = model.metrics.get("train", {})
    loss = f", final val loss {last['val_loss']:.4g}" if "val_loss" in last else ""
    b = model.metrics.get("budget")
    budget = (f", {last.get('epoch', '?')} of up to {b['epochs']} epochs of batch {b['batch_size']} (patience "
              f"{b['patience']})" if b and last else "")
    return save_trained(model, run, cli.get("overwrite", False), say,
                        f"{name} on {model.provenance['events']} events, {model.n_features} features{budget}{loss}")


def save_trained(model: Model, run: TrainRun, overwrite: bool, say, what: str) -> Model:
    """Write the model file and say what was trained."""
    model.save(run.output, overwrite)
    say(f"wrote {run.output}: {what}")
    return model
