"""``chart-data-<series>.csv``: one series' run as a wide, chart-ready table.

Chart tools (Datawrapper, Flourish, spreadsheets) want one row per date and one column per
line or band edge, not the hubs' long format. One row per calendar day, from the first day of
the series' history to the horizon's end:

* ``date``;
* ``reported cumulative``, ``reported daily``: the figures up to the last report used (as
  fitted: after the run's data policy), then, when the data go on past the origin (a look-back
  run), the figures reported after it, as reported; empty where there is none;
* per scenario, the reference first (marked ``(reference)``), then the others by name (as in
  the fan chart; the file is the same whatever the order of the scenario file), the
  ``median`` and the ``50%``, ``80%`` and ``95%`` band edges (``low``/``high``) of the
  ``cumulative`` total and of the ``daily`` figure: ``status-quo (reference) cumulative 80%
  low``; empty before the first projected day, except that each cumulative median and band
  edge also holds the last reported total on the origin, so the fan opens from it;
* ``reported_by``: whose figures these are (the same on every row).

Values are whole numbers: quantiles rounded half to even (:func:`simulate.summaries.clean_count`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import numpy as np
import polars as pl

from ..pipeline import RunResult, SeriesResult
from ..summaries import clean_count

__all__ = ["chart_data", "BANDS", "column_names", "scenario_order"]

#: Central bands written, narrowest first.
BANDS = (0.5, 0.8, 0.95)


def scenario_order(reference: str, names: Iterable[str]) -> list[str]:
    """The reference, then the other scenarios by name: the order of every output file (the
    same whatever the scenario file's order)."""
    return [reference, *sorted(n for n in names if n != reference)]


def column_names(scenario: str, reference: bool) -> list[str]:
    """The columns of one scenario, in the order they are written."""
    name = f"{scenario} (reference)" if reference else scenario
    cols = []
    for what in ("cumulative", "daily"):
        cols.append(f"{name} {what} median")
        for band in BANDS:
            cols += [f"{name} {what} {band:.0%} low", f"{name} {what} {band:.0%} high"]
    return cols


def _edges(table: np.ndarray, levels: np.ndarray) -> list[np.ndarray]:
    """Median then each band's low and high edge, per day (interpolated between levels)."""
    want = [0.5]
    for band in BANDS:
        want += [(1 - band) / 2, (1 + band) / 2]
    return [clean_count(np.array([np.interp(q, levels, row) for row in table])) for q in want]


def _reported_after(result: RunResult, r: SeriesResult) -> pl.DataFrame:
    """Figures reported after the origin, as reported (a look-back run's data hold them)."""
    return result.prepared.data.after(r.series.name, r.model.origin).select(
        "date",
        pl.col("cumulative").cast(pl.Float64).alias("reported cumulative"),
        pl.col("daily").cast(pl.Float64).alias("reported daily"),
    )


def chart_data(result: RunResult, r: SeriesResult) -> pl.DataFrame:
    """The wide table of series `r` of `result` (see the module's description)."""
    s, origin = r.series, r.model.origin
    sf = result.scenario_file
    first = next(iter(r.projections.values()))
    end = origin + timedelta(days=int(first.dates.size))
    days = (end - s.start).days + 1
    dates = [s.start + timedelta(days=i) for i in range(days)]
    n_hist = len(s.y)  # the history ends on the origin
    cum_hist = s.last_total - (s.y.sum() - np.cumsum(s.y))
    columns: dict[str, pl.Series] = {
        "date": pl.Series("date", dates, dtype=pl.Date),
        "reported cumulative": pl.Series(np.r_[cum_hist, np.full(days - n_hist, np.nan)]),
        "reported daily": pl.Series(np.r_[s.y, np.full(days - n_hist, np.nan)].astype(float)),
    }
    for name in scenario_order(sf.reference.name, r.projections):
        p = r.projections[name]
        names = iter(column_names(name, name == sf.reference.name))
        pad = np.full(n_hist, np.nan)
        for what, table in (("cumulative", p.cum_quantiles), ("daily", p.daily_quantiles)):
            for values in _edges(table, p.levels):
                head = pad.copy()
                if what == "cumulative":
                    head[-1] = s.last_total  # the fan opens from the last reported total
                columns[next(names)] = pl.Series(np.r_[head, values])
    frame = pl.DataFrame({k: v.alias(k) for k, v in columns.items()})
    after = _reported_after(result, r)
    if after.height:
        frame = frame.update(after, on="date", how="left")
    float_cols = [c for c in frame.columns if c != "date"]
    return frame.with_columns(
        pl.col(float_cols).fill_nan(None).round(0).cast(pl.Int64),
        reported_by=pl.lit(s.reported_by),
    )
