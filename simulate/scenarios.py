"""Scenario files: parse, validate and apply the adjustments to the projected intensity.

A scenario file (TOML) says what to run: ``[run]`` (name, seed, paths, horizon or end date,
``as_of``), ``[data]`` (source, series, reporter, data policy), ``[model]`` (kind, window,
options), one or more ``[[scenario]]`` blocks with a list of adjustments, and ``[outputs]``
(quantile levels, thresholds, charts). The whole file is validated before anything else
happens; the first problem found is raised as one :class:`ScenarioError` whose message is a
single line ``{file}: {key.path}: {what is wrong}``, for example::

    scenarios/x.toml: scenario[1].adjust[0].factor: must be > 0, got -2

Indices in key paths are 0-based. This module draws no random numbers and reads no file
other than the scenario file itself: uncertain factors are described by
:func:`factor_draw_spec` and drawn by the engine from its own streams, then passed back to
:func:`adjustment_factors`.

Adjustments (every date is a TOML date, windows include both ends)

``multiply``  ``factor`` from ``start`` to ``end`` (open-ended without ``end``).
``ramp``      from ``start`` to ``end`` the factor changes linearly from ``from`` to ``to``;
              1 before ``start``, ``to`` after ``end``.
``decay``     from ``start`` the factor halves every ``half_life`` days.
``ceasefire`` from ``start`` the factor is ``residual``; with ``breakdown_per_day`` = p > 0
              each day of ceasefire breaks down with probability p, after which the factor is
              back to 1 (the engine draws the ceasefire's length per path).
``surge``     for ``days`` days from ``start`` the factor is ``1 + extra``.

The factors of all adjustments of a scenario multiply. ``multiply.factor``, ``ramp.from``,
``ramp.to`` and ``surge.extra`` may be uncertain: ``{ uniform = [lo, hi] }`` or
``{ lognormal = { median = m, sd_log = s } }``, drawn once per path.
"""

from __future__ import annotations

import copy
import itertools
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from os import PathLike
from types import MappingProxyType
from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt

from .data.policy import CHOICES as POLICY_CHOICES
from .data.policy import DataPolicy
from .data.vocabulary import canonical_name
from .errors import ModelError, PolicyError, ScenarioError
from .models.spec import (
    DEFAULT_OPTIONS,
    DEFAULT_WINDOW,
    HUB_QUANTILES,
    MODEL_KINDS,
    ModelKind,
    ModelSpec,
)

__all__ = [
    "ScenarioError",
    "Uniform",
    "LogNormal",
    "Factor",
    "Multiply",
    "Ramp",
    "Decay",
    "Ceasefire",
    "Surge",
    "Adjustment",
    "Scenario",
    "RunConfig",
    "DataConfig",
    "OutputsConfig",
    "ScenarioFile",
    "FactorDraw",
    "HUB_QUANTILES",
    "ADJUSTMENT_TYPES",
    "load_scenario_file",
    "parse_scenario",
    "factor_draw_spec",
    "adjustment_factors",
    "scenario_json_schema",
]

#: Default number of simulated paths.
DEFAULT_PATHS = 10_000

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_SAFE_HELP = "letters, digits, '.', '_' or '-', starting with a letter or digit, at most 64"


# --------------------------------------------------------------------------------------
# The validated configuration


@dataclass(frozen=True)
class Uniform:
    """A factor drawn per path uniformly from ``[lo, hi]`` (``0 < lo <= hi``)."""

    lo: float
    hi: float


@dataclass(frozen=True)
class LogNormal:
    """A factor drawn per path as ``median * exp(sd_log * Z)``, ``Z`` standard normal."""

    median: float
    sd_log: float


Factor: TypeAlias = float | Uniform | LogNormal


@dataclass(frozen=True)
class Multiply:
    """Multiply the intensity by `factor` from `start` to `end` (inclusive; open without)."""

    factor: Factor
    start: date
    end: date | None = None
    type: Literal["multiply"] = "multiply"


@dataclass(frozen=True)
class Ramp:
    """Factor changing linearly from `start_factor` on `start` to `end_factor` on `end`.

    1 before `start`, `end_factor` after `end`. In the file the factors are ``from`` and ``to``.
    """

    start_factor: Factor
    end_factor: Factor
    start: date
    end: date
    type: Literal["ramp"] = "ramp"


@dataclass(frozen=True)
class Decay:
    """From `start` the factor halves every `half_life` days: ``0.5 ** (days / half_life)``."""

    half_life: float
    start: date
    type: Literal["decay"] = "decay"


@dataclass(frozen=True)
class Ceasefire:
    """From `start` the factor is `residual`; it breaks down with `breakdown_per_day` per day.

    With ``breakdown_per_day = p > 0`` the ceasefire lasts ``T`` days, ``T`` drawn per path
    from the geometric distribution on ``{1, 2, ...}`` with success probability ``p``; from
    day ``start + T`` the factor is back to 1.
    """

    start: date
    residual: float
    breakdown_per_day: float = 0.0
    type: Literal["ceasefire"] = "ceasefire"


@dataclass(frozen=True)
class Surge:
    """An offensive: the factor is ``1 + extra`` for `days` days from `start`."""

    start: date
    days: int
    extra: Factor
    type: Literal["surge"] = "surge"


