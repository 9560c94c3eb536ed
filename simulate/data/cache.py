"""The local cache of fetched sources: where it is and what its index records.

Owns :func:`cache_dir` (``dest``, else ``$ATTRITION_CACHE``, else the user cache), the index
``index.json`` (url, sha256, retrieved_at and size of every file; :func:`read_index`),
:class:`FetchedFile` and :func:`fetched_files`, which reads a fetched source back for
:func:`simulate.data.load`. Downloading into the cache is :mod:`simulate.data.fetching`'s job;
reading needs no network code, so loading a source by name does not import it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from ..errors import SourceError
from .sources import Source, get_source

__all__ = [
    "CACHE_ENV",
    "INDEX_NAME",
    "FetchedFile",
    "cache_dir",
    "fetched_files",
    "read_index",
    "require_fetchable",
]

#: Environment variable that overrides the cache directory.
CACHE_ENV = "ATTRITION_CACHE"

#: Name of the index file in the cache directory.
INDEX_NAME = "index.json"

_INDEX_KEYS = {"url": str, "sha256": str, "retrieved_at": str, "size": int}


@dataclass(frozen=True)
class FetchedFile:
    """One downloaded file of a source, as recorded in the cache index.

    Attributes
    ----------
    source
        Name of the source, e.g. ``"lod-db"``.
    name
        File name within the source, e.g. ``"russian-losses.json"``.
    path
        Where the file is in the cache.
    url
        The URL it was actually downloaded from (a mirror's URL when a mirror was used).
    sha256
        Hex SHA-256 of the file's bytes.
    retrieved_at
        When it was downloaded: ISO-8601 in UTC to the second, e.g.
        ``"2026-03-01T08:15:00+00:00"``.
    size
        Size of the file in bytes.
    """

    source: str
    name: str
    path: Path
    url: str
    sha256: str
    retrieved_at: str
    size: int


def cache_dir(dest: str | os.PathLike[str] | None = None) -> Path:
    """Return the directory that fetched sources are stored in (it may not exist yet).

    Parameters
    ----------
    dest
        An explicit directory; it wins over everything else.

    Returns
    -------
    Path
        `dest` if given, else ``$ATTRITION_CACHE`` if set and not empty, else
        ``platformdirs.user_cache_dir("attrition") / "data"``
        (e.g. ``~/.cache/attrition/data`` on Linux).
    """
    if dest is not None:
        return Path(dest).expanduser()
    from_env = os.environ.get(CACHE_ENV, "")
    if from_env:
        # A quoted value in a shell profile does not get ``~`` expanded, so expand it here.
        return Path(from_env).expanduser()
    return Path(platformdirs.user_cache_dir("attrition")) / "data"


def fetched_files(source: str, *, dest: str | os.PathLike[str] | None = None) -> list[FetchedFile]:
    """Return the cached files of a fetched source, as recorded in the cache index.

    Parameters
    ----------
    source
        Name of a registered source that can be fetched, e.g. ``"lod-db"``.
    dest
        Cache directory; see :func:`cache_dir`.

    Returns
    -------
    list of FetchedFile
        One per file of the source, in the order of the registry.

    Raises
    ------
    SourceError
        If `source` is unknown or cannot be fetched; if it has not been fetched (completely)
        into the cache, or a file recorded in the index is missing or has changed size
        (the message says to run ``attrition fetch <source>``); or if ``index.json`` is not
        a valid index (the message names it).
    """
    src = get_source(source)
    require_fetchable(src)
    root = cache_dir(dest)
    index_path = root / INDEX_NAME
    refetch = f"run `attrition fetch {src.name}`"
    entries = read_index(index_path).get(src.name)
    if not entries:
        raise SourceError(f"source {src.name!r} has not been fetched into {root}; {refetch}")
    missing = [f.name for f in src.files if f.name not in entries]
    if missing:
        raise SourceError(
            f"source {src.name!r} has only partly been fetched into {root} "
            f"(missing {', '.join(missing)}); {refetch}"
        )
    result = []
    for file in src.files:
        entry = entries[file.name]
        path = root / src.name / file.name
        try:
            size = path.stat().st_size
        except OSError:
            raise SourceError(
                f"{path} is listed in {index_path} but is missing; {refetch}"
            ) from None
        if size != entry["size"]:
            # Someone edited or truncated the cached copy; its recorded checksum is void.
            raise SourceError(
                f"{path} has {size} bytes but {index_path} records {entry['size']}; {refetch}"
            )
        result.append(
            FetchedFile(
                source=src.name,
                name=file.name,
                path=path,
                url=entry["url"],
                sha256=entry["sha256"],
                retrieved_at=entry["retrieved_at"],
                size=entry["size"],
            )
        )
    return result


def require_fetchable(source: Source) -> None:
    """Raise :class:`SourceError` with a one-line reason if `source` cannot be downloaded."""
    if source.fetchable:
        return
    if source.files and not any(f.url for f in source.files):
        raise SourceError(
            f"source {source.name!r} ships with attrition, so there is nothing to fetch; "
            f"use it by name directly"
        )
    where = f" from {source.homepage}" if source.homepage else ""
    raise SourceError(
        f"source {source.name!r} is not downloaded by attrition (licence: {source.licence}); "
        f"get its file{where} yourself and pass the file's path instead"
    )


def read_index(path: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """Read ``index.json``: source -> file name -> entry. A missing index is empty."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: cannot read the fetch index ({exc})") from None
    fix = f"delete {path} and run `attrition fetch` again"
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"{path}: not a valid fetch index (line {exc.lineno}: {exc.msg}); {fix}"
        ) from None
    sources = raw.get("sources") if isinstance(raw, dict) else None
    if not isinstance(sources, dict):
        raise SourceError(f"{path}: not a valid fetch index (no 'sources' object); {fix}")
    for name, files in sources.items():
        if not isinstance(files, dict):
            raise SourceError(f"{path}: source {name!r} is not an object; {fix}")
        for file_name, entry in files.items():
            bad = not isinstance(entry, dict) or any(
                not isinstance(entry.get(key), kind) or isinstance(entry.get(key), bool)
                for key, kind in _INDEX_KEYS.items()
            )
            if bad:
                raise SourceError(
                    f"{path}: entry {name}/{file_name} does not hold "
                    f"{', '.join(_INDEX_KEYS)}; {fix}"
                )
    return sources
