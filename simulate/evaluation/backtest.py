"""Rolling-origin backtests: fit on what was reported up to each origin, score what came next.

For each origin (every `every` days), each model is fitted only on the figures reported up to
the origin (the data policy is re-applied to that cut, so nothing reported later leaks in),
``n_paths`` joint paths of the next `horizon` daily figures are simulated, and they are scored
against what was reported afterwards:

* targets: the daily figure at each horizon (``daily``), totals over consecutive windows of 7,
  30 and 90 days after the origin (``total7`` ending on days 7, 14, ..., ``total30`` ending on
  days 30, 60, 90, ``total90``), and the cumulative total at the last horizon (``cum``);
* scores: those of :func:`simulate.evaluation.scoring.score_paths`.

Random streams are keyed by (seed, series, origin), so a backtest gives the same scores in any
order and with any subset of origins or models. Nothing here writes files.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import polars as pl

from ..data import ReportedData
from ..data.policy import DataPolicy
from ..errors import AttritionError
from ..models import DailySeries, ModelSpec, daily_series, fit
from ..models.spec import HUB_QUANTILES
from ..rng import origin_seed
from .scoring import score_paths
from .selection import AutoSpec
from .skill import SKILL_LEVEL, resample_origins, skill_bounds

__all__ = [
    "BacktestResult",
    "DEFAULT_EVERY",
    "DEFAULT_HORIZON",
    "DEFAULT_SPAN",
    "BACKTEST_PATHS",
    "BUCKETS",
    "default_origins",
    "forecast_paths",
    "backtest",
    "summarise",
]

DEFAULT_EVERY = 28
DEFAULT_HORIZON = 90
#: Default span of origins: the last two years of data.
DEFAULT_SPAN = 730
BACKTEST_PATHS = 2000
#: Horizon buckets of the daily figure.
BUCKETS = ((1, 7), (8, 30), (31, 90))
#: Origins with fewer reported days before them are not scored.
MIN_TRAINING = 28

FloatArray = npt.NDArray[np.float64]


def default_origins(
    end: date,
    *,
    horizon: int = DEFAULT_HORIZON,
    every: int = DEFAULT_EVERY,
    start: date | None = None,
    last: date | None = None,
) -> list[date]:
    """Origins every `every` days, the last one `horizon` days before `end` (the last report)
    unless `last` is given, back to `start` (default: two years before `end`)."""
    latest = (
        end - timedelta(days=horizon) if last is None else min(last, end - timedelta(days=horizon))
    )
    first = end - timedelta(days=DEFAULT_SPAN) if start is None else start
    out: list[date] = []
    d = latest
    while d >= first:
        out.append(d)
        d -= timedelta(days=every)
    return sorted(out)


def forecast_paths(
    spec: ModelSpec | AutoSpec,
    data: ReportedData,
    series: str,
    origin: date,
    *,
    horizon: int,
    n_paths: int,
    seed: int,
    policy: DataPolicy | None = None,
) -> tuple[DailySeries, npt.NDArray[np.int64]]:
    """Fit `spec` on the figures reported up to `origin` and simulate the next days.

    Returns the series as seen at the origin and the simulated daily figures
    ``(horizon, n_paths)``; the streams are keyed by (seed, series, origin). An
    :class:`~simulate.evaluation.selection.AutoSpec` chooses its model on the series as seen
    at the origin.
    """
    s = daily_series(data, series, as_of=origin, policy=policy)
    model = fit(spec.resolve(s)[0] if isinstance(spec, AutoSpec) else spec, s)
    key = origin_seed(seed, series, origin)
    _, y = model.simulate(horizon, n_paths, seed=key)
    return s, np.asarray(y, dtype=np.int64)


@dataclass(frozen=True, eq=False)
class BacktestResult:
    """Scores of every (origin, series, model), and how long it took."""

    scores: pl.DataFrame
    origins: tuple[date, ...]
    series: tuple[str, ...]
    models: tuple[str, ...]
    reported_by: str
    horizon: int
    n_paths: int
    seed: int
    seconds: float
    failures: tuple[str, ...] = ()


def _bucket(h: pl.Expr) -> pl.Expr:
    expr = pl.lit(None, dtype=pl.String)
    for lo, hi in reversed(BUCKETS):
        expr = pl.when(h.is_between(lo, hi)).then(pl.lit(f"{lo}-{hi}")).otherwise(expr)
    return expr


def backtest(
    data: ReportedData,
    series: Sequence[str],
    specs: Sequence[ModelSpec | AutoSpec],
    *,
    origins: Sequence[date] | None = None,
    horizon: int = DEFAULT_HORIZON,
    every: int = DEFAULT_EVERY,
    n_paths: int = BACKTEST_PATHS,
    seed: int = 0,
    policy: DataPolicy | None = None,
    levels: Sequence[float] = HUB_QUANTILES,
    progress: Callable[[int], object] | None = None,
) -> BacktestResult:
    """Rolling-origin backtest of `specs` (named by kind; give each kind once) on `series`.

    `origins` default to :func:`default_origins` of each series' last report. An origin where
    any model cannot be fitted (e.g. too few figures) is dropped for every model, so that all
    models are scored on the same origins; it is listed in :attr:`BacktestResult.failures`.
    """
    started = time.perf_counter()
    labels = [_label(s) for s in specs]
    if len(set(labels)) != len(labels):
        raise AttritionError(f"each model may be backtested once; got {labels}")
    frames: list[pl.DataFrame] = []
    failures: list[str] = []
    used: set[date] = set()
    for name in series:
        full = daily_series(data, name, policy=policy)
        todo = (
            list(origins)
            if origins is not None
            else default_origins(full.end, horizon=horizon, every=every)
        )
        for origin in todo:
            first_after = (origin - full.start).days + 1
            if first_after < MIN_TRAINING:
                failures.append(
                    f"{name} {origin}: fewer than {MIN_TRAINING} reported days before it"
                )
                continue
            if first_after + horizon > len(full.y):
                failures.append(f"{name} {origin}: fewer than {horizon} reported days after it")
                continue
            observed = full.y[first_after : first_after + horizon]
            scored_here: list[pl.DataFrame] = []
            for spec, label in zip(specs, labels, strict=True):
                try:
                    s, paths = forecast_paths(
                        spec, data, name, origin, horizon=horizon, n_paths=n_paths, seed=seed,
                        policy=policy,
                    )  # fmt: skip
                except AttritionError as exc:
                    failures.append(f"{name} {origin} {label}: {exc}")
                    break
                scored = score_paths(paths, observed, s.last_total, levels)
                scored_here.append(
                    scored.with_columns(
                        origin=pl.lit(origin), series=pl.lit(name), model=pl.lit(label)
                    )
                )
            else:
                # every model is scored on the same origins, or the origin is dropped for all
                frames += scored_here
                used.add(origin)
            if progress is not None:
                progress(1)
    if not frames:
        raise AttritionError("no origin could be scored: " + "; ".join(failures[:3]))
    scores = (
        pl.concat(frames)
        .with_columns(bucket=pl.when(pl.col("target") == "daily").then(_bucket(pl.col("horizon"))))
        .select(
            "origin",
            "series",
            "model",
            "target",
            "horizon",
            "bucket",
            "scale",
            "observed",
            "median",
            "lo80",
            "hi80",
            "wis",
            "crps",
            "ae_median",
            "cov50",
            "cov80",
            "cov95",
            "pit",
        )  # fmt: skip
        .sort("series", "model", "origin", "scale", "target", "horizon")
    )
    return BacktestResult(
        scores=scores,
        origins=tuple(sorted(used)),
        series=tuple(series),
        models=tuple(labels),
        reported_by=data.reported_by,
        horizon=horizon,
        n_paths=n_paths,
        seed=seed,
        seconds=time.perf_counter() - started,
        failures=tuple(failures),
    )


def _label(spec: ModelSpec | AutoSpec) -> str:
    return spec.kind


def summarise(scores: pl.DataFrame, *, baseline: str = "naive", seed: int = 0) -> pl.DataFrame:
    """Per series, model and target (daily figures also per horizon bucket), natural scale:
    mean WIS and CRPS, MAE of the median, coverage of the central intervals, and the skill
    ``1 - WIS / WIS of the baseline`` on the same origins (``skill``, against `baseline`, and
    ``skill_vs_bootstrap``, when those models were run), each with its paired bootstrap
    interval over origins (``skill_lo``/``skill_hi``, ``skill_vs_bootstrap_lo``/``_hi``; see
    :mod:`simulate.evaluation.skill`; the origins resampled are keyed by `seed`, series and
    group). A percentile interval that would leave out the skill itself (possible with very
    few or very uneven origins) is widened to take it in."""
    nat = scores.filter(pl.col("scale") == "natural")
    daily = nat.filter(pl.col("target") == "daily")
    parts = [
        nat.with_columns(group=pl.col("target")),
        daily.with_columns(group=pl.lit("daily ") + pl.col("bucket")),
    ]
    keys = ["series", "model", "group"]
    rows = pl.concat(parts)
    table = rows.group_by(keys).agg(
        n=pl.len(),
        wis=pl.col("wis").mean(),
        crps=pl.col("crps").mean(),
        mae_median=pl.col("ae_median").mean(),
        cov50=pl.col("cov50").mean(),
        cov80=pl.col("cov80").mean(),
        cov95=pl.col("cov95").mean(),
    )
    # the resampling unit is the origin: average over horizons (or windows) within it first
    per_origin = rows.group_by([*keys, "origin"]).agg(wis=pl.col("wis").mean())
    for base_name in (baseline, "bootstrap"):
        if base_name not in set(table["model"]):
            continue
        base = table.filter(pl.col("model") == base_name).select(
            "series", "group", base_wis=pl.col("wis")
        )
        column = "skill" if base_name == baseline else f"skill_vs_{base_name}"
        lo, hi = pl.col(f"{column}_lo"), pl.col(f"{column}_hi")
        table = (
            table.join(base, on=["series", "group"], how="left")
            .with_columns((1 - pl.col("wis") / pl.col("base_wis")).alias(column))
            .drop("base_wis")
            .join(_skill_intervals(per_origin, base_name, column, seed), on=keys, how="left")
            .with_columns(
                pl.when(lo.is_not_null() & pl.col(column).is_not_null())
                .then(pl.min_horizontal(lo, pl.col(column)))
                .alias(f"{column}_lo"),
                pl.when(hi.is_not_null() & pl.col(column).is_not_null())
                .then(pl.max_horizontal(hi, pl.col(column)))
                .alias(f"{column}_hi"),
            )
        )
    order = {g: i for i, g in enumerate(["daily", "daily 1-7", "daily 8-30", "daily 31-90",
                                          "total7", "total30", "total90", "cum"])}  # fmt: skip
    return (
        table.with_columns(
            _order=pl.col("group").replace_strict(order, default=99, return_dtype=pl.Int64)
        )
        .sort("series", "model", "_order")
        .drop("_order")
    )


def _skill_intervals(
    per_origin: pl.DataFrame, base_name: str, column: str, seed: int
) -> pl.DataFrame:
    """The bootstrap bounds of the skill against `base_name` of every series, model and group
    (columns ``<column>_lo``/``_hi``; null where undefined), from the mean WIS per origin."""
    out: dict[str, list[object]] = {
        "series": [], "model": [], "group": [], f"{column}_lo": [], f"{column}_hi": []
    }  # fmt: skip
    for (series, group), part in sorted(
        per_origin.partition_by(["series", "group"], as_dict=True).items()
    ):
        wide = part.pivot(on="model", index="origin", values="wis").sort("origin")
        if base_name not in wide.columns:
            continue
        models = sorted(c for c in wide.columns if c != "origin")
        wis = wide.select(models).to_numpy().T.astype(np.float64)
        base = wide[base_name].to_numpy().astype(np.float64)
        idx = resample_origins(wide.height, seed=seed, series=str(series), group=str(group))
        lo, hi = skill_bounds(wis, base, idx, SKILL_LEVEL)
        for model, a, b in zip(models, lo, hi, strict=True):
            out["series"].append(series)
            out["model"].append(model)
            out["group"].append(group)
            out[f"{column}_lo"].append(None if np.isnan(a) else float(a))
            out[f"{column}_hi"].append(None if np.isnan(b) else float(b))
    return pl.DataFrame(
        out,
        schema={"series": pl.String, "model": pl.String, "group": pl.String,
                f"{column}_lo": pl.Float64, f"{column}_hi": pl.Float64},
    )  # fmt: skip
