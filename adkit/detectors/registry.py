"""Detector registry: short name → "module:Class", imported lazily.

Built-in detectors are listed in :data:`BUILTIN`; third-party packages add theirs through
the ``adkit.detectors`` entry-point group (``name = "package.module:Class"``). Registering a
name twice is an error, and an unknown name lists the closest valid ones.
"""
from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from adkit.detectors.base import Detector
from adkit.errors import AdkitError, ConfigError, closest

BUILTIN: dict[str, str] = {
    "ae": "adkit.detectors.ae:DenseAutoencoder",
    "vae": "adkit.detectors.vae:VariationalAutoencoder",
    "cvae": "adkit.detectors.cvae:ConditionalVAE",
    "alad": "adkit.detectors.alad:ALAD",
    "svc": "adkit.detectors.svc:ArtificialAnomalySVC",
    "ocsvm": "adkit.detectors.ocsvm:OneClassSVM",
    "iforest": "adkit.detectors.iforest:IsolationForest",
    "ensemble": "adkit.detectors.ensemble:EnsembleDetector",
    "flow": "adkit.detectors.flow:NormalizingFlow",
    "student": "adkit.detectors.student:QuantizedStudent",
    "sequence-student": "adkit.detectors.sequence_student:SequenceStudent",
    "bdt-student": "adkit.detectors.bdt_student:BDTStudent",
    "selfsup": "adkit.detectors.selfsup:SelfSupervisedTrigger",
    "lstm-ae": "adkit.detectors.lstm_ae:LSTMAutoencoder",
    "gru-ae": "adkit.detectors.gru_ae:GRUAutoencoder",
    "conv-ae": "adkit.detectors.conv_ae:ConvAutoencoder",
    "mp": "adkit.detectors.matrix_profile:MatrixProfile",
    "zscore": "adkit.detectors.zscore:RollingZScore",
    "qsvm": "adkit.detectors.qsvm:QuantumOneClassSVM",
    "qkmeans": "adkit.detectors.qkmeans:QuantumKMeans",
    "qkmedians": "adkit.detectors.qkmedians:QuantumKMedians",
    "mps": "adkit.detectors.mps:MatrixProductState",
    "nplm": "adkit.detectors.nplm:KernelNPLM",
    "nplm-nn": "adkit.detectors.nplm_nn:NeuralNPLM",
}
ENTRY_POINT_GROUP = "adkit.detectors"

_extra: dict[str, str | type[Detector]] = {}


def register(name: str, target: str | type[Detector]) -> None:
    """Register a detector class (or its "module:Class" path) under ``name``."""
    if name in _all_targets():
        raise ConfigError(f"detector name {name!r} is already registered ({_all_targets()[name]})")
    _extra[name] = target


def _plugin_targets() -> dict[str, str]:
    out: dict[str, str] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in BUILTIN or ep.name in out:
            raise ConfigError(f"detector name {ep.name!r} from entry point {ep.value!r} is already registered")
        out[ep.name] = ep.value
    return out


def _all_targets() -> dict[str, str | type[Detector]]:
    return {**BUILTIN, **_plugin_targets(), **_extra}


def available() -> list[str]:
    """All registered detector names (built-in, plug-ins, registered at run time)."""
    return list(_all_targets())


def get(name: str) -> type[Detector]:
    """The detector class for ``name``; import errors surface as-is, never swallowed."""
    targets = _all_targets()
    if name not in targets:
        raise ConfigError(f"unknown model {name!r}; valid: {closest(name, targets)} (see `adkit models`)")
    target = targets[name]
    if isinstance(target, str):
        module, _, attr = target.partition(":")
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as e:
            raise AdkitError(f"detector {name!r} needs {e.name!r}, which is not installed") from e
        target = getattr(mod, attr)
    if not (isinstance(target, type) and issubclass(target, Detector)):
        raise ConfigError(f"detector {name!r} ({targets[name]}) is not an adkit Detector subclass")
    return target


def create(name: str, **params) -> Detector:
    """A new, unfitted detector of type ``name`` with validated parameters."""
    return get(name).from_params(params)
