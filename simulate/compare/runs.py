"""Whole-run comparison: two run directories file by file, or two result files.

:func:`compare_runs` is what ``attrition compare A B`` calls. Each file both sides hold is
compared by its kind: tables value by value (:mod:`simulate.compare.tables`),
``manifest.json`` on its meaningful fields (:mod:`simulate.compare.manifests`), anything else
(charts, the scenario file's copy) by SHA-256 (:mod:`simulate.compare.files`); a file only
one side has is a difference. A table one side holds as ``.csv`` and the other as
``.parquet`` only (a CSV run against a Parquet run) is one table, compared value by value; the
format alone is no difference.

Two run directories whose manifests record different numerical platforms (another CPU, BLAS
kernel or library build; :mod:`simulate.fingerprint`) are compared with the cross-platform
tolerance of :mod:`simulate.compare.tolerance` instead of ``rtol`` and ``atol``: fitted values
within 1e-9 relative, simulated values within what one flipped draw can move (one reporting
step for a quantile; ``1 / paths`` for a probability), at most half of 1% of the value.
:attr:`Comparison.platform_differs` names the fields that differ.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import polars as pl

from .. import fingerprint
from ..errors import CompareError
from .alignment import known_keys
from .files import (
    MANIFEST,
    is_table,
    listed_rows,
    read_manifest,
    read_tables,
    run_files,
    same_bytes,
)
from .manifests import FieldDiff, manifest_differences
from .tables import DEFAULT_ATOL, DEFAULT_RTOL, DEFAULT_TOP, TableDiff, compare_tables
from .tolerance import CrossPlatform, from_manifests

__all__ = ["Comparison", "FileComparison", "Kind", "Status", "compare_runs"]

Status = Literal["same", "differs", "only_in_a", "only_in_b"]
Kind = Literal["table", "manifest", "bytes"]


@dataclass(frozen=True, eq=False)
class FileComparison:
    """One file of a comparison.

    ``kind`` says how it was compared: ``table`` (CSV or Parquet, value by value, see
    :attr:`table`), ``manifest`` (meaningful fields, see :attr:`fields`) or ``bytes`` (SHA-256:
    charts, the scenario file's copy, anything else). ``name_b`` is B's file when B holds the
    table in the other format (``projections.parquet`` against A's ``projections.csv``).
    """

    name: str
    kind: Kind
    status: Status
    table: TableDiff | None = None
    fields: tuple[FieldDiff, ...] = ()
    name_b: str | None = None


@dataclass(frozen=True, eq=False)
class Comparison:
    """The comparison of two files or two run directories (see :func:`compare_runs`)."""

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


@dataclass(frozen=True)
class _Rules:
    """How every file of one comparison is compared: the table options, the cross-platform
    tolerance (if it applies), and the files both sides hold (compared themselves, so their
    checksums in the manifests are not compared again)."""

    keys: Sequence[str] | None
    rtol: float
    atol: float
    top: int
    tolerance: CrossPlatform | None = None
    compared_files: frozenset[str] = frozenset()
    #: B's tables held in the other format than A's, by B's name: A's name.
    renamed: dict[str, str] = field(default_factory=dict)


def _kind(name: str) -> Kind:
    if is_table(name):
        return "table"
    return "manifest" if name.lower().endswith(".json") else "bytes"


def _compare_file(
    pa: Path,
    pb: Path,
    name: str,
    rules: _Rules,
    rows_listed: tuple[int | None, int | None] = (None, None),
) -> FileComparison:
    """Compare file `name` of both sides by its kind (see the module docstring)."""
    kind = _kind(name)
    if kind == "table":
        ta, tb = read_tables(pa, pb, rows_listed=rows_listed)
        rtol: float = rules.rtol
        atol: float | pl.Expr = rules.atol
        if rules.tolerance is not None:  # per row; derived columns left out
            ta, tb, rtol, atol = rules.tolerance.prepare(name, ta, tb)
        labels = (str(pa), str(pb))
        keys = rules.keys if rules.keys is not None else known_keys(name, ta, tb)
        diff = compare_tables(ta, tb, keys=keys, rtol=rtol, atol=atol, top=rules.top, labels=labels)
        return FileComparison(name, kind, "same" if diff.same else "differs", table=diff)
    if kind == "manifest":
        fields = manifest_differences(
            read_manifest(pa),
            read_manifest(pb),
            compared_files=rules.compared_files,
            renamed=rules.renamed,
        )
        return FileComparison(name, kind, "differs" if fields else "same", fields=fields)
    return FileComparison(name, kind, "same" if same_bytes(pa, pb) else "differs")


def compare_runs(
    a: str | Path,
    b: str | Path,
    *,
    keys: Sequence[str] | None = None,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    top: int = DEFAULT_TOP,
    across_platforms: bool = True,
) -> Comparison:
    """Compare two run directories file by file, or two result files.

    Two files: CSV or Parquet tables are compared with
    :func:`~simulate.compare.tables.compare_tables`, ``.json`` files as manifests, anything
    else byte for byte. Two directories: every file either holds (not hidden ones, not
    subdirectories) -- tables value by value, ``manifest.json`` on its meaningful fields
    (:func:`~simulate.compare.manifests.manifest_differences`), charts and the scenario
    file's copy by SHA-256 (a chart that differs counts as a difference); a file only one
    side has is a difference. A table that A holds only as ``.csv`` and B only as ``.parquet``
    (or the reverse) is compared as one table (:attr:`FileComparison.name_b`), and the
    manifests' ``run.format`` and names of its file are then not differences. Where a run
    directory's manifest lists a table's row count, the table must have that many rows.

    Parameters
    ----------
    a, b
        Two files, or two directories.
    keys, rtol, atol, top
        As :func:`~simulate.compare.tables.compare_tables` (``keys`` applies to every table).
    across_platforms
        When both run directories' manifests record a numerical platform and the two differ
        (:mod:`simulate.fingerprint`), and `rtol` and `atol` are the defaults, compare their
        tables with the cross-platform tolerance (:mod:`simulate.compare.tolerance`) instead.
        False, or a tolerance given: always `rtol` and `atol`.

    Raises
    ------
    CompareError
        A path that does not exist, a directory against a file, directories without any file, a
        file that cannot be read or compared (see :mod:`simulate.compare`).
    """
    pa, pb = Path(a), Path(b)
    for p in (pa, pb):
        if not p.exists():
            raise CompareError(f"{p}: no such file or directory")
    if pa.is_dir() != pb.is_dir():
        d, f = (pa, pb) if pa.is_dir() else (pb, pa)
        raise CompareError(f"cannot compare a directory with a file: {d} is a directory, {f} not")
    rules = _Rules(keys, rtol, atol, top)
    if not pa.is_dir():
        return Comparison(pa, pb, rtol, atol, (_compare_file(pa, pb, pa.name, rules),))
    in_a, in_b = run_files(pa), run_files(pb)
    if not in_a and not in_b:
        raise CompareError(f"cannot compare {pa} and {pb}: neither directory holds a file")
    renamed = _other_format(in_a - in_b, in_b - in_a)  # B's name: A's name
    in_b = (in_b - set(renamed)) | set(renamed.values())  # B's tables by A's names
    both = in_a & in_b
    man_a = read_manifest(pa / MANIFEST) if MANIFEST in in_a else None
    man_b = read_manifest(pb / MANIFEST) if MANIFEST in in_b else None
    platform_differs = tuple(fingerprint.differing_runs(man_a, man_b))
    cross: CrossPlatform | None = None
    if platform_differs and across_platforms and rtol == DEFAULT_RTOL and atol == DEFAULT_ATOL:
        cross = from_manifests(man_a, man_b)
    rules = _Rules(keys, rtol, atol, top, cross, frozenset(both - {MANIFEST}), renamed)
    name_b = {a: b for b, a in renamed.items()}
    files: list[FileComparison] = []
    for name in sorted(in_a | in_b):
        if name not in both:
            kind: Kind = "table" if is_table(name) else "bytes"
            if name == MANIFEST:
                kind = "manifest"  # another .json only one side has counts as bytes
            files.append(FileComparison(name, kind, "only_in_a" if name in in_a else "only_in_b"))
            continue
        nb = name_b.get(name, name)
        rows = (listed_rows(man_a, name), listed_rows(man_b, nb))
        compared = _compare_file(pa / name, pb / nb, name, rules, rows)
        files.append(dataclasses.replace(compared, name_b=name_b.get(name)))
    return Comparison(pa, pb, rtol, atol, tuple(files), platform_differs, cross)


def _other_format(only_a: set[str], only_b: set[str]) -> dict[str, str]:
    """B's tables that A holds in the other format only (``x.parquet`` against ``x.csv``, or
    the reverse), by B's name: A's name."""
    out = {}
    for name in sorted(only_b):
        stem, dot, ext = name.rpartition(".")
        other = {"csv": "parquet", "parquet": "csv"}.get(ext.lower()) if dot else None
        if other is not None and f"{stem}.{other}" in only_a:
            out[name] = f"{stem}.{other}"
    return out
