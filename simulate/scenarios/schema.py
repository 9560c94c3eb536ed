"""The JSON Schema of the scenario file format, for editors, written from its declarations.

Nothing here restates a rule: :func:`scenario_json_schema` walks the keys declared in
:mod:`simulate.scenarios.keys`, the same declarations :mod:`simulate.scenarios.parse` checks
files against.
"""

from __future__ import annotations

from typing import Any

from .keys import FILE

__all__ = ["scenario_json_schema"]


def scenario_json_schema() -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) of the scenario file format, for editors.

    TOML dates appear as strings of format ``date``. The schema describes the shape; the
    rules that tie keys together (one of horizon/end, non-overlapping windows, at most one
    reference, which options a model kind takes) are only checked by
    :func:`simulate.scenarios.parse.parse_scenario`.

    Examples
    --------
    >>> schema = scenario_json_schema()
    >>> schema["properties"]["run"]["required"]
    ['name', 'seed']
    >>> schema["properties"]["data"]["properties"]["gaps"]
    {'enum': ['spread', 'raise'], 'default': 'spread'}
    """
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "attrition scenario file",
        **FILE.schema(),
    }
