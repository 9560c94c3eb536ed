"""The adjustment maths: what a scenario multiplies the projected intensity by, day by day.

Adjustments (every date is a TOML date, windows include both ends)

``multiply``  ``factor`` from ``start`` to ``end`` (open-ended without ``end``).
``ramp``      from ``start`` to ``end`` the factor changes linearly from ``from`` to ``to``;
              1 before ``start``, ``to`` after ``end``.
``decay``     from ``start`` the factor halves every ``half_life`` days.
``ceasefire`` from ``start`` the factor is ``residual``; with ``breakdown_per_day`` = p > 0
              each day of ceasefire breaks down with probability p, after which the factor is
              back to 1 (the engine draws the ceasefire's length per path).
``surge``     for ``days`` days from ``start`` the factor is ``1 + extra``.

The factors of all adjustments of a scenario multiply. ``multiply.factor``, ``ramp.from``,
``ramp.to`` and ``surge.extra`` may be uncertain: ``{ uniform = [lo, hi] }`` or
``{ lognormal = { median = m, sd_log = s } }``, drawn once per path. This module draws no
random numbers: :func:`factor_draw_spec` says what to draw, the engine draws it from its own
streams and passes the draws back to :func:`adjustment_factors`. What the engine imports from
the package is here and in :mod:`simulate.scenarios.config`; neither reads TOML.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from types import MappingProxyType
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from .config import (
    Adjustment,
    Ceasefire,
    Decay,
    Factor,
    FactorDraw,
    LogNormal,
    Multiply,
    Ramp,
    Scenario,
    Surge,
    Uniform,
)

__all__ = ["factor_draw_spec", "adjustment_factors", "last_effective_day"]


def _factor_draw(name: str, factor: Factor) -> FactorDraw | None:
    if isinstance(factor, Uniform):
        return FactorDraw(name, "uniform", MappingProxyType({"lo": factor.lo, "hi": factor.hi}))
    if isinstance(factor, LogNormal):
        params = {"median": factor.median, "sd_log": factor.sd_log}
        return FactorDraw(name, "lognormal", MappingProxyType(params))
    return None


def _factor_fields(adj: Adjustment) -> tuple[tuple[str, Factor], ...]:
    if isinstance(adj, Multiply):
        return (("factor", adj.factor),)
    if isinstance(adj, Ramp):
        return (("from", adj.start_factor), ("to", adj.end_factor))
    if isinstance(adj, Surge):
        return (("extra", adj.extra),)
    return ()


def factor_draw_spec(scenario: Scenario) -> tuple[FactorDraw, ...]:
    """What must be drawn per path to apply `scenario`, in a fixed order.

    Names are the key paths within the scenario, e.g. ``"adjust[1].factor"`` for an uncertain
    factor or ``"adjust[2].breakdown_day"`` for the length of a ceasefire that may break down.

    Examples
    --------
    >>> s = Scenario("esc", (Multiply(Uniform(1.2, 1.4), date(2026, 4, 1)),))
    >>> [(d.name, d.distribution, dict(d.parameters)) for d in factor_draw_spec(s)]
    [('adjust[0].factor', 'uniform', {'lo': 1.2, 'hi': 1.4})]
    """
    out: list[FactorDraw] = []
    for j, adj in enumerate(scenario.adjust):
        for key, factor in _factor_fields(adj):
            draw = _factor_draw(f"adjust[{j}].{key}", factor)
            if draw is not None:
                out.append(draw)
        if isinstance(adj, Ceasefire) and adj.breakdown_per_day > 0:
            params = MappingProxyType({"p": adj.breakdown_per_day})
            out.append(FactorDraw(f"adjust[{j}].breakdown_day", "geometric", params))
    return tuple(out)


FloatArray: TypeAlias = npt.NDArray[np.float64]


def adjustment_factors(
    scenario: Scenario,
    dates: npt.NDArray[np.datetime64],
    draws: Mapping[str, npt.ArrayLike] | None = None,
    *,
    n_paths: int | None = None,
) -> FloatArray:
    """The factor multiplying the projected intensity, per day and path.

    Parameters
    ----------
    scenario
        A validated scenario.
    dates
        The projected days, ``datetime64[D]``, shape ``(days,)``.
    draws
        One array of shape ``(n_paths,)`` per entry of :func:`factor_draw_spec` (keyed by its
        name): the drawn factors, and for a ceasefire that may break down the number of days
        it lasts (>= 1). Not needed when nothing is uncertain.
    n_paths
        Number of paths; by default the length of the draws, or 1 without draws.

    Returns
    -------
    numpy.ndarray
        Shape ``(days, n_paths)``, all > 0 except under a ceasefire with residual 0.

    Examples
    --------
    >>> days = np.arange("2026-01-01", "2026-01-05", dtype="datetime64[D]")
    >>> s = Scenario("half", (Multiply(0.5, date(2026, 1, 2), date(2026, 1, 3)),))
    >>> adjustment_factors(s, days)[:, 0].tolist()
    [1.0, 0.5, 0.5, 1.0]
    """
    day = np.asarray(dates).astype("datetime64[D]").astype(np.int64)
    if day.ndim != 1:
        raise ValueError(f"dates must be one-dimensional, got shape {day.shape}")
    needed = factor_draw_spec(scenario)
    given = {k: np.asarray(v, dtype=np.float64) for k, v in (draws or {}).items()}
    missing = [d.name for d in needed if d.name not in given]
    if missing:
        raise ValueError(f"scenario {scenario.name!r}: draws missing for {', '.join(missing)}")
    shapes = [given[d.name].shape for d in needed]
    if n_paths is None:
        n_paths = shapes[0][0] if shapes and len(shapes[0]) == 1 else 1
    if any(shape != (n_paths,) for shape in shapes):
        raise ValueError(f"every draw must have shape ({n_paths},), got {shapes}")

    def value(name: str, factor: Factor) -> FloatArray:
        if isinstance(factor, Uniform | LogNormal):
            return given[name][None, :]
        return np.full((1, n_paths), float(factor))

    out = np.ones((day.size, n_paths))
    for j, adj in enumerate(scenario.adjust):
        # days since the adjustment's start, as a column so terms broadcast over paths
        since = (day - _day_number(adj.start))[:, None]
        if isinstance(adj, Multiply):
            inside = since >= 0
            if adj.end is not None:
                inside &= since <= _day_number(adj.end) - _day_number(adj.start)
            out *= np.where(inside, value(f"adjust[{j}].factor", adj.factor), 1.0)
        elif isinstance(adj, Ramp):
            span = _day_number(adj.end) - _day_number(adj.start)
            a = value(f"adjust[{j}].from", adj.start_factor)
            b = value(f"adjust[{j}].to", adj.end_factor)
            frac = np.clip(since / span, 0.0, 1.0)
            out *= np.where(since >= 0, a + (b - a) * frac, 1.0)
        elif isinstance(adj, Decay):
            with np.errstate(over="ignore"):  # a tiny half-life just means "gone at once"
                halvings = np.maximum(since, 0) / adj.half_life
            out *= np.where(since >= 0, np.exp2(-halvings), 1.0)
        elif isinstance(adj, Ceasefire):
            holds = since >= 0
            if adj.breakdown_per_day > 0:
                holds = holds & (since < given[f"adjust[{j}].breakdown_day"][None, :])
            out *= np.where(holds, adj.residual, 1.0)
        else:
            during = (since >= 0) & (since < adj.days)
            out *= np.where(during, 1.0 + value(f"adjust[{j}].extra", adj.extra), 1.0)
    return out


def last_effective_day(adj: Adjustment) -> date | None:
    """The last day on which `adj` can change the intensity; ``None`` when it never stops.

    Only a ``multiply`` with an ``end`` and a ``surge`` stop: a ramp keeps its ``to`` factor
    after its end, a decay keeps decaying and a ceasefire holds (or breaks down per path).
    An adjustment whose last day is before a projection's first day changes nothing there.

    Examples
    --------
    >>> last_effective_day(Surge(date(2026, 1, 1), 10, 0.5))
    datetime.date(2026, 1, 10)
    >>> last_effective_day(Decay(30.0, date(2026, 1, 1))) is None
    True
    """
    if isinstance(adj, Multiply):
        return adj.end
    if isinstance(adj, Surge):
        return adj.start + timedelta(days=adj.days - 1)
    return None


def _day_number(d: date) -> int:
    return int(np.datetime64(d, "D").astype(np.int64))
