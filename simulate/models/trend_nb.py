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

The negative-binomial regression kernels here (:func:`nb_objective`, :func:`nb_hessian`,
:func:`covariance_from_hessian`) are shared with :mod:`simulate.models.changepoint`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date

import numpy as np
from scipy import optimize, special

from ..errors import ModelError
from .base import FittedModel, pearson_diagnostics
from .observation import ObservationModel
from .series import DailySeries
from .smalllinalg import (
    cholesky,
    inverse_spd,
    matmul,
    matvec,
    psd_root,
    rmatvec,
    solve_spd,
    weighted_gram,
)
from .spec import ModelSpec

__all__ = [
    "fit_trend_nb",
    "all_zero_error",
    "nb_objective",
    "nb_hessian",
    "covariance_from_hessian",
    "minimise",
    "newton_polish",
    "normal_draws",
    "on_bound",
    "start_values",
    "LOG_MU_CAP",
    "LOG_K_BOUNDS",
]

#: Simulated log intensities are capped here (an expected 1e9 a day) so ``exp`` stays finite.
LOG_MU_CAP = math.log(1e9)
#: Bounds of log k (k from 1e-3, extreme over-dispersion, to 1e6, practically Poisson).
LOG_K_BOUNDS = (math.log(1e-3), math.log(1e6))
#: Bounds of the log level at the origin.
LOG_LEVEL_BOUNDS = (-40.0, 40.0)
#: Largest change of the log level over the window that a slope may make.
MAX_LOG_CHANGE = 30.0
#: Bounds of each weekday effect (log scale).
DOW_BOUNDS = (-10.0, 10.0)
#: Largest variance inflation factor of an estimate that gets a standard error.
_MAX_VIF = 1e10
#: Weekday names, Monday first (``date.weekday()`` order).
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# --------------------------------------------------------------------------------------
# Negative-binomial regression kernels (log link, NB2, dispersion as log k)
# --------------------------------------------------------------------------------------


def nb_constant(y: np.ndarray) -> float:
    """The part of the NB log-likelihood that depends on no parameter: -sum log(y!)."""
    return -float(np.sum(special.gammaln(y + 1.0)))


def nb_objective(
    eta: np.ndarray, log_k: float, y: np.ndarray, const: float
) -> tuple[float, np.ndarray, float]:
    """Negative NB2 log-likelihood and its derivatives for log means `eta`.

    Returns ``(nll, d nll / d eta (per day), d nll / d log k)``; chain the per-day
    derivative through the design matrix for the regression coefficients. ``exp`` is never
    taken of anything but a log-probability (<= 0), so nothing can overflow.
    """
    k = math.exp(log_k)
    # log(k + mu), stable for any eta and k
    lkm = np.logaddexp(log_k, eta)
    ll = (
        float(np.sum(special.gammaln(y + k)))
        - len(y) * special.gammaln(k)
        + const
        + float(np.sum(k * (log_k - lkm) + y * (eta - lkm)))
    )
    p = np.exp(eta - lkm)  # mu / (k + mu)
    q = np.exp(log_k - lkm)  # k / (k + mu)
    d_eta = y - (y + k) * p
    # k * dl/dk = k (psi(y+k) - psi(k) + log k - log(k+mu)) + k (mu - y) / (k + mu)
    d_logk = float(
        np.sum(k * (special.digamma(y + k) - special.digamma(k) + log_k - lkm) - q * y)
        + k * np.sum(p)
    )
    return -ll, -d_eta, -d_logk


def nb_loglik(eta: np.ndarray, log_k: float, y: np.ndarray) -> float:
    """Full NB2 log-likelihood (including -log y!) of counts `y` with log means `eta`."""
    return -nb_objective(eta, log_k, y, nb_constant(y))[0]


def nb_hessian(X: np.ndarray, eta: np.ndarray, log_k: float, y: np.ndarray) -> np.ndarray:
    """Hessian of the NB2 log-likelihood in (coefficients of `X`, log k), analytic.

    Returns the (p + 1) x (p + 1) matrix of second derivatives; minus it is the observed
    information.
    """
    k = math.exp(log_k)
    lkm = np.logaddexp(log_k, eta)
    p = np.exp(eta - lkm)
    q = np.exp(log_k - lkm)
    # q (mu - y) = k p - q y: written without mu, which could overflow
    q_mu_y = k * p - q * y
    w = (y + k) * p * q  # -d2l/deta2
    cross = -p * q_mu_y  # d2l/(deta dlogk) = p q (y - mu)
    # k * dl/dk and k^2 * d2l/dk2, summed over days
    dk = float(np.sum(k * (special.digamma(y + k) - special.digamma(k) + log_k - lkm) + q_mu_y))
    d2k = float(
        np.sum(k * k * (special.polygamma(1, y + k) - special.polygamma(1, k)) + k * p - q * q_mu_y)
    )
    n_coef = X.shape[1]
    H = np.empty((n_coef + 1, n_coef + 1))
    H[:n_coef, :n_coef] = -weighted_gram(X, w)
    H[:n_coef, n_coef] = H[n_coef, :n_coef] = rmatvec(X, cross)
    H[n_coef, n_coef] = d2k + dk
    return H


