"""Run directories in the Parquet format (``attrition run --format parquet``, ``[outputs]
format``): written and validated, compared with a CSV run of the same file and seed as the
same, byte-identical from run to run, far smaller than CSV, and part of what ``--resume``
checks (simulate/outputs/rundir.py, validation.py; simulate/compare/runs.py)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner, Result
from compare_support import DEMO, PATHS, ROW_KEYS, copy_run, invoke, other_platform

from simulate import pipeline
from simulate.cli import cli
from simulate.compare import compare_runs
from simulate.fingerprint import file_sha256
from simulate.outputs import rundir
from simulate.outputs.rundir import PARQUET_OPTIONS
from simulate.outputs.validation import validate_run
from simulate.summaries import HUB_SCHEMA, SUMMARY_SCHEMA, projections_table

TABLES = ("projections", "contrasts", "summary", "fit")
PARQUET = tuple(f"{t}.parquet" for t in TABLES)


def _run(out: Path, *extra: str) -> Result:
    return CliRunner().invoke(cli, ["run", str(DEMO), "--out", str(out), "--paths", str(PATHS),
                                    "--no-charts", "-q", *extra])  # fmt: skip


@pytest.fixture(scope="module")
def pq_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo run as ``compare_support``'s CSV runs are (same seed and paths), in Parquet."""
    out = tmp_path_factory.mktemp("parquet")
    result = _run(out, "--format", "parquet")
    assert result.exit_code == 0, result.output
    return out / "demo"


@pytest.fixture(scope="module")
def demo_result() -> pipeline.RunResult:
    """The demo file as it is (10,000 paths): the size of table users get."""
    return pipeline.run(DEMO)


def _manifest(run: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    return doc


def _save_manifest(run: Path, doc: dict[str, Any]) -> None:
    (run / "manifest.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------------------
# run --format parquet, then validate


def test_run_writes_the_four_tables_as_parquet_and_validates(pq_run: Path) -> None:
    assert sorted(p.name for p in pq_run.iterdir()) == sorted(
        [
            *PARQUET,
            "manifest.json",
            "scenario.toml",
            "report.html",
            "chart-data-personnel.csv",
            "chart-data-tanks.csv",
        ]
    )  # the chart-ready tables stay CSV: they are for chart tools
    doc = _manifest(pq_run)
    assert doc["run"]["format"] == "parquet"
    for name in PARQUET:
        frame = pl.read_parquet(pq_run / name)
        assert frame.height == doc["outputs"][name]["rows"] > 0, name
    projections = pl.read_parquet(pq_run / "projections.parquet")
    assert dict(projections.schema) == HUB_SCHEMA  # typed: dates as dates, levels as floats
    assert dict(pl.read_parquet(pq_run / "summary.parquet").schema) == SUMMARY_SCHEMA
    assert validate_run(pq_run) == []
    result = CliRunner().invoke(cli, ["validate", str(pq_run)])
    assert result.exit_code == 0 and result.output == f"{pq_run}: valid\n"


def test_the_file_chooses_the_format_and_the_option_overrides_it(tmp_path: Path) -> None:
    text = DEMO.read_text(encoding="utf-8").replace("charts = true", 'format = "parquet"')
    path = tmp_path / "demo.toml"
    path.write_text(text, encoding="utf-8")
    args = ["run", str(path), "--paths", "100", "--no-charts", "-q", "--out"]
    assert CliRunner().invoke(cli, [*args, str(tmp_path / "a")]).exit_code == 0
    assert (tmp_path / "a" / "demo" / "projections.parquet").is_file()
    r = CliRunner().invoke(cli, [*args, str(tmp_path / "b"), "--format", "csv"])
    assert r.exit_code == 0, r.output
    names = {p.name for p in (tmp_path / "b" / "demo").iterdir()}
    assert {f"{t}.csv" for t in TABLES} <= names and not any(n.endswith(".parquet") for n in names)
    assert _manifest(tmp_path / "b" / "demo")["run"]["format"] == "csv"


def test_a_bad_format_is_one_line_naming_the_file_and_key(tmp_path: Path) -> None:
    text = DEMO.read_text(encoding="utf-8").replace("charts = true", 'format = "xlsx"')
    path = tmp_path / "demo.toml"
    path.write_text(text, encoding="utf-8")
    r = CliRunner().invoke(cli, ["run", str(path), "--out", str(tmp_path / "o"), "-q"])
    assert r.exit_code == 2
    assert (
        r.output == f"Error: {path}: outputs.format: must be one of 'csv', 'parquet', got 'xlsx'\n"
    )
    r = CliRunner().invoke(cli, ["run", str(DEMO), "--out", str(tmp_path / "o"), "--format", "x"])
    assert r.exit_code == 2 and "'x' is not one of 'csv', 'parquet'" in r.output
    assert "Traceback" not in r.output and not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        ("mixed", "tables of both formats (fit.csv and projections.parquet, contrasts.parquet, "
                  "summary.parquet, fit.parquet); a run directory holds one format"),
        ("neither", "no tables: expected projections, contrasts, summary, fit as .csv files or "
                    "as .parquet files"),
        ("recorded", "manifest.json: run.format is 'csv', but the tables are .parquet files"),
        ("type", "summary.parquet: columns of other types (days is Int32, expected Int64)"),
        ("column", "projections.parquet: missing columns ['value']"),
        ("value", "projections.parquet: row "),
    ],
    ids=["mixed", "neither", "recorded", "type", "column", "value"],
)  # fmt: skip
def test_validation_checks_the_parquet_tables_and_one_format(
    pq_run: Path, tmp_path: Path, edit: str, expected: str
) -> None:
    run = copy_run(pq_run, tmp_path)
    doc = _manifest(run)
    table: str | None = None
    if edit == "mixed":  # a CSV table beside the Parquet ones, listed or not
        pl.read_parquet(run / "fit.parquet").write_csv(run / "fit.csv", null_value="NA")
    elif edit == "neither":
        for name in PARQUET:
            (run / name).unlink()
            del doc["outputs"][name]
    elif edit == "recorded":
        doc["run"]["format"] = "csv"
    else:
        table = "summary.parquet" if edit == "type" else "projections.parquet"
        frame = pl.read_parquet(run / table)
        if edit == "type":
            frame = frame.with_columns(pl.col("days").cast(pl.Int32))
        elif edit == "column":
            frame = frame.drop("value")
        else:  # one quantile below the level before it
            first = (pl.col("output_type") == "quantile") & (pl.col("output_type_id") == 0.99)
            frame = frame.with_columns(
                pl.when(first.cum_sum() == 1).then(-1.0).otherwise(pl.col("value")).alias("value")
            )
        frame.write_parquet(run / table)
        doc["outputs"][table].update(sha256=file_sha256(run / table))
    _save_manifest(run, doc)
    problems = validate_run(run)
    assert any(expected in p for p in problems), problems
    if table is not None:  # the table itself is named, not only the listed files
        assert all(str(run / table) in p for p in problems), problems
    result = CliRunner().invoke(cli, ["validate", str(run)])
    assert result.exit_code == 1 and "INVALID" in result.output


