"""Tests of simulate.outputs.seriesfile (the validated daily series as one table)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from simulate import CAVEAT
from simulate.data import DataPolicy, ReportedData, apply_policy, load
from simulate.errors import OutputExistsError
from simulate.fingerprint import file_sha256
from simulate.outputs.seriesfile import series_table, write_series


@pytest.fixture(scope="module")
def example() -> ReportedData:
    return load("example")


def test_table_stacks_the_policy_applied_series(example: ReportedData) -> None:
    policy = DataPolicy(slips="repair")
    table = series_table([example], policy)
    daily = apply_policy(example, policy).table
    assert table.height == daily.height
    assert table.get_column("daily").to_list() == daily.get_column("daily").to_list()
    assert set(table.get_column("source")) == {example.source}
    assert set(table.get_column("reported_by")) == {example.reported_by}
    assert table.schema["flags"] == pl.String


def test_write_series_csv_and_parquet_read_back(example: ReportedData, tmp_path: Path) -> None:
    policy = DataPolicy()
    table = series_table([example], policy)
    for name, read in (("d.csv", pl.read_csv), ("d.parquet", pl.read_parquet)):
        written = write_series([example], tmp_path / name, policy=policy)
        assert written.rows == table.height
        assert written.provenance == tmp_path / f"{name}.provenance.json"
        assert read(written.path).height == table.height
        doc = json.loads(written.provenance.read_text())
        # the one manifest layout: tool, caveat, reporter, the policy, data with hashes, outputs
        assert list(doc)[:4] == ["tool", "caveat", "reported_by", "policy"]
        assert doc["caveat"] == CAVEAT.format(reporter=example.reported_by)
        assert doc["policy"] == policy.to_dict() and doc["seed"] is None
        assert [f["sha256"] for f in doc["data"][0]["files"]] == [f.sha256 for f in example.files]
        assert doc["outputs"][name]["rows"] == table.height
        assert doc["outputs"][name]["sha256"] == file_sha256(written.path)


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


def test_write_series_refuses_a_directory_even_with_force(
    example: ReportedData, tmp_path: Path
) -> None:
    target = tmp_path / "d.parquet"
    Path(f"{target}.provenance.json").mkdir()
    with pytest.raises(
        OutputExistsError, match=r"provenance\.json: is a directory; expected a file"
    ):
        write_series([example], target, policy=DataPolicy(), force=True)
    assert not target.exists()
