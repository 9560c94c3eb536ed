"""Tests of :mod:`simulate.data.checks`: `check` finds every planted imperfection of the
bundled example, refuses too-short series and reports the real corrections (when present).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
from data_helpers import date_range, write_csv

from simulate.data import check, findings_frame, load, usable


def test_example_findings_cover_every_planted_imperfection() -> None:
    findings = check(load("example"))
    got = {(f.kind, f.series, f.date) for f in findings}
    assert ("gap", "personnel", "2025-05-15") in got
    assert ("duplicate", "tanks", "2024-07-18") in got
    assert ("correction", "tanks", "2025-02-04") in got
    slips = [f for f in findings if f.kind == "slip"]
    assert [(f.series, f.date) for f in slips] == [("personnel", "2024-10-27")]
    assert slips[0].value == 735990 and slips[0].suggested == 739590
    assert usable(findings)


def test_too_short_series_is_unusable(tmp_path: Path) -> None:
    dates = date_range(5)
    data = load(write_csv(tmp_path / "short.csv", dates, np.arange(5) * 10 + 100))
    findings = check(data)
    assert not usable(findings)
    assert any(f.kind == "too_short" and f.severity == "error" for f in findings)


def test_real_equipment_corrections_reported(shared: dict[str, Path]) -> None:
    data = load(shared["pi_equipment"], shared["pi_correction"])
    findings = check(data)
    official = {(f.series, f.date) for f in findings if f.kind == "official_correction"}
    assert ("afv", "2022-10-13") in official and ("tanks", "2023-05-27") in official
    negative = {(f.series, f.date) for f in findings if f.kind == "correction"}
    assert ("afv", "2022-10-13") in negative  # APC total went down by 14 that day
    frame = findings_frame(findings)
    assert frame.filter(pl.col("kind") == "gap").height == 0  # PetroIvaniuk has no gaps
