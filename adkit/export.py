"""Export a torch model, preprocessing included, for software triggers (TorchScript).

The exported module takes the raw feature vector (and the condition, for conditional
detectors) and returns the score: ``torch.jit.load(path)(x)``. Every export is checked
against adkit's own scores before it is kept; a mismatch is an error, never a silent file.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from adkit.artifact import Model
from adkit.errors import ConfigError, OutputError

CHECK_EVENTS = 20_000


def _wrapper(model: Model):
    import torch
    from torch import nn

    det, sc = model.detector, model.scaler
    if getattr(det, "module_", None) is None or not hasattr(det, "event_scores"):
        raise ConfigError(f"detector {det.name!r} is not a torch network; only torch detectors export to TorchScript")
    n = len(sc.mean_)

    class Scorer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = det.module_
            self.register_buffer("mean", torch.from_numpy(np.asarray(sc.mean_, np.float32)))
            self.register_buffer("inv", torch.from_numpy((1.0 / np.asarray(sc.scale_, np.float32)).astype(np.float32)))
            self.register_buffer("log", torch.from_numpy(np.zeros(n, bool) if sc.log is None else sc.log))
            self.register_buffer("pad", torch.from_numpy(np.zeros(n, bool) if sc.padding is None else sc.padding))
            own = getattr(det, "_standard", None)  # a detector fitted with standardize=True scales once more
            self.register_buffer("mean2", torch.from_numpy(np.zeros(n, np.float32) if own is None
                                                           else np.asarray(own[0], np.float32)))
            self.register_buffer("inv2", torch.from_numpy(np.ones(n, np.float32) if own is None
                                                          else (1.0 / np.asarray(own[1])).astype(np.float32)))

        def forward(self, x, c=None):
            f = torch.where(self.log, torch.log1p(torch.clamp(x, min=0.0)), x)
            z = (f - self.mean) * self.inv
            z = torch.where(self.pad & (x == 0), torch.zeros_like(z), z)
            z = (z - self.mean2) * self.inv2
            return det.event_scores(self.net, z, c)["score"]

    return Scorer().eval()


def export_torchscript(model: Model, path: str | Path, X: np.ndarray | None = None, C: np.ndarray | None = None,
                       overwrite: bool = False) -> dict:
    """Trace ``model`` to TorchScript at ``path`` after checking it reproduces ``model.score``."""
    import torch

    from adkit.io.writers import atomic_output, check_output

    path = Path(path)
    check_output(path, overwrite)
    if X is None:
        if model.spec.kind != "objects":
            raise ConfigError("give events to check the export on (this model reads tables)")
        from adkit.datasets import TEST_SEED, background

        obj = background(CHECK_EVENTS, TEST_SEED)[0][:, :, :3]
        X = model.spec.features.compute(obj).astype(np.float32)
        C = model.spec.conditions.compute(obj) if model.spec.conditions else None
    X = np.ascontiguousarray(X, dtype=np.float32)
    wrapper = _wrapper(model)
    xt = torch.from_numpy(X[:256])
    args = (xt,) if C is None else (xt, torch.from_numpy(np.ascontiguousarray(C[:256], dtype=np.float32)))
    with torch.no_grad():
        traced = torch.jit.trace(wrapper, args, check_trace=False)
    with atomic_output(path, overwrite) as tmp:
        torch.jit.save(traced, str(tmp))
        loaded = torch.jit.load(str(tmp))
        with torch.no_grad():
            targs = (torch.from_numpy(X),) if C is None else (torch.from_numpy(X), torch.from_numpy(np.asarray(C, np.float32)))
            got = loaded(*targs).double().numpy()
        want = model.decision_function(X, C)
        diff = float(np.abs(got - want).max())
        tol = 1e-5 * max(1.0, float(np.abs(want).max()))
        if not diff <= tol:
            raise OutputError(f"{path}: the TorchScript export differs from adkit's scores by {diff:.3g} "
                              f"(tolerance {tol:.3g}); not written")
    return {"path": str(path), "events": int(len(X)), "max_abs_difference": diff}
