"""The validated configuration of a scenario file: frozen dataclasses and their constants.

What :func:`simulate.scenarios.parse.parse_scenario` builds and the rest of the package reads:
:class:`ScenarioFile` (``[run]``, ``[data]``, ``[model]``, ``[[scenario]]``, ``[outputs]``),
each :class:`Scenario`'s adjustments (:class:`Multiply`, :class:`Ramp`, :class:`Decay`,
:class:`Ceasefire`, :class:`Surge`) with their possibly uncertain factors (:class:`Uniform`,
:class:`LogNormal`), and :class:`FactorDraw`, what the engine draws per path. No parsing, no
maths, no files here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, TypeAlias

from ..data.policy import DataPolicy
from ..models.spec import HUB_QUANTILES, ModelSpec

__all__ = [
    "Uniform",
    "LogNormal",
    "Factor",
    "Multiply",
    "Ramp",
    "Decay",
    "Ceasefire",
    "Surge",
    "Adjustment",
    "ADJUSTMENT_TYPES",
    "Scenario",
    "RunConfig",
    "DataConfig",
    "OutputsConfig",
    "TableFormat",
    "TABLE_FORMATS",
    "ScenarioFile",
    "FactorDraw",
    "HUB_QUANTILES",
    "DEFAULT_PATHS",
    "MAX_SCENARIOS",
    "MAX_HORIZON",
    "HORIZON_UNIT",
    "MAX_PATHS",
    "MAX_FACTOR",
    "MAX_SD_LOG",
    "SAFE_NAME",
]

#: Default number of simulated paths.
DEFAULT_PATHS = 10_000
#: Most scenarios a file may expand to (through ``[[sweep]]``).
MAX_SCENARIOS = 10_000
#: Most days a run may project: 100 years of daily figures. Longer is never meant (a typo, or
#: an end date in the wrong century), and every per-day table grows with it.
MAX_HORIZON = 36_500
#: What :data:`MAX_HORIZON` is, in the words of the messages.
HORIZON_UNIT = "days (100 years of daily figures)"
#: Most simulated paths a file may ask for; what fits in memory is usually far less, and is
#: checked before a run starts (:mod:`simulate.budget`).
MAX_PATHS = 1_000_000_000
#: Largest factor (and largest bound of an uncertain one) an adjustment may apply: with the
#: other bounds it keeps every projected total far within what a 64-bit count can hold.
MAX_FACTOR = 1_000
#: Largest ``sd_log`` of a lognormal factor (one standard deviation: a factor of e**3 = 20).
MAX_SD_LOG = 3
#: Names of runs and scenarios (they become file and directory names).
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


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


#: How a run directory's tables are written: ``[outputs] format``, ``attrition run --format``.
TableFormat: TypeAlias = Literal["csv", "parquet"]
#: The values of :data:`TableFormat`.
TABLE_FORMATS: tuple[TableFormat, ...] = ("csv", "parquet")


@dataclass(frozen=True)
class OutputsConfig:
    """``[outputs]``: quantile levels, thresholds of the cumulative total, charts, and the
    format of the run directory's tables."""

    quantiles: tuple[float, ...] = HUB_QUANTILES
    thresholds: tuple[int, ...] | Mapping[str, tuple[int, ...]] = ()
    charts: bool = True
    format: TableFormat = "csv"
    #: A backtest directory of the same model and series, for the report (None: none).
    backtest: str | None = None

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
        The file it was read from (or the label given to
        :func:`~simulate.scenarios.parse.parse_scenario`).
    scenarios
        At least one; names unique; exactly one has ``reference=True``.
    """

    source: str
    run: RunConfig
    data: DataConfig
    model: ModelSpec
    scenarios: tuple[Scenario, ...]
    outputs: OutputsConfig = field(default_factory=OutputsConfig)
    #: ``kind = "auto"``: each series' drift is chosen when the file runs (``model`` is then the
    #: analog model with the file's other options).
    auto_model: bool = False
    #: Scenarios made by ``[[sweep]]``: name -> {key path: value (as text)}.
    swept: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def reference(self) -> Scenario:
        """The scenario the others are contrasted with."""
        return next(s for s in self.scenarios if s.reference)


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
