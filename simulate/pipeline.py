"""A scenario file's run, in memory: reported data -> daily series -> fits -> projections.

The steps, each a function a notebook user can call:

* :func:`prepare` loads the file's data and builds one :class:`DailySeries` per series;
* :func:`project_series` fits the file's model to one series and projects it under every
  scenario (one independent task: the unit of parallel work);
* :func:`check_size` refuses, before any work, a run that cannot fit in the memory or time
  available (:mod:`simulate.budget`);
* :func:`run` does all three for every series and returns a :class:`RunResult`;
* :func:`explain` fits and returns the scenario-adjusted median intensity per month, without
  simulating any reported figures;
* :func:`plan_backtest` resolves a backtest (data, series, models with their baselines,
  origins, output directory) into a :class:`BacktestPlan` to inspect, and
  :func:`run_backtest` runs it.

Writing files is :mod:`simulate.outputs.rundir`'s job; tables are built by
:mod:`simulate.summaries`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from . import budget, fingerprint
from .data import ReportedData, load
from .data.policy import DataPolicy
from .data.sources import SOURCES
from .engine import Projection, scenario_draws, simulate_scenarios
from .errors import ScenarioError
from .evaluation.backtest import (
    BACKTEST_PATHS,
    DEFAULT_EVERY,
    DEFAULT_HORIZON,
    BacktestResult,
    backtest,
    default_origins,
)
from .evaluation.selection import AutoSpec, choose_model
from .fingerprint import file_sha256
from .models import DailySeries, FittedModel, ModelSpec, daily_series, fit
from .rng import name_key, paths_seed, seed_sequence
from .scenarios import ScenarioFile, adjustment_factors, load_scenario_file
from .scenarios.config import HORIZON_UNIT, MAX_HORIZON, MAX_PATHS
from .scenarios.effect import ineffective

__all__ = [
    "Prepared",
    "SeriesResult",
    "RunResult",
    "prepare",
    "check_size",
    "project_series",
    "run",
    "explain",
    "EXPLAIN_PATHS",
    "BacktestPlan",
    "plan_backtest",
    "run_backtest",
]

#: Intensity paths simulated by :func:`explain`.
EXPLAIN_PATHS = 2000


@dataclass(frozen=True, eq=False)
class Prepared:
    """A scenario file with its data loaded, ready to fit and project.

    Attributes
    ----------
    scenario_file
        The validated file.
    scenario_sha256
        SHA-256 of the file's bytes ("" when it was not read from a file).
    data
        The reported figures (all requested series), with provenance.
    series
        One prepared daily series per requested series, in the file's order.
    seed, paths
        Resolved seed and number of paths (the file's, unless overridden).
    warnings
        One line each, ``{file}: {key}: {what}``: parts of the file that the data make
        ineffective (``run.as_of`` after the last reported day, an adjustment that ends before
        the first projected day). The CLI prints them and the manifest records them.
    """

    scenario_file: ScenarioFile
    scenario_sha256: str
    data: ReportedData
    series: tuple[DailySeries, ...]
    seed: int
    paths: int
    warnings: tuple[str, ...] = ()

    def horizon(self, s: DailySeries) -> int:
        """Days to project after the series' last report used."""
        run = self.scenario_file.run
        if run.horizon is not None:
            return run.horizon
        assert run.end is not None
        days = (run.end - s.end).days
        if days < 1:
            raise ScenarioError(
                self.scenario_file.source,
                "run.end",
                f"must be after the last report used for {s.name} ({s.end}), got {run.end}",
            )
        if days > MAX_HORIZON:
            raise ScenarioError(
                self.scenario_file.source,
                "run.end",
                f"must be at most {MAX_HORIZON:,} {HORIZON_UNIT} after the last report used "
                f"for {s.name} ({s.end}), got {run.end} ({days:,} days)",
            )
        return days


@dataclass(frozen=True, eq=False)
class SeriesResult:
    """One series of a run: its data, fitted model and one projection per scenario."""

    series: DailySeries
    model: FittedModel
    projections: dict[str, Projection]
    record: int
    seconds: float
    #: With ``kind = "auto"``: the chosen kind and every candidate's mean WIS.
    choice: dict[str, object] | None = None
    #: The numerical platforms that fitted and simulated the series (one, unless its scenarios
    #: were split over workers of a mixed cluster); see :mod:`simulate.fingerprint`.
    platforms: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, eq=False)
