"""Options shared by the command modules: parsing callbacks, the input options, progress bars.

No commands here. Callbacks raise :class:`click.BadParameter` (a usage error, exit status 2).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from datetime import date
from types import TracebackType
from typing import Any, TypeVar

import click

from ..data import ReportedData, load_all
from ..data.readers import FORMATS

__all__ = [
    "DATE",
    "CACHE_HELP",
    "shown",
    "directory",
    "comma_list",
    "series_names",
    "model_kinds",
    "table_path",
    "input_options",
    "one_series_input_options",
    "load_inputs",
    "ProgressBar",
]

F = TypeVar("F", bound=Callable[..., Any])


def comma_list(value: str | None, what: str) -> list[str] | None:
    """``"a, b,c"`` -> ``["a", "b", "c"]``; None stays None; an empty list is a usage error
    (``expected one or more <what> separated by commas``)."""
    if value is None:
        return None
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise click.BadParameter(f"expected one or more {what} separated by commas")
    return names


class DateType(click.ParamType):  # type: ignore[type-arg,unused-ignore]  # generic from 8.2
    """A calendar date written ``YYYY-MM-DD`` (shown as ``DATE`` in ``--help``)."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a valid date; expected YYYY-MM-DD", param, ctx)


#: The type of every date option.
DATE = DateType()

#: The one description of ``--cache`` (fetched sources), wherever it appears.
CACHE_HELP = "Cache directory of fetched sources (default: $ATTRITION_CACHE or the user cache)."


def series_names(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> list[str] | None:
    """Callback: comma-separated series names."""
    return comma_list(value, "series names")


def model_kinds(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> list[str] | None:
    """Callback: comma-separated model kinds, each ``auto`` or one of
    :data:`simulate.models.MODEL_KINDS`."""
    from ..models import MODEL_KINDS

    kinds = comma_list(value, "models")
    for k in kinds or ():
        if k not in ("auto", *MODEL_KINDS):
            raise click.BadParameter(
                f"{k!r} is not a model; expected some of auto, {', '.join(MODEL_KINDS)}"
            )
    return kinds


def table_path(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    """Callback: an output table's file name, ending in .csv or .parquet."""
    if not value.lower().endswith((".csv", ".parquet")):
        raise click.BadParameter(
            f"{value!r} does not end in .csv or .parquet; expected one of those file types",
            param_hint="--out",
        )
    return value


_series_option = click.option(
    "--series",
    "series",
    callback=series_names,
    default=None,
    help="Comma-separated series to keep, e.g. personnel,tanks.",
)

_input_options = [
    click.option(
        "--kind",
        type=click.Choice(["cumulative", "daily"]),
        default=None,
        help="Value columns of a generic file hold cumulative totals or daily counts "
        "(default: detected per column).",
    ),
    click.option(
        "--layout",
        type=click.Choice(FORMATS),
        default=None,
        help="File layout (default: detected from the content).",
    ),
    click.option(
        "--date-column",
        default=None,
        help="Date column of a generic file (default: the column called 'date').",
    ),
    _series_option,
    click.option(
        "--reported-by",
        default=None,
        help="Who reported the figures of a generic file (recorded in every output).",
    ),
    click.option(
        "--cache",
        type=click.Path(file_okay=False),
        default=None,
        envvar=None,
        help=CACHE_HELP,
    ),
]


def input_options(f: F) -> F:
    """The options of commands that read reported figures (pass them to :func:`load_inputs`)."""
    for option in reversed(_input_options):
        f = option(f)
    return f


def one_series_input_options(f: F) -> F:
    """:func:`input_options` for a command about one series: ``--series`` takes one name."""
    for option in reversed(_input_options):
        if option is _series_option:
            option = click.option(
                "--series",
                "series",
                callback=_one_series,
                default=None,
                help="The one series to use, e.g. tanks (default: personnel).",
            )
        f = option(f)
    return f


def _one_series(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> list[str] | None:
    names = comma_list(value, "series names")
    if names is not None and len(names) != 1:
        raise click.BadParameter(f"name one series, got {len(names)}: {', '.join(names)}")
    return names


def load_inputs(data: Sequence[str], **kw: Any) -> list[ReportedData]:
    """:func:`simulate.data.load_all` of `data` with the values of :func:`input_options`."""
    return load_all(
        data,
        fmt=kw["layout"],
        kind=kw["kind"],
        date_column=kw["date_column"],
        series=kw.get("series"),
        reported_by=kw["reported_by"],
        cache=kw["cache"],
    )


class ProgressBar:
    """A progress bar on standard error, shown only on a terminal and without ``--quiet``.

    Use it as a context manager; it appears once :meth:`start` gives its length, and
    :meth:`update` is the ``progress`` callback of the library functions.
    """

    def __init__(self, label: str, *, quiet: bool) -> None:
        self.label = label
        self.shown = not quiet and sys.stderr.isatty()
        self._bar: Any = None

    def start(self, length: int) -> None:
        if self.shown and length and self._bar is None:
            self._bar = click.progressbar(length=length, label=self.label, file=sys.stderr)
            self._bar.__enter__()

    def update(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


def shown(*decls: str, **attrs: Any) -> Callable[[F], F]:
    """A Click option whose default is shown in ``--help`` (``show_default=True``)."""
    return click.option(*decls, show_default=True, **attrs)


def directory(*decls: str, help: str) -> Callable[[F], F]:
    """A Click option naming a directory (no default)."""
    return click.option(*decls, type=click.Path(file_okay=False), default=None, help=help)