# --------------------------------------------------------------------------------------
# compare: a CSV run against a Parquet run


def test_a_csv_run_and_a_parquet_run_of_one_file_and_seed_compare_the_same(
    runs: dict[str, Path], pq_run: Path
) -> None:
    for a, b in ((runs["a"], pq_run), (pq_run, runs["a"])):
        r = invoke(a, b)
        assert r.exit_code == 0, r.output
        assert "SAME within the tolerance" in r.output
        assert "manifest.json: same" in r.output  # run.format and file names are no difference
        c = compare_runs(a, b)
        assert c.same and c.differing == ()
        tables = {f.name: f for f in c.files if f.kind == "table"}
        ext_a, ext_b = ("csv", "parquet") if a == runs["a"] else ("parquet", "csv")
        chart_data = ["chart-data-personnel.csv", "chart-data-tanks.csv"]  # CSV in both
        assert sorted(tables) == sorted([f"{t}.{ext_a}" for t in TABLES] + chart_data)
        for name, f in tables.items():
            twin = None if name in chart_data else name.replace(ext_a, ext_b)  # None: same name
            assert f.name_b == twin and f.status == "same"
            assert f.table is not None and f.table.n_rows_a == f.table.n_rows_b > 0
            assert f.table.compared  # values were compared, not just counted
        assert f"projections.{ext_a} vs projections.{ext_b}: same" in r.output
    summary = invoke(runs["a"], pq_run, "--summary")
    assert summary.exit_code == 0 and "median +0 (+0.0%)" in summary.output


def test_a_changed_value_in_a_parquet_table_is_named(
    runs: dict[str, Path], row: dict[str, Any], pq_run: Path, tmp_path: Path
) -> None:
    b = copy_run(pq_run, tmp_path)
    path = b / "projections.parquet"
    frame = pl.read_parquet(path)
    hit = pl.all_horizontal(*(pl.col(k) == v for k, v in row.items()))
    hit = hit & (pl.col("output_type") == "quantile")
    assert frame.filter(hit).height == 1
    old = frame.filter(hit)["value"][0]
    frame.with_columns(pl.when(hit).then(pl.col("value") * (1 + 1e-6)).otherwise(pl.col("value"))
                       .alias("value")).write_parquet(path)  # fmt: skip
    new = pl.read_parquet(path).filter(hit)["value"][0]
    for a in (runs["a"], pq_run):  # against the CSV run and against the Parquet one
        c = compare_runs(a, b)
        ext = "csv" if a == runs["a"] else "parquet"
        assert [f.name for f in c.differing] == [f"projections.{ext}"]
        d = c.differing[0].table
        assert d is not None and (d.n_differing, d.n_values_differing) == (1, 1)
        cell = d.differences.row(0, named=True)
        assert {k: cell[k] for k in ROW_KEYS} == row
        assert (cell["a"], cell["b"]) == (old, new) and old != new
        r = invoke(a, b)
        assert r.exit_code == 1 and "DIFFERENT: 1 of" in r.output


