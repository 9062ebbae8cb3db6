"""Detectors: the protocol, the registry, one module per detector."""
from adkit.detectors.base import Detector
from adkit.detectors.registry import available, create, get, register

__all__ = ["Detector", "available", "create", "get", "register"]
