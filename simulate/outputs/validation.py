"""Validation of run directories: every check a run directory must pass.

:func:`validate_run` checks a directory the way the scenario hubs check submissions: the
manifest and the files it lists (SHA-256, row counts), then each table's own rules, whether
the run's tables are CSV or Parquet files (:data:`RUN_TABLES`; one format per directory); a
backtest directory (:mod:`simulate.outputs.backtestdir`) by the rules of its tables. It
returns the problems as lines naming the file, the first offending row and what is wrong;
:func:`simulate.outputs.rundir.write_run` refuses to publish a run with any, and ``attrition
validate`` prints them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Collection
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from ..fingerprint import file_sha256
from ..scenarios import TABLE_FORMATS, TableFormat
from ..summaries import HUB_SCHEMA, SUMMARY_SCHEMA

__all__ = ["validate_run", "table_format", "MANIFEST", "CSV_NULL", "BACKTEST_TOOL", "RUN_TABLES"]

#: The manifest's file name in a run directory.
MANIFEST = "manifest.json"
#: How a missing value is written in the run's CSV files.
CSV_NULL = "NA"
#: The ``tool`` of a backtest directory's manifest (:mod:`simulate.outputs.backtestdir`).
BACKTEST_TOOL = "attrition backtest"
#: The tables of a run directory, all ``<name>.csv`` or all ``<name>.parquet`` (its format).
RUN_TABLES = ("projections", "contrasts", "summary", "fit")


def _read_table(path: Path, schema: dict[str, Any]) -> pl.DataFrame:
    """A CSV table read with `schema`, or a Parquet table as stored (its types checked after)."""
    if path.suffix == ".parquet":
        return pl.read_parquet(path)
    return pl.read_csv(path, schema_overrides=schema, null_values=CSV_NULL, try_parse_dates=False)


def table_format(root: Path, listed: Collection[str]) -> tuple[TableFormat | None, list[str]]:
    """The format of run directory `root`'s tables (:data:`RUN_TABLES`), judged by the files
    the manifest lists (`listed`) and those in `root`; ``None`` with the problem when it holds
    tables of both formats, or of neither."""
    found = {
        fmt: [n for t in RUN_TABLES if (n := f"{t}.{fmt}") in listed or (root / n).is_file()]
        for fmt in TABLE_FORMATS
    }
    formats = [fmt for fmt in TABLE_FORMATS if found[fmt]]
    if len(formats) == 1:
        return formats[0], []
    if not formats:
        return None, [f"{root}: no tables: expected {', '.join(RUN_TABLES)} as .csv files "
                      "or as .parquet files"]  # fmt: skip
    held = " and ".join(", ".join(names) for names in found.values())
    return None, [f"{root}: tables of both formats ({held}); a run directory holds one "
                  "format: all .csv or all .parquet"]  # fmt: skip


def validate_run(run_dir: str | os.PathLike[str]) -> list[str]:
    """Check a run directory the way the scenario hubs check submissions.

    Checks: the manifest parses and every file it lists exists with its SHA-256 and row count;
    the tables are all CSV or all Parquet (:func:`table_format`), as the manifest's
    ``run.format`` says when it says; each table has its columns, of their types; no missing
    values; values >= 0 (except contrasts, which may be negative); quantiles ordered
    by level; cumulative quantiles non-decreasing over the horizon and at or above the last
    reported total; target end date = origin + horizon; the ``reported_by`` column matches the
    manifest; probabilities in [0, 1]; sample trajectories non-negative and non-decreasing.
    A backtest directory (manifest ``tool`` = :data:`BACKTEST_TOOL`) is checked by its own
    rules: its manifest and files, then ``scores.csv``, ``summary.csv`` and ``pit.csv``.

    Returns
    -------
    list of str
        One line per problem (``file: where: what``); empty when the run is valid.
    """
    root = Path(run_dir)
    if not root.is_dir():
        return [f"{root}: not a directory"]
    mpath = root / MANIFEST
    try:
        doc = json.loads(mpath.read_text(encoding="utf-8"))
        if isinstance(doc, dict) and doc.get("tool") == BACKTEST_TOOL:
            return _validate_backtest(root, doc)
        files = doc["outputs"]
        reporter = doc["reported_by"]
        series = {s["name"]: s for s in doc["series"]}
    except FileNotFoundError:
        return [f"{mpath}: missing"]
    except (ValueError, KeyError, TypeError) as exc:
        return [f"{mpath}: not a valid manifest ({type(exc).__name__}: {exc})"]
    problems = _listed_files(root, files)
    fmt, mixed = table_format(root, files)
    problems += mixed
    if fmt is None:
        return problems
    run = doc.get("run")  # manifests written before run.format say nothing (their tables: CSV)
    recorded = run.get("format", fmt) if isinstance(run, dict) else fmt
    if recorded != fmt:
        problems.append(f"{mpath}: run.format is {recorded!r}, but the tables are .{fmt} files")
    checks: list[tuple[str, Callable[[pl.DataFrame, str, dict[str, Any]], list[str]]]] = [
        ("projections", _check_projections),
        ("contrasts", _check_contrasts),
        ("summary", _check_summary),
    ]
    for table, check in checks:
        name = f"{table}.{fmt}"
        path = root / name
        if name not in files:
            problems.append(f"{path}: not listed in the manifest")
            continue
        schema = dict(HUB_SCHEMA) if table != "summary" else dict(SUMMARY_SCHEMA)
        if table == "contrasts":
            schema["reference_scenario_id"] = pl.String
        frame = _read_listed(path, schema, files[name].get("rows"), problems)
        if frame is None:
            continue
        problems += [f"{path}: {p}" for p in check(frame, reporter, series)]
    if "samples.parquet" in files and (root / "samples.parquet").is_file():
        problems += [f"{root / 'samples.parquet'}: {p}" for p in _check_samples(root)]
    return problems


def _read_listed(
    path: Path,
    schema: dict[str, Any],
    rows: object,
    problems: list[str],
    optional: tuple[str, ...] = (),
) -> pl.DataFrame | None:
    """A table the manifest lists, read with its schema; None (with the problem noted in
    `problems`) when it is absent, unreadable, lacks a column other than the `optional`
    ones or has one of another type (a Parquet file's types are its own; a CSV file's are
    read as the schema says, or it is unreadable). A row count other than the manifest's
    `rows` is noted, and the table is still checked."""
    if not path.is_file():
        return None  # reported with the listed files
    try:
        frame = _read_table(path, schema)
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        problems.append(f"{path}: unreadable ({str(exc).splitlines()[0]})")
        return None
    if frame.height != rows:
        problems.append(f"{path}: {frame.height} rows; the manifest says {rows}")
    missing = [c for c in schema if c not in frame.columns and c not in optional]
    if missing:
        problems.append(f"{path}: missing columns {missing}")
        return None
    typed = [f"{c} is {frame.schema[c]}, expected {schema[c]}"
             for c in schema if c in frame.columns and frame.schema[c] != schema[c]]  # fmt: skip
    if typed:
        problems.append(f"{path}: columns of other types ({'; '.join(typed)})")
        return None
    return frame


def _listed_files(root: Path, files: dict[str, Any]) -> list[str]:
    """Every file the manifest lists is there with its SHA-256."""
    problems: list[str] = []
    for name, info in files.items():
        path = root / name
        if not path.is_file():
            problems.append(f"{path}: listed in the manifest but missing")
            continue
        if file_sha256(path) != info.get("sha256"):
            problems.append(f"{path}: SHA-256 differs from the manifest (changed after the run)")
    return problems


# --------------------------------------------------------------------------- backtests

#: A backtest directory's tables: column -> type, and the columns that may hold no value
#: (the horizon bucket of totals, the skill of a model without its baseline; a skill column
#: is absent altogether when its baseline model was not run).
#: The skill columns of a backtest summary and their bootstrap bounds (all may be empty).
_SKILL_COLUMNS = tuple(
    f"{c}{end}" for c in ("skill", "skill_vs_bootstrap") for end in ("", "_lo", "_hi")
)
_BACKTEST_TABLES: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "scores.csv": (
        {"origin": pl.Date, "series": pl.String, "model": pl.String, "target": pl.String,
         "horizon": pl.Int64, "bucket": pl.String, "scale": pl.String,
         **{c: pl.Float64 for c in ("observed", "median", "lo80", "hi80", "wis", "crps",
                                    "ae_median", "cov50", "cov80", "cov95", "pit")},
         "reported_by": pl.String},
        ("bucket",),
    ),
    "summary.csv": (
        {"series": pl.String, "model": pl.String, "group": pl.String, "n": pl.Int64,
         **{c: pl.Float64 for c in ("wis", "crps", "mae_median", "cov50", "cov80", "cov95",
                                    *_SKILL_COLUMNS)},
         "reported_by": pl.String},
        _SKILL_COLUMNS,
    ),
    "pit.csv": (
        {"series": pl.String, "model": pl.String, "target": pl.String, "bin_start": pl.Float64,
         "bin_end": pl.Float64, "n": pl.Int64, "share": pl.Float64, "reported_by": pl.String},
        (),
    ),
}  # fmt: skip


def _validate_backtest(root: Path, doc: dict[str, Any]) -> list[str]:
    """Check a backtest directory (:func:`simulate.outputs.backtestdir.write_backtest`): the
    manifest and its files (SHA-256, row counts), then each table: no missing values, the
    series, models, origins and horizons the manifest names, scores >= 0, coverages, PIT
    values and shares in [0, 1], 80% bands around the median, PIT shares summing to 1, each
    skill inside its bootstrap interval (both bounds or neither, none without the skill)."""
    mpath = root / MANIFEST
    try:
        files = dict(doc["outputs"])
        reporter = str(doc["reported_by"])
        names: dict[str, list[Any]] = {
            "series": [str(s) for s in doc["series"]],
            "model": [str(m) for m in doc["models"]],
            "origin": [date.fromisoformat(d) for d in doc["origins"]],
        }
        horizon = int(doc["horizon"])
    except (ValueError, KeyError, TypeError) as exc:
        return [f"{mpath}: not a valid backtest manifest ({type(exc).__name__}: {exc})"]
    problems = _listed_files(root, files)
    for name, (schema, optional) in _BACKTEST_TABLES.items():
        path = root / name
        if name not in files:
            problems.append(f"{path}: not listed in the manifest")
            continue
        frame = _read_listed(path, schema, files[name].get("rows"), problems, optional)
        if frame is None:
            continue
        out = [
            p
            for c in schema
            if c not in optional
            for p in _rows(frame, pl.col(c).is_null(), f"missing {c}")
        ]
        out += _rows(frame, pl.col("reported_by") != reporter, f"reported_by is not {reporter!r}")
        for col, allowed in names.items():
            if col in frame.columns:
                out += _rows(frame, ~pl.col(col).is_in(allowed), f"{col} not in the manifest")
        out += _backtest_rules(name, frame, horizon)
        problems += [f"{path}: {p}" for p in out]
    return problems


def _backtest_rules(name: str, frame: pl.DataFrame, horizon: int) -> list[str]:
    """The rules of one backtest table beyond missing values and names."""
    out: list[str] = []

    def in_unit(*cols: str) -> None:
        for c in cols:
            out.extend(_rows(frame, ~pl.col(c).is_between(0.0, 1.0), f"{c} outside [0, 1]"))

    if name == "scores.csv":
        out += _rows(
            frame, ~pl.col("horizon").is_between(1, horizon), f"horizon not in 1..{horizon}"
        )
        for c in ("wis", "crps", "ae_median"):
            out += _rows(frame, pl.col(c) < 0, f"negative {c}")
        in_unit("cov50", "cov80", "cov95", "pit")
        out += _rows(
            frame,
            (pl.col("lo80") > pl.col("median")) | (pl.col("median") > pl.col("hi80")),
            "median outside its 80% band",
        )
    elif name == "summary.csv":
        out += _rows(frame, pl.col("n") < 1, "n < 1")
        for c in ("wis", "crps", "mae_median"):
            out += _rows(frame, pl.col(c) < 0, f"negative {c}")
        in_unit("cov50", "cov80", "cov95")
        for c in ("skill", "skill_vs_bootstrap"):
            lo, hi = f"{c}_lo", f"{c}_hi"
            if not {c, lo, hi} <= set(frame.columns):
                continue
            out += _rows(frame, pl.col(lo).is_null() != pl.col(hi).is_null(),
                         f"only one of {lo} and {hi}")  # fmt: skip
            out += _rows(frame, pl.col(c).is_null() & pl.col(lo).is_not_null(),
                         f"{lo} without {c}")  # fmt: skip
            out += _rows(frame, (pl.col(lo) > pl.col(c)) | (pl.col(c) > pl.col(hi)),
                         f"{c} outside [{lo}, {hi}]")  # fmt: skip
    else:
        in_unit("bin_start", "bin_end", "share")
        out += _rows(frame, pl.col("bin_start") >= pl.col("bin_end"), "bin_start >= bin_end")
        out += _rows(frame, pl.col("n") < 1, "n < 1")
        groups = ["series", "model", "target"]
        total = frame.with_columns(total=pl.col("share").sum().over(groups))
        out += _rows(total, (pl.col("total") - 1.0).abs() > 1e-9, "shares do not sum to 1")
    return out


def _rows(frame: pl.DataFrame, mask: pl.Expr, what: str) -> list[str]:
    """One problem naming the first offending row (1-based data row) and the count."""
    bad = frame.with_row_index("row").filter(mask)
    if bad.height == 0:
        return []
    first = bad.row(0, named=True)
    keys = ", ".join(
        f"{k}={first[k]}"
        for k in (
            "scenario_id",
            "origin",
            "series",
            "model",
            "target",
            "measure",
            "horizon",
            "output_type_id",
        )
        if k in first and first[k] is not None
    )
    return [f"row {first['row'] + 2}: {what} ({keys}; {bad.height} rows in all)"]


def _common(frame: pl.DataFrame, reporter: str, required: list[str]) -> list[str]:
    out = []
    for col in required:
        out += _rows(frame, pl.col(col).is_null(), f"missing {col}")
    out += _rows(frame, pl.col("value").is_nan(), "value is NaN")
    out += _rows(frame, pl.col("reported_by") != reporter, f"reported_by is not {reporter!r}")
    out += _rows(
        frame,
        (pl.col("output_type") == "quantile") & pl.col("output_type_id").is_null(),
        "quantile row without a level",
    )
    out += _rows(
        frame,
        ~pl.col("output_type_id").is_between(0.0, 1.0) & pl.col("output_type_id").is_not_null(),
        "quantile level outside [0, 1]",
    )
    return out


_HUB_KEYS = ["scenario_id", "target", "horizon"]


def _ordered_quantiles(frame: pl.DataFrame, keys: list[str]) -> list[str]:
    """Within each group of `keys`, a higher quantile level must not have a lower value."""
    q = frame.filter(pl.col("output_type") == "quantile").sort([*keys, "output_type_id"])
    step = pl.col("value").diff().over(keys)
    return _rows(q, step < 0, "quantiles not ordered by level")


def _check_hub(frame: pl.DataFrame, reporter: str) -> list[str]:
    out = _common(frame, reporter, [c for c in HUB_SCHEMA if c != "output_type_id"])
    out += _rows(
        frame,
        ~pl.col("output_type").is_in(["quantile", "mean"]),
        "output_type is not quantile or mean",
    )
    out += _rows(
        frame,
        pl.col("target_end_date") != pl.col("origin_date") + pl.duration(days=pl.col("horizon")),
        "target_end_date is not origin_date + horizon",
    )
    out += _rows(frame, pl.col("horizon") < 1, "horizon < 1")
    out += _ordered_quantiles(frame, _HUB_KEYS)
    return out


def _check_projections(frame: pl.DataFrame, reporter: str, series: dict[str, Any]) -> list[str]:
    out = _check_hub(frame, reporter)
    out += _rows(frame, pl.col("value") < 0, "negative value")
    cum = frame.filter(pl.col("target").str.starts_with("cum "))
    keys = ["scenario_id", "target", "output_type", "output_type_id"]
    cum = cum.sort([*keys, "horizon"], nulls_last=True)
    out += _rows(
        cum,
        pl.col("value").diff().over(keys) < 0,
        "cumulative total decreases over the horizon",
    )
    last = pl.DataFrame(
        {
            "target": [f"cum {name}" for name in series],
            "last_total": [int(s["last_total"]) for s in series.values()],
        },
        schema={"target": pl.String, "last_total": pl.Int64},
    )
    joined = cum.join(last, on="target", how="left")
    out += _rows(joined, pl.col("last_total").is_null(), "target's series is not in the manifest")
    out += _rows(
        joined, pl.col("value") < pl.col("last_total"), "cumulative total below the last reported"
    )
    return out


def _check_contrasts(frame: pl.DataFrame, reporter: str, series: dict[str, Any]) -> list[str]:
    out = _check_hub(frame, reporter)
    out += _rows(frame, pl.col("reference_scenario_id").is_null(), "missing reference_scenario_id")
    out += _rows(
        frame,
        pl.col("scenario_id") == pl.col("reference_scenario_id"),
        "a scenario contrasted with itself",
    )
    return out


def _check_summary(frame: pl.DataFrame, reporter: str, series: dict[str, Any]) -> list[str]:
    out = _common(
        frame,
        reporter,
        ["origin_date", "scenario_id", "series", "measure", "output_type", "value", "reported_by"],
    )
    out += _rows(frame, pl.col("value") < 0, "negative value")
    out += _rows(
        frame,
        (pl.col("output_type") == "probability") & (pl.col("value") > 1),
        "probability above 1",
    )
    out += _rows(frame, ~pl.col("series").is_in(list(series)), "series not in the manifest")
    out += _ordered_quantiles(frame, ["scenario_id", "series", "measure", "period_start",
                                      "threshold"])  # fmt: skip
    return out


def _check_samples(root: Path) -> list[str]:
    try:
        frame = pl.read_parquet(root / "samples.parquet")
    except (pl.exceptions.PolarsError, OSError) as exc:
        return [f"unreadable ({str(exc).splitlines()[0]})"]
    keys = ["scenario_id", "target", "output_type_id"]
    out = _rows(frame, pl.col("value").is_null() | (pl.col("value") < 0), "negative or missing")
    cum = frame.filter(pl.col("target").str.starts_with("cum ")).sort([*keys, "horizon"])
    out += _rows(cum, pl.col("value").diff().over(keys) < 0, "cumulative trajectory decreases")
    return out
