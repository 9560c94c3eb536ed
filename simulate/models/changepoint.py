"""``changepoint``: a piecewise-linear trend of the log daily figures, with few bends.

In one sentence: *the expected daily figure grows or shrinks by a steady percentage that is
allowed to change now and then, and the future may bend as often and as sharply as the past
did*.

The model, for the days of the fit window (the idea behind Prophet's trend, on the log
scale and with negative-binomial counts)::

    y_t ~ NegBin(mean mu_t, variance mu_t + mu_t^2 / k)
    log mu_t = a + s t + sum_j delta_j max(0, c_j - t)

with t = 0 on the last day of the window (the forecast origin). Written this way ``a`` is
the log expected figure at the origin and ``s`` the *current* slope (the slope after the last
candidate changepoint); before changepoint c_j the slope is lower by delta_j. This is the
same model as Prophet's ``b t + sum delta_j max(0, t - c_j)``, reparametrised so that the
level and slope of interest are parameters with their own standard errors.

* ``n_changepoints`` candidate points c_j are evenly spaced over the first
  ``changepoint_range`` of the window (Prophet's rule: no bends in the last part of the
  window, where a bend could not be told from noise); on short windows candidates falling on
  the same day are merged.
* Each delta_j has a Laplace prior of scale ``prior_scale`` on the change of slope *per
  month*: 30 delta_j, the change in the log expected figure over 30 days. With the default
  0.05, a typical bend changes the monthly growth rate by about 5 points. (Prophet puts the
  prior on the change per fit window instead. On log-scale counts that made the default
  0.05 far too strong: on 180-240-day windows real bends were missed at a few a day, and
  shrunk by 2-3 standard errors at a thousand a day. Per month, the same default finds
  them, biased by under half a standard error; the price is some spurious small bends on
  long windows of large counts, about 10 of 20 candidates over 1,500 days at 1,200 a
  day.) The prior adds the L1
  penalty sum 30 |delta_j| / ``prior_scale`` to the negative log-likelihood; the estimate
  is the posterior mode (MAP), found by SciPy's bounded optimiser (TNC) with each delta
  split into positive and negative parts bounded below by 0 (exact zeros, no smoothing),
  then polished by Newton steps on the bends that are kept.
  A changepoint is *active* when 30 |delta_j| > 1e-3.
* k is estimated jointly. ``loglik`` is the NB log-likelihood at the MAP, without the
  penalty; the AIC counts 3 + the number of active changepoints as parameters. Rounding to
  the reporting granularity is ignored in the likelihood, as in ``trend-nb``.
* Standard errors come from the inverse Hessian of the penalised negative log-likelihood at
  the MAP, given the active set: the penalty has no curvature away from 0 and inactive
  deltas stay at 0 (their standard errors are not reported). Being conditional on the bends
  kept, they ignore the choice of bends; on synthetic data the shrinkage steadies the
  estimates more than that costs, and they come out honest to conservative (spread of the
  estimates 0.7-1.02 times the standard error; 95% intervals cover 91.5-97.5%).
* Future trend uncertainty is simulated like Prophet's: each future day a new bend occurs
  with probability (candidate changepoints) / (days in the changepoint range), and its slope
  change is Laplace with scale the mean |delta_j| of the fit (at least 1e-4 a day); on top,
  each path starts from (a, s) drawn from the normal of their estimates. The log intensity of
  a path is capped at ``log(1e9)`` when exponentiated so long horizons cannot overflow.

Bounds, the all-zero rule and the negative-binomial kernels are those of ``trend-nb``
(:mod:`simulate.models.nb`).
"""

from __future__ import annotations

import math

import numpy as np

from . import nb
from .base import FittedModel
from .series import DailySeries
from .smalllinalg import matvec, rmatvec
from .spec import ModelSpec

__all__ = [
    "fit_changepoint",
    "changepoint_paths",
    "changepoint_days",
    "ACTIVE_THRESHOLD",
    "MIN_CHANGE_SCALE",
    "PRIOR_DAYS",
]