Adjustment: TypeAlias = Multiply | Ramp | Decay | Ceasefire | Surge
ADJUSTMENT_TYPES: tuple[str, ...] = ("multiply", "ramp", "decay", "ceasefire", "surge")


@dataclass(frozen=True)
class Scenario:
    """A named list of adjustments to the projected intensity."""

    name: str
    adjust: tuple[Adjustment, ...] = ()
    reference: bool = False


@dataclass(frozen=True)
class RunConfig:
    """``[run]``: exactly one of `horizon` (days) and `end` is set."""

    name: str
    seed: int
    paths: int = DEFAULT_PATHS
    horizon: int | None = None
    end: date | None = None
    as_of: date | None = None


@dataclass(frozen=True)
class DataConfig:
    """``[data]``: where the figures come from and how to treat them."""

    source: str
    series: tuple[str, ...]
    reported_by: str | None = None
    policy: DataPolicy = field(default_factory=DataPolicy)


@dataclass(frozen=True)
class OutputsConfig:
    """``[outputs]``: quantile levels, thresholds of the cumulative total, charts."""

    quantiles: tuple[float, ...] = HUB_QUANTILES
    thresholds: tuple[int, ...] | Mapping[str, tuple[int, ...]] = ()
    charts: bool = True

    def thresholds_for(self, series: str) -> tuple[int, ...]:
        """The thresholds of one series: a plain list applies to every series."""
        if isinstance(self.thresholds, tuple):
            return self.thresholds
        return tuple(self.thresholds.get(series, ()))


@dataclass(frozen=True)
class ScenarioFile:
    """A validated scenario file.

    Attributes
    ----------
    source
        The file it was read from (or the label given to :func:`parse_scenario`).
    scenarios
        At least one; names unique; exactly one has ``reference=True``.
    """

    source: str
    run: RunConfig
    data: DataConfig
    model: ModelSpec
    scenarios: tuple[Scenario, ...]
    outputs: OutputsConfig = field(default_factory=OutputsConfig)
    #: ``kind = "auto"``: each series' model is chosen when the file runs (``model`` then
    #: carries only the window).
    auto_model: bool = False
    #: Scenarios made by ``[[sweep]]``: name -> {key path: value (as text)}.
    swept: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def reference(self) -> Scenario:
        """The scenario the others are contrasted with."""
        return next(s for s in self.scenarios if s.reference)


# --------------------------------------------------------------------------------------
# Reading and validating