class RunResult:
    """Everything a run computed, before anything is written."""

    prepared: Prepared
    results: tuple[SeriesResult, ...]
    samples: int
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def scenario_file(self) -> ScenarioFile:
        return self.prepared.scenario_file

    @property
    def reported_by(self) -> str:
        return self.prepared.data.reported_by

    @property
    def warnings(self) -> tuple[str, ...]:
        """The prepared file's warnings (see :attr:`Prepared.warnings`)."""
        return self.prepared.warnings


def data_ref(sf: ScenarioFile) -> str:
    """``data.source``: a source name, or a path taken relative to the scenario file."""
    ref = sf.data.source
    if ref in SOURCES or Path(ref).is_absolute():
        return ref
    beside = Path(sf.source).parent / ref
    return str(beside) if beside.exists() else ref


def prepare(
    scenario: ScenarioFile | str | Path,
    *,
    seed: int | None = None,
    paths: int | None = None,
    cache: str | os.PathLike[str] | None = None,
) -> Prepared:
    """Load a scenario file's data and build its daily series.

    Parameters
    ----------
    scenario
        A validated :class:`ScenarioFile` or the path of a scenario file.
    seed, paths
        Override the file's ``run.seed`` and ``run.paths``.
    cache
        Cache directory of fetched sources.

    Raises
    ------
    AttritionError
        Invalid file, unreadable or unsuitable data (one-line message naming where).
    """
    sf = scenario if isinstance(scenario, ScenarioFile) else load_scenario_file(scenario)
    digest = file_sha256(Path(sf.source)) if Path(sf.source).is_file() else ""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ScenarioError(sf.source, "--seed", f"must be a whole number >= 0, got {seed!r}")
    if paths is not None and (isinstance(paths, bool) or not isinstance(paths, int) or paths < 1):
        raise ScenarioError(sf.source, "--paths", f"must be a whole number >= 1, got {paths!r}")
    if paths is not None and paths > MAX_PATHS:
        raise ScenarioError(sf.source, "--paths", f"must be at most {MAX_PATHS:,}, got {paths}")
    data = load(
        data_ref(sf), series=list(sf.data.series), reported_by=sf.data.reported_by, cache=cache
    )
    series = tuple(
        daily_series(data, name, as_of=sf.run.as_of, policy=sf.data.policy)
        for name in sf.data.series
    )
    prepared = Prepared(
        scenario_file=sf,
        scenario_sha256=digest,
        data=data,
        series=series,
        seed=sf.run.seed if seed is None else seed,
        paths=sf.run.paths if paths is None else paths,
        warnings=ineffective(sf, data, series),
    )
    for s in series:
        prepared.horizon(s)  # a bad end date fails before any work
    return prepared


def check_size(
    prepared: Prepared, *, samples: int = 0, jobs: int = 1, remote: bool = False
) -> budget.Estimate:
    """Refuse, before any work, a run that cannot fit in the memory or time available.

    Parameters
    ----------
    prepared
        The prepared file (its paths, horizons, scenarios, levels and model).
    samples, jobs, remote
        Kept sample paths; worker processes; whether the tasks run on other machines (a Dask
        scheduler), when only this process's share is checked. See
        :func:`simulate.budget.estimate_run`.

    Returns
    -------
    simulate.budget.Estimate
        The run's estimated peak memory and time, when it fits.

    Raises
    ------
    SizeError
        One line naming the file and the key to change (``run.paths``, ``--paths``,
        ``run.horizon`` or ``run.end``), what the run needs, what is available, and what
        would fit.
    """
    sf = prepared.scenario_file
    size = budget.RunSize(
        paths=prepared.paths,
        horizons=tuple(prepared.horizon(s) for s in prepared.series),
        scenarios=len(sf.scenarios),
        levels=len(sf.outputs.quantiles),
        kind=sf.model.kind,  # with kind = "auto", the analog model
        samples=samples,
        thresholds=max((len(sf.outputs.thresholds_for(s.name)) for s in prepared.series),
                       default=0),
    )  # fmt: skip
    return budget.check_run(
        size, jobs=jobs, remote=remote, file=sf.source,
        paths_key="run.paths" if prepared.paths == sf.run.paths else "--paths",
        horizon_key="run.horizon" if sf.run.horizon is not None else "run.end",
    )  # fmt: skip


