"""The validated daily series written as one table, with its provenance beside it.

:func:`series_table` applies a data policy to reported figures and stacks the daily series of
every source (one row per source, series and day); :func:`write_series` writes that table
(``.csv`` or ``.parquet``) and ``<file>.provenance.json`` atomically, having checked both
targets before writing either. The provenance is the one manifest every output carries
(:mod:`simulate.outputs.provenance`): no seed, a data block per source (files with SHA-256 and
the data policy), and the table's own SHA-256 and rows under ``outputs``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from ..about import CAVEAT
from ..data import DataPolicy, ReportedData, apply_policy
from . import provenance
from .atomic import atomic_write, reserve

__all__ = ["SeriesFile", "series_table", "series_manifest", "write_series"]


@dataclass(frozen=True)
class SeriesFile:
    """What :func:`write_series` wrote: the table, its provenance file and the table's rows."""

    path: Path
    provenance: Path
    rows: int


def series_table(datasets: Sequence[ReportedData], policy: DataPolicy) -> pl.DataFrame:
    """The daily series of every dataset under `policy`, stacked.

    Columns: those of the daily table (``flags`` joined with ``|``), plus ``source`` and
    ``reported_by``.
    """
    frames = [
        apply_policy(d, policy).table.with_columns(
            pl.lit(d.source).alias("source"), pl.lit(d.reported_by).alias("reported_by")
        )
        for d in datasets
    ]
    return pl.concat(frames).with_columns(pl.col("flags").list.join("|"))


def series_manifest(
    datasets: Sequence[ReportedData], policy: DataPolicy, table: Path, rows: int
) -> dict[str, Any]:
    """The provenance of a series file: :func:`simulate.outputs.provenance.manifest` with no
    seed, one data block per source and the caveat of every reporter."""
    reporters = list(dict.fromkeys(d.reported_by for d in datasets))
    return provenance.manifest(
        "attrition series",
        reported_by="; ".join(reporters),
        seed=None,
        data=[provenance.data_block(d, policy) for d in datasets],
        about={"policy": policy.to_dict()},
        outputs=provenance.describe_files(table.parent, {table.name: {"rows": rows}}),
        caveat=" ".join(CAVEAT.format(reporter=r) for r in reporters),
    )


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
    OutputError
        A file-system error (``{out}: No space left on device``); nothing is left then.
    """
    target, side = Path(out), Path(f"{out}.provenance.json")
    # Both targets are held and checked before anything is computed or written, so a refusal
    # never leaves half a result; a failure writing the second removes the first.
    with reserve(target, force=force, directory=False), reserve(side, force=force, directory=False):
        table = series_table(datasets, policy)
        if str(out).lower().endswith(".parquet"):
            atomic_write(target, lambda p: table.write_parquet(p), force=force)
        else:
            atomic_write(target, table.write_csv(), force=force)
        try:
            doc = series_manifest(datasets, policy, target, table.height)
            atomic_write(side, json.dumps(doc, indent=2) + "\n", force=force)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
    return SeriesFile(target, side, table.height)
