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
    "shown",
    "directory",
    "comma_list",
    "parse_date",
    "series_names",
    "model_kinds",
    "table_path",
    "input_options",
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


def parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    """Callback: ``YYYY-MM-DD`` -> :class:`~datetime.date`."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a valid date; expected YYYY-MM-DD") from None


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
    click.option(
        "--series",
        "series",
        callback=series_names,
        default=None,
        help="Comma-separated series to keep, e.g. personnel,tanks.",
    ),
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
        help="Cache directory of fetched sources (default: $ATTRITION_CACHE or the user cache).",
    ),
]


def input_options(f: F) -> F:
    """The options of commands that read reported figures (pass them to :func:`load_inputs`)."""
    for option in reversed(_input_options):
        f = option(f)
    return f


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
