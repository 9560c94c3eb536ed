"""``attrition fetch [SOURCE]``: download the public compilations into the cache."""

from __future__ import annotations

import sys

import click

from .exits import Command
from .options import CACHE_HELP, directory, shown

__all__ = ["fetch_cmd"]


@click.command("fetch", cls=Command)
@click.argument("source", required=False)
@directory("--out", "-o", "dest", help="Where the files go: the c" + CACHE_HELP[1:])
@click.option(
    "--mirror",
    default=None,
    help="Base URL of a mirror holding SOURCE/FILE (default: $ATTRITION_MIRROR or the "
    "upstream repositories).",
)
@shown("--timeout", type=click.FloatRange(min=0.1), default=30.0,
       help="Seconds to wait for the server.")  # fmt: skip
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
def fetch_cmd(
    source: str | None, dest: str | None, mirror: str | None, timeout: float, quiet: bool
) -> None:
    """Download the public compilations (all fetchable sources, or SOURCE) into the cache."""
    from ..data.fetching import fetch

    files = fetch(
        source,
        dest=dest,
        mirror=mirror,
        timeout=timeout,
        progress=not quiet and sys.stderr.isatty(),
    )
    if not quiet:
        for f in files:
            click.echo(
                f"{f.source}: {f.name} ({f.size:,} bytes, sha256 {f.sha256[:12]}…) -> {f.path}"
            )