#: The prior and the activity threshold are on changes of slope per this many days (a month).
PRIOR_DAYS = 30.0
#: A changepoint is active when its change of slope per month exceeds this (log units).
ACTIVE_THRESHOLD = 1e-3
#: Floor of the Laplace scale of future slope changes (log units per day).
MIN_CHANGE_SCALE = 1e-4


def changepoint_days(n: int, n_changepoints: int, changepoint_range: float) -> np.ndarray:
    """Indices (0 = first day of the window) of the candidate changepoints.

    Evenly spaced over the first `changepoint_range` of the window, the first day excluded
    (as in Prophet); days are unique and at most n - 2, so that at least two days follow the
    last one.

    Examples
    --------
    >>> changepoint_days(180, 4, 0.8).tolist()
    [36, 72, 107, 143]
    >>> len(changepoint_days(14, 20, 0.8))
    10
    """
    pos = np.linspace(0.0, changepoint_range * (n - 1), n_changepoints + 1)[1:]
    idx = np.unique(np.floor(pos + 0.5).astype(np.int64))
    return idx[(idx >= 1) & (idx <= n - 2)]


class _Hinges:
    """Products with the design ``X = [1, tau, B]``, ``B[t, j] = max(0, tau[c_j] - tau[t])``,
    in O(n + J) instead of O(n J): the optimiser's inner loop.

    ``(B d)[t]`` is ``S1[t] - tau[t] S0[t]``, where ``S0[t]`` and ``S1[t]`` sum ``d_j`` and
    ``d_j tau[c_j]`` over the changepoints after day t: constant between changepoints.
    ``(B' g)[j]`` is ``tau[c_j] G_j - H_j``, where ``G_j`` and ``H_j`` sum ``g`` and ``g tau``
    over the days before ``c_j``: running sums of the sums between changepoints. Every sum
    runs in one fixed order, with no BLAS: the same bits on every CPU and kernel (as
    :mod:`~simulate.models.smalllinalg`).
    """

    def __init__(self, tau: np.ndarray, cp: np.ndarray) -> None:
        self.tau = tau
        self.tau_c = tau[cp]
        n = len(tau)
        # days before the first changepoint, between each two, and from the last one on
        self.counts = np.diff(np.concatenate([[0], cp, [n]]))
        self.starts = np.concatenate([[0], cp]).astype(np.int64)

    def matvec(self, coef: np.ndarray) -> np.ndarray:
        """``X @ coef`` for ``coef = (a, s, d_1..d_J)``."""
        d = coef[2:]
        # sums over changepoints j, j + 1, ..., J - 1 (0 past the last one)
        r0 = np.concatenate([np.cumsum(d[::-1])[::-1], [0.0]])
        r1 = np.concatenate([np.cumsum((d * self.tau_c)[::-1])[::-1], [0.0]])
        s0 = np.repeat(r0, self.counts)
        s1 = np.repeat(r1, self.counts)
        return np.asarray(coef[0] + coef[1] * self.tau + (s1 - self.tau * s0), dtype=np.float64)

    def rmatvec(self, g: np.ndarray) -> np.ndarray:
        """``X.T @ g``."""
        G = np.cumsum(np.add.reduceat(g, self.starts))  # G[j]: days before changepoint j
        H = np.cumsum(np.add.reduceat(g * self.tau, self.starts))
        head = [float(G[-1]), float(H[-1])]
        return np.concatenate([head, self.tau_c * G[:-1] - H[:-1]])


class _ChangepointPaths:
    """Log level and slope per path; slopes change on random days (Prophet-style)."""

    def __init__(
        self,
        start: np.ndarray,
        rate: float,
        scale: float,
        proc: np.random.Generator,
        extra: np.random.Generator,
    ) -> None:
        self.level = np.array(start[:, 0], dtype=np.float64)
        self.slope = np.array(start[:, 1], dtype=np.float64)
        self.rate = rate
        self.scale = scale
        self.proc = proc
        self.extra = extra

    def step(self, days: int) -> np.ndarray:
        n = len(self.level)
        # One call per stream for the whole block, day-major: the same numbers whatever
        # the block size. A Laplace draw is made every day, used only when a bend occurs.
        occurs = self.proc.random((days, n)) < self.rate
        change = self.extra.laplace(0.0, self.scale, (days, n))
        out = np.empty((days, n))
        for i in range(days):  # a loop over days; sequential sums keep blocks bit-identical
            self.slope = self.slope + np.where(occurs[i], change[i], 0.0)
            self.level = self.level + self.slope
            out[i] = np.exp(np.minimum(self.level, nb.LOG_MU_CAP))
        return out


