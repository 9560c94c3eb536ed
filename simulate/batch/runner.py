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
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ..errors import AttritionError, OutputError, ScenarioError, exit_code
from ..outputs.atomic import reserve
from ..outputs.backtestnote import resolve_backtest
from ..outputs.rundir import write_run
from ..pipeline import Prepared, RunResult, SeriesResult, check_size, merge_results, prepare
from ..scenarios import ScenarioFile, TableFormat, load_scenario_file
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
    #: With ``resume``: kept results that did not match (another key, a hash, a type, an
    #: older version's ``.pkl`` file), never used; their tasks were run again.
    discarded: int = 0
    #: With ``resume``: why the existing run directory was made again (None: there was none,
    #: or it was complete and left alone).
    redone: str | None = None
    #: Parts of the file the data left without effect (:attr:`Prepared.warnings`).
    warnings: tuple[str, ...] = ()


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
        elif path.exists():  # a file, or what loading it refuses with one line (a named pipe)
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
    backtest: str | os.PathLike[str] | None = None,
    table_format: TableFormat | None = None,
    cache: str | os.PathLike[str] | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    progress: Callable[[int], object] | None = None,
    on_total: Callable[[int], object] | None = None,
    on_interrupt: Callable[[int], object] | None = None,
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
        Joint trajectories to keep per scenario and series (``samples.parquet``); a file
        that simulates fewer paths fails with a usage error before any work.
    force
        Replace existing run directories.
    resume
        Skip files whose run directory is already complete and current: valid, and made from
        the same scenario file and data files (SHA-256), seed, paths, samples, charts, table
        format, cited backtest and tool version (:func:`.partial.stale`); redo the others, taking
        back the results kept from an interrupted run that match exactly (:mod:`.partial`).
    charts
        Override the files' ``outputs.charts``.
    backtest
        A backtest directory for every file's ``report.html`` (overrides ``outputs.backtest``);
        checked before any work.
    table_format
        ``csv`` or ``parquet``: override the files' ``outputs.format`` (how the run
        directory's tables are written).
    executor, scheduler
        ``local`` (worker processes) or ``dask``: tasks go to the Dask distributed scheduler at
        `scheduler` (e.g. ``tcp://127.0.0.1:8786``; ``None``: a local cluster of `jobs`
        workers). Results are identical either way.
    progress, on_total
        ``on_total(days)`` is called once with the number of days to simulate in all (over all
        tasks), then ``progress(days)`` as days are done.
    on_interrupt
        Called with the number of finished tasks kept for ``resume`` when the run is
        interrupted (``KeyboardInterrupt``, which is raised again).

    Returns
    -------
    list of Outcome
        One per scenario file, in input order. Nothing is raised for a failing file.

    Each (file, series) is split into tasks of at most :data:`CHUNK` scenarios (plus the
    reference); a task that fails for a reason other than bad input is retried once.

    Each run directory is held (:func:`simulate.outputs.atomic.reserve`) from the check that
    it does not exist, before any work, until it is written or its file fails: a second run
    into the same folder fails at once, and an unwritable folder is found before simulating.
    A file that fails for a reason resuming cannot fix (an :class:`AttritionError`) also
    loses its kept tasks; an interrupted run keeps them.
    """
    if jobs < 1:
        raise ValueError(f"`jobs` must be >= 1. Got: {jobs!r}")
    if executor not in ("local", "dask"):
        raise ValueError(f"`executor` must be 'local' or 'dask'. Got: {executor!r}")
    outcomes = [Outcome(p) for p in expand(inputs)]
    held: dict[int, ExitStack] = {}  # the run directories this process holds, by file
    batch: _Batch | None = None
    try:
        parsed = _parse(outcomes, Path(out), seed, paths, force=force, resume=resume, held=held)
        _check_samples(outcomes, parsed, samples, paths)
        for i in [i for i in held if i not in parsed]:  # refused: let go of its folder
            held.pop(i).close()
        prepared: dict[int, Prepared] = {}
        for i, sf in parsed.items():
            try:
                resolve_backtest(sf, backtest)  # refused now, not after simulating
                prepared[i] = prepare(sf, seed=seed, paths=paths, cache=cache)
                outcomes[i].warnings = prepared[i].warnings
                # what cannot fit is refused now, before any task starts
                check_size(prepared[i], samples=samples, jobs=jobs,
                           remote=executor == "dask" and scheduler is not None)  # fmt: skip
            except AttritionError as exc:
                prepared.pop(i, None)
                _failed(outcomes[i], exc)
                shutil.rmtree(partial.partial_dir(Path(out), sf.run.name), ignore_errors=True)
                held.pop(i).close()
        batch = _Batch(outcomes, prepared, Path(out), samples, force or resume, charts, held,
                       backtest, table_format)  # fmt: skip
        to_run = batch.resume() if resume else list(batch.tasks)
        if on_total is not None:
            on_total(sum(batch.days(t) for t in to_run))
        for i in prepared:
            if not outcomes[i].skipped and not any(t.file == i for t in to_run):
                batch.finish(i)  # every task was kept: write it now
        run_tasks(to_run, prepared, samples, executor=executor, jobs=jobs, scheduler=scheduler,
                  record=batch.record, progress=progress)  # fmt: skip
    except KeyboardInterrupt:
        if on_interrupt is not None:
            on_interrupt(0 if batch is None else sum(batch.kept.values()))
        raise
    finally:
        for stack in held.values():
            stack.close()
    return outcomes


def _parse(
    outcomes: list[Outcome],
    out: Path,
    seed: int | None,
    paths: int | None,
    *,
    force: bool,
    resume: bool,
    held: dict[int, ExitStack],
) -> dict[int, ScenarioFile]:
    """Read every file, check the run names are distinct and hold where the outputs go (in
    `held`); the files to run, by position (complete runs are skipped when resuming)."""
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
            # with resume, whether the run is complete and current is known once its data
            # are read (_Batch.resume)
            stack = ExitStack()
            stack.enter_context(reserve(target, force=force or resume, directory=True))
            held[i] = stack
            parsed[i] = sf
        except AttritionError as exc:
            _failed(o, exc)
    return parsed


def _check_samples(
    outcomes: list[Outcome], parsed: dict[int, ScenarioFile], samples: int, paths: int | None
) -> None:
    """Refuse, before any work, the files that would keep more trajectories than they
    simulate paths (a usage error: the file and both numbers are named)."""
    for i, sf in list(parsed.items()):
        n = sf.run.paths if paths is None else paths
        if samples > n:
            where = "run.paths" if paths is None else "--paths"
            _failed(outcomes[i], ScenarioError(outcomes[i].path, "--samples",
                    f"{samples} trajectories asked for, but the run simulates {n} paths "
                    f"({where}); at most {n} can be kept"))  # fmt: skip
            del parsed[i]


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
        held: dict[int, ExitStack],
        backtest: str | os.PathLike[str] | None = None,
        table_format: TableFormat | None = None,
    ) -> None:
        self.outcomes, self.prepared, self.samples = outcomes, prepared, samples
        self.force, self.charts, self.held, self.backtest = force, charts, held, backtest
        self.table_format = table_format
        #: Finished tasks kept on disk for a file not yet written, by file.
        self.kept = dict.fromkeys(prepared, 0)
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
        """Leave alone the files whose run directory is complete and current; take back the
        kept results of an interrupted run that match exactly; the tasks still to run."""
        for i, p in self.prepared.items():
            o = self.outcomes[i]
            assert o.run_dir is not None
            why = partial.stale(o.run_dir, p, self.samples, self.charts, self.table_format,
                                self.backtest)  # fmt: skip
            o.skipped, o.redone = why is None, why or None
            if o.skipped:  # left as it is: let go of its folder
                self._release(i)
        to_run = []
        used: dict[int, list[str]] = {i: [] for i in self.prepared}
        for t in self.tasks:
            if self.outcomes[t.file].skipped:
                continue
            kept = partial.load(self.partial[t.file], self.keys[t])
            if kept is None:
                to_run.append(t)
                continue
            used[t.file].append(self.keys[t])
            self.parts.setdefault((t.file, t.series), []).append(kept)
            self.outcomes[t.file].resumed_tasks += 1
            self.kept[t.file] += 1
        for i, keys in used.items():
            if not self.outcomes[i].skipped:
                self.outcomes[i].discarded = partial.unused(self.partial[i], keys)
        return to_run

    def record(self, t: Task, get: Callable[[], SeriesResult]) -> None:
        """Keep a finished task's result (or its file's error), then write the file if done."""
        o = self.outcomes[t.file]
        name = self.prepared[t.file].series[t.series].name
        try:
            got = get()
            if o.error is not None:  # the file has failed already: nothing more to keep
                return
            self.parts.setdefault((t.file, t.series), []).append(got)
            try:
                partial.save(self.partial[t.file], self.keys[t], got)
                self.kept[t.file] += 1
            except OutputError:  # only --resume needs the kept copy; writing the run says more
                pass
        except AttritionError as exc:
            self._failed(t.file, exc, prefix=f"series {name}: ")
        except Exception as exc:  # a task failed twice for another reason (e.g. a lost worker)
            # Resuming may well succeed: the finished tasks are kept.
            _failed(o, AttritionError(f"{type(exc).__name__}: {exc}"),
                    prefix=f"series {name}: task failed twice: ")  # fmt: skip
            self._release(t.file)
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
            write_run(result, o.run_dir, force=self.force, charts=self.charts,
                      backtest=self.backtest, table_format=self.table_format)  # fmt: skip
        except AttritionError as exc:
            self._failed(i, exc)
            return
        shutil.rmtree(self.partial[i], ignore_errors=True)
        self.kept[i] = 0
        self._release(i)
        o.headline = headline(result)
        o.reported_by = result.reported_by
        o.seconds = time.perf_counter() - self.started[i]

    def _failed(self, i: int, exc: AttritionError, prefix: str = "") -> None:
        """File `i` failed for a reason resuming cannot fix: its kept tasks go too."""
        _failed(self.outcomes[i], exc, prefix)
        shutil.rmtree(self.partial[i], ignore_errors=True)
        self.kept[i] = 0
        self._release(i)

    def _release(self, i: int) -> None:
        """Let go of file `i`'s run directory (its lock)."""
        stack = self.held.pop(i, None)
        if stack is not None:
            stack.close()


def _failed(o: Outcome, exc: AttritionError, prefix: str = "") -> None:
    if o.error is not None:
        return
    message = str(exc)
    # A located error already names its file; others are prefixed with the scenario file.
    o.error = message if message.startswith(str(o.path)) else f"{o.path}: {prefix}{message}"
    o.exit_code = exit_code(exc)
