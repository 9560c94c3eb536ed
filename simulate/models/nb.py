"""Negative-binomial regression shared by ``trend-nb`` and ``changepoint``.

The NB2 log-likelihood with a log link and the dispersion as log k, its analytic gradient
and Hessian, the bounded optimiser and Newton polish, the covariance from the observed
information, normal parameter draws for simulated paths, starting values, and the fitted
model both kinds return. Every sum runs in a fixed order without BLAS where it matters for
the last bits (:mod:`simulate.models.smalllinalg`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from scipy import optimize, special

from ..errors import ModelError
from .base import FittedModel, pearson_diagnostics
from .observation import ObservationModel
from .series import DailySeries
from .smalllinalg import (
    cholesky,
    inverse_spd,
    matvec,
    psd_root,
    rmatvec,
    solve_spd,
    weighted_gram,
)
from .spec import ModelSpec

__all__ = [
    "LOG_MU_CAP",
    "LOG_K_BOUNDS",
    "LOG_LEVEL_BOUNDS",
    "MAX_LOG_CHANGE",
    "nb_constant",
    "nb_objective",
    "nb_loglik",
    "nb_hessian",
    "covariance_from_hessian",
    "on_bound",
    "normal_draws",
    "minimise",
    "newton_polish",
    "start_values",
    "all_zero_error",
    "nb_fitted_model",
]

#: Simulated log intensities are capped here (an expected 1e9 a day) so ``exp`` stays finite.
LOG_MU_CAP = math.log(1e9)
#: Bounds of log k (k from 1e-3, extreme over-dispersion, to 1e6, practically Poisson).
LOG_K_BOUNDS = (math.log(1e-3), math.log(1e6))
#: Bounds of the log level at the origin.
LOG_LEVEL_BOUNDS = (-40.0, 40.0)
#: Largest change of the log level over the window that a slope may make.
MAX_LOG_CHANGE = 30.0
#: Largest variance inflation factor of an estimate that gets a standard error.
_MAX_VIF = 1e10


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


def all_zero_error(s: DailySeries, kind: str) -> ModelError:
    """The error for a window in which every daily figure is 0 (no level can be estimated)."""
    return ModelError(
        f"model {kind!r}: series {s.name!r} ({s.source}): every daily figure in the "
        f"{len(s.y)}-day window {s.start} to {s.end} is 0, so no level or trend can be "
        "estimated; use a longer window or the 'naive' model"
    )


def nb_fitted_model(
    spec: ModelSpec,
    s: DailySeries,
    *,
    names: list[str],
    est: Any,
    se: Any,
    cov: np.ndarray,
    loglik: float,
    n_params: int,
    mu: np.ndarray,
    k: float,
    path_inputs: Mapping[str, Any],
) -> FittedModel:
    """The fitted model of a negative-binomial regression on series `s`: estimates `est` and
    standard errors `se` by `names`, in-sample means `mu`, NB observation noise of dispersion
    `k`, Pearson diagnostics and the AIC with `n_params` parameters."""
    y = s.y.astype(np.float64)
    diagnostics = pearson_diagnostics(y, mu, mu + mu * mu / k)
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
        path_inputs=path_inputs,
    )
