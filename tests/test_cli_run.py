"""Tests of `attrition run`'s report (simulate.cli.run) and the headline it prints
(simulate.summaries.headline: structured rows, no column names to parse)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from simulate import pipeline
from simulate.cli.run import _render_headline
from simulate.summaries import HEADLINE_SCHEMA, headline

DEMO = Path(__file__).resolve().parents[1] / "scenarios" / "demo.toml"


@pytest.fixture(scope="module")
def result() -> pipeline.RunResult:
    return pipeline.run(DEMO, paths=200)


def test_headline_rows_carry_each_threshold_as_a_struct(result: pipeline.RunResult) -> None:
    frame = headline(result)
    assert frame.schema == pl.Schema(HEADLINE_SCHEMA)
    sf = result.scenario_file
    assert frame.height == len(result.results) * len(sf.scenarios)
    for row in frame.iter_rows(named=True):
        levels = [t["level"] for t in row["thresholds"]]
        assert levels == list(sf.outputs.thresholds_for(row["series"]))
        for t in row["thresholds"]:
            assert 0 <= t["probability"] <= 1
            # a median date exists exactly when at least half the paths reach the level
            assert (t["median_date"] is not None) == (t["probability"] >= 0.5)
            if t["median_date"] is not None:
                assert t["median_date"] <= row["through"]
        assert row["total_lo80"] <= row["total_median"] <= row["total_hi80"]


def test_headline_text_formats_every_threshold(result: pipeline.RunResult) -> None:
    frame = headline(result)
    text = _render_headline(Path("out/demo"), frame, result.reported_by, 1.25)
    lines = text.splitlines()
    assert lines[0] == "out/demo: written and validated in 1.2 s"
    assert result.reported_by in lines[1]
    assert len(lines) == 2 + frame.height
    for line, row in zip(lines[2:], frame.iter_rows(named=True), strict=True):
        assert line.startswith(f"  {row['series']} / {row['scenario']}: total to {row['through']} ")
        for t in row["thresholds"]:
            text = f"P(total >= {t['level']:,}) {t['probability']:.0%}"
            if t["median_date"] is not None:
                text += f", median date {t['median_date']}"
            assert f"; {text}" in line
        if row["record_prob"] is not None:
            assert line.endswith(f"; P(new daily record) {row['record_prob']:.0%}")


def test_headline_without_thresholds_or_record() -> None:
    frame = pl.DataFrame(
        [{"series": "s", "scenario": "a", "through": None, "total_median": 1500.0,
          "total_lo80": 2.0, "total_hi80": 3000.0, "thresholds": [], "record_prob": None}],
        schema=HEADLINE_SCHEMA,
    )  # fmt: skip
    text = _render_headline(None, frame, "someone", 0.0)
    assert text.splitlines()[-1] == "  s / a: total to None 1,500 (80%: 2 to 3,000)"
