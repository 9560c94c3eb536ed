"""Compare two runs, or two result tables, within tolerances: what moved, where, and by how much.

Users re-run their scenario files every week and want to know what changed. This module aligns
two tables on their key columns and lists the values that differ beyond a tolerance, the rows and
columns that only one side has, and (for whole run directories) the files and the manifest fields
that differ. It is what ``attrition compare A B`` calls.

* :func:`compare_tables` compares two Polars tables (vectorised: one full outer join on the key
  columns, or a positional comparison when both sides hold the same keys in the same order);
* :func:`compare_paths` compares two result files (CSV or Parquet) or two run directories;
* :func:`summary_moves` says how the median and the 80% band of ``projections.csv`` moved
  between two runs at each month end (the weekly question).

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
few per cent, or ``--summary``.

Two run directories whose manifests record different numerical platforms (another CPU, BLAS
kernel or library build; :mod:`simulate.fingerprint`) are compared with the cross-platform
tolerance of :mod:`simulate.tolerance` instead: fitted values within 1e-9 relative, simulated
values within what one flipped draw can move (one reporting step for a quantile; ``1 / paths``
for a probability), at most half of 1% of the value. :attr:`Comparison.platform_differs`
names the fields that differ.

Could not compare
-----------------
:class:`CompareError` (exit status 2 in the CLI) means the question has no answer: a path that
does not exist, a directory against a file, an unreadable or truncated CSV (no line end after its
last row; a ragged row -- too many fields, or too few, which shows as a missing key value on one
side only; a header without rows while the other side has rows), a table whose row count differs
from what its run's ``manifest.json`` lists, key columns that differ in name or type, or rows that
share their key values (the rows cannot be aligned).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl

from . import fingerprint
from .errors import CompareError
from .fingerprint import file_sha256
from .tolerance import CrossPlatform, from_manifests

__all__ = [
    "CompareError",
    "TableDiff",
    "FieldDiff",
    "FileComparison",
    "Comparison",
    "ABSENT",
    "DEFAULT_RTOL",
    "DEFAULT_ATOL",
    "DEFAULT_TOP",
    "compare_tables",
    "compare_paths",
    "compare_manifests",
    "read_table",
    "default_keys",
    "summary_moves",
    "render_move",
]

#: Relative tolerance: ``|a - b| <= atol + rtol * |b|`` (see the module docstring).
DEFAULT_RTOL = 1e-9
#: Absolute tolerance, for values at or near zero (contrasts, probabilities).
DEFAULT_ATOL = 1e-9
#: How many of the largest differences :attr:`TableDiff.largest` keeps.
DEFAULT_TOP = 10

#: Key columns that name a group of rows in reports (a scenario, a series, a target).
GROUP_COLUMNS = ("scenario_id", "reference_scenario_id", "series", "target", "measure")

#: Manifest fields that never count as differences: when and by what a run was made, and where
#: its files were (paths and retrieval times differ between machines and fetches; the SHA-256
#: of the data and of the scenario file say whether their content differs).
_IGNORED_SECTIONS = ("timings", "versions")
_IGNORED_LEAVES = ("path", "retrieved_at", "platform", "platforms")
IGNORED_MANIFEST_FIELDS = _IGNORED_SECTIONS + _IGNORED_LEAVES

_CSV_NULL = "NA"
_SUFFIX = "__b"
_IN_A = "__in_a"
_IN_B = "__in_b"
_HUB_VALUE = "value"
#: Columns of hub tables that are derived from ``value`` and so are not keys.
_DERIVED = ("value_date",)


class _Absent:
    """The value of a manifest field that one side does not have."""

    def __repr__(self) -> str:
        return "(absent)"


#: Stands for a manifest field missing on one side of a :class:`FieldDiff`.
ABSENT: Any = _Absent()


# --------------------------------------------------------------------------------------
# Results


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


@dataclass(frozen=True)
class FieldDiff:
    """A manifest field that differs: its JSON path (``run.seed``) and the two values.

    A value is :data:`ABSENT` when that side's manifest does not have the field.
    """

    path: str
    a: Any
    b: Any

    def __str__(self) -> str:
        return f"{self.path}: {_json_value(self.a)} -> {_json_value(self.b)}"


Status = Literal["same", "differs", "only_in_a", "only_in_b"]
Kind = Literal["table", "manifest", "bytes"]


@dataclass(frozen=True, eq=False)
class FileComparison:
    """One file of a comparison.

    ``kind`` says how it was compared: ``table`` (CSV or Parquet, value by value, see
    :attr:`table`), ``manifest`` (meaningful fields, see :attr:`fields`) or ``bytes`` (SHA-256:
    charts, the scenario file's copy, anything else).
    """

    name: str
    kind: Kind
    status: Status
    table: TableDiff | None = None
    fields: tuple[FieldDiff, ...] = ()


@dataclass(frozen=True, eq=False)
class Comparison:
    """The comparison of two files or two run directories (see :func:`compare_paths`)."""

    a: Path
    b: Path
    rtol: float
    atol: float
    files: tuple[FileComparison, ...]
    #: The platforms' fingerprint fields that differ (empty: the same platform, or none
    #: recorded), and the cross-platform tolerance applied instead of rtol/atol, if any.
    platform_differs: tuple[str, ...] = ()
    tolerance: CrossPlatform | None = None

    @property
    def same(self) -> bool:
        """Every file on both sides and the same within the tolerance."""
        return all(f.status == "same" for f in self.files)

    @property
    def differing(self) -> tuple[FileComparison, ...]:
        """The files that differ or that only one side has."""
        return tuple(f for f in self.files if f.status != "same")


# --------------------------------------------------------------------------------------
# Tables


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


def _common_keys(a: pl.DataFrame, b: pl.DataFrame, labels: Sequence[str]) -> list[str]:
    ka, kb = default_keys(a), default_keys(b)
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


def _harmonise(
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


def _same_expr(c: str, numeric: bool, rtol: float, atol: float | pl.Expr) -> pl.Expr:
    a = pl.col(c)
    b = pl.col(c + _SUFFIX)
    if not numeric:
        return a.eq_missing(b)
    a, b = a.cast(pl.Float64), b.cast(pl.Float64)
    both_nan = (a.is_nan() & b.is_nan()).fill_null(False)
    close = ((a - b).abs() <= atol + rtol * b.abs()).fill_null(False)
    return (a == b).fill_null(False) | (a.is_null() & b.is_null()) | both_nan | close


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
        The columns that identify a row (default: :func:`default_keys`, which must be the
        same for both tables). The other columns both sides have are compared: numeric ones
        within the tolerance, others exactly.
    rtol, atol
        A numeric value is the same when ``|a - b| <= atol + rtol * |b|`` (NaN equals NaN,
        missing equals missing). `atol` may be a Polars expression over the key columns, one
        tolerance per row (see :mod:`simulate.tolerance`).
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
    common = [c for c in a.columns if c in b.columns]
    a, b = _harmonise(a, b, common, set(key_list), labels)
    compared = [c for c in common if c not in key_list]
    numeric = {c: a.schema[c].is_numeric() for c in compared}
    only_cols_a = tuple(c for c in a.columns if c not in b.columns)
    only_cols_b = tuple(c for c in b.columns if c not in a.columns)
    _check_nulls(a, b, key_list, labels[0])
    _check_nulls(b, a, key_list, labels[1])
    constant = _constant_keys(a, b, key_list)
    # Keys equal on every row of both sides cannot tell rows apart: leave them out of the
    # uniqueness check and the join (cheaper with long text such as reported_by).
    on = [k for k in key_list if k not in constant] or key_list
    a_part = a.select(*key_list, *compared)
    b_part = b.select(*key_list, *(pl.col(c).alias(c + _SUFFIX) for c in compared))
    aligned = a.height == b.height and a_part.select(on).equals(b_part.select(on))
    _check_unique(a, on, labels[0], key_list)
    if not aligned:
        _check_unique(b, on, labels[1], key_list)
    if aligned:
        # The usual case (a re-run): the same keys in the same order -- no join needed.
        both = pl.concat([a_part, b_part.drop(key_list)], how="horizontal")
        empty_keys = a_part.select(key_list).clear()
        only_a, only_b = empty_keys, empty_keys
    else:
        fill = {k: a[k][0] for k in key_list if k not in on}
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
            *key_list, *compared, *(c + _SUFFIX for c in compared), _IN_A, _IN_B
        )
        in_a = pl.col(_IN_A).fill_null(False)
        in_b = pl.col(_IN_B).fill_null(False)
        only_a = joined.filter(~in_b).select(key_list).sort(key_list, nulls_last=True)
        only_b = joined.filter(~in_a).select(key_list).sort(key_list, nulls_last=True)
        both = joined.filter(in_a & in_b).drop(_IN_A, _IN_B)

    num_parts: list[pl.DataFrame] = []
    text_parts: list[pl.DataFrame] = []
    n_differing = 0
    if compared:
        same_cols = [_same_expr(c, numeric[c], rtol, atol).alias(f"__same_{c}") for c in compared]
        flagged = both.with_columns(same_cols)
        any_diff = pl.any_horizontal(~pl.col(f"__same_{c}") for c in compared)
        n_differing = int(flagged.select(any_diff.sum()).item())
    if n_differing:
        differing = flagged.filter(any_diff)
        for c in compared:
            rows = differing.filter(~pl.col(f"__same_{c}"))
            if rows.height == 0:
                continue
            if numeric[c]:
                va = pl.col(c).cast(pl.Float64)
                vb = pl.col(c + _SUFFIX).cast(pl.Float64)
                num_parts.append(rows.select(
                    *key_list, pl.lit(c).alias("column"), va.alias("a"), vb.alias("b")
                ))  # fmt: skip
            else:
                text_parts.append(rows.select(
                    *key_list, pl.lit(c).alias("column"),
                    pl.col(c).cast(pl.String).alias("a"),
                    pl.col(c + _SUFFIX).cast(pl.String).alias("b"),
                ))  # fmt: skip
    key_schema: dict[str, Any] = {k: a.schema[k] for k in key_list}
    num_schema: dict[str, Any] = {
        **key_schema,
        "column": pl.String,
        "a": pl.Float64,
        "b": pl.Float64,
    }
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
        [pl.col("rel_diff").fill_null(inf), pl.col("abs_diff").fill_null(inf), *key_list],
        descending=[True, True, *([False] * len(key_list))],
        nulls_last=True,
    )
    text_schema: dict[str, Any] = {
        **key_schema,
        "column": pl.String,
        "a": pl.String,
        "b": pl.String,
    }
    changed = pl.concat(text_parts) if text_parts else pl.DataFrame(schema=text_schema)
    group_by = [c for c in GROUP_COLUMNS if c in key_list]
    groups = differences.group_by(group_by or pl.lit("all").alias("group")).agg(
        pl.len().alias("n_values"),
        pl.col("abs_diff").max().alias("max_abs_diff"),
        pl.col("rel_diff").max().alias("max_rel_diff"),
        pl.col("rel_diff").null_count().alias("n_undefined_rel"),
    )
    groups = groups.sort(
        [(pl.col("n_undefined_rel") > 0), pl.col("max_rel_diff").fill_null(-1.0),
         pl.col("max_abs_diff").fill_null(-1.0), *(group_by or ["group"])],
        descending=[True, True, True, *([False] * max(len(group_by), 1))],
    )  # fmt: skip
    return TableDiff(
        keys=tuple(key_list),
        compared=tuple(compared),
        n_rows_a=a.height,
        n_rows_b=b.height,
        n_differing=n_differing,
        only_in_a=only_a,
        only_in_b=only_b,
        columns_only_in_a=only_cols_a,
        columns_only_in_b=only_cols_b,
        differences=differences,
        changed=changed,
        groups=groups.drop("n_undefined_rel"),
        top=top,
        constant_keys=tuple(constant),
    )


# --------------------------------------------------------------------------------------
# Files


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def read_table(path: str | Path) -> pl.DataFrame:
    """Read a result table as ``attrition`` writes them: CSV (``NA`` for missing) or Parquet.

    CSV is read strictly: a file whose last row has no line end (cut off while it was copied
    or written), an empty file or a row with more fields than the header raise
    :class:`CompareError`; rows with too few fields show up as missing key values, which
    :func:`compare_tables` refuses when the other side has none.

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
        raise CompareError(f"{path}: unreadable ({_first_line(exc)})") from None


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CompareError(f"{path}: unreadable manifest ({_first_line(exc)})") from None
    if not isinstance(doc, dict):
        raise CompareError(f"{path}: not a manifest (expected a JSON object)")
    return doc


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _flatten(
    value: Any, path: str, raw: tuple[str, ...], keep: Callable[[tuple[str, ...]], bool]
) -> dict[str, Any]:
    """JSON leaves by path: ``run.seed``, ``series[personnel].origin``, ``data.files[0].sha256``."""
    if not keep(raw):
        return {}
    out: dict[str, Any] = {}  # an empty object or list has no leaves
    if isinstance(value, dict):
        for k, v in value.items():
            key = str(k)
            sub = (f"{path}.{key}" if path else key) if _IDENT.fullmatch(key) else f"{path}[{key}]"
            out.update(_flatten(v, sub, (*raw, key), keep))
        return out
    if isinstance(value, list):
        names = [v.get("name") for v in value if isinstance(v, dict)]
        by_name = len(names) == len(value) and all(isinstance(n, str) for n in names)
        if by_name and len(set(names)) == len(names):
            labels = [str(n) for n in names]
        else:
            labels = [str(i) for i in range(len(value))]
        for label, v in zip(labels, value, strict=True):
            out.update(_flatten(v, f"{path}[{label}]", (*raw, label), keep))
        return out
    return {path: value}


def compare_manifests(
    a: dict[str, Any], b: dict[str, Any], *, compared_files: Iterable[str] = ()
) -> tuple[FieldDiff, ...]:
    """The meaningful fields in which two run manifests differ, by JSON path.

    Ignored: ``timings``, ``versions``, every ``path`` and ``retrieved_at`` (where and when,
    not what), and the ``sha256`` and ``bytes`` of ``outputs`` entries for `compared_files`
    (files compared themselves, so their checksums would only repeat that comparison).

    Examples
    --------
    >>> a = {"run": {"seed": 1, "paths": 200}, "timings": {"project_seconds": 0.5}}
    >>> b = {"run": {"seed": 2, "paths": 200}, "timings": {"project_seconds": 0.7}}
    >>> [str(d) for d in compare_manifests(a, b)]
    ['run.seed: 1 -> 2']
    """
    files = set(compared_files)

    def keep(raw: tuple[str, ...]) -> bool:
        if not raw:
            return True
        if raw[0] in _IGNORED_SECTIONS or raw[-1] in _IGNORED_LEAVES:
            return False
        return not (
            len(raw) == 3 and raw[0] == "outputs" and raw[1] in files
            and raw[2] in ("sha256", "bytes")
        )  # fmt: skip

    fa = _flatten(a, "", (), keep)
    fb = _flatten(b, "", (), keep)
    out = []
    for p in list(fa) + [p for p in fb if p not in fa]:
        va, vb = fa.get(p, ABSENT), fb.get(p, ABSENT)
        if va is ABSENT or vb is ABSENT or va != vb or type(va) is not type(vb):
            if isinstance(va, int | float) and isinstance(vb, int | float) and va == vb:
                continue
            out.append(FieldDiff(p, va, vb))
    return tuple(out)


def _json_value(v: Any) -> str:
    if v is ABSENT:
        return "(absent)"
    return json.dumps(v, ensure_ascii=False, default=str)


def _compare_table_files(
    pa: Path,
    pb: Path,
    name: str,
    *,
    keys: Sequence[str] | None,
    rtol: float,
    atol: float,
    top: int,
    rows_listed: tuple[int | None, int | None] = (None, None),
    tolerance: CrossPlatform | None = None,
) -> FileComparison:
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
    row_atol: float | pl.Expr = atol
    if tolerance is not None:
        ta, tb, rtol, row_atol = tolerance.prepare(name, ta, tb)
    diff = compare_tables(
        ta, tb, keys=keys, rtol=rtol, atol=row_atol, top=top, labels=(str(pa), str(pb))
    )
    return FileComparison(name, "table", "same" if diff.same else "differs", table=diff)


def _is_table(name: str) -> bool:
    return name.lower().endswith((".csv", ".parquet"))


def _compare_files(
    pa: Path,
    pb: Path,
    name: str,
    *,
    keys: Sequence[str] | None,
    rtol: float,
    atol: float,
    top: int,
    compared_files: Iterable[str] = (),
    rows_listed: tuple[int | None, int | None] = (None, None),
    tolerance: CrossPlatform | None = None,
) -> FileComparison:
    if _is_table(name):
        return _compare_table_files(
            pa,
            pb,
            name,
            keys=keys,
            rtol=rtol,
            atol=atol,
            top=top,
            rows_listed=rows_listed,
            tolerance=tolerance,
        )
    if name.lower().endswith(".json"):
        fields = compare_manifests(
            _read_manifest(pa), _read_manifest(pb), compared_files=compared_files
        )
        return FileComparison(name, "manifest", "differs" if fields else "same", fields=fields)
    try:
        same = file_sha256(pa) == file_sha256(pb)
    except OSError as exc:
        raise CompareError(f"{pa} or {pb}: unreadable ({_first_line(exc)})") from None
    return FileComparison(name, "bytes", "same" if same else "differs")


def _listed_rows(manifest: dict[str, Any] | None, name: str) -> int | None:
    if manifest is None:
        return None
    entry = manifest.get("outputs", {}).get(name) if isinstance(manifest, dict) else None
    rows = entry.get("rows") if isinstance(entry, dict) else None
    return rows if isinstance(rows, int) and not isinstance(rows, bool) else None


def compare_paths(
    a: str | Path,
    b: str | Path,
    *,
    keys: Sequence[str] | None = None,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    top: int = DEFAULT_TOP,
    across_platforms: bool = True,
) -> Comparison:
    """Compare two result files, or two run directories file by file.

    Two files: CSV or Parquet tables are compared with :func:`compare_tables`, ``.json`` files
    as manifests, anything else byte for byte. Two directories: every file either holds (not
    hidden ones, not subdirectories) -- tables value by value, ``manifest.json`` on its
    meaningful fields (:func:`compare_manifests`), charts and the scenario file's copy by
    SHA-256 (a chart that differs counts as a difference); a file only one side has is a
    difference. Where a run directory's manifest lists a table's row count, the table must have
    that many rows.

    Parameters
    ----------
    a, b
        Two files, or two directories.
    keys, rtol, atol, top
        As :func:`compare_tables` (``keys`` applies to every table).
    across_platforms
        When both run directories' manifests record a numerical platform and the two differ
        (:mod:`simulate.fingerprint`), and `rtol` and `atol` are the defaults, compare their
        tables with the cross-platform tolerance (:mod:`simulate.tolerance`) instead.
        False, or a tolerance given: always `rtol` and `atol`.

    Raises
    ------
    CompareError
        A path that does not exist, a directory against a file, directories without any file, a
        file that cannot be read or compared (see the module docstring).
    """
    pa, pb = Path(a), Path(b)
    for p in (pa, pb):
        if not p.exists():
            raise CompareError(f"{p}: no such file or directory")
    if pa.is_dir() != pb.is_dir():
        d, f = (pa, pb) if pa.is_dir() else (pb, pa)
        raise CompareError(f"cannot compare a directory with a file: {d} is a directory, {f} not")
    opts: dict[str, Any] = {"keys": keys, "rtol": rtol, "atol": atol, "top": top}
    if not pa.is_dir():
        one = _compare_files(pa, pb, pa.name, **opts)
        return Comparison(pa, pb, rtol, atol, (one,))

    def names(d: Path) -> set[str]:
        return {p.name for p in d.iterdir() if p.is_file() and not p.name.startswith(".")}

    in_a, in_b = names(pa), names(pb)
    if not in_a and not in_b:
        raise CompareError(f"cannot compare {pa} and {pb}: neither directory holds a file")
    both = in_a & in_b
    manifest = "manifest.json"
    man_a = _read_manifest(pa / manifest) if manifest in in_a else None
    man_b = _read_manifest(pb / manifest) if manifest in in_b else None
    platform_differs = tuple(fingerprint.differing_runs(man_a, man_b))
    tolerance: CrossPlatform | None = None
    defaults = rtol == DEFAULT_RTOL and atol == DEFAULT_ATOL
    if platform_differs and across_platforms and defaults:
        tolerance = from_manifests(man_a, man_b)
        opts["tolerance"] = tolerance
    files: list[FileComparison] = []
    for name in sorted(in_a | in_b):
        if name not in both:
            kind: Kind = "table" if _is_table(name) else "bytes"
            if name == manifest:
                kind = "manifest"
            files.append(FileComparison(name, kind, "only_in_a" if name in in_a else "only_in_b"))
            continue
        files.append(
            _compare_files(
                pa / name,
                pb / name,
                name,
                **opts,
                compared_files=both - {manifest},
                rows_listed=(_listed_rows(man_a, name), _listed_rows(man_b, name)),
            )  # fmt: skip
        )
    return Comparison(pa, pb, rtol, atol, tuple(files), platform_differs, tolerance)


# --------------------------------------------------------------------------------------
# Weekly moves

_MOVE_LEVELS = {"q10": 0.1, "median": 0.5, "q90": 0.9}
_MOVE_KEYS = ["scenario_id", "target", "target_end_date"]


def _projections(path: Path) -> pl.DataFrame:
    if path.is_dir():
        path = path / "projections.csv"
        if not path.is_file():
            raise CompareError(f"{path}: missing; --summary needs the runs' projections.csv")
    elif not path.exists():
        raise CompareError(f"{path}: no such file or directory")
    frame = read_table(path)
    need = [*_MOVE_KEYS, "output_type", "output_type_id", "value"]
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise CompareError(f"{path}: not a projections table (no column {', '.join(missing)})")
    if frame.schema["target_end_date"] == pl.String:
        try:
            frame = frame.with_columns(pl.col("target_end_date").str.to_date("%Y-%m-%d"))
        except pl.exceptions.PolarsError as exc:
            raise CompareError(f"{path}: target_end_date: {_first_line(exc)}") from None
    level = pl.col("output_type_id").cast(pl.Float64)
    picks = [
        pl.col("value").filter((level - lv).abs() < 1e-9).first().alias(name)
        for name, lv in _MOVE_LEVELS.items()
    ]
    quantiles = frame.filter(pl.col("output_type") == "quantile")
    wide = quantiles.group_by(_MOVE_KEYS).agg(picks)
    if wide.height == 0 or wide["median"].null_count() == wide.height:
        raise CompareError(f"{path}: no median (quantile 0.5) rows to compare")
    return wide.with_columns(pl.col("target_end_date").cast(pl.Date))


def summary_moves(a_run: str | Path, b_run: str | Path) -> pl.DataFrame:
    """How the median and the 80% band of each projection moved from run A to run B.

    Rows of ``projections.csv`` (of two run directories, or two projections files) are
    aligned on ``scenario_id``, ``target`` and ``target_end_date`` -- not the horizon, since
    weekly runs start from different origin dates -- and kept at every common
    ``target_end_date`` that is the last day of a month, and at the last common date.

    Returns
    -------
    polars.DataFrame
        ``scenario_id``, ``target``, ``target_end_date``, ``median_a``, ``median_b``,
        ``median_change`` (B - A), ``median_change_pct`` (per cent of A), ``band80_a``,
        ``band80_b`` (quantile 0.9 - quantile 0.1), ``band80_change_pct``; percentages are
        null when A's figure is 0, band figures null when a run lacks quantile 0.1 or 0.9.
        Sorted by target, scenario and date.

    Raises
    ------
    CompareError
        A run without projections, or no common date to compare at.
    """
    pa, pb = Path(a_run), Path(b_run)
    wa, wb = _projections(pa), _projections(pb)
    joined = wa.join(wb, on=_MOVE_KEYS, how="inner", suffix="_b")
    if joined.height == 0:
        raise CompareError(
            f"cannot summarise {pa} against {pb}: no scenario, target and target_end_date in common"
        )
    date = pl.col("target_end_date")
    last = date.max().over("scenario_id", "target")
    kept = joined.filter((date.dt.month_end() == date) | (date == last))

    def pct(new: pl.Expr, old: pl.Expr) -> pl.Expr:
        return pl.when(old != 0).then((new - old) / old.abs() * 100.0).otherwise(None)

    band_a = pl.col("q90") - pl.col("q10")
    band_b = pl.col("q90_b") - pl.col("q10_b")
    return kept.select(
        "scenario_id",
        "target",
        "target_end_date",
        pl.col("median").alias("median_a"),
        pl.col("median_b"),
        (pl.col("median_b") - pl.col("median")).alias("median_change"),
        pct(pl.col("median_b"), pl.col("median")).alias("median_change_pct"),
        band_a.alias("band80_a"),
        band_b.alias("band80_b"),
        pct(band_b, band_a).alias("band80_change_pct"),
    ).sort("target", "scenario_id", "target_end_date")


def _signed(x: float) -> str:
    if abs(x) >= 100 or x == round(x):
        return f"{x:+,.0f}"
    return f"{x:+,.2f}"


def _pct(x: float) -> str:
    return f"{x:.0f}%" if abs(x) >= 1 or x == 0 else f"{x:.2g}%"


def render_move(row: dict[str, Any]) -> str:
    """One row of :func:`summary_moves` for people.

    Examples
    --------
    >>> from datetime import date
    >>> render_move({"scenario_id": "status-quo", "target": "cum personnel",
    ...              "target_end_date": date(2026, 6, 30), "median_change": 12400.0,
    ...              "median_change_pct": 0.93, "band80_change_pct": -6.2})
    'cum personnel at 2026-06-30 (status-quo): median +12,400 (+0.9%), 80% band narrower by 6%'
    """
    head = f"{row['target']} at {row['target_end_date']} ({row['scenario_id']}): "
    change = row["median_change"]
    pct = row["median_change_pct"]
    text = head + f"median {_signed(change)}"
    if pct is None:
        text += " (from 0)"
    else:
        text += f" ({pct:+.1f}%)" if abs(pct) >= 0.1 or pct == 0 else f" ({pct:+.1g}%)"
    band = row.get("band80_change_pct")
    if band is None:
        return text
    if band < 0:
        return text + f", 80% band narrower by {_pct(-band)}"
    if band > 0:
        return text + f", 80% band wider by {_pct(band)}"
    return text + ", 80% band unchanged"
