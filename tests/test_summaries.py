"""The run's tables: hub-format projections and contrasts, the summary, the fit table."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from simulate import pipeline, summaries
from simulate.scenarios import parse_scenario

START = date(2025, 12, 31)  # the day after the last report: the whole horizon


def _result(order: tuple[str, ...] = ("status-quo", "half")) -> pipeline.RunResult:
    scenarios = {
        "status-quo": {"name": "status-quo", "reference": True},
        "half": {"name": "half", "adjust": [{"type": "multiply", "factor": 0.5, "start": START}]},
    }
    doc = {
        "run": {"name": "s", "seed": 5, "paths": 400, "horizon": 40},
        "data": {"source": "example", "series": ["tanks", "personnel"]},
        "model": {"kind": "trend-nb"},
        "scenario": [scenarios[n] for n in order],
        "outputs": {"thresholds": {"tanks": [1, 10**9]}},
    }
    return pipeline.run(parse_scenario(doc, source="s.toml"))


@pytest.fixture(scope="module")
def result() -> pipeline.RunResult:
    return _result()


def test_tables_do_not_depend_on_the_order_of_the_scenarios(
    result: pipeline.RunResult,
) -> None:
    other = _result(("half", "status-quo"))
    for make in (summaries.projections_table, summaries.contrasts_table,
                 summaries.summary_table):  # fmt: skip
        assert make(result).write_csv() == make(other).write_csv(), make.__name__


def test_projections_are_the_engines_quantiles_in_hub_format(
    result: pipeline.RunResult,
) -> None:
    table = summaries.projections_table(result)
    assert dict(table.schema) == summaries.HUB_SCHEMA
    r = next(r for r in result.results if r.series.name == "tanks")
    p = r.projections["half"]
    cum = table.filter(
        (pl.col("scenario_id") == "half") & (pl.col("target") == "cum tanks")
        & (pl.col("output_type") == "quantile") & (pl.col("horizon") == 40)
    ).sort("output_type_id")  # fmt: skip
    assert cum["output_type_id"].to_list() == list(p.levels)
    assert np.array_equal(cum["value"].to_numpy(), summaries.clean_count(p.cum_quantiles[-1]))
    assert np.abs(cum["value"].to_numpy() - p.cum_quantiles[-1]).max() <= 0.5
    assert set(table["reported_by"]) == {r.series.reported_by}
    assert table["target_end_date"].max() == r.model.origin + timedelta(days=40)


def test_the_summary_totals_add_up(result: pipeline.RunResult) -> None:
    table = summaries.summary_table(result)
    r = next(r for r in result.results if r.series.name == "personnel")
    p = r.projections["status-quo"]
    rows = table.filter(series="personnel", scenario_id="status-quo")
    total = rows.filter(measure="total", output_type="quantile").sort("output_type_id")
    assert np.array_equal(
        total["value"].to_numpy(), summaries.clean_count(p.horizon_total_quantiles)
    )
    months = rows.filter(measure="month_total", output_type="mean")
    assert months["days"].sum() == 40
    # means add up across months (medians need not)
    # each month's mean is written to one decimal
    assert months["value"].sum() == pytest.approx(p.horizon_total_mean, abs=0.05 * months.height)


def test_thresholds_give_probabilities_and_crossing_days(result: pipeline.RunResult) -> None:
    table = summaries.summary_table(result).filter(series="tanks", scenario_id="status-quo")
    prob = dict(
        table.filter(measure="threshold_probability").select("threshold", "value").iter_rows()
    )
    assert prob == {1: 1.0, 10**9: 0.0}  # passed on day one; never reached
    days = table.filter(measure="threshold_day")
    assert set(days["threshold"]) == {1}  # no crossing-day rows for a threshold never reached
    assert days["value"].max() <= 1.0


def test_contrasts_are_scenario_minus_reference(result: pipeline.RunResult) -> None:
    table = summaries.contrasts_table(result)
    assert set(table["scenario_id"]) == {"half"}
    assert set(table["reference_scenario_id"]) == {"status-quo"}
    r = next(r for r in result.results if r.series.name == "tanks")
    p = r.projections["half"]
    assert p.contrast_quantiles is not None
    final = table.filter(
        (pl.col("target") == "cum tanks") & (pl.col("horizon") == 40)
        & (pl.col("output_type") == "quantile")
    ).sort("output_type_id")  # fmt: skip
    expected = summaries.clean_count(p.contrast_quantiles[-1])
    assert np.array_equal(final["value"].to_numpy(), expected)
    assert final["value"].max() < 0  # halving lowers the total on every path


def test_the_fit_table_has_a_row_per_series(result: pipeline.RunResult) -> None:
    fit = summaries.fit_table(result)
    assert sorted(set(fit["series"])) == ["personnel", "tanks"]
    assert set(fit["reported_by"]) == {result.reported_by}
