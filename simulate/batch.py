"""Run a batch of scenario files: validate all, then fit and project series in parallel.

The unit of parallel work is one (scenario file, series) task: :func:`simulate.pipeline.
project_series`, whose result depends only on the file, the seed and the series' name. Tasks
run in this process (``jobs=1``) or in ``jobs`` worker processes (started with ``spawn``, so
no thread state of the parent is inherited); each file's run directory is written by this
process once all its series are done. A failing file is reported and the others still run.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NoReturn

import polars as pl

from .errors import AttritionError, ModelError, ScenarioError, SelectionError, SourceError
from .outputs import OutputExistsError
from .pipeline import Prepared, RunResult, SeriesResult, prepare, project_series
from .rundir import write_run
from .scenarios import ScenarioFile, load_scenario_file
from .tables import headline

__all__ = ["Outcome", "expand", "run_batch", "DEFAULT_OUT"]

#: Where runs write by default: ``outputs/<run name>/``.
DEFAULT_OUT = Path("outputs")


@dataclass
class Outcome:
    """What became of one scenario file.

    ``exit_code`` is 0 (written and valid), 2 (the file or a named input is invalid, or its
    output exists) or 1 (its data or a model could not be used).
    """

    path: Path
    run_dir: Path | None = None
    error: str | None = None
    exit_code: int = 0
    headline: pl.DataFrame | None = None
    reported_by: str | None = None
    seconds: float = 0.0


def _usage(exc: AttritionError) -> bool:
    return isinstance(exc, ScenarioError | SourceError | SelectionError | OutputExistsError)


def expand(inputs: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Scenario files named, directories replaced by their ``*.toml`` files (sorted).

    Raises
    ------
    ScenarioError
        A path that does not exist, or a directory without scenario files.
    """
    out: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.glob("*.toml") if p.is_file())
            if not found:
                raise ScenarioError(path, "", "no scenario files (*.toml) in this directory")
            out += found
        elif path.is_file():
            out.append(path)
        else:
            raise ScenarioError(path, "", "no such file or directory")
    seen: set[Path] = set()
    unique = []
    for p in out:
        if p.resolve() not in seen:
            seen.add(p.resolve())
            unique.append(p)
    return unique


def run_batch(
    inputs: Sequence[str | os.PathLike[str]],
    *,
    out: str | os.PathLike[str] = DEFAULT_OUT,
    jobs: int = 1,
    seed: int | None = None,
    paths: int | None = None,
    samples: int = 0,
    force: bool = False,
    charts: bool | None = None,
    cache: str | os.PathLike[str] | None = None,
    progress: Callable[[int], object] | None = None,
    on_total: Callable[[int], object] | None = None,
) -> list[Outcome]:
    """Run scenario files and write one run directory each (``out/<run name>``).

    Parameters
    ----------
    inputs
        Scenario files and directories of them.
    jobs
        Worker processes (1: everything in this process).
    seed, paths
        Override every file's ``run.seed`` / ``run.paths``.
    samples
        Joint trajectories to keep per scenario and series (``samples.parquet``).
    force
        Replace existing run directories.
    charts
        Override the files' ``outputs.charts``.
    progress, on_total
        ``on_total(days)`` is called once with the number of days to simulate in all (over all
        series), then ``progress(days)`` as days are done.

    Returns
    -------
    list of Outcome
        One per scenario file, in input order. Nothing is raised for a failing file.
    """
    if jobs < 1:
        raise ValueError(f"`jobs` must be >= 1. Got: {jobs!r}")
    files = expand(inputs)
    outcomes = [Outcome(p) for p in files]
    parsed: dict[int, ScenarioFile] = {}
    targets: dict[Path, int] = {}
    for i, o in enumerate(outcomes):
        try:
            sf = load_scenario_file(o.path)
            target = Path(out) / sf.run.name
            if target.resolve() in targets:
                other = files[targets[target.resolve()]]
                raise ScenarioError(
                    o.path, "run.name", f"{sf.run.name!r} is also the run name of {other}"
                )
            targets[target.resolve()] = i
            if target.exists() and not force:
                raise OutputExistsError(f"{target}: already exists; use --force to replace it")
            o.run_dir = target
            parsed[i] = sf
        except AttritionError as exc:
            _failed(o, exc)
    prepared: dict[int, Prepared] = {}
    for i, sf in parsed.items():
        try:
            prepared[i] = prepare(sf, seed=seed, paths=paths, cache=cache)
        except AttritionError as exc:
            _failed(outcomes[i], exc)
    tasks = [(i, k) for i, p in prepared.items() for k in range(len(p.series))]
    if on_total is not None:
        on_total(sum(prepared[i].horizon(prepared[i].series[k]) for i, k in tasks))
    results: dict[int, dict[int, SeriesResult]] = {i: {} for i in prepared}
    started = {i: time.perf_counter() for i in prepared}

    def finish(i: int) -> None:
        o = outcomes[i]
        if o.error is not None or len(results[i]) != len(prepared[i].series):
            return
        p = prepared[i]
        ordered = tuple(results[i][k] for k in range(len(p.series)))
        seconds = time.perf_counter() - started[i]
        result = RunResult(p, ordered, samples, {"run_seconds": seconds})
        try:
            assert o.run_dir is not None
            write_run(result, o.run_dir, force=force, charts=charts)
        except AttritionError as exc:
            _failed(o, exc)
            return
        o.headline = headline(result)
        o.reported_by = result.reported_by
        o.seconds = time.perf_counter() - started[i]

    def record(i: int, k: int, get: Callable[[], SeriesResult]) -> None:
        try:
            results[i][k] = get()
        except AttritionError as exc:
            name = prepared[i].series[k].name
            _failed(outcomes[i], exc, prefix=f"series {name}: ")
        finish(i)

    if jobs == 1 or len(tasks) <= 1:
        for i, k in tasks:
            record(i, k, lambda i=i, k=k: project_series(  # type: ignore[misc]
                prepared[i], k, samples=samples, progress=progress))  # fmt: skip
        return outcomes
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=context) as pool:
        futures: dict[Future[SeriesResult], tuple[int, int]] = {
            pool.submit(_task, prepared[i], k, samples): (i, k) for i, k in tasks
        }
        from concurrent.futures import as_completed

        for fut in as_completed(futures):
            i, k = futures[fut]
            record(i, k, fut.result)
            if progress is not None:
                progress(prepared[i].horizon(prepared[i].series[k]))
    return outcomes


def _detached(*_args: object) -> NoReturn:
    raise ModelError(
        "this fitted model came back from a worker process without its path simulator; "
        "fit it again to simulate"
    )


def _task(prepared: Prepared, index: int, samples: int) -> SeriesResult:
    """One (file, series) task in a worker; the fitted model's path simulator (a closure)
    stays behind, everything else comes back."""
    result = project_series(prepared, index, samples=samples)
    return replace(result, model=replace(result.model, path_factory=_detached))


def _failed(o: Outcome, exc: AttritionError, prefix: str = "") -> None:
    if o.error is not None:
        return
    message = str(exc)
    # A located error already names its file; others are prefixed with the scenario file.
    o.error = message if message.startswith(str(o.path)) else f"{o.path}: {prefix}{message}"
    o.exit_code = 2 if _usage(exc) else 1
