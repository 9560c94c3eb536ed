"""The validated daily series written as one table, with its provenance beside it.

:func:`series_table` applies a data policy to reported figures and stacks the daily series of
every source (one row per source, series and day); :func:`write_series` writes that table
(``.csv`` or ``.parquet``) and ``<file>.provenance.json`` atomically, having checked both
targets before writing either.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from ..about import CAVEAT, __version__
from ..data import DataPolicy, ReportedData, apply_policy
from .atomic import atomic_write, check_target

__all__ = ["SeriesFile", "series_table", "write_series"]


@dataclass(frozen=True)
class SeriesFile:
    """What :func:`write_series` wrote: the table, its provenance file and the table's rows."""

    path: Path
    provenance: Path
    rows: int


def series_table(
    datasets: Sequence[ReportedData], policy: DataPolicy
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The daily series of every dataset under `policy`, stacked, and their provenance.

    Columns: those of the daily table (``flags`` joined with ``|``), plus ``source`` and
    ``reported_by``. The provenance records the tool, the caveat of every reporter, the policy
    and every source's files.
    """
    frames = []
    prepared = []
    for d in datasets:
        daily = apply_policy(d, policy)
        prepared.append(daily)
        frames.append(
            daily.table.with_columns(
                pl.lit(d.source).alias("source"),
                pl.lit(d.reported_by).alias("reported_by"),
            )
        )
    table = pl.concat(frames).with_columns(pl.col("flags").list.join("|"))
    reporters = dict.fromkeys(d.reported_by for d in datasets)
    provenance = {
        "tool": f"attrition {__version__}",
        "caveat": [CAVEAT.format(reporter=r) for r in reporters],
        "policy": policy.to_dict(),
        "sources": [d.provenance() for d in prepared],
    }
    return table, provenance


def write_series(
    datasets: Sequence[ReportedData],
    out: str | os.PathLike[str],
    *,
    policy: DataPolicy,
    force: bool = False,
) -> SeriesFile:
    """Write :func:`series_table` to `out` (``.parquet``, else CSV) and its provenance beside it.

    Raises
    ------
    OutputExistsError
        `out` or ``<out>.provenance.json`` exists (and not `force`) or is a directory; nothing
        is written then.
    """
    table, provenance = series_table(datasets, policy)
    target, side = Path(out), Path(f"{out}.provenance.json")
    # Both targets are checked before either is written, so a refusal never leaves half a result.
    for path in (target, side):
        check_target(path, force=force, directory=False)
    if str(out).lower().endswith(".parquet"):
        atomic_write(target, lambda p: table.write_parquet(p), force=force)
    else:
        atomic_write(target, table.write_csv(), force=force)
    atomic_write(side, json.dumps(provenance, indent=2) + "\n", force=force)
    return SeriesFile(target, side, table.height)
