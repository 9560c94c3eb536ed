"""Tests of :mod:`simulate.data.steps`: the reporting granularity and the rolling level."""

from __future__ import annotations

import numpy as np

from simulate.data.steps import granularity, rolling_median


def test_granularity_tolerates_a_few_unrounded_reports() -> None:
    daily = np.array([1230, 1110, 990, 1240, 715] + [1000 + 10 * i for i in range(95)])
    assert granularity(daily) == 10
    assert granularity(np.array([3, 5, 7])) == 1
    assert granularity(np.array([0, 0])) == 1
    assert granularity(np.array([1000, 2000, 500])) == 500


def test_rolling_median_matches_a_plain_loop() -> None:
    rng = np.random.default_rng()
    x = rng.gamma(2.0, 100.0, size=rng.integers(1, 80))
    for window in (1, 3, 21, 61):
        half = window // 2
        expected = [np.median(x[max(0, i - half) : i + half + 1]) for i in range(x.size)]
        np.testing.assert_allclose(rolling_median(x, window), expected)
