"""simulate.scenarios.sweep: [[sweep]] grids expanded into named scenarios, in grid order."""

from __future__ import annotations

import tomllib
from datetime import date
from typing import Any

import pytest
from sweep_support import SCENARIOS

from simulate.errors import ScenarioError
from simulate.scenarios import MAX_SCENARIOS, parse_scenario
from simulate.scenarios.sweep import key_path

BASE = (
    """
[run]
name = "x"
seed = 7
horizon = 120
"""
    + SCENARIOS
)


def _doc(sweep: Any) -> dict[str, Any]:
    doc = tomllib.loads(BASE)
    doc["sweep"] = sweep
    return doc


def test_a_grid_expands_into_named_scenarios_in_order() -> None:
    f = parse_scenario(
        _doc([
            {"scenario": "escalation", "set": "adjust[0].factor", "values": [1.1, 1.3]},
            {"scenario": "escalation", "set": "adjust[0].start",
             "values": [date(2026, 2, 1), date(2026, 3, 1)]},
            {"scenario": "ceasefire", "set": "adjust[0].residual", "values": [0.0, 0.2]},
        ]),
        source="x.toml",
    )  # fmt: skip
    names = [s.name for s in f.scenarios]
    assert names == [
        "status-quo",
        "escalation.factor-1.1.start-2026-02-01",
        "escalation.factor-1.1.start-2026-03-01",
        "escalation.factor-1.3.start-2026-02-01",
        "escalation.factor-1.3.start-2026-03-01",
        "ceasefire.residual-0.0",
        "ceasefire.residual-0.2",
    ]
    assert f.swept["escalation.factor-1.3.start-2026-03-01"] == {
        "adjust[0].factor": "1.3", "adjust[0].start": "2026-03-01"
    }  # fmt: skip
    esc = f.scenarios[4].adjust[0]
    assert esc.factor == 1.3 and str(esc.start) == "2026-03-01"  # type: ignore[union-attr]
    assert f.reference.name == "status-quo" and "status-quo" not in f.swept


@pytest.mark.parametrize(
    ("sweep", "message"),
    [
        (
            {"scenario": "nope", "set": "adjust[0].factor", "values": [1]},
            "x.toml: sweep[0].scenario: no scenario is named 'nope'",
        ),
        (
            {"scenario": "status-quo", "set": "adjust[0].factor", "values": [1]},
            "x.toml: sweep[0].scenario: 'status-quo' is the reference scenario",
        ),
        (
            {"scenario": "escalation", "set": "adjust[3].factor", "values": [1]},
            "x.toml: sweep[0].set: scenario 'escalation' has no 'adjust[3].factor'",
        ),
        (
            {"scenario": "escalation", "set": "adjust[0]..factor", "values": [1]},
            "x.toml: sweep[0].set: must be a key path such as adjust[0].factor",
        ),
        (
            {"scenario": "escalation", "set": "adjust[0].factor", "values": []},
            "x.toml: sweep[0].values: must list at least one value, got []",
        ),
        (
            {"scenario": "escalation", "set": "adjust[0].factor", "values": [1.1, -2]},
            "x.toml: sweep of scenario 'escalation' at {'adjust[0].factor': '-2'}"
            ".adjust[0].factor: must be > 0, got -2",
        ),
        (
            {"scenario": "escalation", "set": "adjust[0].factor", "values": [1], "extra": 1},
            "x.toml: sweep[0].extra: unknown key",
        ),
    ],
)
def test_bad_sweeps_name_the_key(sweep: dict[str, Any], message: str) -> None:
    with pytest.raises(ScenarioError) as err:
        parse_scenario(_doc([sweep]), source="x.toml")
    assert str(err.value).startswith(message)


def test_a_sweep_of_the_first_scenario_keeps_the_other_names_free() -> None:
    doc = _doc([{"scenario": "escalation", "set": "adjust[0].factor", "values": [1.5, 1.5]}])
    names = [s.name for s in parse_scenario(doc, source="x.toml").scenarios]
    # the second point would repeat the first one's name: it is numbered instead
    assert names == ["status-quo", "escalation.factor-1.5", "escalation.1", "ceasefire"]


def test_a_name_that_is_not_safe_is_numbered() -> None:
    axes = [("adjust[0].factor", 1.0000000000000002), ("adjust[0].start", date(2026, 2, 1)),
            ("adjust[0].type", "multiply")]  # fmt: skip
    doc = _doc([{"scenario": "escalation", "set": k, "values": [v]} for k, v in axes])
    f = parse_scenario(doc, source="x.toml")
    # escalation.factor-1.0000000000000002.start-2026-02-01.type-multiply: over 64 characters
    assert f.scenarios[1].name == "escalation.0"
    assert f.swept["escalation.0"] == {
        "adjust[0].factor": "1.0000000000000002", "adjust[0].start": "2026-02-01",
        "adjust[0].type": "multiply",
    }  # fmt: skip


def test_a_swept_value_is_checked_where_it_lands() -> None:
    doc = _doc([{"scenario": "escalation", "set": "adjust[0].factor", "values": ["a b"]}])
    with pytest.raises(ScenarioError) as err:
        parse_scenario(doc, source="x.toml")
    assert str(err.value) == (
        "x.toml: sweep of scenario 'escalation' at {'adjust[0].factor': 'a b'}"
        ".adjust[0].factor: must be a number, got 'a b'"
    )


def test_a_sweep_given_as_a_table_is_an_error() -> None:
    doc = _doc({"scenario": "escalation", "set": "adjust[0].factor", "values": [1]})
    with pytest.raises(ScenarioError) as err:
        parse_scenario(doc, source="x.toml")
    assert str(err.value) == (
        "x.toml: sweep: must be an array of tables (write [[sweep]]), got a table"
    )


def test_too_many_scenarios_are_an_error() -> None:
    values = [1 + i / 1e5 for i in range(MAX_SCENARIOS + 1)]
    doc = _doc([{"scenario": "escalation", "set": "adjust[0].factor", "values": values}])
    with pytest.raises(ScenarioError, match=f"sweep: expands to more than {MAX_SCENARIOS}"):
        parse_scenario(doc, source="x.toml")


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("adjust[0].factor", ["adjust", 0, "factor"]),
        ("adjust[12].uniform[1]", ["adjust", 12, "uniform", 1]),
        ("name", ["name"]),
        ("adjust[0]..factor", None),
        ("adjust[x].factor", None),
        ("0.factor", None),
        ("", None),
    ],
)
def test_key_paths(text: str, keys: list[str | int] | None) -> None:
    assert key_path(text) == keys
