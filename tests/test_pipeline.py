"""The composer: prepare a scenario file, project series, merge parts, run, explain."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest

from simulate import pipeline
from simulate.errors import ScenarioError
from simulate.scenarios import ScenarioFile, parse_scenario

SCENARIOS = [
    {"name": "status-quo", "reference": True},
    {"name": "up", "adjust": [{"type": "multiply", "factor": {"uniform": [1.2, 1.4]},
                               "start": "2026-02-01"}]},
    {"name": "down", "adjust": [{"type": "multiply", "factor": 0.5, "start": "2026-01-15"}]},
]  # fmt: skip


def _file(**run: Any) -> ScenarioFile:
    when = {"horizon": 60} if "end" not in run else {}
    doc = {
        "run": {"name": "t", "seed": 3, "paths": 300, **when, **run},
        "data": {"source": "example", "series": ["personnel", "tanks"]},
        "model": {"kind": "trend-nb"},
        "scenario": copy.deepcopy(SCENARIOS),
    }
    for s in doc["scenario"]:
        for a in s.get("adjust", []):
            a["start"] = date.fromisoformat(a["start"])
    return parse_scenario(doc, source="t.toml")


@pytest.fixture(scope="module")
def prepared() -> pipeline.Prepared:
    return pipeline.prepare(_file())


def test_prepare_resolves_seed_paths_and_series_in_file_order(
    prepared: pipeline.Prepared,
) -> None:
    assert (prepared.seed, prepared.paths) == (3, 300)
    assert [s.name for s in prepared.series] == ["personnel", "tanks"]
    assert prepared.scenario_sha256 == ""  # not read from a file
    over = pipeline.prepare(prepared.scenario_file, seed=9, paths=40)
    assert (over.seed, over.paths) == (9, 40)


@pytest.mark.parametrize(
    ("kw", "key"), [({"seed": -1}, "--seed"), ({"paths": 0}, "--paths"), ({"seed": True}, "--seed")]
)
def test_prepare_rejects_bad_overrides_naming_the_option(kw: dict[str, Any], key: str) -> None:
    with pytest.raises(ScenarioError, match=f"t.toml: {key}: must be a whole number"):
        pipeline.prepare(_file(), **kw)


def test_an_end_date_before_the_last_report_fails_before_any_work() -> None:
    doc_end = date(2025, 1, 1)
    with pytest.raises(ScenarioError, match="run.end: must be after the last report used"):
        pipeline.prepare(_file(end=doc_end))


def test_the_horizon_follows_run_end_per_series(prepared: pipeline.Prepared) -> None:
    s = prepared.series[0]
    end = s.end + timedelta(days=45)
    later = pipeline.prepare(_file(end=end))
    assert later.horizon(later.series[0]) == 45
    assert prepared.horizon(s) == 60


def test_a_series_result_does_not_depend_on_how_scenarios_are_grouped(
    prepared: pipeline.Prepared,
) -> None:
    whole = pipeline.project_series(prepared, 1)
    parts = [pipeline.project_series(prepared, 1, scenarios=[n]) for n in ("down", "up")]
    merged = pipeline.merge_results(parts)
    assert sorted(merged.projections) == sorted(whole.projections)
    for name, p in whole.projections.items():
        q = merged.projections[name]
        assert np.array_equal(p.cum_quantiles, q.cum_quantiles), name
        assert np.array_equal(p.final_cumulative, q.final_cumulative), name
        if p.contrast_quantiles is not None:
            assert np.array_equal(p.contrast_quantiles, q.contrast_quantiles), name


def test_a_series_result_depends_on_its_name_not_its_position(
    prepared: pipeline.Prepared,
) -> None:
    """Keys come from names: listing the series the other way round changes nothing."""
    sf = prepared.scenario_file
    swapped = pipeline.prepare(
        parse_scenario(
            {
                "run": {"name": "t", "seed": 3, "paths": 300, "horizon": 60},
                "data": {"source": "example", "series": ["tanks", "personnel"]},
                "model": {"kind": "trend-nb"},
                "scenario": [{"name": s.name} for s in sf.scenarios[:1]],
            },
            source="u.toml",
        )
    )
    a = pipeline.project_series(prepared, 1).projections["status-quo"]
    b = pipeline.project_series(swapped, 0).projections["status-quo"]
    assert np.array_equal(a.daily_quantiles, b.daily_quantiles)
    other_seed = pipeline.prepare(sf, seed=4)
    c = pipeline.project_series(other_seed, 1).projections["status-quo"]
    assert not np.array_equal(a.daily_quantiles, c.daily_quantiles)


def test_run_projects_every_series_and_scenario(prepared: pipeline.Prepared) -> None:
    days: list[int] = []
    result = pipeline.run(prepared.scenario_file, progress=days.append)
    assert [r.series.name for r in result.results] == ["personnel", "tanks"]
    assert all(sorted(r.projections) == ["down", "status-quo", "up"] for r in result.results)
    assert sum(days) == 2 * 60  # every simulated day reported once
    assert result.reported_by == prepared.data.reported_by
    ref = result.results[0].projections
    # the reference is contrasted with the others, not with itself
    assert ref["status-quo"].contrast_quantiles is None
    assert ref["down"].contrast_quantiles is not None


def test_auto_records_the_choice_and_its_scores() -> None:
    doc = {
        "run": {"name": "a", "seed": 1, "paths": 100, "horizon": 30},
        "data": {"source": "example", "series": ["tanks"]},
        "model": {"kind": "auto"},
        "scenario": [{"name": "status-quo"}],
    }
    p = pipeline.prepare(parse_scenario(doc, source="a.toml"))
    spec, choice = pipeline.model_spec(p, p.series[0])
    assert choice is not None and choice["chosen"] == spec.to_dict() and spec.kind == "analog"
    scores = choice["mean_wis_log1p"]
    assert isinstance(scores, dict) and set(scores) == {"analog", "analog with drift"}
    # drift only with its bound above 0, which needs a better mean score
    if spec.option("drift"):
        assert scores["analog with drift"] < scores["analog"]


def test_explain_tabulates_each_month_of_the_horizon(prepared: pipeline.Prepared) -> None:
    models, table = pipeline.explain(prepared, n_paths=200)
    assert [m.kind for m in models] == ["trend-nb", "trend-nb"]
    per = table.filter(series="tanks", scenario="status-quo")
    assert per["days"].sum() == 60
    down = table.filter(series="tanks", scenario="down")["median_daily"].to_numpy()
    same = per["median_daily"].to_numpy()
    # "down" halves the intensity from mid-January: every month after it is about half
    assert np.all(down[1:] < same[1:]) and np.allclose(down[-1] / same[-1], 0.5, rtol=0.05)
