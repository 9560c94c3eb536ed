"""Observation models: from an expected daily figure to a reported one.

Separate from the trend models: a trend model says what the expected daily figure (the
*intensity*) is on each day of each path; the observation model adds the day-to-day noise of
the reports and rounds to the reporting granularity (e.g. multiples of 10). Figures are never
negative.

Each family draws from its own streams, one distribution per stream and all days of a block in
one call, so results do not depend on how the horizon is cut into blocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["ObservationModel", "round_to"]


def round_to(x: np.ndarray, step: int) -> np.ndarray:
    """Round to the nearest multiple of `step` (half away from zero), as int64, >= 0."""
    if step <= 1:
        return np.asarray(np.maximum(np.rint(x), 0), dtype=np.int64)
    return np.asarray(np.maximum(np.floor(x / step + 0.5), 0) * step, dtype=np.int64)


@dataclass(frozen=True)
class ObservationModel:
    """Noise of the reported daily figure around its expected value.

    Parameters
    ----------
    family
        ``"negbin"``: negative binomial with mean mu and variance mu + mu^2 / `dispersion`
        (drawn as a gamma-Poisson mixture). ``"lognormal"``: log(y + `offset`) is normal with
        sd `sigma` and the mean of y is mu. ``"empirical"``: the path values are already
        reported figures (bootstrap and naive models); they are only rounded.
    dispersion
        Negative-binomial size k (``negbin`` only).
    sigma, offset
        Lognormal parameters (``lognormal`` only).
    granularity
        Reported figures are rounded to multiples of this.
    """

    family: Literal["negbin", "lognormal", "empirical"]
    dispersion: float | None = None
    sigma: float | None = None
    offset: float = 0.0
    granularity: int = 1

    def __post_init__(self) -> None:
        if self.family == "negbin" and not (self.dispersion and self.dispersion > 0):
            raise ValueError("negbin observation needs dispersion > 0")
        if self.family == "lognormal" and (self.sigma is None or self.sigma < 0):
            raise ValueError("lognormal observation needs sigma >= 0")

    def draw(
        self,
        mu: np.ndarray,
        rngs: tuple[np.random.Generator, np.random.Generator, np.random.Generator],
    ) -> np.ndarray:
        """Reported figures for expected figures `mu` (days x paths), as int64 >= 0.

        `rngs` are the (gamma, Poisson, normal) streams; each family uses only its own.
        """
        mu = np.maximum(mu, 0.0)
        if self.family == "negbin":
            assert self.dispersion is not None
            k = self.dispersion
            # Gamma-Poisson mixture: mean mu, variance mu + mu^2 / k.
            lam = rngs[0].gamma(k, 1.0, size=mu.shape) * (mu / k)
            return round_to(rngs[1].poisson(lam).astype(np.float64), self.granularity)
        if self.family == "lognormal":
            assert self.sigma is not None
            s = self.sigma
            z = rngs[2].standard_normal(mu.shape)
            y = (mu + self.offset) * np.exp(s * z - 0.5 * s * s) - self.offset
            return round_to(y, self.granularity)
        return round_to(mu, self.granularity)

    def quantiles(self, mu: np.ndarray, levels: np.ndarray) -> np.ndarray:
        """Quantiles of the reported figure for each expected figure in `mu`: (len(mu), levels).

        Before rounding to the granularity (the rounding moves them by at most half a step).
        """
        from scipy import stats

        mu = np.maximum(np.asarray(mu, dtype=np.float64), 1e-9)[:, None]
        q = np.asarray(levels, dtype=np.float64)[None, :]
        if self.family == "negbin":
            assert self.dispersion is not None
            k = self.dispersion
            return np.asarray(stats.nbinom.ppf(q, k, k / (k + mu)), dtype=np.float64)
        if self.family == "lognormal":
            assert self.sigma is not None
            s = self.sigma
            z = stats.norm.ppf(q)
            y = (mu + self.offset) * np.exp(s * z - 0.5 * s * s) - self.offset
            return np.asarray(np.maximum(y, 0), dtype=np.float64)
        return np.broadcast_to(mu, (mu.shape[0], q.shape[1])).copy()

    def to_dict(self) -> dict[str, object]:
        return {
            "family": self.family,
            "dispersion": self.dispersion,
            "sigma": self.sigma,
            "offset": self.offset,
            "granularity": self.granularity,
        }
