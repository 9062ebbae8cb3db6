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
from adkit.errors import AdkitError, ModelFileError
from adkit.io.writers import atomic_output

FORMAT = "adkit-model"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
TENSORS = "tensors.safetensors"


def write_bundle(path: str | Path, manifest: dict, tensors: dict[str, np.ndarray], overwrite: bool = False,
                 updates=None) -> Path:
    """Write manifest + tensors as one zip, atomically (``updates``: the snapshot of the file replaced in place)."""
    from safetensors.numpy import save

    blob = save({k: np.ascontiguousarray(v) for k, v in tensors.items()})
    with atomic_output(path, overwrite, updates=updates, expected_bytes=len(blob)) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
            z.writestr(MANIFEST, json.dumps(manifest, indent=2, sort_keys=True, default=_json_default))
            z.writestr(TENSORS, blob)
    return Path(path)


def _zip_entry(z: zipfile.ZipFile, name: str, limit: int, p: Path) -> bytes:
    """One member of the model zip, refused before reading if it is encrypted, oddly compressed or too big."""
    info = z.getinfo(name)
    if info.flag_bits & 0x1:
        raise ModelFileError(f"{p}: {name} is encrypted; adkit model files are never encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ModelFileError(f"{p}: {name} uses an unsupported compression (method {info.compress_type}); "
                             "adkit writes stored or deflated members only")
    if info.file_size > limit:
        raise ModelFileError(f"{p}: {name} is {info.file_size} bytes uncompressed, over the limit of {limit}")
    with z.open(info) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise ModelFileError(f"{p}: {name} is larger than its zip header says; the file is damaged")
    return data


def read_bundle(path: str | Path, kind: str = FORMAT) -> tuple[dict, dict[str, np.ndarray]]:
    """Read and validate a bundle written by :func:`write_bundle`.

    A model file may come from a stranger: its manifest is validated against one schema with
    size limits, tensors are checked for NaN/inf, and nothing larger than the limits in
    :data:`adkit.validation.LIMITS` is decompressed or allocated.
    """
    from safetensors.numpy import load

    from adkit.io.files import note_input
    from adkit.validation import LIMITS, check_manifest

    p = Path(path)
    if not p.exists():
        raise ModelFileError(f"{p}: model file not found (train one with `adkit train`, or pass --model)")
    if p.is_dir():
        raise ModelFileError(f"{p}: is a directory, not a model file")
    try:
        note_input(p, "model", remember=kind == FORMAT)  # a checkpoint is adkit's own, updated in place
    except AdkitError as e:
        raise ModelFileError(str(e)) from None
    try:
        with zipfile.ZipFile(p) as z:
            names = z.namelist()
            if MANIFEST not in names:
                raise ModelFileError(f"{p}: not an adkit model file (no {MANIFEST} inside)")
            if len(names) > LIMITS["zip_entries"]:
                raise ModelFileError(f"{p}: {len(names)} members in the zip; an adkit model file has two")
            manifest = json.loads(_zip_entry(z, MANIFEST, LIMITS["manifest_bytes"], p))
            blob = _zip_entry(z, TENSORS, LIMITS["tensor_bytes"], p) if TENSORS in names else None
    except zipfile.BadZipFile:
        raise ModelFileError(f"{p}: not an adkit model file, or it is truncated/corrupted (not a valid zip)") from None
    except RecursionError:
        raise ModelFileError(f"{p}: manifest is nested too deeply") from None
    except (zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as e:
        if isinstance(e, ModelFileError):
            raise
        raise ModelFileError(f"{p}: corrupted model file ({type(e).__name__}: {' '.join(str(e).split())[:200]})") \
            from None
    if not isinstance(manifest, dict) or manifest.get("format") != kind:
        raise ModelFileError(f"{p}: not an {kind} file (manifest format is {manifest.get('format')!r})"
                             if isinstance(manifest, dict) else f"{p}: manifest is not a JSON object")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFileError(f"{p}: format version {version!r} is not supported by adkit {adkit.__version__} "
                             f"(it reads version {FORMAT_VERSION}); upgrade adkit or re-train the model")
    if kind == FORMAT:
        check_manifest(manifest, f"{p}: manifest")
    if blob is None:
        raise ModelFileError(f"{p}: model file has no {TENSORS}; it is incomplete")
    try:
        tensors = load(blob)
    except Exception as e:  # safetensors raises its own error types
        raise ModelFileError(f"{p}: tensor block is corrupted ({type(e).__name__})") from None
    for name, t in tensors.items():
        if t.dtype.kind == "f" and not np.isfinite(t).all():
            raise ModelFileError(f"{p}: tensor {name!r} holds NaN or inf values; the model file is damaged")
        if t.dtype.kind not in "fiub":
            raise ModelFileError(f"{p}: tensor {name!r} has unsupported type {t.dtype}")
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
    #: The file this model was loaded from, as it was then (see :meth:`update`).
    source: object = field(default=None, repr=False, compare=False)

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
        from adkit.io.files import Snapshot

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
            s = self.score(X, C)
        except AdkitError as e:
            raise ModelFileError(str(e) if str(e).startswith(str(path)) else f"{path}: {e}") from None
        except Exception as e:  # noqa: BLE001 (any failure here means the file's tensors and config disagree)
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
                   manifest.get("provenance", {}), manifest.get("metrics", {}), encoder)
