"""Property tests of :mod:`simulate.data.readers`: whatever the bytes or rows, reading either
gives a table that keeps the documented invariants or raises a one-line
:class:`~simulate.errors.DataError` naming the file; cumulative and daily input round-trip.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from itertools import accumulate
from pathlib import Path

import polars as pl
import pytest
from data_helpers import check_table, csv_text, days
from hypothesis import given, settings
from hypothesis import strategies as st

from simulate.data.readers import read_file
from simulate.errors import DataError


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Hypothesis runs many examples per test; a function-scoped tmp_path would be shared
    # by all of them anyway, so one module-scoped folder is used.
    return tmp_path_factory.mktemp("readers-properties")


def load_or_data_error(path: Path, **kwargs: object) -> None:
    try:
        data = read_file(path, **kwargs)  # type: ignore[arg-type]
    except DataError as err:
        msg = str(err)
        assert "\n" not in msg and "\r" not in msg, msg
        assert msg.startswith(str(path))
        return
    if data.table.height:
        check_table(data.table)


FRAGMENTS = [
    b"date",
    b"tanks",
    b"APC",
    b",",
    b";",
    b"\n",
    b"\r\n",
    b'"',
    b"2024-01-01",
    b"2024-01-02",
    b"02.01.2024",
    b"12",
    b"-3",
    b"1.5",
    b"9" * 25,
    b"\xff",
    b"\xef\xbb\xbf",
    b"[",
    b"]",
    b"{",
    b"}",
    b'"date"',
    b":",
    b"null",
    b"1e400",
    b"PAR1",
    b"\x00",
]


@settings(max_examples=150, deadline=None, database=None)
@given(
    content=st.one_of(
        st.binary(max_size=200),
        st.lists(st.sampled_from(FRAGMENTS), max_size=40).map(b"".join),
    ),
    suffix=st.sampled_from([".csv", ".json", ".parquet", ""]),
)
def test_arbitrary_bytes_load_or_raise_data_error(
    scratch: Path, content: bytes, suffix: str
) -> None:
    path = scratch / f"bytes{suffix}"
    path.write_bytes(content)
    load_or_data_error(path)


DATE = st.dates(dt.date(2020, 1, 1), dt.date(2020, 1, 20)).map(dt.date.isoformat)


CELL = st.one_of(
    DATE,
    st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)).map(lambda d: d.strftime("%d.%m.%Y")),
    st.integers(-50, 10**6).map(str),
    st.integers().map(str),
    st.integers(2**62, 2**65).map(str),  # around the Int64 limit
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.text(max_size=6),
    st.just(""),
)


NAMES = [
    "Date",
    "tanks",
    "tank",
    "APC",
    "FPV drones",
    "personnel",
    "day",
    "",
    "!!!",
    "notes",
]


VALUE = st.one_of(
    st.integers(0, 10**6).map(str),
    st.integers(0, 10**6).map(str),
    st.just(""),
    st.integers(2**62, 2**65).map(str),  # around the Int64 limit
    CELL,
)


@st.composite
def csv_tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    """A header and rows, mostly well shaped (a date column, one cell per column, plausible
    counts) so that reading gets past the layout checks to the dates, numbers and series."""
    names = draw(
        st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=draw(st.booleans()))
    )
    header = ["date", *names] if draw(st.integers(0, 9)) else [*names, "date"]
    width = len(header)
    if draw(st.integers(0, 3)):
        row = st.tuples(DATE, st.lists(VALUE, min_size=width - 1, max_size=width - 1)).map(
            lambda r: [r[0], *r[1]]
        )
    else:
        row = st.lists(CELL, min_size=1, max_size=width + 1)
    return header, draw(st.lists(row, min_size=min(draw(st.integers(0, 5)), 1), max_size=10))


@settings(max_examples=200, deadline=None, database=None)
@given(
    table=csv_tables(),
    sep=st.sampled_from([",", ";"]),
    quoted=st.booleans(),
    kind=st.sampled_from([None, "cumulative", "daily"]),
)
def test_random_csv_loads_or_raises_data_error(
    scratch: Path,
    table: tuple[list[str], list[list[str]]],
    sep: str,
    quoted: bool,
    kind: str | None,
) -> None:
    header, rows = table
    if quoted:  # cells holding the separator, quotes or newlines stay cells
        buf = io.StringIO()
        csv.writer(buf, delimiter=sep, lineterminator="\n").writerows([header, *rows])
        text = buf.getvalue()
    else:
        text = csv_text(header, rows, sep=sep)
    path = scratch / "random.csv"
    path.write_bytes(text.encode("utf-8"))
    load_or_data_error(path, kind=kind)


@settings(max_examples=150, deadline=None, database=None)
@given(
    counts=st.lists(st.integers(0, 10**7), min_size=2, max_size=60),
    start=st.dates(dt.date(1990, 1, 1), dt.date(2025, 1, 1)),
)
def test_cumulative_and_daily_round_trip(scratch: Path, counts: list[int], start: dt.date) -> None:
    dates = days(start, len(counts))
    totals = list(accumulate(counts))

    path = scratch / "cumulative.csv"
    path.write_text(
        csv_text(["date", "tanks"], list(zip(dates, totals, strict=True))), encoding="utf-8"
    )
    table = read_file(path).table
    assert table.get_column("daily").to_list() == [None, *counts[1:]]
    cumulative = table.get_column("cumulative")
    assert cumulative.to_list() == totals
    assert (cumulative.diff().drop_nulls() >= 0).all()

    path = scratch / "daily.csv"
    path.write_text(
        csv_text(["date", "tanks"], list(zip(dates, counts, strict=True))), encoding="utf-8"
    )
    table = read_file(path, kind="daily").table
    assert table.get_column("daily").to_list() == counts
    assert table.get_column("cumulative").to_list() == totals
    assert table.get_column("date").to_list() == [dt.date.fromisoformat(d) for d in dates]


@settings(max_examples=100, deadline=None, database=None)
@given(
    flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=6),
    cut=st.one_of(st.none(), st.integers(0, 10**6)),
)
def test_mutated_parquet_loads_or_raises_data_error(
    scratch: Path, flips: list[tuple[int, int]], cut: int | None
) -> None:
    buf = io.BytesIO()
    pl.DataFrame(
        {"date": [dt.date(2024, 1, 1), dt.date(2024, 1, 2)], "tanks": [1, 2]}
    ).write_parquet(buf)
    content = bytearray(buf.getvalue())
    for offset, byte in flips:
        content[offset % len(content)] = byte
    if cut is not None:
        content = content[: cut % len(content)]
    path = scratch / "mutated.parquet"
    path.write_bytes(bytes(content))
    load_or_data_error(path)
