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
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NoReturn

import polars as pl

from ..errors import (
    AttritionError,
    ModelError,
    OutputExistsError,
    ScenarioError,
    SelectionError,
    SourceError,
)
from ..outputs.rundir import write_run
from ..pipeline import (
    Prepared,
    RunResult,
    SeriesResult,
    merge_results,
    prepare,
    project_series,
)
from ..scenarios import ScenarioFile, load_scenario_file
from ..summaries import headline

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
            o.run_dir = target
            if resume and _complete(target, o.path, sf, seed, paths):
                o.skipped = True
                continue
            if target.exists() and not (force or resume):
                raise OutputExistsError.at(target)
            parsed[i] = sf
        except AttritionError as exc:
            _failed(o, exc)
    prepared: dict[int, Prepared] = {}
    for i, sf in parsed.items():
        try:
            prepared[i] = prepare(sf, seed=seed, paths=paths, cache=cache)
        except AttritionError as exc:
            _failed(outcomes[i], exc)
    tasks: list[_Task] = []
    for i, p in prepared.items():
        names = [sc.name for sc in p.scenario_file.scenarios]
        groups = [names[c : c + CHUNK] for c in range(0, len(names), CHUNK)]
        for k in range(len(p.series)):
            tasks += [_Task(i, k, tuple(g), len(groups)) for g in groups]
    parts: dict[tuple[int, int], list[SeriesResult]] = {}
    started = {i: time.perf_counter() for i in prepared}
    force_write = force or resume
    # Every finished task is kept in a hidden folder beside the run directory until the run
    # directory is written, so that an interrupted run can be resumed task by task.
    partial = {i: Path(out) / f".{p.scenario_file.run.name}.partial" for i, p in prepared.items()}
    keys = {t: _task_key(prepared[t.file], t, samples) for t in tasks}
    if resume:
        done: list[_Task] = []
        for t in tasks:
            kept = _load_part(partial[t.file] / f"{keys[t]}.pkl")
            if kept is not None:
                parts.setdefault((t.file, t.series), []).append(kept)
                outcomes[t.file].resumed_tasks += 1
                done.append(t)
        tasks_to_run = [t for t in tasks if t not in done]
    else:
        tasks_to_run = list(tasks)
    if on_total is not None:
        on_total(
            sum(prepared[t.file].horizon(prepared[t.file].series[t.series]) for t in tasks_to_run)
        )

    def finish(i: int) -> None:
        o, p = outcomes[i], prepared[i]
        done = [len(parts.get((i, k), [])) for k in range(len(p.series))]
        expected = [
            sum(1 for t in tasks if (t.file, t.series) == (i, k)) for k in range(len(p.series))
        ]
        if o.error is not None or done != expected:
            return
        ordered = tuple(merge_results(parts[(i, k)]) for k in range(len(p.series)))
        seconds = time.perf_counter() - started[i]
        result = RunResult(p, ordered, samples, {"run_seconds": seconds})
        try:
            assert o.run_dir is not None
            write_run(result, o.run_dir, force=force_write, charts=charts)
        except AttritionError as exc:
            _failed(o, exc)
            return
        shutil.rmtree(partial[i], ignore_errors=True)
        o.headline = headline(result)
        o.reported_by = result.reported_by
        o.seconds = time.perf_counter() - started[i]

    def record(t: _Task, get: Callable[[], SeriesResult]) -> None:
        try:
            got = get()
            parts.setdefault((t.file, t.series), []).append(got)
            _save_part(partial[t.file] / f"{keys[t]}.pkl", got)
        except AttritionError as exc:
            name = prepared[t.file].series[t.series].name
            _failed(outcomes[t.file], exc, prefix=f"series {name}: ")
        except Exception as exc:  # a task failed twice for another reason (e.g. a lost worker)
            name = prepared[t.file].series[t.series].name
            _failed(outcomes[t.file], AttritionError(f"{type(exc).__name__}: {exc}"),
                    prefix=f"series {name}: task failed twice: ")  # fmt: skip
        finish(t.file)

    def days(t: _Task) -> int:
        return prepared[t.file].horizon(prepared[t.file].series[t.series])

    for i in prepared:
        if not any(t.file == i for t in tasks_to_run):  # every task was kept: write it now
            finish(i)
    if executor == "dask":
        _run_dask(tasks_to_run, prepared, samples, jobs, scheduler, record, progress, days)
    elif jobs == 1 or len(tasks_to_run) <= 1:
        for t in tasks_to_run:
            record(t, lambda t=t: _retry(lambda: project_series(  # type: ignore[misc]
                prepared[t.file], t.series, samples=samples, progress=progress,
                scenarios=t.scenarios)))  # fmt: skip
    else:
        _run_local(tasks_to_run, prepared, samples, jobs, record, progress, days)
    return outcomes


