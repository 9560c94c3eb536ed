"""``local-trend``: a local linear trend on the log of the daily figures (Kalman filter, ML).

In one sentence: *the model follows the logarithm of the daily figure as a level and a growth
rate that both drift a little from day to day, learns from each day's report how far they have
moved, and so gives projection ranges that widen the further ahead one looks.*

The model
---------
On the log scale, with ``x_t = log(y_t + c)``::

    x_t     = level_t + eps_t                                eps_t  ~ N(0, sigma_obs^2)
    level_t = level_{t-1} + phi * slope_{t-1} + eta_t        eta_t  ~ N(0, sigma_level^2)
    slope_t = phi * slope_{t-1} + zeta_t                     zeta_t ~ N(0, sigma_slope^2)

``phi`` damps the slope: it is estimated in (0.8, 1) when the spec's ``damped`` option is true
(the default) and fixed at 1 otherwise.

Zeros and rounding (documented rule)
    ``c = max(granularity / 2, 0.5)``: half the reporting step (5 for figures reported in
    multiples of 10), and never less than 0.5 so that zeros have a finite log. Rounding to the
    step acts as part of the observation noise ``eps``; a day reported as 0 counts as ``log(c)``.
    Negative figures never reach the model (see :mod:`simulate.models.series`). A window in
    which every figure is the same (e.g. all zeros) has no variation to learn from: fitting it
    raises :class:`~simulate.errors.ModelError` (use ``naive`` for such a series).

Likelihood and initialisation
    The level and slope at the start of the window are unknown and get a *diffuse* (flat)
    prior. Under it, the first two observations fix the state exactly: given ``x_1, x_2`` the
    state on day 2 is normal with mean ``(x_2, x_2 - x_1)`` and covariance
    ``[[s_e, s_e], [s_e, 2 s_e + s_l + s_s]]`` (``s_e, s_l, s_s`` the three variances), whatever
    ``phi``. The Kalman filter starts from there, so the log-likelihood is the exact Gaussian
    log-density of ``x_3, ..., x_n`` given ``x_1, x_2``; it equals the log-density of the
    differenced series ``(1 - L)(1 - phi L) x_t`` (an MA(2)), which the tests use as an
    independent check. Its AIC, ``2 * n_params - 2 * loglik`` with ``n_params`` counting the
    variances, ``phi`` when estimated and the two diffuse initial states, is on the log scale
    of ``x``: it compares ``local-trend`` fits on the same window with each other (damped or
    not), never with the AIC of a count model such as ``trend-nb``.

Estimation
    Maximum likelihood over the log-variances (and ``logit((phi - 0.8) / 0.2)`` when damped),
    with ``sigma_obs^2`` concentrated out so that the numerical search has two (three)
    dimensions. The likelihood of a local linear trend often has several optima (a wandering
    level with a steady slope, a smooth trend with a wandering slope, or both), and in
    log-variances each sits in a basin bounded by plateaus where a gradient search stalls; so
    the search starts from the best point of a coarse grid in each of the three regions, takes
    a few rough steps from each and refines the best. Variance ratios are searched in
    ``[exp(-20), exp(10)]`` and the logit of ``phi`` in ``[-8, 8]``.

    The search (:func:`_search`) is projected quasi-Newton (a central-difference Hessian,
    then BFGS updates) with Levenberg-Marquardt damping, central-difference gradients and
    plain-Python linear algebra (:mod:`simulate.models.smalllinalg`), run to a gradient of
    1e-6 or a step of 1e-10: every operation is the same on every CPU and BLAS kernel, so the
    estimates are bit-identical under any ``OPENBLAS_CORETYPE`` (SciPy's L-BFGS-B, used
    before, calls BLAS and stopped at another point under another kernel, up to 1e-4 apart,
    and once on a plateau under one kernel and on the bound under the other). A variance
    ratio that slides down its plateau (below ``exp(-8)``) jumps to the bound when that is
    lower; one that ends on its plateau is also tried on the bound, which wins when its
    likelihood is within 1e-6 of the best. Measured against the L-BFGS-B search on 336 fits of
    the General Staff figures (personnel, tanks, artillery, uav, afv, mlrs, air_defense;
    origins 2023-03-31, 2023-06-30, 2024-02-29, 2024-11-12, 2025-06-30, 2026-02-28; windows of
    60, 120 and 180 days and the whole history; damped and not): the log-likelihood was higher
    by more than 1e-4 in 60 fits (by up to 0.052), lower by more than 1e-4 in 1 (by 0.0047,
    tanks, whole history to 2023-03-31), and the 336 fits took 11.7 s instead of 8.2 s. (The
    earlier check of the optima against 60 starting points was made with L-BFGS-B.)

    Standard errors come from the inverse of a numerical Hessian of the negative
    log-likelihood at the optimum in that transformed parametrisation (log-variances, logit),
    mapped to the reported parameters by the delta method; a variance (or ``phi``) that ends
    on a bound of its search range, or on a flat plateau where the Hessian is not positive
    definite, or whose standard error exceeds a quarter of its search range (the data do not
    identify it; the margin keeps the decision far from rounding), is reported with a NaN
    standard error and treated as known for the others.
    ``level`` and ``slope`` are the filtered state on the last day of the window; their
    standard errors are the filtered state standard deviations *given* the estimated
    variances. Measured on 200 simulated series per setting (``sigma_obs, sigma_level,
    sigma_slope = 0.15, 0.02, 0.002``; 365 days with ``phi = 0.95`` damped, 200 days
    undamped), those intervals covered ``sigma_obs`` in 93% and 94.5% and the level in 95.5%
    and 92.5% of fits, but the slope in only 72.5% and 81%: in a quarter (a ninth) of the
    fits the maximum-likelihood ``sigma_slope`` piles up at 0 (a known trait of variance
    estimates in such models), and the slope then looked (nearly) fixed.

    Slope-noise bound. So the doubt about the slope noise is carried into the slope: the
    largest slope-noise ratio the data do not reject (the one-sided 95% bound of the
    concentrated likelihood, other parameters held, found by bisection) is filtered too, and
    when it makes the filtered slope less certain, its level and slope variances are used for
    the standard errors and its slope noise for the simulated paths. The reported
    ``sigma_slope`` stays the maximum-likelihood estimate. With it the 95% intervals cover the
    slope in 98% and 96%, the level in 96.5% and 94.5%, ``sigma_obs`` in 93% and 94.5% (same
    200 series per setting; tested in the slow suite).

Fitted figures and diagnostics
    ``fitted`` holds the in-sample one-step-ahead expected figures: with the predictive
    ``x_t ~ N(m_t, v_t)`` (``v_t`` the predicted level variance plus ``sigma_obs^2``), the
    mean of ``max(exp(x_t) - c, 0)``, which is ``exp(m_t + v_t / 2) - c`` on any day well above
    the offset and stays positive on days near it (series of mostly zeros), where the plain
    formula would have to be clipped at 0. The first two days, which start the filter, use
    their own figures. The Pearson diagnostics use these means and the lognormal variance
    ``exp(2 m_t + v_t) (exp(v_t) - 1)``, over days 3 onwards; ``innovation_acf1`` and
    ``innovation_acf7`` are the autocorrelations of the standardised innovations.

Simulation
    Each path draws the level and slope at the origin from their filtered normal distribution
    (``param`` stream), then day by day ``level += phi * slope + eta``,
    ``slope = phi * slope + zeta`` (``proc`` stream). The expected daily figure is
    ``exp(level + sigma_obs^2 / 2) - c``, clipped at 0. The uncertainty of the three variances
    and of ``phi`` is *not* propagated (their estimates are used as known); the uncertainty of
    the level and slope is. The log level is capped at ``log(1e9)`` so that explosive paths on
    very long horizons cannot overflow; no reported series comes anywhere near it.

Speed
    The filter is a loop over Python floats with the 2 x 2 covariance unrolled by hand (no
    NumPy call per day). Once the predicted covariance has converged (to 1e-14 relative) the
    gain is constant and the innovations of the remaining days are a fixed linear filter of
    the figures, run by :func:`scipy.signal.lfilter`. A fit makes 250-500 likelihood
    evaluations (central differences; see Estimation); on the reference 2-core machine it
    takes about 40 ms on the 1,464 days of the real personnel figures, 27-33 ms on 180 days,
    and 170 ms on a synthetic 1,500-day series whose covariance never settles
    (``benchmarks/bench_fit.py``; benchmarks/README.md has the figures before and after).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.signal import lfilter
from scipy.special import ndtr

from ..errors import ModelError
from .base import FittedModel, pearson_diagnostics
from .observation import ObservationModel
from .series import DailySeries
from .smalllinalg import cholesky, dot, inverse_spd, matmul, solve_spd, sum_of_squares
from .spec import ModelSpec

__all__ = ["fit_local_trend", "log_offset", "LOG_LEVEL_CAP", "PHI_RANGE"]

#: Cap of the simulated log level (an expected daily figure of about one billion).
LOG_LEVEL_CAP = math.log(1e9)

#: Range of the damping factor when it is estimated.
PHI_RANGE = (0.8, 1.0)

# Search range of the log variance ratios sigma_level^2 / sigma_obs^2 and
# sigma_slope^2 / sigma_obs^2, and of the logit of the damping.
_LOG_RATIO_BOUNDS = (-20.0, 10.0)
_LOGIT_PHI_BOUNDS = (-8.0, 8.0)
# A log variance ratio below this is on the plateau where the likelihood hardly changes.
_PLATEAU = -8.0
# A parameter closer than this to a bound is taken to be on it (no standard error).
_AT_BOUND = 0.05
# Relative change of the predicted covariance below which the filter is in steady state.
_STEADY_TOL = 1e-14
# Days per chunk of the filter loop (one log and one steady-state test per chunk).
_CHUNK = 32
# Step of the numerical Hessian in the transformed parametrisation.
_HESS_STEP = 1e-2
# A transformed parameter whose standard error exceeds its search range's width divided by
# this is not identified by the data (it is reported without a standard error).
_UNIDENTIFIED = 4.0
# The search (:func:`_search`): step of the central differences; Newton steps from each start
# and to convergence; converged when the gradient of the negative log-likelihood is below
# _GTOL (a change of 1e-6 in log-likelihood per unit of log-variance: far below any standard
# error) or no parameter moves by more than _XTOL; the Levenberg-Marquardt damping's start,
# floor and ceiling (relative to the Hessian's diagonal plus one).
_DIFF_STEP = 1e-4
_ROUGH_ITERATIONS = 6
_ITERATIONS = 100
_GTOL = 1e-6
_XTOL = 1e-10
_LM_START = 1e-3
_LM_MIN = 1e-9
_LM_MAX = 1e12
# Rise of the negative log-likelihood below which moving a variance ratio from its plateau to
# the bound of its range counts as no worse: far above rounding (1e-12), far below anything
# the data can tell apart (0.5).
_FLAT_NLL = 1e-6
# A bound candidate whose negative log-likelihood after the rough steps is this much above the
# search's optimum is not searched further (rough steps take it most of the way).
_IN_REACH = 0.5
_LOG_2PI = math.log(2.0 * math.pi)

_State = tuple[float, float, float, float, float]  # mean (level, slope), cov (p11, p12, p22)


def log_offset(granularity: int) -> float:
    """The offset ``c`` of ``log(y + c)``: half the reporting step, at least 0.5.

    Examples
    --------
    >>> log_offset(10), log_offset(1)
    (5.0, 0.5)
    """
    return max(granularity / 2.0, 0.5)


def _phi_of(p: float) -> float:
    lo, hi = PHI_RANGE
    return lo + (hi - lo) / (1.0 + math.exp(-p))


def _diffuse_start(x1: float, x2: float, h: float, qe: float, qz: float, phi: float) -> _State:
    """Predicted state for day 3 given days 1 and 2 under a flat prior on the initial state."""
    # Filtered state on day 2: mean (x2, x2 - x1), cov [[h, h], [h, 2h + qe + qz]].
    f12 = h
    f22 = 2.0 * h + qe + qz
    p22 = phi * phi * f22 + qz
    p12 = phi * f12 + phi * phi * f22
    p11 = h + phi * f12 + p12 + qe
    return x2 + phi * (x2 - x1), phi * (x2 - x1), p11, p12, p22


def _kalman_sums(
    x: Sequence[float],
    qe: float,
    qz: float,
    phi: float,
    state: _State,
    tail: np.ndarray | None = None,
) -> tuple[float, float]:
    """Sum of log F_t and of v_t^2 / F_t over `x`, given the predicted state for ``x[0]``.

    In units of the observation variance (``h = 1``; `qe`, `qz` and the state covariance are
    ratios to it). The hot loop of the fit: plain floats, the 2 x 2 covariance unrolled,
    ``log F`` taken once per chunk of days (F >= 1 here, so the product cannot underflow).
    Once the predicted covariance stops changing (steady state), the gain is constant and the
    innovations of the remaining days are a fixed linear filter of the figures,
    ``v = (1 - L)(1 - phi L) x / (1 - a1 L - a2 L^2)``, run by :func:`scipy.signal.lfilter`
    on `tail` (the same figures as an array) when given, else by a mean-only loop.
    """
    m, b, p11, p12, p22 = state
    log = math.log
    phi2 = phi * phi
    slog = 0.0
    sv = 0.0
    n = len(x)
    i = 0
    steady = False
    while i < n:
        j = min(i + _CHUNK, n)
        prod = 1.0
        o11 = o12 = o22 = 0.0
        for xi in x[i:j]:
            v = xi - m
            f = p11 + 1.0
            k1 = p11 / f
            k2 = p12 / f
            prod *= f
            sv += v * v / f
            bf = b + k2 * v
            m += k1 * v + phi * bf
            b = phi * bf
            f22 = p22 - k2 * p12
            o11, o12, o22 = p11, p12, p22
            p22 = phi2 * f22 + qz
            p12 = phi * k2 + phi2 * f22
            p11 = k1 + phi * k2 + p12 + qe
        slog += log(prod)
        i = j
        if abs(p11 - o11) + abs(p12 - o12) + abs(p22 - o22) <= _STEADY_TOL * (p11 + p22):
            steady = True
            break
    if not steady or i == n:
        return slog, sv
    f = p11 + 1.0
    k1 = p11 / f
    k2 = p12 / f
    if tail is not None:
        # Direct form II transposed; its two delays hold -m and phi (m - b) at the switch.
        a = (1.0, -(1.0 + phi - k1 - phi * k2), phi * (1.0 - k1))
        zi = np.array([-m, phi * (m - b)])
        innov = lfilter((1.0, -(1.0 + phi), phi), a, tail[i:], zi=zi)[0]
        ss = sum_of_squares(innov)
    else:
        ss = 0.0
        for xi in x[i:]:
            v = xi - m
            ss += v * v
            bf = b + k2 * v
            m += k1 * v + phi * bf
            b = phi * bf
    return slog + (n - i) * log(f), sv + ss / f


def _kalman_path(
    x: Sequence[float], h: float, qe: float, qz: float, phi: float, state: _State
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, _State]:
    """One-step-ahead predictions over `x` and the filtered state after its last day.

    Returns predicted level means, predicted level variances, innovations, innovation
    variances (each ``len(x)``) and the filtered (level, slope, p11, p12, p22) at the end.
    """
    m, b, p11, p12, p22 = state
    n = len(x)
    pm = [0.0] * n
    pv = [0.0] * n
    vs = [0.0] * n
    fs = [0.0] * n
    filt: _State = state
    for i in range(n):
        v = x[i] - m
        f = p11 + h
        k1 = p11 / f
        k2 = p12 / f
        pm[i], pv[i], vs[i], fs[i] = m, p11, v, f
        mf = m + k1 * v
        bf = b + k2 * v
        f11 = k1 * h
        f12 = k2 * h
        f22 = p22 - k2 * p12
        filt = (mf, bf, f11, f12, f22)
        m = mf + phi * bf
        b = phi * bf
        p22 = phi * phi * f22 + qz
        p12 = phi * f12 + phi * phi * f22
        p11 = f11 + phi * f12 + p12 + qe
    return np.array(pm), np.array(pv), np.array(vs), np.array(fs), filt


def _loglik(
    x: Sequence[float], sigma_obs: float, sigma_level: float, sigma_slope: float, phi: float
) -> float:
    """Log-density of ``x[2:]`` given ``x[0], x[1]`` (diffuse initial state)."""
    h = sigma_obs**2
    qe, qz = sigma_level**2 / h, sigma_slope**2 / h
    slog, sv = _kalman_sums(x[2:], qe, qz, phi, _diffuse_start(x[0], x[1], 1.0, qe, qz, phi))
    n = len(x) - 2
    return -0.5 * (n * (_LOG_2PI + math.log(h)) + slog + sv / h)


def _loglik_known_start(
    x: Sequence[float],
    sigma_obs: float,
    sigma_level: float,
    sigma_slope: float,
    phi: float,
    mean: tuple[float, float],
    cov: tuple[float, float, float],
) -> float:
    """Log-density of `x` when the state on day 1 is N(`mean`, `cov` = (p11, p12, p22))."""
    h = sigma_obs**2
    qe, qz = sigma_level**2 / h, sigma_slope**2 / h
    state = (mean[0], mean[1], cov[0] / h, cov[1] / h, cov[2] / h)
    slog, sv = _kalman_sums(x, qe, qz, phi, state)
    n = len(x)
    return -0.5 * (n * (_LOG_2PI + math.log(h)) + slog + sv / h)


class _Concentrated:
    """Negative log-likelihood with sigma_obs^2 concentrated out, over
    psi = (log ratio level, log ratio slope[, logit phi])."""

    def __init__(self, x: Sequence[float], damped: bool) -> None:
        self.x1, self.x2 = x[0], x[1]
        self.rest = x[2:]
        self.tail = np.array(self.rest)
        self.n = len(self.rest)
        self.damped = damped

    def sums(self, psi: Sequence[float]) -> tuple[float, float]:
        """(sum log F*, sum v^2 / F*) in units of sigma_obs^2."""
        qe = math.exp(psi[0])
        qz = math.exp(psi[1])
        phi = _phi_of(psi[2]) if self.damped else 1.0
        start = _diffuse_start(self.x1, self.x2, 1.0, qe, qz, phi)
        return _kalman_sums(self.rest, qe, qz, phi, start, self.tail)

    def __call__(self, psi: np.ndarray) -> float:
        slog, sv = self.sums(psi.tolist())
        if not sv > 0.0 or not math.isfinite(sv + slog):
            return 1e300
        return 0.5 * (self.n * math.log(sv / self.n) + slog)


def _starts(nll: _Concentrated) -> list[np.ndarray]:
    """Starting points of the gradient search: the best grid point of each kind of optimum.

    The likelihood of a local linear trend often has several optima: a level that wanders
    while the slope hardly moves, a smooth trend whose slope wanders while the level follows
    it, or both moving. In log-variances each sits in a basin bounded by plateaus (a variance
    near 0 hardly changes the likelihood), where a gradient search started in another basin
    stalls. So the search starts from the best point of a coarse grid (log ratios from -16
    to 1, phi 0.85 and 0.99) in each of the three regions.
    """
    phis = [[-1.0986], [2.9444]] if nll.damped else [[]]  # logit of phi = 0.85 and 0.99
    level = [[e, -16.0, *p] for e in (-10.0, -7.0, -5.0, -3.0, -1.0, 1.0) for p in phis]
    smooth = [[-16.0, z, *p] for z in (-16.0, -12.0, -9.0, -6.0) for p in phis]
    both = [
        [e, z, *p]
        for e in (-10.0, -7.0, -5.0, -3.0, -1.0, 1.0)
        for z in (-12.0, -9.0, -6.0)
        for p in phis
    ]
    return [np.array(min(g, key=lambda c: nll(np.array(c)))) for g in (level, smooth, both)]


def _maximise(x: np.ndarray, damped: bool) -> tuple[np.ndarray, _Concentrated]:
    nll = _Concentrated(x.tolist(), damped)
    bounds = [_LOG_RATIO_BOUNDS, _LOG_RATIO_BOUNDS] + ([_LOGIT_PHI_BOUNDS] if damped else [])
    # A few rough steps from each start, then a search to convergence from the best.
    rough = [
        _search(nll, x0, bounds, iterations=_ROUGH_ITERATIONS, jump=False) for x0 in _starts(nll)
    ]
    x0, f0 = min(rough, key=lambda r: r[1])
    x0, f0 = _to_plateau_bound(x0, f0, nll)
    x1, f1 = _search(nll, x0, bounds, iterations=_ITERATIONS)
    if not np.all(np.isfinite(x1)) or not math.isfinite(f1) or f1 >= 1e299:
        raise ModelError("local-trend: the likelihood could not be maximised")
    return _settle(x1, nll, bounds), nll


def _to_plateau_bound(x: np.ndarray, fx: float, nll: _Concentrated) -> tuple[np.ndarray, float]:
    """Move a variance ratio far down a plateau to the lower bound when that is no worse.

    The search would otherwise crawl there over dozens of steps for a tiny gain, and where
    it stops on a flat plateau depends on rounding (another BLAS kernel stops elsewhere).
    "No worse" allows a rise of :data:`_FLAT_NLL`, so that the choice does not hinge on the
    last bits of two nearly equal likelihoods.
    """
    for i in (0, 1):
        if _LOG_RATIO_BOUNDS[0] < x[i] < _PLATEAU:
            trial = x.copy()
            trial[i] = _LOG_RATIO_BOUNDS[0]
            f_trial = nll(trial)
            if f_trial <= fx + _FLAT_NLL:
                x, fx = trial, f_trial
    return x, fx


def _fd_newton(
    nll: _Concentrated, x: np.ndarray, free: list[int], h: float
) -> tuple[np.ndarray, np.ndarray]:
    """Central-difference gradient and Hessian of `nll` at `x` over the coordinates `free`."""

    def at(*moves: tuple[int, float]) -> float:
        p = x.copy()
        for i, d in moves:
            p[i] += d
        return nll(p)

    m = len(free)
    f0 = nll(x)
    g = np.zeros(m)
    H = np.zeros((m, m))
    for a, i in enumerate(free):
        fp, fm = at((i, h)), at((i, -h))
        g[a] = (fp - fm) / (2 * h)
        H[a, a] = (fp - 2 * f0 + fm) / (h * h)
        for b in range(a):
            j = free[b]
            cross = at((i, h), (j, h)) - at((i, h), (j, -h)) - at((i, -h), (j, h))
            H[a, b] = H[b, a] = (cross + at((i, -h), (j, -h))) / (4 * h * h)
    return g, H


def _settle(x: np.ndarray, nll: _Concentrated, bounds: list[tuple[float, float]]) -> np.ndarray:
    """The optimum, from the search's answer `x`: plateau or bound?

    A variance ratio that stopped on its plateau (below :data:`_PLATEAU`) is also tried on
    the lower bound, the search going on from there; the best candidate wins, where one with
    more parameters on a bound wins when its likelihood is within :data:`_FLAT_NLL` of the
    best (a tie that rounding cannot decide).
    """
    lo = _LOG_RATIO_BOUNDS[0]
    plateau = [i for i in (0, 1) if lo < x[i] < _PLATEAU]
    scored = [(nll(x), x)]
    for mask in range(1, 1 << len(plateau)):
        c = x.copy()
        for b, i in enumerate(plateau):
            if mask >> b & 1:
                c[i] = lo
        # A few rough steps first; the search goes on only while the candidate is in reach.
        c, fc = _search(nll, c, bounds, iterations=_ROUGH_ITERATIONS)
        if fc <= scored[0][0] + _IN_REACH:
            c, fc = _search(nll, c, bounds, iterations=_ITERATIONS)
        scored.append((fc, c))
    best = min(f for f, _ in scored)
    ties = [(f, c) for f, c in scored if f <= best + _FLAT_NLL]

    def on_bounds(c: np.ndarray) -> int:
        return sum(1 for v, (a, b) in zip(c, bounds, strict=True) if v <= a or v >= b)

    return min(ties, key=lambda fc: (-on_bounds(fc[1]), fc[0]))[1]


def _search(
    nll: _Concentrated,
    x0: np.ndarray,
    bounds: list[tuple[float, float]],
    *,
    iterations: int,
    jump: bool = True,
) -> tuple[np.ndarray, float]:
    """Minimise `nll` within `bounds` from `x0`: projected quasi-Newton steps,
    Levenberg-Marquardt damped where the Hessian is not positive definite; returns the point
    and its value.

    The gradient is a central difference; the Hessian starts as a central-difference one
    (:func:`_fd_newton`) and is updated by BFGS from the gradients after each step (a fresh
    one when the update would lose positive curvature). The linear algebra is plain Python
    (:mod:`simulate.models.smalllinalg`), so every step is the same on every CPU and BLAS
    kernel. (SciPy's L-BFGS-B, used before, calls BLAS: under another
    OpenBLAS kernel it took another path and stopped elsewhere, 1e-4 apart, or on a plateau
    under one kernel and at the bound under another.) A parameter on a bound whose gradient
    pushes it outwards is held there; a step that would leave the range is cut at the bound.
    Converged when the free gradient is below :data:`_GTOL` or a step moves no parameter by
    more than :data:`_XTOL`. With `jump`, a variance ratio sliding down its plateau goes
    straight to the bound when that is lower (not in the rough steps from the starts, where
    it would commit a start to a corner before the search has seen the basin). Where a
    difference probe meets the region where the likelihood is not finite, the search stops
    at the best point so far.
    """
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    x = np.clip(np.asarray(x0, dtype=np.float64), lo, hi)
    fx = nll(x)
    lam = _LM_START
    every = list(range(len(x)))
    g, H = _fd_newton(nll, x, every, _DIFF_STEP)
    for _ in range(iterations):
        if not (_usable(g) and _usable(H)):
            break
        free = [
            i
            for i in range(len(x))
            if not (x[i] <= lo[i] and g[i] > 0) and not (x[i] >= hi[i] and g[i] < 0)
        ]
        if not free or float(np.max(np.abs(g[free]))) <= _GTOL:
            break
        gf = g[free]
        hf = H[np.ix_(free, free)]
        damp = np.abs(np.diag(hf)) + 1.0
        while True:
            L = cholesky(hf + lam * np.diag(damp))
            if L is not None:
                xn = x.copy()
                xn[free] += -solve_spd(L, gf)
                xn = np.clip(xn, lo, hi)
                fn = nll(xn)
                if fn < fx:
                    break
            lam *= 8.0
            if lam > _LM_MAX:
                return x, fx  # no step lowers the likelihood: converged as far as it goes
        lam = max(lam / 8.0, _LM_MIN)
        # A variance ratio sliding down its plateau goes straight to the bound when that is
        # lower: the likelihood is nearly flat there, and steps would crawl down it.
        for i in (0, 1) if jump else ():
            if i < len(x) and lo[i] < xn[i] < _PLATEAU and xn[i] < x[i]:
                trial = xn.copy()
                trial[i] = lo[i]
                f_trial = nll(trial)
                if f_trial < fn:
                    xn, fn = trial, f_trial
        moved = float(np.max(np.abs(xn - x)))
        if moved < _XTOL:
            return xn, fn
        gn = _fd_gradient(nll, xn, _DIFF_STEP)
        updated = _bfgs(H, xn - x, gn - g)
        if updated is None:
            gn, updated = _fd_newton(nll, xn, every, _DIFF_STEP)
        H = updated
        x, fx, g = xn, fn, gn
    return x, fx


def _usable(a: np.ndarray) -> bool:
    """Finite difference quotients of finite likelihoods (not of the 1e300 sentinel)."""
    return bool(np.all(np.isfinite(a))) and float(np.max(np.abs(a), initial=0.0)) < 1e100


def _fd_gradient(nll: _Concentrated, x: np.ndarray, h: float) -> np.ndarray:
    """Central-difference gradient of `nll` at `x`."""
    g = np.zeros(len(x))
    for i in range(len(x)):
        p = x.copy()
        p[i] += h
        fp = nll(p)
        p[i] = x[i] - h
        g[i] = (fp - nll(p)) / (2 * h)
    return g


def _bfgs(H: np.ndarray, s: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """The BFGS update of the Hessian approximation `H` after a step `s` that changed the
    gradient by `y`; None when the step shows no positive curvature (``s'y <= 0``)."""
    sy = dot(s, y)
    Hs = matmul(H, s[:, None])[:, 0]
    sHs = dot(s, Hs)
    if not sy > 1e-12 * math.sqrt(dot(s, s) * dot(y, y)) or not sHs > 0.0:
        return None
    return np.asarray(H - np.outer(Hs, Hs) / sHs + np.outer(y, y) / sy, dtype=np.float64)


def _hessian_cov(psi: np.ndarray, nll: _Concentrated) -> tuple[np.ndarray, np.ndarray]:
    """Covariance of (log s_obs^2, psi...) from the numerical Hessian of the full negative
    log-likelihood, and the mask of parameters estimated (not on a bound)."""
    k = len(psi)
    bounds = [_LOG_RATIO_BOUNDS, _LOG_RATIO_BOUNDS, _LOGIT_PHI_BOUNDS][:k]
    free = np.array(
        [True]
        + [lo + _AT_BOUND < p < hi - _AT_BOUND for p, (lo, hi) in zip(psi, bounds, strict=True)]
    )
    n = nll.n
    a0, s0 = nll.sums(psi.tolist())
    e = _HESS_STEP
    grad_s = np.zeros(k)
    hess_a = np.zeros((k, k))
    hess_s = np.zeros((k, k))

    def at(*moves: tuple[int, float]) -> tuple[float, float]:
        p = psi.copy()
        for i, d in moves:
            p[i] += d
        return nll.sums(p.tolist())

    for i in range(k):
        ap, sp = at((i, e))
        am, sm = at((i, -e))
        grad_s[i] = (sp - sm) / (2 * e)
        hess_a[i, i] = (ap - 2 * a0 + am) / (e * e)
        hess_s[i, i] = (sp - 2 * s0 + sm) / (e * e)
        for j in range(i):
            pp = at((i, e), (j, e))
            pm = at((i, e), (j, -e))
            mp = at((i, -e), (j, e))
            mm = at((i, -e), (j, -e))
            d = 4 * e * e
            hess_a[i, j] = hess_a[j, i] = (pp[0] - pm[0] - mp[0] + mm[0]) / d
            hess_s[i, j] = hess_s[j, i] = (pp[1] - pm[1] - mp[1] + mm[1]) / d
    # Full negative log-likelihood in (s = log s_obs^2, psi), at s = log(S / n):
    # 0.5 * (n log 2 pi + n s + A(psi) + exp(-s) S(psi)).
    hess = np.empty((k + 1, k + 1))
    hess[0, 0] = 0.5 * n
    hess[0, 1:] = hess[1:, 0] = -0.5 * (n / s0) * grad_s
    hess[1:, 1:] = 0.5 * (hess_a + (n / s0) * hess_s)
    cov = np.zeros((k + 1, k + 1))
    widths = np.array([math.inf] + [hi - lo for lo, hi in bounds])
    while True:
        idx = np.flatnonzero(free)
        inv = inverse_spd(hess[np.ix_(idx, idx)])
        ratios = idx[1:]  # log s_obs^2 always stays (its curvature is n / 2)
        if inv is None:
            # Not positive definite: a flat direction (a variance on a plateau near 0). Treat
            # the flattest ratio as known.
            free[ratios[np.argmin(np.diag(hess)[ratios])]] = False
            continue
        # A standard error above a quarter of the search range says the data do not
        # identify the parameter: it is treated as known too. The margin keeps the decision
        # far from the rounding of a nearly flat Hessian, which differs between machines.
        sd = np.sqrt(np.diag(inv)[1:])
        loose = np.flatnonzero(~(sd <= widths[ratios] / _UNIDENTIFIED))
        if loose.size == 0:
            break
        free[ratios[loose[np.argmax(sd[loose] / widths[ratios[loose]])]]] = False
    cov[np.ix_(idx, idx)] = inv
    return cov, free


class _LocalTrendPaths:
    """Simulated (level, slope) per path; expected daily figures exp(level + s^2/2) - c."""

    def __init__(
        self,
        mean: tuple[float, float],
        chol: tuple[float, float, float],
        sd_level: float,
        sd_slope: float,
        phi: float,
        sigma_obs: float,
        offset: float,
        n_paths: int,
        param: np.random.Generator,
        proc: np.random.Generator,
    ) -> None:
        z = param.standard_normal((n_paths, 2))
        l11, l21, l22 = chol
        self.level = mean[0] + l11 * z[:, 0]
        self.slope = mean[1] + l21 * z[:, 0] + l22 * z[:, 1]
        self.sd_level = sd_level
        self.sd_slope = sd_slope
        self.phi = phi
        self.shift = 0.5 * sigma_obs * sigma_obs
        self.offset = offset
        self.proc = proc

    def step(self, days: int) -> np.ndarray:
        z = self.proc.standard_normal((days, len(self.level), 2))
        out = np.empty((days, len(self.level)))
        level, slope, phi = self.level, self.slope, self.phi
        for i in range(days):  # a loop over days; every operation is over all paths
            level = level + phi * slope + self.sd_level * z[i, :, 0]
            np.minimum(level, LOG_LEVEL_CAP, out=level)
            slope = phi * slope + self.sd_slope * z[i, :, 1]
            out[i] = level
        self.level, self.slope = level, slope
        mu = np.exp(out + self.shift) - self.offset
        return np.maximum(mu, 0.0, out=mu)


def local_trend_paths(
    model: FittedModel,
    n_paths: int,
    param: np.random.Generator,
    proc: np.random.Generator,
    _extra: np.random.Generator,
) -> _LocalTrendPaths:
    """Paths of a fitted ``local-trend`` model: the state at the origin drawn from its filtered
    normal, then the state equations (see :data:`~simulate.models.base.PATH_FUNCTIONS`)."""
    p = model.path_inputs
    return _LocalTrendPaths(
        p["mean"],
        p["chol"],
        p["sd_level"],
        p["sd_slope"],
        p["phi"],
        p["sigma_obs"],
        p["offset"],
        n_paths,
        param,
        proc,
    )


def _expected_figure(mean: np.ndarray, var: np.ndarray, c: float) -> np.ndarray:
    """E[max(exp(x) - c, 0)] for x ~ N(`mean`, `var`): the expected figure, never negative.

    ``exp(mean + var / 2) - c`` where the level is well above the offset; unlike that, it
    stays positive on days whose expected log level is near or below ``log(c)`` (series that
    are mostly zeros). The same formula as the price of a call option.
    """
    sd = np.sqrt(var)
    d2 = (mean - math.log(c)) / sd
    out: np.ndarray = np.maximum(np.exp(mean + var / 2) * ndtr(d2 + sd) - c * ndtr(d2), 0.0)
    return out


#: Rise of the concentrated negative log-likelihood at a one-sided 95% bound (chi2_1 0.90 / 2).
_ONE_SIDED_95 = 1.3528


def _slope_noise_bound(psi: np.ndarray, nll: _Concentrated) -> np.ndarray | None:
    """The largest log slope-noise ratio whose likelihood is within the one-sided 95% bound
    of the optimum (other parameters held), or None when it is not above the estimate."""
    f0 = nll(psi)
    hi = _LOG_RATIO_BOUNDS[1]
    trial = psi.copy()
    trial[1] = hi
    if nll(trial) - f0 <= _ONE_SIDED_95:
        return trial
    lo = float(psi[1])
    for _ in range(24):  # bisection on the log ratio: 24 halvings are far below its scale
        mid = 0.5 * (lo + hi)
        trial[1] = mid
        if nll(trial) - f0 <= _ONE_SIDED_95:
            lo = mid
        else:
            hi = mid
    if lo <= float(psi[1]) + 1e-9:
        return None
    trial[1] = lo
    return trial


def _acf(r: np.ndarray, lag: int) -> float:
    rc = r - r.mean()
    denom = sum_of_squares(rc)
    if denom <= 0.0 or len(r) <= lag:
        return 0.0
    return dot(rc[lag:], rc[:-lag]) / denom


def fit_local_trend(spec: ModelSpec, s: DailySeries) -> FittedModel:
    """Fit a local linear trend to the log of the daily figures by maximum likelihood.

    The log daily figure is a level plus noise; the level moves each day by the (damped)
    slope plus a disturbance, and the slope itself drifts. See the module documentation for
    the offset rule for zeros, the diffuse initialisation and how uncertainty is simulated.

    Parameters
    ----------
    spec
        A ``local-trend`` spec; option ``damped`` (default true) estimates the damping
        ``phi`` in (0.8, 1), otherwise ``phi`` is 1.
    s
        The daily figures, already cut to the spec's window.

    Returns
    -------
    FittedModel
        Parameters ``level`` and ``slope`` (filtered, on the last day, log scale, slope per
        day), ``sigma_obs``, ``sigma_level``, ``sigma_slope`` and ``phi``, with standard
        errors (NaN for a fixed ``phi`` or a variance on the bound of its range).

    Raises
    ------
    ModelError
        When every figure in the window is the same (nothing to learn a trend from).

    Examples
    --------
    >>> import numpy as np
    >>> from simulate.models import DailySeries, ModelSpec, fit
    >>> rng = np.random.default_rng(7)
    >>> y = rng.poisson(800 * np.exp(0.002 * np.arange(200)))
    >>> model = fit(ModelSpec("local-trend", window=None), DailySeries.from_counts(y))
    >>> sorted(model.params)
    ['level', 'phi', 'sigma_level', 'sigma_obs', 'sigma_slope', 'slope']
    >>> bool(abs(np.exp(model.params["level"]) / 1200 - 1) < 0.1)
    True
    """
    y = s.y.astype(np.float64)
    n = len(y)
    if n < 3:
        raise ModelError(f"series {s.name!r}: local-trend needs at least 3 daily figures, got {n}")
    if float(y.max()) == float(y.min()):
        raise ModelError(
            f"series {s.name!r}: all {n} daily figures in the window are {int(y[0])}; "
            "local-trend needs figures that vary (fit 'naive' to a constant series)"
        )
    damped = bool(spec.option("damped"))
    c = log_offset(s.granularity)
    # math.log, not numpy's: numpy's SIMD log differs in the last bit between CPUs
    x = np.array([math.log(v + c) for v in y.tolist()], dtype=np.float64)

    psi, nll = _maximise(x, damped)
    slog, sv = nll.sums(psi.tolist())
    h = sv / nll.n
    qe, qz = h * math.exp(psi[0]), h * math.exp(psi[1])
    phi = _phi_of(float(psi[2])) if damped else 1.0
    sigma = (math.sqrt(h), math.sqrt(qe), math.sqrt(qz))
    loglik = -0.5 * (nll.n * (_LOG_2PI + math.log(h) + 1.0) + slog)

    # Uncertainty: (s, psi) -> theta = (log s_obs^2, log s_level^2, log s_slope^2[, logit])
    # -> (sigma_obs, sigma_level, sigma_slope[, phi]) by the delta method.
    cov_s, free = _hessian_cov(psi, nll)
    k = len(psi) + 1
    to_theta = np.eye(k)
    to_theta[1, 0] = to_theta[2, 0] = 1.0
    grad = np.array([sigma[0] / 2, sigma[1] / 2, sigma[2] / 2])
    if damped:
        g = 1.0 / (1.0 + math.exp(-float(psi[2])))
        grad = np.append(grad, (PHI_RANGE[1] - PHI_RANGE[0]) * g * (1.0 - g))
    jac = grad[:, None] * to_theta
    cov_p = matmul(matmul(jac, cov_s), jac.T)
    # A parameter on a bound is treated as known: no variance, and no standard error.
    cov_p[~free, :] = 0.0
    cov_p[:, ~free] = 0.0
    se_p = np.sqrt(np.maximum(np.diag(cov_p), 0.0))
    se_p[~free] = np.nan

    # Filtered path with the estimates, for fitted figures, diagnostics and the origin.
    xl = x.tolist()
    start = _diffuse_start(xl[0], xl[1], h, qe, qz, phi)
    pm, pv, innov, fvar, filt = _kalman_path(xl[2:], h, qe, qz, phi, start)
    lvl, slp, f11, f12, f22 = filt

    # The slope noise is often estimated at (or near) zero although it is not: a variance's
    # estimate piles up at zero, and the slope then looks known. Its uncertainty is taken
    # from the largest slope noise the data do not reject (one-sided 95% bound of the
    # concentrated likelihood), when that makes the filtered slope less certain.
    sim_sigma_slope = sigma[2]
    qz_hi = _slope_noise_bound(psi, nll)
    if qz_hi is not None:
        h_hi = nll.sums(qz_hi.tolist())[1] / nll.n
        q_hi = (h_hi * math.exp(qz_hi[0]), h_hi * math.exp(qz_hi[1]))
        phi_hi = _phi_of(float(qz_hi[2])) if damped else 1.0
        start_hi = _diffuse_start(xl[0], xl[1], h_hi, *q_hi, phi_hi)
        f_hi = _kalman_path(xl[2:], h_hi, *q_hi, phi_hi, start_hi)[4]
        if f_hi[4] > f22:
            f11, f12, f22 = max(f11, f_hi[2]), f12 * math.sqrt(f_hi[4] / f22), f_hi[4]
            f12 = max(-math.sqrt(f11 * f22), min(f12, math.sqrt(f11 * f22)))
            # The paths use that slope noise too, so that the bands carry the same doubt; the
            # reported sigma_slope stays the maximum-likelihood estimate.
            sim_sigma_slope = max(sim_sigma_slope, math.sqrt(q_hi[1]))

    # One-step-ahead predictive distribution of x: N(mean, spread); the first two days, which
    # start the filter, get their own figures with the state variance h of day 2.
    mean = np.concatenate([x[:2], pm])
    spread = np.concatenate([np.full(2, 2 * h), pv + h])
    fitted = _expected_figure(mean, spread, c)
    var = np.exp(2 * mean + spread) * np.expm1(spread)  # variance of exp(x)
    diagnostics = pearson_diagnostics(y[2:], fitted[2:], var[2:])
    std_innov = innov / np.sqrt(fvar)
    diagnostics["innovation_acf1"] = _acf(std_innov, 1)
    diagnostics["innovation_acf7"] = _acf(std_innov, 7)

    names = ("level", "slope", "sigma_obs", "sigma_level", "sigma_slope", "phi")
    values = (lvl, slp, *sigma, phi)
    cov = np.zeros((6, 6))
    cov[:2, :2] = [[f11, f12], [f12, f22]]
    m = len(se_p)
    cov[2 : 2 + m, 2 : 2 + m] = cov_p
    errors = [math.sqrt(max(f11, 0.0)), math.sqrt(max(f22, 0.0)), *se_p.tolist()]
    if not damped:
        errors.append(float("nan"))
    n_params = 3 + int(damped) + 2

    # Cholesky factor of the filtered state covariance (positive semi-definite).
    l11 = math.sqrt(max(f11, 0.0))
    l21 = f12 / l11 if l11 > 0 else 0.0
    l22 = math.sqrt(max(f22 - l21 * l21, 0.0))

    return FittedModel.for_series(
        spec,
        s,
        params=dict(zip(names, (float(v) for v in values), strict=True)),
        stderr=dict(zip(names, (float(v) for v in errors), strict=True)),
        cov=cov,
        loglik=loglik,
        aic=2.0 * n_params - 2.0 * loglik,
        fitted=fitted,
        observation=ObservationModel(
            "lognormal", sigma=sigma[0], offset=c, granularity=s.granularity
        ),
        diagnostics=diagnostics,
        path_inputs={
            "mean": (lvl, slp),
            "chol": (l11, l21, l22),
            "sd_level": sigma[1],
            "sd_slope": sim_sigma_slope,
            "phi": phi,
            "sigma_obs": sigma[0],
            "offset": c,
        },
    )
