"""``attrition explain FILE``: the fitted models and each scenario's median intensity per month."""

from __future__ import annotations

from pathlib import Path

import click
import polars as pl

from ..about import CAVEAT
from .exits import Command
from .formatting import g, render_fit
from .options import CACHE_HELP

__all__ = ["explain_cmd"]


@click.command("explain", cls=Command)
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Override run.seed.")
@click.option("--cache", type=click.Path(file_okay=False), default=None, help=CACHE_HELP)
def explain_cmd(file: str, seed: int | None, cache: str | None) -> None:
    """Print the fitted model(s) and each scenario's median intensity per month.

    Nothing is simulated beyond the intensity paths: this is the check before a run that the
    file says what you meant (windows, factors, dates).
    """
    from ..models import describe
    from ..pipeline import EXPLAIN_PATHS, explain, prepare

    prepared = prepare(Path(file), seed=seed, cache=cache)
    for line in prepared.warnings:
        click.echo(f"Warning: {line}", err=True)
    models, table = explain(prepared)
    sf = prepared.scenario_file
    reporter = prepared.data.reported_by
    click.echo(f"{sf.run.name} ({file}): figures as reported by {reporter}")
    click.echo(CAVEAT.format(reporter=reporter))
    names = sorted({s.name for s in sf.scenarios})
    header = "".join(f"{n + ('*' if n == sf.reference.name else ''):>16}" for n in names)
    for model in models:
        click.echo("")
        click.echo(f"series {model.series}")
        click.echo(render_fit(describe(model)))
        part = table.filter(pl.col("series") == model.series)
        click.echo(
            f"  median expected daily figure per month ({EXPLAIN_PATHS} intensity paths; "
            "reference marked *)"
        )
        click.echo(f"  {'month':<9}{'days':>5}{header}")
        for line in _month_rows(part, names):
            click.echo(line)


def _month_rows(part: pl.DataFrame, names: list[str]) -> list[str]:
    wide = part.pivot(on="scenario", index=["month", "days"], values="median_daily")
    return [
        f"  {row['month']:<9}{row['days']:>5}" + "".join(f"{g(row[n]):>16}" for n in names)
        for row in wide.iter_rows(named=True)
    ]
