"""``attrition run FILE_OR_DIR...``: run scenario files, one run directory each."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import polars as pl

from ..scenarios import TABLE_FORMATS
from .exits import Command
from .options import CACHE_HELP, ProgressBar, shown

if TYPE_CHECKING:
    from ..batch import Outcome

__all__ = ["run_cmd"]


@click.command("run", cls=Command)
@click.argument("files", nargs=-1, required=True, metavar="FILE_OR_DIR...")
@shown(
    "--out",
    "-o",
    type=click.Path(file_okay=False),
    default="outputs",
    help="Directory that receives one run directory per scenario file (named after run.name).",
)
@shown("--jobs", type=click.IntRange(min=1), default=1,
              help="Worker processes (each runs one series of one file at a time).")  # fmt: skip
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="Override every file's run.seed.")  # fmt: skip
@click.option("--paths", type=click.IntRange(min=1), default=None,
              help="Override every file's run.paths (simulated paths).")  # fmt: skip
@shown("--samples", type=click.IntRange(min=0), default=0,
              help="Also write N joint trajectories per scenario and series.")  # fmt: skip
@click.option("--charts/--no-charts", default=None,
              help="Override the files' outputs.charts (fan chart PNG per series).")  # fmt: skip
@click.option("--format", "table_format", type=click.Choice(TABLE_FORMATS), default=None,
              help="Write the tables as .csv or .parquet files (default: the files' "
              "outputs.format, else csv).")  # fmt: skip
@click.option("--backtest", type=click.Path(file_okay=False, exists=False), default=None,
              metavar="DIR", help="A backtest directory (attrition backtest -o DIR) of the same "
              "model and series: report.html says how often its 80% bands held the reported "
              "30- and 90-day totals. Overrides the files' outputs.backtest.")  # fmt: skip
@click.option("--force", is_flag=True, help="Replace existing run directories.")
@click.option("--resume", is_flag=True,
              help="Skip files whose run directory is complete and current (same scenario "
              "and data files, seed, paths, samples, charts, format, backtest, version); redo "
              "the others, reusing the tasks an interrupted run finished.")  # fmt: skip
@shown("--executor", type=click.Choice(["local", "dask"]), default="local",
       help="Local worker processes, or a Dask cluster.")  # fmt: skip
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Dask scheduler address (e.g. tcp://127.0.0.1:8786); default: a local "
              "cluster of --jobs workers.")  # fmt: skip
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary table.")
@click.option("--cache", type=click.Path(file_okay=False), default=None, help=CACHE_HELP)
def run_cmd(files: tuple[str, ...], quiet: bool, **kw: Any) -> None:
    """Run scenario files (or directories of them) and write one run directory each.

    Every file is validated before any work. A run directory holds projections.csv,
    contrasts.csv, summary.csv, fit.csv (.parquet with --format parquet), [samples.parquet],
    chart-<series>.png, chart-data-<series>.csv, report.html, scenario.toml and
    manifest.json; it is validated before it is moved into place. A failing file is reported
    and the others still run; the exit code is then non-zero (2: invalid file or existing
    output, 1: data or model failure).
    """
    from ..batch import run_batch

    kept: list[int] = []
    try:
        with ProgressBar("simulating", quiet=quiet) as bar:
            outcomes = run_batch(
                files, progress=bar.update, on_total=bar.start, on_interrupt=kept.append, **kw
            )
    except KeyboardInterrupt:
        # Run directories are renamed into place only when complete: nothing half-written.
        click.echo(f"\n{_interrupted(kept[0] if kept else 0)}", err=True)
        sys.exit(130)
    for o in outcomes:
        for line in o.warnings:
            click.echo(f"Warning: {line}", err=True)
        if o.error is None:
            _report_resume(o)
        if o.error is not None:
            click.echo(f"Error: {o.error}", err=True)
        elif o.skipped:
            if not quiet:
                click.echo(f"{o.run_dir}: already complete (--resume); left as it is")
        elif not quiet:
            assert o.headline is not None and o.reported_by is not None
            if o.resumed_tasks:
                click.echo(f"{o.run_dir}: {o.resumed_tasks} tasks kept from an interrupted run")
            click.echo(_render_headline(o.run_dir, o.headline, o.reported_by, o.seconds))
    code = max((o.exit_code for o in outcomes), default=0)
    if code:
        failed = sum(o.error is not None for o in outcomes)
        if len(outcomes) > 1:  # one file: its error line says it all
            click.echo(f"{failed} of {len(outcomes)} scenario files failed", err=True)
        sys.exit(code)


def _report_resume(o: Outcome) -> None:
    """What ``--resume`` found that the user did not ask for (shown even with --quiet, on
    stderr): an existing run made again, and why; kept results that were not used."""
    if o.redone:
        click.echo(f"{o.run_dir}: {o.redone}; recomputed", err=True)
    if o.discarded:
        n = o.discarded
        click.echo(f"{o.run_dir}: {n} kept result{'s' * (n != 1)} did not match and "
                   f"{'were' if n != 1 else 'was'} recomputed", err=True)  # fmt: skip


def _interrupted(kept: int) -> str:
    if not kept:
        return "interrupted: runs not yet written were abandoned"
    tasks = "task is" if kept == 1 else "tasks are"
    return (
        f"interrupted; {kept} finished {tasks} kept: run the same command with --resume to continue"
    )


def _render_headline(run_dir: Path | None, frame: pl.DataFrame, reporter: str, secs: float) -> str:
    """The answers of :func:`simulate.summaries.headline` in sentences: per series its last
    report used, then per scenario (in the file's order, the reference marked) what
    :func:`simulate.outputs.wording.scenario_sentences` says."""
    from ..outputs.provenance import projection_caveat
    from ..outputs.wording import RANGE_NOTE, scenario_sentences, series_sentence

    lines = [
        f"{run_dir}: written and validated in {secs:.1f} s",
        projection_caveat(reporter),
        RANGE_NOTE,
    ]
    for (_name,), rows in frame.group_by("series", maintain_order=True):
        first = rows.row(0, named=True)
        reference = rows.filter(pl.col("reference")).get_column("scenario")
        lines += ["", series_sentence(first)]
        ref = reference[0] if reference.len() else ""
        lines += [f"  {scenario_sentences(row, ref)}" for row in rows.iter_rows(named=True)]
    return "\n".join(lines)
