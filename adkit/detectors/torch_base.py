"""One training template for every torch detector: seeding, validation split, early
stopping, progress bar, checkpoints and resume.

A subclass builds its network in ``build_module`` and says how to compute the training loss
and the per-event scores. Determinism without global side effects: the weights are
initialised inside ``torch.random.fork_rng`` with the detector's seed, the shuffling of
epoch ``e`` uses a generator seeded with ``(seed, e)``, and so does any sampling noise. A run
resumed from the checkpoint of epoch ``e`` therefore ends bit-identical to an uninterrupted one.
"""
from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from adkit.detectors.base import Detector, Tags, TrainOptions
from adkit.errors import ConfigError, ModelFileError
from adkit.progress import bar as progress_bar


def _torch():
    import torch

    return torch


class TorchDetector(Detector):
    """Base of the torch detectors. Hyper-parameters shared by all of them are below."""

    #: Keep the weights of the epoch with the lowest validation loss and stop after ``patience``
    #: epochs without improvement. Adversarial models, whose losses do not measure progress,
    #: set this False: they train for ``epochs`` and keep the last weights.
    select_best = True
    tags = Tags(torch=True)
    #: ``epochs``, ``batch_size`` or ``patience`` given as None are chosen from the number of training
    #: events at fit (:meth:`budget`): below ``SMALL_SAMPLE`` (where batches of 1024 make fewer than 100
    #: optimizer steps an epoch) the small-sample budget, else the large-sample one.
    SMALL_SAMPLE = 102_400
    SMALL_BUDGET: ClassVar[dict[str, int]] = {"epochs": 100, "batch_size": 256, "patience": 10}
    LARGE_BUDGET: ClassVar[dict[str, int]] = {"epochs": 30, "batch_size": 1024, "patience": 5}

    def __init__(self, epochs: int = 30, batch_size: int = 1024, lr: float = 1e-3, patience: int = 5,
                 validation_fraction: float = 0.2, seed: int = 0, contamination: float = 0.1) -> None:
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.seed = seed
        self.contamination = contamination

    # --- to implement --------------------------------------------------------------------
    def build_module(self, n_features: int, n_conditions: int):
        raise NotImplementedError

    def batch_loss(self, module, x, c, generator, y=None):
        """Mean training loss of a batch (a scalar tensor); ``y`` is the target of supervised
        detectors (``uses_target``), None otherwise."""
        raise NotImplementedError

    def event_scores(self, module, x, c) -> dict[str, Any]:
        """Per-event score tensors, ``score`` first (module in eval mode, no grad)."""
        raise NotImplementedError

    # --- may override (adversarial models have several optimizers) ---------------------------
    def configure_optimizers(self, module) -> dict[str, Any]:
        """Named optimizers; their states go into the checkpoint."""
        import torch

        return {"main": torch.optim.Adam(module.parameters(), lr=self.lr)}

    def train_step(self, module, x, c, generator, optimizers: dict[str, Any], y=None) -> float:
        """One optimisation step on a batch; returns the batch's training loss."""
        loss = self.batch_loss(module, x, c, generator, y)
        opt = optimizers["main"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return float(loss.detach())

    def validation_loss(self, module, x, c, generator, y=None):
        """Mean loss on held-out events used for early stopping (default: the training loss)."""
        return self.batch_loss(module, x, c, generator, y)

    def on_epoch_start(self, module, epoch: int) -> None:
        """Called before each epoch (e.g. to update pruning masks)."""

    def learning_rate(self, epoch: int) -> float:
        """Every optimizer's learning rate in ``epoch`` (default: ``lr`` throughout)."""
        return float(self.lr)

    # --- template --------------------------------------------------------------------------
    def _validate(self) -> None:
        self.check_score_kind()
        for k in ("epochs", "batch_size", "patience"):
            if getattr(self, k) is None:  # chosen from the training size (budget)
                continue
            if not isinstance(getattr(self, k), int) or getattr(self, k) < (0 if k == "patience" else 1):
                raise ConfigError(f"{self.name}: {k} must be a positive integer, got {getattr(self, k)!r}")
        if not 0.0 <= self.validation_fraction < 1.0:
            raise ConfigError(f"{self.name}: validation_fraction must be in [0, 1), got {self.validation_fraction}")

    def _config_hash(self, n: int, n_features: int) -> str:
        blob = json.dumps({"params": self.get_params(), "n": n, "f": n_features, "name": self.name}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def fit(self, X: np.ndarray, y: np.ndarray | None = None, *, condition: np.ndarray | None = None,
            options: TrainOptions | None = None, checkpoint: str | Path | None = None, resume: bool = False,
            progress: bool = False, stop_after_epochs: int | None = None) -> TorchDetector:
        """Train; with ``checkpoint`` the state after each epoch is saved there (and removed at the end).

        ``resume=True`` continues from that checkpoint if it exists and was made by the same
        configuration on the same data size. ``stop_after_epochs`` stops early on purpose (tests).
        ``options`` (:class:`TrainOptions`) gives all four at once, as the workflows do.
        """
        if options is not None:
            checkpoint, resume, progress = options.checkpoint, options.resume, options.progress
            stop_after_epochs = options.stop_after_epochs
        torch = _torch()
        self._validate()
        X = np.ascontiguousarray(X, dtype=np.float32)
        C = self.check_condition(X, condition)
        Y = self.check_target(X, y)
        n = len(X)
        if n < 2:
            raise ConfigError(f"{self.name}: need at least 2 training events, got {n}")
        perm = np.random.default_rng(self.seed).permutation(n)
        n_val = int(round(n * self.validation_fraction))
        if n - n_val < 2:
            raise ConfigError(f"{self.name}: validation_fraction={self.validation_fraction:g} of {n} events leaves "
                              f"{n - n_val} to train on, not one training step; lower it or give more events")
        val_idx, train_idx = np.sort(perm[:n_val]), np.sort(perm[n_val:])
        Xt = torch.from_numpy(X)
        Ct = None if C is None else torch.from_numpy(C)
        Yt = None if Y is None else torch.from_numpy(Y)
        self.check_size(X.shape[1], 0 if C is None else C.shape[1])
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            module = self.build_module(X.shape[1], 0 if C is None else C.shape[1])
        opts = self.configure_optimizers(module)
        state = {"epoch": 0, "best": float("inf"), "wait": 0, "history": [], "best_state": None}
        key = self._config_hash(n, X.shape[1])
        ckpt = Path(checkpoint) if checkpoint else None
        if ckpt and resume and ckpt.exists():
            state = _load_checkpoint(ckpt, key, module, opts)
        elif ckpt and ckpt.exists() and not resume:
            _check_own_checkpoint(ckpt)
            ckpt.unlink()  # a stale checkpoint of an earlier training (adkit's own file)

        self._budget = self.budget(len(train_idx))
        epochs, patience = self._budget["epochs"], self._budget["patience"]
        batch = self.effective_batch(len(train_idx))
        bar = progress_bar(progress, "loss", "val")
        with bar as pb:
            task = pb.add_task(f"train {self.name}", total=epochs, completed=state["epoch"], loss="", val="")
            while state["epoch"] < epochs and state["wait"] <= patience:
                epoch = state["epoch"]
                g = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
                self.on_epoch_start(module, epoch)
                for opt in opts.values():
                    for group in opt.param_groups:
                        group["lr"] = self.learning_rate(epoch)
                module.train()
                order = torch.from_numpy(train_idx)[torch.randperm(len(train_idx), generator=g)]
                total, count = 0.0, 0
                for s in range(0, len(order), batch):
                    idx = order[s:s + batch]
                    if len(idx) < 2:  # batch norm needs two events
                        continue
                    loss = self.train_step(module, Xt[idx], None if Ct is None else Ct[idx], g, opts,
                                           None if Yt is None else Yt[idx])
                    total += loss * len(idx)
                    count += len(idx)
                train_loss = total / max(count, 1)
                val_loss = self._eval_loss(module, Xt, Ct, Yt, val_idx if n_val else train_idx, epoch)
                state["history"].append({"epoch": epoch + 1, "loss": train_loss, "val_loss": val_loss})
                if not self.select_best:
                    state["best"] = min(state["best"], val_loss)
                elif val_loss < state["best"] - 1e-7:
                    state.update(best=val_loss, wait=0, best_state=copy.deepcopy(module.state_dict()))
                else:
                    state["wait"] += 1
                state["epoch"] = epoch + 1
                pb.update(task, completed=state["epoch"], loss=f"loss {train_loss:.4g}", val=f"val {val_loss:.4g}")
                if ckpt:
                    _save_checkpoint(ckpt, key, module, opts, state)
                if stop_after_epochs is not None and state["epoch"] >= stop_after_epochs:
                    raise KeyboardInterrupt(f"stopped after {state['epoch']} epochs on request")
        if state["best_state"] is not None:
            module.load_state_dict(state["best_state"])
        module.eval()
        self.module_, self.history_ = module, state["history"]
        self._n_features, self._n_conditions = X.shape[1], (0 if C is None else C.shape[1])
        if ckpt and ckpt.exists():
            ckpt.unlink()
        return self

    #: A training set smaller than this many batches is cut into this many (of at least MIN_BATCH
    #: events): 200 events and ``batch_size`` 1024 train 8 steps an epoch, not 1.
    MIN_STEPS, MIN_BATCH = 8, 16

    def budget(self, n_train: int) -> dict[str, int]:
        """Epochs, batch size and patience for ``n_train`` training events: each as given, or (None) the
        small- or large-sample default (``SMALL_SAMPLE``)."""
        auto = self.SMALL_BUDGET if n_train < self.SMALL_SAMPLE else self.LARGE_BUDGET
        return {k: int(auto[k] if getattr(self, k) is None else getattr(self, k)) for k in auto}

    def effective_batch(self, n_train: int) -> int:
        """The batch size used on ``n_train`` training events: the budget's, smaller on small data."""
        size = self.budget(n_train)["batch_size"]
        return int(min(size, max(self.MIN_BATCH, -(-n_train // self.MIN_STEPS))))

    def check_size(self, n_features: int, n_conditions: int) -> int:
        """Count the network's weights on torch's meta device (nothing allocated) and refuse one over
        ``LIMITS["network_bytes"]``; sets the scoring step so that a step's activations stay under
        ``LIMITS["score_bytes"]``. Returns the bytes of the weights."""
        torch = _torch()
        from adkit.validation import LIMITS

        with torch.random.fork_rng(devices=[]), torch.device("meta"):
            meta = self.build_module(n_features, n_conditions)
        tensors = [*meta.parameters(), *meta.buffers()]
        need = 4 * sum(t.numel() for t in tensors)
        if need > LIMITS["network_bytes"]:
            raise ConfigError(f"{self.name}: this network has {need // 4:,} weights ({need / 2**30:.1f} GiB), over "
                              f"the limit of {LIMITS['network_bytes'] / 2**30:g} GiB; choose smaller layers")
        widest = max([max(t.shape) for t in tensors if t.ndim] + [n_features, 1])
        self._score_step = int(min(1 << 14, max(16, LIMITS["score_bytes"] // (16 * widest))))
        widths = n_features + sum(int(t.shape[0]) for t in meta.parameters() if t.ndim >= 2)
        #: What scoring needs besides the stored tensors (Model.memory_bound adds them up).
        self._memory = {"network_bytes": need, "step_events": self._score_step,
                        "step_bytes": 2 * 4 * self._score_step * widths}
        return need

    def _eval_loss(self, module, Xt, Ct, Yt, idx, epoch: int) -> float:
        torch = _torch()
        module.eval()
        g = torch.Generator().manual_seed(self.seed * 100_003 + epoch + 7)
        total = 0.0
        with torch.no_grad():
            for s in range(0, len(idx), 65536):
                i = torch.from_numpy(idx[s:s + 65536])
                total += float(self.validation_loss(module, Xt[i], None if Ct is None else Ct[i], g,
                                                    None if Yt is None else Yt[i])) * len(i)
        return total / max(len(idx), 1)

    def _score_components(self, X: np.ndarray, condition: np.ndarray | None = None) -> dict[str, np.ndarray]:
        torch = _torch()
        X = np.ascontiguousarray(X, dtype=np.float32)
        n_in = self.module_n_features()
        if X.ndim != 2 or X.shape[1] != n_in:
            raise ConfigError(f"{self.name}: expects {n_in} features per event, got array of shape {X.shape}")
        C = self.check_condition(X, condition, getattr(self, "_n_conditions", 0))
        C = None if C is None else torch.from_numpy(C)
        out: dict[str, list] = {k: [] for k in ("score", *self.components)}
        with torch.inference_mode():
            xt = torch.from_numpy(X)
            step = getattr(self, "_score_step", 1 << 14)  # a wide network scores fewer events a step (check_size)
            for s in range(0, len(X), step):
                parts = self.event_scores(self.module_, xt[s:s + step], None if C is None else C[s:s + step])
                for k, v in parts.items():
                    out.setdefault(k, []).append(v.double().numpy())
        return {k: np.concatenate(v) if v else np.zeros(0) for k, v in out.items()}

    def _score(self, X: np.ndarray, condition: np.ndarray | None = None) -> np.ndarray:
        return self._score_components(X, condition)["score"]

    def module_n_features(self) -> int:
        return int(self._n_features)

    # --- state -------------------------------------------------------------------------------
    def _tensors(self) -> tuple[dict, dict[str, np.ndarray]]:
        tensors = {k: v.detach().cpu().numpy() for k, v in self.module_.state_dict().items()}
        return {"n_features": self._n_features, "n_conditions": getattr(self, "_n_conditions", 0),
                "history": self.history_}, tensors

    def _load_tensors(self, config: dict, tensors: dict[str, np.ndarray]) -> None:
        torch = _torch()
        self.check_size(int(config["n_features"]), int(config.get("n_conditions", 0)))  # before anything is built
        with torch.random.fork_rng(devices=[]):
            module = self.build_module(int(config["n_features"]), int(config.get("n_conditions", 0)))
        try:
            module.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in tensors.items()})
        except RuntimeError as e:
            raise ModelFileError(f"{self.name}: tensors do not match the network ({str(e).splitlines()[0]})") from None
        module.eval()
        self.module_, self.history_ = module, config.get("history")
        self._n_features, self._n_conditions = int(config["n_features"]), int(config.get("n_conditions", 0))


def _save_checkpoint(path: Path, key: str, module, opts: dict, state: dict) -> None:
    from adkit.io.bundle import write_bundle

    tensors = {f"module.{k}": v.detach().numpy() for k, v in module.state_dict().items()}
    if state["best_state"] is not None:
        tensors.update({f"best.{k}": v.detach().numpy() for k, v in state["best_state"].items()})
    optimizers = {}
    for oname, opt in opts.items():
        opt_state = opt.state_dict()
        steps = {}
        for pid, st in opt_state["state"].items():
            for name, val in st.items():
                if name == "step":
                    steps[str(pid)] = float(val)
                else:
                    tensors[f"opt.{oname}.{pid}.{name}"] = val.detach().numpy()
        optimizers[oname] = {"steps": steps, "param_groups": opt_state["param_groups"]}
    manifest = {"format": "adkit-checkpoint", "format_version": 1, "key": key, "epoch": state["epoch"],
                "best": state["best"], "wait": state["wait"], "history": state["history"],
                "optimizers": optimizers}
    write_bundle(path, manifest, tensors, overwrite=True)


def _check_own_checkpoint(path: Path) -> None:
    """Refuse to delete a file at the checkpoint path that is not an adkit checkpoint."""
    import zipfile

    from adkit.errors import OutputError

    try:
        with zipfile.ZipFile(path) as z:
            ok = json.loads(z.read("manifest.json")).get("format") == "adkit-checkpoint"
    except (OSError, zipfile.BadZipFile, KeyError, ValueError, AttributeError):
        ok = False
    if not ok:
        raise OutputError(f"{path}: exists and is not an adkit checkpoint; adkit would write its checkpoint "
                          "there: move that file or choose another -o")


def _load_checkpoint(path: Path, key: str, module, opts: dict) -> dict:
    import torch

    from adkit.io.bundle import read_bundle

    manifest, tensors = read_bundle(path, kind="adkit-checkpoint")
    kinds = {"key": str, "epoch": int, "best": (int, float), "wait": int, "history": list, "optimizers": dict}
    bad = next((k for k, t in kinds.items() if not isinstance(manifest.get(k), t) or isinstance(manifest.get(k), bool)),
               None)
    if bad is not None:
        raise ConfigError(f"{path}: checkpoint is damaged ({bad}={manifest.get(bad)!r}); delete it or drop --resume")
    if manifest.get("key") != key:
        raise ConfigError(f"{path}: checkpoint was made with other settings or data; delete it or drop --resume")
    t = {k: torch.from_numpy(np.array(v)) for k, v in tensors.items()}
    module.load_state_dict({k[7:]: v for k, v in t.items() if k.startswith("module.")})
    best = {k[5:]: v for k, v in t.items() if k.startswith("best.")} or None
    for oname, opt in opts.items():
        saved = manifest["optimizers"][oname]
        opt_state = {"state": {}, "param_groups": saved["param_groups"]}
        for pid, step in saved["steps"].items():
            st = {"step": torch.tensor(step)}
            prefix = f"opt.{oname}.{pid}."
            st.update({k[len(prefix):]: v for k, v in t.items() if k.startswith(prefix)})
            opt_state["state"][int(pid)] = st
        opt.load_state_dict(opt_state)
    return {"epoch": manifest["epoch"], "best": manifest["best"], "wait": manifest["wait"],
            "history": manifest["history"], "best_state": best}
