"""simulate.scenarios.parse: reading and validating scenario files; messages; robustness."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulate.data.policy import DataPolicy
from simulate.errors import AttritionError
from simulate.models.spec import ModelSpec
from simulate.scenarios import (
    HUB_QUANTILES,
    Ceasefire,
    Decay,
    LogNormal,
    Multiply,
    Ramp,
    ScenarioError,
    ScenarioFile,
    Surge,
    Uniform,
    factor_draw_spec,
    load_scenario_file,
    parse_scenario,
)

EXAMPLE = Path(__file__).resolve().parents[1] / "scenarios" / "general-staff-personnel.toml"
SRC = "scenarios/x.toml"


def base() -> dict[str, Any]:
    """A small valid document, mutated by the error cases."""
    return {
        "run": {"name": "demo", "seed": 1, "horizon": 30},
        "data": {"source": "example", "series": ["personnel"]},
        "model": {"kind": "naive"},
        "scenario": [
            {"name": "status-quo"},
            {
                "name": "x",
                "adjust": [
                    {"type": "multiply", "factor": 1.3, "start": date(2026, 4, 1)},
                ],
            },
        ],
    }


# --------------------------------------------------------------------------------------
# The example file


def test_example_parses_to_expected_objects() -> None:
    f = load_scenario_file(EXAMPLE)
    assert f.source == str(EXAMPLE)
    assert f.run.name == "general-staff-personnel"
    assert (f.run.horizon, f.run.end, f.run.as_of, f.run.paths) == (365, None, None, 10000)
    assert f.data.source == "petroivaniuk"
    assert f.data.series == ("personnel",)
    assert f.data.policy == DataPolicy()
    assert f.model == ModelSpec("analog", window=180, options={"half_life": 365.0})
    assert [s.name for s in f.scenarios] == ["status-quo", "escalation", "ceasefire"]
    assert f.reference.name == "status-quo"
    assert f.scenarios[0].adjust == ()
    assert f.scenarios[1].adjust == (Multiply(Uniform(1.2, 1.4), date(2026, 4, 1)),)
    assert f.scenarios[2].adjust == (Ceasefire(date(2026, 6, 1), 0.1, 0.01),)
    assert f.outputs.thresholds == {"personnel": (1_500_000, 2_000_000)}
    assert f.outputs.thresholds_for("personnel") == (1_500_000, 2_000_000)
    assert f.outputs.thresholds_for("tanks") == ()
    assert f.outputs.quantiles == HUB_QUANTILES
    assert len(HUB_QUANTILES) == 23
    assert f.outputs.charts is True
    assert f.outputs.format == "csv"  # the default
    draws = factor_draw_spec(f.scenarios[1]) + factor_draw_spec(f.scenarios[2])
    assert [(d.name, d.distribution, dict(d.parameters)) for d in draws] == [
        ("adjust[0].factor", "uniform", {"lo": 1.2, "hi": 1.4}),
        ("adjust[0].breakdown_day", "geometric", {"p": 0.01}),
    ]


def test_configs_are_frozen() -> None:
    f = parse_scenario(base(), source=SRC)
    with pytest.raises(AttributeError):
        f.run.seed = 2  # type: ignore[misc]


def test_defaults_and_first_scenario_is_reference() -> None:
    f = parse_scenario(base(), source=SRC)
    assert f.reference.name == "status-quo"
    assert f.run.paths == 10_000
    assert f.model.window == 180
    assert f.outputs.thresholds == ()


def test_series_are_canonicalised() -> None:
    doc = base()
    doc["data"]["series"] = ["Personnel", "field artillery"]
    assert parse_scenario(doc, source=SRC).data.series == ("personnel", "artillery")


def test_all_adjustment_types_parse() -> None:
    doc = base()
    d = date(2026, 1, 1)
    doc["scenario"][1]["adjust"] = [
        {"type": "ramp", "from": 1, "to": {"lognormal": {"median": 2, "sd_log": 0.1}},
         "start": d, "end": date(2026, 2, 1)},
        {"type": "decay", "half_life": 30, "start": d},
        {"type": "ceasefire", "start": d, "residual": 0},
        {"type": "surge", "start": d, "days": 10, "extra": {"uniform": [0.5, 0.5]}},
        {"type": "multiply", "factor": 2, "start": d, "end": date(2026, 1, 10)},
        {"type": "multiply", "factor": 2, "start": date(2026, 1, 11)},
    ]  # fmt: skip
    adjust = parse_scenario(doc, source=SRC).scenarios[1].adjust
    assert adjust[0] == Ramp(1.0, LogNormal(2.0, 0.1), d, date(2026, 2, 1))
    assert adjust[1] == Decay(30.0, d)
    assert adjust[2] == Ceasefire(d, 0.0, 0.0)
    assert adjust[3] == Surge(d, 10, Uniform(0.5, 0.5))
    assert [x.name for x in factor_draw_spec(parse_scenario(doc, source=SRC).scenarios[1])] == [
        "adjust[0].to",
        "adjust[3].extra",
    ]


# --------------------------------------------------------------------------------------
# Errors: one line each, naming the file and the key path


def setin(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(doc: dict[str, Any]) -> None:
        target: Any = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return edit


def delete(path: tuple[Any, ...]) -> Callable[[dict[str, Any]], None]:
    def edit(doc: dict[str, Any]) -> None:
        target: Any = doc
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return edit


def all_references(doc: dict[str, Any]) -> None:
    for scenario in doc["scenario"]:
        scenario["reference"] = True


A1 = ("scenario", 1, "adjust")
D = date(2026, 4, 1)

BAD: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    # the example, verbatim
    ("factor<0", setin((*A1, 0, "factor"), -2),
     "scenarios/x.toml: scenario[1].adjust[0].factor: must be > 0, got -2"),
    ("unknown top", setin(("colour",), 1),
     "scenarios/x.toml: colour: unknown key; allowed: run, data, model, scenario, outputs, sweep"),
    ("missing run", delete(("run",)), "scenarios/x.toml: run: is required"),
    ("unknown run", setin(("run", "sedd"), 1),
     "scenarios/x.toml: run.sedd: unknown key; allowed: name, seed, paths, horizon, end, as_of"),
    ("unknown data", setin(("data", "policy"), "x"),
     "scenarios/x.toml: data.policy: unknown key; allowed: source, series, reported_by, gaps, "
     "corrections, correction_window, slips, start"),
    ("unknown model", setin(("model", "fit"), 1),
     "scenarios/x.toml: model.fit: unknown key; allowed: kind, window, options"),
    ("unknown option", setin(("model", "options"), {"q": 1}),
     "scenarios/x.toml: model.options.q: unknown key; allowed: k"),
    ("unknown scenario", setin(("scenario", 0, "adjustments"), []),
     "scenarios/x.toml: scenario[0].adjustments: unknown key; allowed: name, reference, adjust"),
    ("unknown adjust", setin((*A1, 0, "until"), D),
     "scenarios/x.toml: scenario[1].adjust[0].until: unknown key; "
     "allowed: type, factor, start, end"),
    ("unknown factor", setin((*A1, 0, "factor"), {"normal": [1, 2]}),
     "scenarios/x.toml: scenario[1].adjust[0].factor.normal: unknown key; "
     "allowed: uniform, lognormal"),
    ("unknown outputs", setin(("outputs",), {"chart": True}),
     "scenarios/x.toml: outputs.chart: unknown key; allowed: quantiles, thresholds, charts, "
     "format, backtest"),
    ("odd key", setin(("run", "a b"), 1),
     'scenarios/x.toml: run."a b": unknown key; allowed: name, seed, paths, horizon, end, as_of'),
    ("run name", setin(("run", "name"), "../etc"),
     "scenarios/x.toml: run.name: must be a safe name (letters, digits, '.', '_' or '-', "
     "starting with a letter or digit, at most 64), got '../etc'"),
    ("seed<0", setin(("run", "seed"), -1), "scenarios/x.toml: run.seed: must be >= 0, got -1"),
    ("seed str", setin(("run", "seed"), "1"),
     "scenarios/x.toml: run.seed: must be a whole number, got '1'"),
    ("paths 0", setin(("run", "paths"), 0), "scenarios/x.toml: run.paths: must be >= 1, got 0"),
    ("paths float", setin(("run", "paths"), 1.5),
     "scenarios/x.toml: run.paths: must be a whole number, got 1.5"),
    ("horizon and end", setin(("run", "end"), D),
     "scenarios/x.toml: run: give exactly one of horizon (days) and end (date), got both"),
    ("neither", delete(("run", "horizon")),
     "scenarios/x.toml: run: give exactly one of horizon (days) and end (date), got neither"),
    ("horizon 0", setin(("run", "horizon"), 0),
     "scenarios/x.toml: run.horizon: must be >= 1, got 0"),
    ("as_of str", setin(("run", "as_of"), "2024-11-12"),
     "scenarios/x.toml: run.as_of: must be a TOML date like 2026-04-01 (no quotes), "
     "got '2024-11-12'"),
    ("as_of datetime", setin(("run", "as_of"), datetime(2024, 11, 12, 8)),
     "scenarios/x.toml: run.as_of: must be a date without a time, got 2024-11-12T08:00:00"),
    ("series empty", setin(("data", "series"), []),
     "scenarios/x.toml: data.series: must name at least one series, got []"),
    ("series repeat", setin(("data", "series"), ["personnel", "Personnel"]),
     "scenarios/x.toml: data.series[1]: 'Personnel' repeats series 'personnel' (data.series[0])"),
    ("series type", setin(("data", "series"), "personnel"),
     "scenarios/x.toml: data.series: must be an array, got 'personnel'"),
    ("series item", setin(("data", "series"), ["personnel", 3]),
     "scenarios/x.toml: data.series[1]: must be a non-empty string, got 3"),
    ("gaps", setin(("data", "gaps"), "fill"),
     "scenarios/x.toml: data.gaps: must be one of 'spread', 'raise', got 'fill'"),
    ("slips", setin(("data", "slips"), True),
     "scenarios/x.toml: data.slips: must be one of 'keep', 'repair', got true"),
    ("correction_window", setin(("data", "correction_window"), 0),
     "scenarios/x.toml: data.correction_window: must be >= 1, got 0"),
    ("data start", setin(("data", "start"), 20240101),
     "scenarios/x.toml: data.start: must be a TOML date like 2026-04-01, got 20240101"),
    ("model kind", setin(("model", "kind"), "arima"),
     "scenarios/x.toml: model.kind: must be one of 'trend-nb', 'local-trend', 'changepoint', "
     "'bootstrap', 'naive', 'analog', 'auto', got 'arima'"),
    ("window all", setin(("model", "window"), "all"),
     "scenarios/x.toml: model.window: must be a whole number of days >= 14, got 'all'"),
    ("window small", setin(("model", "window"), 7),
     "scenarios/x.toml: model.window: must be a whole number of days >= 14, got 7"),
    ("option value", setin(("model", "options"), {"k": 0}),
     "scenarios/x.toml: model.options.k: must be >= 1, got 0"),
    ("scenario table", setin(("scenario",), {"name": "a"}),
     "scenarios/x.toml: scenario: must be an array of tables (write [[scenario]]), "
     "got a single table"),
    ("no scenarios", setin(("scenario",), []),
     "scenarios/x.toml: scenario: give at least one [[scenario]]"),
    ("scenario name", setin(("scenario", 1, "name"), "status quo"),
     "scenarios/x.toml: scenario[1].name: must be a safe name (letters, digits, '.', '_' or '-', "
     "starting with a letter or digit, at most 64), got 'status quo'"),
    ("duplicate name", setin(("scenario", 1, "name"), "status-quo"),
     "scenarios/x.toml: scenario[1].name: 'status-quo' is already the name of scenario[0]"),
    ("two references", all_references,
     "scenarios/x.toml: scenario[1].reference: only one scenario may be the reference; "
     "scenario[0] already is"),
    ("adjust type", setin((*A1, 0, "type"), "scale"),
     "scenarios/x.toml: scenario[1].adjust[0].type: must be one of 'multiply', 'ramp', 'decay', "
     "'ceasefire', 'surge', got 'scale'"),
    ("adjust no type", delete((*A1, 0, "type")),
     "scenarios/x.toml: scenario[1].adjust[0].type: is required; "
     "one of multiply, ramp, decay, ceasefire, surge"),
    ("adjust missing", delete((*A1, 0, "start")),
     "scenarios/x.toml: scenario[1].adjust[0].start: is required"),
    ("factor 0", setin((*A1, 0, "factor"), 0),
     "scenarios/x.toml: scenario[1].adjust[0].factor: must be > 0, got 0"),
    ("factor nan", setin((*A1, 0, "factor"), float("nan")),
     "scenarios/x.toml: scenario[1].adjust[0].factor: must be a finite number, got nan"),
    ("factor str", setin((*A1, 0, "factor"), "1.3"),
     "scenarios/x.toml: scenario[1].adjust[0].factor: must be a number, got '1.3'"),
    ("uniform order", setin((*A1, 0, "factor"), {"uniform": [1.4, 1.2]}),
     "scenarios/x.toml: scenario[1].adjust[0].factor.uniform: must be [lo, hi] with "
     "0 < lo <= hi, got [1.4, 1.2]"),
    ("uniform len", setin((*A1, 0, "factor"), {"uniform": [1.4]}),
     "scenarios/x.toml: scenario[1].adjust[0].factor.uniform: must be [lo, hi], got [1.4]"),
    ("lognormal sd", setin((*A1, 0, "factor"), {"lognormal": {"median": 1, "sd_log": -1}}),
     "scenarios/x.toml: scenario[1].adjust[0].factor.lognormal.sd_log: must be >= 0, got -1"),
    ("lognormal median", setin((*A1, 0, "factor"), {"lognormal": {"median": 0, "sd_log": 1}}),
     "scenarios/x.toml: scenario[1].adjust[0].factor.lognormal.median: must be > 0, got 0"),
    ("both factors", setin((*A1, 0, "factor"), {"uniform": [1, 2],
                                                 "lognormal": {"median": 1, "sd_log": 1}}),
     "scenarios/x.toml: scenario[1].adjust[0].factor: give a number, { uniform = [lo, hi] } or "
     "{ lognormal = { median = m, sd_log = s } }"),
    ("end before start", setin((*A1, 0, "end"), date(2026, 3, 1)),
     "scenarios/x.toml: scenario[1].adjust[0].end: must be after start (2026-04-01), "
     "got 2026-03-01"),
    ("end == start", setin((*A1, 0, "end"), D),
     "scenarios/x.toml: scenario[1].adjust[0].end: must be after start (2026-04-01), "
     "got 2026-04-01"),
    ("multiply overlap", setin(A1, [
        {"type": "multiply", "factor": 1.3, "start": D, "end": date(2026, 6, 1)},
        {"type": "decay", "half_life": 10, "start": D},
        {"type": "multiply", "factor": 1.1, "start": date(2026, 6, 1)},
    ]), "scenarios/x.toml: scenario[1].adjust[2]: multiply window 2026-06-01..open overlaps the "
        "multiply window 2026-04-01..2026-06-01 of scenario[1].adjust[0]"),
    ("ramp overlap", setin(A1, [
        {"type": "ramp", "from": 1, "to": 2, "start": D, "end": date(2026, 6, 1)},
        {"type": "ramp", "from": 2, "to": 1, "start": date(2026, 5, 1), "end": date(2026, 7, 1)},
    ]), "scenarios/x.toml: scenario[1].adjust[1]: ramp window 2026-05-01..2026-07-01 overlaps the "
        "ramp window 2026-04-01..2026-06-01 of scenario[1].adjust[0]"),
    ("decay half-life", setin(A1, [{"type": "decay", "half_life": 0, "start": D}]),
     "scenarios/x.toml: scenario[1].adjust[0].half_life: must be > 0, got 0"),
    ("residual 1", setin(A1, [{"type": "ceasefire", "start": D, "residual": 1}]),
     "scenarios/x.toml: scenario[1].adjust[0].residual: must be >= 0 and < 1, got 1"),
    ("breakdown", setin(A1, [{"type": "ceasefire", "start": D, "residual": 0.1,
                              "breakdown_per_day": 1.0}]),
     "scenarios/x.toml: scenario[1].adjust[0].breakdown_per_day: must be a probability >= 0 "
     "and < 1, got 1.0"),
    ("surge days", setin(A1, [{"type": "surge", "start": D, "days": 0, "extra": 0.5}]),
     "scenarios/x.toml: scenario[1].adjust[0].days: must be >= 1, got 0"),
    ("surge extra", setin(A1, [{"type": "surge", "start": D, "days": 3, "extra": -0.5}]),
     "scenarios/x.toml: scenario[1].adjust[0].extra: must be > 0, got -0.5"),
    ("adjust not list", setin(A1, {"type": "decay"}),
     "scenarios/x.toml: scenario[1].adjust: must be an array, got { type = 'decay' }"),
    ("quantile 1", setin(("outputs",), {"quantiles": [0.5, 1.0]}),
     "scenarios/x.toml: outputs.quantiles[1]: must be strictly between 0 and 1, got 1.0"),
    ("quantile order", setin(("outputs",), {"quantiles": [0.5, 0.1]}),
     "scenarios/x.toml: outputs.quantiles[1]: levels must be sorted and unique; 0.1 follows 0.5"),
    ("quantile dup", setin(("outputs",), {"quantiles": [0.5, 0.5]}),
     "scenarios/x.toml: outputs.quantiles[1]: levels must be sorted and unique; 0.5 follows 0.5"),
    ("threshold order", setin(("outputs",), {"thresholds": [2_000_000, 1_500_000]}),
     "scenarios/x.toml: outputs.thresholds[1]: thresholds must be sorted and unique; "
     "1500000 follows 2000000"),
    ("threshold 0", setin(("outputs",), {"thresholds": [0]}),
     "scenarios/x.toml: outputs.thresholds[0]: must be >= 1, got 0"),
    ("threshold series", setin(("outputs",), {"thresholds": {"tanks": [10]}}),
     "scenarios/x.toml: outputs.thresholds.tanks: is not one of data.series (personnel), "
     "got 'tanks'"),
    ("threshold series order", setin(("outputs",), {"thresholds": {"personnel": [3, 2]}}),
     "scenarios/x.toml: outputs.thresholds.personnel[1]: thresholds must be sorted and unique; "
     "2 follows 3"),
    ("charts", setin(("outputs",), {"charts": "yes"}),
     "scenarios/x.toml: outputs.charts: must be true or false, got 'yes'"),
    ("format", setin(("outputs",), {"format": "xlsx"}),
     "scenarios/x.toml: outputs.format: must be one of 'csv', 'parquet', got 'xlsx'"),
    ("format case", setin(("outputs",), {"format": "Parquet"}),
     "scenarios/x.toml: outputs.format: must be one of 'csv', 'parquet', got 'Parquet'"),
    ("huge", setin((*A1, 0, "factor"), 10**400),
     "scenarios/x.toml: scenario[1].adjust[0].factor: must be a finite number, "
     "got a 401-digit number"),
]  # fmt: skip


@pytest.mark.parametrize(("edit", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_documents_give_one_line_errors(
    edit: Callable[[dict[str, Any]], None], message: str
) -> None:
    doc = base()
    edit(doc)
    with pytest.raises(ScenarioError) as info:
        parse_scenario(doc, source=SRC)
    assert str(info.value) == message
    assert "\n" not in str(info.value)
    assert isinstance(info.value, AttritionError)
    assert isinstance(info.value, ValueError)


def test_base_document_is_valid() -> None:
    # guards the table above: each error comes from its edit, not from the base
    assert isinstance(parse_scenario(base(), source=SRC), ScenarioFile)


def test_invalid_toml(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text('[run]\nname = "a"\nseed = \n', encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario_file(path)
    assert str(info.value) == f"{path}: line 3: invalid TOML (Invalid value at column 8)"


def test_invalid_toml_at_end_of_file(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text('[run]\nname = "a"\nseries = ["a",\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario_file(path)
    assert str(info.value).startswith(f"{path}: line 4: invalid TOML (")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_bytes(b"[run]\nname = '\xff'\n")
    with pytest.raises(ScenarioError, match=r"x\.toml: is not UTF-8 text"):
        load_scenario_file(path)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ScenarioError, match=r"nope\.toml: cannot be read"):
        load_scenario_file(path)


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace("residual = 0.1", "residual = 1.5")
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario_file(path)
    assert str(info.value) == (
        f"{path}: scenario[2].adjust[0].residual: must be >= 0 and < 1, got 1.5"
    )


# --------------------------------------------------------------------------------------
# Robustness: anything TOML can hold gives a ScenarioFile or a ScenarioError

KEYS = st.sampled_from(
    ["run", "data", "model", "scenario", "outputs", "name", "seed", "paths", "horizon", "end",
     "as_of", "source", "series", "kind", "window", "options", "adjust", "type", "factor",
     "start", "uniform", "lognormal", "median", "sd_log", "reference", "quantiles",
     "thresholds", "charts", "format", "residual", "days", "extra", "from", "to", "half_life",
     "breakdown_per_day", "gaps", "k", "multiply", "ceasefire"]
) | st.text(max_size=5)  # fmt: skip

SCALARS = (
    st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
    | st.booleans()
    | st.dates()
    | st.datetimes()
    | st.sampled_from(["naive", "multiply", "ceasefire", "surge", "ramp", "decay", "all"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=20,
)


def _check(doc: Any) -> None:
    try:
        out = parse_scenario(doc, source="h.toml")
    except ScenarioError as exc:
        assert str(exc).startswith("h.toml: ")
        assert "\n" not in str(exc)
    else:
        assert isinstance(out, ScenarioFile)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(KEYS, VALUES, max_size=6))
def test_arbitrary_documents_never_crash(doc: dict[str, Any]) -> None:
    _check(doc)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


_EXAMPLE_DOC = {
    **base(),
    "outputs": {
        "quantiles": [0.1, 0.5, 0.9],
        "thresholds": [10],
        "charts": False,
        "format": "parquet",
    },
}
_EXAMPLE_DOC["scenario"][1]["adjust"] = [
    {"type": "ramp", "from": {"uniform": [1, 2]}, "to": 1, "start": D, "end": date(2026, 5, 1)},
    {"type": "ceasefire", "start": D, "residual": 0.1, "breakdown_per_day": 0.01},
    {"type": "surge", "start": D, "days": 3, "extra": {"lognormal": {"median": 1, "sd_log": 1}}},
]  # fmt: skip
_TARGETS = _paths(_EXAMPLE_DOC)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_TARGETS), VALUES)
def test_valid_document_with_one_value_replaced_never_crashes(
    target: tuple[Any, ...], value: Any
) -> None:
    doc = copy.deepcopy(_EXAMPLE_DOC)
    setin(target, value)(doc)
    _check(doc)
