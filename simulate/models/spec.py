"""Model specifications: a kind plus options, validated when built (no fitting here)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from ..errors import ModelError

__all__ = [
    "ModelKind",
    "MODEL_KINDS",
    "DEFAULT_OPTIONS",
    "ModelSpec",
    "DEFAULT_WINDOW",
    "HUB_QUANTILES",
]

ModelKind = Literal["trend-nb", "local-trend", "changepoint", "bootstrap", "naive", "analog"]
MODEL_KINDS: tuple[str, ...] = (
    "trend-nb",
    "local-trend",
    "changepoint",
    "bootstrap",
    "naive",
    "analog",
)

#: The 23 quantile levels of the forecast and scenario hubs: what tables report, backtests score
#: and fits measure their in-sample pinball loss on.
HUB_QUANTILES: tuple[float, ...] = (
    0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5,
    0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.975, 0.99,
)  # fmt: skip

#: Trailing fit window (days) when a spec does not say.
DEFAULT_WINDOW = 180

#: Options of each kind and their defaults. The type of the default is the type required.
DEFAULT_OPTIONS: dict[str, dict[str, bool | int | float]] = {
    # log mu_t = a + b t (+ day-of-week effects); negative-binomial counts
    "trend-nb": {"day_of_week": False},
    # local linear trend on log(y + c); damped slope when `damped`
    "local-trend": {"damped": True},
    # piecewise-linear log intensity; `n_changepoints` candidate points over the first
    # `changepoint_range` of the window, each change of slope shrunk by a Laplace prior of
    # scale `prior_scale` on the change per month (30 days) of the log expected figure
    "changepoint": {"n_changepoints": 20, "changepoint_range": 0.8, "prior_scale": 0.05},
    # moving-block bootstrap of the last `recent` days in blocks of `block` days
    "bootstrap": {"block": 7, "recent": 56},
    # each future day drawn independently from the last `k` days
    "naive": {"k": 28},
    # today's level times the past's movements relative to its level, weighted by recency
    # (whole history; `window` is not used); daily noise from the last `regime` days (0: the
    # analogs' own); see simulate.models.analog
    "analog": {"segment": 90, "half_life": 365.0, "drift": False, "regime": 91},
}


@dataclass(frozen=True)
class ModelSpec:
    """What to fit: a model kind, a trailing window and options.

    Parameters
    ----------
    kind
        One of ``trend-nb``, ``local-trend``, ``changepoint``, ``bootstrap``, ``naive``.
    window
        Fit on the last `window` days (``None``: the whole history). Default 180.
    options
        Kind-specific options (see :data:`DEFAULT_OPTIONS`); unknown keys are errors.

    Examples
    --------
    >>> ModelSpec("local-trend", window=120).option("damped")
    True
    >>> ModelSpec("naive", options={"k": 0})
    Traceback (most recent call last):
    ...
    simulate.errors.ModelError: model 'naive': option 'k': must be >= 1, got 0
    """

    kind: ModelKind
    window: int | None = DEFAULT_WINDOW
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in MODEL_KINDS:
            raise ModelError(
                f"model kind {self.kind!r} is unknown; expected one of {', '.join(MODEL_KINDS)}"
            )
        if self.window is not None and (
            isinstance(self.window, bool) or not isinstance(self.window, int) or self.window < 14
        ):
            raise ModelError(
                f"model {self.kind!r}: window: must be a whole number of days >= 14, "
                f"got {self.window!r}"
            )
        defaults = DEFAULT_OPTIONS[self.kind]
        clean: dict[str, Any] = {}
        for key, value in self.options.items():
            if key not in defaults:
                allowed = ", ".join(defaults) or "none"
                raise ModelError(
                    f"model {self.kind!r}: option {key!r} is unknown; allowed: {allowed}"
                )
            clean[key] = _check_option(self.kind, key, value, defaults[key])
        object.__setattr__(self, "options", MappingProxyType(clean))

    def __reduce__(self) -> tuple[type[ModelSpec], tuple[Any, ...]]:
        # The options are a read-only view, which does not pickle: rebuild from a plain dict.
        return (type(self), (self.kind, self.window, dict(self.options)))

    def option(self, key: str) -> Any:
        """The value of an option, or its default."""
        return self.options.get(key, DEFAULT_OPTIONS[self.kind][key])

    @property
    def label(self) -> str:
        """The kind, followed by the options that differ from their defaults, e.g.
        ``analog (drift=true)``.

        >>> ModelSpec("analog", options={"drift": True}).label
        'analog (drift=true)'
        """
        changed = [
            f"{k}={str(v).lower() if isinstance(v, bool) else v}"
            for k, v in self.options.items()
            if v != DEFAULT_OPTIONS[self.kind][k]
        ]
        return f"{self.kind} ({', '.join(changed)})" if changed else self.kind

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, defaults filled in."""
        opts = {k: self.option(k) for k in DEFAULT_OPTIONS[self.kind]}
        return {"kind": self.kind, "window": self.window, "options": opts}


#: Whole-number options for which 0 means "off".
_ZERO_ALLOWED = frozenset({"regime"})


def _check_option(kind: str, key: str, value: Any, default: bool | int | float) -> Any:
    where = f"model {kind!r}: option {key!r}"
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ModelError(f"{where}: must be true or false, got {value!r}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ModelError(f"{where}: must be a whole number, got {value!r}")
        least = 0 if key in _ZERO_ALLOWED else 1
        if value < least:
            raise ModelError(f"{where}: must be >= {least}, got {value}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ModelError(f"{where}: must be a number, got {value!r}")
    if not math.isfinite(value) or not 0 < float(value) <= (
        1.0 if key == "changepoint_range" else math.inf
    ):
        bound = "in (0, 1]" if key == "changepoint_range" else "> 0"
        raise ModelError(f"{where}: must be {bound}, got {value}")
    return float(value)
