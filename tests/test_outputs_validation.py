"""Tests of simulate.outputs.validation.validate_run: a valid run passes, and each kind of
corruption is named with its file and what is wrong.

The corruptions are the smallest that break a rule (a quantile 1 below the level before it, a
sample trajectory that falls by 1), so that a check weakened by any margin fails here.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner

from simulate import pipeline
from simulate.cli import cli
from simulate.outputs import rundir
from simulate.outputs.validation import validate_run

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scenarios" / "demo.toml"


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small valid run of the demo file, with a few sample trajectories."""
    out = tmp_path_factory.mktemp("validation") / "demo"
    return rundir.write_run(pipeline.run(DEMO, paths=200, samples=3), out, charts=False)


@pytest.fixture()
def run_copy(demo_run: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(demo_run, tmp_path / "copy"))


def _edit_csv(path: Path, edit: Any) -> None:
    frame = pl.read_csv(path, null_values="NA", infer_schema_length=None)
    edit(frame).write_csv(path, null_value="NA")


def _problems_of(run: Path, name: str) -> list[str]:
    return [p for p in validate_run(run) if p.startswith(f"{run / name}: ")]


def test_a_written_run_is_valid(demo_run: Path) -> None:
    assert validate_run(demo_run) == []
    assert rundir.validate_run is validate_run  # still importable where it was


def test_validate_accepts_a_run_and_rejects_edits(run_copy: Path) -> None:
    assert CliRunner().invoke(cli, ["validate", str(run_copy)]).exit_code == 0
    proj = run_copy / "projections.csv"
    _edit_csv(
        proj,
        lambda f: f.with_columns(
            value=pl.when(pl.int_range(pl.len()) == 30).then(-5.0).otherwise(pl.col("value"))
        ),
    )
    problems = validate_run(run_copy)
    assert any("SHA-256 differs" in p for p in problems)
    assert any("negative value" in p and "row 32" in p for p in problems)
    result = CliRunner().invoke(cli, ["validate", str(run_copy)])
    assert result.exit_code == 1 and "INVALID" in result.output


@pytest.mark.parametrize(
    ("what", "expected"),
    [
        ("swap", "quantiles not ordered by level"),
        ("below", "cumulative total below the last reported"),
        ("decrease", "cumulative total decreases over the horizon"),
        ("missing", "missing value"),
        ("reporter", "reported_by is not"),
    ],
)
def test_validate_names_each_kind_of_problem(run_copy: Path, what: str, expected: str) -> None:
    proj = run_copy / "projections.csv"
    m = json.loads((run_copy / "manifest.json").read_text())
    last = {s["name"]: s["last_total"] for s in m["series"]}["personnel"]
    row = (
        (pl.col("target") == "cum personnel") & (pl.col("scenario_id") == "status-quo")
        & (pl.col("horizon") == 100)
    )  # fmt: skip
    q50 = row & (pl.col("output_type_id") == 0.5)
    edits = {
        "swap": lambda f: f.with_columns(value=pl.when(q50).then(0.0 + last).otherwise("value")),
        "below": lambda f: f.with_columns(value=pl.when(row).then(last - 1.0).otherwise("value")),
        "decrease": lambda f: f.with_columns(
            value=pl.when(row).then(pl.col("value") - 1e6).otherwise("value").clip(last, None)
        ),
        "missing": lambda f: f.with_columns(value=pl.when(q50).then(None).otherwise("value")),
        "reporter": lambda f: f.with_columns(
            reported_by=pl.when(q50).then(pl.lit("someone else")).otherwise("reported_by")
        ),
    }
    _edit_csv(proj, edits[what])
    problems = validate_run(run_copy)
    assert any(expected in p for p in problems), problems