def changepoint_paths(
    model: FittedModel,
    n_paths: int,
    param: np.random.Generator,
    proc: np.random.Generator,
    extra: np.random.Generator,
) -> _ChangepointPaths:
    """Paths of a fitted ``changepoint`` model: (a, s) drawn from the normal of the estimates,
    then bends on random days (see :data:`~simulate.models.base.PATH_FUNCTIONS`)."""
    p = model.path_inputs
    start = nb.normal_draws(param, p["mean"], p["cov"], n_paths)
    return _ChangepointPaths(start, p["rate"], p["scale"], proc, extra)


def fit_changepoint(spec: ModelSpec, s: DailySeries) -> FittedModel:
    """Fit the ``changepoint`` model: a steady percentage growth that may change now and
    then, with negative-binomial noise around it.

    Parameters
    ----------
    spec
        A ``changepoint`` spec (options ``n_changepoints``, ``changepoint_range``,
        ``prior_scale``).
    s
        The daily figures of the fit window (already cut to ``spec.window``).

    Returns
    -------
    FittedModel
        ``params``: ``log_level`` (log expected figure on the last day of the window),
        ``slope`` (current change of the log expected figure per day), ``dispersion`` (k),
        ``n_active_changepoints``, and the two figures that drive the simulated future:
        ``changepoint_rate`` (chance of a bend per day) and ``changepoint_scale`` (mean
        size of a bend, change of slope per day). ``cov`` is over the first three; the
        last three have NaN standard errors.

    Raises
    ------
    ModelError
        When the window holds nothing but zeros (no level to fit).

    Examples
    --------
    A slope of 0.4% a day that was 1% a day until 120 days ago:

    >>> import numpy as np
    >>> from simulate.models import DailySeries, ModelSpec, fit
    >>> t = np.arange(-239, 1)
    >>> rng = np.random.default_rng(np.random.SeedSequence(1))
    >>> log_mu = np.log(1000) + 0.004 * t - 0.006 * np.minimum(t + 120, 0)
    >>> y = rng.negative_binomial(30, 30 / (30 + np.exp(log_mu)))
    >>> model = fit(ModelSpec("changepoint", window=None), DailySeries.from_counts(y))
    >>> round(model.params["slope"], 3), model.params["n_active_changepoints"] <= 4
    (0.004, True)
    """
    y = s.y.astype(np.float64)
    n = len(y)
    if not np.any(y > 0):
        raise nb.all_zero_error(s, "changepoint")
    rng_frac = float(spec.option("changepoint_range"))
    prior_scale = float(spec.option("prior_scale"))
    T = float(max(n - 1, 1))
    tau = np.arange(-(n - 1), 1, dtype=np.float64) / T  # window in [-1, 0]; 0 is the origin
    cp = changepoint_days(n, int(spec.option("n_changepoints")), rng_frac)
    J = len(cp)
    B = np.maximum(0.0, tau[cp][None, :] - tau[:, None])  # (n, J): slope before c_j is s - delta_j
    X = np.column_stack([np.ones(n), tau, B])
    const = nb.nb_constant(y)
    # The prior is on the change of slope per month, 30 delta_w / T: penalty per unit of
    # |delta_w| (window units, the scale the optimiser works in).
    penalty = PRIOR_DAYS / (T * prior_scale)

    # Optimisation variables: (a, s, log k, delta+ (J), delta- (J)), all in window units.
    base_bounds = [nb.LOG_LEVEL_BOUNDS, (-nb.MAX_LOG_CHANGE, nb.MAX_LOG_CHANGE), nb.LOG_K_BOUNDS]
    bounds = base_bounds + [(0.0, nb.MAX_LOG_CHANGE)] * (2 * J)

    def split(x: np.ndarray) -> tuple[np.ndarray, float]:
        coef = np.concatenate([x[:2], x[3 : 3 + J] - x[3 + J :]])
        return coef, float(x[2])

    hinge = _Hinges(tau, cp)

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        coef, log_k = split(x)
        f, g_eta, g_k = nb.nb_objective(hinge.matvec(coef), log_k, y, const)
        g = hinge.rmatvec(g_eta)
        f += penalty * float(np.sum(x[3:]))
        grad = np.concatenate([g[:2], [g_k], g[2:] + penalty, -g[2:] + penalty])
        return f, grad

    start = nb.start_values(X[:, :2], y, [base_bounds[0], base_bounds[1], base_bounds[2]])
    x0 = np.concatenate([start[:2], start[2:3], np.zeros(2 * J)])
    x = nb.minimise(fun, x0, bounds)
    coef, log_k = split(x)
    delta = coef[2:]
    active = np.flatnonzero(np.abs(delta) * PRIOR_DAYS / T > ACTIVE_THRESHOLD)

    # Polish on the active set with the signs fixed (the penalty is linear there).
    XA = X[:, np.r_[0, 1, 2 + active]]
    sign = np.sign(delta[active])
    z_bounds = (
        base_bounds[:2]
        + [(0.0, nb.MAX_LOG_CHANGE) if sg > 0 else (-nb.MAX_LOG_CHANGE, 0.0) for sg in sign]
        + [nb.LOG_K_BOUNDS]
    )
    nA = XA.shape[1]

    def fgh(z: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        eta = matvec(XA, z[:nA])
        f, g_eta, g_k = nb.nb_objective(eta, float(z[nA]), y, const)
        f += penalty * float(np.sum(sign * z[2:nA]))
        g = np.append(rmatvec(XA, g_eta), g_k)
        g[2:nA] += penalty * sign
        return f, g, -nb.nb_hessian(XA, eta, float(z[nA]), y)

    z = np.concatenate([coef[:2], delta[active], [log_k]])
    z = nb.newton_polish(fgh, z, z_bounds)
    a, s_w, log_k = float(z[0]), float(z[1]), float(z[nA])
    delta = np.zeros(J)
    delta[active] = z[2:nA]
    k = math.exp(log_k)
    eta = matvec(XA, z[:nA])
    mu = np.exp(eta)
    loglik = -nb.nb_objective(eta, log_k, y, const)[0]

    # Covariance of (a, s, log k) given the active set; deltas on a bound of their sign
    # (i.e. back at 0) are held fixed like any parameter on a bound.
    H = nb.nb_hessian(XA, eta, log_k, y)
    cov_z = nb.covariance_from_hessian(H, nb.on_bound(z, z_bounds), fallback=nA)
    pick = [0, 1, nA]
    cov3 = cov_z[np.ix_(pick, pick)]
    to_days = np.array([1.0, 1.0 / T, k])  # to (log level, slope per day, k); delta method
    cov3 = cov3 * np.outer(to_days, to_days)  # elementwise: a NaN stays where it is

    n_active = int(np.sum(np.abs(delta) * PRIOR_DAYS / T > ACTIVE_THRESHOLD))
    range_days = max(rng_frac * n, 1.0)
    rate = min(1.0, J / range_days) if J else 0.0
    scale = max(float(np.mean(np.abs(delta))) / T if J else 0.0, MIN_CHANGE_SCALE)

    names = [
        "log_level",
        "slope",
        "dispersion",
        "n_active_changepoints",
        "changepoint_rate",
        "changepoint_scale",
    ]
    est = [a, s_w / T, k, float(n_active), rate, scale]
    cov = np.full((6, 6), np.nan)
    cov[:3, :3] = cov3
    d = np.diag(cov)
    se = np.where(np.isfinite(d), np.sqrt(np.maximum(d, 0.0)), np.nan)

    sim_mean = np.array([a, s_w / T])
    sim_cov = cov3[:2, :2]
    inputs = {"mean": sim_mean, "cov": sim_cov, "rate": rate, "scale": scale}
    return nb.nb_fitted_model(spec, s, names=names, est=est, se=se, cov=cov, loglik=loglik,
                              n_params=3 + n_active, mu=mu, k=k, path_inputs=inputs)  # fmt: skip
