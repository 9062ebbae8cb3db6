"""The detector protocol every detector implements (see docs/detectors.md)."""
from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator

from adkit.errors import ConfigError, NotFittedError


@dataclass(frozen=True)
class Tags:
    """What a detector can do and needs, declared as data (read by the workflows and the tests)."""

    #: Needs per-event conditions (a CVAE's context).
    uses_condition: bool = False
    #: Learns a per-event target ``y`` (a distilled student; NPLM's data/reference label).
    uses_target: bool = False
    #: Works on a few features: meant for the latent space of an encoder.
    latent: bool = False
    #: Reads windows of a time series (time-major ``window × channels`` features).
    sequence: bool = False
    #: Learns data (y = 1) against a reference sample (y = 0), not background alone (NPLM).
    two_sample: bool = False
    #: Trained with the torch template (validation split, early stopping, checkpoints, --resume).
    torch: bool = False
    #: Sees only the shape of each window (invariant to its offset and scale): a time-series
    #: baseline, blind by design to an event whose every feature is shifted.
    shape_only: bool = False
    #: A regressor with a bounded internal state (a recurrent student: sigmoid and tanh gates): it
    #: follows its teacher where it was trained and saturates far outside, so it does not extrapolate.
    bounded: bool = False


def _fit_then_score_training_set(fit):
    """Wrap a detector's ``fit`` so that, once the outermost fit returns, the pyod-style attributes
    exist: ``n_features_in_``, ``decision_scores_`` (the training events' scores), ``threshold_``
    at the default contamination and ``labels_``."""
    @functools.wraps(fit)
    def wrapper(self, X, condition=None, y=None, *args, **kwargs):
        if getattr(self, "_fitting", False):  # a subclass's fit calling its parent's
            return fit(self, X, condition, y, *args, **kwargs)
        self._fitting = True
        try:
            fit(self, X, condition, y, *args, **kwargs)
        finally:
            self._fitting = False
        self.n_features_in_ = int(np.shape(X)[1]) if np.ndim(X) == 2 else None
        if self.n_features_in_:  # what it was fitted on, for the out-of-range check of a saved model
            from adkit.features.ranges import fit_ranges

            self.input_ranges_ = fit_ranges(X)
        self.decision_scores_ = self.score(X, condition)
        return self.set_threshold()

    return wrapper


@dataclass(frozen=True)
class TrainOptions:
    """How a training run is done, the same object for every detector's ``fit`` (each uses what
    applies to it: torch detectors all of it, NPLM the progress bar, the others none)."""

    #: Save the state after every epoch here (removed when training ends).
    checkpoint: str | None = None
    #: Continue from ``checkpoint`` if it was made by the same configuration on the same data.
    resume: bool = False
    #: Show a progress bar on stderr.
    progress: bool = False
    #: Stop after this many epochs on purpose (tests of resume).
    stop_after_epochs: int | None = None


