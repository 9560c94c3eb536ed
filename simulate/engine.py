"""Vectorised Monte Carlo projections of one series under several scenarios.

The engine simulates ``n_paths`` paths day after day, in blocks of days laid out day-major
(days x paths), and feeds every block into accumulators: per-day quantile tables, and per-path
state kept only as vectors (cumulative total, largest daily figure, first day each threshold is
reached, the running total of the current calendar month). Peak memory is proportional to
``block x n_paths`` plus the ``horizon x len(levels)`` quantile tables, whatever the horizon.

Random streams (see :mod:`simulate.rng`) are keyed, never taken in run order:

* the model's streams (parameters, process noise) and the observation-noise streams are keyed by
  ``(seed, series_key)`` only (:func:`simulate.rng.paths_seed`) and re-created for every
  scenario, so path ``k`` of every scenario shares its parameter and noise draws: scenarios
  are *paired* (common random numbers), and differences between scenarios (e.g. of
  :attr:`Projection.final_cumulative`) are meaningful path by path;
* the per-path draws of a scenario's uncertain factors (see
  :func:`simulate.scenarios.factor_draw_spec`) come from the stream keyed by
  ``(seed, series_key, name_key(scenario name), index of the draw)``
  (:func:`simulate.rng.draw_generator`).

Each stream is consumed day after day, so results do not depend on the block size, on the
order of the scenarios or on which other scenarios are run alongside. No files, no Polars.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import numpy.typing as npt

from .errors import ModelError
from .models.base import FittedModel
from .rng import SeedLike, Stream, draw_generator, generator, paths_seed, seed_sequence
from .scenarios.adjust import adjustment_factors, factor_draw_spec
from .scenarios.config import FactorDraw, Scenario

__all__ = [
    "MonthTotal",
    "Projection",
    "simulate_scenarios",
    "scenario_draws",
    "MIN_CROSSING_SHARE",
    "MAX_DAILY",
    "MAX_COUNT",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Quantiles of the day a threshold is reached are NaN when a smaller share of paths reach it.
MIN_CROSSING_SHARE = 0.01
_BLOCK_FIGURES = 1 << 22
#: Largest expected or simulated daily figure the engine accepts. Reported totals are at most
#: 2**53 (:data:`simulate.data.reported.MAX_TOTAL`) and a run at most 36,500 < 2**16 days, so
#: totals stay below 2**53 + 2**16 * 2**46 < 2**63: a 64-bit count never wraps around.
MAX_DAILY = 2**46
#: Largest cumulative total the engine accepts (checked after every block).
MAX_COUNT = 2**62


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
    contrast_quantiles, contrast_mean
        Per day, ``(horizon, L)`` quantiles and ``(horizon,)`` mean over paths of this scenario's
        cumulative total minus the reference scenario's on the same (paired) path; None for the
        reference itself and when :func:`project` was given no reference.
    samples
        Daily figures of the first `keep_paths` paths, ``(horizon, keep_paths)`` int64 (path
        ``k`` is paired across scenarios); None when `keep_paths` is 0.
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
    contrast_quantiles: FloatArray | None = None
    contrast_mean: FloatArray | None = None
    samples: IntArray | None = None


def simulate_scenarios(
    model: FittedModel,
    scenarios: Sequence[Scenario],
    *,
    horizon: int,
    n_paths: int,
    seed: SeedLike,
    series_key: int,
    levels: npt.ArrayLike,
    thresholds: Sequence[int] = (),
    block: int | None = None,
    record: float | None = None,
    reference: str | None = None,
    keep_paths: int = 0,
    progress: Callable[[int], object] | None = None,
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
        Days simulated at a time; changes memory use, never the results. Default: as many
        days as keep each block array near 4 million figures, at most 64.
    record
        The largest daily figure reported so far, for :attr:`Projection.record_prob`.
    reference
        Name of the scenario the others are contrasted with (see
        :attr:`Projection.contrast_quantiles`), or None for no contrasts.
    keep_paths
        Keep the daily figures of the first `keep_paths` paths (<= `n_paths`).
    progress
        Called with the number of days just simulated (for all scenarios), block by block.

    Returns
    -------
    dict
        Scenario name -> :class:`Projection`, in the order of `scenarios`.

    Raises
    ------
    ValueError
        On a bad argument, naming it and echoing the value.
    ModelError
        A figure beyond what a 64-bit count can safely hold (:data:`MAX_DAILY` a day,
        :data:`MAX_COUNT` in all): never written as a wrapped-around number.

    Examples
    --------
    >>> from simulate.data import load
    >>> from simulate.models import ModelSpec, daily_series, fit
    >>> model = fit(ModelSpec("naive"), daily_series(load("example"), "personnel"))
    >>> out = simulate_scenarios(model, [Scenario("status-quo")], horizon=30, n_paths=500, seed=1,
    ...               series_key=0, levels=[0.1, 0.5, 0.9])
    >>> p = out["status-quo"]
    >>> p.cum_quantiles.shape, bool((p.cum_quantiles >= model.last_total).all())
    ((30, 3), True)
    """
    lv = _check(scenarios, horizon, n_paths, series_key, levels, block)
    block = _auto_block(n_paths) if block is None else block
    names = [s.name for s in scenarios]
    if reference is not None and reference not in names:
        raise ValueError(
            f"`reference` must be one of the scenario names {names}. Got: {reference!r}"
        )
    if isinstance(keep_paths, bool) or not 0 <= keep_paths <= n_paths:
        raise ValueError(
            f"`keep_paths` must be a whole number in [0, n_paths]. Got: {keep_paths!r}"
        )
    seed = seed_sequence(seed)
    thr = np.asarray([int(t) for t in thresholds], dtype=np.int64)
    start = np.datetime64(model.origin + timedelta(days=1), "D")
    dates = start + np.arange(horizon)
    # The intensity paths do not depend on the scenario (the factors multiply them), so they
    # are simulated once and shared: every scenario sees the same paths (pairing).
    state = model.start_paths(n_paths, seed=paths_seed(seed, series_key))
    runs = [
        _Scenario(
            s,
            model,
            dates,
            n_paths,
            seed,
            series_key,
            lv,
            thr,
            contrast=reference is not None and s.name != reference,
            keep_paths=keep_paths,
        )
        for s in scenarios
    ]
    ref = next((r for r in runs if r.scenario.name == reference), None)
    for d0 in range(0, horizon, block):
        mu = state.step(min(block, horizon - d0))
        ref_c = ref.advance(d0, mu) if ref is not None else None
        for r in runs:
            if r is ref:
                continue
            c = r.advance(d0, mu)
            if ref_c is not None:
                r.contrast(d0, c, ref_c)
        if progress is not None:
            progress(mu.shape[0])
    return {r.scenario.name: r.result(record) for r in runs}


