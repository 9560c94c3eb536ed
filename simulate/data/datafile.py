"""One data file on disk: refused unless it is a regular file, read in one streaming pass.

Owns opening a data file (:func:`open_regular`: a named pipe, a socket, a device or a
directory is refused at once with :class:`~simulate.errors.NotAFileError`, before anything
waits on it), the pass that hashes it, checks it is UTF-8 and keeps its first bytes
(:func:`scan`), decoding with a message naming the bad byte (:func:`decode`) and gathering a
CSV's rows column by column in blocks (:func:`read_rows`), so that reading a file of a few
hundred MB costs memory for the table it becomes, not for its text as Python strings.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DataError, NotAFileError
from .cells import TextColumn

__all__ = [
    "Scan",
    "decode",
    "open_regular",
    "quiet_native_stderr",
    "read_bytes",
    "read_rows",
    "scan",
]

#: Text files are read in blocks of this many rows (and bytes), so memory follows the table
#: being built rather than the file's text.
_CHUNK_CELLS = 1 << 19
_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class Scan:
    """What one pass over a file's bytes tells: its digest, its first bytes and, read as
    UTF-8, whether it is valid, its first 4,096 characters and whether it is all blank."""

    sha256: str
    head: bytes
    utf8: bool
    sample: str
    blank: bool


_KINDS_OF_FILE = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def open_regular(path: Path, file: str) -> io.BufferedReader:
    """Open a regular file for reading, or raise a one-line error naming what it is instead.

    The type is checked before opening: opening a named pipe waits for a writer (forever, and
    deaf to Ctrl-C), and a device or socket never ends like a file does.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise DataError(file, "", "no such file") from None
    except OSError as exc:
        raise DataError(file, "", f"cannot be read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(mode):
        what = next((w for test, w in _KINDS_OF_FILE if test(mode)), "a special file")
        raise NotAFileError(file, "", f"not a regular file (it is {what}); expected a data file")
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise DataError(file, "", "no such file") from None
    except OSError as exc:
        raise DataError(file, "", f"cannot be read ({exc.strerror or exc})") from None


def read_bytes(path: Path, file: str) -> bytes:
    with open_regular(path, file) as fh:
        try:
            return fh.read()
        except OSError as exc:
            raise DataError(file, "", f"cannot be read ({exc.strerror or exc})") from None


def scan(path: Path, file: str) -> Scan:
    """One streaming pass over the file (memory: one block, whatever the file's size)."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    head = b""
    sample = ""
    utf8 = True
    blank = True
    with open_regular(path, file) as fh:
        while True:
            try:
                block = fh.read(_CHUNK_BYTES)
            except OSError as exc:
                raise DataError(file, "", f"cannot be read ({exc.strerror or exc})") from None
            if len(head) < 4096:
                head += block[: 4096 - len(head)]
            digest.update(block)
            if utf8:
                try:
                    text = decoder.decode(block, final=not block)
                except UnicodeDecodeError:
                    utf8 = False
                else:
                    if len(sample) < 4096:
                        sample += text[: 4096 - len(sample)]
                    blank = blank and not text.strip()
            if not block:
                break
    return Scan(digest.hexdigest(), head, utf8, sample, blank)


def decode(content: bytes, file: str) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise DataError(
            file,
            f"line {line}",
            f"byte 0x{content[exc.start]:02x} at offset {exc.start} is not UTF-8; expected "
            "UTF-8 text (re-save the file as UTF-8)",
        ) from None


def read_rows(
    reader: Any,
    file: str,
    date_column: str | None,
    *,
    ignored: set[str],
    text: frozenset[str] = frozenset(),
) -> tuple[list[str], list[int], list[list[str] | TextColumn | None]]:
    """The header, the line number of every data row and the cells of every column.

    Rows are gathered in blocks of about ``_CHUNK_CELLS`` cells and handed over column by
    column: the date column (and the columns named in `text`) as text, value columns as
    :class:`TextColumn` (compact), and columns never read (`ignored`: ``day``, ``notes`` ...)
    not at all (None).
    """
    try:
        header = next(reader, None)
        if header is None:
            raise DataError(
                file,
                "",
                "file is empty; expected a header row with a date column and value columns",
            )
        names = [h.strip() for h in header]
        if date_column is None:
            dates_at = next((i for i, n in enumerate(names) if n.lower() == "date"), -1)
        else:
            dates_at = next((i for i, n in enumerate(names) if n == date_column), -1)
        cells: list[list[str] | TextColumn | None] = [
            [] if i == dates_at or n in text else None if n.lower() in ignored else TextColumn()
            for i, n in enumerate(names)
        ]
        lines: list[int] = []
        block: list[list[str]] = []

        def hand_over() -> None:
            counts: list[TextColumn] = []
            count_cells = []
            for column, values in zip(cells, zip(*block, strict=True), strict=True):
                if isinstance(column, TextColumn):
                    counts.append(column)
                    count_cells.append(values)
                elif column is not None:
                    column.extend(values)
            TextColumn.extend_all(counts, count_cells)
            block.clear()

        # A block holds about _CHUNK_CELLS cells, however wide the file is.
        block_rows = max(1, _CHUNK_CELLS // max(len(header), 1))

        for row in reader:
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise DataError(
                    file,
                    f"line {reader.line_num}",
                    f"has {len(row)} fields; expected {len(header)} as in the header",
                )
            block.append(row)
            lines.append(reader.line_num)
            if len(block) == block_rows:
                hand_over()
        if block:
            hand_over()
    except csv.Error as exc:
        raise DataError(file, f"line {reader.line_num}", f"is not valid CSV ({exc})") from None
    return header, lines, cells


@contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Silence native code writing to file descriptor 2 (standard error) for a moment.

    Polars panics on some corrupt Parquet files; the panic becomes an exception that the
    reader turns into a one-line error, but Rust's panic hook has already printed a few lines
    (and, with ``RUST_BACKTRACE`` set, a whole backtrace) straight to descriptor 2, around
    Python's ``sys.stderr``. Those lines are sent to the null device while the file is decoded.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no descriptor 2 (e.g. a GUI without a console)
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
