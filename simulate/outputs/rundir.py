"""Run directories: write a run's files all at once.

A run directory holds ``projections.csv``, ``contrasts.csv``, ``summary.csv``, ``fit.csv``
(or, in the Parquet format, the same tables as ``.parquet`` files), optionally
``samples.parquet``, one fan chart per series (``chart-<series>.png``), a copy of the
scenario file (``scenario.toml``) and ``manifest.json`` (:func:`manifest`, built with
:func:`simulate.outputs.provenance.manifest`). It is built in a hidden temporary directory
beside the target, validated with :func:`simulate.outputs.validation.validate_run`, and only
then renamed into place: a reader sees a complete, valid run or none. An existing run
directory is replaced only with ``force=True`` (and then only once the new one is complete).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import polars as pl
from polars.io.plugins import register_io_source

from ..errors import RunInvalidError
from ..fingerprint import numerical_platform
from ..pipeline import RunResult
from ..scenarios import TableFormat
from ..summaries import (
    contrast_blocks,
    contrasts_table,
    fit_table,
    projection_blocks,
    samples_table,
    summary_table,
)
from . import provenance
from .atomic import building_dir
from .backtestnote import backtest_record, resolve_backtest
from .chartdata import chart_data
from .provenance import data_block, describe_files
from .report import report_html
from .validation import CSV_NULL, MANIFEST, validate_run

__all__ = [
    "RunInvalidError",
    "write_run",
    "validate_run",
    "manifest",
    "MANIFEST",
    "PARQUET_OPTIONS",
]

#: How every Parquet table is written: fixed settings (no statistics, fixed compression and row
#: groups), so that the same run gives the same bytes however its tables were produced.
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 3,
    "statistics": False,
    "row_group_size": 65_536,
}


def manifest(
    result: RunResult,
    files: dict[str, dict[str, Any]],
    *,
    table_format: TableFormat = "csv",
    backtest: Path | None = None,
) -> dict[str, Any]:
    """The manifest of a run: what was run, on what, by which versions, and the files
    (`table_format`: how its tables were written; `backtest`: the backtest directory its
    report cites, recorded with its summary's SHA-256)."""
    p = result.prepared
    sf = p.scenario_file
    here = numerical_platform()
    run = {
        "name": sf.run.name,
        "seed": p.seed,
        "seed_in_file": sf.run.seed,
        "paths": p.paths,
        "samples": result.samples,
        "format": table_format,
        "as_of": None if sf.run.as_of is None else sf.run.as_of.isoformat(),
        "horizon": sf.run.horizon,
        "end": None if sf.run.end is None else sf.run.end.isoformat(),
        # parts of the file the data left without effect (only present when there are some,
        # so runs without any keep their manifests as they were)
        **({"warnings": list(p.warnings)} if p.warnings else {}),
        **({"backtest": backtest_record(backtest)} if backtest is not None else {}),
    }
    series = [
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
            **({"platforms": list(r.platforms)} if any(fp != here for fp in r.platforms) else {}),
        }
        for r in sorted(result.results, key=lambda r: r.series.name)
    ]
    return provenance.manifest(
        "attrition",
        reported_by=result.reported_by,
        seed=p.seed,
        about={
            "run": run,
            "scenario_file": {
                "path": sf.source,
                "sha256": p.scenario_sha256,
                "copy": "scenario.toml",
            },
        },
        data=data_block(p.data, sf.data.policy),
        details={
            "model": "auto" if sf.auto_model else sf.model.to_dict(),
            "scenarios": sorted(s.name for s in sf.scenarios),
            "reference": sf.reference.name,
            "series": series,
        },
        outputs=files,
        timings={
            **result.timings,
            **{f"series_seconds.{r.series.name}": r.seconds for r in result.results},
        },
    )


def _write_csv(frame: pl.DataFrame, path: Path) -> None:
    frame.write_csv(path, null_value=CSV_NULL, date_format="%Y-%m-%d")


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
                            null_value=CSV_NULL, date_format="%Y-%m-%d")  # fmt: skip
            rows += block.height
        if fh.tell() == 0 and empty is not None:  # no rows: the header alone
            empty(result).write_csv(fh, null_value=CSV_NULL, date_format="%Y-%m-%d")
    return rows


def _sink_parquet(
    path: Path,
    blocks: Iterator[pl.DataFrame],
    empty: Callable[[RunResult], pl.DataFrame] | None,
    result: RunResult,
) -> int:
    """Write a Parquet file block by block; return the number of rows.

    Polars' streaming engine pulls the blocks one at a time from a lazy source and writes row
    groups of ``PARQUET_OPTIONS["row_group_size"]`` rows: memory stays at about a block and a
    row group, and the bytes do not depend on how the rows were cut into blocks.
    """
    first = next(blocks, None)
    if first is None:  # no rows: the columns alone
        (pl.DataFrame() if empty is None else empty(result)).write_parquet(path, **PARQUET_OPTIONS)
        return 0
    rows = 0

    def source(
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        n_rows: int | None,
        batch_size: int | None,
    ) -> Iterator[pl.DataFrame]:
        # Only ever sunk whole: no column selection, filter or row limit is pushed into it.
        nonlocal rows
        for block in itertools.chain([first], blocks):
            rows += block.height
            yield block

    register_io_source(source, schema=first.schema).sink_parquet(path, **PARQUET_OPTIONS)
    return rows


