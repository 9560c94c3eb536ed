"""What a run needs before it starts: its memory and time, estimated from its size.

A run that cannot fit is refused at once (by :mod:`simulate.pipeline`, which knows the file and
key to name), not after minutes of work with a ``MemoryError`` or a killed process. The
estimate is a sum of terms, each proportional to one dimension of the run, with constants
measured on the engine (peak resident memory, ``/usr/bin/time -f %M``; NumPy 2, Polars 1,
x86-64, 2 cores). ``P`` paths, ``S`` scenarios, ``L`` quantile levels, ``H`` days of horizon
per series, ``K`` kept sample paths:

* :data:`BASE_BYTES` per process (the interpreter with NumPy, SciPy, Polars imported: 110-140 MB
  measured);
* engine, per task (one series): :data:`BLOCK_ARRAYS` arrays of ``block x P`` figures (the
  engine keeps ``block x P`` near 4 million, so about 230 MB from 65,536 paths on), per-path
  model state (:data:`PATH_BYTES`: the ``analog`` model keeps 56 days per path and copies them
  at every segment boundary, about 1.9 kB; the others about 0.1 kB), per-path state of every
  scenario (:data:`SCENARIO_PATH_BYTES`), the per-day quantile tables (``3 x L`` floats per day
  and scenario) and the kept samples (``H x K`` per scenario);
* tables and files, in the process that writes the run (:data:`OUTPUT_DAY_BYTES` per day and
  series, :data:`OUTPUT_CELL_BYTES` per day, series, scenario and level: the hub tables have
  one row per day, scenario and level, and are built, written and read back to be validated),
  the per-path final totals of every scenario returned by each task, and the sample rows.

Time: :data:`PATH_DAY_SECONDS` per path, day and scenario (the slowest model, ``analog``:
1.4e-7 s measured) shared among the workers, plus :data:`OUTPUT_CELL_SECONDS` per table cell.

Measured peak memory (MiB) and time against :func:`estimate_run` (``attrition run``, one
series, 3 scenarios, 23 levels, 2 thresholds, charts off):

=======  =========  =======  ========  =========  =========  =========
model    paths      horizon  measured  estimated  measured   estimated
=======  =========  =======  ========  =========  =========  =========
analog   10,000     365      219       237        3.0 s      2.3 s
analog   100,000    365      569       619        18 s       17 s
analog   1,000,000  100      2,237     2,562      48 s       45 s
analog   1,000,000  30       1,451     2,556      19 s       14 s
analog   3,000,000  10       3,294     6,880      46 s       14 s
naive    1,000,000  30       550       839        11 s       14 s
analog   1,000      3,650    403       468        12 s       8.2 s
analog   100        36,500   2,602     3,275      60 s       67 s
=======  =========  =======  ========  =========  =========  =========

Memory errs on the high side: 1.1-1.3x, up to 2.1x when an ``analog`` horizon ends before
its first 90-day segment boundary (its per-path copies are then never made), never below the
measured peak here. Time is rougher (0.3-1.5x: fixed costs such as fitting are left out), and
only decides whether a run passes the time limit.

The memory available is ``MemAvailable`` of ``/proc/meminfo`` (else the free physical pages),
or ``$ATTRITION_MEMORY`` (bytes, or with a suffix: ``512M``, ``8G``) when set; the time limit
is :data:`MAX_HOURS` hours, or ``$ATTRITION_MAX_HOURS``. A run estimated to take longer is
refused as well: at that size it is almost always a typo (a power of ten too many), and a task
(one series) cannot be resumed half-way.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass

from .errors import SizeError
from .scenarios.config import HORIZON_UNIT, MAX_HORIZON, MAX_PATHS

__all__ = [
    "RunSize",
    "Estimate",
    "estimate_run",
    "estimate_full",
    "available_memory",
    "max_seconds",
    "shortfall",
    "largest",
    "check_run",
    "check_full",
    "check_bounds",
    "describe_bytes",
    "BASE_BYTES",
    "BLOCK_ARRAYS",
    "PATH_BYTES",
    "SCENARIO_PATH_BYTES",
    "OUTPUT_DAY_BYTES",
    "OUTPUT_CELL_BYTES",
    "FULL_PATH_DAY_BYTES",
    "PATH_DAY_SECONDS",
    "FULL_PATH_DAY_SECONDS",
    "OUTPUT_CELL_SECONDS",
    "MAX_HOURS",
]

#: One process with the package imported.
BASE_BYTES = 150 * 2**20
#: Arrays of ``block x paths`` float64 alive at once in the engine (intensity, factors, draws,
#: cumulative totals, the sorted copies of the quantiles, threshold masks).
BLOCK_ARRAYS = 7
#: Figures per block array (the engine's ``_BLOCK_FIGURES``): at most 64 days, at least one.
BLOCK_FIGURES = 1 << 22
#: Per-path state of a model's simulation, bytes.
PATH_BYTES: dict[str, int] = {"analog": 1_900}
#: Per-path state of any other model kind, bytes.
OTHER_PATH_BYTES = 100
#: Per-path state of each scenario (totals, record, month total, factor draws), bytes, plus 8
#: per threshold.
SCENARIO_PATH_BYTES = 100
#: Tables and validation per day and series, whatever the scenarios.
OUTPUT_DAY_BYTES = 16_000
#: Tables and validation per day, series, scenario and level (plus one for the mean).
OUTPUT_CELL_BYTES = 1_000
#: The sample rows (``inc`` and ``cum``) of one day, kept path and scenario, built, written
#: and validated (428 measured).
SAMPLE_CELL_BYTES = 480
#: Their time (1.7e-6 s measured).
SAMPLE_CELL_SECONDS = 2e-6
#: Whole-array simulation (:func:`simulate.models.simulate`, used by ``project`` and the
#: backtests): bytes per path and day (intensity, draws, totals, sorted copies; 32-44 measured).
FULL_PATH_DAY_BYTES = 48
#: Engine time per path, day and scenario, seconds.
PATH_DAY_SECONDS = 1.5e-7
#: Whole-array simulation time per path and day (3.3e-7 to 4.4e-7 measured), seconds.
FULL_PATH_DAY_SECONDS = 5e-7
#: Building, writing and validating one table cell (day x series x scenario x level), seconds.
OUTPUT_CELL_SECONDS = 25e-6
#: Longest run started without ``$ATTRITION_MAX_HOURS``, hours.
MAX_HOURS = 24.0


@dataclass(frozen=True)
class RunSize:
    """What decides how big a run is.

    Attributes
    ----------
    paths
        Simulated paths.
    horizons
        Days projected, one per series.
    scenarios
        Scenarios per series.
    levels
        Quantile levels.
    kind
        Model kind (``"auto"``: the largest).
    samples
        Sample paths kept per scenario and series.
    thresholds
        Thresholds per series (the most of any series).
    """

    paths: int
    horizons: tuple[int, ...]
    scenarios: int
    levels: int
    kind: str = "auto"
    samples: int = 0
    thresholds: int = 0


@dataclass(frozen=True)
class Estimate:
    """Peak memory (all processes of the run, bytes) and wall-clock time (seconds)."""

    bytes: int
    seconds: float


def _path_bytes(kind: str) -> int:
    if kind in PATH_BYTES:
        return PATH_BYTES[kind]
    if kind == "auto":
        return max([*PATH_BYTES.values(), OTHER_PATH_BYTES])
    return OTHER_PATH_BYTES


def _task_bytes(s: RunSize, horizon: int) -> int:
    """The engine's peak for one series."""
    block = max(1, min(64, BLOCK_FIGURES // max(s.paths, 1)))
    per_path = _path_bytes(s.kind) + s.scenarios * (SCENARIO_PATH_BYTES + 8 * s.thresholds)
    tables = horizon * s.scenarios * (3 * s.levels + 4) * 8
    kept = horizon * min(s.samples, s.paths) * s.scenarios * 8
    return BLOCK_ARRAYS * 8 * block * s.paths + per_path * s.paths + tables + kept


def _writer_bytes(s: RunSize) -> int:
    """Results gathered in the writing process, and the tables built from them."""
    days = sum(s.horizons)
    cells = days * s.scenarios * (s.levels + 1)
    finals = 2 * 8 * s.paths * s.scenarios * len(s.horizons)  # returned, and its pickle
    kept = SAMPLE_CELL_BYTES * days * min(s.samples, s.paths) * s.scenarios
    return OUTPUT_DAY_BYTES * days + OUTPUT_CELL_BYTES * cells + finals + kept


def estimate_run(s: RunSize, *, jobs: int = 1, remote: bool = False) -> Estimate:
    """Memory and time of a scenario run.

    Parameters
    ----------
    s
        The run's size.
    jobs
        Worker processes (1: the run is computed in the writing process). Each worker holds
        one series at a time.
    remote
        The tasks run on other machines (a Dask scheduler): only the writing process's
        memory is counted here, and the time is not estimated (0).

    Examples
    --------
    >>> e = estimate_run(RunSize(paths=10_000, horizons=(365,), scenarios=3, levels=23))
    >>> 0.1e9 < e.bytes < 0.5e9, e.seconds < 60
    (True, True)
    """
    if not s.horizons:
        return Estimate(BASE_BYTES, 0.0)
    tasks = max(_task_bytes(s, h) for h in s.horizons)
    writer = BASE_BYTES + _writer_bytes(s)
    cells = sum(s.horizons) * s.scenarios * (s.levels + 1)
    kept = sum(s.horizons) * min(s.samples, s.paths) * s.scenarios
    out_seconds = OUTPUT_CELL_SECONDS * cells + SAMPLE_CELL_SECONDS * kept
    if remote:
        return Estimate(writer, out_seconds)
    workers = min(jobs, len(s.horizons))
    engine = tasks if jobs == 1 else workers * (BASE_BYTES + tasks)
    path_days = s.paths * s.scenarios * sum(s.horizons)
    seconds = PATH_DAY_SECONDS * path_days / workers + out_seconds
    return Estimate(writer + engine, seconds)


def estimate_full(paths: int, horizon: int, *, kind: str = "auto", calls: int = 1) -> Estimate:
    """Memory and time of `calls` whole-array simulations of `paths` paths over `horizon` days
    (:func:`simulate.models.simulate`, one after the other), as ``project`` and the backtests
    do."""
    one = FULL_PATH_DAY_BYTES * paths * horizon + _path_bytes(kind) * paths
    return Estimate(BASE_BYTES + one, FULL_PATH_DAY_SECONDS * paths * horizon * calls)


_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", re.IGNORECASE)


def available_memory() -> int | None:
    """Bytes of memory a run may use: ``$ATTRITION_MEMORY``, else what the system has
    available; None when neither can be read (nothing is then refused for memory).

    Raises
    ------
    SizeError
        ``$ATTRITION_MEMORY`` is not a size.
    """
    raw = os.environ.get("ATTRITION_MEMORY")
    if raw:
        found = _SIZE.fullmatch(raw)
        if not found:
            raise SizeError("$ATTRITION_MEMORY", "", f"must be a size such as 8G, got {raw!r}")
        power = " kmgt".index(found.group(2).lower() or " ")
        return int(float(found.group(1)) * 1024**power)
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def max_seconds() -> float:
    """The longest run started: ``$ATTRITION_MAX_HOURS`` hours, else :data:`MAX_HOURS`.

    Raises
    ------
    SizeError
        ``$ATTRITION_MAX_HOURS`` is not a positive number.
    """
    raw = os.environ.get("ATTRITION_MAX_HOURS")
    if not raw:
        return MAX_HOURS * 3600
    try:
        hours = float(raw)
    except ValueError:
        hours = math.nan
    if not hours > 0 or math.isnan(hours):
        raise SizeError("$ATTRITION_MAX_HOURS", "", f"must be a number of hours > 0, got {raw!r}")
    return hours * 3600


def describe_bytes(n: float) -> str:
    """``2.1 GB``, ``350 MB``: decimal units, as people read them."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= size:
            return f"{n / size:,.1f} {unit}" if n < 10 * size else f"{n / size:,.0f} {unit}"
    return f"{n / 1e3:,.0f} kB"


def _describe_seconds(s: float) -> str:
    if s >= 3600:
        return f"{s / 3600:,.0f} hours"
    return f"{s / 60:,.0f} minutes" if s >= 60 else f"{s:.1f} seconds"


def shortfall(e: Estimate, *, memory: int | None, seconds: float) -> str | None:
    """Why `e` cannot run with `memory` bytes in `seconds` (None: it fits)."""
    if memory is not None and e.bytes > memory:
        return (
            f"the run needs about {describe_bytes(e.bytes)} of memory and "
            f"{describe_bytes(memory)} are available"
        )
    if e.seconds > seconds:
        return (
            f"the run would take about {_describe_seconds(e.seconds)}, more than the "
            f"{_describe_seconds(seconds)} allowed ($ATTRITION_MAX_HOURS)"
        )
    return None


def largest(
    size: Callable[[int], Estimate], upper: int, *, memory: int | None, seconds: float
) -> int:
    """The largest ``n`` in ``0 .. upper`` with ``size(n)`` fitting (``size`` grows with
    ``n``), rounded down to two significant digits; 0 when not even 1 fits.

    Examples
    --------
    >>> largest(lambda n: Estimate(n, 0.0), 10**9, memory=12_345_678, seconds=1.0)
    12000000
    """
    lo, hi = 0, upper
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if shortfall(size(mid), memory=memory, seconds=seconds) is None:
            lo = mid
        else:
            hi = mid - 1
    step: int = 10 ** max(len(str(lo)) - 2, 0)
    return lo // step * step


def _refuse(
    at: Callable[[int, int], Estimate],
    *,
    paths: int,
    horizon: int,
    file: str,
    paths_key: str,
    horizon_key: str,
    hints: Callable[[Estimate, int | None, float], list[str]] | None = None,
) -> Estimate:
    """``at(paths, horizon)`` when it fits; else raise :class:`SizeError` naming the key to
    change: the paths when fewer would fit, else the horizon."""
    memory, seconds = available_memory(), max_seconds()
    estimate = at(paths, horizon)
    why = shortfall(estimate, memory=memory, seconds=seconds)
    if why is None:
        return estimate
    n = largest(lambda k: at(k, horizon), paths - 1, memory=memory, seconds=seconds)
    if n >= 1:
        key, message = paths_key, f"{paths:,} paths: {why}; at most {n:,} paths fit"
    else:
        days = largest(lambda d: at(1, d), horizon - 1, memory=memory, seconds=seconds)
        fit = f"at most {days:,} days fit" if days else "not even one day fits"
        key, message = horizon_key, f"{horizon:,} days: {why}; {fit}"
    extra = hints(estimate, memory, seconds) if hints is not None else []
    if extra:
        message += f" (or use {' or '.join(extra)})"
    raise SizeError(file, key, message)


def check_run(
    s: RunSize,
    *,
    jobs: int = 1,
    remote: bool = False,
    file: str,
    paths_key: str,
    horizon_key: str,
) -> Estimate:
    """:func:`estimate_run` of `s`, or :class:`SizeError` when it cannot fit.

    The message names ``{file}: {paths_key}`` when fewer paths would fit (saying how many),
    else ``{file}: {horizon_key}`` with the longest horizon that fits; and whether fewer
    ``--jobs``, more of them or the Dask executor would help.
    """

    def at(paths: int, days: int, workers: int = jobs, samples: int = s.samples) -> Estimate:
        horizons = tuple(min(h, days) for h in s.horizons)
        changed = RunSize(paths, horizons, s.scenarios, s.levels, s.kind, samples,
                          s.thresholds)  # fmt: skip
        return estimate_run(changed, jobs=workers, remote=remote)

    longest = max(s.horizons, default=1)
    if s.samples:  # when the samples are what does not fit, say so
        memory, seconds = available_memory(), max_seconds()
        why = shortfall(at(s.paths, longest), memory=memory, seconds=seconds)
        if (
            why
            and shortfall(at(s.paths, longest, samples=0), memory=memory, seconds=seconds) is None
        ):
            k = largest(lambda n: at(s.paths, longest, samples=n), min(s.samples, s.paths) - 1,
                        memory=memory, seconds=seconds)  # fmt: skip
            raise SizeError(file, "--samples", f"{s.samples:,} samples: {why}; at most "
                            f"{k:,} samples fit")  # fmt: skip

    def hints(estimate: Estimate, memory: int | None, seconds: float) -> list[str]:
        out = []
        if jobs > 1 and not remote:
            fewer = largest(lambda j: at(s.paths, longest, j), jobs - 1,
                            memory=memory, seconds=seconds)  # fmt: skip
            if fewer >= 1:
                out.append(f"--jobs {fewer}")
        if memory is not None and estimate.bytes > memory:
            out.append("--executor dask with a scheduler on machines with more memory")
        else:
            out.append("more --jobs, or --executor dask")
        return out

    return _refuse(at, paths=s.paths, horizon=longest, file=file, paths_key=paths_key,
                   horizon_key=horizon_key, hints=hints)  # fmt: skip


def check_bounds(*, paths: int, horizon: int, file: str, paths_key: str, horizon_key: str) -> None:
    """:class:`SizeError` for paths or a horizon beyond the bounds a scenario file has
    (:data:`~simulate.scenarios.config.MAX_HORIZON`, ``MAX_PATHS``)."""
    if horizon > MAX_HORIZON:
        raise SizeError(
            file, horizon_key, f"must be at most {MAX_HORIZON:,} {HORIZON_UNIT}, got {horizon}"
        )
    if paths > MAX_PATHS:
        raise SizeError(file, paths_key, f"must be at most {MAX_PATHS:,}, got {paths}")


def check_full(
    *,
    paths: int,
    horizon: int,
    kind: str = "auto",
    calls: int = 1,
    file: str,
    paths_key: str,
    horizon_key: str,
) -> Estimate:
    """:func:`estimate_full`, or :class:`SizeError` for values beyond the bounds of a scenario
    file (:func:`check_bounds`) or a size that cannot fit (``project`` and the backtests)."""
    check_bounds(paths=paths, horizon=horizon, file=file, paths_key=paths_key,
                 horizon_key=horizon_key)  # fmt: skip

    def at(n: int, days: int) -> Estimate:
        return estimate_full(n, days, kind=kind, calls=calls)

    return _refuse(at, paths=paths, horizon=horizon, file=file, paths_key=paths_key,
                   horizon_key=horizon_key)  # fmt: skip
