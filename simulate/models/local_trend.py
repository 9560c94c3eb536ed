"""``local-trend``: a local linear trend on the log of the daily figures (Kalman filter, ML).

In one sentence: *the model follows the logarithm of the daily figure as a level and a growth
rate that both drift a little from day to day, learns from each day's report how far they have
moved, and so gives projection ranges that widen the further ahead one looks.*

This module fits it (:func:`fit_local_trend`: standard errors, the slope-noise bound, fitted
figures, diagnostics) and starts its simulated paths (:func:`local_trend_paths`). The filter and
likelihood are in :mod:`simulate.models.local_trend_filter`, the search for the maximum in
:mod:`simulate.models.local_trend_search`. The model, its documented rules (the offset for
zeros, the diffuse start), the estimation with its measured coverage, the simulation and the
speed are described in ``docs/local-trend.md``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr

from ..errors import ModelError
from .base import FittedModel, pearson_diagnostics
from .local_trend_filter import (
    LOG_2PI,
    PHI_RANGE,
    Concentrated,
    diffuse_start,
    kalman_path,
    log_offset,
    phi_of,
)
from .local_trend_search import LOG_RATIO_BOUNDS, LOGIT_PHI_BOUNDS, maximise
from .observation import ObservationModel
from .series import DailySeries
from .smalllinalg import dot, inverse_spd, matmul, sum_of_squares
from .spec import ModelSpec

__all__ = ["fit_local_trend", "local_trend_paths", "log_offset", "LOG_LEVEL_CAP", "PHI_RANGE"]

#: Cap of the simulated log level (an expected daily figure of about one billion).
LOG_LEVEL_CAP = math.log(1e9)

# A parameter closer than this to a bound is taken to be on it (no standard error).
_AT_BOUND = 0.05
# Step of the numerical Hessian in the transformed parametrisation.
_HESS_STEP = 1e-2
# A transformed parameter whose standard error exceeds its search range's width divided by
# this is not identified by the data (it is reported without a standard error).
_UNIDENTIFIED = 4.0


def _hessian_cov(psi: np.ndarray, nll: Concentrated) -> tuple[np.ndarray, np.ndarray]:
    """Covariance of (log s_obs^2, psi...) from the numerical Hessian of the full negative
    log-likelihood, and the mask of parameters estimated (not on a bound)."""
    k = len(psi)
    bounds = [LOG_RATIO_BOUNDS, LOG_RATIO_BOUNDS, LOGIT_PHI_BOUNDS][:k]
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


def _slope_noise_bound(psi: np.ndarray, nll: Concentrated) -> np.ndarray | None:
    """The largest log slope-noise ratio whose likelihood is within the one-sided 95% bound
    of the optimum (other parameters held), or None when it is not above the estimate."""
    f0 = nll(psi)
    hi = LOG_RATIO_BOUNDS[1]
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

    psi, nll = maximise(x, damped)
    slog, sv = nll.sums(psi.tolist())
    h = sv / nll.n
    qe, qz = h * math.exp(psi[0]), h * math.exp(psi[1])
    phi = phi_of(float(psi[2])) if damped else 1.0
    sigma = (math.sqrt(h), math.sqrt(qe), math.sqrt(qz))
    loglik = -0.5 * (nll.n * (LOG_2PI + math.log(h) + 1.0) + slog)

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
    start = diffuse_start(xl[0], xl[1], h, qe, qz, phi)
    pm, pv, innov, fvar, filt = kalman_path(xl[2:], h, qe, qz, phi, start)
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
        phi_hi = phi_of(float(qz_hi[2])) if damped else 1.0
        start_hi = diffuse_start(xl[0], xl[1], h_hi, *q_hi, phi_hi)
        f_hi = kalman_path(xl[2:], h_hi, *q_hi, phi_hi, start_hi)[4]
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
