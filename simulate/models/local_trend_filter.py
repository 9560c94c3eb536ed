"""The Kalman filter and likelihood of the ``local-trend`` model (docs/local-trend.md).

The filter of a local linear trend on ``x = log(y + c)``: the diffuse start from the first two
days, the hot loop that sums the log-likelihood (:func:`kalman_sums`, switching to a fixed
linear filter once the covariance is steady), the filtered path with its one-step-ahead
predictions (:func:`kalman_path`), and the likelihood with ``sigma_obs^2`` concentrated out
(:class:`Concentrated`) that the search maximises. Plain Python floats: the same bits on every
CPU and BLAS kernel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.signal import lfilter

from .smalllinalg import sum_of_squares

__all__ = [
    "PHI_RANGE",
    "LOG_2PI",
    "State",
    "log_offset",
    "phi_of",
    "diffuse_start",
    "kalman_sums",
    "kalman_path",
    "loglik",
    "loglik_known_start",
    "Concentrated",
]

#: Range of the damping factor when it is estimated.
PHI_RANGE = (0.8, 1.0)

# Relative change of the predicted covariance below which the filter is in steady state.
_STEADY_TOL = 1e-14
# Days per chunk of the filter loop (one log and one steady-state test per chunk).
_CHUNK = 32
LOG_2PI = math.log(2.0 * math.pi)

State = tuple[float, float, float, float, float]  # mean (level, slope), cov (p11, p12, p22)


def log_offset(granularity: int) -> float:
    """The offset ``c`` of ``log(y + c)``: half the reporting step, at least 0.5.

    Examples
    --------
    >>> log_offset(10), log_offset(1)
    (5.0, 0.5)
    """
    return max(granularity / 2.0, 0.5)


def phi_of(p: float) -> float:
    lo, hi = PHI_RANGE
    return lo + (hi - lo) / (1.0 + math.exp(-p))


def diffuse_start(x1: float, x2: float, h: float, qe: float, qz: float, phi: float) -> State:
    """Predicted state for day 3 given days 1 and 2 under a flat prior on the initial state."""
    # Filtered state on day 2: mean (x2, x2 - x1), cov [[h, h], [h, 2h + qe + qz]].
    f12 = h
    f22 = 2.0 * h + qe + qz
    p22 = phi * phi * f22 + qz
    p12 = phi * f12 + phi * phi * f22
    p11 = h + phi * f12 + p12 + qe
    return x2 + phi * (x2 - x1), phi * (x2 - x1), p11, p12, p22


def kalman_sums(
    x: Sequence[float],
    qe: float,
    qz: float,
    phi: float,
    state: State,
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


def kalman_path(
    x: Sequence[float], h: float, qe: float, qz: float, phi: float, state: State
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, State]:
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
    filt: State = state
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


def loglik(
    x: Sequence[float], sigma_obs: float, sigma_level: float, sigma_slope: float, phi: float
) -> float:
    """Log-density of ``x[2:]`` given ``x[0], x[1]`` (diffuse initial state)."""
    h = sigma_obs**2
    qe, qz = sigma_level**2 / h, sigma_slope**2 / h
    slog, sv = kalman_sums(x[2:], qe, qz, phi, diffuse_start(x[0], x[1], 1.0, qe, qz, phi))
    n = len(x) - 2
    return -0.5 * (n * (LOG_2PI + math.log(h)) + slog + sv / h)


def loglik_known_start(
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
    slog, sv = kalman_sums(x, qe, qz, phi, state)
    n = len(x)
    return -0.5 * (n * (LOG_2PI + math.log(h)) + slog + sv / h)


class Concentrated:
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
        phi = phi_of(psi[2]) if self.damped else 1.0
        start = diffuse_start(self.x1, self.x2, 1.0, qe, qz, phi)
        return kalman_sums(self.rest, qe, qz, phi, start, self.tail)

    def __call__(self, psi: np.ndarray) -> float:
        slog, sv = self.sums(psi.tolist())
        if not sv > 0.0 or not math.isfinite(sv + slog):
            return 1e300
        return 0.5 * (self.n * math.log(sv / self.n) + slog)
