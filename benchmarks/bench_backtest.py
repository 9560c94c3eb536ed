"""Speed of the notebook call and of the default backtest, against the issue's goals.

    python benchmarks/bench_backtest.py          # needs ../shared/data beside the checkout

1. `simulate.project` on General Staff personnel (whole history, ~1,460 days): one fit and a
   90-day projection with 2,000 paths, quantile table included; goal < 20 ms (best of 7).
2. The choice of ``auto`` (:func:`simulate.evaluation.selection.choose_model`) on each of the
   five series; goal < 0.2 s per series (best of 7); and ``project`` with ``auto`` (choice, fit
   and projection).
3. The default five-series backtest (`attrition backtest` defaults: origins every 28 days over
   the last two years, 90 days ahead, 2,000 paths, model auto plus the naive and bootstrap
   baselines) on personnel, tanks, afv, artillery, uav; goal < 30 s.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

import simulate
from simulate.data import load
from simulate.evaluation.backtest import backtest
from simulate.evaluation.selection import AutoSpec, choose_model
from simulate.models import ModelSpec, daily_series

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "general-staff"
SERIES = ["personnel", "tanks", "afv", "artillery", "uav"]


def main() -> None:
    if not SHARED.is_dir():
        sys.exit(f"needs the shared data at {SHARED}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs")
    data = load(SHARED / "russia_losses_personnel.petroivaniuk.json",
                SHARED / "russia_losses_equipment.petroivaniuk.json", series=SERIES)  # fmt: skip
    s = daily_series(data, "personnel")
    dates = [s.start + timedelta(days=i) for i in range(len(s.y))]
    print(f"{'what':<44}{'seconds':>9}{'goal':>9}{'ratio':>7}  verdict")
    for kind in ("analog", "trend-nb", "naive"):
        simulate.project(dates, s.y, horizon=90, paths=2000, model=kind)
        best = min(
            _timed(lambda k=kind: simulate.project(dates, s.y, horizon=90, paths=2000, model=k))
            for _ in range(7)
        )
        _row(f"project personnel, {kind}, 90 d x 2,000", best, 0.020)
    for name in SERIES:
        one = daily_series(data, name)
        best = min(_timed(lambda o=one: choose_model(o)) for _ in range(7))
        _row(f"auto's choice, {name} ({len(one.y)} days)", best, 0.2)
    simulate.project(dates, s.y, horizon=90, paths=2000)
    best = min(_timed(lambda: simulate.project(dates, s.y, horizon=90, paths=2000))
               for _ in range(7))  # fmt: skip
    _row("project personnel, auto, 90 d x 2,000", best, 0.220)
    t = time.perf_counter()
    r = backtest(data, SERIES, [AutoSpec(), ModelSpec("naive"), ModelSpec("bootstrap")],
                 seed=0)  # fmt: skip
    elapsed = time.perf_counter() - t
    _row(f"backtest 5 series x {len(r.origins)} origins x 3 models", elapsed, 30.0)


def _timed(f: object) -> float:
    t = time.perf_counter()
    f()  # type: ignore[operator]
    return time.perf_counter() - t


def _row(what: str, seconds: float, goal: float) -> None:
    ratio = seconds / goal
    print(f"{what:<44}{seconds:>9.3f}{goal:>9.3f}{ratio:>7.2f}  {'PASS' if ratio <= 1 else 'MISS'}")


if __name__ == "__main__":
    main()
