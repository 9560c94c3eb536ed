"""The keys of a scenario file, declared once: each table's keys with type, bounds, default, doc.

:data:`FILE` is the whole format: ``[run]`` (:data:`RUN`), ``[data]`` (:data:`DATA`),
``[model]`` (:data:`MODEL`), ``[[scenario]]`` (:data:`SCENARIO`, whose ``adjust`` items are
:data:`ADJUSTMENT`), ``[outputs]`` (:data:`OUTPUTS`) and ``[[sweep]]`` (:data:`SWEEP`).
:mod:`simulate.scenarios.parse` checks files against these declarations and
:mod:`simulate.scenarios.schema` writes them out as a JSON Schema, so the two say the same.
The rules that tie keys together (one of horizon and end, windows that must not overlap, one
reference scenario, ...) are the parser's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..data.policy import CHOICES as POLICY_CHOICES
from ..data.policy import DataPolicy
from ..data.vocabulary import canonical_name
from ..errors import ModelError
from ..models.spec import DEFAULT_OPTIONS, DEFAULT_WINDOW, HUB_QUANTILES, MODEL_KINDS, ModelSpec
from .config import (
    ADJUSTMENT_TYPES,
    DEFAULT_PATHS,
    HORIZON_UNIT,
    MAX_FACTOR,
    MAX_HORIZON,
    MAX_PATHS,
    MAX_SD_LOG,
    SAFE_NAME,
    TABLE_FORMATS,
    Factor,
    LogNormal,
    Uniform,
)
from .rules import (
    Array,
    Choice,
    Const,
    Day,
    Fail,
    Flag,
    Key,
    Number,
    Pattern,
    Rule,
    Table,
    Tagged,
    Text,
    Whole,
    join,
    show,
)

__all__ = [
    "FILE",
    "RUN",
    "DATA",
    "MODEL",
    "OPTIONS",
    "SCENARIO",
    "SCENARIOS",
    "SWEPT_SCENARIO",
    "ADJUSTMENT",
    "ADJUSTMENTS",
    "SERIES",
    "THRESHOLDS",
    "FACTOR",
    "OUTPUTS",
    "SWEEP",
    "SWEEPS",
    "NAME",
]

NAME = Pattern(
    pattern=SAFE_NAME,
    noun="a safe name",
    help="letters, digits, '.', '_' or '-', starting with a letter or digit, at most 64",
)
DAY = Day()
POSITIVE = Number(gt=0)
#: A factor: > 0 and at most MAX_FACTOR, so that no scenario can push a count past what a
#: 64-bit integer holds (the engine still checks every simulated day).
FACTOR_VALUE = Number(gt=0, le=MAX_FACTOR)


# --------------------------------------------------------------------------------------
# Factors: a number, or a distribution drawn once per path


@dataclass(frozen=True, kw_only=True)
class Interval(Rule):
    """``[lo, hi]`` with ``0 < lo <= hi``: the bounds of a uniform factor."""

    def check(self, value: Any, path: str, fail: Fail) -> Uniform:
        if not isinstance(value, list | tuple):
            raise fail(path, f"must be an array, got {show(value)}")
        if len(value) != 2:
            raise fail(path, f"must be [lo, hi], got {show(value)}")
        lo = Number().check(value[0], f"{path}[0]", fail)
        hi = Number().check(value[1], f"{path}[1]", fail)
        if not 0 < lo <= hi:
            raise fail(path, f"must be [lo, hi] with 0 < lo <= hi, got {show(value)}")
        FACTOR_VALUE.check(value[1], f"{path}[1]", fail)
        return Uniform(lo, hi)

    def shape(self) -> dict[str, Any]:
        return {"type": "array", "items": FACTOR_VALUE.schema(), "minItems": 2, "maxItems": 2}


LOGNORMAL = Table(
    keys={
        "median": Key(FACTOR_VALUE, required=True),
        "sd_log": Key(Number(ge=0, le=MAX_SD_LOG), required=True),
    },
    doc="median * exp(sd_log * Z), Z standard normal, drawn once per path",
)
#: The forms of an uncertain factor; a factor table holds exactly one of them.
DISTRIBUTIONS = Table(
    keys={
        "uniform": Key(Interval(doc="uniform on [lo, hi], drawn once per path")),
        "lognormal": Key(LOGNORMAL),
    }
)


@dataclass(frozen=True, kw_only=True)
class FactorRule(Rule):
    """A factor > 0, or ``{ uniform = [lo, hi] }``, or ``{ lognormal = { median, sd_log } }``."""

    def check(self, value: Any, path: str, fail: Fail) -> Factor:
        if not isinstance(value, Mapping):
            return FACTOR_VALUE.check(value, path, fail)
        t = DISTRIBUTIONS.keys_of(value, path, fail)
        if len(t) != 1:
            raise fail(path, "give a number, { uniform = [lo, hi] } or "
                       "{ lognormal = { median = m, sd_log = s } }")  # fmt: skip
        if "uniform" in t:
            return DISTRIBUTIONS.get(t, "uniform", path, fail)  # type: ignore[no-any-return]
        ln = DISTRIBUTIONS.get(t, "lognormal", path, fail)
        return LogNormal(ln["median"], ln["sd_log"])

    def shape(self) -> dict[str, Any]:
        alone = [
            Table(keys={k: Key(key.rule, required=True)}) for k, key in DISTRIBUTIONS.keys.items()
        ]
        return {"oneOf": [FACTOR_VALUE.schema(), *(form.schema() for form in alone)]}


FACTOR = FactorRule()


# --------------------------------------------------------------------------------------
# Adjustments


def _adjustment(kind: str, doc: str, **keys: Key) -> Table:
    return Table(keys={"type": Key(Const(value=kind), required=True), **keys}, doc=doc)


#: One ``[[scenario.adjust]]`` table; its ``type`` says which.
ADJUSTMENT = Tagged(
    tag="type",
    variants={
        "multiply": _adjustment(
            "multiply", "factor from start to end (inclusive; open-ended without end)",
            factor=Key(FACTOR, required=True), start=Key(DAY, required=True), end=Key(DAY)),
        "ramp": _adjustment(
            "ramp", "1 before start, linear from `from` to `to` between start and end, then `to`",
            **{"from": Key(FACTOR, required=True), "to": Key(FACTOR, required=True)},
            start=Key(DAY, required=True), end=Key(DAY, required=True)),
        "decay": _adjustment(
            "decay", "from start the factor halves every half_life days",
            half_life=Key(POSITIVE, required=True), start=Key(DAY, required=True)),
        "ceasefire": _adjustment(
            "ceasefire", "from start the factor is residual, until the ceasefire breaks down",
            start=Key(DAY, required=True),
            residual=Key(Number(ge=0, lt=1), required=True),
            breakdown_per_day=Key(Number(ge=0, lt=1, wording="a probability",
                                         doc="chance per day that the ceasefire ends"),
                                  default=0.0)),
        "surge": _adjustment(
            "surge", "the factor is 1 + extra for `days` days from start",
            start=Key(DAY, required=True), days=Key(Whole(minimum=1), required=True),
            extra=Key(FACTOR, required=True)),
    },
)  # fmt: skip
assert tuple(ADJUSTMENT.variants) == ADJUSTMENT_TYPES

#: A scenario's ``adjust`` array.
ADJUSTMENTS = Array(item=ADJUSTMENT, doc="adjustments; their factors multiply")
SCENARIO = Table(
    keys={
        "name": Key(NAME, required=True),
        "reference": Key(Flag(doc="the scenario the others are contrasted with"), default=False),
        "adjust": Key(ADJUSTMENTS),
    }
)
#: A scenario made by a sweep (it is never the reference).
SWEPT_SCENARIO = Table(keys={k: key for k, key in SCENARIO.keys.items() if k != "reference"})


# --------------------------------------------------------------------------------------
# The other tables

RUN = Table(
    keys={
        "name": Key(NAME, required=True),
        "seed": Key(Whole(minimum=0), required=True),
        "paths": Key(
            Whole(minimum=1, maximum=MAX_PATHS, doc="simulated paths"), default=DEFAULT_PATHS
        ),
        "horizon": Key(
            Whole(
                minimum=1, maximum=MAX_HORIZON, unit=HORIZON_UNIT, doc="days (give horizon or end)"
            )
        ),
        "end": Key(Day(doc="last projected day (give horizon or end)")),
        "as_of": Key(Day(doc="ignore figures after this day")),
    }
)


def _policy(rule: str) -> Key:
    return Key(Choice(options=POLICY_CHOICES[rule]), default=getattr(DataPolicy(), rule))


#: ``data.series``: names, unique once canonical (checked by the parser).
SERIES = Array(item=Text(), min_items=1, unique=True, empty="must name at least one series, got []")
DATA = Table(
    keys={
        "source": Key(Text(doc="a known compilation or a file"), required=True),
        "series": Key(SERIES, required=True),
        "reported_by": Key(Text(doc="whose figures these are")),
        "gaps": _policy("gaps"),
        "corrections": _policy("corrections"),
        "correction_window": Key(Whole(minimum=1, doc="days"),
                                 default=DataPolicy().correction_window),
        "slips": _policy("slips"),
        "start": Key(Day(doc="drop figures dated before this day")),
    }
)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class ModelOption(Rule):
    """An option of one model kind, checked by :class:`~simulate.models.spec.ModelSpec`."""

    kind: str
    key: str

    def check(self, value: Any, path: str, fail: Fail) -> Any:
        prefix = f"model {self.kind!r}: option {self.key!r}: "
        try:
            ModelSpec(self.kind, options={self.key: value})  # type: ignore[arg-type]
        except ModelError as exc:
            raise fail(path, str(exc).removeprefix(prefix)) from None
        except OverflowError:
            raise fail(path, "number too large") from None
        return value

    def shape(self) -> dict[str, Any]:
        default = DEFAULT_OPTIONS[self.kind][self.key]
        kind = "boolean" if isinstance(default, bool) else (
            "integer" if isinstance(default, int) else "number")  # fmt: skip
        return {"type": kind}


@dataclass(frozen=True, kw_only=True)
class ModelOptions(Rule):
    """``[model.options]``: the keys of the chosen kind (:data:`DEFAULT_OPTIONS`)."""

    def of(self, kind: str) -> Table:
        """The options table of `kind`."""
        defaults = DEFAULT_OPTIONS[kind]
        return Table(keys={k: Key(ModelOption(kind=kind, key=k), default=d)
                           for k, d in defaults.items()})  # fmt: skip

    def check(self, value: Any, path: str, fail: Fail) -> dict[str, Any]:
        raise TypeError("model options are checked with ModelOptions.of(kind)")

    def shape(self) -> dict[str, Any]:
        merged: dict[str, Key] = {}
        for kind in MODEL_KINDS:
            merged.update(self.of(kind).keys)
        return Table(keys=merged).shape()


@dataclass(frozen=True, kw_only=True)
class ModelTable(Table):
    """``[model]``; its schema also says which options each kind takes."""

    def shape(self) -> dict[str, Any]:
        out = super().shape()
        out["allOf"] = [
            {"if": {"properties": {"kind": {"const": kind}}},
             "then": {"properties": {"options": OPTIONS.of(kind).schema()}}}
            for kind in MODEL_KINDS
        ]  # fmt: skip
        return out


OPTIONS = ModelOptions(doc="options of the chosen kind")
MODEL = ModelTable(
    keys={
        "kind": Key(Choice(options=(*MODEL_KINDS, "auto")), required=True),
        "window": Key(Whole(minimum=14, wording="a whole number of days >= 14",
                            doc="trailing days fitted"), default=DEFAULT_WINDOW),
        "options": Key(OPTIONS),
    }
)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class Thresholds(Rule):
    """Levels of the cumulative total: one list for every series, or a table by series."""

    levels: Array

    def check(self, value: Any, path: str, fail: Fail) -> Any:
        return self.of(value, path, fail, series=None)

    def of(
        self, value: Any, path: str, fail: Fail, series: tuple[str, ...] | None
    ) -> tuple[int, ...] | dict[str, tuple[int, ...]]:
        """The thresholds; a table's keys must be among `series` (any name when None)."""
        if not isinstance(value, Mapping):
            return self.levels.check(value, path, fail)
        out: dict[str, tuple[int, ...]] = {}
        for key, items in value.items():
            where = join(path, key)
            name = canonical_name(str(key))
            if series is not None and name not in series:
                raise fail(
                    where, f"is not one of data.series ({', '.join(series)}), got {show(key)}"
                )
            out[name] = self.levels.check(items, where, fail)
        return out

    def shape(self) -> dict[str, Any]:
        levels = self.levels.schema()
        return {"oneOf": [levels, {"type": "object", "additionalProperties": levels}]}


