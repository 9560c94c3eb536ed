"""Tests of `attrition series` (simulate.cli.series)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from click.testing import CliRunner

from simulate.cli import cli


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_series_command_writes_table_and_provenance(tmp_path: Path) -> None:
    out = tmp_path / "daily.csv"
    code, _, err = run("series", "example", "-o", str(out), "--repair")
    assert code == 0, err
    table = pl.read_csv(out)
    assert set(table.columns) == {
        "date",
        "series",
        "cumulative",
        "daily",
        "flags",
        "source",
        "reported_by",
    }
    assert table.height == 3 * 730
    assert table.get_column("reported_by").str.starts_with("nobody").all()
    prov = json.loads((tmp_path / "daily.csv.provenance.json").read_text())
    assert prov["policy"]["slips"] == "repair"
    assert "not verified counts of actual losses" in prov["caveat"]
    assert prov["data"][0]["policy"]["slips"] == "repair"
    # refuses to overwrite; parquet works too
    assert run("series", "example", "-o", str(out))[0] == 2
    # a leftover provenance file alone also stops the run before anything is written
    (tmp_path / "daily.csv").unlink()
    assert run("series", "example", "-o", str(out))[0] == 2
    assert not out.exists()
    pq = tmp_path / "daily.parquet"
    assert run("series", "example", "-o", str(pq))[0] == 0
    assert pl.read_parquet(pq).height == 3 * 730


def test_series_rejects_unknown_extension_and_directory_targets(tmp_path: Path) -> None:
    assert run("series", "example", "-o", str(tmp_path / "out.json"))[0] == 2
    (tmp_path / "z.csv.provenance.json").mkdir()
    code, _, err = run("series", "example", "-o", str(tmp_path / "z.csv"), "--force")
    assert code == 2 and "is a directory" in err
    assert not (tmp_path / "z.csv").exists()