def _task_key(p: Prepared, t: _Task, samples: int) -> str:
    """What a task's result depends on, hashed: file, seed, paths, samples, series, scenarios."""
    import hashlib
    import json

    from .. import __version__

    doc = [__version__, p.scenario_sha256, p.seed, p.paths, samples, p.series[t.series].name,
           list(t.scenarios), [f.sha256 for f in p.data.files]]  # fmt: skip
    return hashlib.sha256(json.dumps(doc).encode()).hexdigest()[:32]


def _save_part(path: Path, result: SeriesResult) -> None:
    import pickle

    from ..outputs.atomic import atomic_write

    detached = replace(result, model=replace(result.model, path_factory=_detached))
    atomic_write(path, pickle.dumps(detached, protocol=pickle.HIGHEST_PROTOCOL), force=True)


def _load_part(path: Path) -> SeriesResult | None:
    """A kept task result (our own file, written atomically); None when absent or unreadable."""
    import pickle

    try:
        with path.open("rb") as fh:
            got = pickle.load(fh)  # noqa: S301 - written by this tool beside the run directory
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None
    return got if isinstance(got, SeriesResult) else None


#: Most scenarios (besides the reference) projected in one task.
CHUNK = 25


@dataclass(frozen=True)
class _Task:
    file: int
    series: int
    scenarios: tuple[str, ...]
    groups: int


def _retry(f: Callable[[], SeriesResult]) -> SeriesResult:
    try:
        return f()
    except AttritionError:
        raise
    except Exception:  # noqa: BLE001 - once more, then the error is the task's
        return f()


def _run_local(
    tasks: list[_Task],
    prepared: dict[int, Prepared],
    samples: int,
    jobs: int,
    record: Callable[[_Task, Callable[[], SeriesResult]], None],
    progress: Callable[[int], object] | None,
    days: Callable[[_Task], int],
) -> None:
    from concurrent.futures import as_completed

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=context) as pool:

        def submit(t: _Task) -> Future[SeriesResult]:
            return pool.submit(_task, prepared[t.file], t.series, samples, t.scenarios)

        futures = {submit(t): t for t in tasks}
        retried: set[_Task] = set()
        while futures:
            for fut in as_completed(list(futures)):
                t = futures.pop(fut)
                exc = fut.exception()
                if exc is not None and not isinstance(exc, AttritionError) and t not in retried:
                    retried.add(t)
                    try:
                        futures[submit(t)] = t
                        continue
                    except Exception:  # noqa: BLE001 - the pool itself is broken
                        pass
                record(t, fut.result)
                if progress is not None:
                    progress(days(t))


def _run_dask(
    tasks: list[_Task],
    prepared: dict[int, Prepared],
    samples: int,
    jobs: int,
    scheduler: str | None,
    record: Callable[[_Task, Callable[[], SeriesResult]], None],
    progress: Callable[[int], object] | None,
    days: Callable[[_Task], int],
) -> None:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise AttritionError(
            "--executor dask needs Dask distributed: pip install -e '.[dask]'"
        ) from None
    cluster = None
    try:
        if scheduler is None:
            cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                   host="127.0.0.1", dashboard_address=None)  # fmt: skip
            client = Client(cluster)
        else:
            client = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise AttritionError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from None
    try:
        shared = {i: client.scatter(p) for i, p in prepared.items()}
        futures = {
            client.submit(_task, shared[t.file], t.series, samples, t.scenarios,
                          retries=1, pure=False): t
            for t in tasks
        }  # fmt: skip
        for fut in as_completed(list(futures)):
            t = futures[fut]
            record(t, fut.result)
            if progress is not None:
                progress(days(t))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _complete(
    target: Path, path: Path, sf: ScenarioFile, seed: int | None, paths: int | None
) -> bool:
    """Whether `target` is a valid run of this very scenario file, seed and paths."""
    import json

    from ..fingerprint import file_sha256
    from ..outputs.validation import MANIFEST, validate_run

    if not (target / MANIFEST).is_file() or validate_run(target):
        return False
    m = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
    return bool(
        m["scenario_file"]["sha256"] == file_sha256(path)
        and m["run"]["seed"] == (sf.run.seed if seed is None else seed)
        and m["run"]["paths"] == (sf.run.paths if paths is None else paths)
    )


def _detached(*_args: object) -> NoReturn:
    raise ModelError(
        "this fitted model came back from a worker process without its path simulator; "
        "fit it again to simulate"
    )


def _task(
    prepared: Prepared, index: int, samples: int, scenarios: Sequence[str] | None = None
) -> SeriesResult:
    """One (file, series, scenarios) task in a worker; the fitted model's path simulator (a
    closure) stays behind, everything else comes back."""
    result = project_series(prepared, index, samples=samples, scenarios=scenarios)
    return replace(result, model=replace(result.model, path_factory=_detached))


def _failed(o: Outcome, exc: AttritionError, prefix: str = "") -> None:
    if o.error is not None:
        return
    message = str(exc)
    # A located error already names its file; others are prefixed with the scenario file.
    o.error = message if message.startswith(str(o.path)) else f"{o.path}: {prefix}{message}"
    o.exit_code = 2 if _usage(exc) else 1
