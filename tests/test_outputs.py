"""Tests of simulate.outputs.atomic: atomic files and directories, the one --force check."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulate.errors import OutputExistsError
from simulate.outputs.atomic import atomic_write, building_dir, check_target


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


def test_check_target_one_message_for_files_and_directories(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    (tmp_path / "d").mkdir()
    check_target(tmp_path / "new", force=False, directory=True)
    for name, directory in (("f", False), ("d", True)):
        with pytest.raises(OutputExistsError, match=r": already exists; use --force to replace"):
            check_target(tmp_path / name, force=False, directory=directory)
        check_target(tmp_path / name, force=True, directory=directory)
    with pytest.raises(OutputExistsError, match=r"/f: is a file; expected a directory$"):
        check_target(tmp_path / "f", force=True, directory=True)
    with pytest.raises(OutputExistsError, match=r"/d: is a directory; expected a file name$"):
        check_target(tmp_path / "d", force=True, directory=False)


def test_building_dir_publishes_complete_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "out" / "run"
    with building_dir(target, force=False) as tmp:
        assert tmp.parent == target.parent and tmp.name.startswith(".run.")
        (tmp / "a.csv").write_text("1")
    assert [p.name for p in target.iterdir()] == ["a.csv"]
    refused = building_dir(target, force=False)
    with pytest.raises(OutputExistsError, match="already exists; use --force"):
        refused.__enter__()
    failing = building_dir(target, force=True)
    with pytest.raises(RuntimeError, match="half way"), failing as tmp:
        (tmp / "b.csv").write_text("2")
        raise RuntimeError("half way")
    assert [p.name for p in target.iterdir()] == ["a.csv"]  # the old one, untouched
    with building_dir(target, force=True) as tmp:
        (tmp / "b.csv").write_text("2")
    assert [p.name for p in target.iterdir()] == ["b.csv"]
    assert [p.name for p in target.parent.iterdir()] == ["run"]  # no staging left behind
