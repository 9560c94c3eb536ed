"""Model-free references: ``naive`` (independent draws from the last k days) and
``bootstrap`` (moving blocks of the recent days). No parameters are estimated, so there is no
likelihood or AIC; their paths are reported figures already (``empirical`` observation)."""

from __future__ import annotations

import numpy as np

from .base import FittedModel, pearson_diagnostics
from .observation import ObservationModel
from .series import DailySeries
from .spec import ModelSpec

__all__ = ["fit_naive", "fit_bootstrap", "naive_paths", "bootstrap_paths"]


class _NaivePaths:
    def __init__(self, sample: np.ndarray, n_paths: int, rng: np.random.Generator) -> None:
        self.sample = sample.astype(np.float64)
        self.n = n_paths
        self.rng = rng

    def step(self, days: int) -> np.ndarray:
        idx = self.rng.integers(0, len(self.sample), size=(days, self.n))
        return self.sample[idx]


class _BlockPaths:
    """Moving-block bootstrap with blocks aligned on the origin: every `block` days each path
    draws a new block start, so the draws happen on fixed days whatever the step size."""

    def __init__(
        self, sample: np.ndarray, block: int, n_paths: int, rng: np.random.Generator
    ) -> None:
        self.sample = sample.astype(np.float64)
        self.block = min(block, len(sample))
        self.n = n_paths
        self.rng = rng
        self.day = 0
        self.starts = np.zeros(n_paths, dtype=np.int64)

    def step(self, days: int) -> np.ndarray:
        out = np.empty((days, self.n))
        n_starts = len(self.sample) - self.block + 1
        for i in range(days):  # a loop over days; every operation is over all paths
            offset = self.day % self.block
            if offset == 0:
                self.starts = self.rng.integers(0, n_starts, size=self.n)
            out[i] = self.sample[self.starts + offset]
            self.day += 1
        return out


def naive_paths(
    model: FittedModel,
    n_paths: int,
    _param: np.random.Generator,
    proc: np.random.Generator,
    _extra: np.random.Generator,
) -> _NaivePaths:
    """Paths of a fitted ``naive`` model (see :data:`~simulate.models.base.PATH_FUNCTIONS`)."""
    return _NaivePaths(model.path_inputs["sample"], n_paths, proc)


def bootstrap_paths(
    model: FittedModel,
    n_paths: int,
    _param: np.random.Generator,
    proc: np.random.Generator,
    _extra: np.random.Generator,
) -> _BlockPaths:
    """Paths of a fitted ``bootstrap`` model."""
    p = model.path_inputs
    return _BlockPaths(p["sample"], p["block"], n_paths, proc)


def _empirical_fit(
    spec: ModelSpec,
    s: DailySeries,
    sample: np.ndarray,
    path_inputs: dict[str, object],
    extra: dict[str, float],
) -> FittedModel:
    y = s.y.astype(np.float64)
    mean = float(sample.mean())
    sd = float(sample.std(ddof=1)) if len(sample) > 1 else 0.0
    mu = np.full(len(y), mean)
    diagnostics = pearson_diagnostics(y, mu, np.full(len(y), max(sd * sd, 1e-12)))
    return FittedModel.for_series(
        spec,
        s,
        params={"mean": mean, "sd": sd, **extra},
        stderr={"mean": sd / np.sqrt(len(sample)), "sd": float("nan")}
        | {k: float("nan") for k in extra},
        cov=None,
        loglik=None,
        aic=None,
        fitted=mu,
        observation=ObservationModel("empirical", granularity=s.granularity),
        diagnostics=diagnostics,
        path_inputs={"sample": sample, **path_inputs},
        empirical=sample.astype(np.float64),
    )


def fit_naive(spec: ModelSpec, s: DailySeries) -> FittedModel:
    """Each future day is drawn independently from the last ``k`` daily figures."""
    k = min(int(spec.option("k")), len(s.y))
    sample = s.y[-k:].copy()
    return _empirical_fit(spec, s, sample, {}, {"k": float(k)})


def fit_bootstrap(spec: ModelSpec, s: DailySeries) -> FittedModel:
    """Blocks of ``block`` consecutive days drawn from the last ``recent`` daily figures."""
    recent = min(int(spec.option("recent")), len(s.y))
    block = int(spec.option("block"))
    sample = s.y[-recent:].copy()
    return _empirical_fit(
        spec,
        s,
        sample,
        {"block": block},
        {"recent": float(recent), "block": float(min(block, recent))},
    )
