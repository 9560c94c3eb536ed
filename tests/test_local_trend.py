"""Tests of the ``local-trend`` model's fit and paths: the reported likelihood, parameter
recovery and interval coverage on figures simulated from the model, forecast spread, simulation
invariants and every real series. The filter itself: tests/test_local_trend_filter.py."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from local_trend_support import TRUE, simulate_log_series

from simulate.data import load_all
from simulate.errors import ModelError
from simulate.models import DailySeries, FittedModel, ModelSpec, daily_series, describe, fit
from simulate.models import local_trend as lt
from simulate.models import local_trend_filter as ltf


def counts_from_log(x: np.ndarray) -> DailySeries:
    """Daily counts y with log(y + 0.5) = x (rounded; the levels stay in the hundreds or more)."""
    y = np.clip(np.rint(np.exp(x) - 0.5), 0, 1e12).astype(np.int64)
    return DailySeries.from_counts(y, step=1)


def fit_lt(s: DailySeries, *, damped: bool = True, window: int | None = None) -> FittedModel:
    return fit(ModelSpec("local-trend", window=window, options={"damped": damped}), s)


@pytest.fixture(scope="module")
def model() -> FittedModel:
    x, _, _ = simulate_log_series(365, 11, phi=0.95)
    return fit_lt(counts_from_log(x))


def test_reported_loglik_and_aic(model: FittedModel) -> None:
    p = model.params
    x = np.log(counts_from_log(simulate_log_series(365, 11, phi=0.95)[0]).y + 0.5)
    expected = ltf.loglik(x.tolist(), p["sigma_obs"], p["sigma_level"], p["sigma_slope"], p["phi"])
    assert model.loglik == pytest.approx(expected, abs=1e-6)
    assert model.aic == pytest.approx(2 * 6 - 2 * expected)  # 3 variances, phi, 2 initial states


# --- estimates -------------------------------------------------------------------------------


@pytest.mark.parametrize(("phi", "damped", "n"), [(0.95, True, 365), (1.0, False, 200)])
def test_parameter_recovery_within_three_standard_errors(phi: float, damped: bool, n: int) -> None:
    for seed in (21, 22, 23):
        x, level, slope = simulate_log_series(n, seed, phi=phi)
        m = fit_lt(counts_from_log(x), damped=damped)
        truth = {"level": level, "slope": slope, "sigma_obs": TRUE["sigma_obs"]}
        for name, value in truth.items():
            assert abs(m.params[name] - value) <= 3 * m.stderr[name], (seed, name, m.params)
        assert 0.8 < m.params["phi"] < 1.0 if damped else m.params["phi"] == 1.0


@pytest.mark.slow
@pytest.mark.parametrize(("phi", "damped", "n"), [(0.95, True, 365), (1.0, False, 200)])
def test_intervals_cover_at_the_nominal_rate(phi: float, damped: bool, n: int) -> None:
    """95% intervals of sigma_obs, the level and the slope cover the truth in 92-98% of 200
    fits.

    95% +- 3 binomial standard deviations would be 90.4-99.6%; the issue asks 92-98%. (Without
    the slope-noise bound of the module documentation the slope covered only 72-81%.)
    """
    replicates = 200
    covered = {"sigma_obs": 0, "level": 0, "slope": 0}
    for seed in range(replicates):
        x, level, slope = simulate_log_series(n, 10_000 + seed, phi=phi)
        m = fit_lt(counts_from_log(x), damped=damped)
        truth = {"sigma_obs": TRUE["sigma_obs"], "level": level, "slope": slope}
        for name in covered:
            covered[name] += abs(m.params[name] - truth[name]) <= 1.96 * m.stderr[name]
    for name, count in covered.items():
        assert 0.92 <= count / replicates <= 0.98, (name, count)


def test_undamped_fixes_phi_and_reports_no_standard_error() -> None:
    x, _, _ = simulate_log_series(200, 8, phi=1.0)
    m = fit_lt(counts_from_log(x), damped=False)
    assert m.params["phi"] == 1.0 and math.isnan(m.stderr["phi"])
    assert m.cov is not None and m.cov.shape == (6, 6) and np.all(np.isfinite(m.cov))
    assert m.cov[5, 5] == 0.0


def test_fitted_model_contents(model: FittedModel) -> None:
    names = ["level", "slope", "sigma_obs", "sigma_level", "sigma_slope", "phi"]
    assert list(model.params) == names
    assert set(model.stderr) == set(model.params)
    assert model.fitted.shape == (365,) and (model.fitted >= 0).all()
    obs = model.observation
    assert obs.family == "lognormal" and obs.offset == 0.5 and obs.granularity == 1
    assert obs.sigma == pytest.approx(model.params["sigma_obs"])
    for key in ("dispersion", "acf1", "acf7", "innovation_acf1", "n_clipped", "n_zero"):
        assert np.isfinite(model.diagnostics[key])
    # The model is true here: Pearson residuals have variance about 1, innovations are white.
    assert 0.7 < model.diagnostics["dispersion"] < 1.4
    assert abs(model.diagnostics["innovation_acf1"]) < 0.15
    # In-sample expected figures follow the data.
    y = counts_from_log(simulate_log_series(365, 11, phi=0.95)[0]).y
    assert np.corrcoef(model.fitted[2:], y[2:])[0, 1] > 0.5


def test_fit_uses_the_offset_for_zeros_and_rounding() -> None:
    y = np.array([0, 10, 20, 0, 30, 10, 0, 20, 40, 10, 0, 30, 20, 10, 0, 50] * 3)
    m = fit_lt(DailySeries.from_counts(y, step=10))
    assert m.observation.offset == 5.0 and m.diagnostics["n_zero"] > 0


def test_expected_figure_is_the_mean_of_the_clipped_lognormal() -> None:
    mean = np.array([8.0, 0.0, -0.7, -3.0])
    var = np.array([0.04, 0.5, 0.3, 0.2])
    got = lt._expected_figure(mean, var, 0.5)
    z = np.random.default_rng(0).standard_normal(400_000)
    mc = np.maximum(np.exp(mean[:, None] + np.sqrt(var)[:, None] * z) - 0.5, 0).mean(axis=1)
    assert got == pytest.approx(mc, rel=0.02, abs=1e-6)
    assert (got > 0).all()
    assert got[0] == pytest.approx(math.exp(8.02) - 0.5)


@pytest.mark.parametrize("value", [0, 7])
def test_constant_series_is_a_clear_error(value: int) -> None:
    s = DailySeries.from_counts(np.full(60, value), name="flat")
    with pytest.raises(ModelError, match=f"series 'flat': all 60 daily figures .* are {value}"):
        fit_lt(s)


# --- simulation ------------------------------------------------------------------------------


def test_forecast_spread_widens_with_the_horizon(model: FittedModel) -> None:
    mu, y = model.simulate(90, 4000, seed=3)
    c = model.observation.offset
    for values in (mu, y.astype(np.float64)):
        lo, hi = np.quantile(values[[6, 89]], [0.1, 0.9], axis=1)
        assert hi[1] - lo[1] > 1.5 * (hi[0] - lo[0])
        log_lo, log_hi = np.quantile(np.log(values[[6, 89]] + c), [0.1, 0.9], axis=1)
        assert log_hi[1] - log_lo[1] > 1.5 * (log_hi[0] - log_lo[0])


def test_simulated_level_matches_the_filtered_state(model: FittedModel) -> None:
    """The first simulated day is level + phi * slope plus noise: its log-scale mean and spread
    follow from the filtered state (a check of the state draw and the first step)."""
    p = model.params
    mu, _ = model.simulate(1, 20_000, seed=4)
    log_level = np.log(mu[0] + model.observation.offset) - p["sigma_obs"] ** 2 / 2
    assert log_level.mean() == pytest.approx(p["level"] + p["phi"] * p["slope"], abs=0.01)
    assert model.cov is not None
    c = model.cov
    var = c[0, 0] + 2 * p["phi"] * c[0, 1] + p["phi"] ** 2 * c[1, 1] + p["sigma_level"] ** 2
    assert log_level.std() == pytest.approx(math.sqrt(var), rel=0.05)


def test_simulation_invariants(model: FittedModel) -> None:
    mu, y = model.simulate(90, 500, seed=1)
    assert mu.shape == y.shape == (90, 500)
    assert np.isfinite(mu).all() and (mu > 0).all() and (y >= 0).all()
    q = np.quantile(y, [0.05, 0.25, 0.5, 0.75, 0.95], axis=1)
    assert (np.diff(q, axis=0) >= 0).all()
    again = model.simulate(90, 500, seed=1)
    assert np.array_equal(mu, again[0]) and np.array_equal(y, again[1])
    other = model.simulate(90, 500, seed=2)
    assert not np.array_equal(mu, other[0])


def test_block_size_does_not_change_the_draws(model: FittedModel) -> None:
    a = model.simulate(90, 500, seed=1, block=90)
    b = model.simulate(90, 500, seed=1, block=7)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_log_level_is_capped_on_explosive_paths() -> None:
    # A steep, noisy slope over a long horizon would overflow exp() without the cap.
    x = np.log(1000.0) + 0.05 * np.arange(60) + np.random.default_rng(0).normal(0, 0.3, 60)
    m = fit_lt(counts_from_log(x), damped=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mu, _ = m.simulate(2000, 200, seed=0, block=500)
    assert np.isfinite(mu).all()
    assert mu.max() <= math.exp(lt.LOG_LEVEL_CAP + m.params["sigma_obs"] ** 2 / 2)


def test_summary_runs(model: FittedModel) -> None:
    out = describe(model)
    assert out["level"]["lo95"] < out["level"]["median"] < out["level"]["hi95"]
    assert out["aic"] is not None and out["params"]["phi"] is not None


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 60), min_size=14, max_size=80).filter(lambda v: len(set(v)) > 1))
def test_any_varying_series_fits_or_fails_cleanly(values: list[int]) -> None:
    m = fit_lt(DailySeries.from_counts(np.array(values)))
    assert all(math.isfinite(v) for v in m.params.values())
    assert all(v >= 0 for k, v in m.params.items() if k.startswith("sigma"))
    assert m.loglik is not None and math.isfinite(m.loglik)
    assert (m.fitted >= 0).all()
    mu, y = m.simulate(30, 50, seed=0)
    assert np.isfinite(mu).all() and (mu >= 0).all() and (y >= 0).all()


# --- real data -------------------------------------------------------------------------------


def test_every_real_series_fits(shared: dict[str, Path]) -> None:
    compilations = load_all(list(shared.values()))
    assert len(compilations) == 3
    fitted = 0
    for data in compilations:
        for name in data.series_names:
            s = daily_series(data, name)
            for window in (None, 120):
                for damped in (True, False):
                    where = f"{data.source} {name} window={window} damped={damped}"
                    m = fit_lt(s, damped=damped, window=window)
                    assert all(math.isfinite(v) for v in m.params.values()), where
                    assert m.loglik is not None and math.isfinite(m.loglik), where
                    assert (m.fitted >= 0).all() and np.isfinite(m.fitted).all(), where
                    mu, _ = m.simulate(30, 20, seed=0)
                    assert np.isfinite(mu).all() and (mu >= 0).all(), where
                    fitted += 1
    assert fitted >= 3 * 14 * 4
