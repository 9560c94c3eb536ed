"""One cell of a file: a date or a count, parsed with a message that says where it is.

Owns the accepted date forms and the plausible date range (:func:`parse_dates`) and what a
count may look like (:func:`parse_counts`: whole numbers that fit in 64 bits; blanks, ``NA``
and ``-`` mean not reported). Every reader in :mod:`simulate.data.readers` parses its cells
here, so a bad cell reads the same whatever the layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import polars as pl

from ..errors import DataError

__all__ = ["parse_counts", "parse_dates"]

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


def parse_counts(cells: Sequence[Any], *, where: list[str], file: str, label: str) -> pl.Series:
    """The cells of a value column as an Int64 series (null: not reported that day).

    `where[i]` and `label` (e.g. ``column 'tanks'``) name cell i in messages.
    """
    out: list[int | None] = []
    for i, cell in enumerate(cells):
        if cell is None:
            out.append(None)
            continue
        if isinstance(cell, bool):
            raise DataError(file, f"{where[i]}, {label}", f"{cell!r} is not a count")
        if isinstance(cell, int):
            out.append(cell)
            continue
        if isinstance(cell, float):
            if cell != cell:  # NaN: not reported
                out.append(None)
                continue
            if not cell.is_integer():
                raise DataError(file, f"{where[i]}, {label}", f"{cell!r} is not a whole number")
            out.append(int(cell))
            continue
        s = str(cell).strip()
        if s == "" or s.lower() in ("na", "nan", "null", "none", "-"):
            out.append(None)
            continue
        try:
            out.append(int(s))
            continue
        except ValueError:
            pass
        try:
            f = float(s)
        except ValueError:
            raise DataError(
                file, f"{where[i]}, {label}", f"{s!r} is not a number; expected a whole number"
            ) from None
        if not f.is_integer():
            raise DataError(
                file, f"{where[i]}, {label}", f"{s!r} is not a whole number; expected a count"
            )
        out.append(int(f))
    for i, v in enumerate(out):
        # Polars raises a TypeError (not OverflowError) for ints beyond Int64.
        if v is not None and not -(2**63) <= v < 2**63:
            raise DataError(file, f"{where[i]}, {label}", f"{cells[i]!r} is too large for a count")
    return pl.Series("value", out, dtype=pl.Int64)
