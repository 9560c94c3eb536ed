"""One cell of a file: a date or a count, parsed with a message that says where it is.

Owns the accepted date forms and the plausible date range (:func:`parse_dates`) and what a
count may look like (:func:`parse_counts`: whole numbers that fit in 64 bits; an empty or
blank cell and the tokens of :data:`MISSING_TOKENS` — ``NA``, ``NaN``, ``null``, ``None``,
``-`` in any case — mean not reported). Every reader in :mod:`simulate.data.readers` parses
its cells here, so a bad cell reads the same whatever the layout; :class:`TextColumn` holds
a big text file's column compactly until it is parsed by the same rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import polars as pl

from ..errors import DataError

__all__ = ["MISSING_TOKENS", "TextColumn", "parse_counts", "parse_dates"]

_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%d.%m.%Y",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
)
_DATE_HINT = "expected a date like 2024-11-12 (or 2024/11/12, 12.11.2024, 2024-11-12 08:00)"
#: Reported figures are dated between these days; anything else is a typo (e.g. 2204 for 2024).
_EARLIEST = date(1900, 1, 1)


def parse_dates(cells: Sequence[Any], *, where: list[str], file: str) -> pl.Series:
    """The cells of a date column as a Date series; `where[i]` names cell i in messages."""
    strings = [None if c is None else str(c).strip() for c in cells]
    for i, t in enumerate(strings):
        # Control characters or a lone surrogate (JSON "\ud800") can never be a date, and a
        # surrogate cannot even be stored in a Series.
        if t is not None and not t.isprintable():
            raise DataError(file, where[i], f"{t!r} is not a valid date; {_DATE_HINT}")
    text = pl.Series("date", strings, pl.String)
    empty = text.is_null() | (text == "")
    if empty.any():
        i = int(empty.arg_true()[0])
        raise DataError(file, where[i], "date is empty; expected a date like 2024-11-12")
    best: pl.Series | None = None
    best_ok = -1
    for fmt in _DATE_FORMATS:
        parsed = text.str.to_datetime(fmt, strict=False).cast(pl.Date)
        ok = int(parsed.is_not_null().sum())
        if ok > best_ok:
            best, best_ok = parsed, ok
        if ok == len(text):
            return _in_range(parsed.alias("date"), text, where=where, file=file)
    assert best is not None
    i = int(best.is_null().arg_true()[0])
    raise DataError(file, where[i], f"{text[i]!r} is not a valid date; {_DATE_HINT}")


def _in_range(dates: pl.Series, text: pl.Series, *, where: list[str], file: str) -> pl.Series:
    # Figures cannot be reported before 1900 or after tomorrow (time zones): such a date is a
    # typo, and left in it would make a gap of decades look like the data's main feature.
    latest = date.today() + timedelta(days=1)
    bad = (dates < _EARLIEST) | (dates > latest)
    if bad.any():
        i = int(bad.arg_true()[0])
        raise DataError(
            file,
            where[i],
            f"{text[i]!r} is not a plausible report date; expected a date between "
            f"{_EARLIEST} and {latest}",
        )
    return dates


#: Cells that mean "not reported that day" (compared after stripping blanks, ignoring case).
MISSING_TOKENS = ("", "na", "nan", "null", "none", "-")


class TextColumn:
    """The cells of one value column of a text file, gathered chunk by chunk in compact form.

    A big file has millions of cells: kept as Python strings they cost about 60 bytes each.
    Here a block's whole numbers become Int64 at once (8 bytes a cell) and only the other
    cells (blanks, ``NA``, ``1.0``, text ...) are kept as text with their row, to be parsed by
    :func:`parse_counts` with exactly the rules of a single cell.
    """

    def __init__(self) -> None:
        self._chunks: list[pl.Series] = []
        self._other: dict[int, str] = {}
        self._n = 0

    @staticmethod
    def extend_all(columns: Sequence[TextColumn], cells: Sequence[Sequence[str]]) -> None:
        """Add the next cells of each column (``cells[j]`` to ``columns[j]``) in one step.

        Polars reads a cell as a whole number only when Python's ``int`` reads it the same
        way (ASCII digits, an optional sign, within 64 bits); every other cell is kept as
        text and parsed later by the rules of :func:`parse_counts`.
        """
        if not columns:
            return
        text = pl.DataFrame([pl.Series(str(j), c, dtype=pl.String) for j, c in enumerate(cells)])
        counts = text.select(pl.all().cast(pl.Int64, strict=False))
        unread = counts.null_count().row(0)
        for j, (column, n_unread) in enumerate(zip(columns, unread, strict=True)):
            values = counts.to_series(j)
            column._chunks.append(values)
            if n_unread:
                for i in values.is_null().arg_true().to_list():
                    column._other[column._n + i] = cells[j][i]
            column._n += len(cells[j])

    def __len__(self) -> int:
        return self._n

    def parse(self, *, where: list[str], file: str, label: str) -> pl.Series:
        """The column as :func:`parse_counts` gives it."""
        if self._chunks:
            values = pl.concat(self._chunks, rechunk=True).alias("value")
        else:
            values = pl.Series("value", [], dtype=pl.Int64)
        if not self._other:
            return values
        rows = list(self._other)
        parsed = [_count(self._other[i], f"{where[i]}, {label}", file) for i in rows]
        for i, v in zip(rows, parsed, strict=True):
            _check_range(v, self._other[i], f"{where[i]}, {label}", file)
        return values.scatter(rows, pl.Series(parsed, dtype=pl.Int64))


def parse_counts(
    cells: Sequence[Any] | TextColumn, *, where: list[str], file: str, label: str
) -> pl.Series:
    """The cells of a value column as an Int64 series (null: not reported that day).

    `where[i]` and `label` (e.g. ``column 'tanks'``) name cell i in messages. A cell is a
    whole number (``12``, ``-3``, ``12.0``, ``1e3``), or missing: empty, blank, or one of
    ``NA``, ``NaN``, ``null``, ``None``, ``-`` in any case (see :data:`MISSING_TOKENS`), or
    a JSON ``null`` / float NaN.
    """
    if isinstance(cells, TextColumn):
        return cells.parse(where=where, file=file, label=label)
    out = [_count(cell, f"{where[i]}, {label}", file) for i, cell in enumerate(cells)]
    for i, v in enumerate(out):
        _check_range(v, cells[i], f"{where[i]}, {label}", file)
    return pl.Series("value", out, dtype=pl.Int64)


def _count(cell: Any, place: str, file: str) -> int | None:
    """One cell as a count (None: not reported); `place` names it in messages."""
    if cell is None:
        return None
    if isinstance(cell, bool):
        raise DataError(file, place, f"{cell!r} is not a count")
    if isinstance(cell, int):
        return cell
    if isinstance(cell, float):
        if cell != cell:  # NaN: not reported
            return None
        if not cell.is_integer():
            raise DataError(file, place, f"{cell!r} is not a whole number")
        return int(cell)
    s = str(cell).strip()
    if s.lower() in MISSING_TOKENS:
        return None
    try:
        return int(s)
    except ValueError:
        pass
    try:
        f = float(s)
    except ValueError:
        raise DataError(file, place, f"{s!r} is not a number; expected a whole number") from None
    if not f.is_integer():
        raise DataError(file, place, f"{s!r} is not a whole number; expected a count")
    return int(f)


def _check_range(value: int | None, cell: Any, place: str, file: str) -> None:
    # Polars raises a TypeError (not OverflowError) for ints beyond Int64.
    if value is not None and not -(2**63) <= value < 2**63:
        raise DataError(file, place, f"{cell!r} is too large for a count")
