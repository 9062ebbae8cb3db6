"""The ``.adkit`` model file: a zip of ``manifest.json`` and ``tensors.safetensors``.

No pickle anywhere: arrays go through safetensors, everything else is JSON. The manifest
carries a format version; loading refuses unknown versions and foreign or damaged files
with a message that names the file.
"""
from __future__ import annotations

import hashlib
import json
import platform
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import adkit
from adkit.errors import ModelFileError
from adkit.io.writers import atomic_output

FORMAT = "adkit-model"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
TENSORS = "tensors.safetensors"


def write_bundle(path: str | Path, manifest: dict, tensors: dict[str, np.ndarray], overwrite: bool = False) -> Path:
    """Write manifest + tensors as one zip, atomically."""
    from safetensors.numpy import save

    blob = save({k: np.ascontiguousarray(v) for k, v in tensors.items()})
    with atomic_output(path, overwrite) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
            z.writestr(MANIFEST, json.dumps(manifest, indent=2, sort_keys=True, default=_json_default))
            z.writestr(TENSORS, blob)
    return Path(path)


def read_bundle(path: str | Path, kind: str = FORMAT) -> tuple[dict, dict[str, np.ndarray]]:
    """Read and validate a bundle written by :func:`write_bundle`."""
    from safetensors.numpy import load

    p = Path(path)
    if not p.exists():
        raise ModelFileError(f"{p}: model file not found (train one with `adkit train`, or pass --model)")
    if p.is_dir():
        raise ModelFileError(f"{p}: is a directory, not a model file")
    try:
        with zipfile.ZipFile(p) as z:
            names = z.namelist()
            if MANIFEST not in names:
                raise ModelFileError(f"{p}: not an adkit model file (no {MANIFEST} inside)")
            manifest = json.loads(z.read(MANIFEST))
            blob = z.read(TENSORS) if TENSORS in names else None
    except zipfile.BadZipFile:
        raise ModelFileError(f"{p}: not an adkit model file, or it is truncated/corrupted (not a valid zip)") from None
    except (zipfile.LargeZipFile, OSError, EOFError, ValueError) as e:
        if isinstance(e, ModelFileError):
            raise
        raise ModelFileError(f"{p}: corrupted model file ({type(e).__name__}: {e})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != kind:
        raise ModelFileError(f"{p}: not an {kind} file (manifest format is {manifest.get('format')!r})"
                             if isinstance(manifest, dict) else f"{p}: manifest is not a JSON object")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFileError(f"{p}: format version {version!r} is not supported by adkit {adkit.__version__} "
                             f"(it reads version {FORMAT_VERSION}); upgrade adkit or re-train the model")
    if blob is None:
        raise ModelFileError(f"{p}: model file has no {TENSORS}; it is incomplete")
    try:
        tensors = load(blob)
    except Exception as e:  # safetensors raises its own error types
        raise ModelFileError(f"{p}: tensor block is corrupted ({type(e).__name__})") from None
    return manifest, tensors


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def file_record(path: str | Path) -> dict:
    """Provenance of an input file: path, size, sha256 (of the whole file)."""
    p = Path(path)
    h = hashlib.sha256()
    with open(p, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return {"path": str(p), "size": p.stat().st_size, "sha256": h.hexdigest()}


def versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"adkit": adkit.__version__, "python": platform.python_version()}
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

    @property
    def n_features(self) -> int:
        return len(self.spec.columns)

    def encode(self, X: np.ndarray) -> np.ndarray:
        """Latent coordinates of raw input events (this model must be an encoder, e.g. an AE)."""
        if not hasattr(self.detector, "encode"):
            raise ModelFileError(f"a {self.detector.name!r} model has no encoder; train an AE "
                                 "(adkit train --model ae --param latent_dim=8) to encode with")
        if X.shape[1] != self.n_features:
            raise ModelFileError(f"the model expects {self.n_features} features, the input has {X.shape[1]}")
        return np.asarray(self.detector.encode(self.scaler.transform(X)), dtype=np.float32)

    def score_components(self, X: np.ndarray, condition: np.ndarray | None = None) -> dict[str, np.ndarray]:
        if X.shape[1] != self.n_features:
            raise ModelFileError(f"the model expects {self.n_features} features, the input has {X.shape[1]}")
        if self.encoder is not None:
            X = self.encoder.encode(X)
        return self.detector.score_components(self.scaler.transform(X), condition)

    def score(self, X: np.ndarray, condition: np.ndarray | None = None) -> np.ndarray:
        return self.score_components(X, condition)["score"]

    def manifest(self) -> dict:
        config, _ = self.detector.state()
        return {
            "format": FORMAT, "format_version": FORMAT_VERSION, "adkit_version": adkit.__version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "detector": {"name": self.detector.name, "config": config},
            "input": self.spec.to_dict(), "mapping": self.mapping,
            "preprocessing": {"kind": self.scaler.kind,
                              "tensors": [f"preprocessing.{k}" for k in self.scaler.state()]},
            "thresholds": [t.to_dict() for t in self.thresholds],
            "provenance": self.provenance, "metrics": self.metrics,
            "encoder": None if self.encoder is None else self.encoder.manifest(),
        }

    def tensors(self) -> dict[str, np.ndarray]:
        _, det_tensors = self.detector.state()
        tensors = {f"detector.{k}": v for k, v in det_tensors.items()}
        tensors.update({f"preprocessing.{k}": v for k, v in self.scaler.state().items()})
        if self.encoder is not None:
            tensors.update({f"encoder.{k}": v for k, v in self.encoder.tensors().items()})
        return tensors

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        return write_bundle(path, self.manifest(), self.tensors(), overwrite)

    @classmethod
    def load(cls, path: str | Path) -> Model:
        manifest, tensors = read_bundle(path)
        return cls.from_manifest(manifest, tensors, path)

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
            encoder = None
            if manifest.get("encoder"):
                encoder = cls.from_manifest(manifest["encoder"], {k[8:]: v for k, v in tensors.items()
                                                                  if k.startswith("encoder.")}, f"{path} (encoder)")
        except (KeyError, TypeError, ValueError) as e:
            if isinstance(e, ModelFileError):
                raise
            raise ModelFileError(f"{path}: model file is incomplete or inconsistent ({type(e).__name__}: {e})") from None
        return cls(det, spec, scaler, manifest.get("mapping"), thresholds,
                   manifest.get("provenance", {}), manifest.get("metrics", {}), encoder)
