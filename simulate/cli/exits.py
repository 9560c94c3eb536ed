"""How a command ends on a library error: the one map from errors to a message and exit status.

Commands raise; they do not catch. Any :class:`~simulate.errors.AttritionError` that leaves a
command becomes one line on standard error, ``Error: <message>``, and the exit status
:func:`simulate.errors.exit_code` gives it: 2 for a usage error (a file, source, series or
output named that cannot be used as named), 1 for a failed step on valid usage. Click's own
usage errors (a bad option value, a missing argument) keep Click's output and exit status 2.
"""

from __future__ import annotations

from typing import Any, ClassVar

import click

from ..errors import AttritionError, exit_code

__all__ = ["Command", "UsageCommand", "failure"]


def failure(error: AttritionError, *, usage: bool | None = None) -> click.ClickException:
    """Click's exception for `error`: its message on one line, ``Error: <message>``, and the
    exit status :func:`simulate.errors.exit_code` gives it (or 2 if `usage`, 1 if not).

    A usage error is a :class:`click.UsageError` without a context, so Click prints no
    ``Usage:`` lines before it: the message already names what to change.
    """
    status = exit_code(error) if usage is None else (2 if usage else 1)
    if status == click.UsageError.exit_code:
        return click.UsageError(str(error), ctx=None)
    return click.ClickException(str(error))


class Command(click.Command):
    """A Click command whose library errors end it through :func:`failure`.

    Every command of ``attrition`` is one (``@click.command(..., cls=Command)``, and the
    group's ``command_class``), so the map applies also to a command invoked on its own, as
    the tests do with ``CliRunner().invoke(compare_cmd, ...)``.
    """

    #: Every library error leaving the command is a usage error (see :class:`UsageCommand`).
    every_error_is_usage: ClassVar[bool] = False

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AttritionError as exc:
            raise failure(exc, usage=True if self.every_error_is_usage else None) from None


class UsageCommand(Command):
    """A command over a library call that reports every failed step in its result and raises
    only for how it was asked: whatever it raises is a usage error (exit status 2).

    ``attrition run``: :func:`simulate.batch.run_batch` gives one outcome per file (with its
    own exit status) and raises for no scenario files, or an executor that cannot be used
    (some of those errors are of the base class, e.g. a Dask scheduler that cannot be reached).
    """

    every_error_is_usage = True
