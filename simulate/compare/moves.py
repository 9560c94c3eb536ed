"""The weekly question: how the median and the 80% band of the projections moved.

``attrition compare A B --summary`` answers it for two runs of the same scenario file made on
different days: :func:`projection_moves` aligns their ``projections.csv`` on the date each
figure is for (not the horizon, which shifts with the origin) and :func:`render_move` says
one row of it in a sentence. Only ``projections.csv`` (or ``projections.parquet``) is read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from ..errors import CompareError
from .files import first_line, read_table

__all__ = ["projection_moves", "render_move"]

_MOVE_LEVELS = {"q10": 0.1, "median": 0.5, "q90": 0.9}
_MOVE_KEYS = ["scenario_id", "target", "target_end_date"]


def _projections(path: Path) -> pl.DataFrame:
    """Quantiles 0.1, 0.5 and 0.9 of a run's projections, one row per scenario, target, date."""
    if path.is_dir():
        found = [p for p in (path / "projections.csv", path / "projections.parquet") if p.is_file()]
        if len(found) != 1:
            what = "holds both" if found else "has neither"
            raise CompareError(f"{path}: {what} projections.csv and projections.parquet; "
                               "--summary needs the run's projections in one format")  # fmt: skip
        path = found[0]
    elif not path.exists():
        raise CompareError(f"{path}: no such file or directory")
    frame = read_table(path)
    need = [*_MOVE_KEYS, "output_type", "output_type_id", "value"]
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise CompareError(f"{path}: not a projections table (no column {', '.join(missing)})")
    if frame.schema["target_end_date"] == pl.String:
        try:
            frame = frame.with_columns(pl.col("target_end_date").str.to_date("%Y-%m-%d"))
        except pl.exceptions.PolarsError as exc:
            raise CompareError(f"{path}: target_end_date: {first_line(exc)}") from None
    level = pl.col("output_type_id").cast(pl.Float64)
    picks = [
        pl.col("value").filter((level - lv).abs() < 1e-9).first().alias(name)
        for name, lv in _MOVE_LEVELS.items()
    ]
    quantiles = frame.filter(pl.col("output_type") == "quantile")
    wide = quantiles.group_by(_MOVE_KEYS).agg(picks)
    if wide.height == 0 or wide["median"].null_count() == wide.height:
        raise CompareError(f"{path}: no median (quantile 0.5) rows to compare")
    return wide.with_columns(pl.col("target_end_date").cast(pl.Date))


def projection_moves(a_run: str | Path, b_run: str | Path) -> pl.DataFrame:
    """How the median and the 80% band of each projection moved from run A to run B.

    Rows of ``projections.csv`` (of two run directories, or two projections files) are
    aligned on ``scenario_id``, ``target`` and ``target_end_date`` -- not the horizon, since
    weekly runs start from different origin dates -- and kept at every common
    ``target_end_date`` that is the last day of a month, and at the last common date.

    Returns
    -------
    polars.DataFrame
        ``scenario_id``, ``target``, ``target_end_date``, ``median_a``, ``median_b``,
        ``median_change`` (B - A), ``median_change_pct`` (per cent of A), ``band80_a``,
        ``band80_b`` (quantile 0.9 - quantile 0.1), ``band80_change_pct``; percentages are
        null when A's figure is 0, band figures null when a run lacks quantile 0.1 or 0.9.
        Sorted by target, scenario and date.

    Raises
    ------
    CompareError
        A run without projections, or no common date to compare at.
    """
    pa, pb = Path(a_run), Path(b_run)
    wa, wb = _projections(pa), _projections(pb)
    joined = wa.join(wb, on=_MOVE_KEYS, how="inner", suffix="_b")
    if joined.height == 0:
        raise CompareError(
            f"cannot summarise {pa} against {pb}: no scenario, target and target_end_date in common"
        )
    date = pl.col("target_end_date")
    last = date.max().over("scenario_id", "target")
    kept = joined.filter((date.dt.month_end() == date) | (date == last))

    def pct(new: pl.Expr, old: pl.Expr) -> pl.Expr:
        return pl.when(old != 0).then((new - old) / old.abs() * 100.0).otherwise(None)

    band_a = pl.col("q90") - pl.col("q10")
    band_b = pl.col("q90_b") - pl.col("q10_b")
    return kept.select(
        "scenario_id",
        "target",
        "target_end_date",
        pl.col("median").alias("median_a"),
        pl.col("median_b"),
        (pl.col("median_b") - pl.col("median")).alias("median_change"),
        pct(pl.col("median_b"), pl.col("median")).alias("median_change_pct"),
        band_a.alias("band80_a"),
        band_b.alias("band80_b"),
        pct(band_b, band_a).alias("band80_change_pct"),
    ).sort("target", "scenario_id", "target_end_date")


def _signed(x: float) -> str:
    if abs(x) >= 100 or x == round(x):
        return f"{x:+,.0f}"
    return f"{x:+,.2f}"


def _pct(x: float) -> str:
    return f"{x:.0f}%" if abs(x) >= 1 or x == 0 else f"{x:.2g}%"


def render_move(row: dict[str, Any]) -> str:
    """One row of :func:`projection_moves` for people.

    Examples
    --------
    >>> from datetime import date
    >>> render_move({"scenario_id": "status-quo", "target": "cum personnel",
    ...              "target_end_date": date(2026, 6, 30), "median_change": 12400.0,
    ...              "median_change_pct": 0.93, "band80_change_pct": -6.2})
    'cum personnel at 2026-06-30 (status-quo): median +12,400 (+0.9%), 80% band narrower by 6%'
    """
    head = f"{row['target']} at {row['target_end_date']} ({row['scenario_id']}): "
    change = row["median_change"]
    pct = row["median_change_pct"]
    text = head + f"median {_signed(change)}"
    if pct is None:
        text += " (from 0)"
    else:
        text += f" ({pct:+.1f}%)" if abs(pct) >= 0.1 or pct == 0 else f" ({pct:+.1g}%)"
    band = row.get("band80_change_pct")
    if band is None:
        return text
    if band < 0:
        return text + f", 80% band narrower by {_pct(-band)}"
    if band > 0:
        return text + f", 80% band wider by {_pct(band)}"
    return text + ", 80% band unchanged"
