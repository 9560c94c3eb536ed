"""The fitted model shared by every model kind, and simulation as a function of it.

A fitted model is plain data: its kind (in its spec), estimates and what its paths start from
(numbers, tuples and arrays), immutable, picklable and compared by value. Simulating is a
function of (model, paths, seed): :func:`start_paths` looks up the kind's path function
(:data:`PATH_FUNCTIONS`) and starts simulated paths whose state is kept as vectors (one entry
per path) and advanced block by block, so memory does not grow with the horizon; each block
returns the expected daily figures (the intensity) for its days. :func:`summary_quantiles`
simulates only when asked, with its path count and seed as arguments.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import import_module
from typing import Any, Protocol

import numpy as np

from ..rng import SeedLike, Stream, generator
from .observation import ObservationModel
from .series import DailySeries
from .spec import ModelSpec

__all__ = [
    "PathState",
    "FittedModel",
    "PathFunction",
    "PATH_FUNCTIONS",
    "SUMMARY_PATHS",
    "SUMMARY_SEED",
    "path_function",
    "start_paths",
    "simulate",
    "summary_quantiles",
    "describe",
]

#: Paths simulated for the level and growth intervals of :func:`summary_quantiles`.
SUMMARY_PATHS = 4000
#: Seed of those paths: the intervals printed by ``attrition fit`` and ``explain``.
SUMMARY_SEED = 0


class PathState(Protocol):
    """Per-path state of simulated intensity paths."""

    def step(self, days: int) -> np.ndarray:
        """Advance `days` days; return the expected daily figures, shape (days, n_paths).

        Implementations draw every random number of the block in one call per stream,
        day-major, so that two blocks of 10 days give the same numbers as one of 20.
        """
        ...


#: (model, n_paths, parameter rng, process rng, second process rng) -> PathState
PathFunction = Callable[
    ["FittedModel", int, np.random.Generator, np.random.Generator, np.random.Generator],
    PathState,
]

#: Each kind's path function, as (module of :mod:`simulate.models`, function). The kinds'
#: modules import this one, so a function is looked up by name when first used, as
#: :mod:`simulate.models.fitting` looks up the fitters.
PATH_FUNCTIONS: Mapping[str, tuple[str, str]] = {
    "trend-nb": ("trend_nb", "trend_paths"),
    "local-trend": ("local_trend", "local_trend_paths"),
    "changepoint": ("changepoint", "changepoint_paths"),
    "bootstrap": ("empirical", "bootstrap_paths"),
    "naive": ("empirical", "naive_paths"),
    "analog": ("analog", "analog_paths"),
}


def path_function(kind: str) -> PathFunction:
    """The path function of model kind `kind` (see :data:`PATH_FUNCTIONS`)."""
    module, name = PATH_FUNCTIONS[kind]
    fn: PathFunction = getattr(import_module(f"{__package__}.{module}"), name)
    return fn


@dataclass(frozen=True, eq=False)
class FittedModel:
    """A model fitted to one series: estimates, uncertainty, diagnostics and what its
    simulated paths start from. Plain data: it pickles as it is and compares by value.

    Attributes
    ----------
    spec
        What was fitted (its ``kind`` picks the path function, :data:`PATH_FUNCTIONS`).
    series, source, reported_by
        The figures it was fitted to and who reported them.
    start, origin
        First and last day of the fit window (the origin is the last report used).
    n_obs
        Daily figures in the window.
    last_total
        Reported cumulative total at the origin.
    params, stderr
        Named estimates and their standard errors (NaN where not defined).
    cov
        Covariance of the estimated parameters (order of `params`), or None.
    loglik, aic
        Log-likelihood of the daily figures and AIC, where defined (None for bootstrap and
        naive).
    fitted
        In-sample expected daily figures (same length as the window).
    observation
        The observation model used for simulated reports.
    diagnostics
        ``dispersion`` (mean squared Pearson residual: about 1 when the noise model fits),
        ``acf1`` and ``acf7`` (autocorrelation of Pearson residuals at lags 1 and 7),
        ``n_zero``, ``n_clipped``.
    path_inputs
        What the kind's path function starts paths from, by name (numbers, tuples, arrays):
        e.g. the mean and covariance of the parameter draws.
    empirical
        For ``naive``, ``bootstrap`` and ``analog``: the daily figures they resample.
    """

    spec: ModelSpec
    series: str
    source: str
    reported_by: str
    start: date
    origin: date
    n_obs: int
    last_total: int
    params: Mapping[str, float]
    stderr: Mapping[str, float]
    cov: np.ndarray | None
    loglik: float | None
    aic: float | None
    fitted: np.ndarray
    observation: ObservationModel
    diagnostics: Mapping[str, float]
    path_inputs: Mapping[str, Any] = field(repr=False)
    empirical: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def for_series(cls, spec: ModelSpec, s: DailySeries, **fields: Any) -> FittedModel:
        """Build a fitted model for series `s`: what it was fitted to is taken from `s`
        (name, source, reporter, window dates, length, last total, clipped days)."""
        diagnostics = {**fields.pop("diagnostics"), "n_clipped": float(s.n_clipped)}
        return cls(
            spec=spec,
            series=s.name,
            source=s.source,
            reported_by=s.reported_by,
            start=s.start,
            origin=s.end,
            n_obs=len(s.y),
            last_total=s.last_total,
            diagnostics=diagnostics,
            **fields,
        )

    def __eq__(self, other: object) -> bool:
        """Equal when every field is: arrays element by element, NaN equal to NaN."""
        if not isinstance(other, FittedModel):
            return NotImplemented
        return all(
            _same(getattr(self, f.name), getattr(other, f.name)) for f in dataclasses.fields(self)
        )

    __hash__ = None  # type: ignore[assignment]  # compared by value, and mutable arrays inside

    @property
    def kind(self) -> str:
        return self.spec.kind

    def start_paths(self, n_paths: int, *, seed: SeedLike) -> PathState:
        """:func:`start_paths` of this model."""
        return start_paths(self, n_paths, seed=seed)

    def simulate(
        self, horizon: int, n_paths: int, *, seed: SeedLike, block: int = 64
    ) -> tuple[np.ndarray, np.ndarray]:
        """:func:`simulate` this model."""
        return simulate(self, horizon, n_paths, seed=seed, block=block)

    def in_sample_quantiles(self, levels: np.ndarray) -> np.ndarray:
        """Quantiles of each in-sample day's figure under the fitted model, (n_obs, levels).

        Used for the in-sample pinball loss that compares models without a likelihood.
        """
        levels = np.asarray(levels, dtype=np.float64)
        if self.empirical is not None:
            q = np.quantile(self.empirical, levels)
            return np.broadcast_to(q, (self.n_obs, len(levels))).copy()
        return self.observation.quantiles(self.fitted, levels)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (estimates, errors, diagnostics, observation model).

        Nothing is simulated: :func:`describe` adds the simulated level and growth.
        """
        return {
            "model": self.spec.to_dict(),
            "series": self.series,
            "source": self.source,
            "reported_by": self.reported_by,
            "window_start": self.start.isoformat(),
            "origin": self.origin.isoformat(),
            "n_obs": self.n_obs,
            "last_total": self.last_total,
            "params": {k: _num(v) for k, v in self.params.items()},
            "stderr": {k: _num(v) for k, v in self.stderr.items()},
            "loglik": _num(self.loglik),
            "aic": _num(self.aic),
            "observation": self.observation.to_dict(),
            "diagnostics": {k: _num(v) for k, v in self.diagnostics.items()},
        }


