"""Tests of the ``analog`` model (simulate/models/analog.py)."""

from __future__ import annotations

import numpy as np
import pytest

from simulate.errors import ModelError
from simulate.models import DailySeries, ModelSpec, fit
from simulate.models.analog import LEVEL_WINDOWS, level_of


def _poisson(mean: np.ndarray, seed: int) -> DailySeries:
    return DailySeries.from_counts(np.random.default_rng(seed).poisson(mean))


def test_level_is_the_blend_of_trailing_means() -> None:
    y = np.arange(100, dtype=float)
    lv = level_of(y)
    assert lv.shape == (100 - 55,)
    expect = np.mean([y[100 - w :].mean() for w in LEVEL_WINDOWS])
    assert lv[-1] == pytest.approx(expect)
    # along axis 0 for several paths at once
    two = level_of(np.column_stack([y, 2 * y]))
    np.testing.assert_allclose(two[:, 1], 2 * lv)


def test_mean_stays_at_the_current_level_without_drift() -> None:
    """Drift removed: the mean projected figure at every horizon is today's level, within
    Monte-Carlo error (20,000 paths; 4 standard errors)."""
    t = np.arange(1200)
    s = _poisson(40 * np.exp(0.001 * t), seed=3)  # growing: the past drifts upwards
    model = fit(ModelSpec("analog"), s)
    level = model.params["level"]
    _, y = model.simulate(90, 20_000, seed=1)
    means = y.mean(axis=1)
    se = y.std(axis=1) / np.sqrt(y.shape[1])
    # the drift-normalisation is smoothed over 7 days of the horizon: allow 1% for that
    assert np.all(np.abs(means - level) <= 4 * se + 0.01 * level)
    with_drift = fit(ModelSpec("analog", options={"drift": True}), s)
    _, yd = with_drift.simulate(90, 20_000, seed=1)
    # with drift, the past's growth of about 0.1% a day comes back: ~ +4.5% over 45 days
    growth = yd[60:].mean() / yd[:30].mean()
    assert 1.02 < growth < 1.08


def test_drift_is_kept_for_one_segment_and_not_compounded() -> None:
    """Growing by 0.2% a day: with drift the first 90 days keep that growth (about +12%
    between the first and the last month of the segment); the next segment starts from the
    level reached and stays there, within 3% (20,000 paths), instead of growing another 20%."""
    t = np.arange(1200)
    s = _poisson(40 * np.exp(0.002 * t), seed=8)
    model = fit(ModelSpec("analog", options={"drift": True}), s)
    _, y = model.simulate(180, 20_000, seed=3)
    month = lambda d: y[d : d + 30].mean()  # noqa: E731
    assert month(60) / month(0) > 1.08  # growth inside the first segment
    assert abs(month(150) / month(90) - 1) < 0.03  # none compounded in the second


def test_bands_widen_with_the_horizon_and_chain_past_one_segment() -> None:
    t = np.arange(1500)
    rng = np.random.default_rng(5)
    x = np.zeros(t.size)
    for i in range(1, t.size):  # an AR(1) log intensity: the level wanders
        x[i] = 0.99 * x[i - 1] + rng.normal(0, 0.03)
    s = DailySeries.from_counts(rng.poisson(100 * np.exp(x)))
    model = fit(ModelSpec("analog", options={"segment": 60}), s)
    _, y = model.simulate(200, 4000, seed=2)
    assert (y >= 0).all()
    week = lambda d: y[d : d + 7].sum(axis=0)  # noqa: E731
    spread = [np.subtract(*np.quantile(week(d), [0.9, 0.1])) for d in (0, 50, 120, 190)]
    assert spread[0] < spread[1] < spread[3]  # wider further out, across segment boundaries
    assert spread[2] < spread[3] * 1.1


def test_recent_analogs_weigh_more_with_a_short_half_life() -> None:
    """First half volatile, second half calm: a short half-life learns the calm spread."""
    rng = np.random.default_rng(7)
    n = 1400
    level = np.where(np.arange(n) < n // 2, 60 * np.exp(rng.normal(0, 0.6, n)), 60.0)
    s = DailySeries.from_counts(rng.poisson(level))
    short = fit(ModelSpec("analog", options={"half_life": 60.0}), s)
    long = fit(ModelSpec("analog", options={"half_life": 5000.0}), s)
    assert short.params["effective_analogs"] < long.params["effective_analogs"]
    width = []
    for m in (short, long):
        _, y = m.simulate(30, 4000, seed=3)
        total = y.sum(axis=0)
        width.append(np.subtract(*np.quantile(total, [0.9, 0.1])))
    assert width[0] < 0.7 * width[1]


def test_same_seed_same_paths_whatever_the_block() -> None:
    s = _poisson(np.full(800, 30.0), seed=1)
    model = fit(ModelSpec("analog", options={"segment": 40}), s)
    a = model.simulate(100, 300, seed=9, block=7)[1]
    b = model.simulate(100, 300, seed=9, block=64)[1]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, model.simulate(100, 300, seed=10)[1])


