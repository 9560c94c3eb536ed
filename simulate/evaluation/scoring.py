"""Proper scores of simulated paths against what was reported afterwards (no fitting here).

* targets: the daily figure at each horizon (``daily``), totals over consecutive windows of 7,
  30 and 90 days after the origin (``total7`` ending on days 7, 14, ..., ``total30`` ending on
  days 30, 60, 90, ``total90``), and the cumulative total at the last horizon (``cum``);
* scores (from :mod:`scoringrules`): the weighted interval score on the quantile levels
  (central intervals from symmetric pairs of levels, plus the median) and the CRPS of the
  sample, each on the natural and the ``log1p`` scale; the absolute error of the median;
  whether the central 50/80/95% intervals cover the reported figure; the PIT (the share of
  paths below the figure, ties counted half: the mid-PIT of a discrete forecast).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import polars as pl
import scoringrules as sr

from ..models.spec import HUB_QUANTILES

__all__ = ["INTERVALS", "TOTAL_WINDOWS", "score_paths", "wis_of_quantiles"]

#: Central intervals whose coverage is reported.
INTERVALS = (0.5, 0.8, 0.95)
#: Windows (days) of the scored totals.
TOTAL_WINDOWS = (7, 30, 90)

FloatArray = npt.NDArray[np.float64]


def _targets(
    paths: npt.NDArray[np.int64], observed: npt.NDArray[np.int64], last_total: int
) -> tuple[list[str], list[int], FloatArray, FloatArray]:
    """Stack every scored quantity: names, horizons, samples (K, n) and observations (K,)."""
    h = paths.shape[0]
    names: list[str] = ["daily"] * h
    horizons = list(range(1, h + 1))
    rows = [paths.astype(np.float64)]
    obs = [observed.astype(np.float64)]
    csum = np.cumsum(paths, axis=0)
    ocum = np.cumsum(observed)
    for w in TOTAL_WINDOWS:
        ends = np.arange(w, h + 1, w)
        if ends.size == 0:
            continue
        starts = ends - w
        p_prev = np.where(starts[:, None] > 0, csum[np.maximum(starts - 1, 0)], 0)
        o_prev = np.where(starts > 0, ocum[np.maximum(starts - 1, 0)], 0)
        rows.append((csum[ends - 1] - p_prev).astype(np.float64))
        obs.append((ocum[ends - 1] - o_prev).astype(np.float64))
        names += [f"total{w}"] * ends.size
        horizons += ends.tolist()
    rows.append((last_total + csum[-1:]).astype(np.float64))
    obs.append(np.array([last_total + ocum[-1]], dtype=np.float64))
    names.append("cum")
    horizons.append(h)
    return names, horizons, np.vstack(rows), np.concatenate(obs)


def wis_of_quantiles(q: FloatArray, y: FloatArray, levels: FloatArray) -> FloatArray:
    """Weighted interval score of quantiles `q` (K, L) at symmetric `levels` (the median
    among them) against `y` (K,)."""
    mid = int(np.argmin(np.abs(levels - 0.5)))
    pairs = [(i, len(levels) - 1 - i) for i in range(len(levels) // 2)]
    alpha = np.array([2 * levels[i] for i, _ in pairs])
    lower = q[:, [i for i, _ in pairs]]
    upper = q[:, [j for _, j in pairs]]
    # WIS = (|y - m| / 2 + sum_k alpha_k / 2 * IS_alpha_k) / (K + 1/2) (Bracher et al. 2021),
    # the interval scores from scoringrules. Its own weighted_interval_score (0.10.0, NumPy
    # backend) adds w_median * median instead of w_median * |y - median|, so it is not used.
    interval = sr.interval_score(y, lower, upper, alpha, backend="numpy")
    wis = (0.5 * np.abs(y - q[:, mid]) + (np.asarray(interval) * (alpha / 2)).sum(axis=1)) / (
        len(pairs) + 0.5
    )
    return np.asarray(wis, dtype=np.float64)


def _scores(x: FloatArray, y: FloatArray, levels: FloatArray) -> dict[str, FloatArray]:
    """Scores of samples `x` (K, n) against `y` (K,) on one scale."""
    q = np.quantile(x, levels, axis=1).T  # (K, L)
    median = q[:, int(np.argmin(np.abs(levels - 0.5)))]
    wis = wis_of_quantiles(q, y, levels)
    crps = sr.crps_ensemble(y, x, m_axis=1, backend="numpy")
    return {
        "wis": np.asarray(wis, dtype=np.float64),
        "crps": np.asarray(crps, dtype=np.float64),
        "ae_median": np.abs(y - median),
        "median": median,
    }


def score_paths(
    paths: npt.NDArray[np.int64],
    observed: npt.NDArray[np.int64],
    last_total: int,
    levels: Sequence[float] = HUB_QUANTILES,
) -> pl.DataFrame:
    """Score simulated daily paths ``(horizon, n)`` against the reported figures ``(horizon,)``.

    One row per target, horizon and scale (``natural``, ``log1p``) with ``observed``,
    ``median``, ``lo80`` and ``hi80`` (the central 80% interval), ``wis``, ``crps``,
    ``ae_median``, ``cov50``, ``cov80``, ``cov95`` (whether the central interval, from the
    sample's quantiles, holds the figure) and ``pit``.
    """
    lv = np.asarray(levels, dtype=np.float64)
    names, horizons, x, y = _targets(paths, observed, last_total)
    below = (x < y[:, None]).mean(axis=1)
    ties = (x == y[:, None]).mean(axis=1)
    pit = below + 0.5 * ties
    cover = {}
    for c in INTERVALS:
        lo, hi = np.quantile(x, [(1 - c) / 2, (1 + c) / 2], axis=1)
        cover[f"cov{round(c * 100)}"] = ((y >= lo) & (y <= hi)).astype(np.float64)
    band = np.quantile(x, [0.1, 0.9], axis=1)
    frames = []
    for scale, fx, fy in (("natural", x, y), ("log1p", np.log1p(x), np.log1p(y))):
        s = _scores(fx, fy, lv)
        frames.append(
            pl.DataFrame(
                {
                    "target": names,
                    "horizon": np.asarray(horizons, dtype=np.int64),
                    "scale": scale,
                    "observed": fy,
                    **s,
                    "lo80": band[0] if scale == "natural" else np.log1p(band[0]),
                    "hi80": band[1] if scale == "natural" else np.log1p(band[1]),
                    **cover,
                    "pit": pit,
                }
            )
        )
    return pl.concat(frames)