def load_scenario_file(path: str | PathLike[str]) -> ScenarioFile:
    """Read and validate a scenario file.

    Parameters
    ----------
    path
        A TOML file.

    Returns
    -------
    ScenarioFile

    Raises
    ------
    ScenarioError
        The file cannot be read, is not valid TOML (``{file}: line N: invalid TOML (...)``)
        or not a valid scenario file (``{file}: {key.path}: {message}``).
    """
    label = str(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise ScenarioError(label, "", f"cannot be read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(label, "", f"is not UTF-8 text ({exc.reason})") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(label, exc, text.count("\n") + 1) from None
    return parse_scenario(doc, source=label)


def _toml_error(label: str, exc: tomllib.TOMLDecodeError, last_line: int) -> ScenarioError:
    text = str(exc)
    found = re.search(r"\s*\(at line (\d+), column (\d+)\)\s*$", text)
    if found:
        reason = f"{text[: found.start()]} at column {found.group(2)}"
        return ScenarioError(label, f"line {found.group(1)}", f"invalid TOML ({reason})")
    reason = re.sub(r"\s*\(at end of document\)\s*$", " at end of file", text)
    return ScenarioError(label, f"line {last_line}", f"invalid TOML ({reason})")


def parse_scenario(doc: Mapping[str, Any], *, source: str) -> ScenarioFile:
    """Validate a scenario document (the dict `tomllib` returns) completely.

    Parameters
    ----------
    doc
        The parsed TOML document.
    source
        The file name used in error messages.

    Returns
    -------
    ScenarioFile

    Raises
    ------
    ScenarioError
        On the first problem found, naming `source` and the key path.

    Examples
    --------
    >>> doc = {
    ...     "run": {"name": "demo", "seed": 1, "horizon": 30},
    ...     "data": {"source": "example", "series": ["personnel"]},
    ...     "model": {"kind": "naive"},
    ...     "scenario": [{"name": "status-quo"}],
    ... }
    >>> parse_scenario(doc, source="demo.toml").reference.name
    'status-quo'
    >>> doc["scenario"] = [{"name": "x", "adjust": [
    ...     {"type": "multiply", "factor": -2, "start": date(2026, 4, 1)}]}]
    >>> parse_scenario(doc, source="x.toml")
    Traceback (most recent call last):
    ...
    simulate.errors.ScenarioError: x.toml: scenario[0].adjust[0].factor: must be > 0, got -2
    """
    return _Parser(source).file(doc)


class _Parser:
    def __init__(self, source: str) -> None:
        self.auto = False
        self.source = source

    def fail(self, path: str, message: str) -> ScenarioError:
        return ScenarioError(self.source, path, message)

    # -- generic checks ----------------------------------------------------------------

    def table(
        self,
        value: Any,
        path: str,
        allowed: Sequence[str],
        required: Sequence[str] = (),
    ) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(path or "file", f"must be a table, got {_show(value)}")
        for key in value:
            if key not in allowed:
                raise self.fail(
                    _join(path, key), f"unknown key; allowed: {', '.join(allowed) or 'none'}"
                )
        for key in required:
            if key not in value:
                raise self.fail(_join(path, key), "is required")
        return dict(value)

    def whole(self, value: Any, path: str, minimum: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(path, f"must be a whole number, got {_show(value)}")
        if value < minimum:
            raise self.fail(path, f"must be >= {minimum}, got {value}")
        return value

    def number(self, value: Any, path: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(path, f"must be a number, got {_show(value)}")
        try:
            out = float(value)
        except OverflowError:
            out = math.inf
        if not math.isfinite(out):
            raise self.fail(path, f"must be a finite number, got {_show(value)}")
        return out

    def positive(self, value: Any, path: str) -> float:
        out = self.number(value, path)
        if out <= 0:
            raise self.fail(path, f"must be > 0, got {_show(value)}")
        return out

    def text(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, f"must be a non-empty string, got {_show(value)}")
        return value

    def name(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not _SAFE_NAME.fullmatch(value):
            raise self.fail(path, f"must be a safe name ({_SAFE_HELP}), got {_show(value)}")
        return value

    def flag(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(path, f"must be true or false, got {_show(value)}")
        return value

    def day(self, value: Any, path: str) -> date:
        if isinstance(value, datetime):
            raise self.fail(path, f"must be a date without a time, got {_show(value)}")
        if not isinstance(value, date):
            hint = " (no quotes)" if isinstance(value, str) else ""
            raise self.fail(path, f"must be a TOML date like 2026-04-01{hint}, got {_show(value)}")
        return value

    def array(self, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list | tuple):
            raise self.fail(path, f"must be an array, got {_show(value)}")
        return list(value)

    def choice(self, value: Any, path: str, allowed: Sequence[str]) -> str:
        if not isinstance(value, str) or value not in allowed:
            options = ", ".join(repr(a) for a in allowed)
            raise self.fail(path, f"must be one of {options}, got {_show(value)}")
        return value

    # -- the file ------------------------------------------------------------------------

    def file(self, doc: Any) -> ScenarioFile:
        top = self.table(
            doc, "", ("run", "data", "model", "scenario", "outputs", "sweep"),
            ("run", "data", "model", "scenario"),
        )  # fmt: skip
        data = self.data(top["data"])
        run = self.run(top["run"])
        model = self.model(top["model"])
        scenarios = self.scenarios(top["scenario"])
        swept: dict[str, dict[str, str]] = {}
        if "sweep" in top:
            scenarios, swept = self.sweep(top["sweep"], top["scenario"], scenarios)
        return ScenarioFile(
            source=self.source,
            run=run,
            data=data,
            model=model,
            auto_model=self.auto,
            scenarios=scenarios,
            outputs=self.outputs(top.get("outputs", {}), data.series),
            swept=swept,
        )

    def run(self, value: Any) -> RunConfig:
        t = self.table(
            value, "run", ("name", "seed", "paths", "horizon", "end", "as_of"), ("name", "seed")
        )
        name = self.name(t["name"], "run.name")
        seed = self.whole(t["seed"], "run.seed", 0)
        paths = self.whole(t.get("paths", DEFAULT_PATHS), "run.paths", 1)
        if ("horizon" in t) == ("end" in t):
            got = "both" if "horizon" in t else "neither"
            raise self.fail("run", f"give exactly one of horizon (days) and end (date), got {got}")
        horizon = self.whole(t["horizon"], "run.horizon", 1) if "horizon" in t else None
        end = self.day(t["end"], "run.end") if "end" in t else None
        as_of = self.day(t["as_of"], "run.as_of") if "as_of" in t else None
        if end is not None and as_of is not None and end <= as_of:
            raise self.fail("run.end", f"must be after run.as_of ({as_of}), got {end}")
        return RunConfig(name, seed, paths, horizon, end, as_of)

    def data(self, value: Any) -> DataConfig:
        keys = ("source", "series", "reported_by", "gaps", "corrections",
                "correction_window", "slips", "start")  # fmt: skip
        t = self.table(value, "data", keys, ("source", "series"))
        source = self.text(t["source"], "data.source")
        raw = self.array(t["series"], "data.series")
        if not raw:
            raise self.fail("data.series", "must name at least one series, got []")
        series: list[str] = []
        for i, item in enumerate(raw):
            path = f"data.series[{i}]"
            name = canonical_name(self.text(item, path))
            if not name:
                raise self.fail(path, f"is not a series name, got {_show(item)}")
            if name in series:
                first = series.index(name)
                raise self.fail(
                    path, f"{_show(item)} repeats series {name!r} (data.series[{first}])"
                )
            series.append(name)
        reported_by = (
            self.text(t["reported_by"], "data.reported_by") if "reported_by" in t else None
        )
        options: dict[str, Any] = {}
        for key, allowed in POLICY_CHOICES.items():
            if key in t:
                options[key] = self.choice(t[key], f"data.{key}", allowed)
        if "correction_window" in t:
            options["correction_window"] = self.whole(
                t["correction_window"], "data.correction_window", 1
            )
        if "start" in t:
            options["start"] = self.day(t["start"], "data.start")
        try:
            policy = DataPolicy(**options)
        except PolicyError as exc:  # kept in step with DataPolicy should its rules grow
            raise self.fail("data", str(exc)) from None
        return DataConfig(source, tuple(series), reported_by, policy)

    def model(self, value: Any) -> ModelSpec:
        t = self.table(value, "model", ("kind", "window", "options"), ("kind",))
        chosen = self.choice(t["kind"], "model.kind", (*MODEL_KINDS, "auto"))
        if chosen == "auto":
            # chosen per series when the file runs (simulate.notebook.choose_model); the spec
            # carries the window, its kind is only a placeholder
            if t.get("options"):
                raise self.fail("model.options", "kind 'auto' takes no options")
            self.auto = True
            chosen = "analog"
        kind: ModelKind = chosen  # type: ignore[assignment]
        window = t.get("window", DEFAULT_WINDOW)
        if isinstance(window, bool) or not isinstance(window, int):
            raise self.fail(
                "model.window", f"must be a whole number of days >= 14, got {_show(window)}"
            )
        options = self.table(t.get("options", {}), "model.options", tuple(DEFAULT_OPTIONS[kind]))
        # Check each option on its own so an error names its key path.
        checks: list[tuple[str, str, dict[str, Any]]] = [
            ("model.window", f"model {kind!r}: window: ", {"window": window})
        ]
        for key, opt in options.items():
            prefix = f"model {kind!r}: option {key!r}: "
            checks.append((f"model.options.{key}", prefix, {"options": {key: opt}}))
        for path, prefix, kwargs in checks:
            try:
                ModelSpec(kind, **kwargs)
            except ModelError as exc:
                message = str(exc)
                raise self.fail(path, message.removeprefix(prefix)) from None
            except OverflowError:
                raise self.fail(path, "number too large") from None
        try:
            return ModelSpec(kind, window=window, options=options)
        except ModelError as exc:  # pragma: no cover - every part was checked above
            raise self.fail("model", str(exc)) from None

    def scenarios(self, value: Any) -> tuple[Scenario, ...]:
        if isinstance(value, Mapping):
            raise self.fail(
                "scenario", "must be an array of tables (write [[scenario]]), got a single table"
            )
        items = self.array(value, "scenario")
        if not items:
            raise self.fail("scenario", "give at least one [[scenario]]")
        parsed: list[Scenario] = []
        names: dict[str, int] = {}
        reference: int | None = None
        for i, item in enumerate(items):
            path = f"scenario[{i}]"
            t = self.table(item, path, ("name", "reference", "adjust"), ("name",))
            name = self.name(t["name"], f"{path}.name")
            if name in names:
                raise self.fail(
                    f"{path}.name", f"{name!r} is already the name of scenario[{names[name]}]"
                )
            names[name] = i
            is_ref = self.flag(t.get("reference", False), f"{path}.reference")
            if is_ref and reference is not None:
                raise self.fail(
                    f"{path}.reference",
                    f"only one scenario may be the reference; scenario[{reference}] already is",
                )
            if is_ref:
                reference = i
            parsed.append(Scenario(name, self.adjustments(t, path), is_ref))
        if reference is None:
            first = parsed[0]
            parsed[0] = Scenario(first.name, first.adjust, True)
        return tuple(parsed)

    def adjustments(self, t: Mapping[str, Any], path: str) -> tuple[Adjustment, ...]:
        adjust = self.array(t.get("adjust", []), f"{path}.adjust")
        adjustments = tuple(self.adjustment(a, f"{path}.adjust[{j}]") for j, a in enumerate(adjust))
        self.no_overlaps(adjustments, path)
        return adjustments

    def sweep(
        self, value: Any, raw: list[Any], scenarios: tuple[Scenario, ...]
    ) -> tuple[tuple[Scenario, ...], dict[str, dict[str, str]]]:
        """Expand ``[[sweep]]`` grids: each names a scenario, a key path inside it and the
        values; sweeps of one scenario multiply. The template scenario is replaced by one
        scenario per grid point, named ``<template>.<key>-<value>...`` (or ``<template>.<n>``
        when that is not a valid name), in grid order."""
        if isinstance(value, Mapping):
            raise self.fail("sweep", "must be an array of tables (write [[sweep]]), got a table")
        by_name = {sc.name: i for i, sc in enumerate(scenarios)}
        grids: dict[str, list[tuple[str, list[str | int], list[Any]]]] = {}
        for k, item in enumerate(self.array(value, "sweep")):
            path = f"sweep[{k}]"
            t = self.table(item, path, ("scenario", "set", "values"), ("scenario", "set", "values"))
            name = self.text(t["scenario"], f"{path}.scenario")
            if name not in by_name:
                raise self.fail(
                    f"{path}.scenario",
                    f"no scenario is named {name!r}; names: {', '.join(by_name)}",
                )
            if scenarios[by_name[name]].reference:
                raise self.fail(
                    f"{path}.scenario", f"{name!r} is the reference scenario; sweep another one"
                )
            keys = _key_path(self.text(t["set"], f"{path}.set"))
            if keys is None or not keys or not isinstance(keys[-1], str):
                raise self.fail(
                    f"{path}.set",
                    f"must be a key path such as adjust[0].factor, got {_show(t['set'])}",
                )
            template = raw[by_name[name]]
            if _parent(template, keys) is None:
                raise self.fail(f"{path}.set", f"scenario {name!r} has no {_show(t['set'])}")
            values = self.array(t["values"], f"{path}.values")
            if not values:
                raise self.fail(f"{path}.values", "must list at least one value, got []")
            grids.setdefault(name, []).append((str(t["set"]), keys, list(values)))
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
                if not _SAFE_NAME.fullmatch(label) or label in taken:
                    label = f"{sc.name}.{n}"
                item["name"] = label
                item.pop("reference", None)
                where = f"sweep of scenario {sc.name!r} at {params}"
                t = self.table(item, where, ("name", "adjust"), ("name",))
                out.append(Scenario(label, self.adjustments(t, where)))
                taken.add(label)
                swept[label] = params
            if len(out) > MAX_SCENARIOS:
                raise self.fail("sweep", f"expands to more than {MAX_SCENARIOS} scenarios")
        return tuple(out), swept

    def factor(self, value: Any, path: str) -> Factor:
        if not isinstance(value, Mapping):
            return self.positive(value, path)
        t = self.table(value, path, ("uniform", "lognormal"))
        if len(t) != 1:
            raise self.fail(path, "give a number, { uniform = [lo, hi] } or "
                            "{ lognormal = { median = m, sd_log = s } }")  # fmt: skip
        if "uniform" in t:
            upath = f"{path}.uniform"
            bounds = self.array(t["uniform"], upath)
            if len(bounds) != 2:
                raise self.fail(upath, f"must be [lo, hi], got {_show(bounds)}")
            lo = self.number(bounds[0], f"{upath}[0]")
            hi = self.number(bounds[1], f"{upath}[1]")
            if not 0 < lo <= hi:
                raise self.fail(upath, f"must be [lo, hi] with 0 < lo <= hi, got {_show(bounds)}")
            return Uniform(lo, hi)
        lpath = f"{path}.lognormal"
        ln = self.table(t["lognormal"], lpath, ("median", "sd_log"), ("median", "sd_log"))
        median = self.positive(ln["median"], f"{lpath}.median")
        sd_log = self.number(ln["sd_log"], f"{lpath}.sd_log")
        if sd_log < 0:
            raise self.fail(f"{lpath}.sd_log", f"must be >= 0, got {_show(ln['sd_log'])}")
        return LogNormal(median, sd_log)

    def adjustment(self, value: Any, path: str) -> Adjustment:
        if not isinstance(value, Mapping):
            raise self.fail(path, f"must be a table, got {_show(value)}")
        if "type" not in value:
            raise self.fail(f"{path}.type", f"is required; one of {', '.join(ADJUSTMENT_TYPES)}")
        kind = self.choice(value["type"], f"{path}.type", ADJUSTMENT_TYPES)
        p = f"{path}."
        if kind == "multiply":
            t = self.table(value, path, ("type", "factor", "start", "end"), ("factor", "start"))
            factor = self.factor(t["factor"], p + "factor")
            start = self.day(t["start"], p + "start")
            end = self.after(t["end"], p + "end", start) if "end" in t else None
            return Multiply(factor, start, end)
        if kind == "ramp":
            keys = ("type", "from", "to", "start", "end")
            t = self.table(value, path, keys, keys[1:])
            a = self.factor(t["from"], p + "from")
            b = self.factor(t["to"], p + "to")
            start = self.day(t["start"], p + "start")
            return Ramp(a, b, start, self.after(t["end"], p + "end", start))
        if kind == "decay":
            t = self.table(value, path, ("type", "half_life", "start"), ("half_life", "start"))
            half_life = self.positive(t["half_life"], p + "half_life")
            return Decay(half_life, self.day(t["start"], p + "start"))
        if kind == "ceasefire":
            allowed = ("type", "start", "residual", "breakdown_per_day")
            t = self.table(value, path, allowed, ("start", "residual"))
            start = self.day(t["start"], p + "start")
            residual = self.number(t["residual"], p + "residual")
            if not 0 <= residual < 1:
                raise self.fail(p + "residual", f"must be >= 0 and < 1, got {_show(t['residual'])}")
            breakdown = 0.0
            if "breakdown_per_day" in t:
                breakdown = self.number(t["breakdown_per_day"], p + "breakdown_per_day")
                if not 0 <= breakdown < 1:
                    raise self.fail(
                        p + "breakdown_per_day",
                        f"must be a probability >= 0 and < 1, got {_show(t['breakdown_per_day'])}",
                    )
            return Ceasefire(start, residual, breakdown)
        t = self.table(value, path, ("type", "start", "days", "extra"), ("start", "days", "extra"))
        start = self.day(t["start"], p + "start")
        days = self.whole(t["days"], p + "days", 1)
        return Surge(start, days, self.factor(t["extra"], p + "extra"))

    def after(self, value: Any, path: str, start: date) -> date:
        end = self.day(value, path)
        if end <= start:
            raise self.fail(path, f"must be after start ({start}), got {end}")
        return end

    def no_overlaps(self, adjustments: Sequence[Adjustment], path: str) -> None:
        seen: dict[str, list[tuple[int, date, date | None]]] = {"multiply": [], "ramp": []}
        for j, adj in enumerate(adjustments):
            if not isinstance(adj, Multiply | Ramp):
                continue
            for k, start, end in seen[adj.type]:
                if (end is None or adj.start <= end) and (adj.end is None or start <= adj.end):
                    raise self.fail(
                        f"{path}.adjust[{j}]",
                        f"{adj.type} window {_window(adj.start, adj.end)} overlaps the "
                        f"{adj.type} window {_window(start, end)} of {path}.adjust[{k}]",
                    )
            seen[adj.type].append((j, adj.start, adj.end))

    def outputs(self, value: Any, series: Sequence[str]) -> OutputsConfig:
        t = self.table(value, "outputs", ("quantiles", "thresholds", "charts"))
        quantiles = HUB_QUANTILES
        if "quantiles" in t:
            raw = self.array(t["quantiles"], "outputs.quantiles")
            if not raw:
                raise self.fail("outputs.quantiles", "must list at least one level, got []")
            levels: list[float] = []
            for i, item in enumerate(raw):
                path = f"outputs.quantiles[{i}]"
                q = self.number(item, path)
                if not 0 < q < 1:
                    raise self.fail(path, f"must be strictly between 0 and 1, got {_show(item)}")
                if levels and q <= levels[-1]:
                    raise self.fail(
                        path,
                        f"levels must be sorted and unique; {_show(item)} follows {levels[-1]}",
                    )
                levels.append(q)
            quantiles = tuple(levels)
        raw_thresholds = t.get("thresholds", [])
        thresholds: tuple[int, ...] | dict[str, tuple[int, ...]]
        if isinstance(raw_thresholds, Mapping):
            thresholds = {}
            for key, items in raw_thresholds.items():
                path = _join("outputs.thresholds", key)
                name = canonical_name(str(key))
                if name not in series:
                    raise self.fail(
                        path, f"is not one of data.series ({', '.join(series)}), got {_show(key)}"
                    )
                thresholds[name] = self.levels(items, path)
        else:
            thresholds = self.levels(raw_thresholds, "outputs.thresholds")
        charts = self.flag(t.get("charts", True), "outputs.charts")
        return OutputsConfig(quantiles, thresholds, charts)

    def levels(self, value: Any, path: str) -> tuple[int, ...]:
        """Thresholds: whole numbers >= 1, sorted and unique."""
        out: list[int] = []
        for i, item in enumerate(self.array(value, path)):
            n = self.whole(item, f"{path}[{i}]", 1)
            if out and n <= out[-1]:
                raise self.fail(
                    f"{path}[{i}]", f"thresholds must be sorted and unique; {n} follows {out[-1]}"
                )
            out.append(n)
        return tuple(out)


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_PATH_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)")
#: Most scenarios a file may expand to.
MAX_SCENARIOS = 10_000


def _key_path(text: str) -> list[str | int] | None:
    """``adjust[0].factor`` -> ``["adjust", 0, "factor"]``; None when malformed."""
    out: list[str | int] = []
    for part in text.split("."):
        m = _PATH_PART.fullmatch(part)
        if m is None:
            return None
        out.append(m.group(1))
        out += [int(x) for x in re.findall(r"\[(\d+)\]", m.group(2))]
    return out


def _parent(doc: Any, keys: Sequence[str | int]) -> Any:
    """The container that holds the last key of `keys` in `doc` (None when a step is missing)."""
    node = doc
    for k in keys[:-1]:
        in_list = isinstance(k, int) and isinstance(node, list) and 0 <= k < len(node)
        in_table = isinstance(k, str) and isinstance(node, Mapping) and k in node
        if not (in_list or in_table):
            return None
        node = node[k]
    return node if isinstance(node, dict) else None


def _join(path: str, key: Any) -> str:
    text = str(key)
    shown = (
        text
        if _BARE_KEY.fullmatch(text)
        else '"' + text.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'
    )
    return f"{path}.{shown}" if path else shown


def _window(start: date, end: date | None) -> str:
    return f"{start}..{end if end is not None else 'open'}"


def _show(value: Any, limit: int = 60) -> str:
    """A value as the user wrote it in TOML, shortened."""
    text = _toml(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):  # dates and date-times
        return value.isoformat()
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_join('', k)} = {_toml(v)}" for k, v in list(value.items())[:8])
        return "{ " + inner + " }" if inner else "{}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in list(value)[:8]) + "]"
    if isinstance(value, int) and abs(value) > 10**30:
        return f"{'-' if value < 0 else ''}a {len(str(abs(value)))}-digit number"
    return repr(value)


# --------------------------------------------------------------------------------------
# Applying the adjustments


@dataclass(frozen=True)
class FactorDraw:
    """A quantity the engine draws once per path, from its (scenario, series) stream.

    ``uniform``: ``lo + (hi - lo) * U`` with ``U`` uniform on [0, 1) (parameters ``lo``, ``hi``).
    ``lognormal``: ``median * exp(sd_log * Z)`` with ``Z`` standard normal.
    ``geometric``: the number of days a ceasefire lasts, on ``{1, 2, ...}`` with success
    probability ``p`` per day (``numpy.random.Generator.geometric(p)``).
    """

    name: str
    distribution: Literal["uniform", "lognormal", "geometric"]
    parameters: Mapping[str, float]


def _factor_draw(name: str, factor: Factor) -> FactorDraw | None:
    if isinstance(factor, Uniform):
        return FactorDraw(name, "uniform", MappingProxyType({"lo": factor.lo, "hi": factor.hi}))
    if isinstance(factor, LogNormal):
        params = {"median": factor.median, "sd_log": factor.sd_log}
        return FactorDraw(name, "lognormal", MappingProxyType(params))
    return None


def _factor_fields(adj: Adjustment) -> tuple[tuple[str, Factor], ...]:
    if isinstance(adj, Multiply):
        return (("factor", adj.factor),)
    if isinstance(adj, Ramp):
        return (("from", adj.start_factor), ("to", adj.end_factor))
    if isinstance(adj, Surge):
        return (("extra", adj.extra),)
    return ()


def factor_draw_spec(scenario: Scenario) -> tuple[FactorDraw, ...]:
    """What must be drawn per path to apply `scenario`, in a fixed order.

    Names are the key paths within the scenario, e.g. ``"adjust[1].factor"`` for an uncertain
    factor or ``"adjust[2].breakdown_day"`` for the length of a ceasefire that may break down.

    Examples
    --------
    >>> s = Scenario("esc", (Multiply(Uniform(1.2, 1.4), date(2026, 4, 1)),))
    >>> [(d.name, d.distribution, dict(d.parameters)) for d in factor_draw_spec(s)]
    [('adjust[0].factor', 'uniform', {'lo': 1.2, 'hi': 1.4})]
    """
    out: list[FactorDraw] = []
    for j, adj in enumerate(scenario.adjust):
        for key, factor in _factor_fields(adj):
            draw = _factor_draw(f"adjust[{j}].{key}", factor)
            if draw is not None:
                out.append(draw)
        if isinstance(adj, Ceasefire) and adj.breakdown_per_day > 0:
            params = MappingProxyType({"p": adj.breakdown_per_day})
            out.append(FactorDraw(f"adjust[{j}].breakdown_day", "geometric", params))
    return tuple(out)


FloatArray: TypeAlias = npt.NDArray[np.float64]


def adjustment_factors(
    scenario: Scenario,
    dates: npt.NDArray[np.datetime64],
    draws: Mapping[str, npt.ArrayLike] | None = None,
    *,
    n_paths: int | None = None,
) -> FloatArray:
    """The factor multiplying the projected intensity, per day and path.

    Parameters
    ----------
    scenario
        A validated scenario.
    dates
        The projected days, ``datetime64[D]``, shape ``(days,)``.
    draws
        One array of shape ``(n_paths,)`` per entry of :func:`factor_draw_spec` (keyed by its
        name): the drawn factors, and for a ceasefire that may break down the number of days
        it lasts (>= 1). Not needed when nothing is uncertain.
    n_paths
        Number of paths; by default the length of the draws, or 1 without draws.

    Returns
    -------
    numpy.ndarray
        Shape ``(days, n_paths)``, all > 0 except under a ceasefire with residual 0.

    Examples
    --------
    >>> days = np.arange("2026-01-01", "2026-01-05", dtype="datetime64[D]")
    >>> s = Scenario("half", (Multiply(0.5, date(2026, 1, 2), date(2026, 1, 3)),))
    >>> adjustment_factors(s, days)[:, 0].tolist()
    [1.0, 0.5, 0.5, 1.0]
    """
    day = np.asarray(dates).astype("datetime64[D]").astype(np.int64)
    if day.ndim != 1:
        raise ValueError(f"dates must be one-dimensional, got shape {day.shape}")
    needed = factor_draw_spec(scenario)
    given = {k: np.asarray(v, dtype=np.float64) for k, v in (draws or {}).items()}
    missing = [d.name for d in needed if d.name not in given]
    if missing:
        raise ValueError(f"scenario {scenario.name!r}: draws missing for {', '.join(missing)}")
    shapes = [given[d.name].shape for d in needed]
    if n_paths is None:
        n_paths = shapes[0][0] if shapes and len(shapes[0]) == 1 else 1
    if any(shape != (n_paths,) for shape in shapes):
        raise ValueError(f"every draw must have shape ({n_paths},), got {shapes}")

    def value(name: str, factor: Factor) -> FloatArray:
        if isinstance(factor, Uniform | LogNormal):
            return given[name][None, :]
        return np.full((1, n_paths), float(factor))

    out = np.ones((day.size, n_paths))
    for j, adj in enumerate(scenario.adjust):
        # days since the adjustment's start, as a column so terms broadcast over paths
        since = (day - _day_number(adj.start))[:, None]
        if isinstance(adj, Multiply):
            inside = since >= 0
            if adj.end is not None:
                inside &= since <= _day_number(adj.end) - _day_number(adj.start)
            out *= np.where(inside, value(f"adjust[{j}].factor", adj.factor), 1.0)
        elif isinstance(adj, Ramp):
            span = _day_number(adj.end) - _day_number(adj.start)
            a = value(f"adjust[{j}].from", adj.start_factor)
            b = value(f"adjust[{j}].to", adj.end_factor)
            frac = np.clip(since / span, 0.0, 1.0)
            out *= np.where(since >= 0, a + (b - a) * frac, 1.0)
        elif isinstance(adj, Decay):
            with np.errstate(over="ignore"):  # a tiny half-life just means "gone at once"
                halvings = np.maximum(since, 0) / adj.half_life
            out *= np.where(since >= 0, np.exp2(-halvings), 1.0)
        elif isinstance(adj, Ceasefire):
            holds = since >= 0
            if adj.breakdown_per_day > 0:
                holds = holds & (since < given[f"adjust[{j}].breakdown_day"][None, :])
            out *= np.where(holds, adj.residual, 1.0)
        else:
            during = (since >= 0) & (since < adj.days)
            out *= np.where(during, 1.0 + value(f"adjust[{j}].extra", adj.extra), 1.0)
    return out


def _day_number(d: date) -> int:
    return int(np.datetime64(d, "D").astype(np.int64))


# --------------------------------------------------------------------------------------
# JSON Schema (for editors)


def _obj(props: dict[str, Any], required: Sequence[str] = (), **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = list(required)
    out.update(extra)
    return out


def scenario_json_schema() -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) of the scenario file format, for editors.

    TOML dates appear as strings of format ``date``. The schema describes the shape; some
    rules (one of horizon/end, non-overlapping windows, at most one reference) are only
    checked by :func:`parse_scenario`.
    """
    day = {"type": "string", "format": "date"}
    levels = {"type": "array", "uniqueItems": True, "items": {"type": "integer", "minimum": 1}}
    name = {"type": "string", "pattern": "^" + _SAFE_NAME.pattern + "$"}
    pos = {"type": "number", "exclusiveMinimum": 0}
    factor = {
        "oneOf": [
            pos,
            _obj({"uniform": {"type": "array", "items": pos, "minItems": 2, "maxItems": 2}},
                 ["uniform"]),
            _obj({"lognormal": _obj({"median": pos, "sd_log": {"type": "number", "minimum": 0}},
                                    ["median", "sd_log"])}, ["lognormal"]),
        ]
    }  # fmt: skip

    def adj(kind: str, props: dict[str, Any], required: list[str]) -> dict[str, Any]:
        return _obj({"type": {"const": kind}, **props}, ["type", *required])

    adjustments = [
        adj("multiply", {"factor": factor, "start": day, "end": day}, ["factor", "start"]),
        adj("ramp", {"from": factor, "to": factor, "start": day, "end": day},
            ["from", "to", "start", "end"]),
        adj("decay", {"half_life": pos, "start": day}, ["half_life", "start"]),
        adj("ceasefire", {"start": day,
                          "residual": {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
                          "breakdown_per_day": {"type": "number", "minimum": 0,
                                                "exclusiveMaximum": 1}},
            ["start", "residual"]),
        adj("surge", {"start": day, "days": {"type": "integer", "minimum": 1}, "extra": factor},
            ["start", "days", "extra"]),
    ]  # fmt: skip
    options: dict[str, Any] = {}
    for defaults in DEFAULT_OPTIONS.values():
        for key, default in defaults.items():
            kind = "boolean" if isinstance(default, bool) else (
                "integer" if isinstance(default, int) else "number")  # fmt: skip
            options[key] = {"type": kind, "default": default}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "attrition scenario file",
        **_obj(
            {
                "run": _obj({
                    "name": name,
                    "seed": {"type": "integer", "minimum": 0},
                    "paths": {"type": "integer", "minimum": 1, "default": DEFAULT_PATHS},
                    "horizon": {"type": "integer", "minimum": 1, "description": "days"},
                    "end": day,
                    "as_of": day,
                }, ["name", "seed"]),
                "data": _obj({
                    "source": {"type": "string", "minLength": 1},
                    "series": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                               "uniqueItems": True},
                    "reported_by": {"type": "string"},
                    "gaps": {"enum": list(POLICY_CHOICES["gaps"]), "default": "spread"},
                    "corrections": {"enum": list(POLICY_CHOICES["corrections"]), "default": "keep"},
                    "correction_window": {"type": "integer", "minimum": 1, "default": 7},
                    "slips": {"enum": list(POLICY_CHOICES["slips"]), "default": "keep"},
                    "start": day,
                }, ["source", "series"]),
                "model": _obj({
                    "kind": {"enum": [*MODEL_KINDS, "auto"]},
                    "window": {"type": "integer", "minimum": 14, "default": DEFAULT_WINDOW},
                    "options": _obj(options),
                }, ["kind"]),
                "scenario": {"type": "array", "minItems": 1, "items": _obj({
                    "name": name,
                    "reference": {"type": "boolean", "default": False},
                    "adjust": {"type": "array", "items": {"oneOf": adjustments}},
                }, ["name"])},
                "outputs": _obj({
                    "quantiles": {"type": "array", "minItems": 1, "uniqueItems": True,
                                  "items": {"type": "number", "exclusiveMinimum": 0,
                                            "exclusiveMaximum": 1},
                                  "default": list(HUB_QUANTILES)},
                    "thresholds": {"oneOf": [levels, {"type": "object",
                                                      "additionalProperties": levels}]},
                    "charts": {"type": "boolean", "default": True},
                }),
            },
            ["run", "data", "model", "scenario"],
        ),
    }  # fmt: skip
