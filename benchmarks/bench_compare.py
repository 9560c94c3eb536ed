"""Comparison speed (issue: compare; goal on the 2-core reference machine).

Goal: :func:`simulate.compare.compare_tables` on two hub-style tables of 10 million rows each
(the columns of ``projections.csv``) well under a minute. The tables are built in memory: 5
scenarios x 8 targets x 10,417 horizons x 24 output rows (23 quantiles and the mean), cut at
10,000,000 rows, with ``reported_by`` a 48-character text and dates as text, as a CSV reads
them. B is A with 0.1% of the values changed by 1%; two cases:

* ``aligned``: B's rows in A's order (a re-run: the positional path, no join);
* ``joined``: B's rows shuffled, 1,000 of them dropped and 1,000 new ones added (the full outer
  join on the key columns).

Run: ``python benchmarks/bench_compare.py`` (about a minute); ``--quick`` for 1,000,000 rows.
Prints rows, seconds, rows per second (of one side) and the ratio to the 60 s goal; always exits 0
unless something crashes.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import polars as pl

from simulate.compare import compare_tables

GOAL_SECONDS = 60.0
ROWS, QUICK_ROWS = 10_000_000, 1_000_000
CHANGED = 0.001  # share of B's values changed
EDITED_ROWS = 1_000  # rows dropped from B, and rows added, in the joined case
SCENARIOS = ("ceasefire", "decay", "escalation", "status-quo", "surge")
SERIES = ("artillery", "personnel", "tanks", "uav")
LEVELS = (0.01, 0.025, *(round(0.05 * i, 2) for i in range(1, 20)), 0.975, 0.99)
REPORTER = "the General Staff of the Armed Forces of Ukraine"


def hub_table(rows: int, seed: int = 1) -> pl.DataFrame:
    """A projections-like table of `rows` rows with random values."""
    targets = [f"{kind} {s}" for s in SERIES for kind in ("cum", "inc")]
    per_horizon = len(SCENARIOS) * len(targets) * (len(LEVELS) + 1)
    horizons = -(-rows // per_horizon)
    outputs = pl.DataFrame(
        {
            "output_type": ["quantile"] * len(LEVELS) + ["mean"],
            "output_type_id": [*LEVELS, None],
        },
        schema={"output_type": pl.String, "output_type_id": pl.Float64},
    )
    frame = (
        pl.DataFrame({"scenario_id": list(SCENARIOS)})
        .join(pl.DataFrame({"target": targets}), how="cross")
        .join(pl.DataFrame({"horizon": np.arange(1, horizons + 1)}), how="cross")
        .join(outputs, how="cross")
        .head(rows)
    )
    values = np.random.default_rng(seed).gamma(2.0, 5_000.0, frame.height)
    return frame.select(
        pl.lit("2025-12-30").alias("origin_date"),
        "scenario_id",
        "target",
        "horizon",
        (pl.date(2025, 12, 30) + pl.duration(days=pl.col("horizon")))
        .cast(pl.String)
        .alias("target_end_date"),
        "output_type",
        "output_type_id",
        pl.Series("value", values),
        pl.lit(REPORTER).alias("reported_by"),
    )


def perturbed(a: pl.DataFrame, seed: int = 2) -> tuple[pl.DataFrame, int]:
    """A with a share `CHANGED` of its values times 1.01; and how many were changed."""
    mask = np.random.default_rng(seed).random(a.height) < CHANGED
    b = a.with_columns(
        pl.when(pl.Series(mask)).then(pl.col("value") * 1.01).otherwise(pl.col("value"))
    )
    return b, int(mask.sum())


def edited(b: pl.DataFrame, seed: int = 3) -> pl.DataFrame:
    """B shuffled, with `EDITED_ROWS` rows dropped and as many rows of new horizons added."""
    extra = b.head(EDITED_ROWS).with_columns(pl.col("horizon") + 1_000_000)
    return pl.concat([b.slice(EDITED_ROWS), extra]).sample(fraction=1.0, shuffle=True, seed=seed)


def timed(a: pl.DataFrame, b: pl.DataFrame) -> tuple[float, int]:
    t0 = time.perf_counter()
    diff = compare_tables(a, b)
    return time.perf_counter() - t0, diff.n_differing


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_ROWS:,} rows per side")
    args = ap.parse_args()
    rows = QUICK_ROWS if args.quick else ROWS
    print(
        f"python {platform.python_version()}, polars {pl.__version__}, numpy {np.__version__}; "
        f"{rows:,} rows per side; goal {GOAL_SECONDS:.0f} s"
    )
    t0 = time.perf_counter()
    a = hub_table(rows)
    b, n_changed = perturbed(a)
    shuffled = edited(b)
    print(f"tables built in {time.perf_counter() - t0:.1f} s ({a.estimated_size() / 1e9:.2f} GB "
          f"per side); {n_changed:,} values changed")  # fmt: skip
    print(f"{'case':<8} {'rows':>12} {'seconds':>8} {'rows/s':>12} {'ratio':>6}  differing")
    for case, other in (("aligned", b), ("joined", shuffled)):
        seconds, n_differing = timed(a, other)
        ratio = seconds / GOAL_SECONDS
        print(
            f"{case:<8} {rows:>12,} {seconds:>8.2f} {rows / seconds:>12,.0f} {ratio:>6.2f}  "
            f"{n_differing:,} {'PASS' if ratio <= 1 else 'MISS'}"
        )


if __name__ == "__main__":
    main()
