"""Tests of :mod:`simulate.data.cache`: where the cache is and reading its index back, with
no network (downloading into the cache is tested in test_data_fetching.py)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import platformdirs
import pytest

from simulate.data.cache import CACHE_ENV, INDEX_NAME, FetchedFile, cache_dir, fetched_files
from simulate.data.sources import SOURCES
from simulate.errors import SourceError


@pytest.fixture(autouse=True)
def _no_ambient_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's own cache setting out of every test."""
    monkeypatch.delenv(CACHE_ENV, raising=False)


def _cache_by_hand(root: Path, content: bytes) -> FetchedFile:
    """Put lod-db's one file and its index entry into `root`, as `fetch` would."""
    (file,) = SOURCES["lod-db"].files
    path = root / "lod-db" / file.name
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    entry = {
        "url": "https://mirror.test/lod-db/" + file.name,
        "sha256": hashlib.sha256(content).hexdigest(),
        "retrieved_at": "2026-03-01T08:15:00+00:00",
        "size": len(content),
    }
    index = {"version": 1, "sources": {"lod-db": {file.name: entry}}}
    (root / INDEX_NAME).write_text(json.dumps(index), encoding="utf-8")
    return FetchedFile(source="lod-db", name=file.name, path=path, **entry)  # type: ignore[arg-type]


def test_default_cache_dir_is_the_user_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = Path(platformdirs.user_cache_dir("attrition")) / "data"
    assert cache_dir() == expected
    monkeypatch.setenv(CACHE_ENV, "")  # empty counts as unset
    assert cache_dir() == expected


def test_fetched_files_on_an_empty_cache(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="run `attrition fetch lod-db`") as info:
        fetched_files("lod-db", dest=tmp_path)
    assert str(tmp_path) in str(info.value)


@pytest.mark.parametrize(
    "text",
    ["{not json", "[]", '{"sources": []}', '{"sources": {"lod-db": {"russian-losses.json": 1}}}'],
    ids=["not-json", "list", "sources-list", "bad-entry"],
)
def test_corrupt_index(tmp_path: Path, text: str) -> None:
    index = tmp_path / "index.json"
    index.write_text(text, encoding="utf-8")
    with pytest.raises(SourceError, match="index") as info:
        fetched_files("lod-db", dest=tmp_path)
    assert str(index) in str(info.value)
    assert "\n" not in str(info.value)


def test_fetched_files_reads_the_index_back(tmp_path: Path) -> None:
    expected = _cache_by_hand(tmp_path, b'[{"date": "2024-01-01", "personnel": 1}]')
    assert fetched_files("lod-db", dest=tmp_path) == [expected]
    assert cache_dir(tmp_path) == tmp_path
    # A cached copy edited after it was fetched no longer matches its record.
    expected.path.write_bytes(b"[]")
    with pytest.raises(SourceError, match="records .*run `attrition fetch lod-db`"):
        fetched_files("lod-db", dest=tmp_path)