THRESHOLDS = Thresholds(
    levels=Array(item=Whole(minimum=1), ascending="thresholds"),
    doc="levels of the cumulative total",
)
OUTPUTS = Table(
    keys={
        "quantiles": Key(
            Array(item=Number(gt=0, lt=1), min_items=1, ascending="levels",
                  empty="must list at least one level, got []"),
            default=HUB_QUANTILES),
        "thresholds": Key(THRESHOLDS, default=()),
        "charts": Key(Flag(), default=True),
        "format": Key(Choice(options=TABLE_FORMATS), default="csv"),
        "backtest": Key(Text(doc="a backtest directory (attrition backtest -o DIR)"),
                        default=None),
    }
)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class Anything(Rule):
    """Any TOML value (a swept value is checked where it lands)."""

    def check(self, value: Any, path: str, fail: Fail) -> Any:
        return value

    def shape(self) -> dict[str, Any]:
        return {}


SWEEP = Table(
    keys={
        "scenario": Key(Text(doc="the scenario swept (not the reference)"), required=True),
        "set": Key(Text(doc="a key path inside it, such as adjust[0].factor"), required=True),
        "values": Key(Array(item=Anything(), min_items=1,
                            empty="must list at least one value, got []"), required=True),
    }
)  # fmt: skip


def _array_of_tables(item: Table, name: str, got: str, **kw: Any) -> Array:
    hint = f"must be an array of tables (write [[{name}]]), got {got}"
    return Array(item=item, if_table=hint, **kw)


SCENARIOS = _array_of_tables(
    SCENARIO, "scenario", "a single table", min_items=1, empty="give at least one [[scenario]]"
)
SWEEPS = _array_of_tables(
    SWEEP, "sweep", "a table", doc="grids of values, each making one scenario"
)
FILE = Table(
    keys={
        "run": Key(RUN, required=True),
        "data": Key(DATA, required=True),
        "model": Key(MODEL, required=True),
        "scenario": Key(SCENARIOS, required=True),
        "outputs": Key(OUTPUTS),
        "sweep": Key(SWEEPS),
    },
)  # fmt: skip