def project_series(
    prepared: Prepared,
    index: int,
    *,
    samples: int = 0,
    progress: Callable[[int], object] | None = None,
    scenarios: Sequence[str] | None = None,
) -> SeriesResult:
    """Fit the file's model to series `index` and project it under every scenario (or those
    named in `scenarios`; the reference is always projected too, for the contrasts).

    Depends only on the prepared inputs, the seed, the series' name and the scenarios' names:
    the same result in any process, in any order and in any grouping of the scenarios
    (:func:`merge_results` joins the parts). `samples` (trajectories kept) must not exceed
    the paths (:class:`~simulate.errors.ScenarioError` otherwise).
    """
    start = time.perf_counter()
    sf = prepared.scenario_file
    s = prepared.series[index]
    if samples > prepared.paths:  # never capped silently: the manifest records `samples`
        raise ScenarioError(sf.source, "samples", f"{samples} trajectories asked for, but the "
                            f"run simulates {prepared.paths} paths; at most {prepared.paths} "
                            "can be kept")  # fmt: skip
    spec, choice = model_spec(prepared, s)
    model = fit(spec, s)
    record = int(s.y.max())
    chosen = sf.scenarios
    if scenarios is not None:
        wanted = {*scenarios, sf.reference.name}
        chosen = tuple(sc for sc in sf.scenarios if sc.name in wanted)
    projections = simulate_scenarios(
        model,
        chosen,
        horizon=prepared.horizon(s),
        n_paths=prepared.paths,
        seed=prepared.seed,
        series_key=name_key(s.name),
        levels=sf.outputs.quantiles,
        thresholds=sf.outputs.thresholds_for(s.name),
        record=record,
        reference=sf.reference.name,
        keep_paths=samples,
        progress=progress,
    )
    seconds = time.perf_counter() - start
    return SeriesResult(
        s, model, projections, record, seconds, choice, (fingerprint.numerical_platform(),)
    )


def merge_results(parts: Sequence[SeriesResult]) -> SeriesResult:
    """Join the results of one series projected in several groups of scenarios, in the file's
    scenario order (a scenario computed in two groups is the same in both)."""
    first = parts[0]
    platforms = [fp for part in parts for fp in part.platforms]
    projections: dict[str, Projection] = {}
    for part in parts:
        projections.update(part.projections)
    return SeriesResult(
        first.series,
        first.model,
        projections,
        first.record,
        sum(p.seconds for p in parts),
        first.choice,
        tuple(fp for i, fp in enumerate(platforms) if fp not in platforms[:i]),
    )


def model_spec(prepared: Prepared, s: DailySeries) -> tuple[ModelSpec, dict[str, object] | None]:
    """The model of series `s`: the file's, or with ``kind = "auto"`` the analog model with
    drift only where the series' own past gives evidence for it
    (:func:`simulate.evaluation.selection.choose_model`), with the record of the choice."""
    sf = prepared.scenario_file
    if not sf.auto_model:
        return sf.model, None
    return choose_model(s, spec=sf.model)


def run(
    scenario: ScenarioFile | str | Path,
    *,
    seed: int | None = None,
    paths: int | None = None,
    samples: int = 0,
    cache: str | os.PathLike[str] | None = None,
    progress: Callable[[int], object] | None = None,
) -> RunResult:
    """Run a scenario file in this process and return the results (nothing is written).

    `progress` is called with the number of days simulated, block by block, series by series
    (a run simulates ``sum of horizons`` days in all).

    Examples
    --------
    >>> from simulate.scenarios import parse_scenario
    >>> sf = parse_scenario({
    ...     "run": {"name": "doc", "seed": 1, "paths": 200, "horizon": 30},
    ...     "data": {"source": "example", "series": ["personnel"]},
    ...     "model": {"kind": "trend-nb"},
    ...     "scenario": [{"name": "status-quo"}],
    ... }, source="doc.toml")
    >>> result = run(sf)
    >>> p = result.results[0].projections["status-quo"]
    >>> p.cum_quantiles.shape
    (30, 23)
    """
    t0 = time.perf_counter()
    prepared = prepare(scenario, seed=seed, paths=paths, cache=cache)
    check_size(prepared, samples=samples)  # refuse what cannot fit, before any work
    t1 = time.perf_counter()
    results = tuple(
        project_series(prepared, i, samples=samples, progress=progress)
        for i in range(len(prepared.series))
    )
    timings = {"prepare_seconds": t1 - t0, "project_seconds": time.perf_counter() - t1}
    return RunResult(prepared, results, samples, timings)


