"""adkit: anomaly detection for collider and sensor data.

Data flows one way (see ``docs/architecture.md``): :mod:`adkit.io` reads every input in
chunks → :mod:`adkit.features` scales it → :mod:`adkit.quantum` and :mod:`adkit.stats` serve
→ :mod:`adkit.detectors` (registry, one module per detector) → :mod:`adkit.distill` →
:mod:`adkit.firmware`; :mod:`adkit.artifact` is the model file, :mod:`adkit.workflows` the
library API that :mod:`adkit.cli` calls. This package face sits above them all: the
modules below import :mod:`adkit.about` and :mod:`adkit.errors`, never ``adkit`` itself.

Importing :mod:`adkit` is cheap: heavy libraries (torch, uproot) load on first use.
"""
from __future__ import annotations

from pathlib import Path

from adkit.about import DEFAULT_MODEL, __version__
from adkit.errors import AdkitError

__all__ = ["AdkitError", "DEFAULT_MODEL", "__version__", "load", "save"]


def save(detector, path: str | Path, overwrite: bool = False) -> Path:
    """A detector fitted on a plain array as a model file (:func:`adkit.artifact.save_detector`)."""
    from adkit.artifact import save_detector

    return save_detector(detector, path, overwrite)


def load(path: str | Path):
    """The detector of a file written by :func:`save` (any other model file: the Model)."""
    from adkit.artifact import load_detector

    return load_detector(path)
