"""simulate.scenarios.config: the validated configuration is frozen and answers questions."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from simulate.models.spec import ModelSpec
from simulate.scenarios import (
    ADJUSTMENT_TYPES,
    Ceasefire,
    DataConfig,
    Decay,
    Multiply,
    OutputsConfig,
    Ramp,
    RunConfig,
    Scenario,
    ScenarioFile,
    Surge,
)


def _file(*scenarios: Scenario, outputs: OutputsConfig | None = None) -> ScenarioFile:
    return ScenarioFile(
        source="x.toml",
        run=RunConfig("x", 1, horizon=10),
        data=DataConfig("example", ("personnel", "tanks")),
        model=ModelSpec("naive"),
        scenarios=scenarios,
        outputs=outputs or OutputsConfig(),
    )


def test_the_reference_is_the_scenario_marked_so() -> None:
    f = _file(Scenario("a"), Scenario("b", reference=True), Scenario("c"))
    assert f.reference.name == "b"


def test_thresholds_for_a_series() -> None:
    plain = OutputsConfig(thresholds=(10, 20))
    assert plain.thresholds_for("personnel") == plain.thresholds_for("tanks") == (10, 20)
    by_series = OutputsConfig(thresholds={"personnel": (5,)})
    assert by_series.thresholds_for("personnel") == (5,)
    assert by_series.thresholds_for("tanks") == ()


def test_every_config_is_frozen() -> None:
    f = _file(Scenario("a", (Decay(3.0, date(2026, 1, 1)),), reference=True))
    for obj in (f, f.run, f.data, f.outputs, f.reference, f.reference.adjust[0]):
        with pytest.raises(dataclasses.FrozenInstanceError):
            obj.source = "y"  # type: ignore[misc, union-attr]


def test_adjustment_types_name_the_classes_in_order() -> None:
    classes = (Multiply, Ramp, Decay, Ceasefire, Surge)
    assert tuple(c.__dataclass_fields__["type"].default for c in classes) == ADJUSTMENT_TYPES
