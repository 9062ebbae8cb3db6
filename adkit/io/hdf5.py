"""HDF5 readers: the ADC2021 ``Particles`` layout and plain 2-D tables, read in slices."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from adkit.errors import InputError, closest
from adkit.io.mapping import Mapping
from adkit.io.readers import RawChunk
from adkit.io.schema import CLASS_CODES, DEFAULT_MULTIPLICITIES, FIELDS

ADC_ROWS = sum(DEFAULT_MULTIPLICITIES.values())  # 19


def _datasets(h5) -> dict[str, tuple]:
    import h5py

    found = {}
    h5.visititems(lambda name, obj: found.__setitem__(name, obj.shape) if isinstance(obj, h5py.Dataset) else None)
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
        step = max(chunk_rows, (int(step) // chunk_rows) * chunk_rows)  # whole HDF5 chunks per read
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