def _check(
    scenarios: Sequence[Scenario],
    horizon: int,
    n_paths: int,
    series_key: int,
    levels: npt.ArrayLike,
    block: int | None,
) -> FloatArray:
    for name, value, minimum in (
        ("horizon", horizon, 1),
        ("n_paths", n_paths, 1),
        ("block", 1 if block is None else block, 1),
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


def scenario_draws(
    scenario: Scenario, seed: np.random.SeedSequence, series_key: int, n_paths: int
) -> Mapping[str, FloatArray]:
    """Per-path draws of the scenario's uncertain factors, keyed by its name (not position)."""
    return {
        d.name: _draw(d, draw_generator(seed, series_key, scenario.name, i), n_paths)
        for i, d in enumerate(factor_draw_spec(scenario))
    }


def _quantiles(x: npt.NDArray[np.int64], levels: FloatArray) -> FloatArray:
    """Quantiles over paths (axis 1) per day: (days, levels)."""
    return np.asarray(np.quantile(x, levels, axis=1, method="linear").T, dtype=np.float64)


def _auto_block(n_paths: int) -> int:
    """Days per block: about 4 million figures per block array (32 MB), at most 64 days."""
    return max(1, min(64, _BLOCK_FIGURES // n_paths))


class _Scenario:
    """Streams and per-path accumulators of one scenario: one block at a time."""

    def __init__(
        self,
        scenario: Scenario,
        model: FittedModel,
        dates: npt.NDArray[np.datetime64],
        n_paths: int,
        seed: np.random.SeedSequence,
        series_key: int,
        levels: FloatArray,
        thresholds: IntArray,
        contrast: bool,
        keep_paths: int,
    ) -> None:
        horizon, n_levels = dates.size, levels.size
        self.scenario, self.model, self.dates, self.levels = scenario, model, dates, levels
        self.thresholds = thresholds
        # Re-created from the same keys for every scenario: the pairing across scenarios.
        base = paths_seed(seed, series_key)
        self.obs_rngs = (
            generator(base, Stream.OBS_GAMMA),
            generator(base, Stream.OBS_POISSON),
            generator(base, Stream.OBS_NORMAL),
        )
        self.draws = scenario_draws(scenario, seed, series_key, n_paths)
        self.n_paths = n_paths
        self.daily_q = np.empty((horizon, n_levels))
        self.daily_mean = np.empty(horizon)
        self.cum_q = np.empty((horizon, n_levels))
        self.cum_mean = np.empty(horizon)
        self.contrast_q = np.empty((horizon, n_levels)) if contrast else None
        self.contrast_mean = np.empty(horizon) if contrast else None
        self.samples = np.empty((horizon, keep_paths), dtype=np.int64) if keep_paths else None
        if model.last_total > MAX_COUNT:
            raise ModelError(
                f"series {model.series!r}: the last reported total {model.last_total} is "
                f"beyond the {MAX_COUNT:.3g} a projected count can safely start from"
            )
        self.cum = np.full(n_paths, model.last_total, dtype=np.int64)
        self.largest = np.full(n_paths, -1, dtype=np.int64)
        # 0: already reached at the origin; -1: not (yet) reached
        self.first = np.where(self.cum[None, :] >= thresholds[:, None], 0, -1).astype(np.int64)
        self.month_total = np.zeros(n_paths, dtype=np.int64)
        self.month_days = 0
        self.months = dates.astype("datetime64[M]")
        self.month_totals: list[MonthTotal] = []

    def advance(self, d0: int, mu: FloatArray) -> IntArray:
        """Simulate days ``d0 .. d0 + len(mu) - 1`` from the expected figures `mu` (before the
        scenario's factors); return the block's cumulative totals (days x paths)."""
        d1 = d0 + mu.shape[0]
        levels = self.levels
        factors = adjustment_factors(
            self.scenario, self.dates[d0:d1], self.draws, n_paths=self.n_paths
        )
        lam = mu * factors
        self._guard(lam, d0, "expected daily figure")
        drawn = self.model.observation.draw(lam, self.obs_rngs)
        self._guard(drawn, d0, "simulated daily figure")
        # Draws are never negative, so the cumulative paths never decrease by construction.
        y = np.asarray(drawn, dtype=np.int64)
        self.daily_q[d0:d1] = _quantiles(y, levels)
        self.daily_mean[d0:d1] = y.mean(axis=1)
        c = self.cum[None, :] + np.cumsum(y, axis=0)  # integers: exact whatever the block
        if c.size and int(c[-1].max()) > MAX_COUNT:  # each day adds <= MAX_DAILY: no wrap yet
            raise ModelError(
                f"series {self.model.series!r}, scenario {self.scenario.name!r}: the projected "
                f"total passes {MAX_COUNT:.3g} by {self.dates[d1 - 1]}, more than a count "
                "can safely hold; check the scenario's factors and the reported totals"
            )
        self.cum_q[d0:d1] = _quantiles(c, levels)
        self.cum_mean[d0:d1] = c.mean(axis=1)
        np.maximum(self.largest, y.max(axis=0), out=self.largest)
        if self.samples is not None:
            self.samples[d0:d1] = y[:, : self.samples.shape[1]]

        for t, level in enumerate(self.thresholds):
            reached = c >= level
            new = (self.first[t] < 0) & reached[-1]  # non-decreasing: reached by the block's end
            self.first[t, new] = d0 + 1 + np.argmax(reached[:, new], axis=0)

        # Month by month within the block (a loop over months, not paths).
        months, horizon = self.months, self.dates.size
        i = d0
        while i < d1:
            j = i + int(np.searchsorted(months[i:d1], months[i], side="right"))
            self.month_total += y[i - d0 : j - d0].sum(axis=0)
            self.month_days += j - i
            if j == horizon or months[j] != months[i]:
                self.month_totals.append(
                    _month_total(months[i], self.month_days, self.month_total, levels)
                )
                self.month_total = np.zeros(self.n_paths, dtype=np.int64)
                self.month_days = 0
            i = j
        self.cum = c[-1]
        return c

    def _guard(self, x: FloatArray, d0: int, what: str) -> None:
        """Refuse figures that a 64-bit count cannot safely hold (or that are not numbers)."""
        if x.size == 0 or float(x.max()) <= MAX_DAILY:  # NaN fails the test too
            return
        bad = ~(x <= MAX_DAILY)
        day = int(np.argmax(bad.any(axis=1)))
        peak = float(np.max(np.where(bad & ~np.isnan(x), x, -np.inf)))
        got = f"reaches {peak:.3g}" if peak > MAX_DAILY else "is not a number"
        raise ModelError(
            f"series {self.model.series!r}, scenario {self.scenario.name!r}: the {what} "
            f"{got} on {self.dates[d0 + day]}, more than the {MAX_DAILY:.3g} a count can "
            "safely hold; check the scenario's factors and the reported totals"
        )

    def contrast(self, d0: int, c: IntArray, reference: IntArray) -> None:
        """Record quantiles of this scenario's cumulative totals minus the reference's."""
        assert self.contrast_q is not None and self.contrast_mean is not None
        diff = c - reference
        d1 = d0 + c.shape[0]
        self.contrast_q[d0:d1] = _quantiles(diff, self.levels)
        self.contrast_mean[d0:d1] = diff.mean(axis=1)

    def result(self, record: float | None) -> Projection:
        levels, thresholds, first = self.levels, self.thresholds, self.first
        total = self.cum - self.model.last_total
        share = (first >= 0).mean(axis=1) if thresholds.size else np.zeros(0)
        day_q = np.full((thresholds.size, levels.size), np.nan)
        for t in range(thresholds.size):
            if share[t] >= MIN_CROSSING_SHARE:
                day_q[t] = np.quantile(first[t][first[t] >= 0], levels, method="linear")
        return Projection(
            scenario=self.scenario.name,
            dates=self.dates,
            levels=levels,
            daily_quantiles=self.daily_q,
            daily_mean=self.daily_mean,
            cum_quantiles=self.cum_q,
            cum_mean=self.cum_mean,
            horizon_total_quantiles=np.quantile(total, levels, method="linear"),
            horizon_total_mean=float(total.mean()),
            month_totals=tuple(self.month_totals),
            thresholds=thresholds,
            threshold_prob=np.asarray(share, dtype=np.float64),
            threshold_day_quantiles=day_q,
            record=record,
            record_prob=None if record is None else float((self.largest > record).mean()),
            final_cumulative=self.cum,
            contrast_quantiles=self.contrast_q,
            contrast_mean=self.contrast_mean,
            samples=self.samples,
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
