"""simulate.scenarios.rules: each kind of value checks, converts and describes itself."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulate.errors import ScenarioError
from simulate.scenarios.rules import (
    Array,
    Choice,
    Key,
    Number,
    Table,
    Whole,
    join,
    show,
)


def fail(path: str, message: str) -> ScenarioError:
    return ScenarioError("f.toml", path, message)


def message(rule: Any, value: Any) -> str:
    with pytest.raises(ScenarioError) as info:
        rule.check(value, "k", fail)
    return str(info.value).removeprefix("f.toml: k: ")


@pytest.mark.parametrize(
    ("rule", "expected", "schema"),
    [
        (Number(gt=0), "must be > 0, got 0", {"type": "number", "exclusiveMinimum": 0}),
        (Number(ge=0, lt=1), "must be >= 0 and < 1, got 1",
         {"type": "number", "minimum": 0, "exclusiveMaximum": 1}),
        (Number(gt=0, lt=1), "must be strictly between 0 and 1, got 1",
         {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}),
        (Number(ge=0, lt=1, wording="a probability"), "must be a probability >= 0 and < 1, got 1",
         {"type": "number", "minimum": 0, "exclusiveMaximum": 1}),
    ],
)  # fmt: skip
def test_number_bounds_say_what_the_schema_says(
    rule: Number, expected: str, schema: dict[str, Any]
) -> None:
    value = 0 if "> 0," in expected else 1
    assert message(rule, value) == expected
    assert rule.schema() == schema


@given(st.floats(allow_nan=False, allow_infinity=False), st.floats(0, 1), st.floats(0, 1))
def test_a_number_is_accepted_exactly_within_its_bounds(x: float, lo: float, hi: float) -> None:
    rule = Number(gt=lo, lt=hi)
    inside = lo < x < hi
    try:
        assert rule.check(x, "k", fail) == x
    except ScenarioError:
        assert not inside
    else:
        assert inside


def test_whole_numbers() -> None:
    rule = Whole(minimum=1)
    assert rule.check(3, "k", fail) == 3
    assert message(rule, True) == "must be a whole number, got true"
    assert message(rule, 0) == "must be >= 1, got 0"
    days = Whole(minimum=14, wording="a whole number of days >= 14")
    assert message(days, "all") == message(days, 7).replace("7", "'all'")


def test_choice_and_its_schema() -> None:
    rule = Choice(options=("a", "b"), doc="pick one")
    assert message(rule, "c") == "must be one of 'a', 'b', got 'c'"
    assert rule.schema() == {"enum": ["a", "b"], "description": "pick one"}


def test_array_ascending_and_empty() -> None:
    rule = Array(item=Whole(minimum=1), ascending="levels", min_items=1, empty="give one")
    assert rule.check([1, 2], "k", fail) == (1, 2)
    with pytest.raises(
        ScenarioError, match=r"^f\.toml: k\[1\]: levels must be sorted and unique; 2 follows 2$"
    ):
        rule.check([2, 2], "k", fail)
    assert message(rule, []) == "give one"
    with pytest.raises(ScenarioError, match=r"^f\.toml: k\[1\]: must be >= 1, got 0$"):
        rule.check([1, 0], "k", fail)
    assert rule.schema()["uniqueItems"] is True and rule.schema()["minItems"] == 1


def test_table_keys_order_defaults_and_schema() -> None:
    rule = Table(
        keys={"a": Key(Whole(minimum=0), required=True), "b": Key(Whole(minimum=0), default=5)}
    )
    assert rule.check({"a": 1}, "t", fail) == {"a": 1, "b": 5}
    with pytest.raises(ScenarioError, match=r'^f\.toml: k\."c d": unknown key; allowed: a, b$'):
        rule.check({"a": 1, "c d": 2}, "k", fail)
    with pytest.raises(ScenarioError, match=r"^f\.toml: k\.a: is required$"):
        rule.check({}, "k", fail)
    schema = rule.schema()
    assert schema["required"] == ["a"] and schema["properties"]["b"]["default"] == 5
    assert schema["additionalProperties"] is False


def test_values_and_keys_are_shown_as_toml() -> None:
    assert show(True) == "true"
    assert show(date(2026, 4, 1)) == "2026-04-01"
    assert show({"a b": [1, "x"]}) == "{ \"a b\" = [1, 'x'] }"
    assert show(-(10**40)) == "-a 41-digit number"
    assert len(show("x" * 100)) == 60
    assert join("run", "seed") == "run.seed" and join("", "a.b") == '"a.b"'
