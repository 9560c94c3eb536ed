"""Tests of simulate.outputs.seriesfile (the validated daily series as one table)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from simulate import CAVEAT
from simulate.data import DataPolicy, ReportedData, apply_policy, load
from simulate.errors import OutputExistsError
from simulate.outputs.seriesfile import series_table, write_series
from simulate.pipeline import check_outputs


@pytest.fixture(scope="module")
def example() -> ReportedData:
    return load("example")


def test_table_stacks_the_policy_applied_series(example: ReportedData) -> None:
    policy = DataPolicy(slips="repair")
    table, provenance = series_table([example], policy)
    daily = apply_policy(example, policy).table
    assert table.height == daily.height
    assert table.get_column("daily").to_list() == daily.get_column("daily").to_list()
    assert set(table.get_column("source")) == {example.source}
    assert set(table.get_column("reported_by")) == {example.reported_by}
    assert table.schema["flags"] == pl.String
    assert provenance["policy"] == policy.to_dict()
    assert provenance["caveat"] == [CAVEAT.format(reporter=example.reported_by)]


def test_write_series_csv_and_parquet_read_back(example: ReportedData, tmp_path: Path) -> None:
    policy = DataPolicy()
    table, provenance = series_table([example], policy)
    for name, read in (("d.csv", pl.read_csv), ("d.parquet", pl.read_parquet)):
        written = write_series([example], tmp_path / name, policy=policy)
        assert written.rows == table.height
        assert written.provenance == tmp_path / f"{name}.provenance.json"
        assert read(written.path).height == table.height
        doc = json.loads(written.provenance.read_text())
        assert doc["policy"] == provenance["policy"] and doc["sources"]


def test_write_series_checks_both_targets_before_writing(
    example: ReportedData, tmp_path: Path
) -> None:
    target = tmp_path / "d.csv"
    Path(f"{target}.provenance.json").write_text("{}")
    with pytest.raises(OutputExistsError, match=r"d\.csv\.provenance\.json: already exists"):
        write_series([example], target, policy=DataPolicy())
    assert not target.exists()
    write_series([example], target, policy=DataPolicy(), force=True)
    assert target.exists()


def test_check_outputs(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("x")
    check_outputs(tmp_path / "new", tmp_path / "file", force=True)
    check_outputs(tmp_path / "dir", force=True, directory=True)
    with pytest.raises(OutputExistsError, match="file: already exists; use --force"):
        check_outputs(tmp_path / "new", tmp_path / "file")
    with pytest.raises(OutputExistsError, match="dir: is a directory; expected a file name"):
        check_outputs(tmp_path / "dir", force=True)
