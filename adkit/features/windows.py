"""Time series → fixed vectors: sliding windows that never cross a gap, their context means,
and the way back from window scores to one score per input row."""
from __future__ import annotations

import numpy as np

from adkit.errors import ConfigError
from adkit.io.series import Series


def window_starts(series: Series, window: int, stride: int) -> np.ndarray:
    """Row index where each window starts; windows never cross a gap, and the last window of each
    segment ends on its last sample, so every sample of a segment at least one window long is
    covered (the stride only sets how far apart the others start)."""
    if window < 1 or stride < 1:
        raise ConfigError(f"--window and --stride must be >= 1, got {window}, {stride}")
    starts = []
    for a, b in series.segments():
        if b - a < window:
            continue
        s = np.arange(a, b - window + 1, stride)
        starts.append(s if s[-1] == b - window else np.append(s, b - window))
    return np.concatenate(starts).astype(np.int64) if starts else np.zeros(0, np.int64)


def uncovered(series: Series, window: int) -> int:
    """Samples in segments shorter than one window: no window covers them, their score is NaN."""
    return int(sum(b - a for a, b in series.segments() if b - a < window))


def window_matrix(values: np.ndarray, starts: np.ndarray, window: int) -> np.ndarray:
    """float32[n, window × C], time-major, for windows starting at ``starts``."""
    idx = starts[:, None] + np.arange(window)[None, :]
    return np.ascontiguousarray(values[idx].reshape(len(starts), -1), dtype=np.float32)


def window_context(context: np.ndarray | None, starts: np.ndarray, window: int) -> np.ndarray | None:
    """The mean of each context column over each window (a CVAE's condition)."""
    if context is None:
        return None
    c = np.cumsum(np.vstack([np.zeros((1, context.shape[1])), context.astype(np.float64)]), axis=0)
    return ((c[starts + window] - c[starts]) / window).astype(np.float32)


def labelled(labels: np.ndarray | None, starts: np.ndarray, window: int) -> np.ndarray:
    """Which windows hold at least one sample labelled anomalous (none when there are no labels)."""
    if labels is None:
        return np.zeros(len(starts), dtype=bool)
    c = np.concatenate([[0], np.cumsum(np.asarray(labels) != 0)])
    return c[starts + window] > c[starts]


def per_sample(scores: np.ndarray, starts: np.ndarray, window: int, n: int) -> np.ndarray:
    """One score per input row: the maximum over the windows covering it (NaN where none does)."""
    out = np.full(n, -np.inf)
    for k in range(window):  # window passes of a vectorised maximum, not n × window Python work
        np.maximum.at(out, starts + k, scores)
    out[np.isneginf(out)] = np.nan
    return out
