"""What the tests of simulate.compare share (no tests here): three demo runs, made once per
session whichever test file asks first, and helpers that invoke ``attrition compare`` and
change one value of a run's table."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner, Result

from simulate import pipeline
from simulate.cli.compare import compare_cmd
from simulate.compare import read_table
from simulate.outputs import rundir

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scenarios" / "demo.toml"
PATHS = 200
#: The keys that name a projections row in the reports.
ROW_KEYS = ("scenario_id", "target", "horizon", "output_type_id")

_RUNS: dict[str, Path] = {}


def invoke(*args: Any) -> Result:
    """``attrition compare`` with these arguments."""
    return CliRunner().invoke(compare_cmd, [str(a) for a in args])


def _write(result: pipeline.RunResult, path: Path) -> Path:
    return rundir.write_run(result, path, charts=False)


def demo_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two runs of the demo with the same seed (each run separately) and one with another
    seed. Made once per session: tests change copies of them, never the runs themselves."""
    if not _RUNS:
        root = tmp_path_factory.mktemp("runs")
        _RUNS["a"] = _write(pipeline.run(DEMO, paths=PATHS), root / "a")
        _RUNS["b"] = _write(pipeline.run(DEMO, paths=PATHS), root / "b")
        _RUNS["seed"] = _write(pipeline.run(DEMO, paths=PATHS, seed=7), root / "seed")
    return dict(_RUNS)


def changed_row(runs: dict[str, Path]) -> dict[str, Any]:
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


def n_rows(run: Path) -> int:
    return read_table(run / "projections.csv").height


def seed_of(run: Path) -> int:
    return int(json.loads((run / "manifest.json").read_text(encoding="utf-8"))["run"]["seed"])


def copy_run(run: Path, tmp_path: Path, name: str = "copy") -> Path:
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


def scale_value(path: Path, row: dict[str, Any], factor: float) -> tuple[float, float]:
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


def other_platform(run: Path, tmp_path: Path, name: str = "other") -> Path:
    """A copy of `run` whose manifest says it was made under another OpenBLAS kernel."""
    b = copy_run(run, tmp_path, name)
    manifest = json.loads((b / "manifest.json").read_text())
    for blas in manifest["platform"]["blas"]:
        blas["core_type"] = "Haswell" if blas["core_type"] != "Haswell" else "SkylakeX"
    (b / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return b
