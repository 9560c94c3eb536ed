"""Slow statistical verification: the engine's quantiles against a closed-form predictive.

A model with a known, constant expected daily figure ``mu`` and negative-binomial observation
noise (dispersion ``k``) has daily figures NB(n=k, p=k/(k+mu)), independent from day to day, so
the total over ``h`` days is NB(n=h*k, p) exactly. The simulated quantiles must match these
within Monte-Carlo error: at the engine's quantile ``q`` of level ``p``, the analytic CDF
``F(q)`` (and ``F(q - 1)``, for the discrete jump) must bracket ``p`` within 4 standard errors
``sqrt(p (1 - p) / n_paths)``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

from simulate.data import load
from simulate.engine import simulate_scenarios
from simulate.models import ModelSpec, ObservationModel, daily_series, fit
from simulate.scenarios import HUB_QUANTILES, Scenario

MU, K, PATHS = 40.0, 6.0, 40_000


@pytest.mark.slow
def test_quantiles_match_the_negative_binomial_predictive() -> None:
    base = fit(ModelSpec("trend-nb"), daily_series(load("example"), "tanks"))
    # a trend-nb model with a known level, no slope and no parameter uncertainty: every path's
    # expected daily figure is MU
    model = replace(
        base,
        observation=ObservationModel("negbin", dispersion=K, granularity=1),
        path_inputs={**base.path_inputs, "mean": np.array([np.log(MU), 0.0]),
                     "cov": np.zeros((2, 2))},
    )  # fmt: skip
    levels = np.asarray(HUB_QUANTILES)
    out = simulate_scenarios(model, [Scenario("status-quo")], horizon=60, n_paths=PATHS, seed=3,
                  series_key=0, levels=levels)["status-quo"]  # fmt: skip
    se = np.sqrt(levels * (1 - levels) / PATHS)
    p = K / (K + MU)
    for h in (1, 7, 30, 60):
        daily = stats.nbinom(K, p)
        total = stats.nbinom(h * K, p)
        for dist, q in ((daily, out.daily_quantiles[h - 1]),
                        (total, out.cum_quantiles[h - 1] - model.last_total)):  # fmt: skip
            hi = dist.cdf(np.floor(q))
            lo = dist.cdf(np.ceil(q) - 1)
            assert np.all(hi >= levels - 4 * se), (h, q, hi)
            assert np.all(lo <= levels + 4 * se), (h, q, lo)
    # and the mean total is h * mu within 4 standard errors
    sd = np.sqrt(60 * (MU + MU**2 / K) / PATHS)
    assert abs(out.horizon_total_mean - 60 * MU) < 4 * sd
