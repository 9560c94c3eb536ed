"""Reading what is compared: result tables, manifests, run directories, and files by hash.

Everything here reads and checks, nothing compares values: :func:`read_table` reads a table
strictly (a truncated or ragged CSV is an error, not a shorter table), :func:`read_tables`
reads the two sides of one table and checks them against their runs' manifests,
:func:`read_manifest` reads a ``manifest.json``, :func:`run_files` lists a run directory and
:func:`same_bytes` compares charts and other files by SHA-256.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from ..errors import CompareError
from ..fingerprint import file_sha256

__all__ = [
    "MANIFEST",
    "first_line",
    "is_table",
    "listed_rows",
    "read_manifest",
    "read_table",
    "read_tables",
    "run_files",
    "same_bytes",
]

#: The file of a run directory that describes the run.
MANIFEST = "manifest.json"
_CSV_NULL = "NA"


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (or its type when it has none)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def is_table(name: str) -> bool:
    """Whether file `name` is compared as a table (CSV or Parquet)."""
    return name.lower().endswith((".csv", ".parquet"))


def read_table(path: str | Path) -> pl.DataFrame:
    """Read a result table as ``attrition`` writes them: CSV (``NA`` for missing) or Parquet.

    CSV is read strictly: a file whose last row has no line end (cut off while it was copied
    or written), an empty file or a row with more fields than the header raise
    :class:`CompareError`; rows with too few fields show up as missing key values, which
    :func:`~simulate.compare.tables.compare_tables` refuses when the other side has none.

    Raises
    ------
    CompareError
        Naming the file and what is wrong with it.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pl.read_parquet(path)
        if suffix != ".csv":
            raise CompareError(f"{path}: not a table; expected a .csv or .parquet file")
        size = path.stat().st_size
        if size == 0:
            raise CompareError(f"{path}: empty file (no header, no rows)")
        with path.open("rb") as fh:
            fh.seek(size - 1)
            last = fh.read(1)
        if last != b"\n":
            raise CompareError(
                f"{path}: the last line has no line end: the file looks truncated "
                "(cut off in the middle of a row)"
            )
        return pl.read_csv(path, null_values=_CSV_NULL, infer_schema_length=None)
    except CompareError:
        raise
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError, ValueError) as exc:
        raise CompareError(f"{path}: unreadable ({first_line(exc)})") from None


def read_tables(
    pa: Path, pb: Path, *, rows_listed: tuple[int | None, int | None] = (None, None)
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The two sides of one table, each with as many rows as its run's manifest lists (when
    it lists them: `rows_listed`), and neither a bare header against rows on the other side.

    Raises
    ------
    CompareError
        An unreadable table (:func:`read_table`), or one that looks truncated.
    """
    ta, tb = read_table(pa), read_table(pb)
    for path, frame, listed in ((pa, ta, rows_listed[0]), (pb, tb, rows_listed[1])):
        if listed is not None and frame.height != listed:
            raise CompareError(
                f"{path}: {frame.height:,} rows but its manifest.json lists {listed:,}: "
                "truncated or changed after the run (see attrition validate)"
            )
    for path, frame, other in ((pa, ta, tb), (pb, tb, ta)):
        if frame.height == 0 and other.height > 0:
            raise CompareError(
                f"{path}: a header but no rows, where the other side has {other.height:,}: "
                "the file looks truncated after its header"
            )
    return ta, tb


def read_manifest(path: Path) -> dict[str, Any]:
    """A run's ``manifest.json`` as a dict.

    Raises
    ------
    CompareError
        An unreadable file, invalid JSON, or JSON that is not an object.
    """
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CompareError(f"{path}: unreadable manifest ({first_line(exc)})") from None
    if not isinstance(doc, dict):
        raise CompareError(f"{path}: not a manifest (expected a JSON object)")
    return doc


def listed_rows(manifest: dict[str, Any] | None, name: str) -> int | None:
    """The row count a run's manifest lists for its output `name`, if it lists one."""
    if manifest is None:
        return None
    entry = manifest.get("outputs", {}).get(name) if isinstance(manifest, dict) else None
    rows = entry.get("rows") if isinstance(entry, dict) else None
    return rows if isinstance(rows, int) and not isinstance(rows, bool) else None


def run_files(directory: Path) -> set[str]:
    """The names of the files a run directory holds (not hidden ones, not subdirectories)."""
    return {p.name for p in directory.iterdir() if p.is_file() and not p.name.startswith(".")}


def same_bytes(pa: Path, pb: Path) -> bool:
    """Whether two files (charts, the scenario file's copy ...) hold the same bytes (SHA-256).

    Raises
    ------
    CompareError
        A file that cannot be read.
    """
    try:
        return file_sha256(pa) == file_sha256(pb)
    except OSError as exc:
        raise CompareError(f"{pa} or {pb}: unreadable ({first_line(exc)})") from None
