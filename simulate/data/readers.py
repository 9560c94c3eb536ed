"""Readers: one function per file layout, each ending in :func:`.reported.assemble`.

Supported layouts (``fmt``):

* ``csv`` / ``parquet`` / ``json`` — generic: a date column and one or more value columns
  (or JSON objects with a ``date`` key), each cumulative totals or daily counts;
* ``petroivaniuk-personnel``, ``petroivaniuk-equipment``, ``petroivaniuk-correction`` — the
  JSON files of PetroIvaniuk/2022-Ukraine-Russia-War-Dataset;
* ``lod-db`` — the JSON file of lod-db/orc-losses;
* ``romansverdan`` — the CSV of romansverdan/russian-Losses-in-Ukraine.

Reading validates everything (encoding, layout, dates, numbers, duplicates, decreasing
totals) and raises :class:`~simulate.errors.DataError` with the file, the line/item and
what was expected. Single cells (dates, counts) are parsed by :mod:`simulate.data.cells`;
turning the rows into the tidy table is :func:`simulate.data.reported.assemble`'s job.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import polars as pl

from ..errors import DataError
from .cells import TextColumn, parse_counts, parse_dates
from .datafile import (
    Scan,
    decode,
    open_regular,
    quiet_native_stderr,
    read_bytes,
    read_rows,
    scan,
)
from .reported import TABLE_SCHEMA, Kind, ReportedData, assemble, detect_kind, file_record
from .serieslayout import TEXT_COLUMNS, is_series_layout, parse_series_layout
from .sources import SOURCES
from .vocabulary import canonical_name

__all__ = ["Format", "FORMATS", "read_file", "detect_format"]

Format = Literal[
    "csv",
    "parquet",
    "json",
    "petroivaniuk-personnel",
    "petroivaniuk-equipment",
    "petroivaniuk-correction",
    "lod-db",
    "romansverdan",
    "attrition-series",
]
FORMATS: tuple[str, ...] = Format.__args__  # type: ignore[attr-defined]

#: Columns/keys that describe a row rather than hold a series of figures.
_META_KEYS = {
    "day",
    "personnel*",
    "pow",
    "greatest losses direction",
    "sourceuri",
    "source",
    "source_uri",
    "url",
    "notes",
    "note",
    "comment",
}

#: The source each compilation format belongs to.
_FORMAT_SOURCE = {
    "petroivaniuk-personnel": "petroivaniuk",
    "petroivaniuk-equipment": "petroivaniuk",
    "petroivaniuk-correction": "petroivaniuk",
    "lod-db": "lod-db",
    "romansverdan": "romansverdan",
}


#: The reader's long table (see :func:`simulate.data.reported.assemble`).
_RAW_SCHEMA = {"date": pl.Date(), "series": pl.String(), "value": pl.Int64(), "where": pl.String()}


@dataclass(frozen=True)
class _Parsed:
    # One long frame (date, series, value, where) per series, in the file's column order;
    # assembled series by series so that no table of the whole file's cells is built twice.
    parts: dict[str, pl.DataFrame]
    kinds: dict[str, Kind]
    corrections: pl.DataFrame | None = None
    reported_by: str | None = None  # as a series file records it
    # dates whose figure the file marks as approximate (PetroIvaniuk's "personnel*": "about")
    approximate: dict[str, list[date]] = field(default_factory=dict)

    @property
    def raw(self) -> pl.DataFrame:
        frames = [
            p.with_columns(pl.col("series", "where").cast(pl.String)) for p in self.parts.values()
        ]
        return pl.concat(frames) if frames else pl.DataFrame(schema=_RAW_SCHEMA)


def read_file(
    path: str | Path,
    *,
    fmt: Format | None = None,
    kind: Kind | None = None,
    date_column: str | None = None,
    series: Sequence[str] | None = None,
    reported_by: str | None = None,
    source: str | None = None,
    url: str | None = None,
    retrieved_at: str | None = None,
) -> ReportedData:
    """Read one file of reported figures.

    Parameters
    ----------
    path
        The file.
    fmt
        Layout; detected from the content when omitted (see :func:`detect_format`).
    kind
        ``"cumulative"`` or ``"daily"`` for every value column of a generic file; detected
        per column when omitted (see :func:`simulate.data.reported.detect_kind`). The public
        compilations are always cumulative.
    date_column
        Name of the date column of a generic file (default: the column called ``date``).
    series
        Keep only these series (canonical names or aliases).
    reported_by
        Who reported the figures. Known compilations default to the General Staff; a generic
        file defaults to ``"unstated (file NAME)"``.
    source
        Name recorded as the data's source (default: the compilation's name or the file stem).
    url, retrieved_at
        Where and when the file was downloaded, recorded in the provenance.

    Returns
    -------
    ReportedData
    """
    path = Path(path)
    name = str(path)
    # Unvalidated, an unknown kind was silently read as daily and an unknown fmt as JSON.
    if kind not in (None, "cumulative", "daily"):
        raise DataError(name, "", f"kind {kind!r} is not a kind; expected 'cumulative' or 'daily'")
    if fmt is not None and fmt not in FORMATS:
        raise DataError(
            name, "", f"fmt {fmt!r} is not a format; expected one of {', '.join(FORMATS)}"
        )
    scanned = scan(path, name)
    if fmt is None:
        fmt = detect_format(path, scanned.head)
    # A series file is CSV or Parquet (the Parquet reader recognises its columns).
    parquet = fmt == "parquet" or (fmt == "attrition-series" and scanned.head[:4] == b"PAR1")
    if fmt in ("csv", "romansverdan", "attrition-series") and not parquet:
        # Text tables are read row by row from the file, never held whole in memory.
        parsed = _parse_csv(
            path,
            scanned,
            file=name,
            kind="cumulative" if fmt == "romansverdan" else kind,
            date_column=date_column,
            series_layout=fmt == "attrition-series",
        )
    else:
        content = read_bytes(path, name)
        if parquet:
            parsed = _parse_parquet(content, file=name, kind=kind, date_column=date_column)
        else:
            parsed = _parse_json(decode(content, name), file=name, fmt=fmt, kind=kind)
    parts = dict(parsed.parts)
    if series is not None:
        wanted = [canonical_name(s) for s in series]
        have = set(parts)
        missing = [s for s in wanted if s not in have]
        if missing and fmt != "petroivaniuk-correction":
            raise DataError(
                name,
                f"series {missing[0]!r}",
                f"not in this file; found: {', '.join(sorted(have))}",
            )
        parts = {k: v for k, v in parts.items() if k in wanted}
    src = source or _FORMAT_SOURCE.get(fmt) or path.stem
    who = (
        reported_by
        or parsed.reported_by
        or (
            SOURCES[_FORMAT_SOURCE[fmt]].reported_by
            if fmt in _FORMAT_SOURCE
            else f"unstated (file {path.name}; set reported_by / --reported-by)"
        )
    )
    record = file_record(path, scanned.sha256, fmt, url=url, retrieved_at=retrieved_at)
    corrections = parsed.corrections
    if fmt == "petroivaniuk-correction":
        assert corrections is not None
        if series is not None:
            corrections = corrections.filter(pl.col("series").is_in(wanted))
        return ReportedData(
            source=src,
            reported_by=who,
            table=pl.DataFrame(schema=TABLE_SCHEMA),
            files=(record,),
            corrections=corrections,
        )
    kinds, approximate = parsed.kinds, parsed.approximate
    del parsed  # each part is released once assembled (a big file's parts are its cells)
    table = _flag_approximate(_assemble_parts(parts, file=name, kinds=kinds), approximate)
    data = ReportedData(source=src, reported_by=who, table=table, files=(record,))
    return data


def _flag_approximate(table: pl.DataFrame, approximate: dict[str, list[date]]) -> pl.DataFrame:
    """Add the ``approximate`` flag to the rows the file marks as approximate."""
    for series, dates in approximate.items():
        if not dates:
            continue
        hit = (pl.col("series") == series) & pl.col("date").is_in(pl.Series(dates, dtype=pl.Date))
        table = table.with_columns(
            pl.when(hit)
            .then(pl.col("flags").list.concat(pl.lit(["approximate"])))
            .otherwise(pl.col("flags"))
            .alias("flags")
        )
    return table


def _assemble_parts(
    parts: dict[str, pl.DataFrame], *, file: str, kinds: Mapping[str, Kind]
) -> pl.DataFrame:
    """:func:`assemble` series by series (in name order, as the table is sorted).

    Assembling the whole file at once would hold several copies of a table of every cell;
    one series at a time, only the finished table grows. Series with no figure at all are
    left out, as :func:`assemble` leaves them out. `parts` is emptied on the way.
    """
    tables = []
    for name in sorted(parts):
        part = parts.pop(name)
        if part.get_column("value").null_count() == part.height:
            continue
        tables.append(assemble(part, file=file, kinds=kinds))
    if not tables:
        # The message of an empty table is assemble's own.
        return assemble(pl.DataFrame(schema=_RAW_SCHEMA), file=file, kinds=kinds)
    return pl.concat(tables, rechunk=False)


def detect_format(path: Path, content: bytes) -> Format:
    """Guess a file's layout from its name and first bytes.

    Parquet files start with ``PAR1``. JSON files (first non-blank byte ``[`` or ``{``, or a
    ``.json`` name) are recognised by their keys: ``sourceUri``/``afvs`` → lod-db;
    ``personnel*`` → PetroIvaniuk personnel; ``APC``/``field artillery`` → PetroIvaniuk
    equipment, or its correction file when the file name contains ``correction``; anything
    else → generic JSON records. CSV files whose header has romansverdan's ``apv`` and ``aaws``
    columns → romansverdan; other text → generic CSV.
    """
    if content[:4] == b"PAR1" or path.suffix.lower() == ".parquet":
        return "parquet"
    head = content[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    # A .json file is JSON even when it is empty or not a list/object, so that its error
    # message speaks of JSON rather than of a CSV header.
    if head[:1] in (b"[", b"{") or path.suffix.lower() == ".json":
        keys = set(_first_keys(head))
        if {"sourceUri", "afvs", "unarmoredVehicles"} & keys:
            return "lod-db"
        if "personnel*" in keys or "POW" in keys:
            return "petroivaniuk-personnel"
        if {"APC", "field artillery", "MRL", "anti-aircraft warfare"} & keys:
            if "correction" in path.name.lower():
                return "petroivaniuk-correction"
            return "petroivaniuk-equipment"
        return "json"
    first_line = head.split(b"\n", 1)[0].decode("utf-8", "replace").lower()
    cols = {c.strip() for c in first_line.split(",")}
    if {"apv", "aaws"} <= cols:
        return "romansverdan"
    # The tool's own series files (their column names exactly as written).
    if is_series_layout(head.split(b"\n", 1)[0].decode("utf-8", "replace").split(",")):
        return "attrition-series"
    return "csv"


def _first_keys(head: bytes) -> list[str]:
    # Cheap look at the keys of the first object without parsing the whole file.
    return re.findall(r'"([^"\\]+)"\s*:', head.decode("utf-8", "replace"))


# --------------------------------------------------------------------------- generic tables


def _parse_csv(
    path: Path,
    scan: Scan,
    *,
    file: str,
    kind: Kind | None,
    date_column: str | None,
    series_layout: bool = False,
) -> _Parsed:
    if not scan.utf8:
        decode(read_bytes(path, file), file)  # raises the message naming the bad byte
    if scan.blank:
        raise DataError(
            file, "", "file is empty; expected a header row with a date column and value columns"
        )
    try:
        dialect = csv.Sniffer().sniff(scan.sample, delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    with open_regular(path, file) as raw_fh:
        # newline=None: files saved with bare "\r" line ends (old Mac exports) read like others.
        fh = io.TextIOWrapper(raw_fh, encoding="utf-8-sig", newline=None)
        header, lines, cells = read_rows(
            csv.reader(fh, delimiter=delimiter),
            file,
            date_column,
            ignored=_META_KEYS,
            text=TEXT_COLUMNS if series_layout else frozenset(),
        )
    header = [h.strip() for h in header]
    if not lines:
        raise DataError(file, "", "has a header but no data rows; expected at least one row")
    columns = dict(zip(header, cells, strict=True))
    if len(columns) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise DataError(file, "header", f"column {dup!r} appears twice; expected unique names")
    where = [f"line {n}" for n in lines]
    if series_layout:
        parts, kinds, who = parse_series_layout(columns, where=where, file=file)
        return _Parsed(parts=parts, kinds=kinds, reported_by=who)
    return _from_columns(
        columns, where=where, file=file, kind=kind, date_column=date_column, unit="column"
    )


def _parse_parquet(
    content: bytes, *, file: str, kind: Kind | None, date_column: str | None
) -> _Parsed:
    try:
        with quiet_native_stderr():
            df = pl.read_parquet(io.BytesIO(content))
    # polars raises several types for corrupt files, and for some it panics: PanicException
    # derives from BaseException, so `except Exception` alone lets it escape.
    except (Exception, pl.exceptions.PanicException) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(file, "", f"is not a readable Parquet file ({msg})") from None
    if df.height == 0:
        raise DataError(file, "", "has no rows; expected at least one dated value")
    columns: dict[str, list[Any]] = {}
    for name in df.columns:
        col = df.get_column(name)
        try:
            with quiet_native_stderr():
                if col.dtype in (pl.Date, pl.Datetime):
                    # .dt.date() keeps a zoned timestamp's local date; a cast would take UTC's.
                    col = col.dt.date().cast(pl.String)
                columns[name] = col.to_list()
        except (Exception, pl.exceptions.PanicException) as exc:  # e.g. out-of-range dates
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise DataError(file, f"column {name!r}", f"holds unreadable values ({msg})") from None
    where = [f"row {i + 1}" for i in range(df.height)]
    if is_series_layout(df.columns) and date_column is None and kind is None:
        parts, kinds, who = parse_series_layout(columns, where=where, file=file)
        return _Parsed(parts=parts, kinds=kinds, reported_by=who)
    return _from_columns(
        columns, where=where, file=file, kind=kind, date_column=date_column, unit="column"
    )


def _from_columns(
    columns: Mapping[str, Sequence[Any] | TextColumn | None],
    *,
    where: list[str],
    file: str,
    kind: Kind | None,
    date_column: str | None,
    unit: str,
    ignore: set[str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> _Parsed:
    # `labels`: column -> how the file names it, for messages (JSON keys are renamed first).
    labels = labels or {}
    names = list(columns)
    if date_column is None:
        matches = [n for n in names if n.strip().lower() == "date"]
        if not matches:
            raise DataError(
                file,
                "header",
                f"no 'date' {unit}; found {', '.join(repr(n) for n in names)} "
                "(name the date column with date_column= / --date-column)",
            )
        date_column = matches[0]
    elif date_column not in columns:
        raise DataError(
            file,
            "header",
            f"no {unit} {date_column!r}; found {', '.join(repr(n) for n in names)}",
        )
    date_cells = columns[date_column]
    assert isinstance(date_cells, Sequence)  # the CSV reader keeps the date column as text
    dates = parse_dates(date_cells, where=where, file=file)
    # One copy of the row names for every series (an Enum stores a small index per row).
    where_col = pl.Series("where", where, dtype=pl.Enum(where))
    ignore_keys = _META_KEYS | (ignore or set())
    value_names = [n for n in names if n != date_column and n.strip().lower() not in ignore_keys]
    if not value_names:
        raise DataError(file, "header", f"no value {unit}s beside {date_column!r}")
    parts: dict[str, pl.DataFrame] = {}
    kinds: dict[str, Kind] = {}
    seen: dict[str, str] = {}
    for name in value_names:
        canon = canonical_name(name)
        if canon in seen:
            raise DataError(
                file,
                "header",
                f"{unit}s {seen[canon]!r} and {name!r} both mean series {canon!r}; keep one",
            )
        seen[canon] = name
        label = labels.get(name) or f"{unit} {name!r}"
        cells = columns[name]
        assert cells is not None  # only ignored columns are not kept
        values = parse_counts(cells, where=where, file=file, label=label)
        if not canon:
            # A name without letters or digits ("", "!!!") would become a nameless series;
            # an empty one (e.g. from a trailing comma) is harmless and skipped.
            if values.null_count() == values.len():
                continue
            raise DataError(
                file, "header", f"{label} has no letters or digits; expected a series name"
            )
        # Detect in date order: a file may list the newest day first.
        kinds[canon] = kind or detect_kind(values.gather(dates.arg_sort()))
        # The series name as an Enum: 4 bytes a row instead of 16 (assemble names the series
        # of its table itself).
        name_col = pl.repeat(canon, len(where), eager=True).cast(pl.Enum([canon]))
        parts[canon] = pl.DataFrame(
            [dates.alias("date"), name_col.alias("series"), values.alias("value"), where_col]
        )
    if not parts:
        raise DataError(file, "header", f"no named value {unit}s beside {date_column!r}")
    return _Parsed(parts=parts, kinds=kinds)


# --------------------------------------------------------------------------- JSON layouts


def _parse_json(text: str, *, file: str, fmt: str, kind: Kind | None) -> _Parsed:
    if not text.strip():
        raise DataError(file, "", "file is empty; expected a JSON list of daily records")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(
            file, f"line {exc.lineno} column {exc.colno}", f"is not valid JSON ({exc.msg})"
        ) from None
    except RecursionError:
        raise DataError(
            file, "", "is nested too deeply; expected a list of daily records"
        ) from None
    if not isinstance(doc, list):
        raise DataError(
            file,
            "",
            f"top level is a JSON {_json_type(doc)}; expected a list of daily records",
        )
    if not doc:
        raise DataError(file, "", "is an empty list; expected daily records")
    keys: dict[str, None] = {}
    for i, item in enumerate(doc):
        if not isinstance(item, dict):
            raise DataError(
                file,
                f"item {i + 1}",
                f"is a JSON {_json_type(item)}; expected an object with a 'date' key",
            )
        if "date" not in item:
            raise DataError(file, f"item {i + 1}", "has no 'date' key")
        keys.update(dict.fromkeys(item))
    # The date is echoed as is when it is plain text; otherwise its repr keeps the message on
    # one line (a date holding a newline) and storable (a lone surrogate).
    where = [
        f"item {i + 1} ({d if isinstance(d, str) and d.isprintable() else repr(d)})"
        for i, d in enumerate(item["date"] for item in doc)
    ]
    # A compilation may rename a key over time (e.g. PetroIvaniuk's "military auto" until
    # 2022-04-30, then "vehicles and fuel tanks"). Keys meaning the same series are merged
    # item by item; an item holding both with different values is an error.
    columns: dict[str, list[Any]] = {}
    origin: dict[str, str] = {}
    labels: dict[str, str] = {}  # messages name the keys as the file has them ('APC', not 'afv')
    for key in keys:
        if key.strip().lower() in _META_KEYS:
            continue
        target = canonical_name(_json_key(key, fmt))
        values = [item.get(key) for item in doc]
        if target not in columns:
            columns[target], origin[target] = values, key
            labels[target] = f"key {key!r}"
            continue
        labels[target] += f" or {key!r}"
        merged = columns[target]
        for i, v in enumerate(values):
            if v is None:
                continue
            if merged[i] is not None and merged[i] != v:
                raise DataError(
                    file,
                    where[i],
                    f"keys {origin[target]!r} and {key!r} both mean series {target!r} but "
                    f"hold {merged[i]!r} and {v!r}; expected one value",
                )
            merged[i] = v
    known_kind: Kind | None = None if fmt == "json" else "cumulative"
    parsed = _from_columns(
        columns,
        where=where,
        file=file,
        kind=known_kind or kind,
        date_column="date",
        unit="key",
        labels=labels,
    )
    if fmt == "petroivaniuk-correction":
        raw = parsed.raw.filter(pl.col("value").is_not_null() & (pl.col("value") != 0))
        corrections = raw.select("date", "series", pl.col("value").alias("delta"))
        return _Parsed(parts=parsed.parts, kinds=parsed.kinds, corrections=corrections)
    if fmt == "petroivaniuk-personnel":
        parsed.approximate["personnel"] = _about_dates(doc)
    return parsed


def _about_dates(doc: list[dict[str, Any]]) -> list[date]:
    """The dates PetroIvaniuk's personnel file marks ``"personnel*": "about"`` or ``"more"``:
    the General Staff gave those totals as approximate ("about 2,800", "more than 12,000"),
    as it gives every personnel total."""
    out = []
    for item in doc:
        marker, when = item.get("personnel*"), item.get("date")
        if not isinstance(marker, str) or not isinstance(when, str):
            continue
        if marker.strip().lower() in ("about", "more"):
            try:
                out.append(date.fromisoformat(when.strip()))
            except ValueError:
                continue  # an unreadable date is the date parser's error, not this one's
    return out


def _json_type(value: object) -> str:
    names = {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


def _json_key(key: str, fmt: str) -> str:
    # Before 2022-05-01 PetroIvaniuk splits "military auto" and "fuel tank"; the General
    # Staff then merged them into "vehicles and fuel tanks". "military auto" continues as
    # `vehicles` (as lod-db has it); "fuel tank" becomes its own short series.
    if fmt.startswith("petroivaniuk"):
        return {"military auto": "vehicles", "fuel tank": "fuel_tanks"}.get(key, key)
    return key
