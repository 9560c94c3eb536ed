"""The shape of a daily series: its reporting step and its robust local level.

Owns :func:`granularity` (the largest round number the daily figures are multiples of) and
:func:`rolling_median` (the level the checks, the slip rule and the data policy judge a day
against). Both work on plain arrays, so the models use them too without reading any table.
"""

from __future__ import annotations

import numpy as np
import polars as pl

__all__ = ["granularity", "rolling_median"]

# The reporting steps tried, largest first.
_STEPS = (1000, 500, 100, 50, 10, 5, 2)


def granularity(daily: np.ndarray, *, share: float = 0.98) -> int:
    """The reporting granularity: the largest of 1000, 500, 100, 50, 10, 5, 2 that divides at
    least `share` of the non-zero daily figures (1 when none does).

    A share rather than all figures, because a few real reports break the rounding
    (e.g. personnel totals of 150,605 and 465,054 amid multiples of 10).

    Examples
    --------
    >>> import numpy as np
    >>> granularity(np.array([1230, 0, 990, 1240]))
    10
    >>> granularity(np.array([3, 5, 7]))
    1
    """
    nz = np.abs(daily[daily != 0]).astype(np.int64)
    if nz.size == 0:
        return 1
    for step in _STEPS:
        if np.mean(nz % step == 0) >= share:
            return step
    return 1


def rolling_median(x: np.ndarray, window: int) -> np.ndarray:
    """Centred rolling median of `x` over `window` values (fewer at the ends)."""
    s = pl.Series(x)
    return s.rolling_median(window, min_samples=1, center=True).to_numpy()
