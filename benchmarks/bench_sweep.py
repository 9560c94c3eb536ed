"""Throughput of a scenario sweep, and its scaling from --jobs 1 to --jobs 2.

    python benchmarks/bench_sweep.py            # 200 scenarios x 5 series x 10,000 paths x 365 days
    python benchmarks/bench_sweep.py --quick    # 20 scenarios x 5 series x 2,000 paths

The sweep is one scenario file: a status-quo reference plus an escalation whose factor runs over
200 values, on the General Staff personnel, tanks, afv, artillery and uav series of
    python benchmarks/bench_sweep.py            # 200 scenarios x 5 series x 10,000 paths
processes; the outputs of both must be byte-identical. Goal: scaling at least 1.7x.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from simulate.batch import run_batch

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "general-staff"

FILE = """
[run]
name = "sweep"
seed = 1
paths = {paths}
horizon = 365
[data]
source = "{source}"
series = ["personnel", "tanks", "afv", "artillery", "uav"]
[model]
kind = "analog"
[[scenario]]
name = "status-quo"
reference = true
[[scenario]]
name = "escalation"
[[scenario.adjust]]
type = "multiply"
factor = 1.2
start = 2026-04-01
[[sweep]]
scenario = "escalation"
set = "adjust[0].factor"
values = [{values}]
[outputs]
charts = false
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"needs the shared data at {SHARED}")
    n, paths = (20, 2000) if args.quick else (200, 10_000)
    values = ", ".join(f"{v:.4f}" for v in np.linspace(1.0, 1.5, n - 1))
    with tempfile.TemporaryDirectory() as tmp:
        # lod-db: one file that holds all five series
        source = SHARED / "russian-losses.lod-db.json"
        path = Path(tmp) / "sweep.toml"
        path.write_text(FILE.format(paths=paths, source=source, values=values), encoding="utf-8")
        print(f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs")
        print(f"sweep: {n} scenarios x 5 series x {paths:,} paths x 365 days (lod-db compilation)")
        seconds = {}
        for jobs in (1, 2):
            t = time.perf_counter()
            [o] = run_batch([path], out=Path(tmp) / f"j{jobs}", jobs=jobs, charts=False)
            seconds[jobs] = time.perf_counter() - t
            assert o.error is None, o.error
            tasks = n * 5
            print(
                f"--jobs {jobs}: {seconds[jobs]:7.1f} s, {seconds[jobs] / tasks * 1000:6.1f} ms "
                "per scenario-series"
            )
        same = all(
            (Path(tmp) / "j1" / "sweep" / f).read_bytes()
            == (Path(tmp) / "j2" / "sweep" / f).read_bytes()
            for f in ("projections.csv", "contrasts.csv", "summary.csv", "fit.csv")
        )
        ratio = seconds[1] / seconds[2]
        verdict = "PASS" if ratio >= 1.7 else "MISS"
        print(
            f"scaling --jobs 1 -> 2: {ratio:.2f}x (goal >= 1.7x: {verdict}); "
            f"outputs byte-identical: {same}"
        )


if __name__ == "__main__":
    main()
