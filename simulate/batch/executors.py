"""Where a batch's tasks run: in this process, in local worker processes, or on Dask.

A task is one (scenario file, series, group of scenarios): :func:`simulate.pipeline.
project_series`, whose result depends only on the file, the seed and the names, never on
where or in which order it runs. Every executor follows one retry policy: a task that fails
for a reason other than bad input (:class:`~simulate.errors.AttritionError`) runs
:data:`RETRIES` more time(s); then its error is the task's. Results are handed to
``record(task, get)`` as they complete.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, as_completed, wait
from dataclasses import dataclass

from ..errors import AttritionError, ExecutorError
from ..pipeline import Prepared, SeriesResult, project_series

__all__ = ["CHUNK", "RETRIES", "Task", "Record", "run_tasks"]

#: Most scenarios (besides the reference) projected in one task.
CHUNK = 25
#: How often a task that failed for a reason other than bad input is run again.
RETRIES = 1


@dataclass(frozen=True)
class Task:
    """One unit of parallel work: series `series` of file `file`, for `scenarios`."""

    file: int
    series: int
    scenarios: tuple[str, ...]
    groups: int


#: ``record(task, get)``: ``get()`` returns the task's result or raises its error.
Record = Callable[[Task, Callable[[], SeriesResult]], None]


def run_tasks(
    tasks: list[Task],
    prepared: dict[int, Prepared],
    samples: int,
    *,
    executor: str,
    jobs: int,
    scheduler: str | None,
    record: Record,
    progress: Callable[[int], object] | None,
) -> None:
    """Run `tasks` on `executor` (``local``: this process when ``jobs == 1``, else worker
    processes; ``dask``: the scheduler at `scheduler`, or a local cluster of `jobs` workers)."""

    def days(t: Task) -> int:
        return prepared[t.file].horizon(prepared[t.file].series[t.series])

    if executor == "dask":
        _run_dask(tasks, prepared, samples, jobs, scheduler, record, progress, days)
    elif jobs == 1 or len(tasks) <= 1:
        for t in tasks:
            record(t, lambda t=t: retry(lambda: project_series(  # type: ignore[misc]
                prepared[t.file], t.series, samples=samples, progress=progress,
                scenarios=t.scenarios)))  # fmt: skip
    else:
        _run_local(tasks, prepared, samples, jobs, record, progress, days)


def retry(f: Callable[[], SeriesResult]) -> SeriesResult:
    """``f()``, run again up to :data:`RETRIES` times when it fails for a reason other than
    bad input."""
    for _ in range(RETRIES):
        try:
            return f()
        except AttritionError:
            raise
        except Exception:  # noqa: BLE001, S112 - once more, then the error is the task's
            continue
    return f()


def _run_local(
    tasks: list[Task],
    prepared: dict[int, Prepared],
    samples: int,
    jobs: int,
    record: Record,
    progress: Callable[[int], object] | None,
    days: Callable[[Task], int],
) -> None:
    """Run `tasks` in worker processes, handing each result to `record` as it completes.

    Ctrl-C reaches this process only (the workers ignore SIGINT, so a task is never failed by
    it): the tasks not started are cancelled, the ones in progress finish and are recorded
    (so they are kept for ``--resume``), then KeyboardInterrupt is raised again. A second
    Ctrl-C stops waiting for them.
    """
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        max_workers=min(jobs, len(tasks)), mp_context=context, initializer=_ignore_sigint
    )
    futures: dict[Future[SeriesResult], Task] = {}

    def submit(t: Task) -> None:
        futures[pool.submit(worker_task, prepared[t.file], t.series, samples, t.scenarios)] = t

    def done(fut: Future[SeriesResult]) -> None:
        t = futures.pop(fut)
        record(t, fut.result)
        if progress is not None:
            progress(days(t))

    try:
        for t in tasks:
            submit(t)
        tries: dict[Task, int] = {}
        while futures:
            # waits of at most a second: Ctrl-C is only seen between them
            finished, _ = wait(list(futures), timeout=1.0, return_when=FIRST_COMPLETED)
            for fut in finished:
                t = futures[fut]
                exc = fut.exception()
                if (exc is not None and not isinstance(exc, AttritionError)
                        and tries.get(t, 0) < RETRIES):  # fmt: skip
                    tries[t] = tries.get(t, 0) + 1
                    try:
                        del futures[fut]
                        submit(t)
                        continue
                    except Exception:  # noqa: BLE001 - the pool itself is broken
                        futures[fut] = t
                done(fut)
    except KeyboardInterrupt:
        for fut in list(futures):
            if fut.cancel():
                del futures[fut]
        for fut in as_completed(list(futures)):  # the tasks in progress: keep what they give
            if fut.exception() is None:
                done(fut)
        raise
    finally:
        pool.shutdown(wait=not futures, cancel_futures=True)


def _ignore_sigint() -> None:
    """In a worker process: leave Ctrl-C to the process that runs the batch."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_dask(
    tasks: list[Task],
    prepared: dict[int, Prepared],
    samples: int,
    jobs: int,
    scheduler: str | None,
    record: Record,
    progress: Callable[[int], object] | None,
    days: Callable[[Task], int],
) -> None:
    try:
        from distributed import Client, LocalCluster
        from distributed import as_completed as dask_completed
    except ImportError:
        raise ExecutorError(
            "--executor dask needs Dask distributed: pip install -e '.[dask]'"
        ) from None
    cluster = None
    try:
        if scheduler is None:
            cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                   host="127.0.0.1", dashboard_address=":0")  # fmt: skip
            client = Client(cluster)
        else:
            client = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise ExecutorError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from None
    try:
        shared = {i: client.scatter(p) for i, p in prepared.items()}
        futures = {
            client.submit(worker_task, shared[t.file], t.series, samples, t.scenarios,
                          retries=RETRIES, pure=False): t
            for t in tasks
        }  # fmt: skip
        for fut in dask_completed(list(futures)):
            t = futures[fut]
            record(t, fut.result)
            if progress is not None:
                progress(days(t))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def worker_task(
    prepared: Prepared, index: int, samples: int, scenarios: Sequence[str] | None = None
) -> SeriesResult:
    """One (file, series, scenarios) task in a worker process; the result (plain data, the
    fitted model included) comes back whole."""
    return project_series(prepared, index, samples=samples, scenarios=scenarios)
