"""One call for notebooks: :func:`project` a daily series under the status quo.

The same machinery as ``attrition run`` with a single status-quo scenario, for users who work in
notebooks and for comparing with other tools fold by fold: dates and daily figures in, a Polars
quantile table (and on request the joint sample paths) out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any, Literal, overload

import numpy as np
import numpy.typing as npt
import polars as pl

from .budget import check_full
from .data.steps import granularity
from .errors import ModelError
from .evaluation.selection import choose_model
from .models import MODEL_KINDS, DailySeries, ModelSpec, fit
from .models.spec import HUB_QUANTILES

__all__ = ["project"]


def _series(
    dates: Sequence[Any], values: Sequence[Any], name: str, reported_by: str
) -> DailySeries:
    d = np.asarray(dates, dtype="datetime64[D]")
    y = np.asarray(values)
    if d.ndim != 1 or y.ndim != 1 or d.size != y.size or d.size == 0:
        raise ModelError(
            f"dates and values must be 1-D and of the same length; got {d.shape}, {y.shape}"
        )
    if np.any(np.diff(d) != np.timedelta64(1, "D")):
        bad = int(np.flatnonzero(np.diff(d) != np.timedelta64(1, "D"))[0])
        raise ModelError(f"dates must be consecutive days; {d[bad]} is followed by {d[bad + 1]}")
    if not np.issubdtype(y.dtype, np.number) or np.any(y < 0) or np.any(y != np.round(y)):
        raise ModelError("values must be whole numbers >= 0 (daily reported figures)")
    yi = y.astype(np.int64)
    start = d[0].astype(object)
    assert isinstance(start, date)
    return DailySeries(name, "notebook", reported_by, start, yi, int(yi.sum()), granularity(yi))


@overload
def project(
    dates: Sequence[Any], values: Sequence[Any], *, horizon: int = ...,
    quantiles: Sequence[float] = ..., paths: int = ..., model: str = ..., seed: int = ...,
    samples: Literal[False] = ...,
    name: str = ..., reported_by: str = ...,
) -> pl.DataFrame: ...  # fmt: skip
@overload
def project(
    dates: Sequence[Any], values: Sequence[Any], *, horizon: int = ...,
    quantiles: Sequence[float] = ..., paths: int = ..., model: str = ..., seed: int = ...,
    samples: Literal[True],
    name: str = ..., reported_by: str = ...,
) -> tuple[pl.DataFrame, npt.NDArray[np.int64]]: ...  # fmt: skip
def project(
    dates: Sequence[Any],
    values: Sequence[Any],
    *,
    horizon: int = 90,
    quantiles: Sequence[float] = HUB_QUANTILES,
    paths: int = 2000,
    model: str = "auto",
    seed: int = 0,
    samples: bool = False,
    name: str = "series",
    reported_by: str = "the reporter named by the caller",
) -> pl.DataFrame | tuple[pl.DataFrame, npt.NDArray[np.int64]]:
    """Project a daily series of reported figures under the status quo.

    Parameters
    ----------
    dates, values
        Consecutive days and the daily reported figures (whole numbers >= 0).
    horizon, quantiles, paths, seed
        Days ahead, quantile levels, simulated paths, seed.
    model
        A model kind (see :data:`simulate.models.MODEL_KINDS`) or ``"auto"`` (the default, as
        in ``attrition run`` and ``backtest``): the calibrated ``analog`` model, keeping the
        past's growth (``drift``) only where the series' own past shows, beyond sampling noise,
        that this forecasts better (:func:`simulate.evaluation.selection.choose_model`). On the
        General Staff figures it scores at least as well as ``analog`` on every series (README,
        "Calibration").
    samples
        Also return the simulated daily figures, shape ``(horizon, paths)``.
    name, reported_by
        Labels carried into the table (who reported these figures).

    Returns
    -------
    polars.DataFrame
        One row per horizon and quantile level: ``date``, ``horizon``, ``quantile``, ``daily``
        (the daily figure) and ``cumulative`` (the total counted from the first given day), plus
        ``model`` (e.g. ``analog`` or ``analog (drift=true)``), ``model_choice`` (why: the
        sentence of ``auto``'s choice, or ``given``) and ``reported_by``.

    Raises
    ------
    SizeError
        `horizon` or `paths` beyond what fits in the memory or time available (see
        :mod:`simulate.budget`), before anything is fitted: the message says what fits.

    Examples
    --------
    >>> import numpy as np
    >>> from datetime import date, timedelta
    >>> days = [date(2024, 1, 1) + timedelta(i) for i in range(400)]
    >>> counts = np.random.default_rng(1).poisson(50, 400)
    >>> table = project(days, counts, horizon=30, quantiles=[0.1, 0.5, 0.9], model="analog")
    >>> table.shape, table["date"].max()
    ((90, 8), datetime.date(2025, 3, 5))
    """
    check_full(paths=paths, horizon=horizon, kind=model, file="project()",
                    paths_key="paths", horizon_key="horizon")  # fmt: skip
    s = _series(dates, values, name, reported_by)
    if model == "auto":
        spec, choice = choose_model(s)
        why = str(choice["why"])
    elif model in MODEL_KINDS:
        spec, why = ModelSpec(model), "given"  # type: ignore[arg-type]
    else:
        raise ModelError(
            f"model {model!r} is unknown; expected 'auto' or one of {', '.join(MODEL_KINDS)}"
        )
    fitted = fit(spec, s)
    _, y = fitted.simulate(horizon, paths, seed=seed)
    y = y.astype(np.int64)
    levels = np.asarray(quantiles, dtype=np.float64)
    daily_q = np.quantile(y, levels, axis=1).T
    cum_q = np.quantile(s.last_total + np.cumsum(y, axis=0), levels, axis=1).T
    first = s.end + timedelta(days=1)
    table = pl.DataFrame(
        {
            "date": pl.date_range(first, first + timedelta(days=horizon - 1), eager=True).gather(
                np.repeat(np.arange(horizon), levels.size)
            ),
            "horizon": np.repeat(np.arange(1, horizon + 1), levels.size),
            "quantile": np.tile(levels, horizon),
            "daily": daily_q.ravel(),
            "cumulative": cum_q.ravel(),
            "model": spec.label,
            "model_choice": why,
            "reported_by": reported_by,
        }
    )
    return (table, y) if samples else table
