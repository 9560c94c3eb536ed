"""Generators of big reported-figures CSV files, for the memory test and benchmarks.

:func:`write_wide_csv` writes a ``date`` column and `columns` cumulative series over `days`
days (the issue's 94 MB file is 46,000 days x 260 columns); every series is a plausible
cumulative total (daily increments drawn from a fixed seed, one official correction per
10,000 days, one missing day per 5,000). Run as a script to write one::

    python tests/big_csv_support.py OUT.csv --days 46000 --columns 260
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

__all__ = ["write_wide_csv"]

#: The first day of the generated files (46,000 days from it end in 2025).
FIRST_DAY = dt.date(1900, 1, 1)


def write_wide_csv(path: Path, *, days: int, columns: int, seed: int = 13) -> int:
    """Write the file; returns its size in bytes. Written in blocks of columns so that the
    generator itself stays small whatever the file's size."""
    rng = np.random.default_rng(seed)
    last = FIRST_DAY + dt.timedelta(days=days - 1)
    dates = pl.date_range(FIRST_DAY, last, "1d", eager=True).alias("date")
    keep = np.ones(days, dtype=bool)
    keep[rng.choice(np.arange(1, days), size=max(days // 5000, 1), replace=False)] = False
    frame = pl.DataFrame({"date": dates}).filter(pl.Series(keep))
    blocks = []
    for start in range(0, columns, 32):
        width = min(32, columns - start)
        level = rng.integers(1, 200, size=width)
        inc = rng.poisson(level, size=(days, width)).astype(np.int64)
        # A few official corrections (negative daily figures) per series.
        for j in range(width):
            for i in rng.choice(np.arange(1, days), size=max(days // 10000, 1), replace=False):
                inc[i, j] = -int(level[j])
        cum = np.cumsum(inc, axis=0)[keep]
        blocks.append(pl.DataFrame({f"series_{start + j:04d}": cum[:, j] for j in range(width)}))
    frame = pl.concat([frame, *blocks], how="horizontal")
    frame.write_csv(path)
    return path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--days", type=int, default=46_000)
    parser.add_argument("--columns", type=int, default=260)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    size = write_wide_csv(args.out, days=args.days, columns=args.columns, seed=args.seed)
    print(f"{args.out}: {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
