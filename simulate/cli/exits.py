"""How a command ends on a library error: the one map from errors to a message and exit status.

Commands raise; they do not catch. Any :class:`~simulate.errors.AttritionError` that leaves a
command becomes one line on standard error, ``Error: <message>``, and the exit status
:func:`simulate.errors.exit_code` gives it: 2 for a usage error (a file, source, series or
output named that cannot be used as named), 1 for a failed step on valid usage. Click's own
usage errors (a bad option value, a missing argument) keep Click's output and exit status 2.
"""

from __future__ import annotations

from typing import Any

import click

from ..errors import AttritionError, exit_code

__all__ = ["Command", "failure"]


def failure(error: AttritionError) -> click.ClickException:
    """Click's exception for `error`: its message on one line, ``Error: <message>``, and the
    exit status :func:`simulate.errors.exit_code` gives it.

    A usage error is a :class:`click.UsageError` without a context, so Click prints no
    ``Usage:`` lines before it: the message already names what to change.
    """
    if exit_code(error) == click.UsageError.exit_code:
        return click.UsageError(str(error), ctx=None)
    return click.ClickException(str(error))


class Command(click.Command):
    """A Click command whose library errors end it through :func:`failure`.

    Every command of ``attrition`` is one (``@click.command(..., cls=Command)``, and the
    group's ``command_class``), so the map applies also to a command invoked on its own, as
    the tests do with ``CliRunner().invoke(compare_cmd, ...)``.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AttritionError as exc:
            raise failure(exc) from None
