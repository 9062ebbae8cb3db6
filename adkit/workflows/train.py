"""Train a detector: on event files, tables, time series or the embedded default data.

One entry point for every kind of input: :func:`train` reads events (ROOT, HDF5, Parquet,
the embedded background) or, when the inputs are series or the detector is a sequence model,
hands over to :func:`adkit.workflows.series.train_series`. Two-sample detectors (NPLM) learn
``data`` against a ``reference`` sample.
"""
from __future__ import annotations

from collections.abc import Sequence
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


def train(model_name: str, data: Sequence[str | Path] | None = None, *, params: dict | None = None,
          features: str | Sequence[str] | None = None, conditions: str | Sequence[str] | None = None,
          mapping: Mapping | None = None, seed: int = 0, epochs: int | None = None,
          n_default: int | None = None, step: int = DEFAULT_STEP, nan_policy: str = "reject",
          checkpoint: str | Path | None = None, resume: bool = False, progress: bool = False,
          stop_after_epochs: int | None = None, preprocessing: str = "auto", encoder: Model | None = None,
          reference: Sequence[str | Path] | None = None, window: int | None = None, stride: int | None = None,
          channels: Sequence[str] | None = None, time_column: str | None = None, rate: float | None = None,
          label_column: str | None = None, on_gaps=None) -> Model:
    """Train ``model_name`` on ``data`` files (or the embedded default background).

    Series inputs (CSV/NPY/NPZ, ``sensor-demo``), a series option (``window``, ``stride``,
    ``channels``, ``time_column``, ``rate``, ``label_column``) or a sequence detector make it train on the windows
    of time series (:func:`adkit.workflows.series.train_series`; default data ``sensor-demo``).

    ``preprocessing``: ``physics`` or ``log-pooled`` (object-aware log/pooled scaling, see
    :mod:`adkit.features.preprocess`), ``standard`` (per-column z-scores), or ``auto``
    (the detector's ``preprocessing`` for collider events, standard for tables). With ``encoder`` (a trained AE
    model) the detector is trained in its latent space: events are read as the encoder reads
    them, encoded, standardised, and the encoder is stored in the returned model. A two-sample
    detector (``nplm``, ``nplm-nn``) learns ``data`` against the ``reference`` files.
    """
    from adkit.detectors import registry

    det_cls = registry.get(model_name)
    if is_series_training(data or [], det_cls,
                          bool(window or stride or channels or time_column or rate or label_column)):
        from adkit.workflows.series import DEFAULT_WINDOW, train_series

        conds = [c.strip() for c in conditions.split(",") if c.strip()] if isinstance(conditions, str) else conditions
        return train_series(model_name, list(data or ["sensor-demo"]), window=window or DEFAULT_WINDOW, stride=stride,
                            channels=channels, conditions=conds, time_column=time_column, label_column=label_column,
                            rate=rate, params=params,
                            seed=seed, epochs=epochs, checkpoint=checkpoint, resume=resume, progress=progress,
                            on_gaps=on_gaps)
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
    if data:
        first = open_reader(data[0], mapping)
        conditions = default_conditions(model_name, conditions, first.kind == "table")
        spec = default_spec(features, conditions, mapping, first.kind == "table", first.columns)
        X, C, W = load_arrays(data, spec, mapping, step, nan_policy)
        source = {"inputs": [file_record(p) for p in data]}
    else:
        from adkit.datasets import DEFAULT_TRAIN_EVENTS, TRAIN_SEED, default_background

        n = n_default or DEFAULT_TRAIN_EVENTS
        spec = default_spec(features, default_conditions(model_name, conditions), mapping)
        objects = default_background(n, TRAIN_SEED)[:, :, :3]
        X = spec.features.compute(objects).astype(np.float32)
        C = spec.conditions.compute(objects) if spec.conditions else None
        W = None
        source = {"inputs": [], "embedded": {"generator": "adkit.datasets", "events": n, "seed": TRAIN_SEED,
                                             "mix": "ADC2021 background (W, QCD, Z, ttbar)"}}
    if len(X) == 0:
        raise InputError("no training events")
    columns = spec.columns
    ranges = fit_ranges(X) if spec.kind != "series" else None
    if encoder is not None:
        X = encoder.encode(X)
        columns = [f"z{i}" for i in range(X.shape[1])]
        preprocessing = "standard"
    if preprocessing == "auto":
        preprocessing = "standard" if spec.kind == "table" else det_cls.preprocessing
    scaler = Standardizer.for_columns(columns, preprocessing).fit(X, W)
    detector.fit(scaler.transform(X), condition=C, options=TrainOptions(None if checkpoint is None else str(checkpoint), resume,
                                                              progress, stop_after_epochs))
    provenance = {**source, "seed": seed, "events": int(len(X)), "versions": versions()}
    history = getattr(detector, "history_", None) or []
    metrics = {"train": history[-1] if history else {}}
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


