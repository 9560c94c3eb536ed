"""`load`: turn paths or source names into :class:`ReportedData`, one per source.

Owns resolving a reference (a path, a fetched source's name or ``"example"``) to files,
reading them with :func:`simulate.data.readers.read_file`, merging the files of one
compilation (series spread over files, the correction file attached) and selecting series.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TypedDict, Unpack

import polars as pl

from ..errors import DataError, SelectionError, SourceError
from .cache import fetched_files
from .readers import Format, read_file
from .reported import ReportedData
from .sources import SOURCES, example_path, get_source
from .vocabulary import canonical_name

__all__ = ["load", "load_all", "DataRef", "LoadOptions"]

DataRef = str | os.PathLike[str]


class LoadOptions(TypedDict, total=False):
    """The keyword options of :func:`load`, passed on to :func:`load_all` as they are."""

    fmt: Format | None
    kind: str | None
    date_column: str | None
    series: Sequence[str] | None
    reported_by: str | None
    cache: str | os.PathLike[str] | None


def load(*data: DataRef, **options: Unpack[LoadOptions]) -> ReportedData:
    """Load reported figures of one source from files or a source name.

    Parameters
    ----------
    *data
        Paths of data files, or the name of a fetched source (``"petroivaniuk"``,
        ``"lod-db"``) or of the bundled ``"example"``. Several files are accepted when they
        belong to one compilation (e.g. PetroIvaniuk's personnel, equipment and correction
        files); use :func:`load_all` for several sources.
    fmt, kind, date_column, series, reported_by
        Passed to :func:`simulate.data.readers.read_file` for every file.
    cache
        Cache directory of fetched sources (see :func:`simulate.data.cache.cache_dir`).

    Returns
    -------
    ReportedData

    Examples
    --------
    >>> from simulate.data import load
    >>> data = load("example")
    >>> data.reported_by.startswith("nobody")
    True
    >>> data.series_names
    ['personnel', 'tanks', 'uav']
    """
    loaded = load_all(data, **options)
    if len(loaded) > 1:
        names = ", ".join(d.source for d in loaded)
        raise SourceError(
            f"these files belong to {len(loaded)} sources ({names}); load them with load_all()"
        )
    return loaded[0]


def load_all(
    data: Iterable[DataRef],
    *,
    fmt: Format | None = None,
    kind: str | None = None,
    date_column: str | None = None,
    series: Sequence[str] | None = None,
    reported_by: str | None = None,
    cache: str | os.PathLike[str] | None = None,
) -> list[ReportedData]:
    """Load several files or sources; files of the same compilation are merged.

    Returns one :class:`ReportedData` per source, in the order first named.
    """
    if kind not in (None, "cumulative", "daily"):
        raise DataError("kind", "", f"{kind!r} is not a kind; expected 'cumulative' or 'daily'")
    parts: list[ReportedData] = []
    refs = list(data)
    if not refs:
        raise SourceError("no data given; name a file or a source such as 'example'")
    seen: set[Path] = set()
    for ref in refs:
        for path, meta in _resolve(ref, cache):
            # The same file named twice would be cross-checked against itself.
            if path.resolve() in seen:
                continue
            seen.add(path.resolve())
            parts.append(
                read_file(
                    path,
                    fmt=fmt if meta is None else meta["format"],  # type: ignore[arg-type]
                    kind=kind,  # type: ignore[arg-type]
                    date_column=date_column,
                    reported_by=reported_by or (None if meta is None else meta["reported_by"]),
                    source=None if meta is None else meta["source"],
                    url=None if meta is None else meta.get("url"),
                    retrieved_at=None if meta is None else meta.get("retrieved_at"),
                )
            )
    by_source: dict[str, list[ReportedData]] = {}
    generic_paths: dict[str, str] = {}
    for part in parts:
        if part.source not in SOURCES and part.files:
            # Two generic files with the same name in different folders are two sources.
            first = generic_paths.setdefault(part.source, part.files[0].path)
            if first != part.files[0].path:
                part = replace(part, source=part.files[0].path)
        by_source.setdefault(part.source, []).append(part)
    merged = [_merge(group) for group in by_source.values()]
    if series is None:
        return merged
    # Select series after merging: a compilation's series may be spread over several files.
    wanted = [canonical_name(s) for s in series]
    out = []
    for got in merged:
        missing = [s for s in wanted if s not in got.series_names]
        if missing:
            where = got.files[0].path if len(got.files) == 1 else got.source
            raise SelectionError(
                where,
                f"series {missing[0]!r}",
                f"not in these figures; found: {', '.join(got.series_names)}",
            )
        out.append(
            replace(
                got,
                table=got.table.filter(pl.col("series").is_in(wanted)),
                corrections=got.corrections.filter(pl.col("series").is_in(wanted)),
            )
        )
    return out


def _resolve(
    ref: DataRef, cache: str | os.PathLike[str] | None
) -> list[tuple[Path, dict[str, str] | None]]:
    """A path stays a path; a bare name that is not a file is looked up as a source."""
    path = Path(ref)
    if path.exists() or isinstance(ref, os.PathLike) or os.sep in str(ref) or path.suffix:
        return [(path, None)]
    name = str(ref)
    if name not in SOURCES:
        known = ", ".join(sorted(SOURCES))
        raise SourceError(f"{name!r} is neither an existing file nor a known source ({known})")
    if name == "example":
        return [
            (
                example_path(),
                {"format": "csv", "source": "example", "reported_by": SOURCES[name].reported_by},
            )
        ]
    source = get_source(name)
    formats = {f.name: f.format for f in source.files}
    return [
        (
            f.path,
            {
                "format": formats[f.name],
                "source": name,
                "reported_by": source.reported_by,
                "url": f.url,
                "retrieved_at": f.retrieved_at,
            },
        )
        for f in fetched_files(name, dest=cache)
    ]


def _merge(group: list[ReportedData]) -> ReportedData:
    """Merge the files of one compilation (distinct series; corrections attached)."""
    tables = [g.table for g in group if g.table.height]
    if not tables:
        raise DataError(
            group[0].files[0].path if group[0].files else group[0].source,
            "",
            "holds only corrections and no figures; load it together with the figures file",
        )
    seen: dict[str, str] = {}
    for g in group:
        for name in g.table.get_column("series").unique().to_list():
            f = g.files[0].path if g.files else g.source
            if name in seen and seen[name] != f:
                raise DataError(
                    f, f"series {name!r}", f"is also in {seen[name]}; expected each series once"
                )
            seen[name] = f
    # One file's table is sorted already: sorting it again would copy every row (a big file
    # would need twice its table's memory for nothing).
    table = tables[0] if len(tables) == 1 else pl.concat(tables).sort("series", "date")
    corrections = pl.concat([g.corrections for g in group]).unique().sort("series", "date")
    if corrections.height:
        marks = corrections.select("series", "date", pl.lit(True).alias("_off"))
        table = (
            table.join(marks, on=["series", "date"], how="left")
            .with_columns(
                pl.when(pl.col("_off"))
                .then(pl.col("flags").list.concat(pl.lit(["official_correction"])))
                .otherwise(pl.col("flags"))
                .alias("flags")
            )
            .drop("_off")
        )
    files = tuple(f for g in group for f in g.files)
    return replace(group[0], table=table, files=files, corrections=corrections)
