"""Projection engine speed and memory (issue: engine; goals on the 2-core reference machine).

* speed: 100,000 paths x 365 days of one series, with all outputs, in no more than 2x (the
  scale issue; the run issue asked for 3x) the time NumPy takes in the same process to draw
  100,000 x 365 standard normals and partition them for the same quantiles (the "floor");
* memory: peak memory for 1,000,000 paths x 3,650 days under 2 GB (measured in a fresh
  subprocess, so this process's arrays do not count).

Run: ``python benchmarks/bench_engine.py`` (several minutes: the memory run simulates 3.65
billion figures); ``--quick`` for a smaller smoke run (20,000 paths, no repetitions, memory at
200,000 paths x 730 days) in under a minute. Prints the times, the ratios to the goals and
PASS/MISS; always exits 0 unless something crashes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial

import numpy as np

from simulate.data import load
from simulate.engine import _auto_block, simulate_scenarios
from simulate.models import DailySeries, FittedModel, ModelSpec, daily_series, fit
from simulate.scenarios import HUB_QUANTILES, Scenario

SPEED_GOAL = 2.0  # x the NumPy floor (the scale issue; the run issue asked for 3x)
MEMORY_GOAL_MB = 2048.0
SPEED_PATHS, SPEED_DAYS = 100_000, 365
MEMORY_PATHS, MEMORY_DAYS = 1_000_000, 3650
QUICK_SPEED_PATHS = 20_000
QUICK_MEMORY_PATHS, QUICK_MEMORY_DAYS = 200_000, 730
REPEATS = 3
KINDS = ("trend-nb", "local-trend", "naive")


def verdict(ratio: float, goal: float) -> str:
    return "PASS" if ratio <= goal else "MISS"


def best_of(repeats: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        work()
        times.append(time.perf_counter() - t0)
    return min(times)


def personnel() -> DailySeries:
    return daily_series(load("example"), "personnel")


def floor(n_paths: int, days: int) -> None:
    """Standard normals drawn block by block (the engine's block size), each day's quantiles
    taken twice (the engine's daily figure and cumulative total)."""
    rng = np.random.default_rng(1)
    levels = np.asarray(HUB_QUANTILES)
    block = _auto_block(n_paths)
    for d0 in range(0, days, block):
        x = rng.standard_normal((min(block, days - d0), n_paths))
        np.quantile(x, levels, axis=1)
        np.quantile(x, levels, axis=1)


def run_simulate_scenarios(
    model: FittedModel,
    s: DailySeries,
    n_paths: int,
    days: int,
    progress: Callable[[int], object] | None = None,
) -> None:
    simulate_scenarios(
        model,
        [Scenario("status-quo")],
        horizon=days,
        n_paths=n_paths,
        seed=1,
        series_key=0,
        levels=HUB_QUANTILES,
        thresholds=(model.last_total + 400_000,),
        record=float(s.y.max()),
        progress=progress,
    )


def run_pipeline(n_paths: int, days: int) -> tuple[float, float]:
    """Seconds of ``pipeline.run`` (load, fit, project) and of the three output tables."""
    from simulate.pipeline import run
    from simulate.scenarios import parse_scenario
    from simulate.summaries import contrasts_table, projections_table, summary_table

    sf = parse_scenario(
        {
            "run": {"name": "bench", "seed": 1, "paths": n_paths, "horizon": days},
            "data": {"source": "example", "series": ["personnel"]},
            "model": {"kind": "trend-nb"},
            "scenario": [{"name": "status-quo", "reference": True}],
        },
        source="bench",
    )
    t0 = time.perf_counter()
    result = run(sf)
    t1 = time.perf_counter()
    projections_table(result)
    summary_table(result)
    contrasts_table(result)
    return t1 - t0, time.perf_counter() - t1


def speed(quick: bool) -> None:
    n_paths = QUICK_SPEED_PATHS if quick else SPEED_PATHS
    repeats = 1 if quick else REPEATS
    days = SPEED_DAYS
    variant = " (quick variant)" if quick else ""
    print(
        f"\nspeed: {n_paths:,} paths x {days} days, {len(HUB_QUANTILES)} levels, "
        f"block {_auto_block(n_paths)} days, best of {repeats}{variant}"
    )
    floor(n_paths, 30)  # warm-up
    base = best_of(repeats, partial(floor, n_paths, days))
    print(f"{'what':<28}{'seconds':>9}{'x floor':>9}{'goal':>8}  verdict")
    print(f"{'numpy floor':<28}{base:>9.2f}{1.0:>9.2f}")
    s = personnel()
    for kind in KINDS:
        model = fit(ModelSpec(kind), s)  # type: ignore[arg-type]
        run_simulate_scenarios(model, s, n_paths, 30)  # warm-up
        sec = best_of(repeats, partial(run_simulate_scenarios, model, s, n_paths, days))
        r = sec / base
        row = f"{'project ' + kind:<28}{sec:>9.2f}{r:>9.2f}{'<= 2x':>8}  {verdict(r, SPEED_GOAL)}"
        print(row)
    run_pipeline(min(n_paths, 1000), 30)  # warm-up: imports, data loading
    runs = [run_pipeline(n_paths, days) for _ in range(repeats)]
    run_sec, table_sec = min(runs, key=sum)
    total = run_sec + table_sec
    r = total / base
    label = "pipeline trend-nb + tables"
    print(f"{label:<28}{total:>9.2f}{r:>9.2f}{'<= 2x':>8}  {verdict(r, SPEED_GOAL)}")
    print(f"  (pipeline.run {run_sec:.2f} s, the three tables {table_sec:.2f} s)")


def memory_child(n_paths: int, days: int) -> None:
    """In a fresh process: fit trend-nb, project, report peak RSS and seconds as JSON."""
    s = personnel()
    model = fit(ModelSpec("trend-nb"), s)
    done, step = 0, max(1, days // 10)
    marks = [step]

    def progress(n: int) -> None:
        nonlocal done
        done += n
        while done >= marks[0]:
            print(".", end="", file=sys.stderr, flush=True)
            marks[0] += step

    t0 = time.perf_counter()
    run_simulate_scenarios(model, s, n_paths, days, progress)
    seconds = time.perf_counter() - t0
    print(file=sys.stderr)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"paths": n_paths, "days": days, "peak_kib": peak_kib, "seconds": seconds}))


