"""Tests of simulate.compare.tables: the tolerance rule, values and columns that differ."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
from compare_support import copy_run, invoke, scale_value

from simulate.compare import CompareError, compare_tables


def test_rtol_and_atol_are_honoured(
    runs: dict[str, Path], row: dict[str, Any], tmp_path: Path
) -> None:
    b = copy_run(runs["b"], tmp_path)
    old, new = scale_value(b / "projections.csv", row, 1 + 1e-7)
    assert 1e-4 < new - old < 1
    a_file, b_file = runs["a"] / "projections.csv", b / "projections.csv"
    assert invoke(a_file, b_file).exit_code == 1  # 1e-7 relative is beyond the default
    assert invoke(a_file, b_file, "--rtol", "1e-6").exit_code == 0
    assert invoke(a_file, b_file, "--rtol", "1e-8").exit_code == 1
    assert invoke(a_file, b_file, "--rtol", "0", "--atol", "1").exit_code == 0
    assert invoke(a_file, b_file, "--rtol", "0", "--atol", "1e-4").exit_code == 1


def test_tolerance_rule_nan_and_missing() -> None:
    a = pl.DataFrame({"k": [1, 2, 3, 4, 5, 6], "value": [100.0, 0.0, float("nan"), None, 1.0, 7.0]})
    b = pl.DataFrame(
        {"k": [1, 2, 3, 4, 5, 6], "value": [101.0, 1e-6, float("nan"), None, None, 8.0]}
    )
    # |a - b| <= atol + rtol * |b|: k=1 needs rtol >= 1/101; k=2 atol >= 1e-6
    d = compare_tables(a, b, rtol=1 / 101, atol=1e-6)
    assert sorted(d.differences["k"].to_list()) == [5, 6]  # NaN == NaN, null == null
    assert d.n_differing == 2
    d = compare_tables(a, b, rtol=0.0099, atol=1e-6)
    assert sorted(d.differences["k"].to_list()) == [1, 5, 6]
    d = compare_tables(a, b, rtol=1 / 101, atol=0.0)
    assert sorted(d.differences["k"].to_list()) == [2, 5, 6]
    # undefined relative differences (a missing value; b == 0) come first
    assert d.largest["k"].to_list()[0] == 5 and d.largest["rel_diff"][0] is None
    with pytest.raises(CompareError, match="rtol and atol"):
        compare_tables(a, b, rtol=-1.0)


def test_missing_and_extra_columns_are_listed() -> None:
    a = pl.DataFrame({"series": ["x", "y"], "estimate": [1.0, 2.0], "aic": [3.0, 4.0]})
    b = pl.DataFrame({"series": ["x", "y"], "estimate": [1.0, 2.0], "bic": [5.0, 6.0]})
    d = compare_tables(a, b)
    assert d.keys == ("series",) and d.compared == ("estimate",)
    assert d.columns_only_in_a == ("aic",) and d.columns_only_in_b == ("bic",)
    assert not d.same
