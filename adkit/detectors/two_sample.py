"""The base of two-sample detectors (NPLM): they learn data (y = 1) against a reference (y = 0)."""
from __future__ import annotations

import numpy as np

from adkit.detectors.base import Detector, Tags
from adkit.errors import ConfigError


class TwoSampleDetector(Detector):
    """A model of the log density ratio f(x) = log n(x|data)/n(x|reference), fitted on both samples
    together; the conformance suite skips its one-sample physics checks."""

    tags = Tags(uses_target=True, two_sample=True)

    def check_target(self, X: np.ndarray, y: np.ndarray | None) -> np.ndarray:
        """The data/reference labels as a boolean mask (True = data), or a one-line error."""
        if y is None:
            raise ConfigError(f"{self.name}: fit needs y (1 for data events, 0 for reference events); "
                              "run the test with `adkit nplm --reference ... --data ...`")
        t = np.asarray(y).reshape(-1)
        if len(t) != len(X) or not np.isin(t, (0, 1)).all():
            raise ConfigError(f"{self.name}: y must be {len(X)} labels, 1 for data and 0 for reference")
        if t.min() == t.max():
            raise ConfigError(f"{self.name}: y must contain both data (1) and reference (0) events")
        return t.astype(bool)