def _add_to_value(path: Path, row: dict[str, Any], delta: float) -> None:
    hit = pl.all_horizontal(*(pl.col(k) == v for k, v in row.items()))
    hit = hit & (pl.col("output_type") == "quantile")
    frame = pl.read_parquet(path)
    assert frame.filter(hit).height == 1
    value = pl.when(hit).then(pl.col("value") + delta).otherwise(pl.col("value"))
    frame.with_columns(value.alias("value")).write_parquet(path)


def test_across_platforms_parquet_tables_get_the_cross_platform_tolerance(
    runs: dict[str, Path], row: dict[str, Any], pq_run: Path, tmp_path: Path
) -> None:
    # One reporting step on a quantile (one flipped draw): the same across platforms, a
    # difference on one platform; as for CSV tables (tests/test_compare_runs.py).
    step = {s["name"]: s["granularity"] for s in _manifest(pq_run)["series"]}
    step_of_row = step[row["target"].split()[1]]
    b = other_platform(pq_run, tmp_path)
    _add_to_value(b / "projections.parquet", row, step_of_row)
    for a in (runs["a"], pq_run):
        r = invoke(a, b)
        assert r.exit_code == 0, r.output
        assert "cross-platform tolerance applied" in r.output
    same_platform = copy_run(pq_run, tmp_path, "same")
    _add_to_value(same_platform / "projections.parquet", row, step_of_row)
    assert invoke(runs["a"], same_platform).exit_code == 1


def test_a_table_only_one_side_holds_in_either_format_is_a_difference(
    runs: dict[str, Path], pq_run: Path, tmp_path: Path
) -> None:
    b = copy_run(pq_run, tmp_path)
    (b / "fit.parquet").unlink()
    c = compare_runs(runs["a"], b)
    assert {(f.name, f.status) for f in c.differing} >= {("fit.csv", "only_in_a")}


# --------------------------------------------------------------------------------------
# Determinism and size


def test_parquet_tables_are_byte_identical_from_run_to_run(pq_run: Path, tmp_path: Path) -> None:
    again = _run(tmp_path / "again", "--format", "parquet", "--jobs", "2")
    assert again.exit_code == 0, again.output
    for name in PARQUET:
        assert (tmp_path / "again" / "demo" / name).read_bytes() == (pq_run / name).read_bytes()
    assert _manifest(tmp_path / "again" / "demo")["outputs"] == _manifest(pq_run)["outputs"]


def test_streamed_blocks_give_the_bytes_of_the_whole_table(
    demo_result: pipeline.RunResult, tmp_path: Path
) -> None:
    run = rundir.write_run(demo_result, tmp_path / "demo", charts=False, table_format="parquet")
    whole = io.BytesIO()
    projections_table(demo_result).write_parquet(whole, **PARQUET_OPTIONS)
    assert (run / "projections.parquet").read_bytes() == whole.getvalue()
    assert pl.read_parquet(run / "projections.parquet").height > PARQUET_OPTIONS["row_group_size"]


def test_parquet_tables_are_far_smaller_than_csv(
    demo_result: pipeline.RunResult, tmp_path: Path
) -> None:
    sizes: dict[str, dict[str, int]] = {}
    for fmt in ("csv", "parquet"):
        run = rundir.write_run(demo_result, tmp_path / fmt, charts=False, table_format=fmt)
        sizes[fmt] = {t: (run / f"{t}.{fmt}").stat().st_size for t in TABLES}
    ratios = {t: sizes["csv"][t] / sizes["parquet"][t] for t in TABLES}
    print(f"CSV bytes {sizes['csv']}, Parquet bytes {sizes['parquet']}, ratios {ratios}")
    for t in ("projections", "contrasts", "summary"):
        assert ratios[t] >= 4, (t, sizes)
    assert sum(sizes["csv"].values()) >= 4 * sum(sizes["parquet"].values()), sizes


# --------------------------------------------------------------------------------------
# --resume


def test_resume_keeps_a_run_of_the_format_asked_for_and_redoes_another(tmp_path: Path) -> None:
    out = tmp_path / "o"
    assert _run(out, "--format", "parquet").exit_code == 0
    before = (out / "demo" / "projections.parquet").stat().st_mtime_ns
    same = _run(out, "--format", "parquet", "--resume")
    assert same.exit_code == 0 and "recomputed" not in same.output
    assert (out / "demo" / "projections.parquet").stat().st_mtime_ns == before
    other = CliRunner().invoke(cli, ["run", str(DEMO), "--out", str(out), "--paths", str(PATHS),
                                     "--no-charts", "--resume"])  # fmt: skip
    assert other.exit_code == 0, other.output
    assert (
        f"{out / 'demo'}: the tables are parquet files and csv files are wanted; recomputed"
        in other.output
    )
    names = {p.name for p in (out / "demo").iterdir()}
    assert "projections.csv" in names and not any(n.endswith(".parquet") for n in names)
    assert validate_run(out / "demo") == []
