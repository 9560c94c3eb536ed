"""Reading back the tool's own series files (``attrition series DATA -o FILE``).

A series file is a long table, one row per series and day, with the columns ``date``,
``series``, ``cumulative``, ``daily``, ``flags``, ``source`` and ``reported_by`` (see
:func:`simulate.outputs.seriesfile.series_table`). Read back, each series keeps the figures
it was written with: its ``cumulative`` totals, or for a series first read as daily counts
(flag ``from_daily``) its ``daily`` counts, so that the totals rebuilt from them are the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from ..errors import DataError
from .cells import TextColumn, parse_counts, parse_dates
from .reported import Kind
from .vocabulary import canonical_name

__all__ = ["SERIES_COLUMNS", "TEXT_COLUMNS", "is_series_layout", "parse_series_layout"]

#: The columns that make a table a series file.
SERIES_COLUMNS = frozenset({"date", "series", "cumulative"})

#: Columns of a series file read as text rather than counts.
TEXT_COLUMNS = frozenset({"series", "flags", "source", "reported_by"})


def is_series_layout(names: Sequence[str]) -> bool:
    """True when a table's column names are those of a series file."""
    return {n.strip() for n in names} >= SERIES_COLUMNS


def parse_series_layout(
    columns: Mapping[str, Sequence[Any] | TextColumn | None], *, where: list[str], file: str
) -> tuple[dict[str, pl.DataFrame], dict[str, Kind], str | None]:
    """The series of a series file: one long frame per series (as the readers give them),
    their kinds, and who reported them (the ``reported_by`` column, when it has one value)."""

    def text(name: str) -> list[Any] | None:
        cells = columns.get(name)
        if cells is None:
            return None
        if isinstance(cells, TextColumn):  # pragma: no cover - text columns are kept as text
            raise AssertionError(name)
        return [None if c is None else str(c) for c in cells]

    sources = sorted({s for s in text("source") or [] if s})
    if len(sources) > 1:
        raise DataError(
            file,
            "column 'source'",
            f"holds the figures of {len(sources)} sources ({', '.join(sources)}); expected "
            "one source per series file (write one file per source)",
        )
    reporters = sorted({r for r in text("reported_by") or [] if r})
    dates = parse_dates(text("date") or [], where=where, file=file)
    names = text("series") or []
    for i, n in enumerate(names):
        if not n or not canonical_name(n):
            raise DataError(file, f"{where[i]}, column 'series'", f"{n!r} is not a series name")
    flags = text("flags") or [""] * len(names)
    cum_cells = columns["cumulative"]
    assert cum_cells is not None
    cum = parse_counts(cum_cells, where=where, file=file, label="column 'cumulative'")
    daily_cells = columns.get("daily")
    daily = (
        parse_counts(daily_cells, where=where, file=file, label="column 'daily'")
        if daily_cells is not None
        else pl.Series("value", [None] * len(names), dtype=pl.Int64)
    )
    frame = pl.DataFrame(
        [
            dates.alias("date"),
            pl.Series("series", [canonical_name(n) for n in names], dtype=pl.String),
            cum.alias("cumulative"),
            daily.alias("daily"),
            pl.Series("flags", [f or "" for f in flags], dtype=pl.String),
            pl.Series("where", where, dtype=pl.Enum(where)),
        ]
    )
    parts: dict[str, pl.DataFrame] = {}
    kinds: dict[str, Kind] = {}
    for (name,), part in frame.group_by("series", maintain_order=True):
        from_daily = "from_daily" in str(part.get_column("flags")[0]).split("|")
        kinds[str(name)] = "daily" if from_daily else "cumulative"
        value = pl.col("daily" if from_daily else "cumulative").alias("value")
        parts[str(name)] = part.select("date", "series", value, "where")
    return parts, kinds, reporters[0] if len(reporters) == 1 else None
