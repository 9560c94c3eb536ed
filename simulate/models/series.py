"""The validated daily series a model is fitted to.

Documented rule for imperfect figures: the series goes through the data policy first (gaps
spread, corrections spread over the 7 days before them, slips kept unless the policy says
otherwise); any daily figure still negative is set to 0 and counted in ``n_clipped``. Zeros
stay zeros: count models (``trend-nb``, ``changepoint``) take them as they are, and
``local-trend`` works on log(y + c) with c half the reporting granularity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from ..data.policy import DataPolicy, apply_policy
from ..data.reported import ReportedData
from ..data.steps import granularity
from ..errors import ModelError

__all__ = ["DailySeries", "daily_series", "MIN_DAYS"]

#: The fewest daily figures any model is fitted to.
MIN_DAYS = 14

#: Policy applied before fitting unless another is given.
FIT_POLICY = DataPolicy(gaps="spread", corrections="spread", correction_window=7, slips="keep")


@dataclass(frozen=True, eq=False)
class DailySeries:
    """One series of daily reported figures, complete and non-negative.

    Attributes
    ----------
    name, source, reported_by
        What the figures are and who reported them.
    start
        Date of ``y[0]``; ``y[i]`` is the figure reported for ``start + i`` days.
    y
        Daily figures (int64, >= 0), one per calendar day.
    last_total
        The reported cumulative total on the last day (projections start from it).
    granularity
        Reporting granularity (e.g. 10: figures are multiples of 10).
    n_clipped
        Negative daily figures set to 0 (after the policy's correction rule).
    """

    name: str
    source: str
    reported_by: str
    start: date
    y: np.ndarray
    last_total: int
    granularity: int
    n_clipped: int = 0

    @property
    def end(self) -> date:
        """Date of the last figure (the forecast origin)."""
        return self.start + timedelta(days=len(self.y) - 1)

    @property
    def dates(self) -> np.ndarray:
        """Dates as ``datetime64[D]``."""
        return np.datetime64(self.start, "D") + np.arange(len(self.y))

    def tail(self, days: int | None) -> DailySeries:
        """The last `days` figures (all when None)."""
        if days is None or days >= len(self.y):
            return self
        cut = len(self.y) - days
        return DailySeries(
            self.name,
            self.source,
            self.reported_by,
            self.start + timedelta(days=cut),
            self.y[cut:],
            self.last_total,
            self.granularity,
            int(self.n_clipped),
        )

    @classmethod
    def from_counts(
        cls,
        y: np.ndarray,
        *,
        name: str = "synthetic",
        start: date = date(2024, 1, 1),
        reported_by: str = "nobody: synthetic figures",
        step: int | None = None,
    ) -> DailySeries:
        """Wrap an array of daily counts (for synthetic data and tests)."""
        arr = np.asarray(y, dtype=np.int64)
        if arr.ndim != 1 or arr.size == 0 or (arr < 0).any():
            raise ModelError("daily counts must be a non-empty 1-D array of numbers >= 0")
        g = step if step is not None else granularity(arr)
        return cls(name, "synthetic", reported_by, start, arr, int(arr.sum()), g)


def daily_series(
    data: ReportedData,
    name: str,
    *,
    as_of: date | None = None,
    policy: DataPolicy | None = None,
) -> DailySeries:
    """Prepare one series of reported figures for fitting.

    Parameters
    ----------
    data
        Figures as loaded by :func:`simulate.data.load`.
    name
        The series, e.g. ``"personnel"``.
    as_of
        Use only figures reported up to this date (for looking back).
    policy
        Data policy; default: gaps spread, corrections spread over 7 days, slips kept.

    Examples
    --------
    >>> from simulate.data import load
    >>> s = daily_series(load("example"), "personnel")
    >>> s.reported_by.startswith("nobody"), int(s.y.min()) >= 0
    (True, True)
    """
    part = data.series(name)
    if as_of is not None:
        part = part.filter(pl.col("date") <= as_of)
        if part.height == 0:
            raise ModelError(f"{data.source}: series {name!r}: no figures on or before {as_of}")
    trimmed = ReportedData(data.source, data.reported_by, part, data.files, data.corrections)
    table = apply_policy(trimmed, policy or FIT_POLICY).series(name)
    daily = table.get_column("daily")
    # The first day of a cumulative series has no daily figure: it starts the next day.
    if daily[0] is None:
        table = table.slice(1)
        daily = table.get_column("daily")
    y = daily.to_numpy().astype(np.int64)
    if len(y) < MIN_DAYS:
        raise ModelError(
            f"{data.source}: series {name!r}: {len(y)} daily figures; at least {MIN_DAYS} are "
            "needed to fit a model"
        )
    clipped = int((y < 0).sum())
    y = np.maximum(y, 0)
    return DailySeries(
        name=name,
        source=data.source,
        reported_by=data.reported_by,
        start=table.get_column("date")[0],
        y=y,
        last_total=int(table.get_column("cumulative")[-1]),
        granularity=granularity(y),
        n_clipped=clipped,
    )
