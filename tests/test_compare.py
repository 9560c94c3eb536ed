"""Tests of `attrition compare` (simulate.compare and simulate.cli_compare)."""

from __future__ import annotations

import io
import json
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner, Result

from simulate import pipeline
from simulate.cli_compare import compare_cmd
from simulate.compare import (
    ABSENT,
    CompareError,
    compare_manifests,
    compare_paths,
    compare_tables,
    read_table,
    render_move,
    summary_moves,
)
from simulate.outputs import rundir

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scenarios" / "demo.toml"
PATHS = 200
#: The keys that name a projections row in the reports.
ROW_KEYS = ("scenario_id", "target", "horizon", "output_type_id")


def _invoke(*args: Any) -> Result:
    return CliRunner().invoke(compare_cmd, [str(a) for a in args])


def _write(result: pipeline.RunResult, path: Path) -> Path:
    return rundir.write_run(result, path, charts=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two runs of the demo with the same seed (each run separately) and one with another seed."""
    root = tmp_path_factory.mktemp("runs")
    return {
        "a": _write(pipeline.run(DEMO, paths=PATHS), root / "a"),
        "b": _write(pipeline.run(DEMO, paths=PATHS), root / "b"),
        "seed": _write(pipeline.run(DEMO, paths=PATHS, seed=7), root / "seed"),
    }


@pytest.fixture(scope="module")
def row(runs: dict[str, Path]) -> dict[str, Any]:
    """The projections row the tests change (whatever scenarios and series the demo has):
    a quantile of a cumulative total, of the last scenario, at horizon 100 or the last one."""
    t = read_table(runs["a"] / "projections.csv")
    t = t.filter(pl.col("output_type") == "quantile", pl.col("target").str.starts_with("cum "))
    horizon = min(100, int(t["horizon"].max()))
    levels = sorted(set(t["output_type_id"].to_list()))
    hit = t.filter(
        pl.col("scenario_id") == t["scenario_id"].max(),
        pl.col("horizon") == horizon,
        pl.col("output_type_id") == levels[(3 * len(levels)) // 4],
    )
    return {k: hit[k][0] for k in ROW_KEYS}


def _n_rows(run: Path) -> int:
    return read_table(run / "projections.csv").height


def _seed(run: Path) -> int:
    return int(json.loads((run / "manifest.json").read_text(encoding="utf-8"))["run"]["seed"])


def _copy(run: Path, tmp_path: Path, name: str = "copy") -> Path:
    target = tmp_path / name
    shutil.copytree(run, target)
    return target


def _line_of(path: Path, row: dict[str, Any]) -> int:
    """The 0-based line number (header = 0) of the projections row with these keys."""
    frame = read_table(path).with_row_index("i")
    hit = frame.filter(
        *(pl.col(k) == v for k, v in row.items()), pl.col("output_type") == "quantile"
    )
    assert hit.height == 1
    return int(hit["i"][0]) + 1


def _scale_value(path: Path, row: dict[str, Any], factor: float) -> tuple[float, float]:
    """Multiply the value of one row by `factor`, leaving every other byte as it was."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    at = _line_of(path, row)
    fields = lines[at].rstrip("\n").split(",")
    old = float(fields[header.index("value")])
    new = old * factor
    fields[header.index("value")] = repr(new)
    lines[at] = ",".join(fields) + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    return old, new


# --------------------------------------------------------------------------- acceptance


def test_same_file_and_seed_compare_equal(runs: dict[str, Path], tmp_path: Path) -> None:
    # Two quick runs can finish within the same millisecond timings and second: make the
    # manifests' timings differ for sure, as they do between real runs.
    b = _copy(runs["b"], tmp_path)
    manifest = json.loads((b / "manifest.json").read_text())
    manifest["timings"]["written_at"] = "2000-01-01T00:00:00Z"
    (b / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    r = _invoke(runs["a"], b)
    assert r.exit_code == 0, r.output
    assert "SAME within the tolerance" in r.output
    assert "manifest.json: same" in r.output  # timings and the written_at time differ
    assert (
        json.loads((runs["a"] / "manifest.json").read_text())["timings"]
        != json.loads((b / "manifest.json").read_text())["timings"]
    )


def test_one_quantile_changed_by_one_percent_is_named(
    runs: dict[str, Path], row: dict[str, Any], tmp_path: Path
) -> None:
    b = _copy(runs["b"], tmp_path)
    old, new = _scale_value(b / "projections.csv", row, 1.01)
    r = _invoke(runs["a"], b)
    assert r.exit_code == 1, r.output
    assert f"projections.csv: 1 of {_n_rows(runs['a']):,} rows differ" in r.output
    group = f"scenario_id={row['scenario_id']}, target={row['target']} (1 value differ)"
    assert group in r.output
    assert f"    horizon={row['horizon']}, " in r.output
    assert f"output_type_id={row['output_type_id']}: value" in r.output
    assert "(+1%)" not in r.output and "0.99%" in r.output  # relative to B: 0.01 / 1.01
    assert "DIFFERENT: 1 of 6 files differ" in r.output
    # the two files alone: the same answer
    r = _invoke(runs["a"] / "projections.csv", b / "projections.csv")
    assert r.exit_code == 1
    assert group in r.output
    d = compare_paths(runs["a"] / "projections.csv", b / "projections.csv").files[0].table
    assert d is not None
    got = d.largest.row(0, named=True)
    assert {k: got[k] for k in ROW_KEYS} == row
    assert (got["a"], got["b"]) == (old, new)
    assert got["abs_diff"] == pytest.approx(new - old)
    assert got["rel_diff"] == pytest.approx((new - old) / new)


NO_LINE_END = "the last line has no line end"


@pytest.mark.parametrize(
    ("cut", "reason"),
    [
        pytest.param(lambda t: t[: len(t) // 2], NO_LINE_END, id="mid-line"),
        pytest.param(lambda t: t[: t.index("\n") + 1], "a header but no rows", id="after-header"),
        pytest.param(lambda t: t[: t.index("\n") // 2], NO_LINE_END, id="mid-header"),
        pytest.param(lambda t: "", "empty file", id="empty"),
    ],
)  # fmt: skip
def test_truncated_csv_cannot_be_compared(
    runs: dict[str, Path], tmp_path: Path, cut: Any, reason: str
) -> None:
    text = (runs["a"] / "projections.csv").read_text(encoding="utf-8")
    bad = tmp_path / "projections.csv"
    bad.write_text(cut(text), encoding="utf-8")
    for args in ((runs["a"] / "projections.csv", bad), (bad, runs["a"] / "projections.csv")):
        r = _invoke(*args)
        assert r.exit_code == 2, r.output
        assert r.stdout == ""
        assert r.stderr.startswith(f"Error: {bad}: {reason}")
        assert r.stderr.count("\n") == 1  # one line
        assert "truncated" in r.stderr or reason == "empty file"


def test_ragged_rows_cannot_be_compared(runs: dict[str, Path], tmp_path: Path) -> None:
    lines = (runs["a"] / "fit.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    short = tmp_path / "short.csv"  # a row with its last fields missing, mid-file
    short.write_text("".join(lines[:3] + [lines[3][:40] + "\n"] + lines[4:]), encoding="utf-8")
    r = _invoke(runs["a"] / "fit.csv", short)
    assert r.exit_code == 2
    assert f"{short}: row 3: no value in key column" in r.stderr
    long = tmp_path / "long.csv"  # a row with a field too many
    long.write_text("".join(lines[:3] + [lines[3].rstrip("\n") + ",x\n"] + lines[4:]))
    r = _invoke(runs["a"] / "fit.csv", long)
    assert r.exit_code == 2
    assert r.stderr.startswith(f"Error: {long}: unreadable (")


def test_table_shorter_than_its_manifest_says(runs: dict[str, Path], tmp_path: Path) -> None:
    b = _copy(runs["b"], tmp_path)
    lines = (b / "summary.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (b / "summary.csv").write_text("".join(lines[:100]), encoding="utf-8")  # cut at a line end
    r = _invoke(runs["a"], b)
    assert r.exit_code == 2
    assert f"{b / 'summary.csv'}: 99 rows but its manifest.json lists 2,166" in r.stderr


# --------------------------------------------------------------------------- tolerances


def test_rtol_and_atol_are_honoured(
    runs: dict[str, Path], row: dict[str, Any], tmp_path: Path
) -> None:
    b = _copy(runs["b"], tmp_path)
    old, new = _scale_value(b / "projections.csv", row, 1 + 1e-7)
    assert 1e-4 < new - old < 1
    a_file, b_file = runs["a"] / "projections.csv", b / "projections.csv"
    assert _invoke(a_file, b_file).exit_code == 1  # 1e-7 relative is beyond the default
    assert _invoke(a_file, b_file, "--rtol", "1e-6").exit_code == 0
    assert _invoke(a_file, b_file, "--rtol", "1e-8").exit_code == 1
    assert _invoke(a_file, b_file, "--rtol", "0", "--atol", "1").exit_code == 0
    assert _invoke(a_file, b_file, "--rtol", "0", "--atol", "1e-4").exit_code == 1


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


# --------------------------------------------------------------------------- rows, columns, keys


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
    r = _invoke(tmp_path / "a.csv", tmp_path / "b.csv")
    assert r.exit_code == 1
    assert "1 rows only in A, 1 only in B" in r.output
    assert "rows only in A (1):\n    horizon=2\n" in r.output  # constant keys are not repeated
    assert "rows only in B (1):\n    horizon=5\n" in r.output


def test_missing_and_extra_columns_are_listed() -> None:
    a = pl.DataFrame({"series": ["x", "y"], "estimate": [1.0, 2.0], "aic": [3.0, 4.0]})
    b = pl.DataFrame({"series": ["x", "y"], "estimate": [1.0, 2.0], "bic": [5.0, 6.0]})
    d = compare_tables(a, b)
    assert d.keys == ("series",) and d.compared == ("estimate",)
    assert d.columns_only_in_a == ("aic",) and d.columns_only_in_b == ("bic",)
    assert not d.same


def test_key_columns_that_differ_cannot_be_compared(runs: dict[str, Path], tmp_path: Path) -> None:
    a = _hub()
    with pytest.raises(CompareError, match="the key columns differ .only B has extra"):
        compare_tables(a, a.with_columns(extra=pl.lit("z")))
    with pytest.raises(CompareError, match="key column 'horizon' is Int64 in A but String in B"):
        compare_tables(a, a.with_columns(pl.col("horizon").cast(pl.String)))
    with pytest.raises(CompareError, match="key column 'nope' is not in A"):
        compare_tables(a, a, keys=["nope"])
    r = _invoke(runs["a"] / "fit.csv", runs["a"] / "projections.csv")
    assert r.exit_code == 2 and "the key columns differ" in r.stderr
    # --keys: rows aligned on the columns named, the others compared
    b = a.with_columns(output_type=pl.lit("median"))
    assert compare_tables(a, b, keys=["scenario_id", "target", "horizon"]).changed.height == 4


def test_duplicate_keys_cannot_be_compared(runs: dict[str, Path], tmp_path: Path) -> None:
    lines = (runs["a"] / "fit.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    dup = tmp_path / "fit.csv"
    dup.write_text("".join([*lines, lines[5]]), encoding="utf-8")
    for args in ((runs["a"] / "fit.csv", dup), (dup, runs["a"] / "fit.csv")):
        r = _invoke(*args)
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


# --------------------------------------------------------------------------- run directories


def test_manifest_differences_by_field_path(runs: dict[str, Path]) -> None:
    r = _invoke(runs["a"], runs["seed"])
    assert r.exit_code == 1
    assert "manifest.json: 1 field differ" in r.output
    assert f"  run.seed: {_seed(runs['a'])} -> 7\n" in r.output


def test_manifest_ignores_timings_versions_paths_and_compared_checksums() -> None:
    a: dict[str, Any] = {
        "run": {"seed": 1},
        "scenario_file": {"path": "x/demo.toml", "sha256": "aa"},
        "data": {"files": [{"path": "/home/a/data.csv", "sha256": "dd"}]},
        "series": [{"name": "tanks", "origin": "2025-12-30"}],
        "outputs": {"projections.csv": {"rows": 10, "sha256": "p1", "bytes": 100},
                    "chart-x.png": {"sha256": "c1", "bytes": 5}},
        "versions": {"numpy": "2.4.6"},
        "timings": {"project_seconds": 0.5},
    }  # fmt: skip
    b = json.loads(json.dumps(a))
    b["scenario_file"]["path"] = "y/demo.toml"
    b["data"]["files"][0]["path"] = "/home/b/data.csv"
    b["versions"]["numpy"] = "2.5.0"
    b["timings"]["project_seconds"] = 0.7
    b["outputs"]["projections.csv"].update(sha256="p2", bytes=101)
    assert compare_manifests(a, b, compared_files=["projections.csv"]) == ()
    b["outputs"]["chart-x.png"]["sha256"] = "c2"
    b["series"][0]["origin"] = "2026-01-06"
    b["data"]["files"][0]["sha256"] = "ee"
    del b["run"]["seed"]
    got = [str(d) for d in compare_manifests(a, b, compared_files=["projections.csv"])]
    assert got == [
        "run.seed: 1 -> (absent)",
        'data.files[0].sha256: "dd" -> "ee"',
        'series[tanks].origin: "2025-12-30" -> "2026-01-06"',
        'outputs[chart-x.png].sha256: "c1" -> "c2"',
    ]
    assert compare_manifests(a, b)[0].b is ABSENT


def test_files_only_on_one_side_and_charts(runs: dict[str, Path], tmp_path: Path) -> None:
    a = _copy(runs["a"], tmp_path, "a")
    b = _copy(runs["b"], tmp_path, "b")
    (a / "chart-x.png").write_bytes(b"\x89PNG one")
    (b / "chart-x.png").write_bytes(b"\x89PNG one")
    assert _invoke(a, b).exit_code == 0
    (b / "chart-x.png").write_bytes(b"\x89PNG two")
    r = _invoke(a, b)
    assert r.exit_code == 1 and "chart-x.png: differs (bytes)" in r.output
    (b / "chart-x.png").unlink()
    r = _invoke(a, b)
    assert r.exit_code == 1 and "chart-x.png: only in A" in r.output


def test_paths_that_cannot_be_compared(runs: dict[str, Path], tmp_path: Path) -> None:
    r = _invoke(runs["a"], runs["a"] / "fit.csv")
    assert r.exit_code == 2
    assert r.stderr == (
        f"Error: cannot compare a directory with a file: {runs['a']} is a directory, "
        f"{runs['a'] / 'fit.csv'} not\n"
    )
    r = _invoke(runs["a"], tmp_path / "nope")
    assert (
        r.exit_code == 2 and r.stderr == f"Error: {tmp_path / 'nope'}: no such file or directory\n"
    )
    (tmp_path / "x.txt").write_text("x\n")
    (tmp_path / "empty1").mkdir()
    (tmp_path / "empty2").mkdir()
    assert _invoke(tmp_path / "empty1", tmp_path / "empty2").exit_code == 2
    assert _invoke(runs["a"], runs["b"], "--keys", " , ").exit_code == 2  # a usage error


# --------------------------------------------------------------------------- formats


def test_json_format(runs: dict[str, Path], row: dict[str, Any], tmp_path: Path) -> None:
    b = _copy(runs["b"], tmp_path)
    _scale_value(b / "projections.csv", row, 1.01)
    r = _invoke(runs["a"], b, "--format", "json")
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    assert doc["same"] is False and doc["files_differing"] == 1
    files = {f["name"]: f for f in doc["files"]}
    p = files["projections.csv"]
    assert (p["status"], p["rows_a"], p["rows_b"], p["rows_differing"]) == (
        "differs", _n_rows(runs["a"]), _n_rows(runs["a"]), 1,
    )  # fmt: skip
    assert p["rows_only_in_a"] == p["rows_only_in_b"] == 0
    assert {k: p["largest"][0][k] for k in ROW_KEYS} == row
    assert files["manifest.json"]["status"] == "same"
    doc = json.loads(_invoke(runs["a"], runs["seed"], "--format", "json").stdout)
    man = {f["name"]: f for f in doc["files"]}["manifest.json"]
    assert man["fields"] == [
        {"path": "run.seed", "a": _seed(runs["a"]), "b": 7, "in_a": True, "in_b": True}
    ]


def test_csv_format(runs: dict[str, Path], row: dict[str, Any], tmp_path: Path) -> None:
    b = _copy(runs["b"], tmp_path)
    old, new = _scale_value(b / "projections.csv", row, 1.01)
    r = _invoke(runs["a"], b, "--format", "csv")
    assert r.exit_code == 1
    table = pl.read_csv(io.StringIO(r.stdout), null_values="NA")
    assert table.height == 1
    got = table.row(0, named=True)
    assert got["file"] == "projections.csv" and got["kind"] == "changed"
    assert {k: got[k] for k in ROW_KEYS} == row
    assert (got["column"], got["a"], got["b"]) == ("value", old, new)
    r = _invoke(runs["a"], runs["b"], "--format", "csv")
    assert r.exit_code == 0 and r.stdout == "file,kind,column,a,b,abs_diff,rel_diff\n"


# --------------------------------------------------------------------------- --summary


def _median(run: Path, scenario: str, target: str, day: str) -> float:
    t = read_table(run / "projections.csv")
    hit = t.filter(
        pl.col("scenario_id") == scenario, pl.col("target") == target,
        pl.col("target_end_date") == day, pl.col("output_type_id") == 0.5,
    )  # fmt: skip
    assert hit.height == 1
    return float(hit["value"][0])


def test_summary_moves_between_seeds(runs: dict[str, Path]) -> None:
    moves = summary_moves(runs["a"], runs["seed"])
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
    r = _invoke(runs["a"], runs["seed"], "--summary")
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
    moves = summary_moves(runs["a"], tmp_path / "projections.csv")
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


# --------------------------------------------------------------------------- across platforms


def _other_platform(run: Path, tmp_path: Path, name: str = "other") -> Path:
    """A copy of `run` whose manifest says it was made under another OpenBLAS kernel."""
    b = _copy(run, tmp_path, name)
    manifest = json.loads((b / "manifest.json").read_text())
    for blas in manifest["platform"]["blas"]:
        blas["core_type"] = "Haswell" if blas["core_type"] != "Haswell" else "SkylakeX"
    (b / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return b


def test_another_platform_is_named_and_its_tolerance_printed(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    b = _other_platform(runs["b"], tmp_path)
    r = _invoke(runs["a"], b)
    assert r.exit_code == 0, r.output
    assert "numerical platforms differ (blas): cross-platform tolerance applied" in r.output
    assert "quantiles one reporting step: personnel 10, tanks 1" in r.output
    assert "at most 0.5% of the value" in r.output
    assert "manifest.json: same" in r.output  # the platform itself is not a difference
    # the same platform: today's comparison, and not a word about platforms
    r = _invoke(runs["a"], runs["b"])
    assert r.exit_code == 0 and "platforms differ" not in r.output
    doc = json.loads(_invoke(runs["a"], b, "--format", "json").output)
    assert doc["platform_differs"] == ["blas"]
    assert doc["cross_platform_tolerance"].startswith("fitted values rtol 1e-09")


def test_across_platforms_one_quantile_changed_by_one_percent_differs(
    runs: dict[str, Path], row: dict[str, Any], tmp_path: Path
) -> None:
    b = _other_platform(runs["b"], tmp_path)
    _scale_value(b / "projections.csv", row, 1.01)
    r = _invoke(runs["a"], b)
    assert r.exit_code == 1, r.output
    assert "cross-platform tolerance applied" in r.output
    assert f"projections.csv: 1 of {_n_rows(runs['a']):,} rows differ" in r.output


def test_across_platforms_one_reporting_step_is_within_the_tolerance(
    runs: dict[str, Path], row: dict[str, Any], tmp_path: Path
) -> None:
    # What one flipped draw can do to a personnel quantile (reported in steps of 10): within
    # the cross-platform tolerance, but a difference on the same platform.
    manifest = json.loads((runs["a"] / "manifest.json").read_text())
    step = {s["name"]: s["granularity"] for s in manifest["series"]}[row["target"].split()[1]]
    b = _other_platform(runs["b"], tmp_path)
    value = float(
        read_table(b / "projections.csv").filter(*(pl.col(k) == v for k, v in row.items()))[
            "value"
        ][0]
    )
    _scale_value(b / "projections.csv", row, (value + step) / value)
    assert _invoke(runs["a"], b).exit_code == 0
    same_platform = _copy(runs["b"], tmp_path, "same")
    _scale_value(same_platform / "projections.csv", row, (value + step) / value)
    assert _invoke(runs["a"], same_platform).exit_code == 1
    # two steps is more than one flipped draw can do
    _scale_value(b / "projections.csv", row, (value + 2.5 * step) / (value + step))
    assert _invoke(runs["a"], b).exit_code == 1


def test_explicit_tolerance_overrides_the_cross_platform_one(
    runs: dict[str, Path], row: dict[str, Any], tmp_path: Path
) -> None:
    b = _other_platform(runs["b"], tmp_path)
    _scale_value(b / "projections.csv", row, 1.01)
    r = _invoke(runs["a"], b, "--rtol", "0.02")
    assert r.exit_code == 0, r.output
    assert "numerical platforms differ (blas); tolerance as given" in r.output


def test_a_series_computed_on_another_platform_counts(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    """A run whose series was fitted and simulated by a worker on another platform (a mixed
    Dask cluster) records that platform under the series, and compare takes it into account."""
    b = _copy(runs["b"], tmp_path)
    manifest = json.loads((b / "manifest.json").read_text())
    worker = json.loads(json.dumps(manifest["platform"]))
    worker["numpy_simd"] = "baseline"
    manifest["series"][0]["platforms"] = [worker]
    (b / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    r = _invoke(runs["a"], b)
    assert r.exit_code == 0, r.output
    assert "numerical platforms differ (numpy_simd): cross-platform tolerance applied" in r.output
    assert "manifest.json: same" in r.output


def test_runs_without_a_recorded_platform_are_compared_as_today(
    runs: dict[str, Path], row: dict[str, Any], tmp_path: Path
) -> None:
    b = _copy(runs["b"], tmp_path)
    manifest = json.loads((b / "manifest.json").read_text())
    del manifest["platform"]
    (b / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    r = _invoke(runs["a"], b)
    assert r.exit_code == 0 and "platforms differ" not in r.output
    _scale_value(b / "projections.csv", row, 1.01)
    assert _invoke(runs["a"], b).exit_code == 1


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
    a = _copy(runs["a"], tmp_path, "a")  # without charts, as the other
    for png in a.glob("*.png"):
        png.unlink()
    r = _invoke(a, other)
    assert r.exit_code == 0, r.output
    assert "numerical platforms differ (blas): cross-platform tolerance applied" in r.output
    for f in ("projections.csv", "contrasts.csv", "summary.csv", "fit.csv"):
        assert (a / f).read_bytes() == (other / f).read_bytes(), f  # in fact byte-identical
    _scale_value(other / "projections.csv", row, 1.01)
    r = _invoke(a, other)
    assert r.exit_code == 1, r.output
    assert f"projections.csv: 1 of {_n_rows(a):,} rows differ" in r.output


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
    b = _other_platform(out, tmp_path, "bt-other")
    r = _invoke(out, b)
    assert r.exit_code == 0, r.output
    assert "every value rtol 1e-09" in r.output
    scores = b / "scores.csv"
    frame = read_table(scores)
    value = next(c for c in frame.columns if frame.schema[c] == pl.Float64)
    frame.with_columns(pl.col(value) * 1.01).write_csv(scores, null_value="NA")
    assert _invoke(out, b).exit_code == 1
