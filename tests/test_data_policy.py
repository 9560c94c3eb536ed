"""Tests of simulate.data.policy: gaps, corrections, slips and start date, never silent."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulate.data import DataPolicy, apply_policy, check, load
from simulate.data.policy import spread_integer
from simulate.errors import PolicyError


def _csv(path: Path, rows: list[tuple[date, int]], name: str = "personnel") -> Path:
    path.write_text(f"date,{name}\n" + "".join(f"{d},{v}\n" for d, v in rows))
    return path


@given(
    total=st.integers(-10_000, 10_000_000),
    n=st.integers(1, 400),
    step=st.sampled_from([1, 5, 10, 1000]),
)
@settings(max_examples=300, deadline=None)
def test_spread_integer_preserves_total_and_is_even(total: int, n: int, step: int) -> None:
    parts = spread_integer(total, n, step)
    assert parts.sum() == total
    assert len(parts) == n
    unit = step if total % step == 0 else 1
    assert np.all(parts % unit == 0)
    assert parts.max() - parts.min() <= unit
    assert np.all(np.diff(parts) >= 0)  # larger parts last: deterministic


def test_gaps_are_spread_and_flagged() -> None:
    data = load("example")
    daily = apply_policy(data, DataPolicy())
    for name in data.series_names:
        before, after = data.series(name), daily.series(name)
        days = after.get_column("date")
        assert (days.diff().drop_nulls().dt.total_days() == 1).all()
        assert days[0] == before.get_column("date")[0] and days[-1] == before.get_column("date")[-1]
        # totals on reported days are untouched, filled days carry the flag
        joined = before.join(after, on="date", suffix="_p")
        assert (joined.get_column("cumulative") == joined.get_column("cumulative_p")).all()
        filled = after.filter(~pl.col("date").is_in(before.get_column("date").implode()))
        assert filled.height == 3
        assert filled.get_column("flags").list.contains("spread").all()
    assert daily.policy == DataPolicy().to_dict()
    assert daily.reported_by == data.reported_by


def test_gap_spread_keeps_granularity(tmp_path: Path) -> None:
    d0 = date(2024, 1, 1)
    rows = [(d0 + timedelta(i), 1000 + 1000 * i) for i in range(10)]
    rows = rows[:4] + rows[7:]  # days 4, 5, 6 missing: 4,000 over 4 days
    data = apply_policy(load(_csv(tmp_path / "g.csv", rows)))
    spread = data.series("personnel").filter(pl.col("flags").list.contains("spread"))
    assert spread.get_column("daily").to_list() == [1000, 1000, 1000, 1000]


def test_gaps_raise_policy(tmp_path: Path) -> None:
    d0 = date(2024, 1, 1)
    rows = [(d0, 10), (d0 + timedelta(1), 20), (d0 + timedelta(5), 60)] + [
        (d0 + timedelta(6 + i), 70 + 10 * i) for i in range(10)
    ]
    expected = r"g.csv: series .personnel.: 3 days not reported before 2024-01-06.*gaps='raise'"
    with pytest.raises(PolicyError, match=expected):
        apply_policy(load(_csv(tmp_path / "g.csv", rows)), DataPolicy(gaps="raise"))


def test_corrections_kept_by_default_and_spread_on_request() -> None:
    data = load("example")
    kept = apply_policy(data).series("tanks")
    assert kept.get_column("daily").min() == -25
    spread = apply_policy(data, DataPolicy(corrections="spread", correction_window=7))
    tanks = spread.series("tanks")
    assert tanks.get_column("daily").min() >= 0
    # the total is preserved: the correction is netted, not dropped
    assert tanks.get_column("cumulative")[-1] == kept.get_column("cumulative")[-1]
    touched = tanks.filter(pl.col("flags").list.contains("correction_spread"))
    assert 2 <= touched.height <= 8
    assert touched.get_column("date").min() >= date(2025, 2, 4) - timedelta(days=7)


def test_slips_repaired_only_when_asked() -> None:
    data = load("example")
    kept = apply_policy(data).series("personnel")
    assert kept.filter(pl.col("date") == date(2024, 10, 27)).get_column("cumulative")[0] == 735990
    fixed = apply_policy(data, DataPolicy(slips="repair")).series("personnel")
    row = fixed.filter(pl.col("date") == date(2024, 10, 27)).row(0, named=True)
    assert row["cumulative"] == 739590 and "repaired" in row["flags"]
    repaired = apply_policy(data, DataPolicy(slips="repair"))
    assert not [f for f in check(repaired) if f.kind == "slip"]


def test_start_date_drops_earlier_figures_but_keeps_the_first_daily() -> None:
    data = apply_policy(load("example"), DataPolicy(start=date(2025, 1, 1)))
    part = data.series("personnel")
    assert part.get_column("date").min() == date(2025, 1, 1)
    assert part.get_column("daily")[0] is not None
    with pytest.raises(PolicyError, match="no figures on or after start 2030-01-01"):
        apply_policy(load("example"), DataPolicy(start=date(2030, 1, 1)))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"gaps": "ignore"}, "gaps: 'ignore' is not allowed"),
        ({"corrections": "drop"}, "corrections: 'drop' is not allowed"),
        ({"slips": "fix"}, "slips: 'fix' is not allowed"),
        ({"correction_window": 0}, "correction_window: must be a whole number >= 1, got 0"),
    ],
)
def test_bad_policy_is_a_clear_error(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        DataPolicy(**kwargs)  # type: ignore[arg-type]


def test_real_lod_db_gaps_filled(shared: dict[str, Path]) -> None:
    data = load(shared["loddb"], series=["personnel"])
    daily = apply_policy(data, DataPolicy(slips="repair")).series("personnel")
    days = daily.get_column("date")
    assert (days.diff().drop_nulls().dt.total_days() == 1).all()
    assert daily.get_column("flags").list.contains("spread").sum() > 150  # ~190 missing days
    assert daily.get_column("cumulative")[-1] == 1_265_900
