"""``attrition sources``: the known sources, who reported them, whether they are fetched."""

from __future__ import annotations

import click

from ..data.sources import SOURCES
from ..errors import AttritionError
from .exits import Command
from .options import CACHE_HELP, directory

__all__ = ["sources_cmd"]


@click.command("sources", cls=Command)
@directory("--cache", help=CACHE_HELP)
def sources_cmd(cache: str | None) -> None:
    """List the known sources, who reported their figures and whether they are fetched."""
    from ..data.fetching import fetched_files

    for name, src in SOURCES.items():
        if name == "example":
            state = "bundled"
        elif not src.fetchable:
            state = "read from a file you provide"
        else:
            try:
                got = fetched_files(name, dest=cache)
                state = f"fetched {min(f.retrieved_at for f in got)}"
            except AttritionError:
                state = "not fetched (attrition fetch " + name + ")"
        click.echo(
            f"{name:<13} {state}\n    {src.description}\n    reported by "
            f"{src.reported_by}; licence {src.licence}"
        )
