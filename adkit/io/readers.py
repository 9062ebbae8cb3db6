"""The reader interface and the chunk → EventBatch step.

A reader knows one file. It yields raw chunks ``(entry_start, array, weight, entries)`` where
``array`` is the padded object array ``float32[n, rows, 3]`` (collider files) or a
``float32[n, F]`` table (plain HDF5 tables). :func:`make_batch` turns a raw chunk into an
:class:`EventBatch` with the requested features, conditions and NaN policy.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import numpy as np

from adkit.errors import ConfigError, InputError
from adkit.io.batch import EventBatch
from adkit.io.schema import FeatureSet

NAN_POLICIES = ("reject", "drop", "zero")
DEFAULT_STEP = 100_000

#: The first bytes of every HDF5 file.
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"

RawChunk = tuple[int, np.ndarray, "np.ndarray | None", "np.ndarray | None"]


class Reader(Protocol):
    path: str
    kind: str  # "objects" or "table"
    columns: list[str]  # table readers: column names; object readers: schema raw names

    def num_entries(self) -> int: ...
    def chunks(self, step: int, entry_start: int = 0, entry_stop: int | None = None) -> Iterator[RawChunk]: ...
    def describe(self) -> dict: ...


def is_hdf5(path: str | Path) -> bool:
    """Whether the file starts with the HDF5 signature (False if it cannot be read)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(8) == HDF5_SIGNATURE
    except OSError:
        return False


def make_batch(raw: RawChunk, source: str, reader_kind: str, features: FeatureSet | None,
               conditions: FeatureSet | None, table_columns: list[int] | None,
               nan_policy: str = "reject", table_conditions: list[int] | None = None) -> EventBatch:
    """Raw chunk → EventBatch: compute features/conditions, apply the NaN policy."""
    entry_start, arr, weight, entries = raw
    if reader_kind == "table":
        feats = arr if table_columns is None else arr[:, table_columns]
        cond = None if table_conditions is None else arr[:, table_conditions]
    else:
        feats = (features or FeatureSet()).compute(arr)
        cond = conditions.compute(arr) if conditions is not None else None
    # a NaN/inf anywhere makes the sum non-finite; the per-event mask is computed only when that one
    # fast reduction says something may be wrong (a float32 sum of large finite values can overflow:
    # then the mask finds nothing bad, and the chunk goes on)
    arrays = [a for a in (feats, cond, weight) if a is not None]
    nbad = 0
    with np.errstate(over="ignore", invalid="ignore"):
        suspect = not all(np.isfinite(a.sum()) for a in arrays)
    if suspect:
        bad = np.zeros(len(feats), dtype=bool)
        for a in arrays:
            bad |= ~np.isfinite(a.reshape(len(a), -1)).all(axis=1)
        nbad = int(bad.sum())
    if nbad:
        if nan_policy == "reject":
            first = int((entries if entries is not None else entry_start + np.arange(len(bad)))[bad][0])
            raise InputError(f"{source}: {nbad} event(s) with NaN/inf inputs in this chunk (first at entry "
                             f"{first}); use --nan-policy drop (skip them) or zero (set them to 0)")
        if nan_policy == "zero":
            feats = np.nan_to_num(feats, nan=0.0, posinf=0.0, neginf=0.0)
            cond = None if cond is None else np.nan_to_num(cond, nan=0.0, posinf=0.0, neginf=0.0)
            weight = None if weight is None else np.nan_to_num(weight, nan=0.0, posinf=0.0, neginf=0.0)
        elif nan_policy == "drop":
            keep = ~bad
            if entries is None:
                entries = entry_start + np.arange(len(keep), dtype=np.int64)
            feats, entries = feats[keep], entries[keep]
            cond = None if cond is None else cond[keep]
            weight = None if weight is None else weight[keep]
        else:
            raise ConfigError(f"unknown --nan-policy {nan_policy!r}; valid: {', '.join(NAN_POLICIES)}")
    return EventBatch(np.ascontiguousarray(feats, dtype=np.float32),
                      None if cond is None else np.ascontiguousarray(cond, dtype=np.float32),
                      weight, source, int(entry_start), entries)
