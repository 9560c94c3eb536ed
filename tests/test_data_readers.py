"""Tests of :mod:`simulate.data.readers`: one reader per file layout.

Bad input must give a :class:`~simulate.errors.DataError` whose message is one line naming the
file, the line/item/key and what was expected; good input must give the documented table. The
real public compilations in ``../shared/data/general-staff`` are read when present (the
``shared`` fixture skips, saying so, when they are not). Property tests with random input are
in ``test_data_readers_properties.py``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import random
from pathlib import Path

import polars as pl
import pytest
from data_helpers import check_table, csv_text, days, read_error, rows_of, write
from polars.testing import assert_frame_equal

from simulate.data.loading import load, load_all
from simulate.data.readers import FORMATS, detect_format, read_file
from simulate.data.sources import GENERAL_STAFF
from simulate.errors import DataError

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


def test_non_utf8_bytes_name_the_line(tmp_path: Path) -> None:
    content = b"date,tanks\n2024-01-01,1\n2024-01-02,2\xff\xfe\n2024-01-03,3\n"
    msg = read_error(write(tmp_path, "u.csv", content))
    assert "line 3" in msg
    assert "0xff" in msg and "UTF-8" in msg


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    data = read_file(write(tmp_path, "b.csv", b"\xef\xbb\xbfdate,tanks\n2024-01-01,4\n"))
    assert data.series_names == ["tanks"]


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


def test_more_datetime_forms_are_dates(tmp_path: Path) -> None:
    path = tmp_path / "times.csv"
    path.write_text("date,tanks\n2024-01-01 00:00,1\n2024-01-02 08:30,3\n2024-01-03 23:59,4\n")
    assert read_file(path).series("tanks").get_column("cumulative").to_list() == [1, 3, 4]
    path.write_text("date,tanks\n2024-01-01T00:00:00Z,1\n2024-01-02T08:00:00Z,3\n")
    assert read_file(path).series("tanks").height == 2


def test_csv_with_bare_carriage_returns_reads(tmp_path: Path) -> None:
    path = tmp_path / "mac.csv"
    path.write_bytes(b"date,tanks\r2024-01-01,10\r2024-01-02,13\r2024-01-03,15\r")
    table = read_file(path).series("tanks")
    assert table.get_column("daily").to_list() == [None, 3, 2]


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


# --------------------------------------------------------------------------- real data


@pytest.mark.parametrize(
    ("name", "fmt", "source"),
    [
        ("pi_personnel", "petroivaniuk-personnel", "petroivaniuk"),
        ("pi_equipment", "petroivaniuk-equipment", "petroivaniuk"),
        ("pi_correction", "petroivaniuk-correction", "petroivaniuk"),
        ("loddb", "lod-db", "lod-db"),
        ("romansverdan", "romansverdan", "romansverdan"),
    ],
)
def test_real_files_load_with_detected_format(
    shared: dict[str, Path], name: str, fmt: str, source: str
) -> None:
    path = shared[name]
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


@pytest.mark.parametrize("name", ["pi_personnel", "loddb", "romansverdan"])
def test_seed_article_check(shared: dict[str, Path], name: str) -> None:
    rows = {r["date"]: r for r in rows_of(read_file(shared[name]).table, "personnel")}
    assert rows[dt.date(2024, 11, 11)]["daily"] == 1770
    assert rows[dt.date(2024, 11, 12)]["daily"] == 1950
    assert rows[dt.date(2024, 11, 12)]["cumulative"] == 712_610


def test_petroivaniuk_military_auto_continues_as_vehicles(shared: dict[str, Path]) -> None:
    table = read_file(shared["pi_equipment"]).table
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


def test_loddb_nulls_are_absent_rows_and_order_is_by_date(shared: dict[str, Path]) -> None:
    path = shared["loddb"]
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
