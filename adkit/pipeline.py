"""The library API behind the CLI: train a detector, evaluate it at trigger rates.

Everything the commands do is importable::

    from adkit.pipeline import train, evaluate
    model = train("ae", epochs=5)                      # embedded default background
    result = evaluate(model)                           # embedded test background + signals
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from adkit.artifact import Model, Threshold, file_record, versions
from adkit.errors import ConfigError, InputError
from adkit.features.preprocess import Standardizer
from adkit.features.schema import FeatureSet
from adkit.io import DEFAULT_STEP, InputSpec, Mapping, open_events, open_reader


def load_arrays(paths: Sequence[str | Path], spec: InputSpec | None, mapping: Mapping | None = None,
                step: int = DEFAULT_STEP, nan_policy: str = "reject"):
    """All events of ``paths`` as (features, condition, weight) arrays."""
    feats, conds, weights = [], [], []
    for batch in open_events(list(paths), spec, mapping=mapping, step=step, nan_policy=nan_policy):
        feats.append(batch.features)
        conds.append(batch.condition)
        weights.append(batch.weight)
    X = np.concatenate(feats) if feats else np.zeros((0, 0), np.float32)
    C = None if not conds or conds[0] is None else np.concatenate(conds)
    W = None if not weights or weights[0] is None else np.concatenate(weights)
    return X, C, W


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
          reference: Sequence[str | Path] | None = None) -> Model:
    """Train ``model_name`` on ``data`` files (or the embedded default background).

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
    if encoder is not None:
        X = encoder.encode(X)
        columns = [f"z{i}" for i in range(X.shape[1])]
        preprocessing = "standard"
    if preprocessing == "auto":
        preprocessing = "standard" if spec.kind == "table" else det_cls.preprocessing
    scaler = Standardizer.for_columns(columns, preprocessing).fit(X, W)
    detector.fit(scaler.transform(X), C, **_fit_options(detector, checkpoint=checkpoint, resume=resume,
                                                          progress=progress, stop_after_epochs=stop_after_epochs))
    provenance = {**source, "seed": seed, "events": int(len(X)), "versions": versions()}
    history = getattr(detector, "history_", None) or []
    metrics = {"train": history[-1] if history else {}}
    if encoder is not None:
        spec = encoder.spec
        provenance["encoder"] = {"detector": encoder.detector.name, "latent_dim": X.shape[1],
                                 "provenance": encoder.provenance}
    return Model(detector, spec, scaler, None if mapping is None else mapping.to_dict(), [], provenance, metrics,
                 encoder)


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
    if "seed" in det_cls.param_names():
        params["seed"] = seed
    if epochs is not None:
        if "epochs" not in det_cls.param_names():
            raise ConfigError(f"detector {det_cls.name!r} has no epochs parameter")
        params["epochs"] = int(epochs)
    return det_cls.from_params(params)


def _fit_options(detector, **options) -> dict:
    """The training options (checkpoint, resume, progress, ...) that this detector's ``fit`` takes."""
    import inspect

    accepted = inspect.signature(detector.fit).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()):
        return options
    return {k: v for k, v in options.items() if k in accepted}


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
    detector.fit(X, None, y, **_fit_options(detector, progress=progress))
    provenance = {"inputs": [file_record(p) for p in [*reference, *data]], "reference": [str(p) for p in reference],
                  "data": [str(p) for p in data], "seed": seed, "events": int(len(X)), "versions": versions()}
    return Model(detector, spec, scaler, None if mapping is None else mapping.to_dict(), [], provenance, {})


