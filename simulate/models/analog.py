"""``analog``: today's level times what followed similar moments in the series' own past.

In one sentence: *the model takes the current level of the daily figures and lets the next
days unfold the way they unfolded, relative to the level of the time, after the days of the
series' own past — nearer past more often — so the ranges widen with the horizon exactly as
much as they did before.*

The model
---------
The level on day ``t`` is the average of the mean daily figure over the last 7, 14, 28 and 56
days (a blend of windows: none of them is best on every series and horizon; on the General Staff
series the blend's 30- and 90-day totals are within a few percent of the best single window).
For every past day ``a`` with ``segment`` later days known (an *analog*), the ratios
``r_a(h) = y[a + h] / level[a]`` for ``h = 1 .. segment`` record how the figures moved relative to
the level. A simulated path picks one analog (with weight ``0.5 ** (age / half_life)``, age in
days before the origin) and reports ``level[origin] * r_a(h) / m(h)``, where ``m(h)`` is the
weighted mean of ``r_a(h)`` over the analogs (smoothed over 7 days of ``h``). Dividing by ``m``
removes the average drift of the past (``drift = false``, the default): the past's growth is
not extrapolated — the model's mean stays at today's level — while the spread of the past's
movements around it, including day-to-day noise, runs of zeros, surges and lulls, is kept. With
``drift = true`` the past's average movement is kept as well, over the first segment only:
chained segments start from the level each path reached and do not compound the past's growth
again (the evidence ``auto`` weighs for drift covers 30- and 90-day totals, nothing longer).

Day-to-day noise comes from the *current* regime (``regime``, default 91 days) over the first
segment: the analogs' movements are replayed smoothed over a centred week (``c_a(h)``, the 7-day
centred mean of the figures around day ``a + h``, divided by ``level[a]``), and each simulated
day is multiplied by a deviation drawn at random from the last ``regime`` days' own deviations
from their centred 7-day mean (``y[t] / c[t]``, scaled to mean 1). The spread of the level and
of the totals still comes from the past; the daily noise around it is today's, which on the
General Staff figures gives sharper bands of the daily figure (README, "Calibration"). The
current regime is not assumed to last: chained segments (beyond ``segment`` days) replay the
analogs' own days, noise and all, as ``regime = 0`` does from the first day.

Longer horizons chain segments: after ``segment`` days each path computes its own level from
its last 56 simulated days and picks a new analog, so paths wander further the longer they run.

Nothing is estimated by optimisation: the parameters reported are the level and the number of
analogs (and the effective number after weighting). Paths are reported figures already
(``empirical`` observation, rounded to the series' granularity); parameter uncertainty is the
spread of the analogs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import ModelError
from .base import FittedModel, pearson_diagnostics
from .observation import ObservationModel
from .series import DailySeries
from .smalllinalg import rmatvec
from .spec import ModelSpec

__all__ = [
    "fit_analog",
    "analog_paths",
    "LEVEL_WINDOWS",
    "level_of",
    "centred_week",
    "one_step_quantiles",
    "weighted_quantiles",
]

#: Windows (days) whose means are averaged into the level.
LEVEL_WINDOWS = (7, 14, 28, 56)
_HISTORY = max(LEVEL_WINDOWS)
_FLOOR = 0.5 / _HISTORY


def level_of(y: np.ndarray) -> np.ndarray:
    """Level after each day: mean over :data:`LEVEL_WINDOWS` of trailing means, along axis 0.

    For ``y`` of shape ``(n, ...)`` returns shape ``(n - 55, ...)``: the level after days
    ``55 .. n - 1``.
    """
    y = np.asarray(y, dtype=np.float64)
    c = np.concatenate([np.zeros((1, *y.shape[1:])), np.cumsum(y, axis=0)])
    n = y.shape[0]
    end = np.arange(_HISTORY, n + 1)
    out = np.zeros((end.size, *y.shape[1:]))
    for w in LEVEL_WINDOWS:
        out += (c[end] - c[end - w]) / w
    return out / len(LEVEL_WINDOWS)


def centred_week(y: np.ndarray) -> np.ndarray:
    """The mean of the 7 days centred on each day (NaN for the first and last 3 days)."""
    y = np.asarray(y, dtype=np.float64)
    c = np.concatenate([[0.0], np.cumsum(y)])
    out = np.full(y.shape, np.nan)
    if y.size >= 7:
        out[3:-3] = (c[7:] - c[:-7]) / 7.0
    return out


def _deviations(y: np.ndarray, days: int) -> np.ndarray:
    """The last `days` days' deviations from their centred week, ``y / c``, scaled to mean 1
    (days whose week is all zeros count as 1); empty when `days` is 0."""
    if days == 0:
        return np.zeros(0)
    c = centred_week(y)[:-3][-days:]
    d = np.where(c > 0, y[:-3][-days:] / np.where(c > 0, c, 1.0), 1.0)
    return np.asarray(d / d.mean(), dtype=np.float64)


class _AnalogPaths:
    def __init__(
        self,
        ratios: np.ndarray,
        later: np.ndarray,
        weights: np.ndarray,
        level: float,
        tail: np.ndarray,
        noise: np.ndarray,
        n_paths: int,
        rng: np.random.Generator,
        noise_rng: np.random.Generator,
    ) -> None:
        self.ratios = ratios  # (segment, n_analogs), drift removed: the first segment
        self.later = later  # the same for chained segments (the analogs' own days)
        self.noise = noise  # the current regime's daily deviations (empty: none)
        self.noise_rng = noise_rng
        self.weights = weights
        self.segment = ratios.shape[0]
        self.n = n_paths
        self.rng = rng
        self.day = 0
        self.level = np.full(n_paths, level)
        self.pick = np.zeros(n_paths, dtype=np.int64)
        # the last 56 days of every path, to compute its own level for the next segment
        self.recent = np.repeat(tail.astype(np.float64)[:, None], n_paths, axis=1)

    def step(self, days: int) -> np.ndarray:
        out = np.empty((days, self.n))
        noise = None
        first_days = min(days, max(self.segment - self.day, 0))  # of the first segment
        if self.noise.size and first_days:
            # one uniform per day and path of the first segment, day-major: blocks of any size
            # give the same numbers (bounded integers are drawn from a 32-bit buffer that a new
            # call starts afresh)
            u = self.noise_rng.random((first_days, self.n))
            pick = (u * self.noise.size).astype(np.int64)
            noise = self.noise[np.minimum(pick, self.noise.size - 1)]
        i = 0
        while i < days:  # a loop over segments within the block, never over paths
            day = self.day + i
            offset = day % self.segment
            if offset == 0:
                if day > 0:
                    done = np.concatenate([self.recent, out[:i]])[-_HISTORY:]
                    self.level = np.maximum(level_of(done)[-1], _FLOOR)
                self.pick = self.rng.choice(self.weights.size, size=self.n, p=self.weights)
            j = min(days, i + self.segment - offset)
            first = day < self.segment
            table = self.ratios if first else self.later
            out[i:j] = self.level * table[offset : offset + (j - i)][:, self.pick]
            if noise is not None and first:  # before the next segment's level is taken
                out[i:j] *= noise[i:j]
            i = j
        self.day += days
        self.recent = np.concatenate([self.recent, out])[-_HISTORY:]
        return out


def analog_paths(
    model: FittedModel,
    n_paths: int,
    param_rng: np.random.Generator,
    proc: np.random.Generator,
    _extra: np.random.Generator,
) -> _AnalogPaths:
    """Paths of a fitted ``analog`` model (see :data:`~simulate.models.base.PATH_FUNCTIONS`):
    the analogs are picked from the parameter stream, the daily noise from the process one."""
    p = model.path_inputs
    later = p["later"] if p["later"].size else p["ratios"]
    return _AnalogPaths(
        p["ratios"], later, p["weights"], p["level"], p["tail"], p["noise"], n_paths,
        param_rng, proc,
    )  # fmt: skip


def _ratios(ratios: np.ndarray, weights: np.ndarray, drift: bool) -> np.ndarray:
    """Ratios ``(segment, analogs)`` to the level, divided by their weighted mean (smoothed
    over 7 days of the horizon) unless `drift`."""
    if drift:
        return ratios
    m = rmatvec(ratios.T, weights)  # ratios @ weights, the same under every BLAS kernel
    pad = np.r_[np.full(3, m[0]), m, np.full(3, m[-1])]
    # 7-day moving average, the shifted terms added in a fixed order (np.convolve goes
    # through BLAS's ddot, whose kernels sum in their own order)
    m = sum((pad[k : k + len(m)] * (1.0 / 7.0) for k in range(1, 7)), pad[: len(m)] / 7.0)
    return np.asarray(ratios / np.maximum(m, 1e-12)[:, None], dtype=np.float64)


def fit_analog(spec: ModelSpec, s: DailySeries) -> FittedModel:
    """Fit the ``analog`` model to the whole series `s` (see the module docstring)."""
    segment = int(spec.option("segment"))
    half_life = float(spec.option("half_life"))
    drift = bool(spec.option("drift"))
    regime = int(spec.option("regime"))
    smooth = 3 if regime else 0  # a centred week needs 3 days after the segment's last
    y = s.y.astype(np.float64)
    lv = level_of(y)  # lv[k] is the level after day k + 55
    first = _HISTORY - 1
    last = len(y) - 1 - segment - smooth  # the last analog day with `segment` days after it
    if last < first + 1 or len(y) < regime + smooth:
        need = max(_HISTORY + segment + smooth + 1, regime + smooth)
        noise = f", and {regime + smooth} days for today's daily noise" if regime else ""
        raise ModelError(
            f"series {s.name!r}: {len(y)} daily figures; the analog model needs at least "
            f"{need} (a {_HISTORY}-day level and {segment + smooth} days after it{noise})"
        )
    days = np.arange(first, last + 1)
    # A quiet spell has level 0; the floor (half a figure in 56 days) keeps its ratios finite,
    # so a sparse series replays what followed its past quiet spells.
    base = np.maximum(lv[days - first], _FLOOR)
    idx = days[None, :] + np.arange(1, segment + 1)[:, None]
    age = (len(y) - 1 - days).astype(np.float64)
    weights = 0.5 ** (age / half_life)
    weights /= weights.sum()
    raw = y[idx] / base[None, :]
    opening = _ratios(centred_week(y)[idx] / base[None, :] if regime else raw, weights, drift)
    # chained segments: the analogs' own days, and never the past's growth again (drift is
    # kept for one segment, the horizon over which auto's evidence for it was measured)
    later = _ratios(raw, weights, False) if regime or drift else np.zeros((0, 0))
    level = max(float(level_of(y)[-1]), _FLOOR)
    tail = y[-_HISTORY:]
    n_eff = float(1.0 / np.sum(weights**2))

    window = y[-min(len(y), 180) :]
    mu = np.full(len(window), level)
    diagnostics = pearson_diagnostics(window, mu, np.full(len(window), max(window.var(), 1e-12)))
    return FittedModel.for_series(
        spec,
        s,
        params={"level": level, "analogs": float(days.size), "effective_analogs": n_eff},
        stderr={"level": float("nan"), "analogs": float("nan"), "effective_analogs": float("nan")},
        cov=None,
        loglik=None,
        aic=None,
        fitted=np.full(len(y), level),
        observation=ObservationModel("empirical", granularity=s.granularity),
        diagnostics=diagnostics,
        path_inputs={
            "ratios": opening,
            # chained segments (empty: the same as `ratios`)
            "later": later,
            "weights": weights,
            "level": level,
            "tail": tail,
            "noise": _deviations(y, regime),
        },
        empirical=tail,
    )


def one_step_quantiles(
    spec: ModelSpec, s: DailySeries, days: int, levels: np.ndarray
) -> np.ndarray:
    """Quantiles of the model's forecast of each of the last `days` figures of `s`, made the
    day before it: shape ``(days, levels)``.

    The model is refitted on the figures up to the day before each scored day; its forecast
    of the next day is ``level * r_a(1) / m(1)`` for analog ``a`` with probability its weight
    (what a path's first day is), so its quantiles are weighted quantiles, before rounding to
    the granularity. Days whose history is too short for a fit get the first fit's forecast.
    This is how :func:`simulate.models.compare` scores ``analog``: its own predictive
    distribution, not the last 56 days it keeps to seed its paths' levels.
    """
    levels = np.asarray(levels, dtype=np.float64)
    n = len(s.y)
    out = np.full((days, levels.size), np.nan)
    for i, t in enumerate(range(n - days, n)):
        head = DailySeries(s.name, s.source, s.reported_by, s.start, s.y[:t],
                           int(s.last_total - s.y[t:].sum()), s.granularity)  # fmt: skip
        try:
            p = fit_analog(spec, head).path_inputs if t > 0 else None
        except ModelError:  # too little history before day t
            p = None
        if p is not None:
            out[i] = weighted_quantiles(*_next_day(p), levels)
    fitted = ~np.isnan(out[:, 0])
    if not fitted.any():  # no day has history enough: the whole series' forecast, in-sample
        p = fit_analog(spec, s).path_inputs
        return np.broadcast_to(weighted_quantiles(*_next_day(p), levels), out.shape).copy()
    out[: int(np.argmax(fitted))] = out[int(np.argmax(fitted))]
    return out


def _next_day(p: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The forecast of the next day as weighted values: each analog's first ratio times the
    level (times each of the current regime's deviations, equally likely)."""
    values, weights = p["level"] * p["ratios"][0], p["weights"]
    noise = p["noise"]
    if noise.size:
        values = np.outer(values, noise).ravel()
        weights = np.repeat(weights / noise.size, noise.size)
    return values, weights


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """The smallest value whose cumulative weight reaches each level (inverse CDF)."""
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    idx = np.searchsorted(cum, levels * cum[-1], side="left")
    return np.asarray(values[order][np.minimum(idx, values.size - 1)], dtype=np.float64)
