"""The run's tables (Polars), in the long formats of the forecast and scenario hubs.

Every table carries a ``reported_by`` column: these are projections of the figures *as
reported by* someone, not of actual losses. Rows are ordered by series name, scenario name,
target, horizon and quantile level, never by the order of the scenario file or of the work,
so that the files are byte-identical whatever order the scenarios were listed or run in.

* :func:`projections_table`: ``projections.csv`` (hubverse: ``inc X`` daily reported figure,
  ``cum X`` cumulative total; ``quantile`` and ``mean`` rows);
* :func:`contrasts_table`: ``contrasts.csv`` (each scenario minus the reference, cumulative);
* :func:`summary_table`: ``summary.csv`` (totals over the horizon and per month, record and
  threshold probabilities, crossing dates);
* :func:`fit_table`: ``fit.csv``; :func:`samples_table`: ``samples.parquet``;
* :func:`headline`: the few answers printed at the end of a run.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import numpy as np
import polars as pl

from .engine import Projection
from .pipeline import RunResult, SeriesResult

__all__ = [
    "projection_blocks",
    "contrast_blocks",
    "projections_table",
    "contrasts_table",
    "summary_table",
    "fit_table",
    "samples_table",
    "headline",
    "HUB_SCHEMA",
    "SUMMARY_SCHEMA",
    "HEADLINE_SCHEMA",
]

#: Columns of ``projections.csv`` and ``contrasts.csv`` (contrasts add
#: ``reference_scenario_id`` after ``scenario_id``).
HUB_SCHEMA: dict[str, Any] = {
    "origin_date": pl.Date,
    "scenario_id": pl.String,
    "target": pl.String,
    "horizon": pl.Int64,
    "target_end_date": pl.Date,
    "output_type": pl.String,
    "output_type_id": pl.Float64,
    "value": pl.Float64,
    "reported_by": pl.String,
}

#: Columns of :func:`headline`.
HEADLINE_SCHEMA: dict[str, Any] = {
    "series": pl.String,
    "reported_by": pl.String,
    "source": pl.String,
    "last_date": pl.Date,
    "last_total": pl.Int64,
    "record": pl.Int64,
    "record_date": pl.Date,
    "record_approximate": pl.Boolean,
    "scenario": pl.String,
    "reference": pl.Boolean,
    "start": pl.Date,
    "through": pl.Date,
    "total_median": pl.Float64,
    "total_lo80": pl.Float64,
    "total_hi80": pl.Float64,
    "cum_median": pl.Float64,
    "cum_lo80": pl.Float64,
    "cum_hi80": pl.Float64,
    "vs_reference_median": pl.Float64,
    "vs_reference_lo80": pl.Float64,
    "vs_reference_hi80": pl.Float64,
    "thresholds": pl.List(
        pl.Struct({"level": pl.Int64, "probability": pl.Float64, "median_date": pl.Date})
    ),
    "record_prob": pl.Float64,
}

#: Columns of ``summary.csv``.
SUMMARY_SCHEMA: dict[str, Any] = {
    "origin_date": pl.Date,
    "scenario_id": pl.String,
    "series": pl.String,
    "measure": pl.String,
    "period_start": pl.Date,
    "period_end": pl.Date,
    "days": pl.Int64,
    "threshold": pl.Int64,
    "output_type": pl.String,
    "output_type_id": pl.Float64,
    "value": pl.Float64,
    "value_date": pl.Date,
    "reported_by": pl.String,
}


def _by_name(result: RunResult) -> list[SeriesResult]:
    return sorted(result.results, key=lambda r: r.series.name)


def _scenarios(r: SeriesResult) -> list[Projection]:
    return [r.projections[name] for name in sorted(r.projections)]


def _hub_block(
    origin: date,
    scenario: str,
    target: str,
    dates: np.ndarray,
    levels: np.ndarray,
    quantiles: np.ndarray,
    mean: np.ndarray,
    reported_by: str,
) -> pl.DataFrame:
    """Quantile rows then mean rows of one target, horizon by horizon."""
    h, n_levels = quantiles.shape
    horizon = np.arange(1, h + 1, dtype=np.int64)
    # per horizon: L quantile rows followed by one mean row
    hh = np.repeat(horizon, n_levels + 1)
    ids = np.tile(np.r_[levels, np.nan], h)
    values = np.column_stack([clean_count(quantiles), clean_mean(mean)]).ravel()
    is_mean = np.tile(np.r_[np.zeros(n_levels, bool), True], h)
    return pl.DataFrame(
        {
            "origin_date": pl.Series([origin] * hh.size, dtype=pl.Date),
            "scenario_id": scenario,
            "target": target,
            "horizon": hh,
            "target_end_date": np.repeat(dates, n_levels + 1).astype("datetime64[D]"),
            "output_type": np.where(is_mean, "mean", "quantile"),
            "output_type_id": ids,
            "value": values,
            "reported_by": reported_by,
        }
    ).with_columns(pl.col("output_type_id").fill_nan(None), pl.col("target_end_date").cast(pl.Date))


def projection_blocks(result: RunResult) -> Iterator[pl.DataFrame]:
    """The rows of ``projections.csv`` one (series, scenario, target) block at a time, in file
    order: for writing large runs without holding the whole table."""
    for r in _by_name(result):
        origin = r.model.origin
        for p in _scenarios(r):
            for target, q, m in (
                (f"cum {r.series.name}", p.cum_quantiles, p.cum_mean),
                (f"inc {r.series.name}", p.daily_quantiles, p.daily_mean),
            ):
                block = _hub_block(
                    origin, p.scenario, target, p.dates, p.levels, q, m, r.series.reported_by
                )
                yield block.cast(HUB_SCHEMA)  # type: ignore[arg-type]


def projections_table(result: RunResult) -> pl.DataFrame:
    """``projections.csv``: daily (``inc``) and cumulative (``cum``) quantiles and means."""
    return pl.concat(list(projection_blocks(result)))


_CONTRAST_COLUMNS = [*list(HUB_SCHEMA)[:2], "reference_scenario_id", *list(HUB_SCHEMA)[2:]]


def contrast_blocks(result: RunResult) -> Iterator[pl.DataFrame]:
    """The rows of ``contrasts.csv`` one (series, scenario) block at a time, in file order."""
    reference = result.scenario_file.reference.name
    for r in _by_name(result):
        for p in _scenarios(r):
            if p.contrast_quantiles is None or p.contrast_mean is None:
                continue
            block = _hub_block(
                r.model.origin, p.scenario, f"cum {r.series.name}", p.dates, p.levels,
                p.contrast_quantiles, p.contrast_mean, r.series.reported_by,
            )  # fmt: skip
            yield (
                block.cast(HUB_SCHEMA)  # type: ignore[arg-type]
                .with_columns(reference_scenario_id=pl.lit(reference))
                .select(_CONTRAST_COLUMNS)
            )


def contrasts_table(result: RunResult) -> pl.DataFrame:
    """``contrasts.csv``: per day, quantiles and mean of (scenario - reference) cumulative
    totals on paired paths, for every scenario but the reference."""
    parts = list(contrast_blocks(result))
    if not parts:
        schema = dict(HUB_SCHEMA, reference_scenario_id=pl.String)
        return pl.DataFrame(schema=schema).select(_CONTRAST_COLUMNS)
    return pl.concat(parts)


#: Decimals a mean of counts is written with.
MEAN_DECIMALS = 1
#: Decimals a quantile of first-crossing days is written with.
DAY_DECIMALS = 1


def clean_count(x: np.ndarray) -> np.ndarray:
    """Quantiles of counts as whole numbers (half to even): written at the precision they
    carry, free of float noise such as ``1290067.8000000003``, and the same on every platform.

    Examples
    --------
    >>> clean_count(np.array([1290067.8000000003, 2.5, 760225.9999999999])).tolist()
    [1290068.0, 2.0, 760226.0]
    """
    return np.round(np.asarray(x, dtype=np.float64))


def clean_mean(x: np.ndarray) -> np.ndarray:
    """Means of counts to :data:`MEAN_DECIMALS` decimals."""
    return np.round(np.asarray(x, dtype=np.float64), MEAN_DECIMALS)


def _summary_row(**kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(SUMMARY_SCHEMA)
    row.update(kw)
    return row


def _quantile_rows(
    levels: np.ndarray, q: np.ndarray, mean: float, **kw: Any
) -> list[dict[str, Any]]:
    rows = [
        _summary_row(output_type="quantile", output_type_id=float(lv), value=float(v), **kw)
        for lv, v in zip(levels, clean_count(q), strict=True)
    ]
    rows.append(_summary_row(output_type="mean", value=float(clean_mean(np.array(mean))), **kw))
    return rows


def summary_table(result: RunResult) -> pl.DataFrame:
    """``summary.csv``, one row per (scenario, series, measure, period, threshold, output).

    Measures: ``total`` (over the whole horizon) and ``month_total`` (per calendar month;
    ``days`` < the month's length for a partial month) as quantiles and mean;
    ``record_probability`` (a daily figure above the largest reported so far, given as
    ``threshold``); ``threshold_probability`` (cumulative total reaches ``threshold`` by
    ``period_end``); ``threshold_day`` (quantiles of the horizon day of first reaching it
    among the paths that do; ``value_date`` = origin + ceil(value); omitted when fewer than 1%
    of paths reach it).
    """
    rows: list[dict[str, Any]] = []
    for r in _by_name(result):
        origin = r.model.origin
        for p in _scenarios(r):
            first = origin + timedelta(days=1)
            last = origin + timedelta(days=int(p.dates.size))
            common = dict(origin_date=origin, scenario_id=p.scenario, series=r.series.name,
                          reported_by=r.series.reported_by)  # fmt: skip
            rows += _quantile_rows(
                p.levels, p.horizon_total_quantiles, p.horizon_total_mean, measure="total",
                period_start=first, period_end=last, days=int(p.dates.size), **common,
            )  # fmt: skip
            day = first
            for m in p.month_totals:
                end = day + timedelta(days=m.days - 1)
                rows += _quantile_rows(
                    p.levels, m.quantiles, m.mean, measure="month_total", period_start=day,
                    period_end=end, days=m.days, **common,
                )  # fmt: skip
                day = end + timedelta(days=1)
            window = dict(period_start=first, period_end=last, days=int(p.dates.size))
            if p.record_prob is not None and p.record is not None:
                rows.append(_summary_row(
                    measure="record_probability", threshold=int(p.record),
                    output_type="probability", value=p.record_prob, **window, **common,
                ))  # fmt: skip
            for t, level in enumerate(p.thresholds):
                rows.append(_summary_row(
                    measure="threshold_probability", threshold=int(level),
                    output_type="probability", value=float(p.threshold_prob[t]),
                    **window, **common,
                ))  # fmt: skip
                days = np.round(p.threshold_day_quantiles[t], DAY_DECIMALS)
                for lv, v in zip(p.levels, days, strict=True):
                    if math.isnan(v):
                        continue
                    rows.append(_summary_row(
                        measure="threshold_day", threshold=int(level), output_type="quantile",
                        output_type_id=float(lv), value=float(v),
                        value_date=origin + timedelta(days=math.ceil(v)), **window, **common,
                    ))  # fmt: skip
    table = pl.DataFrame(rows, schema=SUMMARY_SCHEMA, orient="row")
    return _with_sweep(table, result)


def _with_sweep(table: pl.DataFrame, result: RunResult) -> pl.DataFrame:
    """Add one ``sweep <key path>`` column per swept parameter (the value as written in the
    file, e.g. ``1.3`` or ``2026-06-01``; missing for scenarios that were not swept)."""
    swept = result.scenario_file.swept
    keys = sorted({k for params in swept.values() for k in params})
    if not keys:
        return table
    lookup = pl.DataFrame(
        {"scenario_id": list(swept)}
        | {f"sweep {k}": [swept[name].get(k) for name in swept] for k in keys},
        schema={"scenario_id": pl.String} | {f"sweep {k}": pl.String for k in keys},
    )
    return table.join(lookup, on="scenario_id", how="left", maintain_order="left")


def fit_table(result: RunResult) -> pl.DataFrame:
    """``fit.csv``: one row per series and parameter (estimates, standard errors, window)."""
    rows = []
    for r in _by_name(result):
        m = r.model
        params: dict[str, float | None] = dict(m.params)
        errors: dict[str, float | None] = dict(m.stderr)
        for key, value in m.observation.to_dict().items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                params[f"observation.{key}"] = float(value)
        for name, value in params.items():
            se = errors.get(name)
            rows.append(
                {
                    "series": r.series.name,
                    "model": m.kind,
                    "parameter": name,
                    "estimate": None if value is None or not math.isfinite(value) else value,
                    "std_error": None if se is None or not math.isfinite(se) else se,
                    "window_start": m.start,
                    "origin": m.origin,
                    "n_obs": m.n_obs,
                    "last_total": m.last_total,
                    "loglik": m.loglik,
                    "aic": m.aic,
                    "reported_by": r.series.reported_by,
                }
            )
    schema = {
        "series": pl.String, "model": pl.String, "parameter": pl.String,
        "estimate": pl.Float64, "std_error": pl.Float64, "window_start": pl.Date,
        "origin": pl.Date, "n_obs": pl.Int64, "last_total": pl.Int64, "loglik": pl.Float64,
        "aic": pl.Float64, "reported_by": pl.String,
    }  # fmt: skip
    return pl.DataFrame(rows, schema=schema, orient="row")


def samples_table(result: RunResult) -> pl.DataFrame:
    """``samples.parquet``: the kept joint trajectories in the hub sample format.

    ``output_type`` is ``sample`` and ``output_type_id`` the trajectory id: trajectory ``k``
    is the same simulated path (same parameter and noise draws) in every scenario, and the
    daily (``inc``) and cumulative (``cum``) rows of one trajectory belong together.
    """
    parts = []
    for r in _by_name(result):
        for p in _scenarios(r):
            if p.samples is None or p.samples.shape[1] == 0:
                continue
            h, k = p.samples.shape
            cum = r.model.last_total + np.cumsum(p.samples, axis=0)
            for target, values in (
                (f"cum {r.series.name}", cum),
                (f"inc {r.series.name}", p.samples),
            ):
                parts.append(
                    pl.DataFrame(
                        {
                            "origin_date": pl.Series([r.model.origin] * (h * k), dtype=pl.Date),
                            "scenario_id": p.scenario,
                            "target": target,
                            # trajectory-major: all horizons of trajectory 0, then 1, ...
                            "horizon": np.tile(np.arange(1, h + 1, dtype=np.int64), k),
                            "target_end_date": np.tile(p.dates, k).astype("datetime64[D]"),
                            "output_type": "sample",
                            "output_type_id": np.repeat(np.arange(k, dtype=np.int64), h),
                            "value": values.T.ravel(),
                            "reported_by": r.series.reported_by,
                        }
                    ).with_columns(pl.col("target_end_date").cast(pl.Date))
                )
    if not parts:
        return pl.DataFrame()
    return pl.concat(parts)


def _at(levels: np.ndarray, q: np.ndarray, level: float) -> float:
    """The quantile at `level`, interpolated between the computed levels if need be."""
    return float(np.interp(level, levels, q))


def _record_day(result: RunResult, r: SeriesResult) -> tuple[date, bool]:
    """The day of the series' record daily figure (its first occurrence), and whether the
    reporter gave either total it is the difference of as approximate (flag ``approximate``)."""
    s = r.series
    day = s.start + timedelta(days=int(np.argmax(s.y)))
    rows = result.prepared.data.series(s.name).filter(pl.col("date") <= day).tail(2)
    flags = [f for fs in rows.get_column("flags").to_list() for f in fs]
    return day, "approximate" in flags


def headline(result: RunResult) -> pl.DataFrame:
    """The answers a run prints at the end and its report spells out: one row per series (by
    name) and scenario (in the scenario file's order).

    Per series: ``reported_by``, ``source``, ``last_date`` and ``last_total`` (the last report
    used), ``record`` (largest daily figure so far), ``record_date`` and
    ``record_approximate`` (a figure the reporter gave as approximate). Per scenario:
    ``reference``; ``start``..``through`` (the horizon); ``total_*`` (new reported figures over
    the horizon) and ``cum_*`` (the cumulative total on ``through``), each as median and
    central 80% range (``lo80``, ``hi80``); ``vs_reference_*`` (the cumulative total on
    ``through`` minus the reference's, on paired paths; null for the reference);
    ``thresholds`` (per threshold: ``level``, ``probability`` that the cumulative total reaches
    it by ``through``, and the ``median_date`` it is reached, null when fewer than half the
    paths reach it) and ``record_prob`` (a daily figure above ``record``; null if not computed).
    """
    sf = result.scenario_file
    rows = []
    for r in _by_name(result):
        record_date, approximate = _record_day(result, r)
        origin = r.model.origin
        for sc in sf.scenarios:
            p = r.projections[sc.name]
            lv = p.levels
            thresholds = []
            for t, level in enumerate(p.thresholds):
                prob = float(p.threshold_prob[t])
                # the median date exists only if at least half the paths reach it
                when: date | None = None
                if prob >= 0.5:
                    day = _at(lv, p.threshold_day_quantiles[t], 0.5 / prob)  # median of all paths
                    when = origin + timedelta(days=math.ceil(day))
                thresholds.append({"level": int(level), "probability": prob, "median_date": when})
            vs = {}
            if p.contrast_quantiles is not None:
                end = p.contrast_quantiles[-1]
                vs = {f"vs_reference_{k}": _at(lv, end, q) for k, q in _MEDIAN_80}
            rows.append(
                {
                    "series": r.series.name,
                    "reported_by": r.series.reported_by,
                    "source": r.series.source,
                    "last_date": origin,
                    "last_total": r.model.last_total,
                    "record": r.record,
                    "record_date": record_date,
                    "record_approximate": approximate,
                    "scenario": sc.name,
                    "reference": sc.name == sf.reference.name,
                    "start": origin + timedelta(days=1),
                    "through": origin + timedelta(days=int(p.dates.size)),
                    **{f"total_{k}": _at(lv, p.horizon_total_quantiles, q) for k, q in _MEDIAN_80},
                    **{f"cum_{k}": _at(lv, p.cum_quantiles[-1], q) for k, q in _MEDIAN_80},
                    **vs,
                    "thresholds": thresholds,
                    "record_prob": p.record_prob,
                }
            )
    return pl.DataFrame(rows, schema=HEADLINE_SCHEMA)


_MEDIAN_80 = (("median", 0.5), ("lo80", 0.1), ("hi80", 0.9))
