"""Run directories: write a run's files all at once, and validate any run directory.

A run directory holds ``projections.csv``, ``contrasts.csv``, ``summary.csv``, ``fit.csv``,
optionally ``samples.parquet``, one fan chart per series (``chart-<series>.png``), a copy of the
scenario file (``scenario.toml``) and ``manifest.json``. It is built in a hidden temporary
directory beside the target, validated with :func:`validate_run`, and only then renamed into
place: a reader sees a complete, valid run or none. An existing run directory is replaced only
with ``force=True`` (and then only once the new one is complete).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import polars as pl

from .. import __version__
from ..errors import OutputExistsError, RunInvalidError
from ..fingerprint import file_sha256, numerical_platform
from ..pipeline import RunResult
from ..summaries import (
    HUB_SCHEMA,
    SUMMARY_SCHEMA,
    contrast_blocks,
    contrasts_table,
    fit_table,
    projection_blocks,
    samples_table,
    summary_table,
)

__all__ = [
    "RunInvalidError",
    "write_run",
    "validate_run",
    "manifest",
    "projection_caveat",
    "MANIFEST",
]

MANIFEST = "manifest.json"
_CSV_NULL = "NA"


def projection_caveat(reporter: str) -> str:
    """The caveat every run output carries."""
    return (
        f"These are projections of the figures as reported by {reporter}, not estimates of "
        "actual losses."
    )


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "attrition": __version__}
    for dist in ("numpy", "scipy", "polars", "matplotlib", "click"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:  # pragma: no cover - optional
            out[dist] = "not installed"
    return out


def manifest(result: RunResult, files: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The manifest of a run: what was run, on what, by which versions, and the files."""
    p = result.prepared
    sf = p.scenario_file
    reporter = result.reported_by
    here = numerical_platform()
    return {
        "tool": "attrition",
        "caveat": projection_caveat(reporter),
        "reported_by": reporter,
        "run": {
            "name": sf.run.name,
            "seed": p.seed,
            "seed_in_file": sf.run.seed,
            "paths": p.paths,
            "samples": result.samples,
            "as_of": None if sf.run.as_of is None else sf.run.as_of.isoformat(),
            "horizon": sf.run.horizon,
            "end": None if sf.run.end is None else sf.run.end.isoformat(),
        },
        "scenario_file": {"path": sf.source, "sha256": p.scenario_sha256, "copy": "scenario.toml"},
        "data": {
            "source": p.data.source,
            "reported_by": reporter,
            "files": [
                {k: v for k, v in f.to_dict().items() if k != "read_at"} for f in p.data.files
            ],
            "policy": {
                "gaps": sf.data.policy.gaps,
                "corrections": sf.data.policy.corrections,
                "correction_window": sf.data.policy.correction_window,
                "slips": sf.data.policy.slips,
                "start": None if sf.data.policy.start is None else sf.data.policy.start.isoformat(),
            },
        },
        "model": "auto" if sf.auto_model else sf.model.to_dict(),
        "scenarios": sorted(s.name for s in sf.scenarios),
        "reference": sf.reference.name,
        "series": [
            {
                "name": r.series.name,
                "origin": r.model.origin.isoformat(),
                "last_total": r.model.last_total,
                "horizon": int(next(iter(r.projections.values())).dates.size),
                "record_daily": r.record,
                "window_start": r.model.start.isoformat(),
                "n_obs": r.model.n_obs,
                "granularity": r.series.granularity,
                "model": r.model.spec.to_dict(),
                "model_choice": r.choice,
                # where the series was fitted and simulated, when that is not where the run
                # directory was written (a worker of a mixed cluster)
                **(
                    {"platforms": list(r.platforms)}
                    if any(fp != here for fp in r.platforms)
                    else {}
                ),
            }
            for r in sorted(result.results, key=lambda r: r.series.name)
        ],
        "outputs": files,
        "versions": _versions(),
        # Byte-identical results are promised on the same platform; across platforms
        # `attrition compare` applies the cross-platform tolerance (simulate.tolerance).
        "platform": here,
        "timings": {
            **{k: round(v, 3) for k, v in result.timings.items()},
            **{f"series_seconds.{r.series.name}": round(r.seconds, 3) for r in result.results},
            "written_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    }


def _write_csv(frame: pl.DataFrame, path: Path) -> None:
    frame.write_csv(path, null_value=_CSV_NULL, date_format="%Y-%m-%d")


def _write_blocks(
    path: Path,
    blocks: Iterator[pl.DataFrame],
    empty: Callable[[RunResult], pl.DataFrame] | None,
    result: RunResult,
) -> int:
    """Write a CSV block by block (the header once); return the number of rows."""
    rows = 0
    with path.open("wb") as fh:
        for block in blocks:
            block.write_csv(fh, include_header=rows == 0 and fh.tell() == 0,
                            null_value=_CSV_NULL, date_format="%Y-%m-%d")  # fmt: skip
            rows += block.height
        if fh.tell() == 0 and empty is not None:  # no rows: the header alone
            empty(result).write_csv(fh, null_value=_CSV_NULL, date_format="%Y-%m-%d")
    return rows


def write_run(
    result: RunResult,
    out_dir: str | os.PathLike[str],
    *,
    force: bool = False,
    charts: bool | None = None,
    chart_maker: Callable[..., bytes] | None = None,
) -> Path:
    """Write the run directory `out_dir` atomically and validate it.

    Parameters
    ----------
    result
        What :func:`simulate.pipeline.run` returned.
    out_dir
        The run directory to create.
    force
        Replace an existing directory (once the new one is complete and valid).
    charts
        Draw fan charts; default: the scenario file's ``outputs.charts``.
    chart_maker
        The chart function (default :func:`simulate.outputs.charts.fan_chart`).

    Raises
    ------
    OutputExistsError
        `out_dir` exists and `force` is false.
    RunInvalidError
        The new files failed validation (nothing is written then).
    """
    target = Path(out_dir)
    tmp = staging_dir(target, force)
    try:
        files = _write_files(result, tmp, charts, chart_maker)
        doc = manifest(result, files)
        (tmp / MANIFEST).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        problems = validate_run(tmp)
        if problems:
            raise RunInvalidError(
                f"{target}: the run's own files failed validation ({len(problems)} problems); "
                f"first: {problems[0]}"
            )
        publish(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def staging_dir(target: Path, force: bool) -> Path:
    """A hidden temporary directory beside `target` to build it in (checks `force` first)."""
    if target.exists() and not force:
        raise OutputExistsError.at(target)
    if target.exists() and not target.is_dir():
        raise OutputExistsError(f"{target}: is a file; expected a directory")
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))


def publish(tmp: Path, target: Path) -> None:
    """Move a complete directory into place, replacing `target` only once `tmp` is complete."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
        os.replace(target, old / "run")
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, target)


def _write_files(
    result: RunResult,
    tmp: Path,
    charts: bool | None,
    chart_maker: Callable[..., bytes] | None,
) -> dict[str, dict[str, Any]]:
    sf = result.scenario_file
    files: dict[str, dict[str, Any]] = {}
    # The two big tables are written block by block: memory stays at one block.
    for name, blocks, empty in (
        ("projections.csv", projection_blocks(result), None),
        ("contrasts.csv", contrast_blocks(result), contrasts_table),
    ):
        files[name] = {"rows": _write_blocks(tmp / name, blocks, empty, result)}
    tables: dict[str, pl.DataFrame] = {
        "summary.csv": summary_table(result),
        "fit.csv": fit_table(result),
    }
    if result.samples:
        tables["samples.parquet"] = samples_table(result)
    for name, frame in tables.items():
        path = tmp / name
        if name.endswith(".parquet"):
            frame.write_parquet(path, statistics=False)
        else:
            _write_csv(frame, path)
        files[name] = {"rows": frame.height}
    if Path(sf.source).is_file():
        shutil.copyfile(sf.source, tmp / "scenario.toml")
        files["scenario.toml"] = {}
    if sf.outputs.charts if charts is None else charts:
        if chart_maker is None:
            from .charts import fan_chart

            chart_maker = fan_chart
        for r in sorted(result.results, key=lambda r: r.series.name):
            name = f"chart-{r.series.name}.png"
            png = chart_maker(r, reference=sf.reference.name, title_run=sf.run.name)
            (tmp / name).write_bytes(png)
            files[name] = {}
            if sf.swept:
                from .charts import sensitivity_chart

                swept = {k: dict(v) for k, v in sf.swept.items()}
                sens = sensitivity_chart(r, swept, reference=sf.reference.name,
                                         title_run=sf.run.name)  # fmt: skip
                if sens is not None:
                    (tmp / f"sensitivity-{r.series.name}.png").write_bytes(sens)
                    files[f"sensitivity-{r.series.name}.png"] = {}
    for name, info in files.items():
        info["sha256"] = file_sha256(tmp / name)
        info["bytes"] = (tmp / name).stat().st_size
    return dict(sorted(files.items()))


# --------------------------------------------------------------------------------------
# Validation


def _read_csv(path: Path, schema: dict[str, Any]) -> pl.DataFrame:
    return pl.read_csv(path, schema_overrides=schema, null_values=_CSV_NULL, try_parse_dates=False)


def validate_run(run_dir: str | os.PathLike[str]) -> list[str]:
    """Check a run directory the way the scenario hubs check submissions.

    Checks: the manifest parses and every file it lists exists with its SHA-256 and row count;
    no missing values; values >= 0 (except contrasts, which may be negative); quantiles ordered
    by level; cumulative quantiles non-decreasing over the horizon and at or above the last
    reported total; target end date = origin + horizon; the ``reported_by`` column matches the
    manifest; probabilities in [0, 1]; sample trajectories non-negative and non-decreasing.

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
        files = doc["outputs"]
        reporter = doc["reported_by"]
        series = {s["name"]: s for s in doc["series"]}
    except FileNotFoundError:
        return [f"{mpath}: missing"]
    except (ValueError, KeyError, TypeError) as exc:
        return [f"{mpath}: not a valid manifest ({type(exc).__name__}: {exc})"]
    problems: list[str] = []
    for name, info in files.items():
        path = root / name
        if not path.is_file():
            problems.append(f"{path}: listed in the manifest but missing")
            continue
        if file_sha256(path) != info.get("sha256"):
            problems.append(f"{path}: SHA-256 differs from the manifest (changed after the run)")
    checks: list[tuple[str, Callable[[pl.DataFrame, str, dict[str, Any]], list[str]]]] = [
        ("projections.csv", _check_projections),
        ("contrasts.csv", _check_contrasts),
        ("summary.csv", _check_summary),
    ]
    for name, check in checks:
        path = root / name
        if name not in files:
            problems.append(f"{path}: not listed in the manifest")
            continue
        if not path.is_file():
            continue
        try:
            schema = dict(HUB_SCHEMA) if name != "summary.csv" else dict(SUMMARY_SCHEMA)
            if name == "contrasts.csv":
                schema["reference_scenario_id"] = pl.String
            frame = _read_csv(path, schema)
        except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
            problems.append(f"{path}: unreadable ({str(exc).splitlines()[0]})")
            continue
        if frame.height != files[name].get("rows"):
            problems.append(
                f"{path}: {frame.height} rows; the manifest says {files[name].get('rows')}"
            )
        missing = [c for c in schema if c not in frame.columns]
        if missing:
            problems.append(f"{path}: missing columns {missing}")
            continue
        problems += [f"{path}: {p}" for p in check(frame, reporter, series)]
    if "samples.parquet" in files and (root / "samples.parquet").is_file():
        problems += [f"{root / 'samples.parquet'}: {p}" for p in _check_samples(root)]
    return problems


def _rows(frame: pl.DataFrame, mask: pl.Expr, what: str) -> list[str]:
    """One problem naming the first offending row (1-based data row) and the count."""
    bad = frame.with_row_index("row").filter(mask)
    if bad.height == 0:
        return []
    first = bad.row(0, named=True)
    keys = ", ".join(
        f"{k}={first[k]}"
        for k in ("scenario_id", "series", "target", "measure", "horizon", "output_type_id")
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
    keys = ["scenario_id", "series", "measure", "period_start", "threshold"]
    q = frame.filter(pl.col("output_type") == "quantile").sort([*keys, "output_type_id"])
    out += _rows(q, pl.col("value").diff().over(keys) < 0, "quantiles not ordered by level")
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
