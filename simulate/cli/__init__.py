"""The `attrition` command line: parse, call one library function, report.

No computation lives here: one module per command (``check``, ``series``, ``fit``, ``run``,
``explain``, ``validate``, ``backtest``, ``fetch``, ``sources``, ``compare``), the options they
share in :mod:`.options`, and the one map from library errors to a one-line message and an
exit status in :mod:`.exits` (2 for usage errors, 1 otherwise; see
:func:`simulate.errors.exit_code`).
"""

from __future__ import annotations

import errno
import sys

import click

from ..about import __version__
from .backtest import backtest_cmd
from .check import check_cmd
from .compare import compare_cmd
from .exits import Command, os_failure, silence_stdout
from .explain import explain_cmd
from .fetch import fetch_cmd
from .fit import fit_cmd
from .run import run_cmd
from .series import series_cmd
from .sources import sources_cmd
from .validate import validate_cmd

__all__ = ["main", "cli"]

COMMANDS: tuple[click.Command, ...] = (
    check_cmd,
    series_cmd,
    fit_cmd,
    run_cmd,
    explain_cmd,
    validate_cmd,
    backtest_cmd,
    fetch_cmd,
    sources_cmd,
    compare_cmd,
)


class _Group(click.Group):
    # Commands made with ``@cli.command`` end through the one error map too.
    command_class = Command


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="attrition")
def cli() -> None:
    """Fit simple models to publicly reported daily attrition figures.

    attrition models the REPORTED numbers, not ground truth: every output says whose
    figures it models.
    """


for _command in COMMANDS:
    cli.add_command(_command)


def main() -> None:
    """Entry point of the `attrition` console script."""
    try:
        cli(prog_name="attrition")
    except OSError as error:
        # Raised before any command runs: --help or --version written to a full device or
        # to a reader that has gone.
        if error.errno != errno.EPIPE:
            click.echo(f"Error: {os_failure(error)}", err=True)
        silence_stdout()
        raise SystemExit(1) from None
    except SystemExit as exc:
        # Flushed here, where a failure can still be reported, not at interpreter exit.
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            silence_stdout()
        except OSError as error:
            click.echo(f"Error: standard output: {error.strerror or error}", err=True)
            silence_stdout()
            raise SystemExit(exc.code or 1) from None
        raise
