"""Compare two runs, or two result tables, within tolerances: what moved, where, and by how much.

Users re-run their scenario files every week and want to know what changed. This package
aligns two tables on their key columns and lists the values that differ beyond a tolerance,
the rows and columns that only one side has, and (for whole run directories) the files and
the manifest fields that differ. It is what ``attrition compare A B`` calls
(:mod:`simulate.cli.compare`). One module per job:

* :mod:`~simulate.compare.tables` -- table diffs: :func:`compare_tables` (one full outer join
  on the key columns, or a positional comparison when both sides hold the same keys in the
  same order), :class:`TableDiff`, the default tolerances;
* :mod:`~simulate.compare.alignment` -- which rows correspond: key columns, types, duplicate
  or missing keys, rows only one side has;
* :mod:`~simulate.compare.files` -- reading: strict CSV/Parquet tables (:func:`read_table`),
  manifests, run directories' files, charts by SHA-256;
* :mod:`~simulate.compare.manifests` -- manifest diffs by JSON path
  (:func:`manifest_differences`, :class:`FieldDiff`);
* :mod:`~simulate.compare.runs` -- whole-run comparison: :func:`compare_runs` (two run
  directories file by file, or two files), :class:`Comparison`;
* :mod:`~simulate.compare.tolerance` -- same-platform and cross-platform tolerances;
* :mod:`~simulate.compare.moves` -- how the median and the 80% band of ``projections.csv``
  moved at each month end (:func:`projection_moves`, the weekly question).

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

from ..errors import CompareError
from .alignment import default_keys
from .files import read_table
from .manifests import ABSENT, IGNORED_MANIFEST_FIELDS, FieldDiff, manifest_differences
from .moves import projection_moves, render_move
from .runs import Comparison, FileComparison, compare_runs
from .tables import (
    DEFAULT_ATOL,
    DEFAULT_RTOL,
    DEFAULT_TOP,
    GROUP_COLUMNS,
    TableDiff,
    compare_tables,
)

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
    "GROUP_COLUMNS",
    "IGNORED_MANIFEST_FIELDS",
    "compare_tables",
    "compare_runs",
    "manifest_differences",
    "read_table",
    "default_keys",
    "projection_moves",
    "render_move",
]
