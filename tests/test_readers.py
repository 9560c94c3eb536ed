"""Tests of :mod:`simulate.data.readers` and of the table that :func:`.model.assemble` builds.

Bad input must give a :class:`~simulate.errors.DataError` whose message is one line naming the
file, the line/item/key and what was expected; good input must give the documented table. The
real public compilations in ``../shared/data/general-staff`` are read when present.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import random
from collections.abc import Sequence
from itertools import accumulate
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from simulate.data.loading import load, load_all
from simulate.data.readers import FORMATS, detect_format, read_file
from simulate.data.reported import FLAGS, TABLE_SCHEMA, detect_kind
from simulate.data.sources import GENERAL_STAFF
from simulate.errors import DataError

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "general-staff"

PI_PERSONNEL = "russia_losses_personnel.petroivaniuk.json"
PI_EQUIPMENT = "russia_losses_equipment.petroivaniuk.json"
PI_CORRECTION = "russia_losses_equipment_correction.petroivaniuk.json"
LODDB = "russian-losses.lod-db.json"
ROMANSVERDAN = "russia_losses.romansverdan.csv"


# --------------------------------------------------------------------------- helpers


def write(directory: Path, name: str, content: str | bytes) -> Path:
    path = directory / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def csv_text(header: list[str], rows: Sequence[Sequence[object]], sep: str = ",") -> str:
    lines = [sep.join(header)] + [sep.join(str(c) for c in row) for row in rows]
    return "\n".join(lines) + "\n"


def days(start: dt.date, n: int) -> list[str]:
    return [(start + dt.timedelta(days=i)).isoformat() for i in range(n)]


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


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("name", ["empty.csv", "empty.json", "blank.csv", "blank.json"])
def test_empty_file(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, name, "" if name.startswith("empty") else "  \n\n")
    msg = read_error(path)
    assert "empty" in msg
    # The message speaks the file's own language: a header for CSV, a list for JSON.
    if name.endswith(".json"):
        assert "JSON list" in msg and "header" not in msg
    else:
        assert "header row with a date column" in msg


def test_header_only(tmp_path: Path) -> None:
    msg = read_error(write(tmp_path, "h.csv", "date,tanks\n"))
    assert "header but no data rows" in msg


def test_missing_date_column(tmp_path: Path) -> None:
    msg = read_error(write(tmp_path, "d.csv", "day,tanks\n1,5\n2,6\n"))
    assert "header" in msg
    assert "no 'date' column" in msg
    assert "'day', 'tanks'" in msg  # what was found
    assert "date_column" in msg  # how to fix it


def test_misspelt_date_column_named_with_date_column(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "Datum,tanks\n2024-01-01,5\n2024-01-02,6\n")
    msg = read_error(path, date_column="Datun")
    assert "no column 'Datun'" in msg
    assert "'Datum', 'tanks'" in msg
    # ... and the right name works.
    table = read_file(path, date_column="Datum").table
    assert table.get_column("date").to_list() == [dt.date(2024, 1, 1), dt.date(2024, 1, 2)]


@pytest.mark.parametrize("bad", ["2024-13-45", "abc", "2024-02-30"])
def test_unparseable_date(tmp_path: Path, bad: str) -> None:
    path = write(tmp_path, "d.csv", f"date,tanks\n2024-01-01,1\n{bad},2\n2024-01-03,3\n")
    msg = read_error(path)
    assert "line 3" in msg
    assert repr(bad) in msg
    assert "not a valid date" in msg and "2024-11-12" in msg


def test_empty_date_cell(tmp_path: Path) -> None:
    msg = read_error(write(tmp_path, "d.csv", "date,tanks\n2024-01-01,1\n,2\n2024-01-03,3\n"))
    assert "line 3" in msg
    assert "date is empty" in msg


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("12a", "'12a' is not a number"), ("12.5", "'12.5' is not a whole number")],
)
def test_bad_number(tmp_path: Path, cell: str, expected: str) -> None:
    text = f"date,personnel,tanks\n2024-01-01,10,1\n2024-01-02,20,{cell}\n"
    msg = read_error(write(tmp_path, "n.csv", text))
    assert "line 3" in msg
    assert "column 'tanks'" in msg
    assert expected in msg


def test_number_too_large_for_int64(tmp_path: Path) -> None:
    # Used to escape as a polars TypeError.
    big = "9" * 25
    msg = read_error(write(tmp_path, "n.csv", f"date,tanks\n2024-01-01,1\n2024-01-02,{big}\n"))
    assert "line 3" in msg and "column 'tanks'" in msg and big in msg and "too large" in msg
    msg = read_error(write(tmp_path, "n.json", f'[{{"date": "2024-01-01", "tanks": {big}}}]'))
    assert "item 1 (2024-01-01)" in msg and "key 'tanks'" in msg and "too large" in msg


def test_daily_counts_overflowing_the_total(tmp_path: Path) -> None:
    # Used to wrap around silently to negative cumulative totals.
    n = 2**62
    path = write(tmp_path, "n.csv", f"date,tanks\n2024-01-01,{n}\n2024-01-02,{n}\n")
    msg = read_error(path, kind="daily")
    assert "line 3" in msg and "'tanks'" in msg and "add up to more" in msg


def test_non_utf8_bytes_name_the_line(tmp_path: Path) -> None:
    content = b"date,tanks\n2024-01-01,1\n2024-01-02,2\xff\xfe\n2024-01-03,3\n"
    msg = read_error(write(tmp_path, "u.csv", content))
    assert "line 3" in msg
    assert "0xff" in msg and "UTF-8" in msg


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    data = read_file(write(tmp_path, "b.csv", b"\xef\xbb\xbfdate,tanks\n2024-01-01,4\n"))
    assert data.series_names == ["tanks"]


def test_duplicate_dates_with_different_values(tmp_path: Path) -> None:
    text = "date,tanks\n2024-01-01,1\n2024-01-02,2\n2024-01-02,3\n2024-01-03,4\n"
    msg = read_error(write(tmp_path, "dup.csv", text))
    assert "line 3 and line 4" in msg
    assert "2024-01-02" in msg and "'tanks'" in msg
    assert "(2 and 3)" in msg


def test_duplicate_dates_with_the_same_value_are_kept_once(tmp_path: Path) -> None:
    text = "date,tanks\n2024-01-01,1\n2024-01-02,2\n2024-01-02,2\n2024-01-03,4\n"
    table = read_file(write(tmp_path, "dup.csv", text)).table
    rows = rows_of(table, "tanks")
    assert [r["date"] for r in rows] == [dt.date(2024, 1, d) for d in (1, 2, 3)]
    assert [r["daily"] for r in rows] == [None, 1, 2]
    assert rows[1]["flags"] == ["duplicate"]
    assert "duplicate" not in rows[0]["flags"] and "duplicate" not in rows[2]["flags"]


DECREASING = [10, 5, 8, 2, 9, 1, 7, 3]  # decreases on 4 of 7 steps


def test_decreasing_totals_declared_cumulative_is_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "dec.csv",
        csv_text(
            ["date", "tanks"], list(zip(days(dt.date(2024, 1, 1), 8), DECREASING, strict=True))
        ),
    )
    msg = read_error(path, kind="cumulative")
    assert "line 3" in msg  # the first decrease, 10 -> 5
    assert "'tanks'" in msg
    assert "decrease on 4 of 7 steps" in msg and "2024-01-02" in msg
    assert "kind='daily'" in msg


def test_same_decreasing_column_is_detected_as_daily(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "dec.csv",
        csv_text(
            ["date", "tanks"], list(zip(days(dt.date(2024, 1, 1), 8), DECREASING, strict=True))
        ),
    )
    rows = rows_of(read_file(path).table, "tanks")
    assert [r["daily"] for r in rows] == DECREASING
    assert [r["cumulative"] for r in rows] == list(accumulate(DECREASING))
    assert all("from_daily" in r["flags"] for r in rows)


def test_negative_cumulative_total(tmp_path: Path) -> None:
    msg = read_error(
        write(tmp_path, "neg.csv", "date,tanks\n2024-01-01,3\n2024-01-02,-4\n"), kind="cumulative"
    )
    assert "line 3" in msg and "'tanks'" in msg
    assert "-4" in msg and "negative" in msg


@pytest.mark.parametrize(
    ("content", "what"),
    [('{"date": "2024-01-01", "tanks": 1}', "object"), ("42", "number"), ("null", "null")],
)
def test_json_top_level_not_a_list(tmp_path: Path, content: str, what: str) -> None:
    msg = read_error(write(tmp_path, "top.json", content))
    assert f"top level is a JSON {what}" in msg
    assert "expected a list" in msg


def test_json_empty_list(tmp_path: Path) -> None:
    assert "empty list" in read_error(write(tmp_path, "e.json", "[]"))


@pytest.mark.parametrize(("item", "what"), [("5", "number"), ('"x"', "string"), ("[1]", "list")])
def test_json_item_not_an_object(tmp_path: Path, item: str, what: str) -> None:
    path = write(tmp_path, "items.json", f'[{{"date": "2024-01-01", "tanks": 1}}, {item}]')
    msg = read_error(path)
    assert "item 2" in msg
    assert f"is a JSON {what}" in msg and "object with a 'date' key" in msg


def test_json_item_without_date(tmp_path: Path) -> None:
    path = write(tmp_path, "nd.json", '[{"date": "2024-01-01", "tanks": 1}, {"tanks": 2}]')
    msg = read_error(path)
    assert "item 2" in msg and "no 'date' key" in msg


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    text = '[\n  {"date": "2024-01-01", "tanks": 1},\n  {"date": "2024-01-02", "tanks": 2,}\n]\n'
    msg = read_error(write(tmp_path, "bad.json", text))
    assert "line 3 column 37" in msg
    assert "not valid JSON" in msg


def test_json_nested_too_deeply(tmp_path: Path) -> None:
    # Used to escape as RecursionError.
    msg = read_error(write(tmp_path, "deep.json", "[" * 100_000))
    assert "nested too deeply" in msg


def test_json_bad_date_stays_one_line(tmp_path: Path) -> None:
    # A date with a newline used to be echoed raw into the message; a lone surrogate
    # ("\ud800") used to escape as UnicodeEncodeError from polars.
    path = write(
        tmp_path, "nl.json", '[{"date": "2024-01-01", "tanks": 1}, {"date": "x\\ny", "tanks": 2}]'
    )
    msg = read_error(path)
    assert "item 2" in msg and "not a valid date" in msg
    path = write(tmp_path, "sur.json", '[{"date": "\\ud800", "tanks": 1}]')
    msg = read_error(path)
    assert "item 1" in msg and "not a valid date" in msg


def test_json_value_not_a_count(tmp_path: Path) -> None:
    msg = read_error(write(tmp_path, "b.json", '[{"date": "2024-01-01", "tanks": true}]'))
    assert "item 1 (2024-01-01)" in msg and "key 'tanks'" in msg and "True is not a count" in msg


def test_json_message_names_the_key_as_the_file_has_it(tmp_path: Path) -> None:
    # 'APC' is read as series 'afv'; the message must say 'APC', which the user can find.
    path = write(tmp_path, "pi.json", '[{"date": "2024-01-01", "tank": 1, "APC": "x"}]')
    msg = read_error(path, fmt="petroivaniuk-equipment")
    assert "key 'APC'" in msg and "'x' is not a number" in msg


def test_ragged_csv_row(tmp_path: Path) -> None:
    msg = read_error(write(tmp_path, "r.csv", "date,tanks\n2024-01-01,1\n2024-01-02,2,3\n"))
    assert "line 3" in msg
    assert "has 3 fields; expected 2" in msg


def test_two_columns_for_one_series(tmp_path: Path) -> None:
    msg = read_error(write(tmp_path, "t.csv", "date,tank,tanks\n2024-01-01,1,1\n"))
    assert "header" in msg
    assert "'tank' and 'tanks'" in msg and "series 'tanks'" in msg


def test_two_json_keys_for_one_series_must_agree(tmp_path: Path) -> None:
    text = '[{"date": "2024-01-01", "tank": 1}, {"date": "2024-01-02", "tank": 2, "tanks": 3}]'
    msg = read_error(write(tmp_path, "t.json", text))
    assert "item 2 (2024-01-02)" in msg
    assert "'tank' and 'tanks'" in msg and "2 and 3" in msg
    # Agreeing (or complementary) keys are merged.
    text = '[{"date": "2024-01-01", "tank": 1}, {"date": "2024-01-02", "tanks": 3}]'
    rows = rows_of(read_file(write(tmp_path, "ok.json", text)).table, "tanks")
    assert [r["cumulative"] for r in rows] == [1, 3]


def test_duplicate_column_name(tmp_path: Path) -> None:
    msg = read_error(write(tmp_path, "dd.csv", "date,tanks,tanks\n2024-01-01,1,1\n"))
    assert "column 'tanks' appears twice" in msg


@pytest.mark.parametrize("name", ["!!!", ""])
def test_column_name_without_letters(tmp_path: Path, name: str) -> None:
    # Used to produce a series called ''.
    msg = read_error(write(tmp_path, "x.csv", f"date,tanks,{name}\n2024-01-01,1,5\n"))
    assert f"column {name!r}" in msg and "no letters or digits" in msg


def test_trailing_comma_column_is_ignored(tmp_path: Path) -> None:
    data = read_file(write(tmp_path, "x.csv", "date,tanks,\n2024-01-01,1,\n2024-01-02,3,\n"))
    assert data.series_names == ["tanks"]


def test_unknown_kind_and_format(tmp_path: Path) -> None:
    # Used to read an unknown kind as daily and an unknown format as JSON.
    path = write(tmp_path, "k.csv", "date,tanks\n2024-01-01,1\n2024-01-02,3\n")
    msg = read_error(path, kind="Daily")
    assert "'Daily' is not a kind" in msg and "'cumulative' or 'daily'" in msg
    msg = read_error(path, fmt="xml")
    assert "'xml' is not a format" in msg and "romansverdan" in msg
    with pytest.raises(DataError, match="'weekly' is not a kind"):
        load(path, kind="weekly")


def test_corrupt_parquet(tmp_path: Path) -> None:
    msg = read_error(write(tmp_path, "c.parquet", b"PAR1 this is not parquet at all"))
    assert "not a readable Parquet file" in msg


def test_parquet_with_out_of_range_date(tmp_path: Path) -> None:
    # Used to escape as a pyo3 PanicException (a BaseException) from polars.
    dates = pl.Series([2**31 - 1, 19_000], dtype=pl.Int32).cast(pl.Date)
    path = tmp_path / "oor.parquet"
    pl.DataFrame({"date": dates, "tanks": [1, 2]}).write_parquet(path)
    msg = read_error(path)
    assert "column 'date'" in msg


def test_corrupted_parquet_bytes_never_escape(tmp_path: Path) -> None:
    # Seeded byte flips of a valid file: polars panics on a few of them (PanicException).
    buf = io.BytesIO()
    dates = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(20)]
    pl.DataFrame({"date": dates, "tanks": range(20), "note": ["a"] * 20}).write_parquet(buf)
    good = buf.getvalue()
    rng = random.Random(20241112)
    path = tmp_path / "m.parquet"
    for _ in range(1500):
        mutated = bytearray(good)
        for _ in range(rng.randint(1, 5)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        path.write_bytes(bytes(mutated))
        try:
            check_table(read_file(path).table)
        except DataError as err:
            assert "\n" not in str(err)


def test_nonexistent_path(tmp_path: Path) -> None:
    msg = read_error(tmp_path / "nope.csv")
    assert "no such file" in msg
    with pytest.raises(DataError, match="no such file"):
        load_all([tmp_path / "nope.csv"])


def test_directory_path(tmp_path: Path) -> None:
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    msg = read_error(folder)
    assert "is a directory" in msg


def test_only_nulls(tmp_path: Path) -> None:
    msg = read_error(write(tmp_path, "n.csv", "date,tanks\n2024-01-01,\n2024-01-02,NA\n"))
    assert "no figures found" in msg


# --------------------------------------------------------------------------- generic readers


def test_csv_cumulative_columns(tmp_path: Path) -> None:
    text = csv_text(
        ["date", "personnel", "tanks"],
        [["2024-01-01", 1000, 10], ["2024-01-02", 1500, 12], ["2024-01-03", 2200, 12]],
    )
    data = read_file(write(tmp_path, "cum.csv", text))
    check_table(data.table)
    assert data.series_names == ["personnel", "tanks"]
    rows = rows_of(data.table, "personnel")
    assert [r["cumulative"] for r in rows] == [1000, 1500, 2200]
    assert [r["daily"] for r in rows] == [None, 500, 700]
    assert [r["flags"] for r in rows] == [["first"], [], []]
    assert [r["daily"] for r in rows_of(data.table, "tanks")] == [None, 2, 0]


def test_csv_daily_columns_are_detected_and_accumulated(tmp_path: Path) -> None:
    counts = [5, 3, 8, 2, 6, 1, 7]
    text = csv_text(["date", "tanks"], list(zip(days(dt.date(2024, 3, 1), 7), counts, strict=True)))
    rows = rows_of(read_file(write(tmp_path, "daily.csv", text)).table, "tanks")
    assert [r["daily"] for r in rows] == counts  # the first day's count is known
    assert [r["cumulative"] for r in rows] == [5, 8, 16, 18, 24, 25, 32]
    assert all(r["flags"] == ["from_daily"] for r in rows)


def test_kind_override(tmp_path: Path) -> None:
    # Increasing figures look cumulative; kind='daily' says they are counts.
    path = write(
        tmp_path,
        "k.csv",
        csv_text(["date", "tanks"], [["2024-01-01", 1], ["2024-01-02", 2], ["2024-01-03", 4]]),
    )
    assert [r["daily"] for r in rows_of(read_file(path).table, "tanks")] == [None, 1, 2]
    daily = rows_of(read_file(path, kind="daily").table, "tanks")
    assert [r["cumulative"] for r in daily] == [1, 3, 7]
    assert [r["daily"] for r in daily] == [1, 2, 4]
    # load() passes kind on, as the CLI's --kind does.
    assert load(path, kind="daily").table.get_column("cumulative").to_list() == [1, 3, 7]


def test_semicolon_delimited_csv(tmp_path: Path) -> None:
    text = csv_text(
        ["date", "tanks", "personnel"], [["2024-01-01", 1, 100], ["2024-01-02", 3, 150]], sep=";"
    )
    data = read_file(write(tmp_path, "semi.csv", text))
    assert data.series_names == ["personnel", "tanks"]
    assert [r["daily"] for r in rows_of(data.table, "personnel")] == [None, 50]


def test_tab_delimited_csv(tmp_path: Path) -> None:
    text = csv_text(["date", "tanks"], [["2024-01-01", 1], ["2024-01-02", 3]], sep="\t")
    assert [
        r["daily"] for r in rows_of(read_file(write(tmp_path, "tab.csv", text)).table, "tanks")
    ] == [None, 2]


@pytest.mark.parametrize(
    ("first", "second"), [("2024/01/02", "2024/01/03"), ("02.01.2024", "03.01.2024")]
)
def test_other_date_formats(tmp_path: Path, first: str, second: str) -> None:
    path = write(tmp_path, "d.csv", csv_text(["date", "tanks"], [[first, 1], [second, 4]]))
    table = read_file(path).table
    assert table.get_column("date").to_list() == [dt.date(2024, 1, 2), dt.date(2024, 1, 3)]
    assert table.get_column("daily").to_list() == [None, 3]


def test_newest_first_totals_are_detected_as_cumulative(tmp_path: Path) -> None:
    # detect_kind used to look at file order, so totals listed newest first (decreasing down
    # the file) were read as daily counts and summed.
    dates = days(dt.date(2024, 1, 1), 5)[::-1]
    text = csv_text(
        ["date", "tanks"], [[d, v] for d, v in zip(dates, [50, 40, 30, 20, 10], strict=True)]
    )
    rows = rows_of(read_file(write(tmp_path, "newest.csv", text)).table, "tanks")
    assert [r["cumulative"] for r in rows] == [10, 20, 30, 40, 50]
    assert [r["daily"] for r in rows] == [None, 10, 10, 10, 10]


def test_rows_out_of_order_are_sorted(tmp_path: Path) -> None:
    text = csv_text(["date", "tanks"], [["2024-01-03", 9], ["2024-01-01", 1], ["2024-01-02", 4]])
    rows = rows_of(read_file(write(tmp_path, "o.csv", text)).table, "tanks")
    assert [r["cumulative"] for r in rows] == [1, 4, 9]
    assert [r["daily"] for r in rows] == [None, 3, 5]


def test_parquet_round_trips_like_csv(tmp_path: Path) -> None:
    dates = [dt.date(2024, 1, 1), dt.date(2024, 1, 2), dt.date(2024, 1, 5)]
    values = {"personnel": [100, 180, 400], "tanks": [2, 2, 5]}
    text = csv_text(
        ["date", "personnel", "tanks"],
        [
            [d.isoformat(), p, t]
            for d, p, t in zip(dates, values["personnel"], values["tanks"], strict=True)
        ],
    )
    expected = read_file(write(tmp_path, "f.csv", text)).table
    check_table(expected)
    with_dates = tmp_path / "dates.parquet"
    pl.DataFrame({"date": dates, **values}).write_parquet(with_dates)
    with_text = tmp_path / "text.parquet"
    pl.DataFrame({"date": [d.isoformat() for d in dates], **values}).write_parquet(with_text)
    for path in (with_dates, with_text):
        data = read_file(path)
        assert data.files[0].format == "parquet"
        assert_frame_equal(data.table, expected)


def test_parquet_zoned_timestamps_keep_their_local_date(tmp_path: Path) -> None:
    # Used to take the UTC date, putting 2024-01-02 00:00 Kyiv on 2024-01-01.
    stamps = pl.Series([dt.datetime(2024, 1, 1, 12), dt.datetime(2024, 1, 2, 0)])
    path = tmp_path / "tz.parquet"
    df = pl.DataFrame({"date": stamps.dt.replace_time_zone("Europe/Kyiv"), "tanks": [1, 3]})
    df.write_parquet(path)
    table = read_file(path).table
    assert table.get_column("date").to_list() == [dt.date(2024, 1, 1), dt.date(2024, 1, 2)]


def test_parquet_messages_name_the_row(tmp_path: Path) -> None:
    path = tmp_path / "f.parquet"
    pl.DataFrame({"date": ["2024-01-01", "2024-01-02"], "tanks": [1.0, 2.5]}).write_parquet(path)
    msg = read_error(path)
    assert "row 2" in msg and "column 'tanks'" in msg and "2.5" in msg


def test_generic_json_records(tmp_path: Path) -> None:
    records = [
        {"date": "2024-01-01", "tanks": 3, "note": "first report"},
        {"date": "2024-01-02", "tanks": 5, "note": None},
        {"date": "2024-01-03", "tanks": None},
        {"date": "2024-01-04", "tanks": 9, "uav": 40},
    ]
    data = read_file(write(tmp_path, "recs.json", json.dumps(records)))
    assert data.files[0].format == "json"
    assert data.series_names == ["tanks", "uav"]  # 'note' is not a series
    rows = rows_of(data.table, "tanks")
    assert [r["date"].day for r in rows] == [1, 2, 4]
    assert [r["daily"] for r in rows] == [None, 2, 4]
    assert rows[2]["flags"] == ["after_gap"]
    assert rows_of(data.table, "uav") == [
        {
            "date": dt.date(2024, 1, 4),
            "series": "uav",
            "cumulative": 40,
            "daily": None,
            "flags": ["first"],
        }
    ]


def test_column_aliases(tmp_path: Path) -> None:
    text = csv_text(
        ["Date", "Tanks", "APC", "field artillery", "airDefense", "Personnel", "day"],
        [["2024-01-01", 1, 2, 3, 4, 5, 1], ["2024-01-02", 2, 3, 4, 5, 6, 2]],
    )
    data = read_file(write(tmp_path, "alias.csv", text))
    assert data.series_names == ["personnel", "tanks", "afv", "artillery", "air_defense"]
    assert rows_of(data.table, "afv")[1]["cumulative"] == 3


def test_gap_is_flagged_and_daily_covers_the_span(tmp_path: Path) -> None:
    text = csv_text(
        ["date", "tanks"],
        [["2024-01-01", 10], ["2024-01-02", 12], ["2024-01-06", 20], ["2024-01-07", 21]],
    )
    rows = rows_of(read_file(write(tmp_path, "gap.csv", text)).table, "tanks")
    assert [r["flags"] for r in rows] == [["first"], [], ["after_gap"], []]
    assert rows[2]["daily"] == 8  # the whole change from 2024-01-02 to 2024-01-06


def test_gap_in_daily_counts(tmp_path: Path) -> None:
    text = csv_text(["date", "tanks"], [["2024-01-01", 5], ["2024-01-04", 1], ["2024-01-05", 7]])
    rows = rows_of(read_file(write(tmp_path, "gap.csv", text), kind="daily").table, "tanks")
    assert [r["flags"] for r in rows] == [
        ["from_daily"],
        ["after_gap", "from_daily"],
        ["from_daily"],
    ]
    assert [r["cumulative"] for r in rows] == [5, 6, 13]


def test_unknown_column_names_are_normalised(tmp_path: Path) -> None:
    text = csv_text(
        ["date", "FPV drones", "groundRobots"], [["2024-01-01", 1, 0], ["2024-01-02", 5, 1]]
    )
    data = read_file(write(tmp_path, "u.csv", text))
    assert set(data.series_names) == {"fpv_drones", "ground_robots"}


def test_series_filter(tmp_path: Path) -> None:
    text = csv_text(
        ["date", "tanks", "APC", "personnel"], [["2024-01-01", 1, 2, 3], ["2024-01-02", 2, 3, 4]]
    )
    path = write(tmp_path, "s.csv", text)
    # Canonical names and aliases both select.
    assert read_file(path, series=["tanks", "APC"]).series_names == ["tanks", "afv"]
    msg = read_error(path, series=["tanks", "helicopters"])
    assert "series 'helicopters'" in msg and "not in this file" in msg
    assert "afv, personnel, tanks" in msg


def test_reported_by_and_provenance(tmp_path: Path) -> None:
    content = "date,tanks\n2024-01-01,1\n2024-01-02,2\n"
    path = write(tmp_path, "mine.csv", content)
    data = read_file(path)
    assert data.reported_by.startswith("unstated")
    assert "mine.csv" in data.reported_by
    assert data.source == "mine"
    assert data.files[0].sha256 == hashlib.sha256(content.encode()).hexdigest()
    assert data.files[0].format == "csv"
    named = read_file(
        path, reported_by="the Ministry of Examples", source="ex", url="https://x.test/f"
    )
    assert named.reported_by == "the Ministry of Examples"
    assert named.source == "ex"
    assert named.provenance()["files"][0]["url"] == "https://x.test/f"  # type: ignore[index]


def test_detect_format_from_content(tmp_path: Path) -> None:
    cases = {
        "a.csv": (b"date,tanks\n2024-01-01,1\n", "csv"),
        "b.txt": (b'[{"date": "2024-01-01", "tanks": 1}]', "json"),
        "c.json": (b'[{"date": "2024-01-01", "sourceUri": "u", "afvs": 1}]', "lod-db"),
        "d.json": (
            b'[{"date": "2024-01-01", "personnel": 1, "personnel*": "about"}]',
            "petroivaniuk-personnel",
        ),
        "e.json": (b'[{"date": "2024-01-01", "APC": 1}]', "petroivaniuk-equipment"),
        "e_correction.json": (b'[{"date": "2024-01-01", "APC": 1}]', "petroivaniuk-correction"),
        "f.csv": (b"date,day,personnel,tanks,apv,aaws\n", "romansverdan"),
        "g.bin": (b"PAR1....", "parquet"),
    }
    for name, (content, fmt) in cases.items():
        assert fmt in FORMATS
        assert detect_format(Path(name), content) == fmt, name


# --------------------------------------------------------------------------- detect_kind


def test_detect_kind_one_correction_stays_cumulative(tmp_path: Path) -> None:
    totals = list(accumulate([3 + (i % 5) for i in range(100)]))
    totals[60] = totals[59] - 4  # one official correction: the total goes down once
    totals[61] = totals[60] + 6
    assert sorted(totals) != totals
    assert detect_kind(pl.Series(totals)) == "cumulative"
    text = csv_text(
        ["date", "tanks"], list(zip(days(dt.date(2023, 1, 1), 100), totals, strict=True))
    )
    rows = rows_of(read_file(write(tmp_path, "c.csv", text)).table, "tanks")
    assert rows[60]["daily"] == -4
    assert rows[60]["flags"] == ["correction"]
    assert sum(1 for r in rows if r["flags"] == ["correction"]) == 1


def test_detect_kind_rare_events_are_daily() -> None:
    events = [1 if i % 9 == 4 else 0 for i in range(120)]
    assert detect_kind(pl.Series(events)) == "daily"
    assert detect_kind(pl.Series([0, 0, 0, 1, 0, 0, 0, 0, 1, 0])) == "daily"


def test_detect_kind_share_of_decreases() -> None:
    base = list(accumulate([5] * 101))  # 100 increasing steps

    def with_drops(n: int) -> list[int]:
        values = list(base)
        for k in range(n):
            i = 10 + 20 * k
            values[i] = values[i - 1] - 1
        return values

    assert detect_kind(pl.Series(with_drops(2))) == "cumulative"  # 2 of 100 steps: 2%
    assert detect_kind(pl.Series(with_drops(3))) == "daily"  # 3 of 100 steps: over 2%
    # The second condition: at most a quarter as many decreases as increases.
    flat = [100] * 200
    for i, j in ((20, 21), (60, 61), (100, 101), (140, 141)):
        flat[i], flat[j] = 0, 100  # 4 dips: 4 decreases, 4 increases, 2% of steps
    assert detect_kind(pl.Series(flat)) == "daily"
    assert detect_kind(pl.Series([7, 7, 7, None, 7])) == "cumulative"  # never changes
    assert detect_kind(pl.Series([4, 3])) == "daily"


# --------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def real() -> Path:
    if not REAL.is_dir():
        pytest.skip(f"real compilations not found at {REAL} (../shared/data beside the checkout)")
    for name in (PI_PERSONNEL, PI_EQUIPMENT, PI_CORRECTION, LODDB, ROMANSVERDAN):
        if not (REAL / name).is_file():
            pytest.skip(f"real compilation {REAL / name} not found")
    return REAL


@pytest.mark.parametrize(
    ("name", "fmt", "source"),
    [
        (PI_PERSONNEL, "petroivaniuk-personnel", "petroivaniuk"),
        (PI_EQUIPMENT, "petroivaniuk-equipment", "petroivaniuk"),
        (PI_CORRECTION, "petroivaniuk-correction", "petroivaniuk"),
        (LODDB, "lod-db", "lod-db"),
        (ROMANSVERDAN, "romansverdan", "romansverdan"),
    ],
)
def test_real_files_load_with_detected_format(real: Path, name: str, fmt: str, source: str) -> None:
    path = real / name
    assert detect_format(path, path.read_bytes()) == fmt
    data = read_file(path)
    assert data.files[0].format == fmt
    assert data.source == source
    assert data.reported_by == GENERAL_STAFF
    if fmt == "petroivaniuk-correction":
        assert data.table.height == 0
        assert data.corrections.height > 0
    else:
        check_table(data.table)
        assert data.table.get_column("date").max() == dt.date(2026, 2, 28)


@pytest.mark.parametrize("name", [PI_PERSONNEL, LODDB, ROMANSVERDAN])
def test_seed_article_check(real: Path, name: str) -> None:
    rows = {r["date"]: r for r in rows_of(read_file(real / name).table, "personnel")}
    assert rows[dt.date(2024, 11, 11)]["daily"] == 1770
    assert rows[dt.date(2024, 11, 12)]["daily"] == 1950
    assert rows[dt.date(2024, 11, 12)]["cumulative"] == 712_610


def test_petroivaniuk_files_load_together(real: Path) -> None:
    loaded = load_all([real / PI_PERSONNEL, real / PI_EQUIPMENT, real / PI_CORRECTION])
    assert len(loaded) == 1
    data = loaded[0]
    assert data.source == "petroivaniuk"
    assert data.reported_by == GENERAL_STAFF
    assert [f.format for f in data.files] == [
        "petroivaniuk-personnel",
        "petroivaniuk-equipment",
        "petroivaniuk-correction",
    ]
    assert {"personnel", "tanks", "afv", "artillery", "vehicles", "fuel_tanks"} <= set(
        data.series_names
    )
    check_table(
        data.table.with_columns(pl.col("flags").list.set_difference(["official_correction"]))
    )

    corr = {(r["date"], r["series"]): r["delta"] for r in data.corrections.to_dicts()}
    assert corr[(dt.date(2022, 10, 13), "afv")] == -25
    assert corr[(dt.date(2022, 10, 13), "artillery")] == 32
    assert corr[(dt.date(2023, 5, 27), "tanks")] == -5
    assert (dt.date(2022, 10, 13), "tanks") not in corr  # a zero delta is no correction

    def flags(series: str, day: dt.date) -> list[str]:
        return list(
            data.table.filter((pl.col("series") == series) & (pl.col("date") == day))
            .get_column("flags")
            .item()
            .to_list()
        )

    assert "official_correction" in flags("afv", dt.date(2022, 10, 13))
    assert "correction" in flags("afv", dt.date(2022, 10, 13))  # the total went down that day
    assert "official_correction" in flags("artillery", dt.date(2023, 5, 27))
    assert "official_correction" not in flags("tanks", dt.date(2022, 10, 13))
    assert "official_correction" not in flags("afv", dt.date(2022, 10, 12))
    # Exactly the (date, series) pairs of the correction file are marked.
    marked = data.table.filter(pl.col("flags").list.contains("official_correction"))
    assert {(r["date"], r["series"]) for r in marked.to_dicts()} == set(corr)


def test_petroivaniuk_correction_file_alone_is_refused(real: Path) -> None:
    with pytest.raises(DataError, match="only corrections"):
        load_all([real / PI_CORRECTION])


def test_petroivaniuk_military_auto_continues_as_vehicles(real: Path) -> None:
    table = read_file(real / PI_EQUIPMENT).table
    vehicles = {r["date"]: r for r in rows_of(table, "vehicles")}
    # "military auto" until 2022-04-30, then "vehicles and fuel tanks": one series, no gap.
    assert min(vehicles) == dt.date(2022, 2, 25)
    assert vehicles[dt.date(2022, 4, 30)]["cumulative"] == 1701
    assert vehicles[dt.date(2022, 5, 1)]["cumulative"] == 1796
    assert vehicles[dt.date(2022, 5, 1)]["daily"] == 95
    assert vehicles[dt.date(2022, 5, 1)]["flags"] == []
    fuel = rows_of(table, "fuel_tanks")
    assert fuel[0]["date"] == dt.date(2022, 2, 25)
    assert fuel[-1]["date"] == dt.date(2022, 4, 30)
    assert fuel[-1]["cumulative"] == 76
    assert "military_auto" not in table.get_column("series").unique().to_list()


def test_loddb_nulls_are_absent_rows_and_order_is_by_date(real: Path) -> None:
    path = real / LODDB
    items = json.loads(path.read_text(encoding="utf-8"))
    assert items[0]["date"] > items[-1]["date"]  # the file lists the newest day first
    table = read_file(path).table
    reported = sorted(
        dt.date.fromisoformat(i["date"]) for i in items if i.get("submarines") is not None
    )
    subs = rows_of(table, "submarines")
    assert [r["date"] for r in subs] == reported
    assert any(i.get("submarines") is None for i in items)
    assert subs[0]["flags"] == ["first"]
    assert subs[0]["date"] > dt.date(2023, 1, 1)
    personnel = rows_of(table, "personnel")
    assert personnel[0]["date"] == dt.date(2022, 2, 27)
    assert personnel[-1]["date"] == dt.date(2026, 2, 28)
    assert personnel[-1]["cumulative"] == 1_265_900
    # Read in date order, the totals only ever grow.
    assert all(r["daily"] >= 0 for r in personnel[1:])
    assert any("after_gap" in r["flags"] for r in personnel)


# --------------------------------------------------------------------------- properties


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


def test_csv_with_bare_carriage_returns_reads(tmp_path: Path) -> None:
    path = tmp_path / "mac.csv"
    path.write_bytes(b"date,tanks\r2024-01-01,10\r2024-01-02,13\r2024-01-03,15\r")
    table = read_file(path).series("tanks")
    assert table.get_column("daily").to_list() == [None, 3, 2]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("-2024-01-05", "is not a"),
        ("2204-01-05", "is not a plausible report date"),
        ("0001-01-05", "is not a plausible report date"),
    ],
)
def test_implausible_dates_are_errors(tmp_path: Path, cell: str, expected: str) -> None:
    path = tmp_path / "typo.csv"
    path.write_text(f"date,personnel\n2024-01-04,100\n{cell},110\n2024-01-06,120\n")
    with pytest.raises(DataError) as info:
        read_file(path)
    assert "line 3" in str(info.value) and expected in str(info.value)


def test_more_datetime_forms_are_dates(tmp_path: Path) -> None:
    path = tmp_path / "times.csv"
    path.write_text("date,tanks\n2024-01-01 00:00,1\n2024-01-02 08:30,3\n2024-01-03 23:59,4\n")
    assert read_file(path).series("tanks").get_column("cumulative").to_list() == [1, 3, 4]
    path.write_text("date,tanks\n2024-01-01T00:00:00Z,1\n2024-01-02T08:00:00Z,3\n")
    assert read_file(path).series("tanks").height == 2


def test_short_cumulative_file_with_one_correction_stays_cumulative(tmp_path: Path) -> None:
    # 12 rows, one official correction: the rule allows one decrease however short the file
    totals = [3790, 3791, 3794, 3796, 3794, 3797, 3800, 3804, 3806, 3810, 3811, 3815]
    path = tmp_path / "short.csv"
    path.write_text(
        "date,tanks\n"
        + "".join(f"2023-05-{d:02d},{v}\n" for d, v in zip(range(20, 32), totals, strict=True))
    )
    table = read_file(path).series("tanks")
    assert table.get_column("cumulative").to_list() == totals
    assert "from_daily" not in table.get_column("flags").explode().to_list()
