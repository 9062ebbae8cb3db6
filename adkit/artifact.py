"""The ``.adkit`` model file: a zip of ``manifest.json`` and ``tensors.safetensors``.

No pickle anywhere: arrays go through safetensors, everything else is JSON. The manifest
carries a format version; loading refuses unknown versions and foreign or damaged files
with a message that names the file.
"""
from __future__ import annotations

import math
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from adkit.about import DEFAULT_MODEL, __version__
from adkit.errors import AdkitError, ModelFileError
from adkit.files import sha256_file
from adkit.io import Mapping
from adkit.io.bundle import FORMAT, FORMAT_VERSION, MANIFEST, TENSORS, read_bundle, write_bundle

__all__ = ["DEFAULT_MODEL", "FORMAT", "FORMAT_VERSION", "MANIFEST", "TENSORS", "Model", "Threshold", "file_record", "read_bundle",
           "versions", "write_bundle"]

def file_record(path: str | Path) -> dict:
    """Provenance of an input file: path, size, sha256 (of the whole file)."""
    p = Path(path)
    return {"path": str(p), "size": p.stat().st_size, "sha256": sha256_file(p)}


def versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"adkit": __version__, "python": platform.python_version()}
    for pkg in ("numpy", "torch", "uproot", "h5py", "scikit-learn"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


@dataclass
class Threshold:
    """A trigger threshold set on background at a rate budget."""

    name: str
    value: float
    rate_khz: float
    fpr: float

    def to_dict(self) -> dict:
        return {"name": self.name, "value": self.value, "rate_khz": self.rate_khz, "fpr": self.fpr}


def check_thresholds(thresholds: list[Threshold]) -> None:
    """Thresholds are finite numbers with distinct names (a NaN threshold passes no event, silently)."""
    names: set[str] = set()
    for t in thresholds:
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (t.value, t.rate_khz, t.fpr)):
            raise ModelFileError(f"threshold {t.name!r} is not finite (value {t.value!r}, rate {t.rate_khz!r} kHz, "
                                 f"FPR {t.fpr!r}); the model file is damaged")
        if t.rate_khz < 0 or not 0 <= t.fpr <= 1:
            raise ModelFileError(f"threshold {t.name!r} has rate {t.rate_khz!r} kHz and FPR {t.fpr!r} (a rate >= 0 and "
                                 "an FPR in [0, 1] expected); the model file is damaged")
        if t.name in names:
            raise ModelFileError(f"threshold {t.name!r} is stored twice; the model file is damaged")
        names.add(t.name)


def merge_thresholds(old: list[Threshold], new: list[Threshold]) -> tuple[list[Threshold], list[str], list[str]]:
    """Stored thresholds after storing ``new``: a new one replaces the old one of its name, the others
    are kept. Returns (thresholds, names replaced, names kept)."""
    names = {t.name for t in new}
    kept = [t for t in old if t.name not in names]
    replaced = [t.name for t in old if t.name in names]
    return kept + list(new), replaced, [t.name for t in kept]


