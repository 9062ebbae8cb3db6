"""Event readers: ROOT (TTree, RNTuple), Parquet and HDF5 → chunked :class:`EventBatch` es.

``open_events(paths)`` is the one entry point: it sniffs each file's format, picks the
reader, maps branches onto the collider schema (NanoAOD or Delphes presets, or a user
:class:`Mapping`) and yields batches of at most ``step`` events, so memory is bounded by the
chunk size, never by the file size.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from adkit.errors import InputError
from adkit.io.batch import EventBatch
from adkit.io.inputs import sniff
from adkit.io.mapping import Mapping, ObjectMap
from adkit.io.readers import DEFAULT_STEP, NAN_POLICIES, Reader, make_batch
from adkit.io.schema import FeatureSet

__all__ = ["DEFAULT_STEP", "NAN_POLICIES", "EventBatch", "InputSpec", "Mapping", "ObjectMap",
           "open_events", "open_reader", "inspect_file", "load_arrays", "sniff"]


def _root(path: str | Path, mapping: Mapping | None) -> Reader:
    from adkit.io.columnar import RootReader

    return RootReader(path, mapping)


def _parquet(path: str | Path, mapping: Mapping | None) -> Reader:
    from adkit.io.columnar import ParquetReader

    return ParquetReader(path, mapping)


def _hdf5(path: str | Path, mapping: Mapping | None) -> Reader:
    from adkit.io.hdf5 import HDF5Reader

    reader = HDF5Reader(path, mapping)
    reader.check_classes()
    return reader


#: The event reader of each format :func:`sniff` names (libraries load on first use).
READERS: dict[str, Callable[[str | Path, Mapping | None], Reader]] = {"root": _root, "parquet": _parquet,
                                                                      "hdf5": _hdf5}


def open_reader(path: str | Path, mapping: Mapping | None = None) -> Reader:
    """The reader for one file, chosen by its first bytes."""
    return READERS[sniff(path)](path, mapping)


class InputSpec:
    """What a detector was trained on: collider features (+ conditions) or table columns.

    Stored in the model file, so scoring reads new files exactly as the training files were read.
    """

    def __init__(self, features: FeatureSet | None = None, conditions: FeatureSet | None = None,
                 table_columns: list[str] | None = None, table_conditions: list[str] | None = None,
                 mapping: Mapping | None = None) -> None:
        self.features = features
        self.conditions = conditions
        self.table_columns = table_columns
        self.table_conditions = table_conditions or None
        #: How files are read (tree, branches, objects, cut, units): not stored with the spec, the
        #: model file keeps its mapping apart (``Model.input_spec()`` puts them back together).
        self.mapping = mapping

    def with_mapping(self, mapping: Mapping | None) -> InputSpec:
        """The same spec, reading files with ``mapping``."""
        import copy

        out = copy.copy(self)
        out.mapping = mapping
        return out

    @property
    def condition_names(self) -> list[str]:
        """Names of the condition columns (empty when the detector takes none)."""
        if self.kind == "table":
            return list(self.table_conditions or [])
        return [] if self.conditions is None else self.conditions.columns

    @property
    def kind(self) -> str:
        return "table" if self.table_columns is not None else "objects"

    @property
    def columns(self) -> list[str]:
        return list(self.table_columns) if self.table_columns is not None else (self.features or FeatureSet()).columns

    def to_dict(self) -> dict:
        return {"kind": self.kind, "columns": self.columns,
                "features": None if self.features is None else self.features.to_dict(),
                "conditions": None if self.conditions is None else self.conditions.to_dict(),
                "table_conditions": self.table_conditions}

    @classmethod
    def from_dict(cls, d: dict) -> InputSpec:
        if d["kind"] == "series":
            from adkit.io.series import SeriesSpec

            return SeriesSpec.from_dict(d)
        if d["kind"] == "table":
            return cls(table_columns=list(d["columns"]), table_conditions=d.get("table_conditions"))
        return cls(FeatureSet.from_dict(d["features"]) if d.get("features") else None,
                   FeatureSet.from_dict(d["conditions"]) if d.get("conditions") else None)


def _table_index(reader: Reader, spec: InputSpec) -> tuple[list[int] | None, list[int] | None]:
    if reader.kind != spec.kind:
        want = f"a table with {len(spec.columns)} columns" if spec.kind == "table" else \
            f"collider events ({len(spec.columns)} features)"
        got = f"a table with {len(reader.columns)} columns" if reader.kind == "table" else "collider events"
        raise InputError(f"{reader.path}: holds {got}, but the model expects {want}")
    if reader.kind != "table":
        return None, None
    wanted = list(spec.table_columns) + list(spec.table_conditions or [])
    missing = [c for c in wanted if c not in reader.columns]
    if missing:
        raise InputError(f"{reader.path}: table has no column(s) {missing[:3]}; it has {', '.join(reader.columns[:12])}")
    cond = [reader.columns.index(c) for c in spec.table_conditions] if spec.table_conditions else None
    feats = None if spec.table_columns == reader.columns else [reader.columns.index(c) for c in spec.table_columns]
    return feats, cond


def open_events(paths: str | Path | Sequence[str | Path], spec: InputSpec | None = None, *,
                mapping: Mapping | None = None, step: int = DEFAULT_STEP,
                nan_policy: str = "reject") -> Iterator[EventBatch]:
    """Yield :class:`EventBatch` es of at most ``step`` events from each file in turn.

    ``spec`` says which features to compute (default: the 57 raw collider inputs; for a
    table file, all its columns). An empty file raises :class:`InputError` ("no events").
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    if nan_policy not in NAN_POLICIES:
        from adkit.errors import ConfigError

        raise ConfigError(f"unknown --nan-policy {nan_policy!r}; valid: {', '.join(NAN_POLICIES)}")
    from adkit.files import check_distinct

    check_distinct(paths)
    for path in paths:
        reader = open_reader(path, mapping)
        yield from reader_batches(reader, spec, step=step, nan_policy=nan_policy)