def explain(
    prepared: Prepared, *, n_paths: int = EXPLAIN_PATHS
) -> tuple[list[FittedModel], pl.DataFrame]:
    """Fit every series and tabulate the scenario-adjusted median intensity per month.

    The intensity is the expected reported daily figure (no observation noise), with the
    model's parameter and process uncertainty and each scenario's factors applied path by path
    (:data:`EXPLAIN_PATHS` paths). For each calendar month of the horizon the table gives the
    median over paths of the month's mean daily intensity.

    Returns
    -------
    (models, table)
        The fitted models in series order, and a table with columns ``series``, ``scenario``,
        ``month``, ``days`` (days of the month inside the horizon), ``median_daily``
        (median over paths of the mean expected daily figure) and ``median_month_total``
        (median over paths of the month's expected total).
    """
    sf = prepared.scenario_file
    models: list[FittedModel] = []
    rows: list[dict[str, object]] = []
    for s in prepared.series:
        model = fit(model_spec(prepared, s)[0], s)
        models.append(model)
        horizon = prepared.horizon(s)
        key = name_key(s.name)
        dates = np.datetime64(model.origin + timedelta(days=1), "D") + np.arange(horizon)
        seed = seed_sequence(prepared.seed)
        # the engine's keys: the intensity paths of the run's first `n_paths` paths
        mu = model.start_paths(n_paths, seed=paths_seed(seed, key)).step(horizon)
        months = dates.astype("datetime64[M]")
        edges = np.flatnonzero(np.diff(months.astype(np.int64))) + 1
        bounds = list(zip(np.r_[0, edges], np.r_[edges, horizon], strict=True))
        for sc in sf.scenarios:
            draws = scenario_draws(sc, seed, key, n_paths)
            adjusted = mu * adjustment_factors(sc, dates, draws, n_paths=n_paths)
            for i, j in bounds:
                month_mean = adjusted[i:j].mean(axis=0)
                rows.append(
                    {
                        "series": s.name,
                        "scenario": sc.name,
                        "month": str(months[i]),
                        "days": int(j - i),
                        "median_daily": float(np.median(month_mean)),
                        "median_month_total": float(np.median(month_mean * (j - i))),
                    }
                )
    return models, pl.DataFrame(rows)


@dataclass(frozen=True, eq=False)
class BacktestPlan:
    """A backtest resolved before anything is fitted: what :func:`run_backtest` will do.

    Attributes
    ----------
    data, series, policy
        The reported figures, the series to backtest and the data policy (None: as reported).
    specs
        The models compared, then the baselines ``naive`` and ``bootstrap`` (each kind once).
    origins
        The origins, each with a full horizon of reported figures after it in some series.
    horizon, n_paths, seed
        Days projected from each origin, simulated paths, and the seed of every stream.
    out
        The output directory (:func:`simulate.outputs.backtestdir.write_backtest` writes it).
    reference_model
        The model whose bands are charted.
    config
        What the backtest directory's manifest records as its configuration.
    """

    data: ReportedData
    series: tuple[str, ...]
    specs: tuple[ModelSpec | AutoSpec, ...]
    origins: tuple[date, ...]
    horizon: int
    n_paths: int
    seed: int
    policy: DataPolicy | None
    out: Path
    reference_model: str
    config: dict[str, object]


