"""Tests of the ``local-trend`` Kalman filter and likelihood (simulate.models.local_trend_filter)
against slow, obviously-correct references, and of the offset rule."""

from __future__ import annotations

import math

import numpy as np
import pytest
from local_trend_support import simulate_log_series
from scipy import stats

from simulate.models import local_trend as lt
from simulate.models import local_trend_filter as ltf

# --- the likelihood against slow, obviously-correct references -------------------------------


def _mvn_known_start(
    x: np.ndarray, pars: tuple[float, float, float, float], mean: np.ndarray, cov: np.ndarray
) -> float:
    """log-density of x as one multivariate normal vector, state on day 1 ~ N(mean, cov)."""
    s_obs, s_level, s_slope, phi = pars
    n = len(x)
    t_mat = np.array([[1.0, phi], [0.0, phi]])
    q = np.diag([s_level**2, s_slope**2])
    means, covs = [mean], [cov]
    for _ in range(1, n):
        means.append(t_mat @ means[-1])
        covs.append(t_mat @ covs[-1] @ t_mat.T + q)
    big = np.zeros((n, n))
    for s in range(n):
        power = np.eye(2)
        for t in range(s, n):  # cov(alpha_t, alpha_s) = T^(t-s) P_s
            big[t, s] = big[s, t] = (power @ covs[s])[0, 0]
            power = t_mat @ power
    big += s_obs**2 * np.eye(n)
    mu = np.array([m[0] for m in means])
    return float(stats.multivariate_normal(mu, big).logpdf(x))


def _mvn_differenced(x: np.ndarray, pars: tuple[float, float, float, float]) -> float:
    """log-density of x[2:] given x[:2] under a flat prior on the initial state.

    w_t = (1 - L)(1 - phi L) x_t removes the initial state and is MA(2); the map from x[2:] to
    w (given x[:2]) has unit Jacobian, so the density of w is the density sought.
    """
    s_obs, s_level, s_slope, phi = pars
    h, qe, qz = s_obs**2, s_level**2, s_slope**2
    w = x[2:] - (1 + phi) * x[1:-1] + phi * x[:-2]
    gamma = (
        phi**2 * qz + (1 + phi**2) * qe + (1 + (1 + phi) ** 2 + phi**2) * h,
        -phi * qe - (1 + phi) ** 2 * h,
        phi * h,
    )
    m = len(w)
    big = sum(
        np.diag(np.full(m - k, g), k) + (np.diag(np.full(m - k, g), -k) if k else 0)
        for k, g in enumerate(gamma)
    )
    return float(stats.multivariate_normal(np.zeros(m), big).logpdf(w))


PARS = [(0.2, 0.05, 0.01, 1.0), (0.15, 0.02, 0.002, 0.9), (0.5, 0.0, 0.03, 0.97)]


@pytest.mark.parametrize("pars", PARS)
def test_kalman_likelihood_matches_multivariate_normal_with_known_start(
    pars: tuple[float, float, float, float],
) -> None:
    x, _, _ = simulate_log_series(30, 3, phi=pars[3])
    mean = np.array([7.0, 0.01])
    cov = np.array([[0.3, 0.01], [0.01, 0.02]])
    fast = ltf.loglik_known_start(x.tolist(), *pars, mean=(7.0, 0.01), cov=(0.3, 0.01, 0.02))
    assert fast == pytest.approx(_mvn_known_start(x, pars, mean, cov), abs=1e-6)


@pytest.mark.parametrize("pars", PARS)
@pytest.mark.parametrize("n", [30, 400])
def test_diffuse_likelihood_matches_differenced_series(
    pars: tuple[float, float, float, float], n: int
) -> None:
    # n = 400 reaches the steady state, where the filter switches to a fixed linear filter.
    x, _, _ = simulate_log_series(n, 4, phi=pars[3])
    assert ltf.loglik(x.tolist(), *pars) == pytest.approx(_mvn_differenced(x, pars), abs=1e-6)


def test_steady_state_shortcut_and_stored_path_agree_with_the_plain_filter() -> None:
    x, _, _ = simulate_log_series(1500, 5, phi=0.95)
    h, qe, qz, phi = 0.15**2, 0.02**2, 0.002**2, 0.95
    start = ltf.diffuse_start(x[0], x[1], 1.0, qe / h, qz / h, phi)
    rest = x[2:].tolist()
    with_filter = ltf.kalman_sums(rest, qe / h, qz / h, phi, start, x[2:])
    with_loop = ltf.kalman_sums(rest, qe / h, qz / h, phi, start)
    assert with_filter == pytest.approx(with_loop, rel=1e-12)
    start_h = ltf.diffuse_start(x[0], x[1], h, qe, qz, phi)
    _, _, v, f, _ = ltf.kalman_path(rest, h, qe, qz, phi, start_h)
    stored = -0.5 * (len(v) * math.log(2 * math.pi) + np.log(f).sum() + (v * v / f).sum())
    assert stored == pytest.approx(ltf.loglik(x.tolist(), 0.15, 0.02, 0.002, phi), abs=1e-6)


def test_offset_rule_for_zeros_and_rounding() -> None:
    assert ltf.log_offset(1) == 0.5 and ltf.log_offset(10) == 5.0 and ltf.log_offset(2) == 1.0
    assert lt.log_offset is ltf.log_offset  # still importable from the model's module
