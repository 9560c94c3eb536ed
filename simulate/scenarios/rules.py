"""The kinds of value a scenario file holds, each able to check a value and describe itself.

A rule (:class:`Whole`, :class:`Number`, :class:`Choice`, :class:`Table`, ...) is declarative
data: its type, bounds, choices, default and doc. The same rule object checks a value read
from a file (``rule.check(value, path, fail)``, returning the value converted, or raising
``fail(path, message)`` with the one-line message the user sees) and writes its JSON Schema
fragment (``rule.schema()``), so the validator and the schema cannot drift apart. Which keys a
scenario file has is declared in :mod:`simulate.scenarios.keys`; the helpers at the end show
values and key paths the way they are written in TOML.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ..errors import ScenarioError

__all__ = [
    "Fail",
    "Rule",
    "Whole",
    "Number",
    "Text",
    "Pattern",
    "Flag",
    "Day",
    "Choice",
    "Const",
    "Array",
    "Key",
    "Table",
    "Tagged",
    "show",
    "join",
]

#: Makes the error to raise for a key path and a message (it knows the file).
Fail = Callable[[str, str], ScenarioError]


@dataclass(frozen=True, kw_only=True)
class Rule:
    """A kind of value; `doc` becomes the schema's description."""

    doc: str = ""

    def check(self, value: Any, path: str, fail: Fail) -> Any:
        """`value` converted, or raise ``fail(path, message)``."""
        raise NotImplementedError

    def schema(self) -> dict[str, Any]:
        """The JSON Schema (draft 2020-12) fragment of the values this rule accepts."""
        out = self.shape()
        if self.doc:
            out["description"] = self.doc
        return out

    def shape(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class Whole(Rule):
    """A whole number >= `minimum` and <= `maximum` (booleans are not numbers)."""

    minimum: int
    #: What the message says is expected, when not "a whole number" / ">= minimum".
    wording: str | None = None
    maximum: int | None = None
    #: What the maximum is, for the message: "days (100 years of daily figures)".
    unit: str = ""

    def check(self, value: Any, path: str, fail: Fail) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail(path, f"must be {self.wording or 'a whole number'}, got {show(value)}")
        if value < self.minimum:
            raise fail(path, f"must be {self.wording or f'>= {self.minimum}'}, got {value}")
        if self.maximum is not None and value > self.maximum:
            unit = f" {self.unit}" if self.unit else ""
            raise fail(path, f"must be at most {self.maximum:,}{unit}, got {show(value)}")
        return value

    def shape(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "integer", "minimum": self.minimum}
        if self.maximum is not None:
            out["maximum"] = self.maximum
        return out


@dataclass(frozen=True, kw_only=True)
class Number(Rule):
    """A finite number within optional bounds: > `gt` or >= `ge`, and < `lt` or <= `le`."""

    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None
    #: Put before the bounds in the message ("a probability >= 0 and < 1").
    wording: str = ""

    def check(self, value: Any, path: str, fail: Fail) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise fail(path, f"must be a number, got {show(value)}")
        try:
            out = float(value)
        except OverflowError:
            out = math.inf
        if not math.isfinite(out):
            raise fail(path, f"must be a finite number, got {show(value)}")
        low_ok = (self.gt is None or out > self.gt) and (self.ge is None or out >= self.ge)
        if not (low_ok and (self.lt is None or out < self.lt)):
            raise fail(path, f"must be {self.expected()}, got {show(value)}")
        if self.le is not None and out > self.le:
            raise fail(path, f"must be at most {self.le:,}, got {show(value)}")
        return out

    def expected(self) -> str:
        if self.gt is not None and self.lt is not None:
            return f"strictly between {self.gt} and {self.lt}"
        pairs = ((">", self.gt), (">=", self.ge), ("<", self.lt))
        kept = [f"{op} {b}" for op, b in pairs if b is not None]
        return " ".join(filter(None, (self.wording, " and ".join(kept))))

    def shape(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "number"}
        for name, bound in (("exclusiveMinimum", self.gt), ("minimum", self.ge),
                            ("exclusiveMaximum", self.lt), ("maximum", self.le)):  # fmt: skip
            if bound is not None:
                out[name] = bound
        return out


@dataclass(frozen=True, kw_only=True)
class Text(Rule):
    """A string that is not blank."""

    def check(self, value: Any, path: str, fail: Fail) -> str:
        if not isinstance(value, str) or not value.strip():
            raise fail(path, f"must be a non-empty string, got {show(value)}")
        return value

    def shape(self) -> dict[str, Any]:
        return {"type": "string", "minLength": 1, "pattern": r"\S"}


@dataclass(frozen=True, kw_only=True)
class Pattern(Rule):
    """A string matching `pattern` whole; `help` says in words what that is."""

    pattern: re.Pattern[str]
    noun: str
    help: str

    def check(self, value: Any, path: str, fail: Fail) -> str:
        if not isinstance(value, str) or not self.pattern.fullmatch(value):
            raise fail(path, f"must be {self.noun} ({self.help}), got {show(value)}")
        return value

    def shape(self) -> dict[str, Any]:
        return {"type": "string", "pattern": f"^{self.pattern.pattern}$"}


@dataclass(frozen=True, kw_only=True)
class Flag(Rule):
    """true or false."""

    def check(self, value: Any, path: str, fail: Fail) -> bool:
        if not isinstance(value, bool):
            raise fail(path, f"must be true or false, got {show(value)}")
        return value

    def shape(self) -> dict[str, Any]:
        return {"type": "boolean"}


@dataclass(frozen=True, kw_only=True)
class Day(Rule):
    """A TOML date (a string of format ``date`` in the schema)."""

    def check(self, value: Any, path: str, fail: Fail) -> date:
        if isinstance(value, datetime):
            raise fail(path, f"must be a date without a time, got {show(value)}")
        if not isinstance(value, date):
            hint = " (no quotes)" if isinstance(value, str) else ""
            raise fail(path, f"must be a TOML date like 2026-04-01{hint}, got {show(value)}")
        return value

    def shape(self) -> dict[str, Any]:
        return {"type": "string", "format": "date"}


@dataclass(frozen=True, kw_only=True)
class Choice(Rule):
    """One of `options` (strings)."""

    options: tuple[str, ...]

    def check(self, value: Any, path: str, fail: Fail) -> str:
        if not isinstance(value, str) or value not in self.options:
            listed = ", ".join(repr(a) for a in self.options)
            raise fail(path, f"must be one of {listed}, got {show(value)}")
        return value

    def shape(self) -> dict[str, Any]:
        return {"enum": list(self.options)}


@dataclass(frozen=True, kw_only=True)
class Const(Rule):
    """Exactly `value`: the tag of a :class:`Tagged` variant."""

    value: str

    def check(self, value: Any, path: str, fail: Fail) -> str:
        if value != self.value:
            raise fail(path, f"must be {self.value!r}, got {show(value)}")
        return self.value

    def shape(self) -> dict[str, Any]:
        return {"const": self.value}


@dataclass(frozen=True, kw_only=True)
class Array(Rule):
    """An array of `item`, at least `min_items` of them.

    With `ascending` (a plural noun: "levels"), items must be sorted and unique.
    """

    item: Rule
    min_items: int = 0
    #: The message when there are fewer than `min_items`.
    empty: str = ""
    ascending: str = ""
    unique: bool = False
    #: The message when a table is given (an array of tables was meant).
    if_table: str = ""

    def items_of(self, value: Any, path: str, fail: Fail) -> list[Any]:
        """The raw items, after checking the array and its length (not the items)."""
        if self.if_table and isinstance(value, Mapping):
            raise fail(path, self.if_table)
        if not isinstance(value, list | tuple):
            raise fail(path, f"must be an array, got {show(value)}")
        if len(value) < self.min_items:
            raise fail(path, self.empty)
        return list(value)

    def check(self, value: Any, path: str, fail: Fail) -> tuple[Any, ...]:
        out: list[Any] = []
        for i, raw in enumerate(self.items_of(value, path, fail)):
            item = self.item.check(raw, f"{path}[{i}]", fail)
            if self.ascending and out and item <= out[-1]:
                raise fail(
                    f"{path}[{i}]",
                    f"{self.ascending} must be sorted and unique; {item} follows {out[-1]}",
                )
            out.append(item)
        return tuple(out)

    def shape(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "array", "items": self.item.schema()}
        if self.min_items:
            out["minItems"] = self.min_items
        if self.unique or self.ascending:
            out["uniqueItems"] = True
        return out


@dataclass(frozen=True)
class Key:
    """A key of a :class:`Table`: its rule, whether it is required, its default."""

    rule: Rule
    required: bool = False
    default: Any = None


@dataclass(frozen=True, kw_only=True)
class Table(Rule):
    """A table with the keys of `keys`, in that order; unknown keys are errors."""

    keys: Mapping[str, Key]

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(k for k, key in self.keys.items() if key.required)

    def keys_of(self, value: Any, path: str, fail: Fail) -> dict[str, Any]:
        """The raw table, after checking that it is one, its keys known and complete."""
        if not isinstance(value, Mapping):
            raise fail(path or "file", f"must be a table, got {show(value)}")
        for k in value:
            if k not in self.keys:
                allowed = ", ".join(self.keys) or "none"
                raise fail(join(path, k), f"unknown key; allowed: {allowed}")
        for k in self.required:
            if k not in value:
                raise fail(join(path, k), "is required")
        return dict(value)

    def check(self, value: Any, path: str, fail: Fail) -> dict[str, Any]:
        """Every key checked in the declared order; defaults filled in where declared."""
        raw = self.keys_of(value, path, fail)
        out: dict[str, Any] = {}
        for k, key in self.keys.items():
            if k in raw:
                out[k] = key.rule.check(raw[k], join(path, k), fail)
            elif key.default is not None:
                out[k] = key.default
        return out

    def get(self, raw: Mapping[str, Any], k: str, path: str, fail: Fail) -> Any:
        """One key of a raw table checked, or its default (None without one)."""
        key = self.keys[k]
        return key.rule.check(raw[k], join(path, k), fail) if k in raw else key.default

    def shape(self) -> dict[str, Any]:
        props: dict[str, Any] = {}
        for k, key in self.keys.items():
            props[k] = key.rule.schema()
            if key.default is not None:
                props[k]["default"] = _json(key.default)
        out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
        if self.required:
            out["required"] = list(self.required)
        return out


@dataclass(frozen=True, kw_only=True)
class Tagged(Rule):
    """A table whose `tag` key chooses among `variants` (each variant holds the tag key)."""

    tag: str
    variants: Mapping[str, Table]

    def check(self, value: Any, path: str, fail: Fail) -> tuple[str, dict[str, Any]]:
        if not isinstance(value, Mapping):
            raise fail(path, f"must be a table, got {show(value)}")
        if self.tag not in value:
            listed = ", ".join(self.variants)
            raise fail(join(path, self.tag), f"is required; one of {listed}")
        kind = Choice(options=tuple(self.variants)).check(
            value[self.tag], join(path, self.tag), fail
        )
        return kind, self.variants[kind].check(value, path, fail)

    def shape(self) -> dict[str, Any]:
        return {"oneOf": [variant.schema() for variant in self.variants.values()]}


# --------------------------------------------------------------------------------------
# Values and key paths as written in TOML

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def join(path: str, key: Any) -> str:
    """``run`` + ``seed`` -> ``run.seed``; keys that are not bare are quoted."""
    text = str(key)
    shown = (
        text
        if _BARE_KEY.fullmatch(text)
        else '"' + text.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'
    )
    return f"{path}.{shown}" if path else shown


def show(value: Any, limit: int = 60) -> str:
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
        inner = ", ".join(f"{join('', k)} = {_toml(v)}" for k, v in list(value.items())[:8])
        return "{ " + inner + " }" if inner else "{}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in list(value)[:8]) + "]"
    if isinstance(value, int) and abs(value) > 10**30:
        return f"{'-' if value < 0 else ''}a {len(str(abs(value)))}-digit number"
    return repr(value)


def _json(value: Any) -> Any:
    """A default as JSON: tuples as lists."""
    if isinstance(value, tuple):
        return [_json(v) for v in value]
    return value