def covariance_from_hessian(
    H: np.ndarray, fixed: np.ndarray, *, fallback: int | None = None
) -> np.ndarray:
    """Inverse observed information (-`H`)^-1 over the parameters not `fixed`.

    Rows and columns of fixed parameters (on a bound, or excluded by the model) are NaN,
    and so is everything when the information of the others is not positive definite,
    unless holding parameter `fallback` fixed as well makes it so. (The fallback is log k:
    on sparse, Poisson-like figures the likelihood keeps rising, ever so slightly, towards
    k = infinity, so log k has no information; the other parameters then get their
    standard errors given k.)
    """
    cov = _inverse_information(H, fixed)
    if fallback is not None and not fixed[fallback] and np.isnan(cov[fallback, fallback]):
        held = fixed.copy()
        held[fallback] = True
        cov = _inverse_information(H, held)
    return cov


def _inverse_information(H: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    m = H.shape[0]
    cov = np.full((m, m), np.nan)
    free = np.flatnonzero(~fixed)
    if free.size == 0:
        return cov
    info = -H[np.ix_(free, free)]
    info = 0.5 * (info + info.T)
    # Scale to unit diagonal first so the test of definiteness is not fooled by units.
    d = np.sqrt(np.abs(np.diag(info)))
    if not np.all(np.isfinite(info)) or np.any(d <= 0):
        return cov
    corr = info / np.outer(d, d)
    # Positive definite, and no parameter a near-exact combination of the others: every
    # variance inflation factor (diagonal of the inverse correlation) at most 1e10. Plain
    # Python factorisation (smalllinalg): the same answer under every BLAS kernel.
    inv_corr = inverse_spd(corr)
    if inv_corr is None or not float(np.max(np.diag(inv_corr))) <= _MAX_VIF:
        return cov
    cov[np.ix_(free, free)] = inv_corr / np.outer(d, d)
    return cov


def on_bound(x: np.ndarray, bounds: list[tuple[float, float]]) -> np.ndarray:
    """Which entries of `x` sit on (or within a hair of) their bound."""
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    tol = 1e-7 * (1.0 + np.maximum(np.abs(lo), np.abs(hi)))
    return np.asarray((x - lo <= tol) | (hi - x <= tol), dtype=bool)


def normal_draws(rng: np.random.Generator, mean: np.ndarray, cov: np.ndarray, n: int) -> np.ndarray:
    """`n` draws (rows) from N(`mean`, `cov`) in one call to the generator.

    NaN entries of `cov` (parameters without a standard error) count as 0: those
    parameters stay at their estimate. A semi-definite Cholesky factor
    (:func:`~simulate.models.smalllinalg.psd_root`) makes singular covariances safe, and
    the draws are the same under every BLAS kernel (an eigen-decomposition's vectors, and
    their signs, are not).
    """
    c = np.nan_to_num(np.asarray(cov, dtype=np.float64), nan=0.0)
    root = psd_root(c)
    z = rng.standard_normal((n, len(mean)))
    out = np.repeat(np.asarray(mean, dtype=np.float64)[None, :], n, axis=0)
    for j in range(len(mean)):  # out += z[:, j] root[:, j]^T, one column at a time (no BLAS)
        out += z[:, j : j + 1] * root[None, :, j]
    return out


def minimise(
    fun: Callable[[np.ndarray], tuple[float, np.ndarray]],
    x0: np.ndarray,
    bounds: list[tuple[float, float]],
    *,
    maxfun: int = 5000,
) -> np.ndarray:
    """Minimise `fun` (returning value and gradient) within `bounds`.

    SciPy's truncated-Newton method (TNC) rather than L-BFGS-B: since SciPy 1.15 L-BFGS-B
    calls LAPACK on tiny matrices and, with a multi-threaded OpenBLAS, each iteration can
    cost milliseconds of thread synchronisation (scipy/scipy#22438); TNC has no such calls,
    and on these problems it reaches the same or a better optimum. A second run from the
    first one's end mops up when the line search gave up early.
    """
    lo = [b[0] for b in bounds]
    hi = [b[1] for b in bounds]
    x = np.clip(np.asarray(x0, dtype=np.float64), lo, hi)
    fx = fun(x)[0]
    for _ in range(2):
        res = optimize.minimize(
            fun,
            x,
            jac=True,
            method="TNC",
            bounds=bounds,
            options={"maxfun": maxfun, "ftol": 1e-10, "xtol": 1e-8, "gtol": 1e-6},
        )
        xn = np.clip(np.asarray(res.x, dtype=np.float64), lo, hi)
        fn = fun(xn)[0]
        if fn <= fx:
            x, fx = xn, fn
        if res.status in (0, 1, 2):  # converged (gradient, f or x criterion)
            break
    return x


def newton_polish(
    fgh: Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]],
    x: np.ndarray,
    bounds: list[tuple[float, float]],
    *,
    steps: int = 8,
) -> np.ndarray:
    """A few Newton steps on the parameters not on a bound, with the exact Hessian.

    `fgh` returns (objective, gradient, Hessian of the objective). TNC stops when the
    objective barely moves; Newton steps take the estimate to the optimum to near machine
    precision for the cost of a few small linear solves. A step is kept only if it stays
    inside the bounds and does not raise the objective beyond its rounding.
    """
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    fx, g, H = fgh(x)
    for _ in range(steps):
        free = ~on_bound(x, bounds)
        if not free.any():
            break
        # H is the Hessian of the objective (minus the log-likelihood): positive definite
        # at a minimum. Plain-Python factorisation: the same steps under every BLAS kernel.
        L = cholesky(H[np.ix_(free, free)])
        if L is None:
            break
        step = np.zeros_like(x)
        step[free] = -solve_spd(L, g[free])
        xn = x + step
        if np.any(xn < lo) or np.any(xn > hi):
            break
        fn, gn, Hn = fgh(xn)
        # Near the optimum a Newton step changes the objective by less than its rounding
        # (1e-13 of it): such a step is kept, or the estimate would stay wherever TNC
        # stopped, which moves with the last bit of exp and log on another CPU.
        if not fn <= fx + 1e-12 * (1.0 + abs(fx)):
            break
        x, fx, g, H = xn, fn, gn, Hn
        if np.max(np.abs(step)) < 1e-12:
            break
    return x


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