def memory(quick: bool) -> None:
    if quick:
        n_paths, days = QUICK_MEMORY_PATHS, QUICK_MEMORY_DAYS
    else:
        n_paths, days = MEMORY_PATHS, MEMORY_DAYS
    print(
        f"\nmemory: {n_paths:,} paths x {days:,} days, trend-nb, one scenario, "
        f"block {_auto_block(n_paths)} days, fresh subprocess"
    )
    if quick:
        print("  (quick variant: the goal is for 1,000,000 paths x 3,650 days)")
    sys.stdout.flush()
    print("  progress (a dot per 10% of days): ", end="", file=sys.stderr, flush=True)
    cmd = [sys.executable, __file__, "--memory-child", "--paths", str(n_paths), "--days", str(days)]
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    rep = json.loads(out.strip().splitlines()[-1])
    peak_mb = rep["peak_kib"] / 1024
    r = peak_mb / MEMORY_GOAL_MB
    print(f"{'peak MB':>9}{'limit MB':>10}{'ratio':>8}{'seconds':>9}  verdict")
    print(
        f"{peak_mb:>9.0f}{MEMORY_GOAL_MB:>10.0f}{r:>8.2f}{rep['seconds']:>9.1f}  {verdict(r, 1.0)}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller smoke run (< 1 minute)")
    ap.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--paths", type=int, default=MEMORY_PATHS, help=argparse.SUPPRESS)
    ap.add_argument("--days", type=int, default=MEMORY_DAYS, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory_child:
        memory_child(args.paths, args.days)
        return
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"{os.cpu_count()} CPUs, {platform.machine()}"
    )
    speed(args.quick)
    memory(args.quick)


if __name__ == "__main__":
    main()
