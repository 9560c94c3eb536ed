"""Tests of ``chart-data-<series>.csv`` (simulate.outputs.chartdata), the chart-ready table."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from simulate import pipeline
from simulate.outputs.chartdata import BANDS, chart_data, column_names
from simulate.summaries import clean_count

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scenarios" / "demo.toml"
LOOK_BACK = ROOT / "tests" / "golden" / "scenarios" / "as-of-2024-11-12.toml"


@pytest.fixture(scope="module")
def demo() -> pipeline.RunResult:
    return pipeline.run(DEMO, paths=300)


def test_columns_put_the_reference_first_then_the_others_by_name(
    demo: pipeline.RunResult,
) -> None:
    r = demo.results[0]
    frame = chart_data(demo, r)
    sf = demo.scenario_file
    expected = ["date", "reported cumulative", "reported daily"]
    for name in ("status-quo", "ceasefire", "escalation"):  # not the file's order
        expected += column_names(name, name == sf.reference.name)
    assert [sc.name for sc in sf.scenarios] == ["status-quo", "escalation", "ceasefire"]
    assert frame.columns == [*expected, "reported_by"]
    assert frame.columns[3] == "status-quo (reference) cumulative median"
    assert len(column_names("x", False)) == 2 * (1 + 2 * len(BANDS))
    assert set(frame["reported_by"]) == {r.series.reported_by}


def test_one_row_per_day_from_the_history_to_the_horizon(demo: pipeline.RunResult) -> None:
    for r in demo.results:
        frame = chart_data(demo, r)
        horizon = next(iter(r.projections.values())).dates.size
        assert frame["date"][0] == r.series.start
        assert frame["date"][-1] == r.model.origin + timedelta(days=int(horizon))
        assert frame["date"].diff().drop_nulls().dt.total_days().unique().to_list() == [1]
        hist = frame.filter(pl.col("date") <= r.model.origin)
        assert hist["reported daily"].to_list() == r.series.y.tolist()
        assert hist["reported cumulative"][-1] == r.model.last_total
        assert frame.filter(pl.col("date") > r.model.origin)["reported daily"].null_count() == (
            horizon
        )


def test_values_are_the_projections_quantiles(demo: pipeline.RunResult) -> None:
    r = next(r for r in demo.results if r.series.name == "personnel")
    frame = chart_data(demo, r)
    origin = r.model.origin
    at_origin = frame.filter(pl.col("date") == origin).row(0, named=True)
    future = frame.filter(pl.col("date") > origin)
    for sc in demo.scenario_file.scenarios:
        p = r.projections[sc.name]
        cols = column_names(sc.name, sc.name == demo.scenario_file.reference.name)
        median = future[cols[0]].to_numpy()
        k = int(np.flatnonzero(p.levels == 0.5)[0])
        assert np.array_equal(median, clean_count(p.cum_quantiles[:, k]))
        daily_median = future[cols[7]].to_numpy()
        assert np.array_equal(daily_median, clean_count(p.daily_quantiles[:, k]))
        lo95 = int(np.flatnonzero(p.levels == 0.025)[0])
        assert np.array_equal(future[cols[5]].to_numpy(), clean_count(p.cum_quantiles[:, lo95]))
        # the fan opens from the last reported total; daily columns are empty on the origin
        assert {at_origin[c] for c in cols[:7]} == {r.model.last_total}
        assert {at_origin[c] for c in cols[7:]} == {None}
        # nested bands: 95% low <= 80% low <= 50% low <= median <= 50% high <= ... <= 95% high
        for first in (0, 7):
            med, l50, h50, l80, h80, l95, h95 = (
                future[c].to_numpy() for c in cols[first : first + 7]
            )
            assert (l95 <= l80).all() and (l80 <= l50).all() and (l50 <= med).all()
            assert (med <= h50).all() and (h50 <= h80).all() and (h80 <= h95).all()


def test_the_written_file_has_empty_cells_for_no_value(
    demo: pipeline.RunResult, tmp_path: Path
) -> None:
    from simulate.outputs.rundir import write_run

    out = write_run(demo, tmp_path / "run", charts=False)
    text = (out / "chart-data-tanks.csv").read_text(encoding="utf-8")
    assert "NA" not in text and ",," in text
    back = pl.read_csv(out / "chart-data-tanks.csv", try_parse_dates=True, infer_schema_length=None)
    assert back.equals(chart_data(demo, next(r for r in demo.results if r.series.name == "tanks")))


def test_a_look_back_run_carries_what_was_reported_after_the_origin(
    shared: dict[str, Path],
) -> None:
    result = pipeline.run(LOOK_BACK, paths=100)
    r = result.results[0]
    frame = chart_data(result, r)
    reported = result.prepared.data.series("personnel")
    after = frame.filter(pl.col("date") > r.model.origin).drop_nulls("reported cumulative")
    assert after.height == 60  # the 60 days of the horizon were all reported
    expected = reported.filter(pl.col("date").is_in(after["date"].implode()))
    assert after["reported cumulative"].to_list() == expected["cumulative"].to_list()
    assert after["reported daily"].to_list() == expected["daily"].to_list()
    assert after["date"][0] == r.model.origin + timedelta(days=1)
