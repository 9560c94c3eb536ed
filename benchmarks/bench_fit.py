"""Fit speed of every model on a 1,500-day series (issue: models; goal < 50 ms for
trend-nb and local-trend on the 2-core reference machine).

Run: ``python benchmarks/bench_fit.py`` (uses ../shared/data when present, else synthetic
figures only). Prints the median of repeated fits and the ratio to the 50 ms goal.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

from simulate.models import MODEL_KINDS, DailySeries, ModelSpec, fit

GOAL_MS = 50.0
REPEATS = 7
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "general-staff"


def synthetic(days: int = 1500) -> DailySeries:
    rng = np.random.default_rng(np.random.SeedSequence(2024))
    t = np.arange(days)
    mu = 600 * np.exp(0.0006 * t + 0.2 * np.sin(t / 180))
    y = rng.poisson(rng.gamma(30, mu / 30))
    return DailySeries.from_counts(np.round(y / 10).astype(np.int64) * 10, name="synthetic")


def series_to_bench() -> list[DailySeries]:
    out = [synthetic()]
    if SHARED.is_dir():
        from simulate.data import load
        from simulate.models import daily_series

        data = load(SHARED / "russia_losses_personnel.petroivaniuk.json")
        out.append(daily_series(data, "personnel"))
    else:
        print(f"(no real data at {SHARED}: synthetic series only)", file=sys.stderr)
    return out


def time_fit(spec: ModelSpec, s: DailySeries) -> float:
    fit(spec, s)  # warm-up: imports, caches
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        fit(spec, s)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    print(f"{'series':<26}{'days':>6}  {'model':<13}{'window':>8}{'ms':>10}{'ms / goal':>11}")
    for s in series_to_bench():
        for window in (None, 180):
            for kind in MODEL_KINDS:
                ms = time_fit(ModelSpec(kind, window=window), s)  # type: ignore[arg-type]
                n = len(s.y) if window is None else min(window, len(s.y))
                name = f"{s.name} ({s.source})"
                print(f"{name:<26}{n:>6}  {kind:<13}{n:>8}{ms:>10.1f}{ms / GOAL_MS:>11.2f}")


if __name__ == "__main__":
    main()
