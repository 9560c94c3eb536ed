"""Table diffs: which values of two tables differ beyond a tolerance, and by how much.

:func:`compare_tables` aligns two Polars tables on their key columns
(:mod:`simulate.compare.alignment`) and returns a :class:`TableDiff`: the values outside the
tolerance (numeric ones with their absolute and relative difference, others as text), the
rows and columns only one side has, and the differences per group of rows.

Tolerances
----------
A value of A is the same as B's when ``|a - b| <= atol + rtol * |b|``; NaN equals NaN and a
missing value equals a missing value. The defaults, :data:`DEFAULT_RTOL` = :data:`DEFAULT_ATOL`
= 1e-9, treat a re-run of the same file, data and seed as it is meant to be -- exactly equal
(``attrition run`` promises byte-identical result files, and CSV round-trips a float exactly) --
while absorbing last-digit differences of floating-point arithmetic across platforms or library
builds (summation order, fused multiply-add), which are around 1e-12 relative in the fits. A
relative change of 1e-9 is a thousandth of a person on a total of a million: anything above it is
a real change. Comparing runs made with different seeds, paths or data needs ``--rtol`` of a
few per cent, or ``--summary``. Another numerical platform gets the per-row tolerance of
:mod:`simulate.compare.tolerance`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from ..errors import CompareError
from .alignment import SUFFIX, align, harmonise, key_columns

__all__ = [
    "DEFAULT_ATOL",
    "DEFAULT_RTOL",
    "DEFAULT_TOP",
    "GROUP_COLUMNS",
    "TableDiff",
    "compare_tables",
]

#: Relative tolerance: ``|a - b| <= atol + rtol * |b|`` (see the module docstring).
DEFAULT_RTOL = 1e-9
#: Absolute tolerance, for values at or near zero (contrasts, probabilities).
DEFAULT_ATOL = 1e-9
#: How many of the largest differences :attr:`TableDiff.largest` keeps.
DEFAULT_TOP = 10

#: Key columns that name a group of rows in reports (a scenario, a series, a target).
GROUP_COLUMNS = ("scenario_id", "reference_scenario_id", "series", "target", "measure")


@dataclass(frozen=True, eq=False)
class TableDiff:
    """How table B differs from table A.

    Attributes
    ----------
    keys
        The key columns the rows were aligned on.
    compared
        The other columns present on both sides, compared value by value.
    n_rows_a, n_rows_b
        Rows of each table.
    n_differing
        Rows present on both sides with at least one compared value outside the tolerance.
    only_in_a, only_in_b
        The keys of the rows only one side has (every such row, sorted by the keys).
    columns_only_in_a, columns_only_in_b
        Columns only one side has (they are not compared).
    differences
        Every numeric value outside the tolerance: the keys, ``column``, ``a``, ``b``,
        ``abs_diff`` = ``|a - b|`` and ``rel_diff`` = ``abs_diff / |b|`` (null when undefined:
        ``b`` is 0, or a value is missing or NaN), largest relative then absolute difference
        first (undefined ones first of all).
    changed
        Every other (non-numeric) compared value that differs: the keys, ``column``, ``a``,
        ``b`` as text.
    groups
        Per group of rows (the keys among ``scenario_id``, ``series``, ``target`` ...):
        ``n_values`` differing and the largest ``abs_diff`` and ``rel_diff``, largest first.
    top
        How many rows :attr:`largest` keeps.
    constant_keys
        Key columns with one value, the same on every row of both sides (reports leave
        them out).
    """

    keys: tuple[str, ...]
    compared: tuple[str, ...]
    n_rows_a: int
    n_rows_b: int
    n_differing: int
    only_in_a: pl.DataFrame
    only_in_b: pl.DataFrame
    columns_only_in_a: tuple[str, ...]
    columns_only_in_b: tuple[str, ...]
    differences: pl.DataFrame
    changed: pl.DataFrame
    groups: pl.DataFrame
    top: int = DEFAULT_TOP
    constant_keys: tuple[str, ...] = field(default=())

    @property
    def largest(self) -> pl.DataFrame:
        """The :attr:`top` largest numeric differences (see :attr:`differences`)."""
        return self.differences.head(self.top)

    @property
    def n_values_differing(self) -> int:
        """Values (cells) outside the tolerance, numeric or not."""
        return self.differences.height + self.changed.height

    @property
    def same(self) -> bool:
        """Same rows, same columns, every value within the tolerance."""
        return (
            self.n_differing == 0
            and self.only_in_a.height == 0
            and self.only_in_b.height == 0
            and not self.columns_only_in_a
            and not self.columns_only_in_b
        )


def compare_tables(
    a: pl.DataFrame,
    b: pl.DataFrame,
    *,
    keys: Sequence[str] | None = None,
    rtol: float = DEFAULT_RTOL,
    atol: float | pl.Expr = DEFAULT_ATOL,
    top: int = DEFAULT_TOP,
    labels: tuple[str, str] = ("A", "B"),
) -> TableDiff:
    """Compare table B with table A, rows aligned on their key columns.

    Parameters
    ----------
    a, b
        The tables.
    keys
        The columns that identify a row (default:
        :func:`~simulate.compare.alignment.default_keys`, which must be the same for both
        tables). The other columns both sides have are compared: numeric ones within the
        tolerance, others exactly.
    rtol, atol
        A numeric value is the same when ``|a - b| <= atol + rtol * |b|`` (NaN equals NaN,
        missing equals missing). `atol` may be a Polars expression over the key columns, one
        tolerance per row (see :mod:`simulate.compare.tolerance`).
    top
        How many of the largest differences :attr:`TableDiff.largest` keeps.
    labels
        Names of the two sides in error messages (e.g. their file names).

    Returns
    -------
    TableDiff

    Raises
    ------
    CompareError
        Key columns that differ in name or type, a column of incompatible types, a
        key value missing on one side only (a ragged or cut row), or rows that share their key
        values.

    Examples
    --------
    >>> a = pl.DataFrame({"scenario_id": ["x", "x"], "horizon": [1, 2], "value": [10.0, 20.0]})
    >>> b = a.with_columns(pl.when(pl.col("horizon") == 2).then(20.5).otherwise(pl.col("value"))
    ...                    .alias("value"))
    >>> d = compare_tables(a, b)
    >>> d.same, d.n_differing
    (False, 1)
    >>> d.largest.select("horizon", "a", "b", "abs_diff").row(0)
    (2, 20.0, 20.5, 0.5)
    >>> compare_tables(a, b, rtol=0.05).same
    True
    """
    finite_atol = isinstance(atol, pl.Expr) or (math.isfinite(atol) and atol >= 0)
    if not (math.isfinite(rtol) and rtol >= 0 and finite_atol):
        raise CompareError(f"rtol and atol must be finite and >= 0, got {rtol!r} and {atol!r}")
    key_list = key_columns(a, b, keys, labels)
    common = [c for c in a.columns if c in b.columns]
    a, b = harmonise(a, b, common, set(key_list), labels)
    compared = [c for c in common if c not in key_list]
    numeric = {c: a.schema[c].is_numeric() for c in compared}
    rows = align(a, b, key_list, compared, labels)
    n_differing, differences, changed = _differing_values(
        rows.both, key_list, numeric, rtol, atol, {k: a.schema[k] for k in key_list}
    )
    return TableDiff(
        keys=tuple(key_list),
        compared=tuple(compared),
        n_rows_a=a.height,
        n_rows_b=b.height,
        n_differing=n_differing,
        only_in_a=rows.only_in_a,
        only_in_b=rows.only_in_b,
        columns_only_in_a=tuple(c for c in a.columns if c not in b.columns),
        columns_only_in_b=tuple(c for c in b.columns if c not in a.columns),
        differences=differences,
        changed=changed,
        groups=_groups(differences, [c for c in GROUP_COLUMNS if c in key_list]),
        top=top,
        constant_keys=rows.constant_keys,
    )


def _same_expr(c: str, numeric: bool, rtol: float, atol: float | pl.Expr) -> pl.Expr:
    a = pl.col(c)
    b = pl.col(c + SUFFIX)
    if not numeric:
        return a.eq_missing(b)
    a, b = a.cast(pl.Float64), b.cast(pl.Float64)
    both_nan = (a.is_nan() & b.is_nan()).fill_null(False)
    close = ((a - b).abs() <= atol + rtol * b.abs()).fill_null(False)
    return (a == b).fill_null(False) | (a.is_null() & b.is_null()) | both_nan | close


def _differing_values(
    both: pl.DataFrame,
    keys: list[str],
    numeric: dict[str, bool],
    rtol: float,
    atol: float | pl.Expr,
    key_schema: dict[str, Any],
) -> tuple[int, pl.DataFrame, pl.DataFrame]:
    """The rows of `both` with a value outside the tolerance: their count, the numeric values
    that differ (sorted, largest first) and the other values that differ."""
    num_parts: list[pl.DataFrame] = []
    text_parts: list[pl.DataFrame] = []
    n_differing = 0
    if numeric:
        same_cols = [_same_expr(c, n, rtol, atol).alias(f"__same_{c}") for c, n in numeric.items()]
        flagged = both.with_columns(same_cols)
        any_diff = pl.any_horizontal(~pl.col(f"__same_{c}") for c in numeric)
        n_differing = int(flagged.select(any_diff.sum()).item())
    if n_differing:
        differing = flagged.filter(any_diff)
        for c, is_numeric in numeric.items():
            rows = differing.filter(~pl.col(f"__same_{c}"))
            if rows.height == 0:
                continue
            kind = pl.Float64 if is_numeric else pl.String
            parts = num_parts if is_numeric else text_parts
            parts.append(rows.select(
                *keys, pl.lit(c).alias("column"),
                pl.col(c).cast(kind).alias("a"), pl.col(c + SUFFIX).cast(kind).alias("b"),
            ))  # fmt: skip
    num_schema = {**key_schema, "column": pl.String, "a": pl.Float64, "b": pl.Float64}
    differences = pl.concat(num_parts) if num_parts else pl.DataFrame(schema=num_schema)
    abs_diff = (pl.col("a") - pl.col("b")).abs().fill_nan(None)
    differences = differences.with_columns(abs_diff.alias("abs_diff")).with_columns(
        pl.when(pl.col("b") != 0)
        .then(pl.col("abs_diff") / pl.col("b").abs())
        .otherwise(None)
        .alias("rel_diff")
    )
    inf = float("inf")
    differences = differences.sort(
        [pl.col("rel_diff").fill_null(inf), pl.col("abs_diff").fill_null(inf), *keys],
        descending=[True, True, *([False] * len(keys))],
        nulls_last=True,
    )
    text_schema = {**key_schema, "column": pl.String, "a": pl.String, "b": pl.String}
    changed = pl.concat(text_parts) if text_parts else pl.DataFrame(schema=text_schema)
    return n_differing, differences, changed


def _groups(differences: pl.DataFrame, group_by: list[str]) -> pl.DataFrame:
    """Per group of rows: how many values differ, and the largest differences, largest first."""
    groups = differences.group_by(group_by or pl.lit("all").alias("group")).agg(
        pl.len().alias("n_values"),
        pl.col("abs_diff").max().alias("max_abs_diff"),
        pl.col("rel_diff").max().alias("max_rel_diff"),
        pl.col("rel_diff").null_count().alias("n_undefined_rel"),
    )
    return groups.sort(
        [(pl.col("n_undefined_rel") > 0), pl.col("max_rel_diff").fill_null(-1.0),
         pl.col("max_abs_diff").fill_null(-1.0), *(group_by or ["group"])],
        descending=[True, True, True, *([False] * max(len(group_by), 1))],
    ).drop("n_undefined_rel")  # fmt: skip
