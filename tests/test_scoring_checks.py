"""The fast paths of scoring (issue 32) give what their plain definitions give."""
from __future__ import annotations

import numpy as np
import pytest

from adkit.features.preprocess import Standardizer
from adkit.features.ranges import WELL_SAMPLED, RangeCheck, fit_ranges


def _reference_counts(X: np.ndarray, ranges: dict) -> tuple[int, np.ndarray]:
    """Events with a well-sampled feature outside [min, max], and values outside per feature, in float64."""
    X = X.astype(np.float64)
    lo, hi = np.asarray(ranges["min"]), np.asarray(ranges["max"])
    checked = np.asarray(ranges["populated"]) >= WELL_SAMPLED
    out = ((X < lo) | (X > hi)) & checked
    return int(out.any(axis=1).sum()), out.sum(axis=0)


def test_range_check_float32_bounds_count_as_the_float64_definition():
    rng = np.random.default_rng(3)
    train = (rng.normal(size=(2000, 6)) * [1, 10, 1e3, 0.1, 1, 1]).astype(np.float32)
    train[:, 5] = np.where(rng.random(2000) < 0.05, train[:, 5], 0)  # a sparse feature: not checked
    ranges = fit_ranges(train)
    ranges["min"] = [v + 1e-9 for v in ranges["min"]]  # bounds that are not float32 numbers
    lo32, hi32 = np.float32(ranges["min"]), np.float32(ranges["max"])
    edges = np.stack([lo32, hi32, np.nextafter(lo32, -np.inf), np.nextafter(hi32, np.inf),
                      np.nextafter(lo32, np.inf), np.nextafter(hi32, -np.inf)]).astype(np.float32)
    X = np.concatenate([edges, (rng.normal(size=(5000, 6)) * [1.3, 12, 1.1e3, 0.1, 1, 1]).astype(np.float32)])
    check = RangeCheck(ranges, [f"f{i}" for i in range(6)])
    for s in range(0, len(X), 700):  # chunk by chunk, as scoring does
        check.update(X[s:s + 700])
    outside, per_feature = _reference_counts(X, ranges)
    assert check.events == len(X) and check.outside == outside > 0
    assert np.array_equal(check.per_feature, per_feature) and per_feature[5] == 0
    worst = check.worst(6)
    assert worst and all(np.isclose(w["mean_abs"], np.abs(X[:, int(w["feature"][1:])]).astype(np.float64).mean(),
                                    rtol=1e-5) for w in worst)


@pytest.mark.parametrize("log_columns", [[0, 3, 6, 9], [0, 1, 6]])  # evenly spaced (a view), and not
@pytest.mark.parametrize("padding", [False, True])
def test_standardizer_transform_is_the_columnwise_definition_bit_for_bit(log_columns, padding):
    rng = np.random.default_rng(5)
    X = np.abs(rng.normal(size=(3000, 10)) * 40).astype(np.float32)
    X[rng.random(X.shape) < 0.3] = 0
    X[:, 2] -= 20  # a signed column
    log = np.zeros(10, bool)
    log[log_columns] = True
    st = Standardizer(None, log, log if padding else None).fit(X)
    mean, inv = st.mean_, (1.0 / st.scale_).astype(np.float32)
    want = np.empty_like(X)
    for j in range(10):  # one column at a time, from the definition
        f = np.log1p(np.maximum(X[:, j], 0)) if log[j] else X[:, j]
        want[:, j] = (f - mean[j]) * inv[j]
        if padding and log[j]:
            want[X[:, j] == 0, j] = 0
    assert np.array_equal(st.transform(X), want)


def test_nan_check_passes_large_finite_values_and_finds_nan(tmp_path):
    from adkit.errors import InputError
    from adkit.io.readers import make_batch

    big = np.full((4, 3), 3e38, np.float32)  # finite, but their float32 sum overflows
    b = make_batch((0, big, None, None), "t.h5", "table", None, None, None)
    assert np.array_equal(b.features, big)
    bad = big.copy()
    bad[2, 1] = np.nan
    with pytest.raises(InputError, match="t.h5: 1 event"):
        make_batch((0, bad, None, None), "t.h5", "table", None, None, None)
    kept = make_batch((0, bad, None, None), "t.h5", "table", None, None, None, nan_policy="drop")
    assert np.array_equal(kept.entries, [0, 1, 3])
