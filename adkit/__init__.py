"""adkit: anomaly detection for collider and sensor data.

Data flows one way (see ``docs/architecture.md``): :mod:`adkit.io` reads every input in
chunks → :mod:`adkit.features` scales it → :mod:`adkit.quantum` and :mod:`adkit.stats` serve
→ :mod:`adkit.detectors` (registry, one module per detector) → :mod:`adkit.distill` →
:mod:`adkit.firmware`; :mod:`adkit.artifact` is the model file, :mod:`adkit.workflows` the
library API that :mod:`adkit.cli` calls.

Importing :mod:`adkit` is cheap: heavy libraries (torch, uproot) load on first use.
"""
from __future__ import annotations

__version__ = "0.1.0"
#: The model file a command writes or reads when none is named.
DEFAULT_MODEL = "model.adkit"

from adkit.errors import AdkitError  # noqa: E402

__all__ = ["AdkitError", "DEFAULT_MODEL", "__version__", "load", "save"]


def __getattr__(name: str):
    # adkit.save / adkit.load (detectors fitted on arrays) live with the model file; loaded on
    # first use so that `import adkit` stays cheap and the package face imports nothing above it
    if name in ("save", "load"):
        import importlib

        return getattr(importlib.import_module("adkit.artifact"), f"{name}_detector")
    raise AttributeError(f"module 'adkit' has no attribute {name!r}")
