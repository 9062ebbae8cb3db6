"""ROOT (TTree, RNTuple) and Parquet readers: jagged object columns → padded schema array.

Both go through awkward arrays and share :func:`pad_objects`, which scatters the flat
content of each jagged branch into a preallocated ``float32[n, rows, 3]`` array (one numpy
pass per branch), so the reader stays as fast as a bare ``uproot.iterate`` + pad loop.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from adkit.errors import InputError, closest
from adkit.io.mapping import DEFAULT_TREES, PRESETS, UNITS, Mapping, ObjectMap, evaluate_cut, preset_for
from adkit.io.readers import RawChunk
from adkit.io.schema import FIELDS, ObjectSchema


def root_damage() -> tuple[type[BaseException], ...]:
    """The errors uproot and the decompressors under it raise for a damaged or truncated ROOT file
    (measured by corrupting real NanoAOD files: OSError, ValueError, zlib.error, uproot's
    DeserializationError and KeyInFileError, struct.error; cramjam's for LZ4/ZSTD). Anything else
    is a bug and shows as one."""
    import lzma
    import struct
    import zlib

    from uproot.deserialization import DeserializationError

    errors: tuple[type[BaseException], ...] = (OSError, ValueError, KeyError, IndexError, EOFError, struct.error,
                                               zlib.error, lzma.LZMAError, DeserializationError)
    try:
        import cramjam
    except ImportError:
        return errors
    return (*errors, cramjam.DecompressionError)


def damage_text(e: BaseException) -> str:
    """The error of a damaged file in a few words: its kind (``zlib.error``, not a bare ``error``) and first line."""
    kind = type(e).__name__ if type(e).__name__ != "error" else f"{type(e).__module__}.error"
    first = str(e).splitlines()[0][:160] if str(e).strip() else ""
    return f"{kind}: {first}" if first else kind


def _numeric(content, branch: str, source: str) -> np.ndarray:
    """The values of a branch as a real numeric array, or a one-line error (text, complex, nulls)."""
    try:
        arr = np.asarray(content)
    except (ValueError, TypeError) as e:
        raise InputError(f"{source}: branch {branch!r} cannot be read as numbers ({type(e).__name__}: "
                         f"{' '.join(str(e).split())[:120]}); it may hold missing (null) values") from None
    if arr.dtype.kind not in "fiub":
        what = "complex numbers" if arr.dtype.kind == "c" else f"values of type {arr.dtype}"
        raise InputError(f"{source}: branch {branch!r} holds {what}, not real numbers; map a numeric branch "
                         "with --mapping")
    return arr


def _content_and_counts(col, branch: str, source: str) -> tuple[np.ndarray, np.ndarray | None]:
    """(flat content, counts per event) of a jagged column; (values, None) of a flat one."""
    import awkward as ak

    try:
        if isinstance(col, np.ndarray) or col.ndim == 1:
            if not isinstance(col, np.ndarray) and ak.is_none(col, axis=0).to_numpy().any():
                raise ValueError("missing (null) values")
            return _numeric(col, branch, source), None
        if col.ndim > 2:
            raise InputError(f"{source}: branch {branch!r} is nested {col.ndim} levels deep; adkit reads one value "
                             "or one list of values per event")
        counts = ak.to_numpy(ak.num(col, axis=1))
        content = ak.to_numpy(ak.flatten(col, axis=1))
    except InputError:
        raise
    except (ValueError, TypeError) as e:
        raise InputError(f"{source}: branch {branch!r} cannot be read as numbers ({type(e).__name__}: "
                         f"{' '.join(str(e).split())[:120]})") from None
    return _numeric(content, branch, source), counts


def pad_objects(get, n: int, mapping: Mapping, schema: ObjectSchema, source: str = "input") -> np.ndarray:
    """Fill the padded object array from columns; ``get(branch)`` returns an awkward/numpy column.

    The pT, eta and phi branches of an object must agree event by event (the same counts); a
    per-event object such as MET may be a plain branch or a list of at most one value per event.
    """
    out = np.zeros((n, schema.n_rows, len(FIELDS)), dtype=np.float32)
    for obj, k in schema.multiplicities.items():
        om: ObjectMap | None = mapping.objects.get(obj)
        if om is None or k == 0:
            continue
        row0 = schema.rows(obj).start
        pt, counts = _content_and_counts(get(om.pt), om.pt, source)
        cols = [pt]
        for b in (om.eta, om.phi):
            if not b:
                cols.append(None)
                continue
            c, c_counts = _content_and_counts(get(b), b, source)
            if (c_counts is None) != (counts is None) or len(c) != len(pt) or (
                    counts is not None and not np.array_equal(c_counts, counts)):
                raise InputError(f"{source}: branches {om.pt!r} and {b!r} disagree on the number of {obj} entries "
                                 "per event; map branches of the same collection")
            cols.append(c)
        if counts is None:  # one value per event (NanoAOD MET_pt)
            rows, local = np.arange(n), np.zeros(n, dtype=np.int64)
        else:
            if obj == "met" and counts.max(initial=0) > 1:
                raise InputError(f"{source}: the MET branch {om.pt!r} has {int(counts.max())} values in some events; "
                                 "MET is one value per event: map a per-event branch (e.g. MET_pt)")
            rows = np.repeat(np.arange(len(counts)), counts)
            local = np.arange(len(pt)) - np.repeat(np.cumsum(counts) - counts, counts)
        keep = local < k if (om.min_pt == 0 and om.max_abs_eta is None) else None
        if keep is None:  # object selection: drop objects first, then re-number within each event
            keep = pt > om.min_pt
            if om.max_abs_eta is not None and cols[1] is not None:
                keep &= np.abs(cols[1]) < om.max_abs_eta
            rows = rows[keep]
            cols = [None if c is None else c[keep] for c in cols]
            starts = np.searchsorted(rows, np.arange(n))
            local = np.arange(len(rows)) - starts[rows]
            keep = local < k
        r, s = rows[keep], row0 + local[keep]
        for f, c in enumerate(cols):
            if c is not None:
                out[r, s, f] = c[keep] * UNITS[om.unit or "GeV"] if f == 0 else c[keep]
    if mapping.met_from == "objects":
        _rebuild_met(out, schema)
    return out


def _rebuild_met(out: np.ndarray, schema: ObjectSchema) -> None:
    """MET row := the negative vector sum of the kept objects' transverse momenta (PHYSLITE has no
    final MET; ATLAS rebuilds it with METMaker, which also adds a soft term this cannot see)."""
    rest = out[:, schema.rows("met").stop:].astype(np.float64)
    px = -(rest[:, :, 0] * np.cos(rest[:, :, 2])).sum(axis=1)
    py = -(rest[:, :, 0] * np.sin(rest[:, :, 2])).sum(axis=1)
    met = schema.rows("met").start
    out[:, met, 0] = np.hypot(px, py)
    out[:, met, 1] = 0.0
    out[:, met, 2] = np.where(out[:, met, 0] > 0, np.arctan2(py, px), 0.0)


def _check_branches(path: str, available: list[str], needed: list[str], what: str) -> None:
    missing = [b for b in needed if b not in available]
    if missing:
        raise InputError(f"{path}: {what} has no branch {missing[0]!r} (nearest: "
                         f"{closest(missing[0], available, 4)}); give the branch names with --mapping")


def _columns_needed(mapping: Mapping) -> list[str]:
    names = [b for om in mapping.objects.values() for b in om.branches()]
    names += mapping.cut_branches() + ([mapping.weight] if mapping.weight else [])
    return list(dict.fromkeys(names))


def _per_event(arrays, branch: str, source: str) -> np.ndarray:
    values, counts = _content_and_counts(arrays[branch], branch, source)
    if counts is not None:
        raise InputError(f"{source}: branch {branch!r} is jagged (a list per event); the weight and cut branches "
                         "must hold one number per event")
    return values


def _chunk(arrays, entry_start: int, mapping: Mapping, schema: ObjectSchema, source: str) -> RawChunk:
    n = len(arrays)
    get = arrays.__getitem__
    objects = pad_objects(get, n, mapping, schema, source)
    weight = _per_event(arrays, mapping.weight, source).astype(np.float32) if mapping.weight else None
    entries = None
    if mapping.cut:
        cols = {b.replace(".", "_"): _per_event(arrays, b, source) for b in mapping.cut_branches()}
        mask = evaluate_cut(mapping.cut, cols, f"{source}: mapping")
        objects = objects[mask]
        weight = None if weight is None else weight[mask]
        entries = entry_start + np.flatnonzero(mask).astype(np.int64)
    return entry_start, objects, weight, entries


class RootReader:
    """A TTree or RNTuple in a ROOT file (NanoAOD, NanoAOD-like flat trees, Delphes)."""

    kind = "objects"

    def __init__(self, path: str | Path, mapping: Mapping | None = None) -> None:
        import uproot

        self.path = str(path)
        mapping = mapping or Mapping()
        try:
            self._file = uproot.open(self.path)
            classes = self._file.classnames()
        except root_damage() as e:
            raise InputError(f"{self.path}: damaged or truncated ROOT file ({damage_text(e)})") from None
        self.trees = {k.split(";")[0]: c for k, c in classes.items()
                      if c == "TTree" or "RNTuple" in c}
        want = mapping.tree or (PRESETS[mapping.preset]["tree"] if mapping.preset else None) or next(
            (t for t in DEFAULT_TREES if t in self.trees), None)
        if want is None and len(self.trees) == 1:
            want = next(iter(self.trees))
        if want is None or want not in self.trees:
            listing = closest(want or "Events", self.trees) if self.trees else "(none: the file may be damaged)"
            raise InputError(f"{self.path}: no tree {repr(want) if want else ', '.join(DEFAULT_TREES[:-1]) + ' or ' + DEFAULT_TREES[-1]} in the file; trees: {listing}"
                             f"{'; choose one with --tree' if self.trees else ''}")
        try:
            self.tree = self._file[want]
            self.keys = list(self.tree.keys())
            if hasattr(self.tree, "branches"):  # TTree: Delphes branches are also known by short name
                self.keys += [k for k in self.tree.keys(full_paths=False) if k not in self.keys]
        except root_damage() as e:
            raise InputError(f"{self.path}: tree {want!r} cannot be read, the file is damaged ({damage_text(e)})") \
                from None
        self.tree_name = want
        self.mapping = mapping.resolved(preset_for(self.keys, list(self.trees)))
        self.schema = self.mapping.schema()
        self.columns = self.schema.raw_names()

    def num_entries(self) -> int:
        return int(self.tree.num_entries)

    def _validate(self) -> list[str]:
        needed = _columns_needed(self.mapping)
        _check_branches(self.path, self.keys, needed, f"tree {self.tree_name!r}")
        return needed

    def chunks(self, step: int, entry_start: int = 0, entry_stop: int | None = None) -> Iterator[RawChunk]:
        needed = self._validate()
        it = iter(self.tree.iterate(filter_name=needed, step_size=int(step), library="ak", entry_start=entry_start,
                                    entry_stop=entry_stop))
        start = entry_start
        while True:
            try:  # only the decompression/deserialisation is guarded: a bug in our own code stays a bug
                arrays = next(it)
            except StopIteration:
                return
            except root_damage() as e:
                raise InputError(f"{self.path}: cannot read tree {self.tree_name!r} near entry {start} "
                                 f"({damage_text(e)}); the file may be truncated or damaged") from None
            yield _chunk(arrays, start, self.mapping, self.schema, self.path)
            start += len(arrays)

    def describe(self) -> dict:
        return {
            "format": "ROOT " + self.trees[self.tree_name].replace("ROOT::", ""),
            "trees": {k: v.replace("ROOT::", "") for k, v in self.trees.items()},
            "tree": self.tree_name, "entries": self.num_entries(), "layout": self.mapping.preset,
            "objects": _object_status(self.mapping, self.keys),
        }


class ParquetReader:
    """A Parquet file with NanoAOD-style columns (as written by coffea / awkward)."""

    kind = "objects"

    def __init__(self, path: str | Path, mapping: Mapping | None = None) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.path = str(path)
        try:
            self._pf = pq.ParquetFile(self.path)
        except (OSError, ValueError, pa.ArrowException) as e:  # pyarrow's errors for a damaged file
            raise InputError(f"{self.path}: damaged Parquet file ({type(e).__name__})") from None
        self.keys = list(self._pf.schema_arrow.names)
        self.mapping = (mapping or Mapping()).resolved(preset_for(self.keys, []))
        self.schema = self.mapping.schema()
        self.columns = self.schema.raw_names()

    def num_entries(self) -> int:
        return int(self._pf.metadata.num_rows)

    def chunks(self, step: int, entry_start: int = 0, entry_stop: int | None = None) -> Iterator[RawChunk]:
        import awkward as ak

        needed = _columns_needed(self.mapping)
        _check_branches(self.path, self.keys, needed, "Parquet file")
        stop = self.num_entries() if entry_stop is None else entry_stop
        start = 0
        for rb in self._pf.iter_batches(batch_size=int(step), columns=needed):
            lo, hi = max(entry_start - start, 0), min(stop - start, len(rb))
            if lo < hi:
                yield _chunk(ak.from_arrow(rb.slice(lo, hi - lo)), start + lo, self.mapping, self.schema,
                             self.path)
            start += len(rb)
            if start >= stop:
                return

    def describe(self) -> dict:
        return {"format": "Parquet", "trees": {}, "tree": None, "entries": self.num_entries(),
                "layout": self.mapping.preset, "objects": _object_status(self.mapping, self.keys)}


def _object_status(mapping: Mapping, keys: list[str]) -> dict:
    status = {}
    if mapping.met_from == "objects":
        status["met"] = {"branches": [], "missing": [], "max": 1, "unit": "GeV",
                         "rebuilt": "negative vector sum of the kept objects (no soft term)"}
    for obj, om in mapping.objects.items():
        missing = [b for b in om.branches() if b not in keys]
        status[obj] = {"branches": om.branches(), "missing": missing,
                       "max": mapping.schema().multiplicities.get(obj, 0), "unit": om.unit}
    return status
