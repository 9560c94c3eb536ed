"""Tests of simulate.compare.moves: how the median and the 80% band moved (``--summary``)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from compare_support import invoke

from simulate.compare import projection_moves, read_table, render_move


def _median(run: Path, scenario: str, target: str, day: str) -> float:
    t = read_table(run / "projections.csv")
    hit = t.filter(
        pl.col("scenario_id") == scenario, pl.col("target") == target,
        pl.col("target_end_date") == day, pl.col("output_type_id") == 0.5,
    )  # fmt: skip
    assert hit.height == 1
    return float(hit["value"][0])


def test_projection_moves_between_seeds(runs: dict[str, Path]) -> None:
    moves = projection_moves(runs["a"], runs["seed"])
    days = sorted(set(read_table(runs["a"] / "projections.csv")["target_end_date"].to_list()))
    month_ends = [d for d in days if (date.fromisoformat(d) + timedelta(days=1)).day == 1]
    expected = sorted({*month_ends, days[-1]})
    assert moves["target_end_date"].unique().sort().cast(pl.String).to_list() == expected
    # one figure, checked against the two CSVs: a cumulative total in the middle of the horizon
    scenario, target = moves["scenario_id"][0], moves["target"][0]
    assert target.startswith("cum ")
    day = expected[len(expected) // 2]
    got = moves.filter(
        pl.col("scenario_id") == scenario, pl.col("target") == target,
        pl.col("target_end_date").cast(pl.String) == day,
    ).row(0, named=True)  # fmt: skip
    a = _median(runs["a"], scenario, target, day)
    b = _median(runs["seed"], scenario, target, day)
    assert a != b  # another seed
    assert (got["median_a"], got["median_b"], got["median_change"]) == (a, b, b - a)
    assert got["median_change_pct"] == pytest.approx((b - a) / a * 100)
    r = invoke(runs["a"], runs["seed"], "--summary")
    assert r.exit_code == 1  # the runs differ
    line = render_move(got)
    assert line in r.output
    assert line.startswith(f"{target} at {day} ({scenario}): median ")
    assert f"median {'+' if b > a else '-'}{abs(b - a):,.0f} (" in line


def test_summary_aligns_on_target_end_date_not_horizon(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    """A week later: origin + 7 days, so the same end dates have horizons 7 days shorter."""
    a = read_table(runs["a"] / "projections.csv")
    later = a.with_columns(pl.col("horizon") - 7).filter(pl.col("horizon") >= 1)
    later.write_csv(tmp_path / "projections.csv", null_value="NA")
    moves = projection_moves(runs["a"], tmp_path / "projections.csv")
    assert moves.height > 0
    assert moves["median_change"].abs().max() == 0.0
    assert moves["band80_change_pct"].abs().max() == 0.0
    assert render_move(moves.row(0, named=True)).endswith("median +0 (+0.0%), 80% band unchanged")


def test_render_move() -> None:
    row = {
        "scenario_id": "status-quo", "target": "cum personnel", "target_end_date": "2026-06-30",
        "median_change": -12_400.0, "median_change_pct": -0.93, "band80_change_pct": 6.4,
    }  # fmt: skip
    assert render_move(row) == (
        "cum personnel at 2026-06-30 (status-quo): median -12,400 (-0.9%), 80% band wider by 6%"
    )
