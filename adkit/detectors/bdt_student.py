"""Boosted-decision-tree student for trigger firmware (a teacher's score regressed by trees).

The ATLAS route to an anomaly trigger under 25 ns: a VAE teacher distilled into a BDT. Trees
need no multiplier: each node compares one input with a constant, and the score is the sum of
one leaf per tree. scikit-learn's ``GradientBoostingRegressor`` fits the teacher's
(standardised log-)score; firmware comes from conifer (:mod:`adkit.firmware.bdt`).

Scoring here is the firmware's arithmetic, written independently of conifer: the input is
rounded to ``input`` (``ap_fixed``); the trees are grown on those words, and each threshold
(halfway between two words) is floored onto the same grid, which splits the words exactly as
before and which the firmware's threshold type holds exactly; each leaf value (already scaled by the learning rate) and the initial
prediction to ``score``, and the leaves are summed exactly. The ``score`` type gets enough
integer bits at fit time that the sum cannot overflow, so the order of the additions (conifer
sums in a tree of adders) cannot change it. The model file holds the trees as arrays.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from adkit.detectors.base import Detector, TrainOptions
from adkit.errors import ConfigError
from adkit.fixedpoint import FixedType
from adkit.validation import Rule

#: The inputs' type: the NN student's default input word, so both students read the same word.
DEFAULT_INPUT = "ap_fixed<14,6,AP_RND_CONV,AP_SAT>"
#: Fraction bits of the score (leaf values and their sum); the integer bits are set at fit time.
SCORE_FRAC = 10
LEAF = -2  # conifer's (and scikit-learn's) feature index of a leaf


class BDTStudent(Detector):
    """Gradient-boosted regression trees of a teacher's score; score = the quantized sum of leaves."""

    name = "bdt-student"
    tags = replace(Detector.tags, uses_target=True)
    param_rules = {"max_depth": Rule("int", 1, 12), "learning_rate": Rule("float", 0, 1, lo_open=True),
                   "input_precision": Rule("spec")}  # the type string is parsed by input_type()

    def __init__(self, n_estimators: int = 60, max_depth: int = 4, learning_rate: float = 0.2,
                 input_precision: str = DEFAULT_INPUT, n_train: int = 200_000, seed: int = 0,
                 contamination: float = 0.1) -> None:
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.input_precision = input_precision
        self.n_train = n_train
        self.seed = seed
        self.contamination = contamination

    def _validate(self) -> None:
        self.check_hyperparameters()  # ranges of n_estimators, max_depth, learning_rate (param_rules)
        t = self.input_type()
        if t.integer - int(t.signed) < 1:
            raise ConfigError(f"bdt-student: input precision {t} cannot hold 1 (conifer multiplies each input by a "
                              "one-hot weight of that type); give at least 2 integer bits")

    def input_type(self) -> FixedType:
        return FixedType.parse(self.input_precision, "bdt-student input precision")

    def score_type(self) -> FixedType:
        """``ap_fixed`` wide enough for the initial prediction plus the largest leaf of every tree."""
        self._check_fitted()
        return FixedType.parse(self.score_precision_, "bdt-student score precision")

    # --- training -------------------------------------------------------------------------------
    def fit(self, X: np.ndarray, y: np.ndarray | None = None, *, condition: np.ndarray | None = None,
            options: TrainOptions | None = None) -> BDTStudent:
        from sklearn.ensemble import GradientBoostingRegressor

        self._validate()
        self.check_condition(X, condition)
        y = self.check_target(X, y)
        X = np.asarray(X, dtype=np.float64)
        if len(X) > int(self.n_train):
            keep = np.sort(np.random.default_rng(self.seed).choice(len(X), int(self.n_train), replace=False))
            X, y = X[keep], y[keep]
        Xq = self.input_type().quantize(X)  # the trees split the words the firmware receives
        gbr = GradientBoostingRegressor(n_estimators=int(self.n_estimators), max_depth=int(self.max_depth),
                                        learning_rate=float(self.learning_rate), random_state=self.seed)
        gbr.fit(Xq, y)
        trees = [est[0].tree_ for est in gbr.estimators_]
        nodes = max(t.node_count for t in trees)
        self.feature_ = np.full((len(trees), nodes), LEAF, dtype=np.int32)
        self.cut_ = np.zeros((len(trees), nodes))
        self.value_ = np.zeros((len(trees), nodes))
        self.left_ = np.full((len(trees), nodes), -1, dtype=np.int32)
        self.right_ = np.full((len(trees), nodes), -1, dtype=np.int32)
        self.nodes_ = np.array([t.node_count for t in trees], dtype=np.int32)
        for i, t in enumerate(trees):
            n = t.node_count
            leaf = t.children_left[:n] == -1
            self.feature_[i, :n] = np.where(leaf, LEAF, t.feature[:n])
            self.cut_[i, :n] = np.where(leaf, 0.0, t.threshold[:n])
            self.value_[i, :n] = t.value[:n, 0, 0] * float(self.learning_rate)  # shrinkage folded into the leaves
            self.left_[i, :n], self.right_[i, :n] = t.children_left[:n], t.children_right[:n]
        # a threshold halfway between two input words, floored onto the input grid, splits the words
        # exactly as it did (x ≤ t ⇔ x ≤ floor(t) for x on the grid) and is held exactly by the firmware
        step = self.input_type().step
        self.cut_ = np.floor(self.cut_ / step) * step
        self.init_ = float(np.asarray(gbr.init_.predict(Xq[:1])).ravel()[0])
        self.n_features_in_ = X.shape[1]
        self.score_precision_ = self._score_precision()
        return self

    def _score_precision(self) -> str:
        bound = abs(self.init_) + np.abs(np.where(self.feature_ == LEAF, self.value_, 0.0)).max(axis=1).sum()
        integer = int(np.ceil(np.log2(bound + 1.0))) + 2  # sign bit and a margin for rounding up
        return f"ap_fixed<{integer + SCORE_FRAC},{integer},AP_RND_CONV,AP_SAT>"

    # --- the firmware's arithmetic --------------------------------------------------------------
    def quantized_trees(self) -> dict[str, np.ndarray]:
        """Thresholds in the input type, leaf values and the initial prediction in the score type."""
        self._check_fitted()
        t, s = self.input_type(), self.score_type()
        return {"feature": self.feature_, "left": self.left_, "right": self.right_,
                "threshold": t.quantize(self.cut_), "value": s.quantize(self.value_),
                "init": float(s.quantize(np.array([self.init_]))[0])}

    def leaves(self, X: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
        """Index of the leaf each event reaches in each tree: (events, trees); ``X <= threshold`` goes left."""
        X = np.asarray(X, dtype=np.float64)
        rows = np.arange(len(X))
        out = np.empty((len(X), len(self.feature_)), dtype=np.int64)
        for i in range(len(self.feature_)):
            node = np.zeros(len(X), dtype=np.int64)
            for _ in range(int(self.nodes_[i])):  # a path visits each node at most once
                f = self.feature_[i][node]
                leaf = f == LEAF
                if leaf.all():
                    break
                go_left = X[rows, np.where(leaf, 0, f)] <= thresholds[i][node]
                node = np.where(leaf, node, np.where(go_left, self.left_[i][node], self.right_[i][node]))
            else:
                if not (self.feature_[i][node] == LEAF).all():
                    raise ValueError("bdt-student: a tree path does not end in a leaf; the model file is damaged")
            out[:, i] = node
        return out

    def _check_X(self, X: np.ndarray) -> np.ndarray:
        self._check_fitted()
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ConfigError(f"{self.name}: expects {self.n_features_in_} features per event, got shape {X.shape}")
        return X

    def _score(self, X: np.ndarray, condition: np.ndarray | None = None) -> np.ndarray:
        """What the firmware computes: quantized input, thresholds and leaves, summed exactly."""
        self.check_condition(X, condition)
        X = self._check_X(X)
        q = self.quantized_trees()
        idx = self.leaves(self.input_type().quantize(X), q["threshold"])
        total = q["init"] + q["value"][np.arange(len(self.feature_))[None, :], idx].sum(axis=1)  # exact in float64
        return self.score_type().quantize(total)

    def float_score(self, X: np.ndarray) -> np.ndarray:
        """The trees in float64 (what scikit-learn predicts), for the report's ``student_float``."""
        X = self._check_X(X)
        idx = self.leaves(X, self.cut_)
        return self.init_ + self.value_[np.arange(len(self.feature_))[None, :], idx].sum(axis=1)

    def cost(self) -> dict:
        """Size of the student: trees, comparisons (internal nodes), leaves; no multiplications."""
        self._check_fitted()
        real = np.arange(self.feature_.shape[1])[None, :] < self.nodes_[:, None]
        internal = int((real & (self.left_ != -1)).sum())
        leaves = int((real & (self.left_ == -1)).sum())
        return {"trees": int(len(self.feature_)), "max_depth": int(self.max_depth), "comparisons": internal,
                "leaves": leaves, "parameters": internal + leaves, "multiplications": 0, "sparsity": 0.0,
                "input": str(self.input_type()), "score": str(self.score_type()), "layers": {}}

    # --- model file -----------------------------------------------------------------------------
    def _tensors(self) -> tuple[dict, dict[str, np.ndarray]]:
        return ({"init": self.init_, "score_precision": self.score_precision_, "n_features": int(self.n_features_in_)},
                {"feature": self.feature_, "threshold": self.cut_, "value": self.value_,
                 "left": self.left_, "right": self.right_, "nodes": self.nodes_})

    def _load_tensors(self, config: dict, tensors: dict[str, np.ndarray]) -> None:
        shape = tensors["feature"].shape
        if len(shape) != 2 or any(tensors[k].shape != shape for k in ("threshold", "value", "left", "right")):
            raise ValueError("bdt-student: the tree arrays disagree in shape; the model file is damaged")
        self.feature_ = tensors["feature"].astype(np.int32)
        self.cut_ = tensors["threshold"].astype(np.float64)
        self.value_ = tensors["value"].astype(np.float64)
        self.left_, self.right_ = tensors["left"].astype(np.int32), tensors["right"].astype(np.int32)
        n = shape[1]
        self.nodes_ = tensors["nodes"].astype(np.int32)
        if self.nodes_.shape != (shape[0],) or ((self.nodes_ < 1) | (self.nodes_ > n)).any():
            raise ValueError("bdt-student: the node counts disagree with the trees; the model file is damaged")
        for a in (self.left_, self.right_):
            if ((a < -1) | (a >= n)).any():
                raise ValueError("bdt-student: a child index points outside its tree; the model file is damaged")
        self.init_ = float(config["init"])
        self.score_precision_ = str(config["score_precision"])
        self.n_features_in_ = int(config["n_features"])
        if (self.feature_ >= self.n_features_in_).any():
            raise ValueError("bdt-student: a node reads a feature the model does not have; the model file is damaged")
