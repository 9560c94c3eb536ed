"""Reading a scenario file (TOML) and validating it into a :class:`ScenarioFile`.

The whole file is validated before anything else happens, against the keys declared in
:mod:`simulate.scenarios.keys` plus the rules that tie keys together (exactly one of horizon
and end, end after as_of, unique names, one reference scenario, windows of one kind that do
not overlap, thresholds of known series). The first problem found is raised as one
:class:`~simulate.errors.ScenarioError` whose message is a single line
``{file}: {key.path}: {what is wrong}``, for example::

    scenarios/x.toml: scenario[1].adjust[0].factor: must be > 0, got -2

Indices in key paths are 0-based. This is the only module of the package that reads TOML.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from ..data.policy import CHOICES as POLICY_CHOICES
from ..data.policy import DataPolicy
from ..data.vocabulary import canonical_name
from ..errors import ModelError, PolicyError, ScenarioError
from ..models.spec import ModelKind, ModelSpec
from . import keys
from .config import (
    Adjustment,
    Ceasefire,
    DataConfig,
    Decay,
    Multiply,
    OutputsConfig,
    Ramp,
    RunConfig,
    Scenario,
    ScenarioFile,
    Surge,
)
from .rules import Table, show
from .sweep import expand

__all__ = ["load_scenario_file", "parse_scenario"]


#: What a path that is not a regular file is, for the message that refuses it.
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def load_scenario_file(path: str | os.PathLike[str]) -> ScenarioFile:
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
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):  # opening a named pipe would wait for a writer, deaf to Ctrl-C
            what = next((w for test, w in _KINDS if test(mode)), "a special file")
            raise ScenarioError(
                label, "", f"not a regular file (it is {what}); expected a scenario file (TOML)"
            )
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

    Returns the validated :class:`ScenarioFile`; raises :class:`ScenarioError` on the first
    problem found, naming `source` and the key path.

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

    def get(self, table: Table, raw: Mapping[str, Any], key: str, path: str) -> Any:
        return table.get(raw, key, path, self.fail)

    def file(self, doc: Any) -> ScenarioFile:
        top = keys.FILE.keys_of(doc, "", self.fail)
        data = self.data(top["data"])
        run = self.run(top["run"])
        model = self.model(top["model"])
        scenarios = self.scenarios(top["scenario"])
        swept: dict[str, dict[str, str]] = {}
        if "sweep" in top:
            scenarios, swept = expand(
                top["sweep"], top["scenario"], scenarios, self.fail, self.swept_scenario
            )
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
        t = keys.RUN.keys_of(value, "run", self.fail)
        name = self.get(keys.RUN, t, "name", "run")
        seed = self.get(keys.RUN, t, "seed", "run")
        paths = self.get(keys.RUN, t, "paths", "run")
        if ("horizon" in t) == ("end" in t):
            got = "both" if "horizon" in t else "neither"
            raise self.fail("run", f"give exactly one of horizon (days) and end (date), got {got}")
        horizon = self.get(keys.RUN, t, "horizon", "run")
        end = self.get(keys.RUN, t, "end", "run")
        as_of = self.get(keys.RUN, t, "as_of", "run")
        if end is not None and as_of is not None and end <= as_of:
            raise self.fail("run.end", f"must be after run.as_of ({as_of}), got {end}")
        return RunConfig(name, seed, paths, horizon, end, as_of)

    def data(self, value: Any) -> DataConfig:
        t = keys.DATA.keys_of(value, "data", self.fail)
        source = self.get(keys.DATA, t, "source", "data")
        series: list[str] = []
        for i, item in enumerate(keys.SERIES.items_of(t["series"], "data.series", self.fail)):
            path = f"data.series[{i}]"
            name = canonical_name(keys.SERIES.item.check(item, path, self.fail))
            if not name:
                raise self.fail(path, f"is not a series name, got {show(item)}")
            if name in series:
                first = series.index(name)
                raise self.fail(
                    path, f"{show(item)} repeats series {name!r} (data.series[{first}])"
                )
            series.append(name)
        reported_by = self.get(keys.DATA, t, "reported_by", "data")
        # the policy's rules in the order of its vocabulary, then its other settings
        options: dict[str, Any] = {}
        for key in (*POLICY_CHOICES, "correction_window", "start"):
            if key in t:
                options[key] = self.get(keys.DATA, t, key, "data")
        try:
            policy = DataPolicy(**options)
        except PolicyError as exc:  # kept in step with DataPolicy should its rules grow
            raise self.fail("data", str(exc)) from None
        return DataConfig(source, tuple(series), reported_by, policy)

    def model(self, value: Any) -> ModelSpec:
        t = keys.MODEL.keys_of(value, "model", self.fail)
        chosen = self.get(keys.MODEL, t, "kind", "model")
        if chosen == "auto":
            # the analog model, its drift chosen per series when the file runs
            # (simulate.evaluation.selection.choose_model): the spec carries the other options
            options = t.get("options")
            if isinstance(options, dict) and "drift" in options:
                raise self.fail(
                    "model.options.drift", "kind 'auto' chooses drift itself; remove the key"
                )
            self.auto = True
            chosen = "analog"
        kind: ModelKind = chosen
        window = self.get(keys.MODEL, t, "window", "model")
        table = keys.OPTIONS.of(kind)
        raw = table.keys_of(t.get("options", {}), "model.options", self.fail)
        # in the file's order, so that the first option written wrong is the one named
        options = {k: self.get(table, raw, k, "model.options") for k in raw}
        try:
            return ModelSpec(kind, window=window, options=options)
        except ModelError as exc:  # pragma: no cover - every part was checked above
            raise self.fail("model", str(exc)) from None

    def scenarios(self, value: Any) -> tuple[Scenario, ...]:
        parsed: list[Scenario] = []
        names: dict[str, int] = {}
        reference: int | None = None
        for i, item in enumerate(keys.SCENARIOS.items_of(value, "scenario", self.fail)):
            path = f"scenario[{i}]"
            t = keys.SCENARIO.keys_of(item, path, self.fail)
            name = self.get(keys.SCENARIO, t, "name", path)
            if name in names:
                raise self.fail(
                    f"{path}.name", f"{name!r} is already the name of scenario[{names[name]}]"
                )
            names[name] = i
            is_ref = self.get(keys.SCENARIO, t, "reference", path)
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

    def swept_scenario(self, item: Any, where: str) -> Scenario:
        """A scenario made by a sweep, `where` naming it in messages."""
        t = keys.SWEPT_SCENARIO.keys_of(item, where, self.fail)
        return Scenario(t["name"], self.adjustments(t, where))

    def adjustments(self, t: Mapping[str, Any], path: str) -> tuple[Adjustment, ...]:
        raw = keys.ADJUSTMENTS.items_of(t.get("adjust", []), f"{path}.adjust", self.fail)
        adjustments: list[Adjustment] = []
        for j, item in enumerate(raw):
            where = f"{path}.adjust[{j}]"
            kind, values = keys.ADJUSTMENT.check(item, where, self.fail)
            adjustments.append(self.adjustment(kind, values, where))
        self.no_overlaps(adjustments, path)
        return tuple(adjustments)

    def adjustment(self, kind: str, v: Mapping[str, Any], path: str) -> Adjustment:
        """The adjustment of a checked table (`v`: its values, defaults filled in)."""
        if "end" in v and v["end"] <= v["start"]:
            raise self.fail(f"{path}.end", f"must be after start ({v['start']}), got {v['end']}")
        if kind == "multiply":
            return Multiply(v["factor"], v["start"], v.get("end"))
        if kind == "ramp":
            return Ramp(v["from"], v["to"], v["start"], v["end"])
        if kind == "decay":
            return Decay(v["half_life"], v["start"])
        if kind == "ceasefire":
            return Ceasefire(v["start"], v["residual"], v["breakdown_per_day"])
        return Surge(v["start"], v["days"], v["extra"])

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

    def outputs(self, value: Any, series: tuple[str, ...]) -> OutputsConfig:
        t = keys.OUTPUTS.keys_of(value, "outputs", self.fail)
        quantiles = self.get(keys.OUTPUTS, t, "quantiles", "outputs")
        thresholds = keys.THRESHOLDS.of(
            t.get("thresholds", ()), "outputs.thresholds", self.fail, series
        )
        charts = self.get(keys.OUTPUTS, t, "charts", "outputs")
        fmt = self.get(keys.OUTPUTS, t, "format", "outputs")
        backtest = self.get(keys.OUTPUTS, t, "backtest", "outputs")
        return OutputsConfig(quantiles, thresholds, charts, fmt, backtest)


def _window(start: date, end: date | None) -> str:
    return f"{start}..{end if end is not None else 'open'}"
