"""Tests of simulate.outputs.atomic.atomic_write."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulate.errors import OutputExistsError
from simulate.outputs.atomic import atomic_write


def test_writes_and_refuses_to_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "a.csv"
    atomic_write(target, "x,y\n")
    assert target.read_text() == "x,y\n"
    with pytest.raises(OutputExistsError, match="already exists; use --force"):
        atomic_write(target, "other")
    assert target.read_text() == "x,y\n"
    atomic_write(target, b"new", force=True)
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.csv"]


def test_failure_leaves_no_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "b.parquet"

    def boom(path: Path) -> None:
        path.write_bytes(b"half")
        raise RuntimeError("writer failed")

    with pytest.raises(RuntimeError):
        atomic_write(target, boom)
    assert list(tmp_path.iterdir()) == []
