"""Tests of simulate.compare.files: strict reading of tables (truncated, ragged, shorter than
the manifest says), run directories' files, charts by hash."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from compare_support import copy_run, invoke

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
        r = invoke(*args)
        assert r.exit_code == 2, r.output
        assert r.stdout == ""
        assert r.stderr.startswith(f"Error: {bad}: {reason}")
        assert r.stderr.count("\n") == 1  # one line
        assert "truncated" in r.stderr or reason == "empty file"


def test_ragged_rows_cannot_be_compared(runs: dict[str, Path], tmp_path: Path) -> None:
    lines = (runs["a"] / "fit.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    short = tmp_path / "short.csv"  # a row with its last fields missing, mid-file
    short.write_text("".join(lines[:3] + [lines[3][:40] + "\n"] + lines[4:]), encoding="utf-8")
    r = invoke(runs["a"] / "fit.csv", short)
    assert r.exit_code == 2
    assert f"{short}: row 3: no value in key column" in r.stderr
    long = tmp_path / "long.csv"  # a row with a field too many
    long.write_text("".join(lines[:3] + [lines[3].rstrip("\n") + ",x\n"] + lines[4:]))
    r = invoke(runs["a"] / "fit.csv", long)
    assert r.exit_code == 2
    assert r.stderr.startswith(f"Error: {long}: unreadable (")


def test_table_shorter_than_its_manifest_says(runs: dict[str, Path], tmp_path: Path) -> None:
    b = copy_run(runs["b"], tmp_path)
    lines = (b / "summary.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (b / "summary.csv").write_text("".join(lines[:100]), encoding="utf-8")  # cut at a line end
    r = invoke(runs["a"], b)
    assert r.exit_code == 2
    assert f"{b / 'summary.csv'}: 99 rows but its manifest.json lists 2,166" in r.stderr


def test_files_only_on_one_side_and_charts(runs: dict[str, Path], tmp_path: Path) -> None:
    a = copy_run(runs["a"], tmp_path, "a")
    b = copy_run(runs["b"], tmp_path, "b")
    (a / "chart-x.png").write_bytes(b"\x89PNG one")
    (b / "chart-x.png").write_bytes(b"\x89PNG one")
    assert invoke(a, b).exit_code == 0
    (b / "chart-x.png").write_bytes(b"\x89PNG two")
    r = invoke(a, b)
    assert r.exit_code == 1 and "chart-x.png: differs (bytes)" in r.output
    (b / "chart-x.png").unlink()
    r = invoke(a, b)
    assert r.exit_code == 1 and "chart-x.png: only in A" in r.output
