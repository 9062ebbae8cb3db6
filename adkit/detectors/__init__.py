"""Detectors: the protocol, the registry, one module per detector.

Every built-in detector is importable by its class name or a short alias, loaded on first use::

    from adkit.detectors import AE, CVAE, IsolationForest
    det = AE(epochs=5).fit(X)          # scikit-learn/pyod style: decision_function, predict, threshold_
"""
from adkit.detectors.base import Detector, Tags, TrainOptions
from adkit.detectors.registry import BUILTIN, available, create, get, register

#: Short names of the built-in detectors (the class names work too).
ALIASES = {"AE": "ae", "Autoencoder": "ae", "VAE": "vae", "CVAE": "cvae", "SVC": "svc", "OCSVM": "ocsvm",
           "IForest": "iforest", "Student": "student", "LSTMAE": "lstm-ae", "GRUAE": "gru-ae", "ConvAE": "conv-ae",
           "QSVM": "qsvm", "QKMeans": "qkmeans", "QKMedians": "qkmedians", "MPS": "mps", "NPLM": "nplm",
           "NeuralNPLMDetector": "nplm-nn"}
_CLASSES = {**{target.split(":")[1]: name for name, target in BUILTIN.items()}, **ALIASES}

__all__ = ["Detector", "Tags", "TrainOptions", "available", "create", "get", "register", *_CLASSES]


def __getattr__(name: str):
    if name in _CLASSES:
        return get(_CLASSES[name])
    raise AttributeError(f"module 'adkit.detectors' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
