"""The search for the maximum likelihood of the ``local-trend`` model (docs/local-trend.md).

Projected quasi-Newton steps with Levenberg-Marquardt damping over the log variance ratios
(and the logit of ``phi``), from the best grid point of each kind of optimum (:func:`maximise`),
then the choice between a plateau and the bound of a variance ratio. Central differences and
plain-Python linear algebra (:mod:`simulate.models.smalllinalg`): every step is the same on
every CPU and BLAS kernel.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ModelError
from .local_trend_filter import Concentrated
from .smalllinalg import cholesky, dot, matmul, solve_spd

__all__ = ["maximise", "LOG_RATIO_BOUNDS", "LOGIT_PHI_BOUNDS"]

#: Search range of the log variance ratios sigma_level^2 / sigma_obs^2 and
#: sigma_slope^2 / sigma_obs^2.
LOG_RATIO_BOUNDS = (-20.0, 10.0)
#: Search range of the logit of the damping.
LOGIT_PHI_BOUNDS = (-8.0, 8.0)
# A log variance ratio below this is on the plateau where the likelihood hardly changes.
_PLATEAU = -8.0
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


def _starts(nll: Concentrated) -> list[np.ndarray]:
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


def maximise(x: np.ndarray, damped: bool) -> tuple[np.ndarray, Concentrated]:
    nll = Concentrated(x.tolist(), damped)
    bounds = [LOG_RATIO_BOUNDS, LOG_RATIO_BOUNDS] + ([LOGIT_PHI_BOUNDS] if damped else [])
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


def _to_plateau_bound(x: np.ndarray, fx: float, nll: Concentrated) -> tuple[np.ndarray, float]:
    """Move a variance ratio far down a plateau to the lower bound when that is no worse.

    The search would otherwise crawl there over dozens of steps for a tiny gain, and where
    it stops on a flat plateau depends on rounding (another BLAS kernel stops elsewhere).
    "No worse" allows a rise of :data:`_FLAT_NLL`, so that the choice does not hinge on the
    last bits of two nearly equal likelihoods.
    """
    for i in (0, 1):
        if LOG_RATIO_BOUNDS[0] < x[i] < _PLATEAU:
            trial = x.copy()
            trial[i] = LOG_RATIO_BOUNDS[0]
            f_trial = nll(trial)
            if f_trial <= fx + _FLAT_NLL:
                x, fx = trial, f_trial
    return x, fx


def _fd_newton(
    nll: Concentrated, x: np.ndarray, free: list[int], h: float
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


def _settle(x: np.ndarray, nll: Concentrated, bounds: list[tuple[float, float]]) -> np.ndarray:
    """The optimum, from the search's answer `x`: plateau or bound?

    A variance ratio that stopped on its plateau (below :data:`_PLATEAU`) is also tried on
    the lower bound, the search going on from there; the best candidate wins, where one with
    more parameters on a bound wins when its likelihood is within :data:`_FLAT_NLL` of the
    best (a tie that rounding cannot decide).
    """
    lo = LOG_RATIO_BOUNDS[0]
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
    nll: Concentrated,
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


def _fd_gradient(nll: Concentrated, x: np.ndarray, h: float) -> np.ndarray:
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
