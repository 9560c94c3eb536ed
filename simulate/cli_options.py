"""Option parsing shared by the command modules (no commands here)."""

from __future__ import annotations

import click

__all__ = ["comma_list"]


def comma_list(value: str | None, what: str) -> list[str] | None:
    """``"a, b,c"`` -> ``["a", "b", "c"]``; None stays None; an empty list is a usage error
    (``expected one or more <what> separated by commas``)."""
    if value is None:
        return None
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise click.BadParameter(f"expected one or more {what} separated by commas")
    return names
