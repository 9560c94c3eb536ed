"""``attrition validate RUN_DIR...``: check run directories as the scenario hubs do."""

from __future__ import annotations

import sys

import click

from .exits import Command

__all__ = ["validate_cmd"]


@click.command("validate", cls=Command)
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(), metavar="RUN_DIR...")
def validate_cmd(run_dirs: tuple[str, ...]) -> None:
    """Check run directories as the scenario hubs check submissions (exit 1 if any fails).

    A backtest directory is checked too: its manifest, files and hashes, and its tables.
    """
    from ..outputs.rundir import validate_run

    bad = 0
    for d in run_dirs:
        problems = validate_run(d)
        if problems:
            bad += 1
            click.echo(f"{d}: INVALID ({len(problems)} problems)")
            for p in problems:
                click.echo(f"  {p}")
        else:
            click.echo(f"{d}: valid")
    if bad:
        sys.exit(1)
