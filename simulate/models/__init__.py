"""Models of reported daily figures: fit, no I/O.

* :class:`ModelSpec` — kind, window and options, validated when built;
* :func:`daily_series` — the validated daily series a model is fitted to;
* :func:`fit` — returns an immutable :class:`FittedModel`: plain data (its kind and
  parameters), picklable;
* :func:`start_paths`, :func:`simulate` — simulated paths of a fitted model (the kind's path
  function, keyed by kind); :func:`summary_quantiles`, :func:`describe` — its simulated level
  and growth, with the path count and seed as arguments;
* :func:`compare` — several models on the same window.

Kinds: ``trend-nb`` (negative-binomial log-linear trend), ``local-trend`` (local linear
trend on the log scale, Kalman filter), ``changepoint`` (piecewise-linear log intensity with
shrinkage), ``bootstrap`` (block bootstrap of recent days) and ``naive`` (the baseline).
"""

from __future__ import annotations

from .base import (
    SUMMARY_PATHS,
    SUMMARY_SEED,
    FittedModel,
    PathState,
    describe,
    simulate,
    start_paths,
    summary_quantiles,
)
from .fitting import PINBALL_LEVELS, compare, fit
from .observation import ObservationModel
from .series import DailySeries, daily_series
from .spec import DEFAULT_OPTIONS, DEFAULT_WINDOW, MODEL_KINDS, ModelSpec

__all__ = [
    "DEFAULT_OPTIONS",
    "DEFAULT_WINDOW",
    "MODEL_KINDS",
    "PINBALL_LEVELS",
    "SUMMARY_PATHS",
    "SUMMARY_SEED",
    "DailySeries",
    "FittedModel",
    "ModelSpec",
    "ObservationModel",
    "PathState",
    "compare",
    "daily_series",
    "describe",
    "fit",
    "simulate",
    "start_paths",
    "summary_quantiles",
]
