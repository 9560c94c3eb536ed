"""Tests of simulate.compare.alignment: key columns, rows only one side has, rows that
cannot be aligned."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from compare_support import invoke

from simulate.compare import CompareError, compare_tables


def _hub(n: int = 4) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "scenario_id": ["s"] * n,
            "target": ["cum x"] * n,
            "horizon": list(range(1, n + 1)),
            "output_type": ["quantile"] * n,
            "output_type_id": [0.5] * n,
            "value": [float(10 * i) for i in range(1, n + 1)],
        }
    )


def test_missing_and_extra_rows_are_listed(tmp_path: Path) -> None:
    a = _hub(4)
    b = pl.concat([_hub(5).filter(pl.col("horizon") != 2)])  # no horizon 2; a horizon 5
    d = compare_tables(a, b)
    assert not d.same and d.n_differing == 0
    assert d.only_in_a["horizon"].to_list() == [2]
    assert d.only_in_b["horizon"].to_list() == [5]
    a.write_csv(tmp_path / "a.csv")
    b.write_csv(tmp_path / "b.csv")
    r = invoke(tmp_path / "a.csv", tmp_path / "b.csv")
    assert r.exit_code == 1
    assert "1 rows only in A, 1 only in B" in r.output
    assert "rows only in A (1):\n    horizon=2\n" in r.output  # constant keys are not repeated
    assert "rows only in B (1):\n    horizon=5\n" in r.output


def test_key_columns_that_differ_cannot_be_compared(runs: dict[str, Path], tmp_path: Path) -> None:
    a = _hub()
    with pytest.raises(CompareError, match="the key columns differ .only B has extra"):
        compare_tables(a, a.with_columns(extra=pl.lit("z")))
    with pytest.raises(CompareError, match="key column 'horizon' is Int64 in A but String in B"):
        compare_tables(a, a.with_columns(pl.col("horizon").cast(pl.String)))
    with pytest.raises(CompareError, match="key column 'nope' is not in A"):
        compare_tables(a, a, keys=["nope"])
    r = invoke(runs["a"] / "fit.csv", runs["a"] / "projections.csv")
    assert r.exit_code == 2 and "the key columns differ" in r.stderr
    # --keys: rows aligned on the columns named, the others compared
    b = a.with_columns(output_type=pl.lit("median"))
    assert compare_tables(a, b, keys=["scenario_id", "target", "horizon"]).changed.height == 4


def test_duplicate_keys_cannot_be_compared(runs: dict[str, Path], tmp_path: Path) -> None:
    lines = (runs["a"] / "fit.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    dup = tmp_path / "fit.csv"
    dup.write_text("".join([*lines, lines[5]]), encoding="utf-8")
    for args in ((runs["a"] / "fit.csv", dup), (dup, runs["a"] / "fit.csv")):
        r = invoke(*args)
        assert r.exit_code == 2
        assert f"{dup}: cannot compare: 2 rows share their key columns (series, model" in r.stderr
    a = _hub()
    with pytest.raises(CompareError, match="2 rows share their key columns"):
        compare_tables(a, pl.concat([a, a.head(1)]))


def test_the_join_and_the_aligned_path_agree() -> None:
    a = _hub(50)
    b = a.with_columns(pl.when(pl.col("horizon") % 7 == 0).then(pl.col("value") + 1)
                       .otherwise(pl.col("value")).alias("value"))  # fmt: skip
    aligned = compare_tables(a, b)
    joined = compare_tables(a, b.reverse())
    assert aligned.n_differing == joined.n_differing == 7
    assert aligned.differences.equals(joined.differences)


def test_a_chart_data_table_is_keyed_by_date() -> None:
    from simulate.compare.alignment import known_keys

    frame = pl.DataFrame({"date": ["2026-01-01"], "reported daily": [3], "x median": [None]})
    assert known_keys("chart-data-tanks.csv", frame, frame) == ["date"]
    assert known_keys("other.csv", frame, frame) is None
