"""Scenario files: their configuration, parsing and validation, sweeps, adjustment maths.

A scenario file (TOML) says what to run: ``[run]`` (name, seed, paths, horizon or end date,
``as_of``), ``[data]`` (source, series, reporter, data policy), ``[model]`` (kind, window,
options), one or more ``[[scenario]]`` blocks with a list of adjustments, ``[outputs]``
(quantile levels, thresholds, charts) and optional ``[[sweep]]`` grids. One module per job:

* :mod:`.config` — the validated configuration (frozen dataclasses) and its constants;
* :mod:`.rules`, :mod:`.keys` — the kinds of value and the keys of each table, declared once;
* :mod:`.parse` — reading TOML and validating it into a :class:`ScenarioFile`;
* :mod:`.sweep` — expanding ``[[sweep]]`` grids into scenarios;
* :mod:`.adjust` — the factors a scenario multiplies the projected intensity by;
* :mod:`.effect` — what a file asks for that the reported figures leave without effect;
* :mod:`.schema` — the JSON Schema of the format, written from the same declarations.

The configuration and the adjustment maths are imported with the package; parsing and the
schema only when first used, so that the engine (which needs :mod:`.adjust`) never imports
``tomllib``. No random numbers and no files other than the scenario file itself.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ..errors import ScenarioError
from . import config
from .adjust import adjustment_factors, factor_draw_spec, last_effective_day
from .config import *  # noqa: F403 - the config types are the package's own

if TYPE_CHECKING:
    from .parse import load_scenario_file, parse_scenario
    from .schema import scenario_json_schema

__all__ = [
    "ScenarioError",
    *(name for name in config.__all__ if name != "SAFE_NAME"),
    "load_scenario_file",
    "parse_scenario",
    "factor_draw_spec",
    "adjustment_factors",
    "last_effective_day",
    "scenario_json_schema",
]

#: Names imported on first use, and the module that holds each.
_LAZY = {
    "load_scenario_file": "parse",
    "parse_scenario": "parse",
    "scenario_json_schema": "schema",
}


def __getattr__(name: str) -> Any:
    # Parsing imports tomllib: loaded only when asked for (PEP 562).
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
