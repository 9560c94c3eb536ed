"""Vectorised Monte Carlo projections of one series under several scenarios.

The engine simulates ``n_paths`` paths day after day, in blocks of days laid out day-major
(days x paths), and feeds every block into accumulators: per-day quantile tables, and per-path
state kept only as vectors (cumulative total, largest daily figure, first day each threshold is
reached, the running total of the current calendar month). Peak memory is proportional to
``block x n_paths`` plus the ``horizon x len(levels)`` quantile tables, whatever the horizon.

Random streams (see :mod:`simulate.rng`) are keyed, never taken in run order:

* the model's streams (parameters, process noise) and the observation-noise streams are keyed by
  ``(seed, series_key)`` only and re-created for every scenario, so path ``k`` of every scenario
  shares its parameter and noise draws: scenarios are *paired* (common random numbers), and
  differences between scenarios (e.g. of :attr:`Projection.final_cumulative`) are meaningful
  path by path;
* the per-path draws of a scenario's uncertain factors (see
  :func:`simulate.scenarios.factor_draw_spec`) come from the stream keyed by
  ``(seed, series_key, crc32(scenario name), index of the draw)``.

Each stream is consumed day after day, so results do not depend on the block size, on the
order of the scenarios or on which other scenarios are run alongside. No files, no Polars.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import numpy.typing as npt

from .models.base import FittedModel
from .rng import SeedLike, Stream, child, generator, seed_sequence
from .scenarios import FactorDraw, Scenario, adjustment_factors, factor_draw_spec

__all__ = ["MonthTotal", "Projection", "project", "scenario_key", "MIN_CROSSING_SHARE"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Quantiles of the day a threshold is reached are NaN when a smaller share of paths reach it.
MIN_CROSSING_SHARE = 0.01


@dataclass(frozen=True, eq=False)
class MonthTotal:
    """Quantiles and mean over paths of the projected total of one calendar month.

    Attributes
    ----------
    month
        ``"YYYY-MM"``.
    days
        Days of the month inside the projection; fewer than `days_in_month` for a partial
        month (the first month after the origin, the month of the horizon's end).
    days_in_month
        Length of the calendar month.
    quantiles
        Shape ``(len(levels),)``.
    mean
        Mean over paths.
    """

    month: str
    days: int
    days_in_month: int
    quantiles: FloatArray
    mean: float

    @property
    def partial(self) -> bool:
        """Whether the projection covers only part of the month."""
        return self.days < self.days_in_month


@dataclass(frozen=True, eq=False)
class Projection:
    """Summaries of the simulated paths of one scenario of one series.

    Attributes
    ----------
    scenario
        The scenario's name.
    dates
        Projected days, ``datetime64[D]``, shape ``(horizon,)``, from the day after the origin.
    levels
        Quantile levels, shape ``(L,)``.
    daily_quantiles, daily_mean
        Reported daily figure per day: ``(horizon, L)`` quantiles and ``(horizon,)`` mean.
    cum_quantiles, cum_mean
        Cumulative total per day (starting from the model's last reported total), likewise.
    horizon_total_quantiles, horizon_total_mean
        Total over the whole horizon (cumulative at the end minus the last reported total).
    month_totals
        One entry per calendar month touched by the projection, in order.
    thresholds
        Levels of the cumulative total, shape ``(T,)``.
    threshold_prob
        Share of paths whose cumulative total reaches each threshold (``>=``) by the end.
    threshold_day_quantiles
        Shape ``(T, L)``: quantiles of the horizon day (1 = the day after the origin; 0 when the
        last reported total is already at or above the threshold) on which the cumulative total
        first reaches the threshold, among the paths that reach it. NaN when fewer than
        :data:`MIN_CROSSING_SHARE` (1%) of paths reach it, as such quantiles rest on too few
        paths to mean anything.
    record, record_prob
        The record daily figure given to :func:`project` and the share of paths with at least
        one projected daily figure above it (both None when no record was given).
    final_cumulative
        Per-path cumulative total at the horizon, shape ``(n_paths,)``; paths are paired across
        the scenarios of one :func:`project` call.
    """

    scenario: str
    dates: npt.NDArray[np.datetime64]
    levels: FloatArray
    daily_quantiles: FloatArray
    daily_mean: FloatArray
    cum_quantiles: FloatArray
    cum_mean: FloatArray
    horizon_total_quantiles: FloatArray
    horizon_total_mean: float
    month_totals: tuple[MonthTotal, ...]
    thresholds: IntArray
    threshold_prob: FloatArray
    threshold_day_quantiles: FloatArray
    record: float | None
    record_prob: float | None
    final_cumulative: IntArray


def scenario_key(name: str) -> int:
    """The stable stream key of a scenario: CRC-32 of its UTF-8 name.

    Examples
    --------
    >>> scenario_key("status-quo")
    980292282
    """
    return zlib.crc32(name.encode("utf-8"))


def project(
    model: FittedModel,
    scenarios: Sequence[Scenario],
    *,
    horizon: int,
    n_paths: int,
    seed: SeedLike,
    series_key: int,
    levels: npt.ArrayLike,
    thresholds: Sequence[int] = (),
    block: int = 64,
    record: float | None = None,
) -> dict[str, Projection]:
    """Project the reported daily figures of one fitted series under each scenario.

    Parameters
    ----------
    model
        The fitted model of the series.
    scenarios
        Scenarios with unique names.
    horizon
        Days to project after the model's origin (>= 1).
    n_paths
        Simulated paths (>= 1), shared (paired) by all scenarios.
    seed
        The run's seed (int >= 0 or SeedSequence).
    series_key
        Whole number >= 0 identifying the series within the run: the key of its streams.
    levels
        Quantile levels, strictly increasing, in [0, 1].
    thresholds
        Levels of the cumulative total (whole numbers).
    block
        Days simulated at a time; changes memory use, never the results.
    record
        The largest daily figure reported so far, for :attr:`Projection.record_prob`.

    Returns
    -------
    dict
        Scenario name -> :class:`Projection`, in the order of `scenarios`.

    Raises
    ------
    ValueError
        On a bad argument, naming it and echoing the value.

    Examples
    --------
    >>> from simulate.data import load
    >>> from simulate.models import ModelSpec, daily_series, fit
    >>> model = fit(ModelSpec("naive"), daily_series(load("example"), "personnel"))
    >>> out = project(model, [Scenario("status-quo")], horizon=30, n_paths=500, seed=1,
    ...               series_key=0, levels=[0.1, 0.5, 0.9])
    >>> p = out["status-quo"]
    >>> p.cum_quantiles.shape, bool((p.cum_quantiles >= model.last_total).all())
    ((30, 3), True)
    """
    lv = _check(scenarios, horizon, n_paths, series_key, levels, block)
    seed = seed_sequence(seed)
    thr = np.asarray([int(t) for t in thresholds], dtype=np.int64)
    start = np.datetime64(model.origin + timedelta(days=1), "D")
    dates = start + np.arange(horizon)
    return {
        s.name: _project_one(model, s, dates, n_paths, seed, series_key, lv, thr, block, record)
        for s in scenarios
    }


def _check(
    scenarios: Sequence[Scenario],
    horizon: int,
    n_paths: int,
    series_key: int,
    levels: npt.ArrayLike,
    block: int,
) -> FloatArray:
    for name, value, minimum in (
        ("horizon", horizon, 1),
        ("n_paths", n_paths, 1),
        ("block", block, 1),
        ("series_key", series_key, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
            raise ValueError(f"`{name}` must be a whole number >= {minimum}. Got: {value!r}")
    names = [s.name for s in scenarios]
    if not names:
        raise ValueError("`scenarios` must hold at least one scenario. Got: []")
    if len(set(names)) != len(names):
        raise ValueError(f"Every scenario name must be unique. Got: {names}")
    lv = np.asarray(levels, dtype=np.float64)
    if (
        lv.ndim != 1
        or lv.size == 0
        or not np.all((lv >= 0) & (lv <= 1))
        or np.any(np.diff(lv) <= 0)
    ):
        raise ValueError(
            f"`levels` must be strictly increasing numbers in [0, 1]. Got: {lv.tolist()}"
        )
    return lv


def _draw(d: FactorDraw, rng: np.random.Generator, n_paths: int) -> FloatArray:
    p = d.parameters
    if d.distribution == "uniform":
        return p["lo"] + (p["hi"] - p["lo"]) * rng.random(n_paths)
    if d.distribution == "lognormal":
        return p["median"] * np.exp(p["sd_log"] * rng.standard_normal(n_paths))
    return rng.geometric(p["p"], n_paths).astype(np.float64)


def _scenario_draws(
    scenario: Scenario, seed: np.random.SeedSequence, series_key: int, n_paths: int
) -> Mapping[str, FloatArray]:
    key = scenario_key(scenario.name)
    return {
        d.name: _draw(d, generator(seed, series_key, key, i), n_paths)
        for i, d in enumerate(factor_draw_spec(scenario))
    }


def _quantiles(x: npt.NDArray[np.int64], levels: FloatArray) -> FloatArray:
    """Quantiles over paths (axis 1) per day: (days, levels)."""
    return np.asarray(np.quantile(x, levels, axis=1, method="linear").T, dtype=np.float64)


def _project_one(
    model: FittedModel,
    scenario: Scenario,
    dates: npt.NDArray[np.datetime64],
    n_paths: int,
    seed: np.random.SeedSequence,
    series_key: int,
    levels: FloatArray,
    thresholds: IntArray,
    block: int,
    record: float | None,
) -> Projection:
    horizon = dates.size
    # Re-created from the same keys for every scenario: the pairing across scenarios.
    base = child(seed, series_key)
    state = model.start_paths(n_paths, seed=base)
    obs_rngs = (
        generator(base, Stream.OBS_GAMMA),
        generator(base, Stream.OBS_POISSON),
        generator(base, Stream.OBS_NORMAL),
    )
    draws = _scenario_draws(scenario, seed, series_key, n_paths)

    n_levels = levels.size
    daily_q = np.empty((horizon, n_levels))
    daily_mean = np.empty(horizon)
    cum_q = np.empty((horizon, n_levels))
    cum_mean = np.empty(horizon)

    cum = np.full(n_paths, model.last_total, dtype=np.int64)
    largest = np.full(n_paths, -1, dtype=np.int64)
    # 0: already reached at the origin; -1: not (yet) reached
    first = np.where(cum[None, :] >= thresholds[:, None], 0, -1).astype(np.int64)
    month_total = np.zeros(n_paths, dtype=np.int64)
    months = dates.astype("datetime64[M]")
    month_totals: list[MonthTotal] = []
    month_days = 0

    for d0 in range(0, horizon, block):
        d1 = min(d0 + block, horizon)
        mu = state.step(d1 - d0)
        factors = adjustment_factors(scenario, dates[d0:d1], draws, n_paths=n_paths)
        # Draws are never negative, so the cumulative paths never decrease by construction.
        y = np.asarray(model.observation.draw(mu * factors, obs_rngs), dtype=np.int64)

        daily_q[d0:d1] = _quantiles(y, levels)
        daily_mean[d0:d1] = y.mean(axis=1)
        c = cum[None, :] + np.cumsum(y, axis=0)  # integers: exact whatever the block
        cum_q[d0:d1] = _quantiles(c, levels)
        cum_mean[d0:d1] = c.mean(axis=1)
        np.maximum(largest, y.max(axis=0), out=largest)

        for t, level in enumerate(thresholds):
            reached = c >= level
            new = (first[t] < 0) & reached[-1]  # non-decreasing: reached by the block's end
            first[t, new] = d0 + 1 + np.argmax(reached[:, new], axis=0)

        # Month by month within the block (a loop over months, not paths).
        i = d0
        while i < d1:
            j = i + int(np.searchsorted(months[i:d1], months[i], side="right"))
            month_total += y[i - d0 : j - d0].sum(axis=0)
            month_days += j - i
            if j == horizon or months[j] != months[i]:
                month_totals.append(_month_total(months[i], month_days, month_total, levels))
                month_total = np.zeros(n_paths, dtype=np.int64)
                month_days = 0
            i = j
        cum = c[-1]

    total = cum - model.last_total
    share = (first >= 0).mean(axis=1) if thresholds.size else np.zeros(0)
    day_q = np.full((thresholds.size, n_levels), np.nan)
    for t in range(thresholds.size):
        if share[t] >= MIN_CROSSING_SHARE:
            day_q[t] = np.quantile(first[t][first[t] >= 0], levels, method="linear")
    return Projection(
        scenario=scenario.name,
        dates=dates,
        levels=levels,
        daily_quantiles=daily_q,
        daily_mean=daily_mean,
        cum_quantiles=cum_q,
        cum_mean=cum_mean,
        horizon_total_quantiles=np.quantile(total, levels, method="linear"),
        horizon_total_mean=float(total.mean()),
        month_totals=tuple(month_totals),
        thresholds=thresholds,
        threshold_prob=np.asarray(share, dtype=np.float64),
        threshold_day_quantiles=day_q,
        record=record,
        record_prob=None if record is None else float((largest > record).mean()),
        final_cumulative=cum,
    )


def _month_total(
    month: np.datetime64, days: int, total: IntArray, levels: FloatArray
) -> MonthTotal:
    length = int(((month + 1).astype("datetime64[D]") - month.astype("datetime64[D]")).astype(int))
    return MonthTotal(
        month=str(month),
        days=days,
        days_in_month=length,
        quantiles=np.quantile(total, levels, method="linear"),
        mean=float(total.mean()),
    )
