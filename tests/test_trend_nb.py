"""Tests of the ``trend-nb`` model: likelihood kernels, parameter recovery, coverage of the
confidence intervals, simulated paths, and fits to every real series."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from scipy import optimize, stats

from simulate.data import load_all
from simulate.errors import ModelError
from simulate.models import DailySeries, FittedModel, ModelSpec, daily_series, describe, fit
from simulate.models.nb import (
    LOG_MU_CAP,
    covariance_from_hessian,
    nb_constant,
    nb_hessian,
    nb_loglik,
    nb_objective,
)

Z95 = stats.norm.ppf(0.975)


def nb_series(
    seed: int,
    *,
    n: int,
    level: float,
    k: float,
    slope: float,
    step: int = 1,
    dow: np.ndarray | None = None,
    start: date = date(2024, 1, 1),
) -> DailySeries:
    """Negative-binomial counts with log mean log(level) + slope t (+ weekday effect), t = 0
    on the last day, drawn as a gamma-Poisson mixture and rounded to multiples of `step`."""
    rng = np.random.Generator(
        np.random.PCG64(np.random.SeedSequence([seed, n, int(level), int(k)]))
    )
    t = np.arange(-(n - 1), 1, dtype=np.float64)
    log_mu = math.log(level) + slope * t
    if dow is not None:
        weekday = (start.weekday() + np.arange(n)) % 7
        log_mu = log_mu + dow[weekday]
    mu = np.exp(log_mu)
    y = rng.poisson(rng.gamma(k, 1.0, size=n) * mu / k)
    if step > 1:
        y = (np.floor(y / step + 0.5) * step).astype(np.int64)
    return DailySeries.from_counts(y, step=step, start=start)


def trend(window: int | None = None, *, dow: bool = False) -> ModelSpec:
    return ModelSpec("trend-nb", window=window, options={"day_of_week": dow})


# --- likelihood kernels --------------------------------------------------------------------


def test_loglik_gradient_and_hessian_are_exact() -> None:
    rng = np.random.default_rng(np.random.SeedSequence(11))
    n = 60
    X = np.column_stack([np.ones(n), np.linspace(-1, 0, n), rng.normal(size=n)])
    y = rng.negative_binomial(3, 0.2, size=n).astype(np.float64)
    y[:5] = 0.0
    x = np.array([2.0, 0.4, -0.1, math.log(2.5)])
    const = nb_constant(y)

    def fun(v: np.ndarray) -> float:
        return nb_objective(X @ v[:3], float(v[3]), y, const)[0]

    def grad(v: np.ndarray) -> np.ndarray:
        _, g_eta, g_k = nb_objective(X @ v[:3], float(v[3]), y, const)
        return np.append(X.T @ g_eta, g_k)

    # the full log-likelihood is scipy's negative-binomial log-pmf summed
    k, mu = 2.5, np.exp(X @ x[:3])
    assert nb_loglik(X @ x[:3], x[3], y) == pytest.approx(
        stats.nbinom.logpmf(y, k, k / (k + mu)).sum(), rel=1e-12
    )
    assert optimize.check_grad(fun, grad, x) < 1e-5 * np.linalg.norm(grad(x)) + 1e-6
    # Hessian against central differences of the analytic gradient
    h = 1e-6
    numeric = np.array([(grad(x + h * e) - grad(x - h * e)) / (2 * h) for e in np.eye(4)])
    analytic = -nb_hessian(X, X @ x[:3], float(x[3]), y)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-6)


def test_kernels_stay_finite_at_the_bounds() -> None:
    y = np.array([0.0, 0.0, 3.0, 1000.0])
    for eta in (np.full(4, -60.0), np.full(4, 60.0)):
        for log_k in (math.log(1e-3), math.log(1e6)):
            f, g_eta, g_k = nb_objective(eta, log_k, y, nb_constant(y))
            H = nb_hessian(np.ones((4, 1)), eta, log_k, y)
            assert np.isfinite(f) and np.isfinite(g_eta).all() and np.isfinite(g_k)
            assert np.isfinite(H).all()


def test_covariance_marks_fixed_and_singular_parameters() -> None:
    H = -np.array([[4.0, 1.0, 0.0], [1.0, 2.0, 0.0], [0.0, 0.0, 1.0]])
    cov = covariance_from_hessian(H, np.array([False, False, True]))
    np.testing.assert_allclose(cov[:2, :2], np.linalg.inv(-H[:2, :2]))
    assert np.isnan(cov[2]).all() and np.isnan(cov[:, 2]).all()
    singular = -np.array([[1.0, 1.0], [1.0, 1.0]])
    assert np.isnan(covariance_from_hessian(singular, np.array([False, False]))).all()


# --- parameter recovery and honest uncertainty ----------------------------------------------

CASES = {
    # personnel-like: about 1,200 a day reported in tens; tanks-like: a handful a day
    "personnel-like": {"n": 180, "level": 1200.0, "k": 30.0, "slope": 0.002, "step": 10},
    "tanks-like": {"n": 180, "level": 8.0, "k": 5.0, "slope": -0.003, "step": 1},
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("seed", range(5))
def test_estimates_within_three_standard_errors(case: str, seed: int) -> None:
    c = CASES[case]
    model = fit(trend(), nb_series(seed, **c))  # type: ignore[arg-type]
    truth = {"log_level": math.log(c["level"]), "slope": c["slope"], "dispersion": c["k"]}
    for name, value in truth.items():
        est, se = model.params[name], model.stderr[name]
        assert np.isfinite(se) and se > 0
        assert abs(est - value) < 3 * se, (name, est, value, se)
    assert model.observation.family == "negbin"
    assert model.observation.granularity == c["step"]
    assert model.observation.dispersion == model.params["dispersion"]


def test_day_of_week_effects_are_recovered() -> None:
    dow = np.array([0.1, 0.05, 0.0, 0.0, -0.05, 0.1, -0.2])  # Monday first, sums to 0
    s = nb_series(3, n=364, level=300.0, k=20.0, slope=0.001, dow=dow)
    model = fit(trend(dow=True), s)
    names = ["dow_mon", "dow_tue", "dow_wed", "dow_thu", "dow_fri", "dow_sat", "dow_sun"]
    assert list(model.params) == ["log_level", "slope", *names, "dispersion"]
    est = np.array([model.params[n] for n in names])
    se = np.array([model.stderr[n] for n in names])
    assert est.sum() == pytest.approx(0.0, abs=1e-10)
    assert np.all(np.abs(est - dow) < 3 * se)
    assert model.cov is not None and model.cov.shape == (10, 10)
    # Sunday is derived: its variance is that of minus the sum of the six others
    six = model.cov[2:8, 2:8]
    assert model.cov[8, 8] == pytest.approx(six.sum(), rel=1e-9)
    # nine free parameters in the AIC
    assert model.aic == pytest.approx(2 * 9 - 2 * model.loglik)  # type: ignore[operator]
    # weekday effects reach the simulated intensity: detrended log mu follows the weekdays
    mu, _ = model.simulate(7, 4000, seed=0)
    h = np.arange(1, 8)
    weekday = (model.origin.weekday() + h) % 7
    expected = model.params["log_level"] + model.params["slope"] * h + est[weekday]
    np.testing.assert_allclose(np.median(np.log(mu), axis=1), expected, atol=0.01)


def replicate(case: dict[str, float], reps: int, *, dow: bool = False) -> dict[str, np.ndarray]:
    est, se = [], []
    names = ("log_level", "slope", "dispersion")
    for seed in range(reps):
        model = fit(trend(dow=dow), nb_series(seed, **case))  # type: ignore[arg-type]
        est.append([model.params[n] for n in names])
        se.append([model.stderr[n] for n in names])
    truth = np.array([math.log(case["level"]), case["slope"], case["k"]])
    return {"est": np.array(est), "se": np.array(se), "truth": truth}


@pytest.mark.parametrize("case", CASES)
def test_confidence_intervals_cover_and_standard_errors_match_the_spread(case: str) -> None:
    """200 seeded replicates (about half a second): the 95% intervals of log level and slope
    cover the truth 92-98% of the time, and the observed-information standard errors agree
    with the spread of the estimates within 15% (the sd of an sd from 200 draws is 5%)."""
    r = replicate(CASES[case], 200)
    covered = np.abs(r["est"] - r["truth"]) < Z95 * r["se"]
    coverage = covered.mean(axis=0)
    assert 0.92 <= coverage[0] <= 0.98, coverage
    assert 0.92 <= coverage[1] <= 0.98, coverage
    ratio = r["est"].std(axis=0, ddof=1) / np.sqrt(np.mean(r["se"] ** 2, axis=0))
    assert np.all(np.abs(ratio[:2] - 1) < 0.15), ratio
    # k is estimated with small-sample bias upward; its SE (delta method) is still about right
    assert abs(ratio[2] - 1) < 0.2, ratio


@pytest.mark.slow
@pytest.mark.parametrize(
    "case",
    [
        {"n": 60, "level": 1200.0, "k": 30.0, "slope": 0.004, "step": 10},
        {"n": 365, "level": 3.0, "k": 2.0, "slope": 0.001, "step": 1},
        {"n": 1500, "level": 900.0, "k": 8.0, "slope": 0.0008, "step": 10},
    ],
)
def test_coverage_on_other_windows_and_levels(case: dict[str, float]) -> None:
    """1,000 replicates each (a few seconds): a short window, a sparse over-dispersed series
    and the whole history. Measured: coverage 0.938-0.947, sd/se 0.99-1.05."""
    r = replicate(case, 1000)
    coverage = (np.abs(r["est"] - r["truth"]) < Z95 * r["se"]).mean(axis=0)
    assert np.all((coverage[:2] >= 0.92) & (coverage[:2] <= 0.98)), coverage
    ratio = r["est"].std(axis=0, ddof=1) / np.sqrt(np.mean(r["se"] ** 2, axis=0))
    assert np.all(np.abs(ratio[:2] - 1) < 0.1), ratio


# --- awkward figures ---------------------------------------------------------------------


def test_zeros_and_a_short_window_fit_without_warnings() -> None:
    y = np.array([0, 3, 0, 0, 1, 7, 0, 2, 0, 0, 0, 4, 1, 0])
    model = fit(trend(), DailySeries.from_counts(y))
    assert model.n_obs == 14 and model.diagnostics["n_zero"] == 8
    assert np.all(model.fitted > 0) and np.isfinite(model.loglik)  # type: ignore[arg-type]
    assert all(np.isfinite(model.params[n]) for n in model.params)
    fit(trend(dow=True), DailySeries.from_counts(y))


def test_single_event_at_the_edge_stays_finite() -> None:
    """One event on the first day sends the ML slope to minus infinity: the slope stops at
    its bound, is held fixed there (NaN standard error) and everything stays finite."""
    y = np.zeros(35, dtype=np.int64)
    y[0] = 2
    model = fit(trend(), DailySeries.from_counts(y))
    assert np.isnan(model.stderr["slope"])
    assert 0 < math.exp(model.params["log_level"]) < 1e-6
    mu, rep = model.simulate(30, 100, seed=0)
    assert np.all(np.isfinite(mu)) and np.all(rep == 0)


def test_all_zero_window_is_a_clear_error() -> None:
    s = DailySeries.from_counts(np.zeros(30, dtype=np.int64), name="submarines")
    with pytest.raises(ModelError) as info:
        fit(trend(), s)
    message = str(info.value)
    assert "\n" not in message
    assert "series 'submarines'" in message and "every daily figure" in message
    assert "'naive'" in message


def test_overdispersion_is_estimated_and_poisson_data_hit_the_bound() -> None:
    rng = np.random.default_rng(np.random.SeedSequence(5))
    model = fit(trend(), DailySeries.from_counts(rng.poisson(40.0, size=365)))
    # Poisson counts: k is large (practically no over-dispersion), and stays finite
    assert model.params["dispersion"] > 200
    assert np.isfinite(model.loglik)  # type: ignore[arg-type]
    assert model.diagnostics["dispersion"] == pytest.approx(1.0, abs=0.2)


# --- simulated paths ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def tanks_model() -> FittedModel:
    return fit(trend(dow=True), nb_series(1, n=180, level=8.0, k=5.0, slope=-0.003))


def test_paths_are_block_invariant_and_seeded(tanks_model: FittedModel) -> None:
    model = tanks_model
    mu90, y90 = model.simulate(90, 500, seed=1, block=90)
    mu7, y7 = model.simulate(90, 500, seed=1, block=7)
    mu1, _ = model.simulate(90, 500, seed=1, block=1)
    assert np.array_equal(mu90, mu7) and np.array_equal(y90, y7) and np.array_equal(mu1, mu90)
    mu_other, _ = model.simulate(90, 500, seed=2)
    assert not np.array_equal(mu90, mu_other)
    assert np.all(mu90 > 0) and np.all(y90 >= 0)


def test_simulated_quantiles_are_ordered_and_fitted_positive(tanks_model: FittedModel) -> None:
    model = tanks_model
    assert np.all(model.fitted > 0)
    _, y = model.simulate(60, 2000, seed=3)
    q = np.quantile(y, [0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975], axis=1)
    assert np.all(np.diff(q, axis=0) >= 0)


def test_paths_carry_the_parameter_uncertainty() -> None:
    """log mu on day h is a + b h: its mean and sd over paths are those of the estimates."""
    model = fit(trend(), nb_series(2, n=120, level=50.0, k=10.0, slope=0.001))
    mu, _ = model.simulate(30, 20000, seed=4)
    assert model.cov is not None
    for h in (1, 30):
        lm = np.log(mu[h - 1])
        mean = model.params["log_level"] + h * model.params["slope"]
        c = model.cov[:2, :2]
        sd = math.sqrt(c[0, 0] + 2 * h * c[0, 1] + h * h * c[1, 1])
        assert lm.mean() == pytest.approx(mean, abs=4 * sd / math.sqrt(20000))
        assert lm.std() == pytest.approx(sd, rel=0.03)
    # no process noise: each path is exactly log-linear
    d2 = np.diff(np.log(mu), n=2, axis=0)
    assert np.max(np.abs(d2)) < 1e-9


def test_long_horizons_cannot_overflow() -> None:
    y = (np.exp(0.05 * np.arange(60)) * 10).astype(np.int64)  # growing 5% a day
    model = fit(trend(), DailySeries.from_counts(y))
    mu, reported = model.simulate(3650, 50, seed=0, block=365)
    assert np.all(np.isfinite(mu)) and mu.max() <= math.exp(LOG_MU_CAP) * (1 + 1e-12)
    assert np.all(reported >= 0)


def test_summary_and_json_are_finite() -> None:
    model = fit(trend(), nb_series(0, n=180, level=1200.0, k=30.0, slope=0.002, step=10))
    d = describe(model)
    assert d["level"]["lo95"] <= d["level"]["median"] <= d["level"]["hi95"]
    assert d["growth_30d"]["median"] == pytest.approx(math.exp(30 * model.params["slope"]), 1e-2)
    assert set(d["params"]) == {"log_level", "slope", "dispersion"}


def test_fit_is_fast() -> None:
    """Benchmark, not a timing test: 1,500 days must fit; see the report for timings."""
    model = fit(trend(dow=True), nb_series(0, n=1500, level=900.0, k=8.0, slope=0.0008))
    assert model.n_obs == 1500


# --- real data -----------------------------------------------------------------------------

COMPILATIONS = {
    "petroivaniuk": ("pi_personnel", "pi_equipment", "pi_correction"),
    "lod-db": ("loddb",),
    "romansverdan": ("romansverdan",),
}


@pytest.mark.parametrize("source", COMPILATIONS)
def test_every_real_series_fits(shared: dict[str, Path], source: str) -> None:
    (data,) = load_all([shared[key] for key in COMPILATIONS[source]])
    fitted = 0
    for name in data.series_names:
        s = daily_series(data, name)
        for window in (None, 120):
            y = s.tail(window).y
            if not (y > 0).any():
                with pytest.raises(ModelError, match="every daily figure"):
                    fit(trend(window), s)
                continue
            for dow in (False, True):
                model = fit(trend(window, dow=dow), s)
                level = math.exp(model.params["log_level"])
                assert np.isfinite(level) and level > 0, (name, window)
                assert np.all(np.isfinite(model.fitted)) and np.all(model.fitted > 0)
                assert np.isfinite(model.loglik) and np.isfinite(model.aic)  # type: ignore[arg-type]
                if (y > 0).sum() >= 10:  # degenerate windows (one event) may lack an SE
                    assert np.isfinite(model.stderr["log_level"]), (name, window)
                    assert np.isfinite(model.stderr["slope"]), (name, window)
                fitted += 1
    assert fitted >= 4 * 14


def test_a_real_all_zero_window_is_a_model_error(shared: dict[str, Path]) -> None:
    (data,) = load_all([shared[k] for k in COMPILATIONS["petroivaniuk"]])
    s = daily_series(data, "submarines")
    assert not (s.tail(30).y > 0).any()  # no submarine reported in the last 30 days
    with pytest.raises(ModelError, match="series 'submarines'.*every daily figure"):
        fit(trend(30), s)
    assert fit(trend(None), s).params["log_level"] < 0  # the whole history has a few


def test_unidentified_dispersion_has_no_standard_error() -> None:
    # Poisson counts: the likelihood is flat in log k near its upper bound; k's standard
    # error must be reported as undefined, not as billions.
    y = np.random.default_rng(np.random.SeedSequence(5)).poisson(0.3, size=180)
    model = fit(ModelSpec("trend-nb"), DailySeries.from_counts(y, step=1))
    assert model.params["dispersion"] > 1e3
    assert math.isnan(model.stderr["dispersion"])
    assert math.isfinite(model.stderr["slope"]) and math.isfinite(model.stderr["log_level"])
