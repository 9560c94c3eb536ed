"""``[[sweep]]`` grids: one template scenario expanded into one scenario per grid point.

Each ``[[sweep]]`` names a scenario, a key path inside it (``set = "adjust[0].factor"``) and
the values to put there; sweeps of one scenario multiply. The template is replaced by one
scenario per grid point, named ``<template>.<key>-<value>...`` (or ``<template>.<n>`` when that
is not a valid name or is taken), in grid order. Each expanded scenario is validated like a
written one, its messages naming the sweep and the grid point.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from .config import MAX_SCENARIOS, SAFE_NAME, Scenario
from .keys import SWEEP, SWEEPS
from .rules import Fail, show

__all__ = ["expand", "key_path"]

#: Validates one expanded scenario (a raw table), `where` naming it in messages.
Check = Callable[[Any, str], Scenario]

_PATH_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)")


def key_path(text: str) -> list[str | int] | None:
    """``adjust[0].factor`` -> ``["adjust", 0, "factor"]``; None when malformed.

    Examples
    --------
    >>> key_path("adjust[0].factor")
    ['adjust', 0, 'factor']
    >>> key_path("adjust[0]..factor") is None
    True
    """
    out: list[str | int] = []
    for part in text.split("."):
        m = _PATH_PART.fullmatch(part)
        if m is None:
            return None
        out.append(m.group(1))
        out += [int(x) for x in re.findall(r"\[(\d+)\]", m.group(2))]
    return out


def _parent(doc: Any, keys: Sequence[str | int]) -> Any:
    """The table that holds the last key of `keys` in `doc` (None when a step is missing)."""
    node = doc
    for k in keys[:-1]:
        in_list = isinstance(k, int) and isinstance(node, list) and 0 <= k < len(node)
        in_table = isinstance(k, str) and isinstance(node, Mapping) and k in node
        if not (in_list or in_table):
            return None
        node = node[k]
    return node if isinstance(node, dict) else None


Axis = tuple[str, list[str | int], list[Any]]


def expand(
    value: Any,
    raw: Sequence[Any],
    scenarios: tuple[Scenario, ...],
    fail: Fail,
    check: Check,
) -> tuple[tuple[Scenario, ...], dict[str, dict[str, str]]]:
    """The scenarios once the sweeps in `value` are expanded, and what each swept one set.

    Parameters
    ----------
    value
        The file's ``sweep`` (raw).
    raw
        The file's ``scenario`` array (raw), the templates.
    scenarios
        The validated scenarios, in the same order.
    fail
        Makes the error for a key path and a message.
    check
        Validates one expanded scenario.

    Returns
    -------
    tuple
        The scenarios (templates replaced by their expansions) and, for each swept scenario,
        ``{key path: value as text}``.
    """
    grids = _grids(value, raw, scenarios, fail)
    out: list[Scenario] = []
    swept: dict[str, dict[str, str]] = {}
    taken = {sc.name for sc in scenarios if sc.name not in grids}
    for i, sc in enumerate(scenarios):
        if sc.name not in grids:
            out.append(sc)
            continue
        axes = grids[sc.name]
        for n, point in enumerate(itertools.product(*(a[2] for a in axes))):
            item = copy.deepcopy(raw[i])
            label = sc.name
            params: dict[str, str] = {}
            for (text, keys, _), v in zip(axes, point, strict=True):
                parent = _parent(item, keys)
                assert parent is not None
                parent[keys[-1]] = v
                shown = v.isoformat() if isinstance(v, date) else str(v)
                params[text] = shown
                label += f".{keys[-1]}-{shown}"
            if not SAFE_NAME.fullmatch(label) or label in taken:
                label = f"{sc.name}.{n}"
            item["name"] = label
            item.pop("reference", None)
            out.append(check(item, f"sweep of scenario {sc.name!r} at {params}"))
            taken.add(label)
            swept[label] = params
        if len(out) > MAX_SCENARIOS:
            raise fail("sweep", f"expands to more than {MAX_SCENARIOS} scenarios")
    return tuple(out), swept


def _grids(
    value: Any, raw: Sequence[Any], scenarios: tuple[Scenario, ...], fail: Fail
) -> dict[str, list[Axis]]:
    """The axes of each swept scenario, by name, after checking every ``[[sweep]]``."""
    by_name = {sc.name: i for i, sc in enumerate(scenarios)}
    grids: dict[str, list[Axis]] = {}
    for k, item in enumerate(SWEEPS.items_of(value, "sweep", fail)):
        path = f"sweep[{k}]"
        t = SWEEP.keys_of(item, path, fail)
        name = SWEEP.get(t, "scenario", path, fail)
        if name not in by_name:
            raise fail(
                f"{path}.scenario", f"no scenario is named {name!r}; names: {', '.join(by_name)}"
            )
        if scenarios[by_name[name]].reference:
            raise fail(f"{path}.scenario", f"{name!r} is the reference scenario; sweep another one")
        keys = key_path(SWEEP.get(t, "set", path, fail))
        if keys is None or not keys or not isinstance(keys[-1], str):
            raise fail(
                f"{path}.set", f"must be a key path such as adjust[0].factor, got {show(t['set'])}"
            )
        if _parent(raw[by_name[name]], keys) is None:
            raise fail(f"{path}.set", f"scenario {name!r} has no {show(t['set'])}")
        values = SWEEP.get(t, "values", path, fail)
        grids.setdefault(name, []).append((str(t["set"]), keys, list(values)))
    return grids