def plan_backtest(
    inputs: Sequence[str],
    *,
    series: Sequence[str] | None = None,
    models: Sequence[str] | None = None,
    window: int | None = None,
    every: int = DEFAULT_EVERY,
    horizon: int = DEFAULT_HORIZON,
    start: date | None = None,
    end: date | None = None,
    train_start: date | None = None,
    n_paths: int = BACKTEST_PATHS,
    seed: int | None = None,
    out: str | os.PathLike[str] | None = None,
    cache: str | os.PathLike[str] | None = None,
) -> BacktestPlan:
    """Resolve a rolling-origin backtest of a scenario file, or of data files / source names.

    Parameters
    ----------
    inputs
        One scenario file (``.toml``: its data, series, data policy, model, run name and
        seed are the defaults), or data files and source names.
    series, models, window, seed
        Override the file's (defaults without a file: ``personnel``, ``auto``, 180 days, 0).
        ``naive`` and ``bootstrap`` are always added as baselines.
    every, horizon, start, end
        Origins every `every` days from `start` to `end` (see
        :func:`simulate.evaluation.backtest.default_origins`), each leaving `horizon` days.
    train_start
        Ignore figures before this date (the data policy's ``start``).
    out
        Output directory (default: ``outputs/<name>-backtest``, named after the run or the
        source).

    Raises
    ------
    AttritionError
        An invalid file, unreadable data or an unknown series; :class:`SizeError` for a
        backtest that cannot fit in the memory or time available.
    """
    sf_given = len(inputs) == 1 and inputs[0].endswith(".toml")
    if sf_given:
        sf = load_scenario_file(inputs[0])
        data = load(data_ref(sf), series=list(sf.data.series),
                    reported_by=sf.data.reported_by, cache=cache)  # fmt: skip
        names = list(series or sf.data.series)
        policy = sf.data.policy
        base = sf.model if window is None else replace(sf.model, window=window)
        kinds = list(models or ["auto" if sf.auto_model else sf.model.kind])
        name = f"{sf.run.name}-backtest"
        seed = sf.run.seed if seed is None else seed
    else:
        names = list(series or ["personnel"])
        data = load(*inputs, series=names, cache=cache)
        policy = None
        base = ModelSpec("analog", window=window or 180)
        kinds = list(models or ["auto"])
        name = f"{data.source}-backtest"
        seed = 0 if seed is None else seed
    if train_start is not None:
        policy = replace(policy or DataPolicy(), start=train_start)
    specs: list[ModelSpec | AutoSpec] = []
    for k in [*kinds, "naive", "bootstrap"]:
        if k in [s.kind for s in specs]:
            continue
        if k == "auto":  # the analog model, with the file's analog options but drift
            analog = {o: v for o, v in base.options.items() if o != "drift"}
            specs.append(AutoSpec(ModelSpec("analog", window=base.window, options=(
                analog if base.kind == "analog" else {}))))  # fmt: skip
            continue
        opts = base.options if k == base.kind else {}
        specs.append(ModelSpec(k, window=base.window, options=opts))  # type: ignore[arg-type]
    ends = {n: daily_series(data, n, policy=policy).end for n in names}
    origins = sorted(
        {
            d
            for n in names
            for d in default_origins(ends[n], horizon=horizon, every=every, start=start, last=end)
        }
    )
    budget.check_bounds(paths=n_paths, horizon=horizon, file=inputs[0] if sf_given else
                        "backtest", paths_key="--paths", horizon_key="--horizon")  # fmt: skip
    target = Path(out) if out is not None else Path("outputs") / name
    config: dict[str, object] = {
        "inputs": list(inputs),
        "every": every,
        "horizon": horizon,
        "train_start": None if train_start is None else train_start.isoformat(),
        "models": [s.to_dict() for s in specs],
    }
    return BacktestPlan(
        data=data, series=tuple(names), specs=tuple(specs), origins=tuple(origins),
        horizon=horizon, n_paths=n_paths, seed=seed, policy=policy, out=target,
        reference_model=kinds[0], config=config,
    )  # fmt: skip


def run_backtest(
    plan: BacktestPlan, *, progress: Callable[[int], object] | None = None
) -> BacktestResult:
    """Run a :class:`BacktestPlan` (:func:`simulate.evaluation.backtest.backtest`); write the
    result with :func:`simulate.outputs.backtestdir.write_backtest`.

    A backtest that cannot fit in the memory or time available is refused first
    (:class:`~simulate.errors.SizeError`, naming ``--paths`` or ``--horizon``).
    """
    inputs = [str(i) for i in plan.config["inputs"]]  # type: ignore[attr-defined]
    budget.check_full(
        paths=plan.n_paths, horizon=plan.horizon,
        calls=len(plan.origins) * len(plan.series) * len(plan.specs),
        file=inputs[0] if len(inputs) == 1 and inputs[0].endswith(".toml") else "backtest",
        paths_key="--paths", horizon_key="--horizon",
    )  # fmt: skip
    return backtest(
        plan.data, plan.series, plan.specs, origins=plan.origins, horizon=plan.horizon,
        n_paths=plan.n_paths, seed=plan.seed, policy=plan.policy, progress=progress,
    )  # fmt: skip
