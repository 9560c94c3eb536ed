"""Data policy: turn reported figures into a complete daily series, by documented rules.

Nothing here happens silently: every changed row is flagged (``spread``,
``correction_spread``, ``repaired``) and the policy is recorded in the data's provenance.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from typing import Literal

import numpy as np
import polars as pl

from ..errors import PolicyError
from .reported import TABLE_SCHEMA, ReportedData
from .slips import find_slips
from .steps import granularity

__all__ = ["CHOICES", "DataPolicy", "apply_policy", "spread_integer"]

#: The data-policy vocabulary: each rule's allowed values, the default first. The scenario
#: files, their JSON Schema and the command line all take their choices from here.
CHOICES: dict[str, tuple[str, ...]] = {
    "gaps": ("spread", "raise"),
    "corrections": ("keep", "spread"),
    "slips": ("keep", "repair"),
}


@dataclass(frozen=True)
class DataPolicy:
    """How to treat imperfect reported figures.

    Parameters
    ----------
    gaps
        ``"spread"`` (default): a report after missing days has its change spread evenly over
        the missing days and itself, in units of the reporting granularity, and the filled days
        are flagged ``spread``. ``"raise"``: missing days are an error.
    corrections
        ``"keep"`` (default): negative daily figures stay as reported. ``"spread"``: a negative
        daily figure is netted against the `correction_window` days before it (the window
        grows until the sum is not negative), redistributed in proportion to those days'
        figures, and the days are flagged ``correction_spread``.
    correction_window
        Days over which a correction is spread (default 7).
    slips
        ``"keep"`` (default): figures stay as reported. ``"repair"``: likely transcription slips
        found by :func:`simulate.data.slips.find_slips` are replaced by the suggested totals
        and flagged ``repaired``. Never done unless asked.
    start
        Drop figures dated before this day (default: keep all).
    """

    gaps: Literal["spread", "raise"] = "spread"
    corrections: Literal["keep", "spread"] = "keep"
    correction_window: int = 7
    slips: Literal["keep", "repair"] = "keep"
    start: date | None = None

    def __post_init__(self) -> None:
        for rule, allowed in CHOICES.items():
            value = getattr(self, rule)
            if value not in allowed:
                expected = " or ".join(repr(a) for a in allowed)
                raise PolicyError(f"{rule}: {value!r} is not allowed; expected {expected}")
        if not isinstance(self.correction_window, int) or self.correction_window < 1:
            raise PolicyError(
                f"correction_window: must be a whole number >= 1, got {self.correction_window!r}"
            )

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["start"] = self.start.isoformat() if self.start else None
        return d


def spread_integer(total: int, n: int, step: int = 1) -> np.ndarray:
    """Split `total` into `n` whole parts that differ by at most one `step`.

    Parts are multiples of `step` when `total` is; the larger parts go last, so the result
    is deterministic.

    Examples
    --------
    >>> spread_integer(1000, 3, 10).tolist()
    [330, 330, 340]
    """
    if total % step:
        step = 1
    units = total // step
    base, extra = divmod(units, n)
    parts = np.full(n, base, dtype=np.int64)
    if extra:
        parts[n - extra :] += 1
    return parts * step


def apply_policy(data: ReportedData, policy: DataPolicy | None = None) -> ReportedData:
    """Apply a data policy; the result has one row per series and calendar day.

    Parameters
    ----------
    data
        Figures as reported (from :func:`simulate.data.load`).
    policy
        The policy; the documented defaults when omitted.

    Returns
    -------
    ReportedData
        Same source and reporter, a complete daily table, and ``policy`` recorded.

    Examples
    --------
    >>> from simulate.data import load, apply_policy, DataPolicy
    >>> daily = apply_policy(load("example"), DataPolicy(slips="repair"))
    >>> # three missing days filled, plus the report after them whose figure was spread
    >>> daily.series("personnel").get_column("flags").list.contains("spread").sum()
    4
    """
    policy = policy or DataPolicy()
    # Errors name the file when there is one, so the user knows where to look.
    label = data.files[0].path if len(data.files) == 1 else data.source
    parts = [_apply_series(data.series(name), name, policy, label) for name in data.series_names]
    table = pl.concat(parts).select(list(TABLE_SCHEMA)).cast(TABLE_SCHEMA)  # type: ignore[arg-type]
    return replace(data, table=table, policy=policy.to_dict())


def _apply_series(part: pl.DataFrame, name: str, policy: DataPolicy, source: str) -> pl.DataFrame:
    dates: list[date] = part.get_column("date").to_list()
    cum = part.get_column("cumulative").to_numpy().astype(np.int64).copy()
    flags: list[list[str]] = [list(f) for f in part.get_column("flags").to_list()]
    first_known = "first" not in flags[0]
    first_daily = part.get_column("daily")[0]

    daily_reported = np.diff(cum)
    step = granularity(daily_reported)
    if policy.slips == "repair":
        for slip in find_slips(dates, cum, step):
            i = dates.index(slip.start)
            for j, value in enumerate(slip.suggested):
                cum[i + j] = value
                flags[i + j] = [*flags[i + j], "repaired"]

    n_days = (dates[-1] - dates[0]).days + 1
    full_cum = np.zeros(n_days, dtype=np.int64)
    full_flags: list[list[str]] = [[] for _ in range(n_days)]
    offsets = [(d - dates[0]).days for d in dates]
    full_cum[0] = cum[0]
    full_flags[0] = flags[0]
    for k in range(1, len(dates)):
        a, b = offsets[k - 1], offsets[k]
        if b - a > 1:
            if policy.gaps == "raise":
                raise PolicyError(
                    f"{source}: series {name!r}: {b - a - 1} days not reported before "
                    f"{dates[k]}; the data policy says gaps='raise'"
                )
            parts = spread_integer(int(cum[k] - cum[k - 1]), b - a, step)
            full_cum[a + 1 : b + 1] = cum[k - 1] + np.cumsum(parts)
            for j in range(a + 1, b):
                full_flags[j] = ["spread"]
            full_flags[b] = [f for f in flags[k] if f != "after_gap"] + ["spread"]
        else:
            full_cum[b] = cum[k]
            full_flags[b] = flags[k]
    daily = np.diff(full_cum, prepend=full_cum[0])

    if policy.corrections == "spread":
        for t in (int(i) for i in np.flatnonzero(daily < 0)):
            if t == 0:
                continue
            lo = max(1, t - policy.correction_window)
            while lo > 1 and daily[lo : t + 1].sum() < 0:
                lo -= 1
            window = daily[lo : t + 1]
            total = int(window.sum())
            if total < 0:
                continue  # nothing to net it against: keep as reported
            weights = np.maximum(window[:-1], 0).astype(float)
            shares = weights / weights.sum() if weights.sum() > 0 else np.full(len(window) - 1, 1.0)
            shares = np.append(shares, 0.0) if len(window) > 1 else np.array([1.0])
            new = np.floor(shares * total).astype(np.int64)
            new[np.argmax(shares)] += total - int(new.sum())
            daily[lo : t + 1] = new
            for j in range(lo, t + 1):
                if "correction_spread" not in full_flags[j]:
                    full_flags[j] = [*full_flags[j], "correction_spread"]
        full_cum = full_cum[0] + np.concatenate([[0], np.cumsum(daily[1:])])

    day_list = [dates[0] + timedelta(days=i) for i in range(n_days)]
    daily_out: list[int | None] = [int(x) for x in daily]
    daily_out[0] = int(first_daily) if first_known and first_daily is not None else None
    out = pl.DataFrame(
        {
            "date": day_list,
            "series": name,
            "cumulative": full_cum,
            "daily": daily_out,
            "flags": full_flags,
        },
        schema=TABLE_SCHEMA,
    )
    if policy.start is not None:
        out = out.filter(pl.col("date") >= policy.start)
        if out.height == 0:
            raise PolicyError(
                f"{source}: series {name!r}: no figures on or after start {policy.start}"
            )
    return out