def start_paths(model: FittedModel, n_paths: int, *, seed: SeedLike) -> PathState:
    """Start `n_paths` intensity paths of `model` at its origin (parameter draws made here).

    The kind's path function (:data:`PATH_FUNCTIONS`) gets the parameter, process and second
    process streams of `seed`.
    """
    if n_paths < 1:
        raise ValueError(f"n_paths must be >= 1, got {n_paths}")
    rngs = (
        generator(seed, Stream.PARAMETERS),
        generator(seed, Stream.PROCESS),
        generator(seed, Stream.PROCESS_EXTRA),
    )
    return path_function(model.kind)(model, n_paths, *rngs)


def simulate(
    model: FittedModel, horizon: int, n_paths: int, *, seed: SeedLike, block: int = 64
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate `horizon` days: (intensity, reported daily figures), each (horizon, paths).

    A convenience for notebooks and tests; the engine streams blocks itself.

    Examples
    --------
    >>> from simulate.data import load
    >>> from simulate.models import ModelSpec, daily_series, fit
    >>> model = fit(ModelSpec("naive"), daily_series(load("example"), "personnel"))
    >>> mu, y = simulate(model, 30, 1000, seed=1)
    >>> y.shape, bool((y >= 0).all()), bool((y % 10 == 0).all())
    ((30, 1000), True, True)
    """
    if horizon < 1 or block < 1:
        raise ValueError(
            f"horizon and block must be whole numbers of days >= 1, got {horizon}, {block}"
        )
    state = start_paths(model, n_paths, seed=seed)
    obs_rngs = (
        generator(seed, Stream.OBS_GAMMA),
        generator(seed, Stream.OBS_POISSON),
        generator(seed, Stream.OBS_NORMAL),
    )
    mus, ys = [], []
    done = 0
    while done < horizon:
        days = min(block, horizon - done)
        mu = state.step(days)
        mus.append(mu)
        ys.append(model.observation.draw(mu, obs_rngs))
        done += days
    return np.concatenate(mus), np.concatenate(ys)


def summary_quantiles(
    model: FittedModel, *, n_paths: int = SUMMARY_PATHS, seed: SeedLike = SUMMARY_SEED
) -> dict[str, Any]:
    """Implied daily level in the week after the origin, and growth over 30 days, simulated.

    From `n_paths` intensity paths of `seed` (parameter and process uncertainty, no
    observation noise), each summarised by its mean expected daily figure over days 1-7 (the
    level) and days 31-37; growth is their ratio, 30 days apart. Week means keep the figures
    meaningful for models whose paths replay single days (``naive``, ``bootstrap``) and for
    sparse series. When more than 5% of paths have no expected figure at all in the first
    week, growth is undefined (``None``) and ``growth_note`` says why.
    """
    state = start_paths(model, n_paths, seed=seed)
    mu = state.step(37)
    first, later = mu[0:7].mean(axis=0), mu[30:37].mean(axis=0)
    q = [0.5, 0.025, 0.975]
    lv = np.quantile(first, q)
    start = model.origin + timedelta(days=1)
    out: dict[str, Any] = {
        "level": {"median": float(lv[0]), "lo95": float(lv[1]), "hi95": float(lv[2])},
        "level_dates": f"{start.isoformat()}..{(start + timedelta(days=6)).isoformat()}",
        "growth_30d": None,
        "growth_note": None,
    }
    positive = first > 0
    if positive.mean() < 0.95:
        out["growth_note"] = (
            f"undefined: {1 - positive.mean():.0%} of simulated paths expect no figure at "
            "all in the first week"
        )
        return out
    gr = np.quantile(later[positive] / first[positive], q)
    out["growth_30d"] = {"median": float(gr[0]), "lo95": float(gr[1]), "hi95": float(gr[2])}
    return out


def describe(
    model: FittedModel, *, n_paths: int = SUMMARY_PATHS, seed: SeedLike = SUMMARY_SEED
) -> dict[str, Any]:
    """``model.to_dict()`` and its :func:`summary_quantiles` (`n_paths` paths of `seed`) in one
    JSON-ready dict: what ``attrition fit`` and ``attrition explain`` print."""
    return {**model.to_dict(), **summary_quantiles(model, n_paths=n_paths, seed=seed)}


def _same(a: object, b: object) -> bool:
    """Equal values: arrays element by element and floats with NaN equal to NaN, inside
    mappings, tuples and lists too."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            return False
        return a.dtype == b.dtype and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return (
            type(a) is type(b)
            and len(a) == len(b)
            and all(_same(x, y) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True  # both NaN
    return bool(a == b)


def _num(x: float | None) -> float | None:
    if x is None or not np.isfinite(x):
        return None
    return float(x)


def pearson_diagnostics(y: np.ndarray, mu: np.ndarray, var: np.ndarray) -> dict[str, float]:
    """Dispersion and residual autocorrelation from Pearson residuals (y - mu) / sqrt(var)."""
    # Days with no variance at all (e.g. a naive model whose recent days are all 0) give no
    # information on the dispersion: left out rather than divided by a tiny floor.
    ok = var > 1e-9
    r = (y - mu)[ok] / np.sqrt(var[ok])
    out = {
        "dispersion": float(np.mean(r * r)) if r.size else float("nan"),
        "n_zero": float(np.sum(y == 0)),
    }
    rc = r - r.mean() if r.size else r
    denom = float(np.sum(rc * rc))
    for lag in (1, 7):
        out[f"acf{lag}"] = (
            float(np.sum(rc[lag:] * rc[:-lag]) / denom) if denom > 0 and len(r) > lag else 0.0
        )
    return out
