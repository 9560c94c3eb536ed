"""How a command ends on a library error: the one map from errors to a message and exit status.

Commands raise; they do not catch. Any :class:`~simulate.errors.AttritionError` that leaves a
command becomes one line on standard error, ``Error: <message>``, and the exit status
:func:`simulate.errors.exit_code` gives it: 2 for a usage error (a file, source, series or
output named that cannot be used as named), 1 for a failed step on valid usage. Click's own
usage errors (a bad option value, a missing argument) keep Click's output and exit status 2.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from ..errors import AttritionError, exit_code

__all__ = ["Command", "Failure", "UsageFailure", "failure", "usage_errors"]


class Failure(click.ClickException):
    """A library error as Click shows it: ``Error: <message>``, exit status 1."""

    exit_code = 1


class UsageFailure(Failure):
    """A library error that is a usage error: ``Error: <message>``, exit status 2."""

    exit_code = 2


def failure(error: AttritionError, *, usage: bool | None = None) -> Failure:
    """The one-line :class:`Failure` for `error`, with the exit status
    :func:`simulate.errors.exit_code` gives it (or, if `usage` is given, 2 if `usage` else 1)."""
    status = exit_code(error) if usage is None else (2 if usage else 1)
    return (UsageFailure if status == UsageFailure.exit_code else Failure)(str(error))


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


@contextmanager
def usage_errors() -> Iterator[None]:
    """Treat every :class:`AttritionError` raised inside as a usage error (exit status 2).

    For library calls whose contract is that they raise only for how they were asked and
    report every failed step in their result (:func:`simulate.batch.run_batch`): some of
    those errors are of the base class (e.g. a Dask scheduler that cannot be reached).
    """
    try:
        yield
    except AttritionError as exc:
        raise failure(exc, usage=True) from None
