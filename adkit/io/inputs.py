"""Input files: their format by their first bytes (:func:`sniff`), and how the io layer notes them.

:func:`note_input` takes :func:`adkit.files.note_input`'s snapshot and notes every file the input
reads through too (HDF5 virtual sources, external storage and external links; uproot reads a ROOT
file alone, and Parquet names no other file), so that no output may replace one of those either."""
from __future__ import annotations

from pathlib import Path

import adkit.files as files  # noqa: PLR0402 (not `from adkit import`: the package face is the top layer)
from adkit.errors import AdkitError, InputError
from adkit.io.readers import HDF5_SIGNATURE, is_hdf5

#: A data file's format by its first bytes.
MAGIC = {b"root": "root", HDF5_SIGNATURE: "hdf5", b"PAR1": "parquet"}


def note_linked(path: str | Path) -> None:
    """Note the files ``path`` reads through as inputs too."""
    if is_hdf5(path):
        from adkit.io.hdf5 import linked_files

        linked_files(path)


def note_input(path: str | Path, what: str = "input", remember: bool = True) -> Path:
    """:func:`adkit.files.note_input`, and the files the input reads through, the first time it is noted."""
    first = files.input_for(path) is None
    p = files.note_input(path, what, remember)
    if first:
        note_linked(p)
    return p


def existing_input(path: str | Path, role: str, instead: str, error: type[AdkitError] = InputError,
                   missing: str = "no such file") -> Path:
    """:func:`adkit.files.existing_input`, and the files the input reads through."""
    first = files.input_for(path) is None
    p = files.existing_input(path, role, instead, error, missing)
    if first:
        note_linked(p)
    return p


def sniff(path: str | Path) -> str:
    """The file's format from its first bytes: 'root', 'hdf5' or 'parquet'."""
    p = existing_input(path, "data", f"the data files inside it (e.g. {path}/*.root)")
    try:
        with open(p, "rb") as fh:
            head = fh.read(8)
    except OSError as e:
        raise InputError(f"{p}: cannot be read ({e.strerror})") from None
    for magic, fmt in MAGIC.items():
        if head.startswith(magic):
            return fmt  # an HDF5 file's linked files were noted with it (note_input)
    if len(head) == 0:
        raise InputError(f"{p}: file is empty")
    raise InputError(f"{p}: not a ROOT, HDF5 or Parquet file (unrecognised first bytes {head[:4]!r})")
