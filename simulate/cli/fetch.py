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
@click.option(
    "--from",
    "from_dir",
    type=click.Path(file_okay=False),
    default=None,
    metavar="DIR",
    help="Take the files from this local folder instead of downloading them (e.g. "
    "../shared/data/general-staff), with the same checks, hashes and index.",
)
@shown("--timeout", type=click.FloatRange(min=0.1), default=30.0,
       help="Seconds to wait for the server.")  # fmt: skip
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
def fetch_cmd(
    source: str | None,
    dest: str | None,
    mirror: str | None,
    from_dir: str | None,
    timeout: float,
    quiet: bool,
) -> None:
    """Download the public compilations (all fetchable sources, or SOURCE) into the cache, or
    take them from a local folder (--from)."""
    from ..data.fetching import fetch

    files = fetch(
        source,
        dest=dest,
        mirror=mirror,
        timeout=timeout,
        progress=not quiet and sys.stderr.isatty(),
        from_dir=from_dir,
    )
    if not quiet:
        for f in files:
            click.echo(
                f"{f.source}: {f.name} ({f.size:,} bytes, sha256 {f.sha256[:12]}…) -> {f.path}"
            )
