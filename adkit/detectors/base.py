"""The detector protocol every detector implements (see docs/detectors.md and docs/api.md).

A detector is a scikit-learn outlier detector with pyod's conventions: ``fit(X, y=None)``,
``decision_function`` (higher = more anomalous), ``predict`` (1 = anomalous, 0 = normal),
``threshold_``/``decision_scores_``/``labels_`` set by ``fit`` at ``contamination``, and
pyod's ``predict_proba``/``predict_confidence``/``predict_with_rejection``. A detector's own
code implements ``fit`` and ``_score``; this base validates inputs (scikit-learn's
``validate_data``) and adds everything else.
"""
from __future__ import annotations

import functools
import inspect
import warnings
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError as _SkNotFittedError
from sklearn.utils.validation import validate_data

import adkit.detectors.outputs as outputs  # noqa: PLR0402 (`from adkit.detectors` would import the package: a circle)
import adkit.errors as errors  # noqa: PLR0402 (not `from adkit import`: the package face is the top layer)
from adkit.errors import ConfigError


class NotFittedError(errors.NotFittedError, _SkNotFittedError):
    """A detector used before ``fit``: adkit's error (one line in the CLI) and scikit-learn's."""


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


#: What a detector's model file and pickle hold of ``fit``'s outputs besides its own tensors: the
#: training scores, and the mean and scale of a detector that standardises its inputs.
FITTED_TENSOR = "fit.decision_scores"
FIT_PREFIX = "fit."