@dataclass
class Model:
    """A trained detector with everything needed to score new files the same way."""

    detector: object  # adkit.detectors.Detector
    spec: object  # adkit.io.InputSpec
    scaler: object  # adkit.features.preprocess.Standardizer
    mapping: dict | None = None
    thresholds: list[Threshold] = field(default_factory=list)
    provenance: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    #: A latent-space model: the trained model (an AE) whose encoder maps the inputs to the
    #: space the detector works in; stored inside this model's file.
    encoder: Model | None = None
    #: Per-feature min/max of the training inputs (:mod:`adkit.features.ranges`), for the
    #: out-of-distribution check at scoring; None for models that predate it.
    ranges: dict | None = None
    #: The file this model was loaded from, as it was then (see :meth:`update`).
    source: object = field(default=None, repr=False, compare=False)

    @property
    def n_features(self) -> int:
        return len(self.spec.columns)

    def encode(self, X: np.ndarray) -> np.ndarray:
        """Latent coordinates of raw input events (this model must be an encoder, e.g. an AE)."""
        if not hasattr(self.detector, "encode"):
            raise ModelFileError(f"a {self.detector.name!r} model has no encoder; train an AE "
                                 "(adkit train --detector ae --param latent_dim=8) to encode with")
        if X.shape[1] != self.n_features:
            raise ModelFileError(f"the model expects {self.n_features} features, the input has {X.shape[1]}")
        return np.asarray(self.detector.encode(self.scaler.transform(X)), dtype=np.float32)

    def prepare(self, X: np.ndarray) -> np.ndarray:
        """Raw input events as the detector takes them: encoded (a latent model), then preprocessed."""
        if X.shape[1] != self.n_features:
            raise ModelFileError(f"the model expects {self.n_features} features, the input has {X.shape[1]}")
        if self.encoder is not None:
            X = self.encoder.encode(X)
        return self.scaler.transform(X)

    def score_components(self, X: np.ndarray, condition: np.ndarray | None = None, *,
                         prepared: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Every score kind of raw events ``X``; ``prepared``: ``prepare(X)``, when already computed."""
        return self.detector.score_components(self.prepare(X) if prepared is None else prepared, condition)

    def decision_function(self, X: np.ndarray, condition: np.ndarray | None = None) -> np.ndarray:
        """Per-event anomaly scores of raw input events (higher = more anomalous)."""
        return self.score_components(X, condition)["score"]

    @property
    def _keeps_training_scores(self) -> bool:
        """A detector saved by ``adkit.save`` keeps its whole fit (pyod's ``decision_scores_`` too); a model
        trained on files keeps its thresholds, not a score per training event."""
        return bool(self.provenance.get("arrays"))

    def manifest(self) -> dict:
        config, _ = self.detector.state(training_scores=self._keeps_training_scores)
        return {
            "format": FORMAT, "format_version": FORMAT_VERSION, "adkit_version": __version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "detector": {"name": self.detector.name, "config": config},
            "input": self.spec.to_dict(), "mapping": self.mapping,
            "preprocessing": {"kind": self.scaler.kind,
                              "tensors": [f"preprocessing.{k}" for k in self.scaler.state()]},
            "thresholds": [t.to_dict() for t in self.thresholds],
            "provenance": self.provenance, "metrics": self.metrics,
            "encoder": None if self.encoder is None else self.encoder.manifest(),
            **({} if self.ranges is None else {"input_ranges": self.ranges}),
        }

    def tensors(self) -> dict[str, np.ndarray]:
        _, det_tensors = self.detector.state(training_scores=self._keeps_training_scores)
        tensors = {f"detector.{k}": v for k, v in det_tensors.items()}
        tensors.update({f"preprocessing.{k}": v for k, v in self.scaler.state().items()})
        if self.encoder is not None:
            tensors.update({f"encoder.{k}": v for k, v in self.encoder.tensors().items()})
        return tensors

    def memory_bound(self) -> dict:
        """Memory loading and scoring this model needs, from its declared shapes: the stored tensors (held
        about four times while loading: the zip member, the arrays, torch's copy, the module), the
        activations of one scoring step, an encoder's own bound, and 64 MiB for the reader's chunk."""
        tensors = int(sum(np.asarray(v).nbytes for v in self.tensors().values()))
        net = getattr(self.detector, "_memory", None) or {}
        enc = self.encoder.memory_bound()["bound_bytes"] if self.encoder is not None else 0
        bound = 4 * tensors + int(net.get("step_bytes", 0)) + enc + (64 << 20)
        return {"tensor_bytes": tensors, "network_bytes": int(net.get("network_bytes", 0)),
                "step_events": net.get("step_events"), "step_bytes": int(net.get("step_bytes", 0)),
                "bound_bytes": bound}

    def input_spec(self, mapping: Mapping | None = None):
        """How to read new files for this model: its spec with the user's ``mapping``, else the
        mapping used in training."""
        if mapping is None and self.mapping:
            mapping = Mapping.from_dict(self.mapping)
        return self.spec.with_mapping(mapping)

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        return write_bundle(path, self.manifest(), self.tensors(), overwrite)

    def update(self) -> Path:
        """Write this model back to the file it was loaded from (through a symlink: its target).

        Refused if that file changed since it was loaded (another run retrained it), so newer
        weights are never replaced by older ones.
        """
        if self.source is None:
            raise ModelFileError("this model was not loaded from a file; use save(path)")
        return write_bundle(self.source.path, self.manifest(), self.tensors(), updates=self.source)

    @classmethod
    def load(cls, path: str | Path) -> Model:
        from adkit.files import Snapshot

        snap = Snapshot.take(path) if Path(path).is_file() else None
        manifest, tensors = read_bundle(path)
        model = cls.from_manifest(manifest, tensors, path)
        model.source = snap
        model.check_consistent(path)
        return model

    def check_consistent(self, path: str | Path) -> None:
        """Score two empty events: tensors that do not fit the configured network fail here, as one
        line naming the file, instead of deep inside the first real chunk."""
        X = np.zeros((2, self.n_features), dtype=np.float32)
        names = self.spec.condition_names if getattr(self.detector, "uses_condition", False) else None
        C = None if names is None else np.zeros((2, len(names)), dtype=np.float32)
        try:
            s = self.decision_function(X, C)
        except AdkitError as e:
            raise ModelFileError(str(e) if str(e).startswith(str(path)) else f"{path}: {e}") from None
        except (RuntimeError, ValueError, IndexError, KeyError) as e:  # torch/numpy: tensors and config disagree
            text = " ".join(str(e).split())[:200]
            raise ModelFileError(f"{path}: its tensors do not fit the detector's configuration "
                                 f"({type(e).__name__}: {text}); the model file is damaged") from None
        if np.shape(s) != (2,):
            raise ModelFileError(f"{path}: the detector gives scores of shape {np.shape(s)} for 2 events; "
                                 "the model file is damaged")

    @classmethod
    def from_manifest(cls, manifest: dict, tensors: dict[str, np.ndarray], path: str | Path) -> Model:
        from adkit.detectors import registry
        from adkit.features.preprocess import Standardizer
        from adkit.io import InputSpec

        try:
            det_cls = registry.get(manifest["detector"]["name"])
            det = det_cls.from_state(manifest["detector"]["config"],
                                     {k[9:]: v for k, v in tensors.items() if k.startswith("detector.")})
            scaler = Standardizer.from_state({k[14:]: v for k, v in tensors.items() if k.startswith("preprocessing.")})
            spec = InputSpec.from_dict(manifest["input"])
            thresholds = [Threshold(**t) for t in manifest.get("thresholds", [])]
            check_thresholds(thresholds)
            ranges = manifest.get("input_ranges")
            if ranges is not None and not all(math.isfinite(v) for k in ("min", "max", "populated")
                                               for v in ranges.get(k) or ()):
                raise ModelFileError("input_ranges hold NaN or inf values (they would switch off the out-of-range "
                                     "check); the model file is damaged")
            if ranges is not None and not (len(ranges["min"]) == len(ranges["max"]) == len(spec.columns)):
                raise ModelFileError(f"{path}: input_ranges has {len(ranges['min'])} features, the input "
                                     f"{len(spec.columns)}; the model file is damaged")
            encoder = None
            if manifest.get("encoder"):
                encoder = cls.from_manifest(manifest["encoder"], {k[8:]: v for k, v in tensors.items()
                                                                  if k.startswith("encoder.")}, f"{path} (encoder)")
        except (KeyError, TypeError, ValueError, IndexError, RuntimeError, AttributeError, AdkitError) as e:
            if isinstance(e, AdkitError):
                text = str(e)
                raise (e if text.startswith(str(path)) else ModelFileError(f"{path}: {text}")) from None
            text = " ".join(str(e).split())[:300]
            raise ModelFileError(f"{path}: model file is incomplete or inconsistent ({type(e).__name__}: {text})") \
                from None
        return cls(det, spec, scaler, manifest.get("mapping"), thresholds,
                   manifest.get("provenance", {}), manifest.get("metrics", {}), encoder, ranges)


def save_detector(detector, path: str | Path, overwrite: bool = False) -> Path:
    """``adkit.save``: a detector fitted on a plain array as a model file (inputs named x0, x1, ...,
    no preprocessing), so that ``adkit.load``, ``adkit score`` and ``adkit show`` take it."""
    from adkit.features.preprocess import Standardizer
    from adkit.io import InputSpec

    n = getattr(detector, "n_features_in_", None)
    if not n:
        raise AdkitError(f"detector {detector.name!r} is not fitted on an array; fit(X) it first")
    scaler = Standardizer()
    scaler.mean_, scaler.scale_ = np.zeros(n, np.float32), np.ones(n, np.float32)
    spec = InputSpec(table_columns=[f"x{i}" for i in range(n)])
    provenance = {"arrays": True, "events": int(len(getattr(detector, "decision_scores_", ()))),
                  "versions": versions()}
    return Model(detector, spec, scaler, None, [], provenance, {},
                 ranges=getattr(detector, "input_ranges_", None)).save(path, overwrite)


def load_detector(path: str | Path):
    """``adkit.load``: the detector of a file written by ``adkit.save`` (any other model file: the Model)."""
    model = Model.load(path)
    return model.detector if model.provenance.get("arrays") else model