def test_sparse_series_replays_its_quiet_spells() -> None:
    y = np.zeros(600, dtype=np.int64)
    y[[100, 250, 400]] = 1
    model = fit(ModelSpec("analog"), DailySeries.from_counts(y))
    _, sim = model.simulate(90, 2000, seed=1)
    assert (sim >= 0).all() and sim.mean() < 0.05


def test_too_short_history_is_refused_with_the_reason() -> None:
    with pytest.raises(ModelError, match="needs at least 150"):
        fit(ModelSpec("analog"), _poisson(np.full(120, 10.0), seed=1))


def _two_regimes(seed: int, sd_then: float = 0.1, sd_now: float = 0.8) -> DailySeries:
    """A steady level of 200 a day: 1,000 days of lognormal day-to-day noise of sd `sd_then`,
    then 300 of sd `sd_now`."""
    rng = np.random.default_rng(seed)
    sd = np.r_[np.full(1000, sd_then), np.full(300, sd_now)]
    return DailySeries.from_counts(np.round(200 * np.exp(rng.normal(-(sd**2) / 2, sd))))


def test_daily_noise_comes_from_the_current_regime_for_one_segment() -> None:
    """A calm past (sd 0.1) and a wild present (sd 0.8), the past weighing most (half-life of
    5,000 days): over the first segment the daily figure's 80% band is today's noise,
    q90/q10 = exp(2 * 1.28 * 0.8), about 7.7, with the default regime of 91 days; replaying the
    analogs' own days (``regime = 0``) gives mostly the calm past's. Beyond the segment the
    current regime is not assumed to last: both replay the past's days."""
    s = _two_regimes(seed=11)
    ratio = {}
    for regime in (91, 0):
        opts = {"regime": regime, "half_life": 5000.0}
        _, y = fit(ModelSpec("analog", options=opts), s).simulate(120, 8000, seed=4)
        for part, days in (("first", slice(0, 7)), ("later", slice(100, 107))):
            q10, q90 = np.quantile(y[days], [0.1, 0.9], axis=1)
            ratio[regime, part] = float(np.median(q90 / q10))
    assert 5.5 < ratio[91, "first"] < 11, ratio  # 91 days estimate the sd within about 10%
    assert ratio[0, "first"] < 0.5 * ratio[91, "first"], ratio
    assert ratio[91, "later"] < 0.5 * ratio[91, "first"], ratio
    assert ratio[91, "later"] == pytest.approx(ratio[0, "later"], rel=0.25), ratio


def test_the_regime_noise_keeps_the_mean_at_the_level() -> None:
    """The deviations are scaled to mean 1: the mean daily figure stays at the level (4 se)."""
    s = _two_regimes(seed=12, sd_then=0.3, sd_now=0.5)
    model = fit(ModelSpec("analog"), s)
    _, y = model.simulate(60, 20_000, seed=5)
    level = model.params["level"]
    means = y.mean(axis=1)
    se = y.std(axis=1) / np.sqrt(y.shape[1])
    assert np.all(np.abs(means - level) <= 4 * se + 0.01 * level)


def test_one_step_quantiles_are_the_first_simulated_day() -> None:
    """The scored forecast of the next day is what a path's first day is: the same quantiles
    as 40,000 simulated first days, within their Monte-Carlo error (4 se of a quantile)."""
    from simulate.models.analog import one_step_quantiles

    s = _two_regimes(seed=13, sd_then=0.3, sd_now=0.5)
    levels = np.array([0.1, 0.25, 0.5, 0.75, 0.9])
    spec = ModelSpec("analog")
    q = one_step_quantiles(spec, s, 1, levels)[0]
    head = DailySeries.from_counts(s.y[:-1])
    _, y = fit(spec, head).simulate(1, 40_000, seed=6)
    sim = np.quantile(y[0], levels)
    # a quantile's se: sqrt(p (1 - p) / n) / density, the density from the sample's quantiles
    slope = (np.quantile(y[0], levels + 0.02) - np.quantile(y[0], levels - 0.02)) / 0.04
    se = slope * np.sqrt(levels * (1 - levels) / y.shape[1])
    assert np.all(np.abs(q - sim) <= 4 * se + 1), (q, sim)
