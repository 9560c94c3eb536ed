"""``attrition backtest``: a rolling-origin backtest, planned and run by the pipeline."""

from __future__ import annotations

from datetime import date

import click

from ..outputs.atomic import reserve
from .exits import Command
from .options import CACHE_HELP, DATE, ProgressBar, model_kinds, series_names, shown

__all__ = ["backtest_cmd"]


@click.command("backtest", cls=Command)
@click.argument("inputs", nargs=-1, required=True, metavar="SCENARIO.toml | DATA...")
@click.option("--series", "series", callback=series_names, default=None,
              help="Series to backtest (default: the file's, or personnel).")  # fmt: skip
@click.option("--models", callback=model_kinds, default=None,
              help="Models to compare, e.g. auto,analog,local-trend (default: the file's "
              "model, or auto). naive and bootstrap always run as baselines.")  # fmt: skip
@click.option("--window", type=click.IntRange(min=14), default=None,
              help="Fit window in days (default: the file's, or 180).")  # fmt: skip
@shown("--every", type=click.IntRange(min=1), default=28,
              help="Days between origins.")  # fmt: skip
@shown("--horizon", type=click.IntRange(min=7), default=90,
              help="Days projected from each origin.")  # fmt: skip
@click.option("--start", type=DATE, default=None,
              help="First origin (default: two years before the last report).")  # fmt: skip
@click.option("--end", type=DATE, default=None,
              help="Last origin (default: the last report minus the horizon).")  # fmt: skip
@click.option("--train-start", type=DATE, default=None,
              help="Ignore figures before this date (the data policy's start).")  # fmt: skip
@shown("--paths", type=click.IntRange(min=100), default=2000,
       help="Paths simulated from each origin.")  # fmt: skip
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="Seed (default: the file's run.seed, or 0).")  # fmt: skip
@click.option("--out", "-o", type=click.Path(file_okay=False), default=None,
              help="Output directory (default: outputs/<name>-backtest).")  # fmt: skip
@shown("--charts/--no-charts", default=True,
       help="Write reliability.png and bands-<series>.png.")  # fmt: skip
@click.option("--force", is_flag=True, help="Replace an existing output directory.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary table.")
@click.option("--cache", type=click.Path(file_okay=False), default=None, help=CACHE_HELP)
def backtest_cmd(
    inputs: tuple[str, ...],
    series: list[str] | None,
    models: list[str] | None,
    window: int | None,
    every: int,
    horizon: int,
    start: date | None,
    end: date | None,
    train_start: date | None,
    paths: int,
    seed: int | None,
    out: str | None,
    charts: bool,
    force: bool,
    quiet: bool,
    cache: str | None,
) -> None:
    """Rolling-origin backtest: fit on the figures reported up to each origin, project,
    and score against what was reported afterwards.

    Give a scenario file (its data, series, data policy and model) or data files / source
    names with --series and --models. Writes scores.csv, summary.csv, pit.csv, reliability.png,
    bands-<series>.png and manifest.json, and prints coverage and skill per series (each
    skill with its 90% bootstrap interval over origins).
    """
    from ..evaluation.backtest import summarise
    from ..outputs.backtestdir import render_summary, write_backtest
    from ..pipeline import plan_backtest, run_backtest

    plan = plan_backtest(
        inputs, series=series, models=models, window=window, every=every, horizon=horizon,
        start=start, end=end, train_start=train_start, n_paths=paths, seed=seed, out=out,
        cache=cache,
    )  # fmt: skip
    if not plan.origins:
        raise click.BadParameter("no origin between --start and --end leaves a full horizon")
    # Held from the check, before any fitting, to the rename: a second backtest into the same
    # folder fails at once, and an unwritable folder is found before the work.
    with reserve(plan.out, force=force, directory=True):
        with ProgressBar("backtesting", quiet=quiet) as bar:
            bar.start(len(plan.origins) * len(plan.series))
            result = run_backtest(plan, progress=bar.update)
        write_backtest(result, plan.out, reference_model=plan.reference_model, force=force,
                       charts=charts, config=plan.config, data=plan.data,
                       policy=plan.policy)  # fmt: skip
    if not quiet:
        click.echo(f"{plan.out}: {len(result.origins)} origins x {len(plan.series)} series in "
                   f"{result.seconds:.1f} s")  # fmt: skip
        click.echo(render_summary(summarise(result.scores, seed=result.seed), result.reported_by))
        for f in result.failures:
            click.echo(f"skipped: {f}", err=True)
