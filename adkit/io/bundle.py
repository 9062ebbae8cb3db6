"""The model-file container: one zip with ``manifest.json`` and ``tensors.safetensors``.

Written atomically; read with limits, since a model file may come from a stranger: the
manifest is validated against one schema with size limits, tensors are checked for NaN/inf,
and nothing larger than :data:`adkit.validation.LIMITS` is decompressed or allocated. No
pickle anywhere.
"""
from __future__ import annotations

import json
import zipfile
import zlib
from pathlib import Path

import numpy as np

from adkit.about import __version__
from adkit.errors import AdkitError, ModelFileError
from adkit.files import atomic_output

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


def _member(z: zipfile.ZipFile, name: str, p: Path) -> zipfile.ZipInfo:
    """A member of the model zip, refused before reading if it is encrypted or oddly compressed."""
    info = z.getinfo(name)
    if info.flag_bits & 0x1:
        raise ModelFileError(f"{p}: {name} is encrypted; adkit model files are never encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ModelFileError(f"{p}: {name} uses an unsupported compression (method {info.compress_type}); "
                             "adkit writes stored or deflated members only")
    return info


def _zip_entry(z: zipfile.ZipFile, name: str, limit: int, p: Path) -> bytes:
    """One member of the model zip, refused before reading if it is encrypted, oddly compressed or too big."""
    info = _member(z, name, p)
    if info.file_size > limit:
        raise ModelFileError(f"{p}: {name} is {info.file_size} bytes uncompressed, over the limit of {limit}")
    with z.open(info) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise ModelFileError(f"{p}: {name} is larger than its zip header says; the file is damaged")
    return data


def _declared_tensor_bytes(z: zipfile.ZipFile, limit: int, p: Path) -> int:
    """The bytes the safetensors header says its tensors take, read from the member's first bytes
    (nothing else inflated); refused over ``limit`` or when the header is not a safetensors header."""
    with z.open(_member(z, TENSORS, p)) as fh:
        head = fh.read(8)
        n = int.from_bytes(head, "little") if len(head) == 8 else -1
        if not 2 <= n <= min(limit, 16 << 20):
            raise ModelFileError(f"{p}: tensor block is corrupted (header of {n} bytes)")
        try:
            header = json.loads(fh.read(n))
            ends = [int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"]
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            raise ModelFileError(f"{p}: tensor block is corrupted (unreadable header)") from None
    declared = max(ends, default=0)
    if declared > limit:
        raise ModelFileError(f"{p}: its tensors declare {declared / 2**20:.0f} MiB, over the limit of "
                             f"{limit >> 20} MiB for a model file; not loaded")
    return 8 + n + declared


def read_bundle(path: str | Path, kind: str = FORMAT) -> tuple[dict, dict[str, np.ndarray]]:
    """Read and validate a bundle written by :func:`write_bundle`.

    A model file may come from a stranger: its manifest is validated against one schema with
    size limits, tensors are checked for NaN/inf, and nothing larger than the limits in
    :data:`adkit.validation.LIMITS` is decompressed or allocated.
    """
    from safetensors.numpy import load

    from adkit.files import note_input
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
            blob = None
            if TENSORS in names:
                size = _declared_tensor_bytes(z, LIMITS["tensor_bytes"], p)  # before anything is inflated
                blob = _zip_entry(z, TENSORS, size, p)
    except zipfile.BadZipFile:
        raise ModelFileError(f"{p}: not an adkit model file, or it is truncated/corrupted (not a valid zip)") from None
    except RecursionError:
        raise ModelFileError(f"{p}: manifest is nested too deeply") from None
    except (zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError, zlib.error) as e:
        if isinstance(e, ModelFileError):
            raise
        raise ModelFileError(f"{p}: corrupted model file ({type(e).__name__}: {' '.join(str(e).split())[:200]})") \
            from None
    if not isinstance(manifest, dict) or manifest.get("format") != kind:
        raise ModelFileError(f"{p}: not an {kind} file (manifest format is {manifest.get('format')!r})"
                             if isinstance(manifest, dict) else f"{p}: manifest is not a JSON object")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFileError(f"{p}: format version {version!r} is not supported by adkit {__version__} "
                             f"(it reads version {FORMAT_VERSION}); upgrade adkit or re-train the model")
    if kind == FORMAT:
        check_manifest(manifest, f"{p}: manifest")
    if blob is None:
        raise ModelFileError(f"{p}: model file has no {TENSORS}; it is incomplete")
    from safetensors import SafetensorError

    try:
        tensors = load(blob)
    except (SafetensorError, ValueError) as e:
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
