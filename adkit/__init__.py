"""adkit: anomaly detection for collider and sensor data.

Data flows one way through small subpackages (see ``docs/architecture.md``):

* :mod:`adkit.io` reads ROOT, Parquet and HDF5 files in chunks and yields
  :class:`~adkit.io.EventBatch` objects in a fixed feature schema;
* :mod:`adkit.features` defines the collider schema and derived features;
* :mod:`adkit.detectors` holds the detector registry and one module per detector;
* :mod:`adkit.artifact` reads and writes ``.adkit`` model files (no pickle);
* :mod:`adkit.scoring`, :mod:`adkit.metrics` and :mod:`adkit.report` score events and
  evaluate detectors at trigger rates.

Importing :mod:`adkit` is cheap: heavy libraries (torch, uproot) load on first use.
"""
from __future__ import annotations

__version__ = "0.1.0"

from adkit.errors import AdkitError  # noqa: E402

__all__ = ["AdkitError", "__version__"]
