"""Which rows of two tables correspond: their key columns, their types, and the alignment.

Owns the step before any value is compared: choosing the key columns (:func:`default_keys`),
giving the columns both tables have one type, refusing tables whose rows cannot be aligned
(key columns that differ, a key value missing on one side only, rows sharing their keys),
and pairing the rows -- positionally when both sides hold the same keys in the same order (a
re-run), otherwise with one full outer join -- to list the rows only one side has.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from ..errors import CompareError

__all__ = [
    "SUFFIX",
    "TABLE_KEYS",
    "Aligned",
    "align",
    "default_keys",
    "harmonise",
    "key_columns",
    "known_keys",
]

#: Suffix of B's compared columns in :attr:`Aligned.both` (A's keep their names).
SUFFIX = "__b"
_IN_A = "__in_a"
_IN_B = "__in_b"
_HUB_VALUE = "value"
#: Columns of hub tables that are derived from ``value`` and so are not keys.
_DERIVED = ("value_date",)


#: The key columns of the tables of a backtest directory (:mod:`simulate.outputs.backtestdir`),
#: by file name. Their default keys (every column that is not floating-point) would take
#: counts such as ``n`` for keys: two identical backtests could not even be aligned (rows of
#: ``pit.csv`` share their series, model, target and count) and a changed count would show as
#: rows only one side has instead of a value that differs.
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "scores.csv": ("origin", "series", "model", "target", "horizon", "scale"),
    "summary.csv": ("series", "model", "group"),
    "pit.csv": ("series", "model", "target", "bin_start"),
}


#: A run's ``chart-data-<series>.csv`` (:mod:`simulate.outputs.chartdata`): keyed by date.
CHART_DATA_PREFIX = "chart-data-"


def known_keys(name: str, a: pl.DataFrame, b: pl.DataFrame) -> list[str] | None:
    """The key columns of a known table called `name` (:data:`TABLE_KEYS`) when both sides
    have them and are not hub tables (a run's ``summary.csv`` has a ``value`` column); else
    ``None`` (use :func:`default_keys`)."""
    keys = TABLE_KEYS.get(name)
    if keys is None and name.startswith(CHART_DATA_PREFIX):
        keys = ("date",)  # a run's chart-ready table: one row per date, all else are values
    if keys is None:
        return None
    for frame in (a, b):
        if _HUB_VALUE in frame.columns or not set(keys) <= set(frame.columns):
            return None
    return list(keys)


def default_keys(frame: pl.DataFrame) -> list[str]:
    """The key columns rows are aligned on when none are given.

    For hub-style tables (a ``value`` column): every column except ``value`` (and
    ``value_date``, which ``summary.csv`` derives from it). Otherwise every column that is not
    floating-point.

    Examples
    --------
    >>> default_keys(pl.DataFrame({"scenario_id": ["x"], "horizon": [1], "value": [2.0]}))
    ['scenario_id', 'horizon']
    >>> default_keys(pl.DataFrame({"series": ["tanks"], "parameter": ["lvl"], "estimate": [1.5]}))
    ['series', 'parameter']
    """
    if _HUB_VALUE in frame.columns:
        return [c for c in frame.columns if c != _HUB_VALUE and c not in _DERIVED]
    return [c for c in frame.columns if not frame.schema[c].is_float()]


def key_columns(
    a: pl.DataFrame, b: pl.DataFrame, keys: Sequence[str] | None, labels: Sequence[str]
) -> list[str]:
    """The key columns given (each once), or the :func:`default_keys` both tables share.

    Raises
    ------
    CompareError
        Default keys that differ between the tables, a key column one table lacks, or none.
    """
    key_list = _common_keys(a, b, labels) if keys is None else list(dict.fromkeys(keys))
    for k in key_list:
        for frame, label in ((a, labels[0]), (b, labels[1])):
            if k not in frame.columns:
                raise CompareError(
                    f"cannot compare: key column {k!r} is not in {label} "
                    f"(its columns: {', '.join(frame.columns)})"
                )
    if not key_list:
        raise CompareError(
            f"cannot compare {labels[0]} and {labels[1]}: no key columns to align the rows on; "
            "name them with --keys"
        )
    return key_list


def _common_keys(a: pl.DataFrame, b: pl.DataFrame, labels: Sequence[str]) -> list[str]:
    da, db = default_keys(a), default_keys(b)
    # A column with no value at all in a CSV file is read as text, so it looks like a key; it
    # has the type of the other side's column (a Parquet file's, or a CSV's with values).
    ka = [k for k in da if k in db or not (_is_all_null(a, k) and k in b.columns)]
    kb = [k for k in db if k in da or not (_is_all_null(b, k) and k in a.columns)]
    if set(ka) == set(kb):
        return ka
    only_a = [k for k in ka if k not in kb]
    only_b = [k for k in kb if k not in ka]
    what = []
    if only_a:
        what.append(f"only {labels[0]} has {', '.join(only_a)}")
    if only_b:
        what.append(f"only {labels[1]} has {', '.join(only_b)}")
    raise CompareError(
        f"cannot compare: the key columns differ ({'; '.join(what)}); "
        "name the common ones with --keys"
    )


def _is_all_null(frame: pl.DataFrame, column: str) -> bool:
    return frame.height == 0 or frame[column].null_count() == frame.height


def harmonise(
    a: pl.DataFrame, b: pl.DataFrame, columns: Iterable[str], keys: set[str], labels: Sequence[str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Give the common columns one type on both sides, or say why they cannot be compared."""
    cast_a: dict[str, pl.DataType] = {}
    cast_b: dict[str, pl.DataType] = {}
    for c in columns:
        ta, tb = a.schema[c], b.schema[c]
        if ta == tb:
            continue
        if _is_all_null(a, c):  # an all-missing CSV column is read as text
            cast_a[c] = tb
        elif _is_all_null(b, c):
            cast_b[c] = ta
        elif ta.is_numeric() and tb.is_numeric():
            cast_a[c] = cast_b[c] = pl.Float64()
        elif ta.is_temporal() and tb == pl.String:  # a Parquet date against a CSV date
            cast_a[c] = pl.String()
        elif tb.is_temporal() and ta == pl.String:
            cast_b[c] = pl.String()
        else:
            what = "key column" if c in keys else "column"
            raise CompareError(
                f"cannot compare: {what} {c!r} is {ta} in {labels[0]} but {tb} in {labels[1]}"
            )
    if cast_a:
        a = a.with_columns(pl.col(c).cast(t) for c, t in cast_a.items())
    if cast_b:
        b = b.with_columns(pl.col(c).cast(t) for c, t in cast_b.items())
    return a, b


def _describe_row(row: dict[str, Any], keys: Sequence[str]) -> str:
    return ", ".join(f"{k}={row[k]}" for k in keys)


def _check_nulls(frame: pl.DataFrame, other: pl.DataFrame, keys: list[str], label: str) -> None:
    """A key value missing on this side only: a ragged (too few fields), blank or cut row."""
    for k in keys:
        if frame[k].null_count() and not other[k].null_count():
            row = int(frame.with_row_index("__row").filter(pl.col(k).is_null())["__row"][0])
            raise CompareError(
                f"{label}: row {row + 1}: no value in key column {k!r}, which the other side "
                "always has: a ragged, blank or truncated row?"
            )


def _check_unique(frame: pl.DataFrame, keys: list[str], label: str, named: list[str]) -> None:
    """Rows that share their key values cannot be aligned."""
    if frame.height < 2:
        return
    # Distinct hashes prove distinct rows (the usual case, and 3-6x faster than hashing the
    # columns for n_unique); equal hashes are checked exactly.
    if frame.select(pl.struct(keys).hash().n_unique()).item() == frame.height:
        return
    if frame.select(keys).n_unique() == frame.height:
        return
    dup = frame.select(named).with_row_index("__row").filter(pl.struct(keys).is_duplicated())
    first = dup.row(0, named=True)
    raise CompareError(
        f"{label}: cannot compare: {dup.height:,} rows share their key columns "
        f"({', '.join(named)}) with another row, e.g. row {first['__row'] + 1} "
        f"({_describe_row(first, named)}); name the columns that identify a row with --keys"
    )


def _constant(frame: pl.DataFrame, column: str) -> bool:
    s = frame[column]
    if s.null_count():
        return s.null_count() == s.len()
    if s.len() == 0:
        return True
    # min == max is one cheap pass, where n_unique would hash every value
    return bool(frame.select(pl.col(column).min() == pl.col(column).max()).item())


def _constant_keys(a: pl.DataFrame, b: pl.DataFrame, keys: list[str]) -> list[str]:
    """Key columns holding one value, the same on both sides (they cannot tell rows apart)."""
    out: list[str] = []
    if a.height == 0 or b.height == 0:
        return out
    for k in keys:
        if _constant(a, k) and _constant(b, k) and a[k][0] == b[k][0]:
            out.append(k)
    return out


@dataclass(frozen=True, eq=False)
class Aligned:
    """Two tables' rows paired on their keys.

    ``both`` holds the rows both sides have: the keys, A's compared columns, and B's under
    their names plus :data:`SUFFIX`. ``only_in_a`` and ``only_in_b`` hold the keys of the rows
    one side has, sorted. ``constant_keys`` are the keys with one value on every row of both
    sides, left out of the join.
    """

    both: pl.DataFrame
    only_in_a: pl.DataFrame
    only_in_b: pl.DataFrame
    constant_keys: tuple[str, ...]


def align(
    a: pl.DataFrame,
    b: pl.DataFrame,
    keys: list[str],
    compared: Sequence[str],
    labels: Sequence[str],
) -> Aligned:
    """Pair the rows of `a` and `b` on `keys` (columns of one type on both sides).

    Raises
    ------
    CompareError
        A key value missing on one side only, or rows that share their key values.
    """
    _check_nulls(a, b, keys, labels[0])
    _check_nulls(b, a, keys, labels[1])
    constant = _constant_keys(a, b, keys)
    # Keys equal on every row of both sides cannot tell rows apart: leave them out of the
    # uniqueness check and the join (cheaper with long text such as reported_by).
    on = [k for k in keys if k not in constant] or keys
    a_part = a.select(*keys, *compared)
    b_part = b.select(*keys, *(pl.col(c).alias(c + SUFFIX) for c in compared))
    in_order = a.height == b.height and a_part.select(on).equals(b_part.select(on))
    _check_unique(a, on, labels[0], keys)
    if in_order:
        # The usual case (a re-run): the same keys in the same order -- no join needed.
        both = pl.concat([a_part, b_part.drop(keys)], how="horizontal")
        empty_keys = a_part.select(keys).clear()
        return Aligned(both, empty_keys, empty_keys, tuple(constant))
    _check_unique(b, on, labels[1], keys)
    fill = {k: a[k][0] for k in keys if k not in on}
    joined = (
        a_part.drop(list(fill))
        .with_columns(pl.lit(True).alias(_IN_A))
        .join(
            b_part.drop(list(fill)).with_columns(pl.lit(True).alias(_IN_B)),
            on=on,
            how="full",
            coalesce=True,
            nulls_equal=True,
        )
    )
    restore = [pl.lit(v, dtype=a.schema[k]).alias(k) for k, v in fill.items()]
    joined = joined.with_columns(restore).select(
        *keys, *compared, *(c + SUFFIX for c in compared), _IN_A, _IN_B
    )
    in_a = pl.col(_IN_A).fill_null(False)
    in_b = pl.col(_IN_B).fill_null(False)
    return Aligned(
        both=joined.filter(in_a & in_b).drop(_IN_A, _IN_B),
        only_in_a=joined.filter(~in_b).select(keys).sort(keys, nulls_last=True),
        only_in_b=joined.filter(~in_a).select(keys).sort(keys, nulls_last=True),
        constant_keys=tuple(constant),
    )
