"""Property tests of :mod:`simulate.data.readers`: whatever the bytes or rows, reading either
gives a table that keeps the documented invariants or raises a one-line
:class:`~simulate.errors.DataError` naming the file; cumulative and daily input round-trip.
Fuzzing: random bytes, random tables, and mutated real files (the bundled example and the
../shared/data compilations: byte flips, truncations, inserted delimiters and quotes,
duplicated and deleted lines), with fixed seeds (``derandomize``) and modest example counts.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from itertools import accumulate
from pathlib import Path

import polars as pl
import pytest
from conftest import FILES
from data_helpers import check_table, csv_text, days
from hypothesis import given, settings
from hypothesis import strategies as st

from simulate.data import datafile
from simulate.data.cells import TextColumn, parse_counts
from simulate.data.readers import read_file
from simulate.data.sources import example_path
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


# --------------------------------------------------------------------------- mutated real files

INSERTS = [
    b",", b";", b"\t", b'"', b"\n", b"\r", b"\r\n", b"{", b"}", b"[", b"]", b":", b"\x00",
    b"\xff", b"\xef\xbb\xbf", b"NA", b"-", b"-1", b"9" * 20, b"1.5", b"2024-13-45", b"null",
]  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn, base: bytes) -> bytes:
    """`base` after a few byte flips, truncations, inserted delimiters or quotes, and
    duplicated or deleted lines."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "insert", "duplicate", "delete"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == "truncate":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.sampled_from(INSERTS))
        else:
            start = data.rfind(b"\n", 0, pos) + 1
            end = data.find(b"\n", pos)
            end = len(data) if end < 0 else end + 1
            if op == "duplicate":
                data[end:end] = data[start:end]
            else:
                del data[start:end]
    return bytes(data)


EXAMPLE = example_path().read_bytes()


@settings(max_examples=120, deadline=None, database=None, derandomize=True)
@given(content=mutated(EXAMPLE))
def test_mutated_example_csv_loads_or_raises_data_error(scratch: Path, content: bytes) -> None:
    path = scratch / "synthetic_reports.csv"
    path.write_bytes(content)
    load_or_data_error(path)


@pytest.mark.parametrize("key", sorted(FILES))
def test_mutated_shared_files_load_or_raise_data_error(
    scratch: Path, shared: dict[str, Path], key: str
) -> None:
    base = shared[key].read_bytes()

    # The file's own name: the layout is detected from it (e.g. 'correction').
    @settings(max_examples=12, deadline=None, database=None, derandomize=True)
    @given(content=mutated(base))
    def one(content: bytes) -> None:
        folder = scratch / key
        folder.mkdir(exist_ok=True)
        path = folder / shared[key].name
        path.write_bytes(content)
        load_or_data_error(path)

    one()


COUNT_CELL = st.one_of(
    st.integers(-(2**64), 2**64).map(str),
    st.from_regex(r"\A[ \t+\-]?[0-9_.eE٣５]{0,22}[ \t]?\Z"),
    st.sampled_from(["", " ", "NA", "nan", "NULL", "None", "-", "+", "1_000", "0x1", "1e3"]),
    st.text(max_size=5),
)


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(cells=st.lists(COUNT_CELL, min_size=1, max_size=12))
def test_text_columns_parse_cells_like_one_by_one(cells: list[str]) -> None:
    # The block reader hands cells to Polars first; whatever Polars reads must be what the
    # one-cell rules give, and anything else must fail with the same message.
    where = [f"line {i + 2}" for i in range(len(cells))]

    def parse(given: Sequence[str] | TextColumn) -> object:
        try:
            return parse_counts(given, where=where, file="f.csv", label="column 'x'").to_list()
        except DataError as err:
            return str(err)

    column = TextColumn()
    half = len(cells) // 2
    TextColumn.extend_all([column], [cells[:half]])
    TextColumn.extend_all([column], [cells[half:]])
    assert parse(column) == parse(cells)


def test_small_blocks_read_the_same_table(scratch: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Rows are read in blocks: a block boundary anywhere must change nothing.
    lines = EXAMPLE.decode().splitlines()
    for i in (10, 50, 300):  # missing cells and blank lines inside blocks
        lines[i] = ",".join([*lines[i].split(",")[:-1], "NA"])
        lines[i + 1] += "\n"
    text = "\n".join(lines) + "\n"
    path = scratch / "blocks.csv"
    path.write_text(text, encoding="utf-8")
    whole = read_file(path).table
    monkeypatch.setattr(datafile, "_CHUNK_CELLS", 5)
    assert read_file(path).table.equals(whole)


def series_file_bytes() -> bytes:
    """The example's series file (``attrition series example -o x.csv``), a few weeks long."""
    from simulate.data import DataPolicy, load
    from simulate.outputs.seriesfile import series_table

    table = series_table([load("example")], DataPolicy())
    return table.filter(pl.col("date") < dt.date(2024, 2, 15)).write_csv().encode()


@settings(max_examples=120, deadline=None, database=None, derandomize=True)
@given(content=mutated(series_file_bytes()))
def test_mutated_series_file_loads_or_raises_data_error(scratch: Path, content: bytes) -> None:
    path = scratch / "series.csv"
    path.write_bytes(content)
    load_or_data_error(path)