def write_run(
    result: RunResult,
    out_dir: str | os.PathLike[str],
    *,
    force: bool = False,
    charts: bool | None = None,
    chart_maker: Callable[..., bytes] | None = None,
    table_format: TableFormat | None = None,
    backtest: str | os.PathLike[str] | None = None,
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
    table_format
        ``csv`` or ``parquet``: write the four tables as ``.csv`` or ``.parquet`` files
        (:data:`PARQUET_OPTIONS`); default: the scenario file's ``outputs.format``.
    backtest
        A backtest directory of the run's model and series, for the report's sentence on
        calibration (default: the scenario file's ``outputs.backtest``, if any).

    Raises
    ------
    OutputExistsError
        `out_dir` exists and `force` is false, another process is writing it, or it appeared
        while this one was written.
    OutputError
        A file-system error (``{out_dir}/projections.csv: No space left on device``); nothing
        is left behind then, and an existing `out_dir` is as it was.
    RunInvalidError
        The new files failed validation (nothing is written then).
    """
    target = Path(out_dir)
    fmt = result.scenario_file.outputs.format if table_format is None else table_format
    cited = resolve_backtest(result.scenario_file, backtest)
    with building_dir(target, force=force) as tmp:
        files = _write_files(result, tmp, charts, chart_maker, fmt, cited)
        doc = manifest(result, files, table_format=fmt, backtest=cited)
        (tmp / MANIFEST).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        problems = validate_run(tmp)
        if problems:
            raise RunInvalidError(
                f"{target}: the run's own files failed validation ({len(problems)} problems); "
                f"first: {problems[0]}"
            )
    return target


def _write_files(
    result: RunResult,
    tmp: Path,
    charts: bool | None,
    chart_maker: Callable[..., bytes] | None,
    fmt: TableFormat = "csv",
    backtest: Path | None = None,
) -> dict[str, dict[str, Any]]:
    sf = result.scenario_file
    files: dict[str, dict[str, Any]] = {}
    # The two big tables are written block by block: memory stays at one block.
    write_blocks = _sink_parquet if fmt == "parquet" else _write_blocks
    for name, blocks, empty in (
        (f"projections.{fmt}", projection_blocks(result), None),
        (f"contrasts.{fmt}", contrast_blocks(result), contrasts_table),
    ):
        files[name] = {"rows": write_blocks(tmp / name, blocks, empty, result)}
    tables: dict[str, pl.DataFrame] = {
        f"summary.{fmt}": summary_table(result),
        f"fit.{fmt}": fit_table(result),
    }
    if result.samples:
        tables["samples.parquet"] = samples_table(result)
    for name, frame in tables.items():
        path = tmp / name
        if name.endswith(".parquet"):
            frame.write_parquet(path, **PARQUET_OPTIONS)
        else:
            _write_csv(frame, path)
        files[name] = {"rows": frame.height}
    for r in sorted(result.results, key=lambda r: r.series.name):
        name = f"chart-data-{r.series.name}.csv"
        frame = chart_data(result, r)
        # empty cells, not NA: chart tools read an empty cell as "no value"
        frame.write_csv(tmp / name, null_value="", date_format="%Y-%m-%d")
        files[name] = {"rows": frame.height}
    if Path(sf.source).is_file():
        shutil.copyfile(sf.source, tmp / "scenario.toml")
        files["scenario.toml"] = {}
    pngs: dict[str, bytes] = {}
    swept_pngs: dict[str, bytes] = {}
    if sf.outputs.charts if charts is None else charts:
        if chart_maker is None:
            from .charts import fan_chart

            chart_maker = fan_chart
        from .charts import reported_after

        for r in sorted(result.results, key=lambda r: r.series.name):
            name = f"chart-{r.series.name}.png"
            # a look-back run (run.as_of) also draws what was reported after its origin
            after = reported_after(result.prepared.data, r.series.name, r.model.origin)
            png = chart_maker(r, reference=sf.reference.name, title_run=sf.run.name,
                              reported_after=after)  # fmt: skip
            (tmp / name).write_bytes(png)
            files[name] = {}
            pngs[r.series.name] = png
            if sf.swept:
                from .sweepchart import sensitivity_chart

                swept = {k: dict(v) for k, v in sf.swept.items()}
                sens = sensitivity_chart(r, swept, reference=sf.reference.name,
                                         title_run=sf.run.name)  # fmt: skip
                if sens is not None:
                    (tmp / f"sensitivity-{r.series.name}.png").write_bytes(sens)
                    files[f"sensitivity-{r.series.name}.png"] = {}
                    swept_pngs[r.series.name] = sens
    page = report_html(result, pngs, backtest=backtest, sensitivity=swept_pngs)
    (tmp / "report.html").write_text(page, encoding="utf-8", newline="\n")
    files["report.html"] = {}
    return describe_files(tmp, dict(sorted(files.items())))