def all_zero_error(s: DailySeries, kind: str) -> ModelError:
    """The error for a window in which every daily figure is 0 (no level can be estimated)."""
    return ModelError(
        f"model {kind!r}: series {s.name!r} ({s.source}): every daily figure in the "
        f"{len(s.y)}-day window {s.start} to {s.end} is 0, so no level or trend can be "
        "estimated; use a longer window or the 'naive' model"
    )


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

    def factory(
        n_paths: int,
        param: np.random.Generator,
        _proc: np.random.Generator,
        _extra: np.random.Generator,
    ) -> _TrendPaths:
        return _TrendPaths(normal_draws(param, sim_mean, sim_cov, n_paths), first_weekday)

    diagnostics = pearson_diagnostics(y, mu, mu + mu * mu / k)
    n_params = n_coef + 1
    return FittedModel.for_series(
        spec,
        s,
        params={name: float(v) for name, v in zip(names, est, strict=True)},
        stderr={name: float(v) for name, v in zip(names, se, strict=True)},
        cov=cov,
        loglik=float(loglik),
        aic=float(2 * n_params - 2 * loglik),
        fitted=mu,
        observation=ObservationModel("negbin", dispersion=k, granularity=s.granularity),
        diagnostics=diagnostics,
        path_factory=factory,
    )


def start_values(X: np.ndarray, y: np.ndarray, bounds: list[tuple[float, float]]) -> np.ndarray:
    """Starting values: least squares on log(y + 1/2), k by the method of moments."""
    z = np.log(y + 0.5)
    # Normal equations: X has a handful of columns; an (n x p) least-squares call would
    # wake OpenBLAS's threads, which costs more than the whole fit on a small machine, and
    # would round differently under each BLAS kernel.
    gram = weighted_gram(X, np.ones(len(y))) + 1e-9 * np.eye(X.shape[1])
    L = cholesky(gram)
    beta = np.zeros(X.shape[1]) if L is None else solve_spd(L, rmatvec(X, z))
    mu = np.exp(np.clip(matvec(X, beta), -30.0, 30.0))
    excess = float(np.mean((y - mu) ** 2 - mu))
    k = float(np.mean(mu * mu)) / excess if excess > 0 else 1e4
    x0 = np.append(beta, math.log(max(k, 1e-3)))
    return np.asarray(np.clip(x0, [b[0] for b in bounds], [b[1] for b in bounds]), dtype=np.float64)


def _transform_cov(J: np.ndarray, cov_x: np.ndarray) -> np.ndarray:
    """J cov J^T, NaN for every reported parameter that depends on one without a variance."""
    undefined = np.isnan(np.diag(cov_x))
    cov = matmul(matmul(J, np.nan_to_num(cov_x, nan=0.0)), J.T)
    bad = (np.abs(J[:, undefined]) > 0).any(axis=1)
    cov[bad, :] = np.nan
    cov[:, bad] = np.nan
    return np.asarray(cov, dtype=np.float64)
