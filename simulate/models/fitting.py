"""`fit`: one entry point for every model kind, and model comparison on one window."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib import import_module
from typing import Any

import numpy as np

from ..errors import ModelError
from .analog import one_step_quantiles
from .base import FittedModel
from .series import MIN_DAYS, DailySeries
from .spec import HUB_QUANTILES, MODEL_KINDS, ModelSpec

__all__ = ["fit", "compare", "PINBALL_LEVELS"]

# kind -> (module, function): each model lives in its own module.
_FITTERS = {
    "trend-nb": ("trend_nb", "fit_trend_nb"),
    "local-trend": ("local_trend", "fit_local_trend"),
    "changepoint": ("changepoint", "fit_changepoint"),
    "bootstrap": ("empirical", "fit_bootstrap"),
    "naive": ("empirical", "fit_naive"),
    "analog": ("analog", "fit_analog"),
}

#: Quantile levels of the in-sample pinball loss (the forecast hubs' 23 levels).
PINBALL_LEVELS = np.asarray(HUB_QUANTILES)


def _fitter(kind: str) -> Callable[[ModelSpec, DailySeries], FittedModel]:
    module, name = _FITTERS[kind]
    fn: Callable[[ModelSpec, DailySeries], FittedModel] = getattr(
        import_module(f"{__package__}.{module}"), name
    )
    return fn


def fit(spec: ModelSpec, series: DailySeries) -> FittedModel:
    """Fit a model to the trailing window of a daily series.

    Parameters
    ----------
    spec
        Model kind, window and options.
    series
        Daily figures (see :func:`simulate.models.daily_series`).

    Returns
    -------
    FittedModel
        Immutable; the same inputs always give the same estimates.

    Examples
    --------
    >>> from simulate.data import load
    >>> from simulate.models import ModelSpec, daily_series, fit
    >>> s = daily_series(load("example"), "personnel")
    >>> model = fit(ModelSpec("naive", options={"k": 28}), s)
    >>> model.n_obs, model.origin.isoformat()
    (180, '2025-12-30')
    """
    # `analog` learns from the whole history (recency-weighted); the others from the window
    window = series if spec.kind == "analog" else series.tail(spec.window)
    if len(window.y) < MIN_DAYS:
        raise ModelError(
            f"series {series.name!r}: {len(window.y)} daily figures in the window; at least "
            f"{MIN_DAYS} are needed"
        )
    return _fitter(spec.kind)(spec, window)


def _trailing_quantiles(y: np.ndarray, k: int, levels: np.ndarray) -> np.ndarray:
    """Quantiles of the k days before each day, (len(y), levels)."""
    k = max(1, min(k, len(y) - 1))
    windows = np.lib.stride_tricks.sliding_window_view(y, k)[:-1]  # days before y[k:]
    q = np.quantile(windows, levels, axis=1).T
    return np.concatenate([np.broadcast_to(q[0], (k, len(levels))), q])


def compare(
    series: DailySeries, *, window: int | None, kinds: Sequence[str] = MODEL_KINDS
) -> list[dict[str, Any]]:
    """Fit several models on the same window and score them in-sample.

    AIC compares the likelihood models (``trend-nb``, ``changepoint``: counts;
    ``local-trend`` is on log(y + c), so its AIC is on another scale and shown apart); the
    in-sample pinball loss over the 23 hub quantile levels compares every model. ``naive``
    and ``bootstrap`` are scored as they forecast: each day against the distribution of the
    days before it (their last k, or `recent`, days; the first days of the window, which
    have fewer before them, against the window's first k days), not against the days at the
    end of the window that they resample today. ``analog`` is scored as it forecasts too:
    each day against its one-day-ahead forecast, refitted on the figures before that day
    (:func:`simulate.models.analog.one_step_quantiles`). Scoring it by the 56 days it keeps
    to seed its paths' levels, as before, gave exactly ``bootstrap``'s loss.
    """
    rows: list[dict[str, Any]] = []
    for kind in kinds:
        try:
            model = fit(ModelSpec(kind, window=window), series)  # type: ignore[arg-type]
        except ModelError as exc:
            # One model refusing the window (e.g. no reported loss at all) must not hide
            # the others; the refusal is shown as a note.
            rows.append({"kind": kind, "model": None, "pinball": None, "error": str(exc)})
            continue
        y = series.tail(window).y.astype(np.float64)
        if kind == "analog":
            q = one_step_quantiles(model.spec, series, len(y), PINBALL_LEVELS)
        elif model.empirical is not None:
            q = _trailing_quantiles(y, len(model.empirical), PINBALL_LEVELS)
        else:
            q = model.in_sample_quantiles(PINBALL_LEVELS)
        diff = y[:, None] - q
        pinball = float(np.mean(np.maximum(PINBALL_LEVELS * diff, (PINBALL_LEVELS - 1) * diff)))
        rows.append({"kind": kind, "model": model, "pinball": pinball, "error": None})
    return rows
