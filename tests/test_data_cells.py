"""Tests of :mod:`simulate.data.cells`: one date or count cell, parsed or refused with a
message naming where it is (the readers' tests check the same through whole files)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulate.data.cells import parse_counts, parse_dates
from simulate.errors import DataError


@settings(max_examples=100, deadline=None, database=None)
@given(st.lists(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)), max_size=20))
def test_counts_round_trip_as_numbers_and_as_text(values: list[int | None]) -> None:
    where = [f"row {i + 1}" for i in range(len(values))]
    as_text = ["" if v is None else f" {v} " for v in values]
    for cells in (values, as_text):
        got = parse_counts(cells, where=where, file="f.csv", label="column 'tanks'")
        assert got.to_list() == values


def test_counts_blank_forms_are_not_reported() -> None:
    cells = ["NA", "nan", "null", "None", "-", float("nan"), 12.0, "7"]
    got = parse_counts(cells, where=["x"] * len(cells), file="f.csv", label="column 'tanks'")
    assert got.to_list() == [None] * 6 + [12, 7]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (True, "True is not a count"),
        (2.5, "2.5 is not a whole number"),
        ("12a", "'12a' is not a number"),
        ("1e400", "'1e400' is not a whole number"),
        (2**63, "is too large for a count"),
    ],
)
def test_bad_counts_name_the_cell(cell: object, expected: str) -> None:
    with pytest.raises(DataError) as info:
        parse_counts([1, cell], where=["line 2", "line 3"], file="f.csv", label="column 'tanks'")
    msg = str(info.value)
    assert msg.startswith("f.csv: line 3, column 'tanks'") and expected in msg


@settings(max_examples=100, deadline=None, database=None)
@given(st.dates(dt.date(1900, 1, 1), dt.date.today()))
def test_dates_in_every_accepted_form(day: dt.date) -> None:
    forms = [
        day.isoformat(),
        day.strftime("%Y/%m/%d"),
        day.strftime("%d.%m.%Y"),
        f"{day.isoformat()} 08:30",
        f"{day.isoformat()}T23:59:00Z",
    ]
    for form in forms:
        assert parse_dates([form], where=["line 2"], file="f.csv").to_list() == [day]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("", "date is empty"),
        ("2024-02-30", "'2024-02-30' is not a valid date"),
        ("x\ny", "is not a valid date"),
        ("1899-12-31", "is not a plausible report date"),
        ((dt.date.today() + dt.timedelta(days=2)).isoformat(), "is not a plausible report date"),
    ],
)
def test_bad_dates_name_the_cell(cell: str, expected: str) -> None:
    with pytest.raises(DataError) as info:
        parse_dates(["2024-01-01", cell], where=["line 2", "line 3"], file="f.csv")
    msg = str(info.value)
    assert msg.startswith("f.csv: line 3") and expected in msg and "\n" not in msg