def evaluate(model: Model, background: Sequence[str | Path] | None = None, signals: dict[str, Sequence[str]] | None = None,
             *, rates_khz: Sequence[float] = (1.0, 10.0, 100.0), fprs: Sequence[float] = (1e-5, 1e-4, 1e-3),
             bunch_rate_mhz: float = 40.0, mapping: Mapping | None = None, step: int = DEFAULT_STEP,
             nan_policy: str = "reject", n_default: int | None = None) -> dict:
    """Score background and signals and compute the trigger metrics (see :mod:`adkit.metrics`).

    With no files, the embedded test background (independent seed) and the four benchmark
    signals are used. Returns the metrics dict plus the raw score arrays under ``"scores"``.
    """
    from adkit.metrics import evaluate_scores
    from adkit.scoring import model_mapping

    mapping = model_mapping(model, mapping)
    scores: dict[str, np.ndarray] = {}
    if background:
        Xb, Cb, Wb = load_arrays(background, model.spec, mapping, step, nan_policy)
        scores["background"] = model.score(Xb, Cb)
        sig_arrays = {name: load_arrays(paths, model.spec, mapping, step, nan_policy)[:2]
                      for name, paths in (signals or {}).items()}
    else:
        if model.spec.kind != "objects":
            raise ConfigError("this model reads tables; give --background and --signal files")
        from adkit.datasets import DEFAULT_SIGNAL_EVENTS, DEFAULT_TEST_EVENTS, SIGNALS, TEST_SEED, background as bkg, generate

        Wb = None
        nb = n_default or DEFAULT_TEST_EVENTS
        ob = bkg(nb, TEST_SEED)[0][:, :, :3]
        scores["background"] = model.score(_features(model, ob), _conditions(model, ob))
        sig_arrays = {}
        for s in (signals or SIGNALS):
            o = generate(s, max(nb // 10, 1000) if n_default else DEFAULT_SIGNAL_EVENTS, TEST_SEED)[:, :, :3]
            sig_arrays[s] = (_features(model, o), _conditions(model, o))
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
    from adkit.metrics import rate_to_fpr, threshold_at_fpr

    bkg = result["scores"]["background"]
    return [Threshold(f"{r:g}kHz", threshold_at_fpr(bkg, rate_to_fpr(r, result["bunch_rate_mhz"])), float(r),
                      rate_to_fpr(r, result["bunch_rate_mhz"])) for r in rates_khz]


#: Features NPLM uses on collider events when none are named: a few high-level ones, where a
#: kernel density ratio has the statistics to see a difference.
NPLM_FEATURES = "met,ht,lepton_pt_sum,n_leptons,n_jets"


def nplm(reference: Sequence[str | Path], data: Sequence[str | Path], outdir: str | Path | None = None, *,
         features: str | Sequence[str] | None = None, model: str = "kernel", params: dict | None = None,
         n_expected: float | None = None, n_toys: int = 100, seed: int = 0, executor=None,
         plot_features: str | Sequence[str] | None = None, mapping: Mapping | None = None, step: int = DEFAULT_STEP,
         nan_policy: str = "reject", overwrite: bool = False, progress: bool = False,
         on_toy=None) -> tuple[dict, Model]:
    """The NPLM test of ``data`` files against ``reference`` files (see :mod:`adkit.stats.nplm`).

    Inputs are read with the usual readers and standardised on the reference. With ``outdir``,
    writes ``nplm.json``, ``null.png``, ``f_<feature>.png`` and keeps finished toys in
    ``toys.jsonl`` (an interrupted run resumes there). Returns the result and the learned
    f(x) as a :class:`Model` (score = log density ratio).
    """
    import json

    from adkit.io.writers import atomic_output
    from adkit.stats.nplm import nplm_test

    first = open_reader(reference[0], mapping)
    table = first.kind == "table"
    if not table and not features:
        features = NPLM_FEATURES
    spec = default_spec(features, None, mapping, table, first.columns)
    from adkit.detectors import registry
    from adkit.io.files import check_outputs

    registry.get("nplm" if model == "kernel" else "nplm-nn").from_params(dict(params or {}))  # fail before work
    out = Path(outdir) if outdir else None
    if out is not None:
        check_outputs(out, ["nplm.json"], overwrite)
    ref, _, _ = load_arrays(reference, spec, mapping, step, nan_policy)
    dat, _, _ = load_arrays(data, spec, mapping, step, nan_policy)
    if len(ref) == 0 or len(dat) == 0:
        raise InputError(f"no events in the {'reference' if len(ref) == 0 else 'data'} files")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    scaler = Standardizer.for_columns(spec.columns, "standard" if table else "physics").fit(ref)
    R, D = scaler.transform(ref).astype(np.float64), scaler.transform(dat).astype(np.float64)
    result, det, null = nplm_test(R, D, n_expected=n_expected, model=model, params=params, n_toys=n_toys, seed=seed,
                                  executor=executor, store=out / "toys.jsonl" if out else None, progress=progress,
                                  on_toy=on_toy)
    result.update(features=spec.columns, reference=[str(p) for p in reference], data=[str(p) for p in data])
    provenance = {"inputs": [file_record(p) for p in [*reference, *data]], "seed": seed, "events": int(len(R) + len(D)),
                  "versions": versions()}
    f_model = Model(det, spec, scaler, None if mapping is None else mapping.to_dict(), [], provenance,
                    {"nplm": result})
    if out is not None:
        from adkit.report.nplm import null_plot, projection_plots

        images = []
        if null is not None:
            images.append(null_plot(null, result["t"], result["dof"], out / "null.png", overwrite))
        cols = [c for c in _names(plot_features) or spec.columns[:4]]
        unknown = [c for c in cols if c not in spec.columns]
        if unknown:
            raise ConfigError(f"--plot-features {unknown[0]!r} is not a test feature; features: {', '.join(spec.columns)}")
        idx = [spec.columns.index(c) for c in cols]
        images += projection_plots(R[:, idx], D[:, idx], det.score(R), result["n_expected"], cols, out, overwrite)
        result["plots"] = images
        if null is not None:
            result["null_t"] = [float(t) for t in null]
        with atomic_output(out / "nplm.json", overwrite) as tmp:
            tmp.write_text(json.dumps(result, indent=2, default=float))
    return result, f_model