def test_validate_missing_files_and_manifest(run_copy: Path) -> None:
    (run_copy / "summary.csv").unlink()
    assert any("listed in the manifest but missing" in p for p in validate_run(run_copy))
    (run_copy / "manifest.json").write_text("{not json")
    assert validate_run(run_copy)[0].endswith(
        "not a valid manifest (JSONDecodeError: "
        "Expecting property name enclosed in double "
        "quotes: line 1 column 2 (char 1))"
    )
    (run_copy / "manifest.json").unlink()
    assert validate_run(run_copy) == [f"{run_copy / 'manifest.json'}: missing"]


def _one_below_the_level_before(frame: pl.DataFrame, where: pl.Expr) -> pl.DataFrame:
    """`frame` with one quantile (the 0.5 level of the group `where` selects) set to 1 less
    than the level below it: the smallest disorder of levels."""
    group = frame.filter(where & (pl.col("output_type") == "quantile")).sort("output_type_id")
    levels = group["output_type_id"].to_list()
    k = levels.index(0.5)
    below = float(group["value"][k - 1])
    at = where & (pl.col("output_type_id") == 0.5)
    return frame.with_columns(value=pl.when(at).then(below - 1.0).otherwise("value"))


@pytest.mark.parametrize(
    ("name", "where", "named"),
    [
        (
            "projections.csv",
            (pl.col("scenario_id") == "status-quo") & (pl.col("target") == "inc personnel")
            & (pl.col("horizon") == 10),
            "scenario_id=status-quo, target=inc personnel, horizon=10, output_type_id=0.5",
        ),
        (
            "summary.csv",
            (pl.col("scenario_id") == "status-quo") & (pl.col("series") == "personnel")
            & (pl.col("measure") == "total"),
            "scenario_id=status-quo, series=personnel, measure=total, output_type_id=0.5",
        ),
    ],
)  # fmt: skip
def test_a_quantile_one_below_the_level_before_is_named(
    run_copy: Path, name: str, where: pl.Expr, named: str
) -> None:
    path = run_copy / name
    frame = pl.read_csv(path, null_values="NA", infer_schema_length=None)
    assert frame.filter(where & (pl.col("output_type_id") == 0.5)).height == 1
    _edit_csv(path, lambda f: _one_below_the_level_before(f, where))
    problems = _problems_of(run_copy, name)
    assert any(
        re.fullmatch(rf"row \d+: quantiles not ordered by level \({re.escape(named)}; 1 rows in "
                     r"all\)", p.removeprefix(f"{path}: "))
        for p in problems
    ), problems  # fmt: skip


def test_a_sample_trajectory_falling_by_one_is_named(run_copy: Path) -> None:
    path = run_copy / "samples.parquet"
    frame = pl.read_parquet(path)
    one = (
        (pl.col("scenario_id") == "status-quo") & (pl.col("target") == "cum personnel")
        & (pl.col("output_type_id") == 1)
    )  # fmt: skip
    before = frame.filter(one & (pl.col("horizon") == 9))["value"].item()
    assert frame.filter(one & (pl.col("horizon") == 10))["value"].item() >= before
    fallen = frame.with_columns(
        value=pl.when(one & (pl.col("horizon") == 10)).then(before - 1).otherwise("value")
    )
    assert fallen.schema == frame.schema
    fallen.write_parquet(path, statistics=False)
    problems = _problems_of(run_copy, "samples.parquet")
    assert problems[0] == f"{path}: SHA-256 differs from the manifest (changed after the run)"
    assert [p.removeprefix(f"{path}: ").split(": ", 1)[1] for p in problems[1:]] == [
        "cumulative trajectory decreases (scenario_id=status-quo, target=cum personnel, "
        "horizon=10, output_type_id=1; 1 rows in all)"
    ]


def test_a_negative_sample_is_named(run_copy: Path) -> None:
    path = run_copy / "samples.parquet"
    frame = pl.read_parquet(path)
    first = (pl.col("target") == "inc personnel") & (pl.col("horizon") == 1)
    frame.with_columns(value=pl.when(first).then(-1).otherwise("value")).write_parquet(path)
    problems = _problems_of(run_copy, "samples.parquet")
    assert any("negative or missing" in p and "target=inc personnel" in p for p in problems)
