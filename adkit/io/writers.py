"""Atomic outputs and the per-event score table (HDF5, Parquet, ROOT friend tree)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from adkit.errors import ConfigError
from adkit.files import atomic_output, check_output, require_space

__all__ = ["SCORE_FORMATS", "ScoreWriter", "atomic_output", "check_output", "read_scores", "score_format",
           "write_friend_tree"]

SCORE_FORMATS = (".h5", ".hdf5", ".parquet")


def score_output_path(path: str | Path, suffix: str = ".h5") -> str:
    """The default score file name of an input: ``nano_1.root`` → ``nano_1.scores.h5``."""
    return f"{Path(str(path)).name.rsplit('.', 1)[0]}.scores{suffix}"


def score_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in SCORE_FORMATS:
        raise ConfigError(f"{path}: unknown score file type {suffix!r}; use .h5 or .parquet")
    return "parquet" if suffix == ".parquet" else "hdf5"


class ScoreWriter:
    """Appends score rows chunk by chunk to a temporary file (HDF5 or Parquet).

    Columns: ``source`` (index into the ``sources`` list for HDF5, a dictionary string for
    Parquet), ``entry``, ``score``, any extra score components, and ``pass_<name>`` per threshold.
    """

    def __init__(self, tmp: Path, fmt: str, sources: list[str], attrs: dict) -> None:
        self.tmp, self.fmt, self.sources, self.n = tmp, fmt, list(sources), 0
        if fmt == "hdf5":
            import h5py

            self._h5 = h5py.File(tmp, "w")
            self._h5.create_dataset("sources", data=np.array(self.sources, dtype=object),
                                    dtype=h5py.string_dtype())
            for k, v in attrs.items():
                self._h5.attrs[k] = v
        else:
            self._pq, self._attrs = None, attrs

    def write(self, source_index: int, columns: dict[str, np.ndarray]) -> None:
        n = len(columns["entry"])
        # HDF5 has no clean path for a disk that fills up mid-write (it can crash the process): make sure
        # each chunk fits, with room to spare, before the library touches the disk
        final = self.tmp.with_name(self.tmp.name[1:].rsplit(".partial-", 1)[0])
        require_space(self.tmp.parent, 2 * sum(np.asarray(v).nbytes for v in columns.values()) + 4 * n, final)
        if self.fmt == "hdf5":
            cols = {"source": np.full(n, source_index, dtype=np.int32), **columns}
            for k, v in cols.items():
                if k not in self._h5:
                    self._h5.create_dataset(k, shape=(0,), maxshape=(None,), dtype=v.dtype,
                                            chunks=(min(max(n, 1024), 1 << 18),))
                ds = self._h5[k]
                ds.resize((self.n + n,))
                ds[self.n:] = v
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            src = pa.DictionaryArray.from_arrays(np.full(n, source_index, dtype=np.int32),
                                                 pa.array(self.sources))
            table = pa.table({"source": src, **{k: pa.array(v) for k, v in columns.items()}})
            if self._pq is None:
                meta = {**(table.schema.metadata or {}), **{k.encode(): str(v).encode() for k, v in self._attrs.items()}}
                self._pq = pq.ParquetWriter(self.tmp, table.schema.with_metadata(meta))
            self._pq.write_table(table)
        self.n += n

    def close(self) -> None:
        if self.fmt == "hdf5":
            self._h5.close()
        elif self._pq is not None:
            self._pq.close()


def read_scores(path: str | Path) -> dict[str, np.ndarray]:
    """Read a score file back as columns (``source`` as strings)."""
    if score_format(path) == "hdf5":
        import h5py

        with h5py.File(path, "r") as h5:
            sources = np.array([s.decode() if isinstance(s, bytes) else s for s in h5["sources"][:]])
            out = {k: h5[k][:] for k in h5 if k != "sources"}
        out["source"] = sources[out["source"]] if len(out.get("source", [])) else np.array([], dtype=str)
        return out
    import pyarrow.parquet as pq

    t = pq.read_table(path)
    return {c: (np.asarray(t[c].to_pylist()) if c == "source" else t[c].to_numpy()) for c in t.column_names}


def write_friend_tree(path: str | Path, n_entries: int, columns: dict[str, np.ndarray],
                      overwrite: bool = False, tree: str = "adkit") -> Path:
    """A ROOT friend tree aligned entry by entry with the input tree (NaN for unscored entries)."""
    import uproot

    entry = columns["entry"]
    branches = {}
    for k, v in columns.items():
        if k == "entry":
            continue
        full = np.full(n_entries, np.nan if v.dtype.kind == "f" else 0, dtype=v.dtype)
        full[entry] = v
        branches[k] = full
    with atomic_output(path, overwrite) as tmp:
        with uproot.recreate(tmp) as f:
            f[tree] = branches
    return Path(path)
