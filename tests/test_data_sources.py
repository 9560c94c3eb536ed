"""Tests of :mod:`simulate.data.sources`: the registry of known compilations and the bundled
example, which every later step can read by name."""

from __future__ import annotations

import pytest

from simulate.data.readers import FORMATS, read_file
from simulate.data.sources import GENERAL_STAFF, SOURCES, example_path, get_source
from simulate.errors import SourceError


def test_get_source_names_the_known_ones() -> None:
    assert get_source("lod-db") is SOURCES["lod-db"]
    with pytest.raises(SourceError) as info:
        get_source("Lod-DB")
    msg = str(info.value)
    assert "unknown source 'Lod-DB'" in msg
    assert f"known sources: {', '.join(sorted(SOURCES))}" in msg


def test_registry_is_consistent() -> None:
    for name, source in SOURCES.items():
        assert source.name == name
        assert source.reported_by and source.licence and source.description
        names = [f.name for f in source.files]
        assert len(names) == len(set(names)), name
        for f in source.files:
            assert f.format in FORMATS, (name, f.format)
        if source.fetchable:
            assert source.files, name
            assert all(f.url.startswith("https://") for f in source.files), name


def test_public_compilations_are_the_general_staff_report() -> None:
    for name in ("petroivaniuk", "lod-db", "romansverdan"):
        assert SOURCES[name].reported_by == GENERAL_STAFF
        assert SOURCES[name].homepage.startswith("https://github.com/")
    # Without a licence the compilation is read from a file the user provides, never fetched.
    assert not SOURCES["romansverdan"].fetchable


def test_example_ships_with_the_package_and_says_it_is_synthetic() -> None:
    path = example_path()
    assert path.is_file()
    example = SOURCES["example"]
    assert not example.fetchable
    assert [f.name for f in example.files] == [path.name]
    assert "synthetic" in example.reported_by and "not real" in example.reported_by
    data = read_file(path, fmt=example.files[0].format)
    assert data.table.height > 0
