"""Tests of :mod:`simulate.data.slips`: transcription slips found from one compilation's own
shape — few false alarms on clean synthetic series, digit swaps repaired exactly, stale copies
interpolated, corrections left alone — and the slips of the real compilations (when present).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from data_helpers import date_range, synthetic_cumulative, write_csv

from simulate.data import check, load, load_all
from simulate.data.slips import find_slips


def test_false_alarm_rate_on_clean_synthetic_series() -> None:
    # The rule is designed for about one false alarm per 7,000 clean days; 40 series of 500
    # days (20,000 days) should then raise about 3. More than 8 (Poisson p < 0.005) means
    # the rule has become trigger-happy.
    alarms = sum(
        len(find_slips(date_range(500), synthetic_cumulative(500, 100 + s), 10)) for s in range(40)
    )
    assert alarms <= 8


@pytest.mark.parametrize("seed", range(10))
def test_digit_swap_is_found_and_repaired_exactly(seed: int) -> None:
    cum = synthetic_cumulative(300, seed)
    # Swap the thousands and hundreds digits of a day's total (the kind of slip seen in the
    # real data, 963,270 written as 963,720): an excursion of at least 900, about four times
    # the daily noise (sd ~ 220), which the rule must catch. Take the first day from 150 on
    # whose two digits differ.
    i = next(j for j in range(150, 200) if str(cum[j])[-4] != str(cum[j])[-3])
    true = int(cum[i])
    text = str(true)
    k = len(text) - 4
    swapped = int(text[:k] + text[k + 1] + text[k] + text[k + 2 :])
    cum = cum.copy()
    cum[i] = swapped
    slips = find_slips(date_range(300), cum, 10)
    assert len(slips) == 1
    assert slips[0].start == date_range(300)[i]
    assert slips[0].suggested == (true,)
    assert slips[0].values == (swapped,)


def test_stale_copy_is_found_with_interpolated_repair() -> None:
    cum = synthetic_cumulative(300, 7).copy()
    i = 120
    cum[i] = cum[i - 1]  # the day repeats yesterday's total
    slips = find_slips(date_range(300), cum, 10)
    assert [s.start for s in slips] == [date_range(300)[i]]
    assert "repeats the previous day" in slips[0].reason
    lo, hi = int(cum[i - 1]), int(cum[i + 1])
    assert slips[0].suggested[0] == round((lo + hi) / 2 / 10) * 10


def test_a_correction_without_rebound_is_not_a_slip(tmp_path: Path) -> None:
    cum = synthetic_cumulative(300, 3).copy()
    cum[200:] -= 2_000  # an official downward revision: the path does not come back
    assert find_slips(date_range(300), cum, 10) == []
    data = load(write_csv(tmp_path / "x.csv", date_range(300), cum), kind="cumulative")
    kinds = [f.kind for f in check(data)]
    assert "correction" in kinds and "slip" not in kinds


def test_acceptance_slips_from_one_compilation_alone(shared: dict[str, Path]) -> None:
    rs = check(load(shared["romansverdan"], series=["personnel"]))
    slip = {f.date: f for f in rs if f.kind == "slip"}
    assert slip["2025-05-09"].suggested == 963270  # the digit swap, repaired exactly
    lod = check(load(shared["loddb"], series=["personnel"]))
    lod_slips = {f.date for f in lod if f.kind == "slip"}
    # lod-db's own slips, confirmed by the other compilations
    assert {"2024-10-07", "2024-11-03", "2025-10-27", "2025-11-05"} <= lod_slips
    confirmed = {
        f.date
        for f in check(
            load_all(
                [shared["pi_personnel"], shared["loddb"], shared["romansverdan"]],
                series=["personnel"],
            )
        )
        if f.kind == "disagreement" and f.source == "lod-db"
    }
    # every slip flagged in lod-db personnel after the early "about" period is confirmed
    assert {d for d in lod_slips if d >= "2022-06-01"} <= confirmed
