"""HDF5 readers: the ADC2021 ``Particles`` layout and plain 2-D tables, read in slices."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from adkit.errors import InputError, closest
from adkit.io.mapping import Mapping
from adkit.io.readers import RawChunk, is_hdf5
from adkit.io.schema import CLASS_CODES, DEFAULT_MULTIPLICITIES, FIELDS
from adkit.validation import LIMITS

ADC_ROWS = sum(DEFAULT_MULTIPLICITIES.values())  # 19


#: Objects and links :func:`linked_files` walks in one file before it gives up (a hostile file could hold millions).
MAX_WALK = 100_000
#: How deep files reached through other files are followed.
MAX_LINK_DEPTH = 8


def _candidates(name: str, owner: Path, env: str) -> list[Path]:
    """Where HDF5 may look for a file named in ``owner``: as given, beside ``owner``, under the prefix
    of the environment variable ``env``. Every one that exists is an input (noting too many is safe)."""
    name = name.replace("%b", owner.stem).replace("%%", "%") if env == "HDF5_VDS_PREFIX" else name
    if os.path.isabs(name):
        return [Path(name)]
    out = [Path(name), owner.parent / name]
    for prefix in (os.environ.get(env) or "").split(os.pathsep):
        if prefix:
            out.append(Path(prefix.replace("${ORIGIN}", str(owner.parent))) / name)
    return out


def _links_of(path: Path) -> list[tuple[str, str, str]]:
    """(kind, file name, environment prefix variable) of every file ``path`` names: virtual dataset
    sources, external raw storage, external links. Nothing is read through them."""
    import h5py

    found: list[tuple[str, str, str]] = []
    seen: set = set()
    count = 0
    with h5py.File(path, "r") as h5:
        stack = [h5]
        while stack:
            group = stack.pop()
            for name in group:
                count += 1
                if count > MAX_WALK:
                    raise InputError(f"{path}: holds more than {MAX_WALK} HDF5 objects and links; adkit reads "
                                     "files of tables, not archives: split it")
                link = group.get(name, getlink=True)
                if isinstance(link, h5py.ExternalLink):
                    found.append(("external link", link.filename, "HDF5_EXT_PREFIX"))
                    continue
                if isinstance(link, h5py.SoftLink):
                    continue  # its target is walked where it lives
                obj = group[name]
                if obj.id in seen:
                    continue
                seen.add(obj.id)
                if isinstance(obj, h5py.Group):
                    stack.append(obj)
                elif isinstance(obj, h5py.Dataset):
                    if obj.is_virtual:
                        found += [("virtual dataset source", src.file_name, "HDF5_VDS_PREFIX")
                                  for src in obj.virtual_sources() if src.file_name != "."]
                    found += [("external raw storage", ext[0].decode() if isinstance(ext[0], bytes) else ext[0],
                               "HDF5_EXTFILE_PREFIX") for ext in obj.external or ()]
    return found


def linked_files(path: str | Path, depth: int = 0, visited: set[str] | None = None) -> None:
    """Note every file an HDF5 file reads through as an input, following files that link further.

    So no output may replace one, and a FIFO or a device behind a link is refused like a direct
    one. A virtual dataset whose source file is missing is refused: HDF5 would silently read its
    fill value (zeros) instead of the data.
    """
    from adkit.files import note_input

    p = Path(path)
    visited = set() if visited is None else visited
    visited.add(os.path.realpath(p))
    try:
        links = _links_of(p)
    except OSError:
        return  # the reader reports a damaged file in its own words
    for kind, name, env in links:
        found = [c for c in _candidates(name, p, env) if os.path.lexists(c) and not os.path.isdir(c)]
        if not found and kind == "virtual dataset source":
            raise InputError(f"{p}: its virtual dataset reads {name}, which does not exist (HDF5 would read zeros "
                             "in its place); put the source file back or give the data directly")
        for c in found:
            note_input(c, kind, via=p)
            real = os.path.realpath(c)
            if real in visited:
                continue
            if depth + 1 >= MAX_LINK_DEPTH:
                raise InputError(f"{p}: reads through more than {MAX_LINK_DEPTH} files linked one to the next; "
                                 "give the data directly")
            visited.add(real)
            if is_hdf5(c):
                linked_files(c, depth + 1, visited)


def check_chunks(path: str | Path, ds) -> None:
    """Refuse a dataset whose one HDF5 chunk (read, and inflated, whole) is over ``LIMITS["chunk_bytes"]``."""
    if ds.chunks:
        nbytes = int(np.prod(ds.chunks, dtype=np.float64)) * ds.dtype.itemsize
        if nbytes > LIMITS["chunk_bytes"]:
            raise InputError(f"{path}: dataset {ds.name!r} is stored in chunks of {nbytes / 2**20:.0f} MiB, over the "
                             f"limit of {LIMITS['chunk_bytes'] >> 20} MiB that a read may inflate; rewrite it with "
                             "smaller chunks (h5repack -l CHUNK=...)")


def _datasets(h5) -> dict[str, tuple]:
    import h5py

    found = {}
    h5.visititems(lambda name, obj: found.__setitem__(name, obj.shape) if isinstance(obj, h5py.Dataset) else None)

    def external(name, link):  # a dataset behind an external link (its file was noted and checked by linked_files)
        if isinstance(link, h5py.ExternalLink) and name not in found:
            obj = h5.get(name)
            if isinstance(obj, h5py.Dataset):
                found[name] = obj.shape

    h5.visititems_links(external)
    return found


class HDF5Reader:
    """ADC2021 ``Particles`` (N, 19, 4) or a plain table (N, F) chosen by ``mapping.dataset``."""

    def __init__(self, path: str | Path, mapping: Mapping | None = None) -> None:
        import h5py

        self.path = str(path)
        self.mapping = mapping or Mapping()
        try:
            self._h5 = h5py.File(self.path, "r")
            self.datasets = _datasets(self._h5)
        except OSError as e:
            raise InputError(f"{self.path}: damaged or truncated HDF5 file ({str(e).split(';')[0]})") from None
        name = self.mapping.dataset or ("Particles" if "Particles" in self.datasets else None)
        if name is None:
            tables = [k for k, s in self.datasets.items() if len(s) == 2]
            if len(tables) == 1:
                name = tables[0]
            else:
                raise InputError(f"{self.path}: no 'Particles' dataset; choose a table with --dataset "
                                 f"(datasets: {closest('Particles', self.datasets)})")
        if name not in self.datasets:
            raise InputError(f"{self.path}: no dataset {name!r} (datasets: {closest(name, self.datasets)})")
        self.name = name
        self.ds = self._h5[name]
        if self.ds.dtype.kind not in "fiub":
            what = "complex numbers" if self.ds.dtype.kind == "c" else f"values of type {self.ds.dtype}"
            raise InputError(f"{self.path}: dataset {name!r} holds {what}, not real numbers; store float or integer "
                             "values (or choose another dataset with --dataset)")
        shape = self.ds.shape
        check_chunks(self.path, self.ds)
        if name == "Particles" or len(shape) == 3:
            if len(shape) != 3 or shape[1] != ADC_ROWS or shape[2] not in (3, 4):
                raise InputError(f"{self.path}: dataset {name!r} has shape {shape}; the ADC2021 layout "
                                 f"is (N, {ADC_ROWS}, 4) with rows MET, 4 e, 4 mu, 10 jets")
            self.kind = "objects"
            self.schema = self.mapping.schema()
            self.columns = self.schema.raw_names()
            self._rows = self._row_index()
        elif len(shape) == 2:
            self.kind = "table"
            names = self.ds.attrs.get("columns", self.ds.attrs.get("feature_names"))
            self.columns = ([n.decode() if isinstance(n, bytes) else str(n) for n in names]
                            if names is not None and len(names) == shape[1]
                            else [f"f{i}" for i in range(shape[1])])
        else:
            raise InputError(f"{self.path}: dataset {name!r} has shape {shape}; expected (N, F) or "
                             f"(N, {ADC_ROWS}, 4)")
        if mapping is not None and (mapping.cut or mapping.weight):
            raise InputError(f"{self.path}: 'cut' and 'weight' mappings apply to ROOT/Parquet branches, "
                             f"not HDF5 datasets")

    def _row_index(self) -> np.ndarray | None:
        """ADC rows to keep for the schema's multiplicities (None: all 19 in order)."""
        if dict(self.schema.multiplicities) == DEFAULT_MULTIPLICITIES:
            return None
        idx, start = [], 0
        for obj, n_adc in DEFAULT_MULTIPLICITIES.items():
            idx.extend(range(start, start + min(n_adc, self.schema.multiplicities.get(obj, 0))))
            start += n_adc
        for obj, n in self.schema.multiplicities.items():
            if n > DEFAULT_MULTIPLICITIES[obj]:
                raise InputError(f"{self.path}: the ADC2021 layout holds at most "
                                 f"{DEFAULT_MULTIPLICITIES[obj]} {obj}s, the mapping asks for {n}")
        return np.asarray(idx)

    def num_entries(self) -> int:
        return int(self.ds.shape[0])

    def chunks(self, step: int, entry_start: int = 0, entry_stop: int | None = None) -> Iterator[RawChunk]:
        n = self.num_entries() if entry_stop is None else min(entry_stop, self.num_entries())
        chunk_rows = self.ds.chunks[0] if self.ds.chunks else 1
        row_bytes = max(1, int(np.prod(self.ds.shape[1:])) * 4)
        step = min(int(step), max(1, LIMITS["chunk_bytes"] // row_bytes))  # a read stays under the chunk limit
        step = max(chunk_rows, (step // chunk_rows) * chunk_rows)  # whole HDF5 chunks per read
        for start in range(entry_start, n, step):
            try:
                block = self.ds[start:min(start + step, n)]
            except OSError as e:
                raise InputError(f"{self.path}: cannot read {self.name!r} at entry {start} ({e}); "
                                 f"the file may be truncated") from None
            block = np.asarray(block, dtype=np.float32)
            if self.kind == "objects":
                block = block[:, :, : len(FIELDS)] if self._rows is None else block[:, self._rows, : len(FIELDS)]
            yield start, block, None, None

    def check_classes(self, n: int = 1000) -> None:
        """Raise if the class column contradicts the ADC2021 row order (e.g. a different layout)."""
        if self.kind != "objects" or self.ds.shape[2] < 4 or self.num_entries() == 0:
            return
        cls = np.asarray(self.ds[: min(n, self.num_entries()), :, 3])
        expected = np.concatenate([np.full(k, CLASS_CODES[o]) for o, k in DEFAULT_MULTIPLICITIES.items()])
        if not np.isfinite(cls).all():
            return  # NaN events are the NaN policy's to handle
        wrong = (cls != 0) & (cls != expected[None, :])
        if wrong.any():
            raise InputError(f"{self.path}: 'Particles' class column does not follow the ADC2021 row order "
                             f"(MET, 4 e, 4 mu, 10 jets); found class {int(cls[wrong][0])} out of place")

    def describe(self) -> dict:
        out = {"format": "HDF5", "datasets": {k: list(v) for k, v in self.datasets.items()},
               "dataset": self.name, "entries": self.num_entries(),
               "layout": "adc2021" if self.kind == "objects" else "table"}
        if self.kind == "objects":
            out["objects"] = {o: {"branches": [f"{self.name}[:, rows {self.schema.rows(o).start}-"
                                               f"{self.schema.rows(o).stop - 1}]"], "missing": [],
                                  "max": k} for o, k in self.schema.multiplicities.items()}
        else:
            out["columns"] = self.columns
        return out
