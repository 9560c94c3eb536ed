"""What the local-trend tests share (no tests here): series drawn from the model itself."""

from __future__ import annotations

import math

import numpy as np

TRUE = {"sigma_obs": 0.15, "sigma_level": 0.02, "sigma_slope": 0.002}
START_LEVEL = math.log(1200.0)
START_SLOPE = 0.001


def simulate_log_series(n: int, seed: int, *, phi: float) -> tuple[np.ndarray, float, float]:
    """x_t from the model with the TRUE variances, and the true level and slope on the last
    day."""
    sigmas = TRUE
    z = np.random.default_rng(np.random.SeedSequence(seed)).standard_normal((n, 3))
    x = np.empty(n)
    level, slope = START_LEVEL, START_SLOPE
    for t in range(n):
        if t > 0:
            level = level + phi * slope + sigmas["sigma_level"] * z[t, 1]
            slope = phi * slope + sigmas["sigma_slope"] * z[t, 2]
        x[t] = level + sigmas["sigma_obs"] * z[t, 0]
    return x, level, slope
