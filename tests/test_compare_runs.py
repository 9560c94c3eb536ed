"""Tests of simulate.compare.runs: whole runs compared (and reported by ``attrition compare``:
text, JSON, CSV), on one numerical platform and across platforms."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner
from compare_support import (
    DEMO,
    PATHS,
    ROOT,
    ROW_KEYS,
    copy_run,
    invoke,
    n_rows,
    other_platform,
    scale_value,
    seed_of,
)

from simulate.compare import (
    compare_runs,
    read_table,
)


def test_same_file_and_seed_compare_equal(
    runs: dict[str, Path], row: dict[str, Any], tmp_path: Path
) -> None:
    # Two quick runs can finish within the same millisecond timings and second: make the
    # manifests' timings differ for sure, as they do between real runs.
    b = copy_run(runs["b"], tmp_path)
    manifest = json.loads((b / "manifest.json").read_text())
    manifest["timings"]["written_at"] = "2000-01-01T00:00:00Z"
    (b / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    r = invoke(runs["a"], b)
    assert r.exit_code == 0, r.output
    assert "SAME within the tolerance" in r.output
    assert "manifest.json: same" in r.output  # timings and the written_at time differ
    c = compare_runs(runs["a"], b)
    assert c.same and c.differing == ()
    tables = {f.name: f.table for f in c.files if f.table is not None}
    assert {"projections.csv", "summary.csv", "fit.csv"} <= set(tables)
    for name, d in tables.items():
        assert d.same and d.n_rows_a == d.n_rows_b > 0, name
        assert d.n_values_differing == 0 and d.only_in_a.height == d.only_in_b.height == 0
    # one real change of one value, far below anything visible in a report (1e-6 relative)
    old, new = scale_value(b / "projections.csv", row, 1 + 1e-6)
    c = compare_runs(runs["a"], b)
    assert not c.same
    # only the table: manifest.json's checksum of it is not compared again
    assert [f.name for f in c.differing] == ["projections.csv"]
    d = c.differing[0].table
    assert d is not None
    assert (d.n_differing, d.n_values_differing, d.changed.height) == (1, 1, 0)
    assert d.only_in_a.height == d.only_in_b.height == 0
    cell = d.differences.row(0, named=True)
    assert {k: cell[k] for k in ROW_KEYS} == row and cell["column"] == "value"
    assert (cell["a"], cell["b"]) == (old, new) and old != new
    assert cell["abs_diff"] == pytest.approx(abs(new - old), rel=1e-6)
    assert cell["rel_diff"] == pytest.approx(1e-6 / (1 + 1e-6), rel=1e-6)


def test_one_quantile_changed_by_one_percent_is_named(
    runs: dict[str, Path], row: dict[str, Any], tmp_path: Path
) -> None:
    b = copy_run(runs["b"], tmp_path)
    old, new = scale_value(b / "projections.csv", row, 1.01)
    r = invoke(runs["a"], b)
    assert r.exit_code == 1, r.output
    assert f"projections.csv: 1 of {n_rows(runs['a']):,} rows differ" in r.output
    group = f"scenario_id={row['scenario_id']}, target={row['target']} (1 value differ)"
    assert group in r.output
    assert f"    horizon={row['horizon']}, " in r.output
    assert f"output_type_id={row['output_type_id']}: value" in r.output
    assert "(+1%)" not in r.output and "0.99%" in r.output  # relative to B: 0.01 / 1.01
    assert "DIFFERENT: 1 of 9 files differ" in r.output
    # the two files alone: the same answer
    r = invoke(runs["a"] / "projections.csv", b / "projections.csv")
    assert r.exit_code == 1
    assert group in r.output
    d = compare_runs(runs["a"] / "projections.csv", b / "projections.csv").files[0].table
    assert d is not None
    got = d.largest.row(0, named=True)
    assert {k: got[k] for k in ROW_KEYS} == row
    assert (got["a"], got["b"]) == (old, new)
    assert got["abs_diff"] == pytest.approx(new - old)
    assert got["rel_diff"] == pytest.approx((new - old) / new)


def test_paths_that_cannot_be_compared(runs: dict[str, Path], tmp_path: Path) -> None:
    r = invoke(runs["a"], runs["a"] / "fit.csv")
    assert r.exit_code == 2
    assert r.stderr == (
        f"Error: cannot compare a directory with a file: {runs['a']} is a directory, "
        f"{runs['a'] / 'fit.csv'} not\n"
    )
    r = invoke(runs["a"], tmp_path / "nope")
    assert (
        r.exit_code == 2 and r.stderr == f"Error: {tmp_path / 'nope'}: no such file or directory\n"
    )
    (tmp_path / "x.txt").write_text("x\n")
    (tmp_path / "empty1").mkdir()
    (tmp_path / "empty2").mkdir()
    assert invoke(tmp_path / "empty1", tmp_path / "empty2").exit_code == 2
    assert invoke(runs["a"], runs["b"], "--keys", " , ").exit_code == 2  # a usage error


def test_json_format(runs: dict[str, Path], row: dict[str, Any], tmp_path: Path) -> None:
    b = copy_run(runs["b"], tmp_path)
    scale_value(b / "projections.csv", row, 1.01)
    r = invoke(runs["a"], b, "--format", "json")
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    assert doc["same"] is False and doc["files_differing"] == 1
    files = {f["name"]: f for f in doc["files"]}
    p = files["projections.csv"]
    assert (p["status"], p["rows_a"], p["rows_b"], p["rows_differing"]) == (
        "differs", n_rows(runs["a"]), n_rows(runs["a"]), 1,
    )  # fmt: skip
    assert p["rows_only_in_a"] == p["rows_only_in_b"] == 0
    assert {k: p["largest"][0][k] for k in ROW_KEYS} == row
    assert files["manifest.json"]["status"] == "same"
    doc = json.loads(invoke(runs["a"], runs["seed"], "--format", "json").stdout)
    man = {f["name"]: f for f in doc["files"]}["manifest.json"]
    assert man["fields"] == [
        {"path": "run.seed", "a": seed_of(runs["a"]), "b": 7, "in_a": True, "in_b": True}
    ]


def test_csv_format(runs: dict[str, Path], row: dict[str, Any], tmp_path: Path) -> None:
    b = copy_run(runs["b"], tmp_path)
    old, new = scale_value(b / "projections.csv", row, 1.01)
    r = invoke(runs["a"], b, "--format", "csv")
    assert r.exit_code == 1
    table = pl.read_csv(io.StringIO(r.stdout), null_values="NA")
    assert table.height == 1
    got = table.row(0, named=True)
    assert got["file"] == "projections.csv" and got["kind"] == "changed"
    assert {k: got[k] for k in ROW_KEYS} == row
    assert (got["column"], got["a"], got["b"]) == ("value", old, new)
    r = invoke(runs["a"], runs["b"], "--format", "csv")
    assert r.exit_code == 0 and r.stdout == "file,kind,column,a,b,abs_diff,rel_diff\n"


def test_another_platform_is_named_and_its_tolerance_printed(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    b = other_platform(runs["b"], tmp_path)
    r = invoke(runs["a"], b)
    assert r.exit_code == 0, r.output
    assert "numerical platforms differ (blas): cross-platform tolerance applied" in r.output
    assert "quantiles one reporting step: personnel 10, tanks 1" in r.output
    assert "at most 0.5% of the value" in r.output
    assert "manifest.json: same" in r.output  # the platform itself is not a difference
    # the same platform: today's comparison, and not a word about platforms
    r = invoke(runs["a"], runs["b"])
    assert r.exit_code == 0 and "platforms differ" not in r.output
    doc = json.loads(invoke(runs["a"], b, "--format", "json").output)
    assert doc["platform_differs"] == ["blas"]
    assert doc["cross_platform_tolerance"].startswith("fitted values rtol 1e-09")


def test_across_platforms_one_quantile_changed_by_one_percent_differs(
    runs: dict[str, Path], row: dict[str, Any], tmp_path: Path
) -> None:
    b = other_platform(runs["b"], tmp_path)
    scale_value(b / "projections.csv", row, 1.01)
    r = invoke(runs["a"], b)
    assert r.exit_code == 1, r.output
    assert "cross-platform tolerance applied" in r.output
    assert f"projections.csv: 1 of {n_rows(runs['a']):,} rows differ" in r.output


def test_across_platforms_one_reporting_step_is_within_the_tolerance(
    runs: dict[str, Path], row: dict[str, Any], tmp_path: Path
) -> None:
    # What one flipped draw can do to a personnel quantile (reported in steps of 10): within
    # the cross-platform tolerance, but a difference on the same platform.
    manifest = json.loads((runs["a"] / "manifest.json").read_text())
    step = {s["name"]: s["granularity"] for s in manifest["series"]}[row["target"].split()[1]]
    b = other_platform(runs["b"], tmp_path)
    value = float(
        read_table(b / "projections.csv").filter(*(pl.col(k) == v for k, v in row.items()))[
            "value"
        ][0]
    )
    scale_value(b / "projections.csv", row, (value + step) / value)
    assert invoke(runs["a"], b).exit_code == 0
    same_platform = copy_run(runs["b"], tmp_path, "same")
    scale_value(same_platform / "projections.csv", row, (value + step) / value)
    assert invoke(runs["a"], same_platform).exit_code == 1
    # two steps is more than one flipped draw can do
    scale_value(b / "projections.csv", row, (value + 2.5 * step) / (value + step))
    assert invoke(runs["a"], b).exit_code == 1


def test_explicit_tolerance_overrides_the_cross_platform_one(
    runs: dict[str, Path], row: dict[str, Any], tmp_path: Path
) -> None:
    b = other_platform(runs["b"], tmp_path)
    scale_value(b / "projections.csv", row, 1.01)
    r = invoke(runs["a"], b, "--rtol", "0.02")
    assert r.exit_code == 0, r.output
    assert "numerical platforms differ (blas); tolerance as given" in r.output


def test_a_series_computed_on_another_platform_counts(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    """A run whose series was fitted and simulated by a worker on another platform (a mixed
    Dask cluster) records that platform under the series, and compare takes it into account."""
    b = copy_run(runs["b"], tmp_path)
    manifest = json.loads((b / "manifest.json").read_text())
    worker = json.loads(json.dumps(manifest["platform"]))
    worker["numpy_simd"] = "baseline"
    manifest["series"][0]["platforms"] = [worker]
    (b / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    r = invoke(runs["a"], b)
    assert r.exit_code == 0, r.output
    assert "numerical platforms differ (numpy_simd): cross-platform tolerance applied" in r.output
    assert "manifest.json: same" in r.output


def test_runs_without_a_recorded_platform_are_compared_as_today(
    runs: dict[str, Path], row: dict[str, Any], tmp_path: Path
) -> None:
    b = copy_run(runs["b"], tmp_path)
    manifest = json.loads((b / "manifest.json").read_text())
    del manifest["platform"]
    (b / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    r = invoke(runs["a"], b)
    assert r.exit_code == 0 and "platforms differ" not in r.output
    scale_value(b / "projections.csv", row, 1.01)
    assert invoke(runs["a"], b).exit_code == 1


def test_a_run_under_another_openblas_kernel_compares_equal(
    runs: dict[str, Path], row: dict[str, Any], other_kernel: str, tmp_path: Path
) -> None:
    """The issue's acceptance: the same run made under two kernels compares equal (exit 0,
    the platforms named and the cross-platform tolerance applied), and a copy with one
    quantile changed by 1% does not (exit 1)."""
    import os
    import subprocess
    import sys

    out = tmp_path / "other"
    env = {**os.environ, "OPENBLAS_CORETYPE": other_kernel}
    subprocess.run(
        [sys.executable, "-m", "simulate", "run", str(DEMO), "--out", str(out), "--paths",
         str(PATHS), "--no-charts", "--quiet"],
        env=env, check=True, cwd=ROOT,
    )  # fmt: skip
    other = out / "demo"
    manifest = json.loads((other / "manifest.json").read_text())
    assert {b["core_type"] for b in manifest["platform"]["blas"]} == {other_kernel}
    a = copy_run(runs["a"], tmp_path, "a")  # without charts, as the other
    for png in a.glob("*.png"):
        png.unlink()
    r = invoke(a, other)
    assert r.exit_code == 0, r.output
    assert "numerical platforms differ (blas): cross-platform tolerance applied" in r.output
    for f in ("projections.csv", "contrasts.csv", "summary.csv", "fit.csv"):
        assert (a / f).read_bytes() == (other / f).read_bytes(), f  # in fact byte-identical
    scale_value(other / "projections.csv", row, 1.01)
    r = invoke(a, other)
    assert r.exit_code == 1, r.output
    assert f"projections.csv: 1 of {n_rows(a):,} rows differ" in r.output


def test_backtest_directories_across_platforms(tmp_path: Path) -> None:
    """A backtest's manifest names its series by name and has no run.paths: comparing two of
    them made on different platforms applies rtol alone, without a traceback."""
    from simulate.cli import cli

    out = tmp_path / "bt"
    args = ["backtest", "example", "--series", "tanks", "--models", "trend-nb", "--horizon",
            "14", "--every", "56", "--start", "2025-09-01", "--paths", "100", "--out", str(out),
            "--no-charts"]  # fmt: skip
    assert CliRunner().invoke(cli, args).exit_code == 0
    (out / "pit.csv").unlink()  # its rows are not unique on its key columns (compare needs --keys)
    b = other_platform(out, tmp_path, "bt-other")
    r = invoke(out, b)
    assert r.exit_code == 0, r.output
    assert "every value rtol 1e-09" in r.output
    scores = b / "scores.csv"
    frame = read_table(scores)
    value = next(c for c in frame.columns if frame.schema[c] == pl.Float64)
    frame.with_columns(pl.col(value) * 1.01).write_csv(scores, null_value="NA")
    assert invoke(out, b).exit_code == 1
