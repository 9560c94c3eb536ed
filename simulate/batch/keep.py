"""A task's result as data only: a JSON document of its structure and scalars, and the arrays
in an ``.npz`` file.

Kept results live in the output folder (``.<run name>.partial/``), which may be shared (a
network drive, a CI cache), so reading them back must never run code: no pickle, no
``eval``, no type named by the file and looked up by name, no ``np.load(allow_pickle=True)``.
:func:`encode` walks a :class:`~simulate.pipeline.SeriesResult` field by field through a
closed list of the known types (:data:`CLASSES` and plain values: ``None``, ``bool``, ``int``,
``float``, ``str``, ``date``, lists, tuples, dicts with string keys, NumPy arrays and scalars
of numeric, boolean and date dtypes); :func:`decode` rebuilds exactly those types, checks
every dataclass field's type, and raises ``ValueError`` (or ``TypeError``/``KeyError``) on
anything else. ``decode(*encode(r))`` equals ``r`` value for value and type for type, so a
resumed run writes the same bytes as an uninterrupted one.

Examples
--------
>>> enc = _Encoder()
>>> enc.value((1, 2.5, date(2026, 1, 1), np.arange(3)))  # doctest: +NORMALIZE_WHITESPACE
{'$': 'tuple', 'items': [1, 2.5, {'$': 'date', 'iso': '2026-01-01'},
                         {'$': 'array', 'ref': 'a0'}]}
>>> _Decoder(enc.arrays).value({"$": "date", "iso": "2026-01-01"})
datetime.date(2026, 1, 1)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import numpy as np

from ..engine import MonthTotal, Projection
from ..models import DailySeries, FittedModel, ModelSpec
from ..models.observation import ObservationModel
from ..pipeline import SeriesResult

__all__ = ["FORMAT", "CLASSES", "encode", "decode"]

#: What a kept result's JSON document says it is; a document of another format is not read.
FORMAT = "attrition kept task result, version 1"

#: Array dtypes a kept result may hold: booleans, numbers, dates and time spans.
_DTYPE_KINDS = "biufcMm"


def _of(*types: type) -> Callable[[object], bool]:
    return lambda v: isinstance(v, types)


def _opt(*types: type) -> Callable[[object], bool]:
    return lambda v: v is None or isinstance(v, types)


def _dict_of(check: Callable[[object], bool]) -> Callable[[object], bool]:
    return lambda v: (
        isinstance(v, dict) and all(isinstance(k, str) and check(x) for k, x in v.items())
    )


def _tuple_of(check: Callable[[object], bool]) -> Callable[[object], bool]:
    return lambda v: isinstance(v, tuple) and all(check(x) for x in v)


_STR, _INT, _FLOAT, _DATE, _ARRAY = _of(str), _of(int), _of(float), _of(date), _of(np.ndarray)
_NUMBER = _of(int, float)

#: The dataclasses a kept result is made of, by name, each with a check of every field's
#: decoded value (all fields, in declaration order: a document naming other fields is
#: refused). :class:`ModelSpec` is rebuilt through its constructor, which validates it.
CLASSES: dict[str, tuple[type, dict[str, Callable[[object], bool]]]] = {
    "SeriesResult": (SeriesResult, {
        "series": _of(DailySeries),
        "model": _of(FittedModel),
        "projections": _dict_of(_of(Projection)),
        "record": _INT,
        "seconds": _FLOAT,
        "choice": _opt(dict),
        "platforms": _tuple_of(_of(dict)),
    }),
    "DailySeries": (DailySeries, {
        "name": _STR, "source": _STR, "reported_by": _STR, "start": _DATE, "y": _ARRAY,
        "last_total": _INT, "granularity": _INT, "n_clipped": _INT,
    }),
    "FittedModel": (FittedModel, {
        "spec": _of(ModelSpec), "series": _STR, "source": _STR, "reported_by": _STR,
        "start": _DATE, "origin": _DATE, "n_obs": _INT, "last_total": _INT,
        "params": _dict_of(_NUMBER), "stderr": _dict_of(_NUMBER), "cov": _opt(np.ndarray),
        "loglik": _opt(float), "aic": _opt(float), "fitted": _ARRAY,
        "observation": _of(ObservationModel), "diagnostics": _dict_of(_NUMBER),
        "path_inputs": _of(dict), "empirical": _opt(np.ndarray),
    }),
    "ObservationModel": (ObservationModel, {
        "family": _STR, "dispersion": _opt(float), "sigma": _opt(float), "offset": _FLOAT,
        "granularity": _INT,
    }),
    "Projection": (Projection, {
        "scenario": _STR, "dates": _ARRAY, "levels": _ARRAY, "daily_quantiles": _ARRAY,
        "daily_mean": _ARRAY, "cum_quantiles": _ARRAY, "cum_mean": _ARRAY,
        "horizon_total_quantiles": _ARRAY, "horizon_total_mean": _FLOAT,
        "month_totals": _tuple_of(_of(MonthTotal)), "thresholds": _ARRAY,
        "threshold_prob": _ARRAY, "threshold_day_quantiles": _ARRAY,
        "record": _opt(float, int), "record_prob": _opt(float), "final_cumulative": _ARRAY,
        "contrast_quantiles": _opt(np.ndarray), "contrast_mean": _opt(np.ndarray),
        "samples": _opt(np.ndarray),
    }),
    "MonthTotal": (MonthTotal, {
        "month": _STR, "days": _INT, "days_in_month": _INT, "quantiles": _ARRAY,
        "mean": _FLOAT,
    }),
}  # fmt: skip

_NAMES = {cls: name for name, (cls, _) in CLASSES.items()}


def encode(result: SeriesResult) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """A task result as a JSON-ready document and the arrays it refers to by name.

    Raises
    ------
    TypeError
        A value of a type outside the closed list (a programming error: the round-trip tests
        cover every model kind).
    """
    enc = _Encoder()
    return enc.value(result), enc.arrays


def decode(doc: object, arrays: Mapping[str, np.ndarray]) -> SeriesResult:
    """The task result of :func:`encode`'s document and arrays.

    Raises
    ------
    ValueError, TypeError, KeyError
        Anything that is not exactly what :func:`encode` writes.
    """
    dec = _Decoder(arrays)
    result = dec.value(doc)
    if not isinstance(result, SeriesResult):
        raise TypeError(f"a kept result is a SeriesResult, not {type(result).__name__}")
    if dec.used != set(arrays):
        raise ValueError("the arrays do not match the document")
    return result


class _Encoder:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def _array(self, a: np.ndarray) -> str:
        if a.dtype.kind not in _DTYPE_KINDS or a.dtype.hasobject:
            raise TypeError(f"arrays of dtype {a.dtype} are not kept")
        name = f"a{len(self.arrays)}"
        self.arrays[name] = a
        return name

    def value(self, v: object) -> Any:
        if v is None or type(v) in (bool, int, float, str):
            return v
        if isinstance(v, np.ndarray) and type(v) is np.ndarray:
            return {"$": "array", "ref": self._array(v)}
        if isinstance(v, np.generic):
            return {"$": "scalar", "ref": self._array(np.asarray(v))}
        if type(v) is date:
            return {"$": "date", "iso": v.isoformat()}
        if type(v) is list:
            return [self.value(x) for x in v]
        if type(v) is tuple:
            return {"$": "tuple", "items": [self.value(x) for x in v]}
        if type(v) is dict:
            if not all(type(k) is str for k in v):
                raise TypeError("only dicts with string keys are kept")
            return {"$": "dict", "items": [[k, self.value(x)] for k, x in v.items()]}
        if type(v) is ModelSpec:
            return {"$": "ModelSpec", "kind": v.kind, "window": v.window,
                    "options": self.value(dict(v.options))}  # fmt: skip
        if type(v) in _NAMES:
            names = [f.name for f in dataclasses.fields(type(v))]  # type: ignore[arg-type]
            fields = {name: self.value(getattr(v, name)) for name in names}
            return {"$": _NAMES[type(v)], "fields": fields}
        raise TypeError(f"values of type {type(v).__name__} are not kept")


class _Decoder:
    def __init__(self, arrays: Mapping[str, np.ndarray]) -> None:
        self.arrays = arrays
        self.used: set[str] = set()

    def _array(self, doc: dict[str, Any]) -> np.ndarray:
        ref = doc["ref"]
        if not isinstance(ref, str) or ref in self.used:
            raise ValueError(f"array reference {ref!r} is not a fresh name")
        a = self.arrays[ref]
        if type(a) is not np.ndarray or a.dtype.kind not in _DTYPE_KINDS or a.dtype.hasobject:
            raise TypeError(f"array {ref!r} is not a plain array of numbers or dates")
        self.used.add(ref)
        return a

    def value(self, doc: object) -> Any:
        if doc is None or type(doc) in (bool, int, float, str):
            return doc
        if type(doc) is list:
            return [self.value(x) for x in doc]
        if type(doc) is not dict:
            raise TypeError(f"unexpected {type(doc).__name__} in a kept result")
        tag = doc.get("$")
        if tag == "array":
            _keys(doc, "$", "ref")
            return self._array(doc)
        if tag == "scalar":
            _keys(doc, "$", "ref")
            a = self._array(doc)
            if a.ndim != 0:
                raise ValueError("a kept scalar is a 0-d array")
            return a[()]
        if tag == "date":
            _keys(doc, "$", "iso")
            return date.fromisoformat(_str(doc["iso"]))
        if tag == "tuple":
            _keys(doc, "$", "items")
            return tuple(self.value(x) for x in _list(doc["items"]))
        if tag == "dict":
            _keys(doc, "$", "items")
            out: dict[str, Any] = {}
            for item in _list(doc["items"]):
                k, x = _list(item)
                if _str(k) in out:
                    raise ValueError(f"key {k!r} twice")
                out[k] = self.value(x)
            return out
        if tag == "ModelSpec":
            _keys(doc, "$", "kind", "window", "options")
            window = doc["window"]
            if window is not None and type(window) is not int:
                raise TypeError("ModelSpec window")
            options = self.value(doc["options"])
            if type(options) is not dict:
                raise TypeError("ModelSpec options")
            return ModelSpec(_str(doc["kind"]), window=window, options=options)  # type: ignore[arg-type]
        if isinstance(tag, str) and tag in CLASSES:
            _keys(doc, "$", "fields")
            cls, checks = CLASSES[tag]
            fields = doc["fields"]
            if type(fields) is not dict or list(fields) != list(checks):
                raise ValueError(f"{tag}: the fields are not {', '.join(checks)}")
            values = {name: self.value(x) for name, x in fields.items()}
            for name, check in checks.items():
                if not check(values[name]):
                    raise TypeError(f"{tag}.{name}: unexpected {type(values[name]).__name__}")
            return cls(**values)
        raise ValueError(f"unknown kind of value {tag!r}")


def _keys(doc: dict[str, Any], *names: str) -> None:
    if list(doc) != list(names):
        raise ValueError(f"expected the keys {', '.join(names)}, got {', '.join(map(str, doc))}")


def _str(v: object) -> str:
    if type(v) is not str:
        raise TypeError(f"expected a string, got {type(v).__name__}")
    return v


def _list(v: object) -> list[Any]:
    if type(v) is not list:
        raise TypeError(f"expected a list, got {type(v).__name__}")
    return v
