"""How a command ends on a library error: the one map from errors to a message and exit status.

Commands raise; they do not catch. Any :class:`~simulate.errors.AttritionError` that leaves a
command becomes one line on standard error, ``Error: <message>``, and the exit status
:func:`simulate.errors.exit_code` gives it: 2 for a usage error (a file, source, series or
output named that cannot be used as named), 1 for a failed step on valid usage. Click's own
usage errors (a bad option value, a missing argument) keep Click's output and exit status 2.
A file-system error (``OSError``, e.g. standard output on a full device) becomes one line
``Error: <path>: <reason>`` and exit status 1; a closed pipe (``| head -1``) ends quietly.
"""

from __future__ import annotations

import errno
import io
import os
import sys
from pathlib import Path
from typing import Any

import click

from ..errors import AttritionError, exit_code

__all__ = ["Command", "failure", "os_failure", "silence_stdout"]


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
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise  # Click ends quietly when the reader of standard output has gone
            raise click.ClickException(os_failure(exc)) from None


def os_failure(exc: OSError) -> str:
    """The one line for a file-system error that left a command, ``<path>: <reason>``.

    The writers of result files name their own paths (:class:`~simulate.errors.OutputError`);
    an ``OSError`` without a file name is, in a command, standard output that cannot be
    written (``> /dev/full``): it is then silenced, so that the interpreter's last flush does
    not fail again with a traceback.
    """
    reason = exc.strerror or str(exc)
    if exc.filename is not None:
        return f"{exc.filename}: {reason}"
    tb = exc.__traceback__
    while tb is not None:  # raised writing with click.echo: standard output
        code = tb.tb_frame.f_code
        if code.co_name in ("echo", "flush") and "click" in Path(code.co_filename).parts:
            silence_stdout()
            return f"standard output: {reason}"
        tb = tb.tb_next
    return reason


def silence_stdout() -> None:
    """Point standard output at the null device: what it still buffers is dropped quietly."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, io.UnsupportedOperation):
        return  # not a real file (e.g. Click's test runner): nothing to flush at exit
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, fd)
    os.close(null)
