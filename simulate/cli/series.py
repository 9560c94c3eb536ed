"""``attrition series DATA... -o OUT``: the validated daily series under a data policy."""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from ..data import DataPolicy
from ..data.policy import CHOICES as POLICY_CHOICES
from ..outputs.seriesfile import write_series
from .exits import Command
from .options import DATE, input_options, load_inputs, shown, table_path

__all__ = ["series_cmd"]


@click.command("series", cls=Command)
@click.argument("data", nargs=-1, required=True)
@input_options
@click.option(
    "--out",
    "-o",
    type=click.Path(dir_okay=False),
    callback=table_path,
    required=True,
    help="Output file: .csv or .parquet; OUT.provenance.json is written beside it.",
)
@shown(
    "--gaps",
    type=click.Choice(POLICY_CHOICES["gaps"]),
    default="spread",
    help="Missing days: spread the change over them, or fail.",
)
@shown(
    "--corrections",
    type=click.Choice(POLICY_CHOICES["corrections"]),
    default="keep",
    help="Negative daily figures: keep as reported, or spread "
    "over the preceding --correction-window days.",
)
@shown("--correction-window", type=click.IntRange(min=1), default=7,
       help="Days before a correction (a negative daily figure) it is netted against.")  # fmt: skip
@click.option(
    "--repair",
    is_flag=True,
    help="Replace likely transcription slips with the totals that repair them.",
)
@click.option("--start", type=DATE, default=None, help="Drop figures before this date.")
@click.option("--force", is_flag=True, help="Replace existing output files.")
def series_cmd(
    data: tuple[str, ...],
    out: str,
    gaps: str,
    corrections: str,
    correction_window: int,
    repair: bool,
    start: date | None,
    force: bool,
    **kw: Any,
) -> None:
    """Write the validated daily series (one row per series and day) under a data policy.

    Every filled, spread or repaired day is flagged in the 'flags' column.
    """
    policy = DataPolicy(
        gaps=gaps,  # type: ignore[arg-type]  # Click's Choice has checked the value
        corrections=corrections,  # type: ignore[arg-type]
        correction_window=correction_window,
        slips="repair" if repair else "keep",
        start=start,
    )
    written = write_series(load_inputs(data, **kw), out, policy=policy, force=force)
    click.echo(
        f"wrote {written.rows} rows to {out} (provenance in {out}.provenance.json)", err=True
    )
