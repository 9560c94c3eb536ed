"""simulate.scenarios.schema: the JSON Schema says what the validator accepts, key for key.

The checks walk a document that holds every table of the format alongside the schema, and ask
the validator (:func:`parse_scenario`) about each table and value the schema describes: the
keys it allows and requires, the choices it offers, the bounds it enforces.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from simulate.data.policy import CHOICES as POLICY_CHOICES
from simulate.errors import ScenarioError
from simulate.models.spec import DEFAULT_OPTIONS, MODEL_KINDS
from simulate.scenarios import ADJUSTMENT_TYPES, parse_scenario, scenario_json_schema

D = date(2026, 4, 1)
#: A valid document holding every table of the format and nearly every key.
FULL: dict[str, Any] = {
    "run": {"name": "demo", "seed": 1, "paths": 100, "horizon": 30, "as_of": date(2026, 1, 1)},
    "data": {"source": "example", "series": ["personnel"], "reported_by": "someone",
             "gaps": "spread", "corrections": "keep", "correction_window": 7, "slips": "keep",
             "start": date(2022, 3, 1)},
    "model": {"kind": "naive", "window": 60, "options": {"k": 28}},
    "scenario": [
        {"name": "status-quo", "reference": True},
        {"name": "x", "adjust": [
            {"type": "multiply", "factor": {"uniform": [1.2, 1.4]}, "start": D,
             "end": date(2026, 5, 1)},
            {"type": "ramp", "from": 1, "to": {"lognormal": {"median": 2, "sd_log": 0.1}},
             "start": D, "end": date(2026, 6, 1)},
            {"type": "decay", "half_life": 30, "start": D},
            {"type": "ceasefire", "start": D, "residual": 0.1, "breakdown_per_day": 0.01},
            {"type": "surge", "start": D, "days": 10, "extra": 0.5},
        ]},
    ],
    "outputs": {"quantiles": [0.1, 0.5, 0.9], "thresholds": [10, 20], "charts": False,
                "format": "parquet"},
    "sweep": [{"scenario": "x", "set": "adjust[2].half_life", "values": [10, 20]}],
}  # fmt: skip
SCHEMA = scenario_json_schema()

Path = tuple[str | int, ...]


def _matches(value: Any, alternative: dict[str, Any]) -> bool:
    kind = alternative.get("type")
    if kind == "object":
        props = alternative.get("properties", {})
        closed = alternative["additionalProperties"] is False
        return isinstance(value, dict) and all(
            props[k].get("const", value[k]) == value[k] if k in props else not closed for k in value
        )
    if kind == "array":
        return isinstance(value, list)
    return kind == "number" and isinstance(value, int | float) and not isinstance(value, bool)


def walk(value: Any, schema: dict[str, Any], path: Path = ()) -> Iterator[tuple[Path, Any, Any]]:
    """(path, value, the part of the schema that describes it) for every value of `value`."""
    if "oneOf" in schema:
        [schema] = [alt for alt in schema["oneOf"] if _matches(value, alt)]
    yield path, value, schema
    if isinstance(value, dict):
        for k, v in value.items():
            sub = schema["properties"].get(k, schema.get("additionalProperties"))
            yield from walk(v, sub, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk(v, schema["items"], (*path, i))


def text(path: Path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


def edited(path: Path, value: Any = None, *, delete: bool = False) -> dict[str, Any]:
    doc = copy.deepcopy(FULL)
    target: Any = doc
    for p in path[:-1]:
        target = target[p]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


def error(doc: dict[str, Any]) -> str | None:
    try:
        parse_scenario(doc, source="h.toml")
    except ScenarioError as exc:
        return str(exc)
    return None


def fails_at(path: Path, doc: dict[str, Any]) -> bool:
    message = error(doc)
    return message is not None and message.startswith(f"h.toml: {text(path)}: ")


TABLES = [(p, v, s) for p, v, s in walk(FULL, SCHEMA) if isinstance(v, dict)]
LEAVES = [(p, v, s) for p, v, s in walk(FULL, SCHEMA) if not isinstance(v, dict | list)]


def test_json_schema_is_json() -> None:
    schema = scenario_json_schema()
    json.dumps(schema)
    assert set(schema["properties"]) == {"run", "data", "model", "scenario", "outputs", "sweep"}
    assert schema["additionalProperties"] is False


def test_full_document_is_valid_and_reaches_every_table_of_the_schema() -> None:
    assert error(copy.deepcopy(FULL)) is None

    def closed(schema: Any) -> Iterator[str]:
        if isinstance(schema, dict):
            if schema.get("additionalProperties") is False:
                yield json.dumps(schema, sort_keys=True)
            for k, v in schema.items():
                if k != "allOf":  # the options of each model kind: checked on their own below
                    yield from closed(v)
        elif isinstance(schema, list):
            for v in schema:
                yield from closed(v)

    # (a factor's schema appears once per factor key: equal ones count as one)
    missing = set(closed(SCHEMA)) - {json.dumps(s, sort_keys=True) for _, _, s in TABLES}
    assert not missing, [m[:80] for m in missing]


@pytest.mark.parametrize(("path", "value", "schema"), TABLES, ids=[text(p) for p, _, _ in TABLES])
def test_every_table_allows_exactly_the_keys_of_the_schema(
    path: Path, value: Any, schema: dict[str, Any]
) -> None:
    message = error(edited((*path, "zz_unknown"), 1))
    assert message is not None
    found = re.fullmatch(rf"h\.toml: {re.escape(text((*path, 'zz_unknown')))}: "
                         r"unknown key; allowed: (.*)", message)  # fmt: skip
    if schema.get("additionalProperties") is not False:  # thresholds by series: any series
        assert found is None
        return
    assert found, message
    allowed = found.group(1).split(", ")
    if path == ("model", "options"):  # the kind's options, among those the schema lists
        assert allowed == list(DEFAULT_OPTIONS[FULL["model"]["kind"]])
        assert set(allowed) <= set(schema["properties"])
    elif path[-1:] in {("factor",), ("to",)}:  # a factor table: one of its forms
        forms = _adjustment("multiply")["properties"]["factor"]["oneOf"]
        assert allowed == [k for form in forms for k in form.get("properties", {})]
    else:
        assert allowed == list(schema["properties"])


def _adjustment(kind: str) -> dict[str, Any]:
    adjust = SCHEMA["properties"]["scenario"]["items"]["properties"]["adjust"]["items"]
    [variant] = [v for v in adjust["oneOf"] if v["properties"]["type"]["const"] == kind]
    return variant  # type: ignore[no-any-return]


def test_model_options_of_every_kind_are_in_the_schema() -> None:
    options = SCHEMA["properties"]["model"]["properties"]["options"]["properties"]
    accepted: list[str] = []
    for kind in MODEL_KINDS:
        doc = edited(("model",), {"kind": kind, "options": {"zz_unknown": 1}})
        message = error(doc)
        assert message is not None
        accepted += message.split("allowed: ")[1].split(", ")
        for key, default in DEFAULT_OPTIONS[kind].items():
            assert options[key]["default"] == default
            assert error(edited(("model",), {"kind": kind, "options": {key: default}})) is None
    assert sorted(accepted) == sorted(options)
    by_kind = {
        rule["if"]["properties"]["kind"]["const"]: rule["then"]["properties"]["options"]
        for rule in SCHEMA["properties"]["model"]["allOf"]
    }
    assert list(by_kind) == list(MODEL_KINDS)
    for kind, schema in by_kind.items():
        assert list(schema["properties"]) == list(DEFAULT_OPTIONS[kind])
        assert schema["additionalProperties"] is False


@pytest.mark.parametrize(("path", "value", "schema"), TABLES, ids=[text(p) for p, _, _ in TABLES])
def test_required_keys_agree(path: Path, value: Any, schema: dict[str, Any]) -> None:
    required = schema.get("required", [])
    for key in value:
        message = error(edited((*path, key), delete=True)) or ""
        said = message.startswith(f"h.toml: {text((*path, key))}: is required")
        if path[-1:] in {("factor",), ("to",)}:  # a factor table empty: named as a whole
            said = message.startswith(f"h.toml: {text(path)}: give a number, ")
        assert said == (key in required), (key, message)


ENUMS = [(p, s) for p, _, s in LEAVES if "enum" in s]


@pytest.mark.parametrize(("path", "schema"), ENUMS, ids=[text(p) for p, _ in ENUMS])
def test_choices_agree(path: Path, schema: dict[str, Any]) -> None:
    listed = ", ".join(repr(c) for c in schema["enum"])
    message = error(edited(path, "zz-none"))
    assert message == f"h.toml: {text(path)}: must be one of {listed}, got 'zz-none'"
    for choice in schema["enum"]:
        assert not fails_at(path, edited(path, choice)), choice


def test_choices_come_from_the_vocabularies() -> None:
    data = SCHEMA["properties"]["data"]["properties"]
    for rule, allowed in POLICY_CHOICES.items():
        assert data[rule] == {"enum": list(allowed), "default": allowed[0]}
    assert SCHEMA["properties"]["model"]["properties"]["kind"]["enum"] == [*MODEL_KINDS, "auto"]
    adjust = SCHEMA["properties"]["scenario"]["items"]["properties"]["adjust"]["items"]
    assert [v["properties"]["type"]["const"] for v in adjust["oneOf"]] == list(ADJUSTMENT_TYPES)


def _bound_cases() -> Iterator[tuple[Path, Any, bool]]:
    """(path, value, accepted) on either side of every bound of the schema."""
    for path, _, schema in LEAVES:
        if schema.get("type") == "integer" and "minimum" in schema:
            yield path, schema["minimum"], True
            yield path, schema["minimum"] - 1, False
        if schema.get("type") != "number":
            continue
        if "exclusiveMinimum" in schema:
            b = schema["exclusiveMinimum"]
            yield path, b, False
            yield path, math.nextafter(b, math.inf), True
        if "minimum" in schema:
            b = schema["minimum"]
            yield path, b, True
            yield path, math.nextafter(b, -math.inf), False
        if "exclusiveMaximum" in schema:
            b = schema["exclusiveMaximum"]
            yield path, b, False
            yield path, math.nextafter(b, -math.inf), True


BOUNDS = list(_bound_cases())


@pytest.mark.parametrize(
    ("path", "value", "accepted"), BOUNDS, ids=[f"{text(p)}={v!r}" for p, v, _ in BOUNDS]
)
def test_bounds_agree(path: Path, value: Any, accepted: bool) -> None:
    # accepted: the validator may still object to the document, but not to this value's bound
    doc = edited(path, value)
    if accepted:  # (items that must ascend may be out of order)
        assert not fails_at(path, doc) or "must be sorted and unique" in str(error(doc))
    else:  # the bounds of [lo, hi] are checked on the pair
        assert fails_at(path, doc) or (path[-2] == "uniform" and fails_at(path[:-1], doc))


def test_bounds_cover_the_numbers_of_the_format() -> None:
    bounded = {text(p) for p, _, _ in BOUNDS}
    for expected in ("run.seed", "run.paths", "run.horizon", "data.correction_window",
                     "model.window", "scenario[1].adjust[0].factor.uniform[0]",
                     "scenario[1].adjust[1].to.lognormal.sd_log", "scenario[1].adjust[2].half_life",
                     "scenario[1].adjust[3].residual", "scenario[1].adjust[3].breakdown_per_day",
                     "scenario[1].adjust[4].days", "scenario[1].adjust[4].extra",
                     "outputs.quantiles[0]", "outputs.thresholds[0]"):  # fmt: skip
        assert expected in bounded


TYPED = [(p, s) for p, _, s in LEAVES if s.get("type") in {"boolean", "string", "integer"}]


@pytest.mark.parametrize(("path", "schema"), TYPED, ids=[text(p) for p, _ in TYPED])
def test_types_agree(path: Path, schema: dict[str, Any]) -> None:
    wrong = {"boolean": "yes", "string": 3, "integer": 1.5}[schema["type"]]
    assert fails_at(path, edited(path, wrong))
    if schema.get("format") == "date":  # a date in quotes is a string, not a TOML date
        assert fails_at(path, edited(path, "2026-04-01"))
    if "pattern" in schema:
        assert not re.search(schema["pattern"], " ")
        assert fails_at(path, edited(path, " "))