def _fit_then_score_training_set(fit):
    """Wrap a detector's ``fit``: validate the inputs and the hyper-parameters first (scikit-learn
    checks values at ``fit``, not at ``set_params``); once the outermost fit returns, the pyod-style
    attributes exist: ``decision_scores_`` (the training events' scores), ``threshold_`` at
    ``contamination``, ``labels_``, ``offset_``."""
    @functools.wraps(fit)
    def wrapper(self, X, y=None, *args, condition=None, **kwargs):
        if getattr(self, "_fitting", False):  # a subclass's fit calling its parent's
            return fit(self, X, y, condition=condition, **kwargs)
        self.check_hyperparameters()
        X = self._validate_X(X, reset=True)
        y, condition, kwargs = self._legacy_fit_arguments(y, args, condition, kwargs)
        self._standard = _standard(X) if getattr(self, "standardize", False) else None
        Z = self._standardized(X)
        self._fitting = True
        try:
            fit(self, Z, y, condition=condition, **kwargs)
        finally:
            self._fitting = False
        from adkit.features.ranges import fit_ranges

        self.input_ranges_ = fit_ranges(X)  # what it was fitted on: the out-of-range check of a saved model
        self.decision_scores_ = np.asarray(self._training_scores(Z, condition), dtype=np.float64)
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

    Subclasses implement ``fit(X, y=None, *, condition=None, options=None)`` (returns ``self``,
    fitted state in attributes ending ``_``), ``_score`` (float64[n], higher = more anomalous),
    ``_tensors()`` and ``_load_tensors()``. ``state()`` / ``from_state()`` round-trip a fitted
    detector through JSON + arrays; pickling goes the same way.
    """

    name: ClassVar[str] = ""
    #: Score components besides ``score`` (e.g. the VAE's ``reco`` and ``kl``).
    components: ClassVar[tuple[str, ...]] = ()
    #: The values of the ``score`` parameter of a detector with several scores (empty: no choice).
    score_kinds: ClassVar[tuple[str, ...]] = ()
    #: Rules of this class's own parameters (adkit.validation.Rule), over the shared PARAM_RULES.
    param_rules: ClassVar[dict] = {}
    #: Capabilities, declared once per class; ``uses_condition``, ``latent``, ... mirror them.
    tags: ClassVar[Tags] = Tags()
    uses_condition: ClassVar[bool] = False
    uses_target: ClassVar[bool] = False
    latent: ClassVar[bool] = False
    sequence: ClassVar[bool] = False
    two_sample: ClassVar[bool] = False
    #: Input scaling of collider events under ``--preprocessing auto`` (:mod:`adkit.features.preprocess`).
    preprocessing: ClassVar[str] = "physics"
    #: The stride of a series model when ``--stride`` is not given: ``"one"`` (every window: a
    #: matrix-profile discord or a rolling score is defined on all of them) or ``"auto"`` (the largest
    #: stride up to window/4 that still gives ``MIN_WINDOWS`` training windows, where the data allows).
    series_stride: ClassVar[str] = "auto"
    #: pyod's share of training events ``predict`` calls anomalous; every built-in detector takes it as
    #: a parameter, a plug-in without one gets this.
    contamination: float = 0.1
    #: Parameters added after model files were first written, with the value a file without them meant.
    legacy_params: ClassVar[dict[str, Any]] = {"standardize": False}

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        for name in Tags.__dataclass_fields__:  # the flags mirror the declared tags, one source of truth
            setattr(cls, name, getattr(cls.tags, name))
        _adopt_old_protocol(cls)
        if "fit" in cls.__dict__:
            cls.fit = _fit_then_score_training_set(cls.__dict__["fit"])

    # --- parameters (scikit-learn's conventions) ----------------------------------------------
    @property
    def score_kind(self) -> str | None:
        """The ``score`` parameter (a method name in scikit-learn, so stored under this name)."""
        return getattr(self, "_score_kind", None)

    @score_kind.setter
    def score_kind(self, value: str) -> None:
        self._score_kind = value

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Hyper-parameters by name (scikit-learn's convention; ``deep`` is accepted, there is nothing nested)."""
        return {k: getattr(self, "score_kind" if k == "score" and self.score_kinds else k) for k in self.param_names()}

    def set_params(self, **params) -> Detector:
        """Change hyper-parameters; unknown names are refused here, values are checked by ``fit``."""
        valid = self.param_names()
        bad = [k for k in params if k not in valid]
        if bad:
            raise ConfigError(f"detector {self.name!r} has no parameter {bad[0]!r}; valid: {', '.join(valid)}")
        for k, v in params.items():
            setattr(self, "score_kind" if k == "score" and self.score_kinds else k, v)
        return self

    def check_hyperparameters(self) -> None:
        """Types and ranges of every hyper-parameter (:data:`adkit.validation.PARAM_RULES`)."""
        from adkit.validation import check_params

        check_params(self.get_params(), f"detector {self.name!r}", self.rules())
        self.check_score_kind()

    @classmethod
    def rules(cls) -> dict:
        """The rule of each hyper-parameter: the class's own (``param_rules``; ``score`` is one of its
        ``score_kinds``) over :data:`adkit.validation.PARAM_RULES`."""
        from adkit.validation import PARAM_RULES, choice

        own = {"score": choice(*cls.score_kinds)} if cls.score_kinds else {}
        return {**PARAM_RULES, **own, **cls.param_rules}

    def check_score_kind(self) -> None:
        """Detectors with several scores take a ``score`` parameter (stored as ``score_kind``) naming one."""
        if self.score_kinds and self.score_kind not in self.score_kinds:
            raise ConfigError(f"{self.name}: score must be one of {', '.join(self.score_kinds)}, "
                              f"got {self.score_kind!r}")

    def input_scaling(self) -> str:
        """The preprocessing ``--preprocessing auto`` gives this detector (the class's, unless its
        parameters decide it, as an ensemble's first member does)."""
        return self.preprocessing

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

        check_params(params, f"detector {cls.name!r}", cls.rules())
        return cls(**params)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # a student regresses its teacher's score and NPLM learns data against a reference: both need y,
        # neither is an outlier detector in scikit-learn's sense (nor a regressor scored by R²)
        tags.estimator_type = None if (self.uses_target or self.two_sample) else "outlier_detector"
        tags.target_tags.required = self.uses_target or self.two_sample
        tags.input_tags.allow_nan = False
        return tags

    # --- inputs ---------------------------------------------------------------------------------
    def _legacy_fit_arguments(self, y, args: tuple, condition, kwargs: dict):
        """Before adkit 0.2 the second argument of ``fit`` was the condition and the third the target
        (``fit(X, C, y, options)``); those calls still work, with a FutureWarning."""
        if args:
            warnings.warn(f"{self.name}.fit(X, condition, y): pass the condition and options as keywords, "
                          "fit(X, y, condition=C); the positional form goes in adkit 0.3", FutureWarning, stacklevel=3)
            condition, y = y, args[0]
            if len(args) > 1:
                kwargs["options"] = args[1]
        elif y is not None and condition is None and self.uses_condition and not self.uses_target \
                and not _labels_like(y):
            warnings.warn(f"{self.name}.fit(X, C): the second argument is scikit-learn's y (labels, ignored); a "
                          "condition goes as fit(X, condition=C). Taken as the condition until adkit 0.3",
                          FutureWarning, stacklevel=3)
            condition, y = y, None
        return y, condition, kwargs

    def _validate_X(self, X, reset: bool) -> np.ndarray:
        """scikit-learn's input validation: 2-D, real, finite, at least 2 events to fit, the feature
        count of ``fit`` (and its column names, for a DataFrame)."""
        try:
            return validate_data(self, X, reset=reset, dtype=(np.float64, np.float32),
                                 ensure_min_samples=2 if reset else 0)
        except ValueError as e:  # scikit-learn's message, as adkit's error (one line in the CLI)
            text = " ".join(str(e).split())
            if "NaN" in text or "infinity" in text:
                text = f"the events hold NaN/inf values ({text}); fill or drop them, or check the input scaling"
            raise ConfigError(f"{self.name}: {text}") from None

    def _prepared(self, X) -> np.ndarray:
        """Events to score, fitted detector checked, validated and standardised as in ``fit``."""
        self._check_fitted()
        return self._standardized(self._validate_X(X, reset=False))

    def _standardized(self, X: np.ndarray) -> np.ndarray:
        """Inputs as the detector's own code sees them: standardised with the training mean and scale
        when ``standardize`` is on (networks fitted on raw arrays), unchanged otherwise."""
        st = getattr(self, "_standard", None)
        if st is None:
            return X
        return ((X - st[0]) / st[1]).astype(X.dtype, copy=False)

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
        if not np.isfinite(c).all():
            raise ConfigError(f"{self.name}: the condition contains NaN or infinity")
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

    # --- to implement -----------------------------------------------------------------------
    def fit(self, X: np.ndarray, y: np.ndarray | None = None, *, condition: np.ndarray | None = None,
            options: TrainOptions | None = None) -> Detector:
        raise NotImplementedError

    def _score(self, X: np.ndarray, condition: np.ndarray | None = None) -> np.ndarray:
        """Per-event anomaly scores of validated events, float64[n], higher = more anomalous."""
        raise NotImplementedError

    def _score_components(self, X: np.ndarray, condition: np.ndarray | None = None) -> dict[str, np.ndarray]:
        return {"score": self._score(X, condition)}

    def _training_scores(self, X: np.ndarray, condition: np.ndarray | None = None) -> np.ndarray:
        """``decision_scores_``: the training events' scores (a nearest-neighbour detector leaves each out)."""
        return self._score(X, condition)

    def _tensors(self) -> tuple[dict, dict[str, np.ndarray]]:
        raise NotImplementedError

    def _load_tensors(self, config: dict, tensors: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    # --- scores ------------------------------------------------------------------------------
    def decision_function(self, X: np.ndarray, condition: np.ndarray | None = None) -> np.ndarray:
        """Per-event anomaly scores, float64[n], higher = more anomalous (pyod's convention)."""
        return self._score(self._prepared(X), condition)

    def score_components(self, X: np.ndarray, condition: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """All score kinds this detector offers, ``score`` (= ``decision_function``) first."""
        return self._score_components(self._prepared(X), condition)

    def score_samples(self, X: np.ndarray, condition: np.ndarray | None = None) -> np.ndarray:
        """scikit-learn's convention: the opposite of the anomaly score (lower = more abnormal);
        ``score_samples(X) - offset_`` is ≥ 0 for events ``predict`` calls normal, as in scikit-learn."""
        return -self.decision_function(X, condition)

    def score(self, X: np.ndarray, y: np.ndarray | None = None, *, condition: np.ndarray | None = None) -> float:
        """One number, higher = the events look more normal: the mean of ``score_samples`` (for a
        likelihood-based detector, a mean log-likelihood up to constants). ``y`` is ignored; rank
        detectors by labels with ``scoring="roc_auc"``. Per-event scores: :meth:`decision_function`."""
        return float(np.mean(self.score_samples(X, condition)))

    # --- thresholds and labels (pyod's conventions) ------------------------------------------
    def set_threshold(self, contamination: float | None = None, rate_khz: float | None = None,
                      bunch_rate_mhz: float = 40.0) -> Detector:
        """``threshold_`` from the training scores: the share ``contamination`` above it (pyod), or a
        trigger rate in kHz of a ``bunch_rate_mhz`` input; ``labels_`` and ``offset_`` follow."""
        from adkit.metrics import rate_to_fpr, threshold_at_fpr

        if getattr(self, "decision_scores_", None) is None:
            raise NotFittedError(f"detector {self.name!r} has no training scores; call fit() first")
        fpr = rate_to_fpr(rate_khz, bunch_rate_mhz) if rate_khz is not None else \
            (self.contamination if contamination is None else contamination)
        if not 0 < fpr < 1:
            raise ConfigError(f"{self.name}: the share above the threshold must be in (0, 1), got {fpr}")
        t = threshold_at_fpr(self.decision_scores_, fpr)
        above = self.decision_scores_[self.decision_scores_ > t]
        # halfway to the next score up: an event scored again in another batch (rounding) keeps its label
        self.threshold_ = float(t + (above.min() - t) / 2) if len(above) and np.isfinite(above.min()) else t
        self.threshold_share_ = float(fpr)
        self.labels_ = (self.decision_scores_ > self.threshold_).astype(int)
        self.offset_ = -self.threshold_
        return self

    def _check_threshold(self, scores: bool = False) -> None:
        if getattr(self, "threshold_", None) is None:
            raise NotFittedError(f"detector {self.name!r} has no threshold; call fit() or set_threshold() first")
        if scores and getattr(self, "decision_scores_", None) is None:
            raise NotFittedError(f"detector {self.name!r} was saved without its training scores (a model trained "
                                 "on files): probabilities, confidences and ranks need them; fit it again")

    def predict(self, X: np.ndarray, return_confidence: bool = False, *,
                condition: np.ndarray | None = None) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """1 for events scoring above ``threshold_`` (anomalous), 0 otherwise (pyod's convention);
        with ``return_confidence``, also :meth:`predict_confidence`."""
        if not isinstance(return_confidence, bool):  # before 0.2: predict(X, condition)
            warnings.warn(f"{self.name}.predict(X, C): pass the condition as predict(X, condition=C)",
                          FutureWarning, stacklevel=2)
            condition, return_confidence = return_confidence, False
        self._check_threshold(scores=return_confidence)
        s = self.decision_function(X, condition)
        labels = (s > self.threshold_).astype(int)
        if return_confidence:
            return labels, outputs.confidence(self.decision_scores_, s, self.threshold_share_, labels)
        return labels

    def predict_proba(self, X: np.ndarray, method: str = "linear", return_confidence: bool = False, *,
                      condition: np.ndarray | None = None) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """[n, 2]: probability of normal and of anomalous, from the training scores by ``method``
        ``linear`` (min-max) or ``unify`` (Gaussian, erf), as pyod."""
        if method not in outputs.PROBABILITY_METHODS:
            raise ValueError(f"{method!r} is not a probability method; use one of "
                             f"{', '.join(outputs.PROBABILITY_METHODS)}")
        self._check_threshold(scores=True)
        s = self.decision_function(X, condition)
        probs = outputs.probability(self.decision_scores_, s, method)
        if return_confidence:
            labels = (s > self.threshold_).astype(int)
            return probs, outputs.confidence(self.decision_scores_, s, self.threshold_share_, labels)
        return probs

    def predict_confidence(self, X: np.ndarray, *, condition: np.ndarray | None = None) -> np.ndarray:
        """How surely each prediction would stay the same on a redrawn training set, in [0, 1] (ExCeeD)."""
        return self.predict(X, return_confidence=True, condition=condition)[1]

    def predict_with_rejection(self, X: np.ndarray, T: float = 32, return_stats: bool = False, delta: float = 0.1,
                               c_fp: float = 1, c_fn: float = 1, c_r: float = -1, *,
                               condition: np.ndarray | None = None):
        """``predict`` with -2 for predictions not confident at 1 − 2e^−T (pyod); with ``return_stats``
        also [expected rejection rate, its upper bound, upper bound of the cost]. Costs of a false
        positive, a false negative and a rejection: ``c_fp``, ``c_fn``, ``c_r`` (< 0: the contamination)."""
        self._check_threshold(scores=True)
        s = self.decision_function(X, condition)
        labels = outputs.reject(outputs.outlier_confidence(self.decision_scores_, s, self.threshold_share_),
                                (s > self.threshold_).astype(int), T)
        if return_stats:
            return labels, list(self.compute_rejection_stats(T, delta, c_fp, c_fn, c_r))
        return labels

    def compute_rejection_stats(self, T: float = 32, delta: float = 0.1, c_fp: float = 1, c_fn: float = 1,
                                c_r: float = -1) -> tuple[float, float, float]:
        """Expected rejection rate, its upper bound (probability 1 − delta) and the cost's upper bound."""
        self._check_threshold(scores=True)
        return outputs.rejection_stats(len(self.decision_scores_), self.threshold_share_, T, delta, c_fp, c_fn, c_r)

    def _predict_rank(self, X: np.ndarray, normalized: bool = False, *,
                      condition: np.ndarray | None = None) -> np.ndarray:
        """pyod's rank: how many training scores lie below each event's score, made continuous so that
        order is kept everywhere: interpolated between neighbouring training scores, and squashed into
        the unit below the lowest and above the highest (divided by the largest with ``normalized``)."""
        self._check_threshold(scores=True)
        t = np.sort(self.decision_scores_)
        s = self.decision_function(X, condition)
        spread = float(np.std(t)) or 1.0
        ranks = np.interp(s, t, np.arange(1, len(t) + 1, dtype=np.float64))
        ranks = np.where(s < t[0], np.exp(-(t[0] - s) / spread), ranks)
        ranks = np.where(s > t[-1], len(t) + 1 - np.exp(-(s - t[-1]) / spread), ranks)
        return ranks / max(float(ranks.max(initial=0.0)), 1e-300) if normalized else ranks

    def fit_predict(self, X: np.ndarray, y: np.ndarray | None = None, **kwargs) -> np.ndarray:
        """Fit, then the labels of the training events."""
        return self.fit(X, y, **kwargs).labels_

    def fit_predict_score(self, X: np.ndarray, y: np.ndarray, scoring: str = "roc_auc_score", **kwargs) -> float:
        """Fit on ``X`` (labels ``y`` unused by the fit) and rate the training scores against ``y``:
        ``roc_auc_score`` or ``prc_n_score`` (precision at rank n, n = the number of outliers), as pyod."""
        if scoring not in ("roc_auc_score", "prc_n_score"):
            raise NotImplementedError(f"scoring {scoring!r}: only roc_auc_score and prc_n_score, as pyod")
        self.fit(X, None if not (self.uses_target or self.two_sample) else y, **kwargs)
        y = np.asarray(y).ravel()
        if scoring == "roc_auc_score":
            from sklearn.metrics import roc_auc_score

            return float(roc_auc_score(y, self.decision_scores_))
        top = np.argsort(-self.decision_scores_, kind="stable")[: int(np.sum(y == 1))]
        return float(np.mean(y[top] == 1)) if len(top) else 0.0

    # --- state ---------------------------------------------------------------------------------
    @property
    def is_fitted(self) -> bool:
        return any(k.endswith("_") and not k.startswith("_") and v is not None for k, v in vars(self).items())

    def __sklearn_is_fitted__(self) -> bool:
        return self.is_fitted

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError(f"detector {self.name!r} is not fitted; call fit() first")

    def state(self, training_scores: bool = True) -> tuple[dict, dict[str, np.ndarray]]:
        """The fitted detector as JSON and arrays: parameters, its own tensors, and ``fit``'s outputs
        (the training scores too, unless ``training_scores`` is False: a model trained on files keeps
        its thresholds in the model file and does not carry a score per training event)."""
        self._check_fitted()
        config, tensors = self._tensors()
        config = {"params": self.get_params(), **config}
        if getattr(self, "threshold_", None) is not None:
            names = getattr(self, "feature_names_in_", None)
            config["fitted"] = {"threshold": float(self.threshold_), "share": float(self.threshold_share_),
                                "n_features_in": int(self.n_features_in_),
                                "feature_names_in": None if names is None else [str(n) for n in names],
                                "input_ranges": getattr(self, "input_ranges_", None)}
            if training_scores and getattr(self, "decision_scores_", None) is not None:
                tensors = {**tensors, FITTED_TENSOR: np.asarray(self.decision_scores_, dtype=np.float64)}
        if getattr(self, "_standard", None) is not None:
            tensors = {**tensors, "fit.mean": self._standard[0], "fit.scale": self._standard[1]}
        return config, tensors

    @classmethod
    def from_state(cls, config: dict, tensors: dict[str, np.ndarray]) -> Detector:
        params = {**{k: v for k, v in cls.legacy_params.items() if k in cls.param_names()},
                  **dict(config.get("params", {}))}
        defaults = inspect.signature(cls.__init__).parameters
        for k, v in params.items():  # JSON has no tuples: a tuple parameter comes back a tuple
            if isinstance(v, list) and k in defaults and isinstance(defaults[k].default, tuple):
                params[k] = tuple(v)
        det = cls.from_params(params)
        own = {k: v for k, v in tensors.items() if not k.startswith(FIT_PREFIX)}
        det._load_tensors({k: v for k, v in config.items() if k not in ("params", "fitted")}, own)
        if getattr(det, "standardize", False):
            if "fit.mean" not in tensors or "fit.scale" not in tensors:
                from adkit.errors import ModelFileError

                raise ModelFileError(f"{cls.name}: standardize is on but the file has no fit.mean/fit.scale")
            det._standard = (np.asarray(tensors["fit.mean"], dtype=np.float64),
                             np.asarray(tensors["fit.scale"], dtype=np.float64))
        fitted = config.get("fitted")
        if fitted is not None:
            scores = tensors.get(FITTED_TENSOR)
            det._restore_fitted(fitted, None if scores is None else np.asarray(scores, dtype=np.float64))
        return det

    def _restore_fitted(self, fitted: dict, scores: np.ndarray | None) -> None:
        from adkit.errors import ModelFileError

        try:
            self.n_features_in_ = int(fitted["n_features_in"])
            if fitted.get("feature_names_in") is not None:
                self.feature_names_in_ = np.asarray([str(n) for n in fitted["feature_names_in"]], dtype=object)
            if fitted.get("input_ranges") is not None:
                self.input_ranges_ = fitted["input_ranges"]
            self.threshold_ = float(fitted["threshold"])
            self.threshold_share_ = float(fitted["share"])
        except (KeyError, TypeError, ValueError) as e:
            raise ModelFileError(f"{self.name}: the stored fit is damaged ({type(e).__name__}: {e})") from None
        self.offset_ = -self.threshold_
        if scores is not None:
            self.decision_scores_ = scores.reshape(-1)
            self.labels_ = (self.decision_scores_ > self.threshold_).astype(int)

    def __getstate__(self) -> dict:
        """Pickle (and joblib, deepcopy) through :meth:`state`: the same JSON and arrays as a model file."""
        if not self.is_fitted:
            return {"params": self.get_params()}
        config, tensors = self.state()
        return {"config": config, "tensors": tensors}

    def __setstate__(self, saved: dict) -> None:
        if "config" in saved:
            other = type(self).from_state(saved["config"], saved["tensors"])
        else:
            other = type(self)(**saved["params"])
        self.__dict__.update(other.__dict__)


def _labels_like(y) -> bool:
    """scikit-learn's y for an outlier detector: one integer label per event (a condition, adkit
    0.1's second argument, is a float array or has several columns)."""
    y = np.asarray(y)
    return y.ndim == 1 and (y.dtype.kind in "iub" or (y.dtype.kind == "f" and bool(np.all(y == np.round(y)))))


def _adopt_old_protocol(cls) -> None:
    """A plug-in written for adkit 0.1 (``fit(X, condition, y)``, per-event ``score(X, condition)``)
    keeps working, with a FutureWarning: its ``score`` becomes ``_score`` and its ``fit`` is called
    with the old argument order."""
    old_fit, old_score = cls.__dict__.get("fit"), cls.__dict__.get("score")
    old_style_fit = old_fit is not None and list(inspect.signature(old_fit).parameters)[2:3] == ["condition"]
    old_style_score = old_score is not None and "_score" not in cls.__dict__
    if not (old_style_fit or old_style_score):
        return
    warnings.warn(f"detector {cls.__name__}: fit(X, condition, y) and a per-event score(X, condition) are adkit "
                  "0.1's protocol; implement fit(X, y=None, *, condition=None, options=None) and _score(X, "
                  "condition) (docs/detectors.md). The old form goes in adkit 0.3", FutureWarning, stacklevel=3)
    if old_style_score:
        cls._score = old_score
        del cls.score
    if old_style_fit:
        @functools.wraps(old_fit)
        def fit(self, X, y=None, *, condition=None, options=None, **kwargs):
            if options is not None:
                kwargs["options"] = options
            return old_fit(self, X, condition, y, **kwargs)

        cls.fit = fit


def _standard(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and scale (1 for a constant feature), float64."""
    X = np.asarray(X, dtype=np.float64)
    mean, scale = X.mean(axis=0), X.std(axis=0)
    return mean, np.where(scale > 1e-12 * np.maximum(1.0, np.abs(mean)), scale, 1.0)