def train_command(*, detector: str | None, data, reference, config, epochs, seed, features, conditions, params,
                  kernel, preprocessing, output, overwrite, resume, encoder, window, stride, channels, time_column,
                  rate, mapping, nan_policy, step, progress: bool, say, label: str | None = None) -> Model:
    """``adkit train``: defaults announced through ``say``, the model trained and written."""
    from adkit.detectors import registry
    from adkit.files import check_output
    from adkit.workflows.config import load_config, mapping_from, parse_params

    cfg = load_config(config, "train")
    if not (detector or cfg.get("detector")):
        say("using the default --detector ae")
    name = detector or cfg.get("detector") or "ae"
    det_cls = registry.get(name)  # fail on a bad name before any work
    if det_cls.uses_target and not det_cls.two_sample:
        raise ConfigError(f"detector {name!r} learns a teacher's score: train it with `adkit distill --teacher "
                          "MODEL` (or fit(X, y=teacher_scores) from Python)")
    if kernel:
        if "kernel" not in det_cls.param_names():
            raise ConfigError(f"--kernel applies to detectors with a kernel choice (svc), not {name!r}")
        params = (*params, f"kernel={kernel}")
    hp = {**(cfg.get("params") or {}), **parse_params(params)}
    data = list(data) or list(cfg.get("data") or [])
    seed = seed if seed is not None else int(cfg.get("seed", 0))
    epochs = epochs or cfg.get("epochs")
    conditions = conditions or cfg.get("conditions")
    series = is_series_training(data, det_cls, bool(window or stride or channels or time_column or rate or label))
    if not series:
        FeatureSet.parse(features or cfg.get("features"))
        if det_cls.uses_condition and not conditions and not encoder:
            say(f"{name} is conditional: on collider events it conditions on {DEFAULT_CONDITIONS} "
                "by default (change with --conditions)")
        elif conditions and not det_cls.uses_condition:
            conditional = [n for n in registry.available() if registry.get(n).uses_condition]
            raise ConfigError(f"detector {name!r} does not use conditions; drop --conditions "
                              f"(conditional detectors: {', '.join(conditional)})")
        check_samples(det_cls, data, reference)  # before any default is announced
    output = output or DEFAULT_MODEL
    if output == DEFAULT_MODEL:
        say(f"writing the model to ./{DEFAULT_MODEL} (change with -o)")
    check_output(output, overwrite)
    options = {"params": hp, "seed": seed, "epochs": epochs, "checkpoint": f"{output}.ckpt", "resume": resume,
               "progress": progress}
    if series:
        model = _train_series_command(name, data, conditions, window, stride, channels, time_column, rate, options,
                                      say, label)
    else:
        if not data:
            say("no --data: training on the embedded default background (adkit.datasets)")
        enc = None
        if encoder or cfg.get("encoder"):
            enc = Model.load(encoder or cfg["encoder"])
        elif det_cls.tags.latent:
            say(f"{name} works in a latent space: without --encoder it reads the raw features "
                "(train an AE with --param latent_dim=8 and pass --encoder ae.adkit)")
        model = train(name, data, features=features or cfg.get("features"), encoder=enc, conditions=conditions,
                      mapping=mapping_from(mapping, config=cfg), step=step, nan_policy=nan_policy,
                      preprocessing=preprocessing, reference=list(reference), **options)
    model.save(output, overwrite)
    last = model.metrics.get("train", {})
    loss = f", final val loss {last['val_loss']:.4g}" if "val_loss" in last else ""
    if series:
        spec = model.spec
        say(f"wrote {output}: {name} on {model.provenance['windows']} windows of {spec.window} samples x "
            f"{len(spec.channels)} channel(s) ({', '.join(spec.channels)}){loss}")
    else:
        say(f"wrote {output}: {name} on {model.provenance['events']} events, {model.n_features} features{loss}")
    return model


def _train_series_command(name, data, conditions, window, stride, channels, time_column, rate, options, say,
                          label: str | None = None) -> Model:
    from adkit.workflows.series import DEFAULT_WINDOW, MIN_WINDOWS

    if not data:
        say("no --data: training on the embedded sensor demo (sensor-demo: two noisy channels with transients)")
    if not window:
        say(f"time series: windows of {DEFAULT_WINDOW} samples (change with --window)")
    def gaps(s) -> None:
        say(f"{s.path}: {len(s.gaps)} gap(s) in the time stamps (first at row {s.gaps[0][0]}, {s.gaps[0][1]:g} s); "
            "no window spans a gap")

    model = train(name, data, conditions=conditions, window=window, stride=stride,
                  channels=[c.strip() for c in channels.split(",")] if channels else None, time_column=time_column,
                  rate=rate, label_column=label, on_gaps=gaps, **options)
    n = model.provenance["windows"]
    if n < MIN_WINDOWS:
        say(f"warning: only {n} training windows of {model.spec.window} samples (stride {model.spec.stride}); "
            f"fewer than {MIN_WINDOWS} is too few to learn what normal looks like: give a smaller --stride or "
            "--window, or more data")
    return model
