"""Tests of `attrition run`'s report (simulate.cli.run) and the headline it prints
(simulate.summaries.headline: structured rows, no column names to parse)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from simulate import pipeline
from simulate.cli.run import _render_headline
from simulate.outputs.wording import count, on_paths
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


def test_headline_follows_the_file_order_and_marks_the_reference(
    result: pipeline.RunResult,
) -> None:
    frame = headline(result)
    sf = result.scenario_file
    names = [sc.name for sc in sf.scenarios]
    for (series,), rows in frame.group_by("series", maintain_order=True):
        assert rows.get_column("scenario").to_list() == names  # not alphabetical
        assert rows.filter(pl.col("reference")).get_column("scenario").to_list() == [
            sf.reference.name
        ]
        r = next(r for r in result.results if r.series.name == series)
        row = rows.row(0, named=True)
        assert (row["last_total"], row["last_date"]) == (r.model.last_total, r.model.origin)
        # the record is the largest daily figure, on the day it was reported
        assert row["record"] == r.series.y.max()
        day = (row["record_date"] - r.series.start).days
        assert r.series.y[day] == row["record"] and r.series.y[:day].max() < row["record"]
        assert row["record_approximate"] is False  # the synthetic figures are exact
    for row in frame.iter_rows(named=True):
        # cumulative = last total + new figures; the contrast is null exactly for the reference
        assert row["cum_median"] - row["total_median"] == pytest.approx(row["last_total"], abs=1)
        assert (row["vs_reference_median"] is None) == row["reference"]


def test_headline_text_reads_as_sentences(result: pipeline.RunResult) -> None:
    frame = headline(result)
    text = _render_headline(Path("out/demo"), frame, result.reported_by, 1.25)
    lines = text.splitlines()
    assert lines[0] == "out/demo: written and validated in 1.2 s"
    assert result.reported_by in lines[1] and "not estimates of actual losses" in lines[1]
    assert lines[2].startswith("Ranges are 80% ranges: the middle 80% of the simulated paths")
    assert text.count("80% ranges") == 1  # explained once
    sentences = [line for line in lines if line.startswith("  ")]
    assert len(sentences) == frame.height
    for line, row in zip(sentences, frame.iter_rows(named=True), strict=True):
        mark = " (reference)" if row["reference"] else ""
        assert line.startswith(f"  {row['scenario']}{mark}: the reported total rises by ")
        assert f"to {row['through']} (median; 80% range {count(row['total_lo80'])} to " in line
        assert f", to {count(row['cum_median'])} (" in line
        assert (" than status-quo by " in line) != row["reference"]
        for t in row["thresholds"]:
            if t["median_date"] is not None:
                assert f"{t['level']:,} {on_paths(t['probability'])} (median date " in line
            else:
                assert f"{t['level']:,} {on_paths(t['probability'])} (reached on fewer " in line
        record = f"the record so far, {count(row['record'])} (reported for {row['record_date']})"
        assert record in line
    for r in result.results:
        assert (
            f"{r.series.name}: the last report used gives a total of {r.model.last_total:,} on "
            f"{r.model.origin}, as reported by {result.reported_by}."
        ) in lines


def _row(**kw: object) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(HEADLINE_SCHEMA)
    row.update(series="s", reported_by="someone", last_total=10, scenario="a", reference=True,
               thresholds=[], total_median=1500.4, total_lo80=2.0, total_hi80=3000.0,
               cum_median=1510.4, cum_lo80=12.0, cum_hi80=3010.0)  # fmt: skip
    row.update(kw)
    return row


def test_headline_without_thresholds_or_record() -> None:
    frame = pl.DataFrame([_row()], schema=HEADLINE_SCHEMA)
    text = _render_headline(None, frame, "someone", 0.0)
    assert text.splitlines()[-1] == (
        "  a (reference): the reported total rises by 1,500 from None to None (median; 80% "
        "range 2 to 3,000), to 1,510 (12 to 3,010)."
    )


def test_contrast_ranges_that_straddle_zero_say_both_words() -> None:
    rows = [
        _row(),
        _row(
            scenario="b",
            reference=False,
            vs_reference_median=-40.0,
            vs_reference_lo80=-90.0,
            vs_reference_hi80=25.0,
        ),
        _row(
            scenario="c",
            reference=False,
            vs_reference_median=-40.0,
            vs_reference_lo80=-90.0,
            vs_reference_hi80=-5.0,
        ),
        _row(
            scenario="d",
            reference=False,
            vs_reference_median=0.0,
            vs_reference_lo80=0.0,
            vs_reference_hi80=0.4,
        ),
    ]
    text = _render_headline(None, pl.DataFrame(rows, schema=HEADLINE_SCHEMA), "x", 0.0)
    assert "That is the same as a by None on at least 80% of paths." in text
    assert "That is 40 fewer than a by None (same paths; 80% range 90 fewer to 25 more)." in text
    assert "That is 40 fewer than a by None (same paths; 80% range 5 to 90 fewer)." in text


def test_an_approximate_record_is_said_so(shared: dict[str, Path]) -> None:
    """The General Staff's largest daily personnel figure, 3,160 for 2022-03-03, is the step
    between totals it gave as "about 5,840" and "about 9,000"."""
    from simulate.scenarios import parse_scenario

    sf = parse_scenario({
        "run": {"name": "r", "seed": 1, "paths": 50, "horizon": 10},
        "data": {"source": str(shared["pi_personnel"]), "series": ["personnel"]},
        "model": {"kind": "naive"},
        "scenario": [{"name": "status-quo"}],
    }, source="r.toml")  # fmt: skip
    row = headline(pipeline.run(sf)).row(0, named=True)
    assert (row["record"], row["record_date"].isoformat()) == (3160, "2022-03-03")
    assert row["record_approximate"] is True
    text = _render_headline(None, headline(pipeline.run(sf)), "x", 0.0)
    assert "3,160 (reported for 2022-03-03, a difference of totals the reporter gave as " in text
