"""Tests of :mod:`simulate.data.reported`: the tidy table that :func:`.reported.assemble` builds
from a reader's rows (duplicates, decreasing or negative totals, overflowing counts, gap
flags) and the documented rule of :func:`.reported.detect_kind`.
"""

from __future__ import annotations

import datetime as dt
from itertools import accumulate
from pathlib import Path

import polars as pl
from data_helpers import csv_text, days, read_error, rows_of, write

from simulate.data.readers import read_file
from simulate.data.reported import detect_kind

# --------------------------------------------------------------------------- assembling the table


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


def _decreasing_file(directory: Path) -> Path:
    rows = list(zip(days(dt.date(2024, 1, 1), 8), DECREASING, strict=True))
    return write(directory, "dec.csv", csv_text(["date", "tanks"], rows))


def test_decreasing_totals_declared_cumulative_is_an_error(tmp_path: Path) -> None:
    path = _decreasing_file(tmp_path)
    msg = read_error(path, kind="cumulative")
    assert "line 3" in msg  # the first decrease, 10 -> 5
    assert "'tanks'" in msg
    assert "decrease on 4 of 7 steps" in msg and "2024-01-02" in msg
    assert "kind='daily'" in msg


def test_same_decreasing_column_is_detected_as_daily(tmp_path: Path) -> None:
    path = _decreasing_file(tmp_path)
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


def test_daily_counts_overflowing_the_total(tmp_path: Path) -> None:
    # Used to wrap around silently to negative cumulative totals; now any running total
    # beyond MAX_TOTAL (2**53) is refused.
    n = 2**52 + 1
    path = write(tmp_path, "n.csv", f"date,tanks\n2024-01-01,{n}\n2024-01-02,{n}\n")
    msg = read_error(path, kind="daily")
    assert "line 3" in msg and "'tanks'" in msg and "add up to more" in msg


def test_only_nulls(tmp_path: Path) -> None:
    msg = read_error(write(tmp_path, "n.csv", "date,tanks\n2024-01-01,\n2024-01-02,NA\n"))
    assert "no figures found" in msg


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
    # 3 of 100 steps: over 2%, but a rising total with a few drops is a total with errors
    # (read as cumulative, and reading refuses it), not daily counts (issue 13).
    assert detect_kind(pl.Series(with_drops(3))) == "cumulative"
    # The second condition: at most a quarter as many decreases as increases.
    flat = [100] * 200
    for i, j in ((20, 21), (60, 61), (100, 101), (140, 141)):
        flat[i], flat[j] = 0, 100  # 4 dips: 4 decreases, 4 increases, 2% of steps
    assert detect_kind(pl.Series(flat)) == "daily"
    assert detect_kind(pl.Series([7, 7, 7, None, 7])) == "cumulative"  # never changes
    assert detect_kind(pl.Series([4, 3])) == "daily"


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
