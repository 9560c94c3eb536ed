"""Run a batch of scenario files: validate all, then fit and project series in parallel.

The unit of parallel work is one (scenario file, series, group of scenarios) task (see
:mod:`.executors`), whose result depends only on the file, the seed and the names. Each file's
run directory is written by this process once all its tasks are done; finished tasks are kept
(:mod:`.partial`) until then. A failing file is reported and the others still run.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ..errors import AttritionError, ScenarioError, exit_code
from ..outputs.atomic import check_target
from ..outputs.rundir import write_run
from ..pipeline import Prepared, RunResult, SeriesResult, check_size, merge_results, prepare
from ..scenarios import ScenarioFile, load_scenario_file
from ..summaries import headline
from . import partial
from .executors import CHUNK, Task, run_tasks

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
    #: With ``resume``: the run directory was already complete and was left alone.
    skipped: bool = False
    #: With ``resume``: tasks whose results were kept from an interrupted run.
    resumed_tasks: int = 0


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
    resume: bool = False,
    charts: bool | None = None,
    cache: str | os.PathLike[str] | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    progress: Callable[[int], object] | None = None,
    on_total: Callable[[int], object] | None = None,
) -> list[Outcome]:
    """Run scenario files and write one run directory each (``out/<run name>``).

    Parameters
    ----------
    inputs
        Scenario files and directories of them.
    jobs
        Worker processes of the local executor (1: everything in this process).
    seed, paths
        Override every file's ``run.seed`` / ``run.paths``.
    samples
        Joint trajectories to keep per scenario and series (``samples.parquet``).
    force
        Replace existing run directories.
    resume
        Skip files whose run directory is already complete: valid, and made from the same
        scenario file (SHA-256), seed and number of paths; redo the others.
    charts
        Override the files' ``outputs.charts``.
    executor, scheduler
        ``local`` (worker processes) or ``dask``: tasks go to the Dask distributed scheduler at
        `scheduler` (e.g. ``tcp://127.0.0.1:8786``; ``None``: a local cluster of `jobs`
        workers). Results are identical either way.
    progress, on_total
        ``on_total(days)`` is called once with the number of days to simulate in all (over all
        tasks), then ``progress(days)`` as days are done.

    Returns
    -------
    list of Outcome
        One per scenario file, in input order. Nothing is raised for a failing file.

    Each (file, series) is split into tasks of at most :data:`CHUNK` scenarios (plus the
    reference); a task that fails for a reason other than bad input is retried once.
    """
    if jobs < 1:
        raise ValueError(f"`jobs` must be >= 1. Got: {jobs!r}")
    if executor not in ("local", "dask"):
        raise ValueError(f"`executor` must be 'local' or 'dask'. Got: {executor!r}")
    outcomes = [Outcome(p) for p in expand(inputs)]
    parsed = _parse(outcomes, Path(out), seed, paths, force=force, resume=resume)
    prepared: dict[int, Prepared] = {}
    for i, sf in parsed.items():
        try:
            prepared[i] = prepare(sf, seed=seed, paths=paths, cache=cache)
            # what cannot fit is refused now, before any task starts or any folder is made
            check_size(prepared[i], samples=samples, jobs=jobs,
                       remote=executor == "dask" and scheduler is not None)  # fmt: skip
        except AttritionError as exc:
            prepared.pop(i, None)
            _failed(outcomes[i], exc)
    batch = _Batch(outcomes, prepared, Path(out), samples, force or resume, charts)
    to_run = batch.resume() if resume else list(batch.tasks)
    if on_total is not None:
        on_total(sum(batch.days(t) for t in to_run))
    for i in prepared:
        if not any(t.file == i for t in to_run):  # every task was kept: write it now
            batch.finish(i)
    run_tasks(to_run, prepared, samples, executor=executor, jobs=jobs, scheduler=scheduler,
              record=batch.record, progress=progress)  # fmt: skip
    return outcomes


def _parse(
    outcomes: list[Outcome],
    out: Path,
    seed: int | None,
    paths: int | None,
    *,
    force: bool,
    resume: bool,
) -> dict[int, ScenarioFile]:
    """Read every file, check the run names are distinct and where the outputs go; the files
    to run, by position (complete runs are skipped when resuming)."""
    parsed: dict[int, ScenarioFile] = {}
    targets: dict[Path, int] = {}
    for i, o in enumerate(outcomes):
        try:
            sf = load_scenario_file(o.path)
            target = out / sf.run.name
            if target.resolve() in targets:
                other = outcomes[targets[target.resolve()]].path
                raise ScenarioError(
                    o.path, "run.name", f"{sf.run.name!r} is also the run name of {other}"
                )
            targets[target.resolve()] = i
            o.run_dir = target
            if resume and partial.complete(target, o.path, sf, seed, paths):
                o.skipped = True
                continue
            check_target(target, force=force or resume, directory=True)
            parsed[i] = sf
        except AttritionError as exc:
            _failed(o, exc)
    return parsed


class _Batch:
    """The tasks of the prepared files, their finished results, and writing each file's run
    directory once all its tasks are done."""

    def __init__(
        self,
        outcomes: list[Outcome],
        prepared: dict[int, Prepared],
        out: Path,
        samples: int,
        force: bool,
        charts: bool | None,
    ) -> None:
        self.outcomes, self.prepared, self.samples = outcomes, prepared, samples
        self.force, self.charts = force, charts
        self.tasks: list[Task] = []
        for i, p in prepared.items():
            names = [sc.name for sc in p.scenario_file.scenarios]
            groups = [names[c : c + CHUNK] for c in range(0, len(names), CHUNK)]
            for k in range(len(p.series)):
                self.tasks += [Task(i, k, tuple(g), len(groups)) for g in groups]
        self.parts: dict[tuple[int, int], list[SeriesResult]] = {}
        self.started = {i: time.perf_counter() for i in prepared}
        self.partial = {
            i: partial.partial_dir(out, p.scenario_file.run.name) for i, p in prepared.items()
        }
        self.keys = {t: partial.task_key(prepared[t.file], t, samples) for t in self.tasks}

    def days(self, t: Task) -> int:
        return self.prepared[t.file].horizon(self.prepared[t.file].series[t.series])

    def resume(self) -> list[Task]:
        """Take back the kept results of an interrupted run; the tasks still to run."""
        to_run = []
        for t in self.tasks:
            kept = partial.load(self.partial[t.file] / f"{self.keys[t]}.pkl")
            if kept is None:
                to_run.append(t)
                continue
            self.parts.setdefault((t.file, t.series), []).append(kept)
            self.outcomes[t.file].resumed_tasks += 1
        return to_run

    def record(self, t: Task, get: Callable[[], SeriesResult]) -> None:
        """Keep a finished task's result (or its file's error), then write the file if done."""
        o = self.outcomes[t.file]
        name = self.prepared[t.file].series[t.series].name
        try:
            got = get()
            self.parts.setdefault((t.file, t.series), []).append(got)
            partial.save(self.partial[t.file] / f"{self.keys[t]}.pkl", got)
        except AttritionError as exc:
            _failed(o, exc, prefix=f"series {name}: ")
        except Exception as exc:  # a task failed twice for another reason (e.g. a lost worker)
            _failed(o, AttritionError(f"{type(exc).__name__}: {exc}"),
                    prefix=f"series {name}: task failed twice: ")  # fmt: skip
        self.finish(t.file)

    def finish(self, i: int) -> None:
        """Write file `i`'s run directory once every one of its tasks has a result."""
        o, p = self.outcomes[i], self.prepared[i]
        n = range(len(p.series))
        done = [len(self.parts.get((i, k), [])) for k in n]
        expected = [sum(1 for t in self.tasks if (t.file, t.series) == (i, k)) for k in n]
        if o.error is not None or done != expected:
            return
        ordered = tuple(merge_results(self.parts[(i, k)]) for k in n)
        seconds = time.perf_counter() - self.started[i]
        result = RunResult(p, ordered, self.samples, {"run_seconds": seconds})
        try:
            assert o.run_dir is not None
            write_run(result, o.run_dir, force=self.force, charts=self.charts)
        except AttritionError as exc:
            _failed(o, exc)
            return
        shutil.rmtree(self.partial[i], ignore_errors=True)
        o.headline = headline(result)
        o.reported_by = result.reported_by
        o.seconds = time.perf_counter() - self.started[i]


def _failed(o: Outcome, exc: AttritionError, prefix: str = "") -> None:
    if o.error is not None:
        return
    message = str(exc)
    # A located error already names its file; others are prefixed with the scenario file.
    o.error = message if message.startswith(str(o.path)) else f"{o.path}: {prefix}{message}"
    o.exit_code = exit_code(exc)
