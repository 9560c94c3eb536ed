"""Helpers shared by the tests of simulate.data (tests/test_data_*.py): writing small input
files, reading them expecting an error, and the invariants every reported table satisfies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from simulate.data.readers import read_file
from simulate.data.reported import FLAGS, TABLE_SCHEMA
from simulate.errors import DataError

# --------------------------------------------------------------------------- input files


def write(directory: Path, name: str, content: str | bytes) -> Path:
    path = directory / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def csv_text(header: list[str], rows: Sequence[Sequence[object]], sep: str = ",") -> str:
    lines = [sep.join(header)] + [sep.join(str(c) for c in row) for row in rows]
    return "\n".join(lines) + "\n"


def days(start: dt.date, n: int) -> list[str]:
    return [(start + dt.timedelta(days=i)).isoformat() for i in range(n)]


def date_range(n: int, start: date = date(2024, 1, 1)) -> list[date]:
    return [start + timedelta(days=i) for i in range(n)]


def synthetic_cumulative(n: int, seed: int, mean: float = 1200.0, step: int = 10) -> np.ndarray:
    """Negative-binomial daily figures (dispersion 30) rounded to `step`, cumulated."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    daily = rng.poisson(rng.gamma(30.0, mean / 30.0, size=n))
    daily = (np.round(daily / step) * step).astype(np.int64)
    return 100_000 + np.cumsum(daily)


def write_csv(path: Path, dates: list[date], cum: np.ndarray, name: str = "personnel") -> Path:
    lines = [f"date,{name}"] + [f"{d.isoformat()},{v}" for d, v in zip(dates, cum, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


# --------------------------------------------------------------------------- reading back


def read_error(path: Path, **kwargs: object) -> str:
    """Read `path` expecting a DataError; check the generic message contract; return it."""
    with pytest.raises(DataError) as info:
        read_file(path, **kwargs)  # type: ignore[arg-type]
    err = info.value
    msg = str(err)
    assert "\n" not in msg and "\r" not in msg, f"message spans several lines: {msg!r}"
    assert err.file == str(path)
    assert msg.startswith(str(path) + ": ")
    assert path.name in msg
    assert err.message and err.message in msg
    return msg


def rows_of(table: pl.DataFrame, series: str) -> list[dict[str, Any]]:
    return table.filter(pl.col("series") == series).sort("date").to_dicts()


def check_table(table: pl.DataFrame) -> None:
    """Invariants every table that read_file returns must satisfy."""
    assert dict(table.schema) == dict(TABLE_SCHEMA)
    assert table.height > 0
    assert table.get_column("cumulative").null_count() == 0
    assert table.select(pl.struct("series", "date").is_unique().all()).item()
    assert table.equals(table.sort("series", "date", maintain_order=True))
    assert all(s for s in table.get_column("series").to_list()), "nameless series"
    known = set(FLAGS)
    for flags in table.get_column("flags").to_list():
        assert set(flags) <= known
    for _, part in table.group_by("series", maintain_order=True):
        rebuilt = part.get_column("flags").list.contains("from_daily").all()
        cum = part.get_column("cumulative")
        daily = part.get_column("daily")
        if rebuilt:
            assert daily.null_count() == 0
            assert cum.to_list() == list(accumulate(daily.to_list()))
        else:
            assert (cum >= 0).all()
            assert daily[0] is None
            assert part.get_column("flags")[0].to_list()[0] == "first"
            assert daily[1:].to_list() == cum.diff()[1:].to_list()