class Detector(BaseEstimator):
    """Base class: hyper-parameters are keyword arguments of ``__init__``, stored unchanged.

    Subclasses implement ``fit`` (returns ``self``, fitted state in attributes ending ``_``),
    ``score`` (float64[n], higher = more anomalous), ``_tensors()`` and ``_load_tensors()``.
    ``state()`` / ``from_state()`` round-trip a fitted detector through JSON + arrays.
    """

    name: ClassVar[str] = ""
    #: Score components besides ``score`` (e.g. the VAE's ``reco`` and ``kl``).
    components: ClassVar[tuple[str, ...]] = ()
    #: The values of the ``score`` parameter of a detector with several scores (empty: no choice).
    score_kinds: ClassVar[tuple[str, ...]] = ()
    #: Capabilities, declared once per class; ``uses_condition``, ``latent``, ... mirror them.
    tags: ClassVar[Tags] = Tags()
    uses_condition: ClassVar[bool] = False
    uses_target: ClassVar[bool] = False
    latent: ClassVar[bool] = False
    sequence: ClassVar[bool] = False
    two_sample: ClassVar[bool] = False
    #: Input scaling of collider events under ``--preprocessing auto`` (:mod:`adkit.features.preprocess`).
    preprocessing: ClassVar[str] = "physics"
    #: pyod's default: the share of training events ``predict`` calls anomalous (see :meth:`set_threshold`).
    contamination: ClassVar[float] = 0.1

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        for name in Tags.__dataclass_fields__:  # the flags mirror the declared tags, one source of truth
            setattr(cls, name, getattr(cls.tags, name))
        if "fit" in cls.__dict__:
            cls.fit = _fit_then_score_training_set(cls.__dict__["fit"])

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Hyper-parameters by name (scikit-learn's convention; ``deep`` is accepted, there is nothing nested)."""
        sig = inspect.signature(type(self).__init__)
        return {k: getattr(self, "score_kind" if k == "score" and self.score_kinds else k)
                for k in sig.parameters if k != "self"}

    def set_params(self, **params) -> Detector:
        """Change hyper-parameters (validated as in ``from_params``); scikit-learn's convention."""
        valid = self.param_names()
        bad = [k for k in params if k not in valid]
        if bad:
            raise ConfigError(f"detector {self.name!r} has no parameter {bad[0]!r}; valid: {', '.join(valid)}")
        from adkit.validation import check_params

        check_params(params, f"detector {self.name!r}")
        for k, v in params.items():
            setattr(self, "score_kind" if k == "score" and self.score_kinds else k, v)
        return self

    def set_threshold(self, contamination: float | None = None, rate_khz: float | None = None,
                      bunch_rate_mhz: float = 40.0) -> Detector:
        """``threshold_`` from the training scores: the share ``contamination`` above it (pyod), or a
        trigger rate in kHz of a ``bunch_rate_mhz`` input; ``labels_`` follow."""
        from adkit.metrics import rate_to_fpr, threshold_at_fpr

        if getattr(self, "decision_scores_", None) is None:
            raise NotFittedError(f"detector {self.name!r} has no training scores; call fit() first")
        fpr = rate_to_fpr(rate_khz, bunch_rate_mhz) if rate_khz is not None else \
            (self.contamination if contamination is None else contamination)
        if not 0 < fpr < 1:
            raise ConfigError(f"{self.name}: the share above the threshold must be in (0, 1), got {fpr}")
        self.threshold_ = threshold_at_fpr(self.decision_scores_, fpr)
        self.labels_ = (self.decision_scores_ > self.threshold_).astype(int)
        return self

    def predict(self, X: np.ndarray, condition: np.ndarray | None = None) -> np.ndarray:
        """1 for events scoring above ``threshold_`` (anomalous), 0 otherwise (pyod's convention)."""
        if getattr(self, "threshold_", None) is None:
            raise NotFittedError(f"detector {self.name!r} has no threshold; call fit() or set_threshold() first")
        return (self.score(X, condition) > self.threshold_).astype(int)

    def fit_predict(self, X: np.ndarray, condition: np.ndarray | None = None, y: np.ndarray | None = None) -> np.ndarray:
        """Fit, then the labels of the training events."""
        return self.fit(X, condition, y).labels_

    def check_score_kind(self) -> None:
        """Detectors with several scores take a ``score`` parameter (stored as ``score_kind``) naming one."""
        if self.score_kinds and self.score_kind not in self.score_kinds:
            raise ConfigError(f"{self.name}: score must be one of {', '.join(self.score_kinds)}, "
                              f"got {self.score_kind!r}")

    @classmethod
    def param_names(cls) -> list[str]:
        return [k for k in inspect.signature(cls.__init__).parameters if k != "self"]

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Detector:
        """Build with validated keyword arguments; unknown keys are an error naming the valid ones."""
        valid = cls.param_names()
        bad = [k for k in params if k not in valid]
        if bad:
            raise ConfigError(f"detector {cls.name!r} has no parameter {bad[0]!r}; valid: {', '.join(valid)}")
        from adkit.validation import check_params

        check_params(params, f"detector {cls.name!r}")
        return cls(**params)

    def fit(self, X: np.ndarray, condition: np.ndarray | None = None, y: np.ndarray | None = None,
            options: TrainOptions | None = None) -> Detector:
        raise NotImplementedError

    def score(self, X: np.ndarray, condition: np.ndarray | None = None) -> np.ndarray:
        raise NotImplementedError

    def score_components(self, X: np.ndarray, condition: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """All score kinds this detector offers, ``score`` first."""
        return {"score": self.score(X, condition)}

    def decision_function(self, X: np.ndarray, condition: np.ndarray | None = None) -> np.ndarray:
        """scikit-learn/pyod alias of :meth:`score`."""
        return self.score(X, condition)

    @property
    def is_fitted(self) -> bool:
        return any(k.endswith("_") and not k.startswith("_") and v is not None for k, v in vars(self).items())

    def __sklearn_is_fitted__(self) -> bool:
        return self.is_fitted

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError(f"detector {self.name!r} is not fitted; call fit() first")

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        self._check_fitted()
        config, tensors = self._tensors()
        return {"params": self.get_params(), **config}, tensors

    @classmethod
    def from_state(cls, config: dict, tensors: dict[str, np.ndarray]) -> Detector:
        det = cls.from_params(dict(config.get("params", {})))
        det._load_tensors({k: v for k, v in config.items() if k != "params"}, tensors)
        return det

    def check_condition(self, X: np.ndarray, condition: np.ndarray | None,
                        n_conditions: int | None = None) -> np.ndarray | None:
        """The condition as float32[n, C], or a clear error when it is missing, unwanted or misshaped."""
        if not self.uses_condition:
            if condition is not None:
                raise ConfigError(f"detector {self.name!r} does not use conditions; train it without --conditions")
            return None
        if condition is None:
            raise ConfigError(f"detector {self.name!r} needs conditions (--conditions COL,...)")
        c = np.asarray(condition, dtype=np.float32)
        if c.ndim == 1:
            c = c[:, None]
        if c.ndim != 2 or len(c) != len(X):
            raise ConfigError(f"{self.name}: condition must be [n_events, n_conditions] with {len(X)} rows, "
                              f"got shape {np.shape(condition)}")
        if n_conditions is not None and c.shape[1] != n_conditions:
            raise ConfigError(f"{self.name}: trained with {n_conditions} condition column(s), got {c.shape[1]}")
        return np.ascontiguousarray(c)

    def check_target(self, X: np.ndarray, y: np.ndarray | None) -> np.ndarray | None:
        """The training target as float32[n] for supervised detectors (ignored by the others)."""
        if not self.uses_target:
            return None
        if y is None:
            raise ConfigError(f"detector {self.name!r} learns a target score: train it with `adkit distill` "
                              "(or fit(X, y=teacher_scores))")
        t = np.asarray(y, dtype=np.float32).reshape(-1)
        if len(t) != len(X) or not np.isfinite(t).all():
            raise ConfigError(f"{self.name}: the target must be {len(X)} finite values, got shape {np.shape(y)}")
        return np.ascontiguousarray(t)

    def _tensors(self) -> tuple[dict, dict[str, np.ndarray]]:
        raise NotImplementedError

    def _load_tensors(self, config: dict, tensors: dict[str, np.ndarray]) -> None:
        raise NotImplementedError
