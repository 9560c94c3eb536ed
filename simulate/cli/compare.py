"""``attrition compare A B``: what changed between two runs, or two result files.

A thin layer over :mod:`simulate.compare`: parse, compare, report. Exit status 0 when A and B
are the same within the tolerance, 1 when they differ, 2 when they cannot be compared (a
:class:`~simulate.errors.CompareError`: one line on standard error naming the file and the
reason, through :mod:`simulate.cli.exits`).
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
import polars as pl

from ..compare import (
    ABSENT,
    DEFAULT_ATOL,
    DEFAULT_RTOL,
    DEFAULT_TOP,
    GROUP_COLUMNS,
    Comparison,
    FileComparison,
    TableDiff,
    compare_runs,
    projection_moves,
    render_move,
)
from .exits import Command
from .options import comma_list, shown

__all__ = ["compare_cmd"]

#: Rows only in A (or B) listed in the text report, per file.
_LISTED = 10


def _keys(_ctx: click.Context, _param: click.Parameter, value: str | None) -> list[str] | None:
    return comma_list(value, "column names")


@click.command("compare", cls=Command)
@click.argument("a", type=click.Path(path_type=Path))
@click.argument("b", type=click.Path(path_type=Path))
@shown(
    "--rtol",
    type=click.FloatRange(min=0),
    default=DEFAULT_RTOL,
    help="Relative tolerance: values are the same when |a - b| <= atol + rtol * |b|.",
)
@shown(
    "--atol",
    type=click.FloatRange(min=0),
    default=DEFAULT_ATOL,
    help="Absolute tolerance (for values at or near zero).",
)
@click.option(
    "--keys",
    callback=_keys,
    default=None,
    help="Comma-separated columns that identify a row (default: every column but 'value' of "
    "hub tables, every non-float column of others).",
)
@shown(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "csv"]),
    default="text",
    help="text: a report; json: one document; csv: the differing values (or, with --summary, "
    "the moves).",
)
@click.option(
    "--summary",
    is_flag=True,
    help="Instead of the differences: how the median and 80% band of projections.csv moved at "
    "each month end (aligned on target_end_date; for weekly re-runs).",
)
@shown("--top", type=click.IntRange(min=1), default=DEFAULT_TOP,
       help="How many of the largest differences to show per file.")  # fmt: skip
@click.pass_context
def compare_cmd(
    ctx: click.Context,
    a: Path,
    b: Path,
    rtol: float,
    atol: float,
    keys: list[str] | None,
    fmt: str,
    summary: bool,
    top: int,
) -> None:
    """Compare run directories (or result files) A and B.

    Tables (CSV, Parquet; a table A holds as .csv and B as .parquet is one table) are aligned
    on their key columns and compared value by value within the tolerance; manifest.json on
    its meaningful fields (not timings, versions, platform or paths); charts and other files
    byte for byte. A file only one side has is a difference.

    Two run directories made on different numerical platforms (their manifests' CPU, BLAS
    kernel or library versions differ) are compared with the cross-platform tolerance, which
    the report prints: fitted values within 1e-9 relative; simulated values within what one
    flipped draw can move (a quantile one reporting step, a probability 1/paths), at most half
    of 1% of the value. Giving --rtol or --atol overrides it.

    Exit status: 0 same within the tolerance, 1 different, 2 cannot compare (missing path,
    a directory against a file, an unreadable or truncated file, different key columns,
    rows sharing their keys).
    """
    explicit = any(
        ctx.get_parameter_source(p) == click.core.ParameterSource.COMMANDLINE
        for p in ("rtol", "atol")
    )
    comparison = compare_runs(
        a, b, keys=keys, rtol=rtol, atol=atol, top=top, across_platforms=not explicit
    )
    moves = projection_moves(a, b) if summary else None
    if moves is not None:
        text = _render_moves(comparison, moves, fmt)
    elif fmt == "json":
        text = json.dumps(_comparison_doc(comparison), indent=2, default=_json_default) + "\n"
    elif fmt == "csv":
        text = _differences_csv(comparison)
    else:
        text = _render_text(comparison)
    click.echo(text, nl=False)
    sys.exit(0 if comparison.same else 1)


# --------------------------------------------------------------------------- text


def _num(x: float | None) -> str:
    """A value exactly as stored (repr), with thousands separators."""
    if x is None:
        return "NA"
    text = repr(float(x))
    if not math.isfinite(x) or "e" in text or abs(x) < 1000:
        return text
    whole, _, frac = text.partition(".")
    return f"{int(whole):,}" + (f".{frac}" if frac != "0" else "")


def _diff_text(row: dict[str, Any]) -> str:
    a, b, rel = row["a"], row["b"], row["rel_diff"]
    text = f"{row['column']} {_num(a)} -> {_num(b)}"
    if a is not None and b is not None and math.isfinite(a) and math.isfinite(b):
        text += f" ({b - a:+,.6g}" + (f", {rel * 100:.3g}%)" if rel is not None else ")")
    return text


def _count(n: int, what: str) -> str:
    return f"{n:,} {what}{'' if n == 1 else 's'}"


def _where(row: dict[str, Any], keys: Sequence[str]) -> str:
    return ", ".join(f"{k}={'NA' if row[k] is None else row[k]}" for k in keys)


def _group_of(row: dict[str, Any], group: Sequence[str]) -> tuple[Any, ...]:
    return tuple(row[c] for c in group)


def _render_table_diff(name: str, d: TableDiff) -> list[str]:
    shown = [k for k in d.keys if k not in d.constant_keys]
    group = [c for c in GROUP_COLUMNS if c in shown]
    rest = [k for k in shown if k not in group]
    lines = []
    if d.same:
        lines.append(f"{name}: same ({d.n_rows_a:,} rows)")
        return lines
    lines.append(
        f"{name}: {d.n_differing:,} of {d.n_rows_a:,} rows differ "
        f"({_count(d.n_values_differing, 'value')}); {d.only_in_a.height:,} rows only in A, "
        f"{d.only_in_b.height:,} only in B"
    )
    if d.differences.height:
        lines.append(f"  largest differences ({min(d.top, d.differences.height)} shown):")
        by_group: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        for row in d.largest.iter_rows(named=True):
            by_group.setdefault(_group_of(row, group), []).append(row)
        counts = {
            _group_of(r, group): r["n_values"] for r in d.groups.iter_rows(named=True)
        } if group else {}  # fmt: skip
        for g, rows in by_group.items():
            if group:
                label = _where(dict(zip(group, g, strict=True)), group)
                lines.append(f"  {label} ({_count(counts.get(g, len(rows)), 'value')} differ):")
            for row in rows:
                where = _where(row, rest if group else shown)
                lines.append(f"    {where}: {_diff_text(row)}")
        if group and d.groups.height > len(by_group):
            more = d.groups.height - len(by_group)
            lines.append(f"  ... and {more:,} more groups with differences")
    if d.changed.height:
        lines.append(f"  other values that differ ({d.changed.height:,}; {d.top} shown):")
        for row in d.changed.head(d.top).iter_rows(named=True):
            lines.append(f"    {_where(row, shown)}: {row['column']} {row['a']} -> {row['b']}")
    for side, frame in (("A", d.only_in_a), ("B", d.only_in_b)):
        if frame.height:
            lines.append(f"  rows only in {side} ({frame.height:,}):")
            for row in frame.head(_LISTED).iter_rows(named=True):
                lines.append(f"    {_where(row, shown)}")
            if frame.height > _LISTED:
                lines.append(f"    ... and {frame.height - _LISTED:,} more")
    for side, cols in (("A", d.columns_only_in_a), ("B", d.columns_only_in_b)):
        if cols:
            lines.append(f"  columns only in {side}: {', '.join(cols)}")
    return lines


def _render_file(f: FileComparison) -> list[str]:
    if f.status == "only_in_a":
        return [f"{f.name}: only in A"]
    if f.status == "only_in_b":
        return [f"{f.name}: only in B"]
    if f.kind == "table" and f.table is not None:
        name = f.name if f.name_b is None else f"{f.name} vs {f.name_b}"
        return _render_table_diff(name, f.table)
    if f.kind == "manifest":
        if not f.fields:
            return [f"{f.name}: same (timings, versions, platform and paths ignored)"]
        return [f"{f.name}: {_count(len(f.fields), 'field')} differ"] + [f"  {d}" for d in f.fields]
    return [f"{f.name}: {'same' if f.status == 'same' else 'differs (bytes)'}"]


def _platform_lines(c: Comparison) -> list[str]:
    if not c.platform_differs:
        return []
    fields = ", ".join(c.platform_differs)
    if c.tolerance is None:
        return [f"numerical platforms differ ({fields}); tolerance as given"]
    return [
        f"numerical platforms differ ({fields}): cross-platform tolerance applied",
        f"  {c.tolerance.describe()}",
    ]


def _render_text(c: Comparison) -> str:
    if c.tolerance is not None:
        tol = "cross-platform (below)"
    else:
        tol = f"|a - b| <= {c.atol:g} + {c.rtol:g} * |b|"
    lines = [f"A: {c.a}", f"B: {c.b}", f"tolerance: {tol}", *_platform_lines(c), ""]
    for f in c.files:
        lines += _render_file(f)
    lines.append("")
    lines.append(_verdict(c))
    return "\n".join(lines) + "\n"


def _verdict(c: Comparison) -> str:
    if c.same:
        return f"SAME within the tolerance ({len(c.files)} files)"
    return f"DIFFERENT: {len(c.differing)} of {len(c.files)} files differ"


# --------------------------------------------------------------------------- json / csv


def _json_default(x: Any) -> Any:
    if isinstance(x, date | datetime):
        return x.isoformat()
    if x is ABSENT:
        return None
    return str(x)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None if value != value else ("inf" if value > 0 else "-inf")
    return value


def _records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return [{k: _clean(v) for k, v in r.items()} for r in frame.iter_rows(named=True)]


def _file_doc(f: FileComparison) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": f.name, "kind": f.kind, "status": f.status}
    if f.name_b is not None:
        doc["name_b"] = f.name_b
    d = f.table
    if d is not None:
        doc.update(
            keys=list(d.keys),
            compared=list(d.compared),
            rows_a=d.n_rows_a,
            rows_b=d.n_rows_b,
            rows_differing=d.n_differing,
            values_differing=d.n_values_differing,
            rows_only_in_a=d.only_in_a.height,
            rows_only_in_b=d.only_in_b.height,
            columns_only_in_a=list(d.columns_only_in_a),
            columns_only_in_b=list(d.columns_only_in_b),
            largest=_records(d.largest),
            changed=_records(d.changed.head(d.top)),
            groups=_records(d.groups),
            only_in_a=_records(d.only_in_a.head(d.top)),
            only_in_b=_records(d.only_in_b.head(d.top)),
        )
    if f.kind == "manifest":
        doc["fields"] = [
            {"path": x.path, "a": _clean(x.a), "b": _clean(x.b),
             "in_a": x.a is not ABSENT, "in_b": x.b is not ABSENT}
            for x in f.fields
        ]  # fmt: skip
    return doc


def _comparison_doc(c: Comparison) -> dict[str, Any]:
    return {
        "a": str(c.a),
        "b": str(c.b),
        "rtol": None if c.tolerance is not None else c.rtol,
        "atol": None if c.tolerance is not None else c.atol,
        "platform_differs": list(c.platform_differs),
        "cross_platform_tolerance": None if c.tolerance is None else c.tolerance.describe(),
        "same": c.same,
        "files_differing": len(c.differing),
        "files": [_file_doc(f) for f in c.files],
    }


def _differences_csv(c: Comparison) -> str:
    """Every differing value and every row only one side has, of every table, as CSV."""
    parts = []
    for f in c.files:
        d = f.table
        if d is None:
            continue
        file_col = pl.lit(f.name).alias("file")
        num = d.differences
        if d.changed.height:  # text values in the same a, b columns
            num = num.with_columns(pl.col("a", "b").cast(pl.String))
        for kind, frame in (
            ("changed", num),
            ("changed", d.changed),
            ("only_in_a", d.only_in_a),
            ("only_in_b", d.only_in_b),
        ):
            if frame.height:
                parts.append(frame.with_columns(file_col, pl.lit(kind).alias("kind")))
    first = ["file", "kind"]
    last = ["column", "a", "b", "abs_diff", "rel_diff"]
    if not parts:
        return ",".join(first + last) + "\n"
    table = pl.concat(parts, how="diagonal_relaxed")
    for col in last:
        if col not in table.columns:
            table = table.with_columns(pl.lit(None, dtype=pl.String).alias(col))
    middle = [col for col in table.columns if col not in first + last]
    return table.select(first + middle + last).write_csv(null_value="NA")


def _render_moves(c: Comparison, moves: pl.DataFrame, fmt: str) -> str:
    if fmt == "csv":
        return moves.write_csv(null_value="NA", date_format="%Y-%m-%d")
    if fmt == "json":
        doc = {"a": str(c.a), "b": str(c.b), "same": c.same, "moves": _records(moves)}
        return json.dumps(doc, indent=2, default=_json_default) + "\n"
    lines = [
        f"A: {c.a}",
        f"B: {c.b}",
        "how the median and the 80% band (q0.1 to q0.9) moved from A to B, at each month end",
        "",
    ]
    lines += [render_move(row) for row in moves.iter_rows(named=True)]
    lines += ["", _verdict(c)]
    return "\n".join(lines) + "\n"