def reader_batches(reader: Reader, spec: InputSpec | None, *, step: int = DEFAULT_STEP,
                   nan_policy: str = "reject", entry_start: int = 0,
                   entry_stop: int | None = None) -> Iterator[EventBatch]:
    """Batches of one opened file, optionally of the entries [entry_start, entry_stop) only
    (the unit a dask task runs)."""
    if spec is None:
        spec = InputSpec(table_columns=reader.columns) if reader.kind == "table" else InputSpec()
    index, cond_index = _table_index(reader, spec)
    if reader.num_entries() == 0:
        raise InputError(f"{reader.path}: no events (the tree/dataset is empty)")
    kept = 0
    for raw in reader.chunks(step, entry_start, entry_stop):
        batch = make_batch(raw, reader.path, reader.kind, spec.features, spec.conditions, index, nan_policy,
                           table_conditions=cond_index)
        kept += len(batch)
        yield batch
    cut = getattr(getattr(reader, "mapping", None), "cut", None)
    if kept == 0 and cut and entry_start == 0 and entry_stop is None:
        raise InputError(f"{reader.path}: the mapping cut {cut!r} keeps none of the {reader.num_entries()} events; "
                         "loosen the cut")


def inspect_file(path: str | Path, mapping: Mapping | None = None) -> dict:
    """What a file is: format, trees/datasets, entries, and which schema objects it maps."""
    p = Path(path)
    reader = open_reader(p, mapping)
    info = {"path": str(p), "size": p.stat().st_size, **reader.describe()}
    objects = info.get("objects")
    if objects and all(s["missing"] for s in objects.values() if s.get("branches")):
        _nothing_maps(info, reader)
    return info


def _nothing_maps(info: dict, reader) -> None:
    """A file whose branches no preset maps: one line with the nearest branches and a suggestion."""
    import yaml

    from adkit.errors import closest
    from adkit.io.mapping import suggest_mapping

    keys = list(getattr(reader, "keys", []))
    first = next(s["missing"][0] for s in info["objects"].values() if s.get("missing"))
    guess = suggest_mapping(keys, info.get("tree"))
    hint = (f"; a mapping that may fit (check it, save as YAML, pass --mapping): "
            f"{yaml.safe_dump(guess, default_flow_style=True, sort_keys=False).strip()}" if guess.get("objects")
            else "; write a mapping (docs/readers.md) and pass --mapping")
    raise InputError(f"{info['path']}: no schema object maps with the {info['layout']} preset (no branch "
                     f"{first!r}; nearest: {closest(first, keys, 4) if keys else 'none'}){hint}")


def load_arrays(paths: Sequence[str | Path], spec: InputSpec | None, mapping: Mapping | None = None,
                step: int = DEFAULT_STEP, nan_policy: str = "reject"):
    """All events of ``paths`` as (features, condition, weight) arrays (``mapping``: else the spec's)."""
    feats, conds, weights = [], [], []
    if mapping is None and spec is not None:
        mapping = getattr(spec, "mapping", None)
    for batch in open_events(list(paths), spec, mapping=mapping, step=step, nan_policy=nan_policy):
        feats.append(batch.features)
        conds.append(batch.condition)
        weights.append(batch.weight)
    X = np.concatenate(feats) if feats else np.zeros((0, 0), np.float32)
    C = None if not conds or conds[0] is None else np.concatenate(conds)
    W = None if not weights or weights[0] is None else np.concatenate(weights)
    return X, C, W
