"""``trend-nb``: a negative-binomial log-linear trend of the daily figures.

In one sentence: *the expected daily figure grows (or shrinks) by a fixed percentage every
day, and the reported figures scatter around it more than pure chance would (negative
binomial noise)*.

The model, for the days of the fit window::

    y_t ~ NegBin(mean mu_t, variance mu_t + mu_t^2 / k)
    log mu_t = a + b t (+ e_{weekday(t)} with option ``day_of_week``)

with t in days and t = 0 on the last day of the window (the forecast origin), so that ``a``
is the log of the expected daily figure at the origin. Estimates are maximum likelihood
(SciPy's bounded truncated-Newton method with the analytic gradient, then a few Newton
steps with the analytic Hessian); their covariance is the inverse of the observed
information at the optimum, computed analytically in the (a, b, [e], log k)
parametrisation, and the standard error of k comes from that of log k by the delta method.
Time is scaled to the window ([-1, 0]) inside the optimiser so that the slope and the level
are of similar size; estimates are reported per day.

Documented choices:

* **Rounding is ignored in the likelihood.** Reported figures are multiples of the reporting
  granularity g (e.g. 10 for personnel); the likelihood treats them as exact counts. Rounding
  adds a variance of about g^2 / 12 (8 for g = 10), negligible next to the variance of
  figures reported in the hundreds or thousands. Simulated reports are rounded to g again.
* **Zeros** are counts like any other. A window in which every figure is 0 carries no
  information about a level or a trend and raises :class:`~simulate.errors.ModelError`.
* **Day-of-week effects** are sum-to-zero: seven effects ``dow_mon`` ... ``dow_sun`` (log
  scale) that add up to 0, of which six are free (``dow_sun`` is minus the sum of the
  others; its standard error is derived). ``log_level`` is then the level averaged over the
  week (geometric mean over weekdays).
* **Bounds** keep the optimiser and ``exp`` finite on degenerate windows (a single event at
  the edge of the window sends the maximum-likelihood slope to infinity): the log level lies
  in [-40, 40], the slope changes the log level by at most 30 over the window, each weekday
  effect lies in [-10, 10] and k in [1e-3, 1e6] (1e6 means: no over-dispersion, Poisson). A
  parameter that ends on a bound is held fixed there: its standard error is NaN and it is
  not drawn in simulations.
* **Simulated paths** draw (a, b, [e]) once per path from the normal distribution of the
  estimates (parameter uncertainty) and then follow mu = exp(a + b h [+ e]) for h = 1, 2, ...
  days after the origin, with no process noise; the log intensity is capped at
  :data:`LOG_MU_CAP` (1e9 a day) so that long horizons cannot overflow.

The negative-binomial regression kernels (likelihood, optimiser, covariance, draws) live in
:mod:`simulate.models.nb`, shared with :mod:`simulate.models.changepoint`.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np

from .base import FittedModel
from .nb import (
    LOG_K_BOUNDS,
    LOG_LEVEL_BOUNDS,
    LOG_MU_CAP,
    MAX_LOG_CHANGE,
    all_zero_error,
    covariance_from_hessian,
    minimise,
    nb_constant,
    nb_fitted_model,
    nb_hessian,
    nb_objective,
    newton_polish,
    normal_draws,
    on_bound,
    start_values,
)
from .series import DailySeries
from .smalllinalg import matmul, matvec, rmatvec
from .spec import ModelSpec

__all__ = ["fit_trend_nb", "trend_paths", "DOW_BOUNDS", "WEEKDAYS"]

#: Bounds of each weekday effect (log scale).
DOW_BOUNDS = (-10.0, 10.0)
#: Weekday names, Monday first (``date.weekday()`` order).
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# --------------------------------------------------------------------------------------
# The trend-nb model
# --------------------------------------------------------------------------------------


def _weekdays(start: date, n: int) -> np.ndarray:
    return np.asarray((start.weekday() + np.arange(n)) % 7, dtype=np.int64)


def _dow_contrasts(weekday: np.ndarray) -> np.ndarray:
    """Sum-to-zero coding: column j is +1 on weekday j (Mon..Sat) and -1 on Sunday."""
    C = np.asarray(weekday[:, None] == np.arange(6)[None, :], dtype=np.float64)
    C[weekday == 6, :] = -1.0
    return C


class _TrendPaths:
    """Deterministic log-linear intensity per path, from parameters drawn at the start."""

    def __init__(self, coef: np.ndarray, first_weekday: int) -> None:
        # coef: (n_paths, 2 [+ 6]) = log level, slope per day [, Monday..Saturday effects]
        self.a = np.ascontiguousarray(coef[:, 0])
        self.b = np.ascontiguousarray(coef[:, 1])
        self.dow: np.ndarray | None = None
        if coef.shape[1] > 2:
            six = coef[:, 2:]
            # (7, n_paths): row = weekday, Monday first; Sunday is minus the sum of the others
            self.dow = np.ascontiguousarray(np.column_stack([six, -six.sum(axis=1)]).T)
        self.first_weekday = first_weekday  # weekday of day h = 1
        self.day = 0

    def step(self, days: int) -> np.ndarray:
        h = np.arange(self.day + 1, self.day + days + 1, dtype=np.float64)
        eta = self.a[None, :] + h[:, None] * self.b[None, :]
        if self.dow is not None:
            wd = (self.first_weekday + np.arange(self.day, self.day + days)) % 7
            eta = eta + self.dow[wd]
        self.day += days
        return np.asarray(np.exp(np.minimum(eta, LOG_MU_CAP)), dtype=np.float64)


def trend_paths(
    model: FittedModel,
    n_paths: int,
    param: np.random.Generator,
    _proc: np.random.Generator,
    _extra: np.random.Generator,
) -> _TrendPaths:
    """Paths of a fitted ``trend-nb`` model: (a, b, [e]) drawn once per path from the normal
    of the estimates (see :data:`~simulate.models.base.PATH_FUNCTIONS`)."""
    p = model.path_inputs
    return _TrendPaths(normal_draws(param, p["mean"], p["cov"], n_paths), p["first_weekday"])


def fit_trend_nb(spec: ModelSpec, s: DailySeries) -> FittedModel:
    """Fit the ``trend-nb`` model: the expected daily figure changes by a fixed percentage
    a day, and the reports scatter around it with negative-binomial noise.

    Parameters
    ----------
    spec
        A ``trend-nb`` spec; option ``day_of_week`` adds seven sum-to-zero weekday effects.
    s
        The daily figures of the fit window (already cut to ``spec.window``).

    Returns
    -------
    FittedModel
        ``params``: ``log_level`` (log expected figure on the last day of the window),
        ``slope`` (change of the log expected figure per day), ``dow_mon`` ... ``dow_sun``
        with ``day_of_week``, and ``dispersion`` (k: variance mu + mu^2 / k).

    Raises
    ------
    ModelError
        If every figure in the window is 0.

    Examples
    --------
    >>> import numpy as np
    >>> from simulate.models import DailySeries, ModelSpec, fit
    >>> rng = np.random.default_rng(np.random.SeedSequence(1))
    >>> t = np.arange(-179, 1)
    >>> y = rng.negative_binomial(30, 30 / (30 + 1200 * np.exp(0.002 * t)))
    >>> model = fit(ModelSpec("trend-nb"), DailySeries.from_counts(y))
    >>> round(float(np.exp(model.params["log_level"])), -2), round(model.params["slope"], 3)
    (1200.0, 0.002)
    """
    y = s.y.astype(np.float64)
    n = len(y)
    if not np.any(y > 0):
        raise all_zero_error(s, "trend-nb")
    use_dow = bool(spec.option("day_of_week"))
    T = float(max(n - 1, 1))
    tau = np.arange(-(n - 1), 1, dtype=np.float64) / T  # in [-1, 0]; 0 is the origin
    cols = [np.ones(n), tau]
    if use_dow:
        C = _dow_contrasts(_weekdays(s.start, n))
        cols.extend(C.T)
    X = np.column_stack(cols)
    n_coef = X.shape[1]
    const = nb_constant(y)

    bounds = [LOG_LEVEL_BOUNDS, (-MAX_LOG_CHANGE, MAX_LOG_CHANGE)]
    bounds += [DOW_BOUNDS] * (n_coef - 2) + [LOG_K_BOUNDS]

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        eta = matvec(X, x[:n_coef])
        f, g_eta, g_k = nb_objective(eta, float(x[n_coef]), y, const)
        return f, np.append(rmatvec(X, g_eta), g_k)

    def fgh(x: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        f, g = fun(x)
        return f, g, -nb_hessian(X, matvec(X, x[:n_coef]), float(x[n_coef]), y)

    x = newton_polish(fgh, minimise(fun, start_values(X, y, bounds), bounds), bounds)

    eta = matvec(X, x[:n_coef])
    log_k = float(x[n_coef])
    k = math.exp(log_k)
    mu = np.exp(eta)
    loglik = -fun(x)[0]
    H = nb_hessian(X, eta, log_k, y)
    cov_x = covariance_from_hessian(H, on_bound(x, bounds), fallback=n_coef)

    # Reported parametrisation: (a, b per day, [7 weekday effects], k) = J (a, b*T, [6], log k)
    names = ["log_level", "slope"]
    rows = [np.eye(n_coef + 1)[0], np.eye(n_coef + 1)[1] / T]
    if use_dow:
        names += [f"dow_{d}" for d in WEEKDAYS]
        rows += [np.eye(n_coef + 1)[2 + j] for j in range(6)]
        sun = np.zeros(n_coef + 1)
        sun[2 : 2 + 6] = -1.0
        rows.append(sun)
    names.append("dispersion")
    rows.append(np.eye(n_coef + 1)[n_coef] * k)
    J = np.array(rows)
    est = matmul(J, x[:, None])[:, 0]
    est[-1] = k
    cov = _transform_cov(J, cov_x)
    se = np.sqrt(np.maximum(np.diag(cov), 0.0))
    se[~np.isfinite(np.diag(cov))] = np.nan
    # Near its Poisson end (k -> 1e6) the likelihood is flat in log k: a standard error of
    # log k above 5 (a factor e^5 either way) says the data do not identify k at all, and
    # k * se(log k) would print as billions. Reported as not defined instead.
    if not cov_x[n_coef, n_coef] <= 25.0:
        se[-1] = np.nan

    # Simulation: the free (a, b per day, [6 effects]) drawn from the normal of the
    # estimates; Sunday's effect follows from the others, so the draws sum to zero too.
    free = [i for i, name in enumerate(names) if name not in ("dow_sun", "dispersion")]
    sim_mean = est[free]
    sim_cov = cov[np.ix_(free, free)]
    first_weekday = (s.end.weekday() + 1) % 7
    return nb_fitted_model(
        spec,
        s,
        names=names,
        est=est,
        se=se,
        cov=cov,
        loglik=loglik,
        n_params=n_coef + 1,
        mu=mu,
        k=k,
        path_inputs={"mean": sim_mean, "cov": sim_cov, "first_weekday": first_weekday},
    )


def _transform_cov(J: np.ndarray, cov_x: np.ndarray) -> np.ndarray:
    """J cov J^T, NaN for every reported parameter that depends on one without a variance."""
    undefined = np.isnan(np.diag(cov_x))
    cov = matmul(matmul(J, np.nan_to_num(cov_x, nan=0.0)), J.T)
    bad = (np.abs(J[:, undefined]) > 0).any(axis=1)
    cov[bad, :] = np.nan
    cov[:, bad] = np.nan
    return np.asarray(cov, dtype=np.float64)
