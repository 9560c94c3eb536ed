"""Bootstrap intervals of backtest skill over origins.

Skill is ``1 - mean WIS / mean WIS of the baseline`` on the same origins. Its uncertainty comes
from which origins happened to be scored, so the resampling unit is the origin: each model's
WIS is first averaged within an origin (over horizons, or over the windows of a total), then
the origins are resampled with replacement, ``SKILL_RESAMPLES`` times. The resamples are
*paired*: a model and its baseline (and every other model of the same series and target group)
use the same resampled origins, and the ratio of means is recomputed on each resample. The
interval is the central ``SKILL_LEVEL`` percentile interval of those ratios.

The origins drawn are keyed by (seed, series, group) (:func:`simulate.rng.skill_seed`), never by
run order; an index matrix of origins x resamples is drawn once and every model is resampled
with it at once (no loop over resamples).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ..rng import generator, skill_seed

__all__ = ["SKILL_LEVEL", "SKILL_RESAMPLES", "resample_origins", "skill_bounds"]

#: Resamples of the origins per series and target group.
SKILL_RESAMPLES = 2000
#: Central probability of the interval: 90%, whose 5% tails still rest on 100 resamples each
#: (a 95% interval's on 50) and which is read as "likely between" with a few dozen origins.
SKILL_LEVEL = 0.90

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


def resample_origins(
    n_origins: int, *, seed: int, series: str, group: str, resamples: int = SKILL_RESAMPLES
) -> IntArray:
    """Indices ``(n_origins, resamples)`` of origins drawn with replacement: column ``r`` is
    the ``r``-th resample (the origins sorted by date, indexed from 0)."""
    rng = generator(skill_seed(seed, series, group))
    return rng.integers(0, n_origins, size=(n_origins, resamples)).astype(np.intp)


def skill_bounds(
    wis: FloatArray, base: FloatArray, idx: IntArray, level: float = SKILL_LEVEL
) -> tuple[FloatArray, FloatArray]:
    """Percentile bounds of the skill of each model on the resampled origins.

    `wis` is ``(models, origins)`` of per-origin mean WIS, `base` the baseline's ``(origins,)``
    and `idx` the ``(origins, resamples)`` indices of :func:`resample_origins`. Returns the
    lower and upper bounds per model; NaN where no resample has a positive baseline WIS or a
    model lacks a value at some origin.
    """
    wis = np.atleast_2d(np.asarray(wis, dtype=np.float64))
    base = np.asarray(base, dtype=np.float64)
    model_means = wis[:, idx].mean(axis=1)  # (models, resamples)
    base_means = base[idx].mean(axis=0)  # (resamples,)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(base_means > 0, 1.0 - model_means / base_means, np.nan)
    lo = np.full(wis.shape[0], np.nan)
    hi = np.full(wis.shape[0], np.nan)
    tail = (1.0 - level) / 2.0
    complete = np.asarray(np.isfinite(wis).all(axis=1), dtype=bool) & bool(np.isfinite(base).all())
    for k in range(wis.shape[0]):  # per model (a handful), never per resample
        r = ratios[k][np.isfinite(ratios[k])]
        if not complete[k]:
            continue
        if r.size:
            lo[k], hi[k] = np.quantile(r, [tail, 1.0 - tail])
    return lo, hi
