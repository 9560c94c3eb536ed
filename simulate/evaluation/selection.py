"""The rule of ``kind = "auto"``: the analog model, with drift only on evidence beyond noise.

The default is the calibrated ``analog`` model. ``auto`` departs from it in one way only: it
keeps the past's average growth (``drift = true``) when the series' own past says, beyond
sampling noise, that doing so would have forecast better. The evidence:

* origins every :data:`EVERY` days over the series' whole history (from the first with
  :data:`MIN_ANALOGS` analogs), each scored on what followed it;
* at each origin, both variants forecast the 30- and 90-day totals exactly as the model does
  (today's level times the analogs' totals relative to their level, weighted by age; without
  drift divided by their weighted mean), in closed form, so no paths are simulated and no seed
  is involved;
* the score is the weighted interval score on the 23 hub levels on the ``log1p`` scale
  (as in the backtest), averaged over the two totals;
* consecutive origins share most of their 90 days, so they are grouped into blocks of
  :data:`BLOCK` days; the evidence is the mean over blocks of the block's mean difference, and
  drift is chosen only when at least :data:`MIN_BLOCKS` blocks are available and the one-sided
  95% Student-t lower bound of that mean is above 0.

Nothing else is a candidate: on the README's backtest no other kind beats ``analog`` on any
series, and scoring a model that must be simulated at enough origins to tell it apart from
noise takes seconds per series.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from scipy import stats

from ..models import DailySeries, ModelSpec
from ..models.analog import LEVEL_WINDOWS, level_of, weighted_quantiles
from ..models.spec import HUB_QUANTILES
from .scoring import wis_of_quantiles

__all__ = ["AUTO_RULE", "AutoSpec", "BLOCK", "EVERY", "MIN_BLOCKS", "choose_model", "past_scores"]

#: Days between scored origins.
EVERY = 7
#: Days of origins grouped into one block of evidence.
BLOCK = 91
#: Blocks needed before drift can be chosen.
MIN_BLOCKS = 6
#: Analogs needed at an origin for it to be scored.
MIN_ANALOGS = 30
#: The totals scored (days).
TOTALS = (30, 90)
#: One-sided level of the bound on the gain.
LEVEL = 0.95

AUTO_RULE = (
    f"analog, with drift only if keeping the past's growth would have forecast the {TOTALS[0]}- "
    f"and {TOTALS[1]}-day totals better (mean WIS, log1p scale) at origins every {EVERY} days "
    f"over the series' history, by a one-sided {LEVEL:.0%} lower bound above 0 over at least "
    f"{MIN_BLOCKS} blocks of {BLOCK} days"
)

_LEVELS = np.asarray(HUB_QUANTILES, dtype=np.float64)


def past_scores(spec: ModelSpec, s: DailySeries) -> tuple[np.ndarray, np.ndarray]:
    """The origins scored (day index after which each forecast is made) and, per origin, the
    mean WIS (log1p) of the 30- and 90-day totals of ``analog`` without and with drift:
    shape ``(origins, 2)``. Empty when the history is too short."""
    segment = int(spec.option("segment"))
    half_life = float(spec.option("half_life"))
    y = s.y.astype(np.float64)
    n = len(y)
    first = max(LEVEL_WINDOWS) - 1
    level = np.maximum(level_of(y), 0.5 / max(LEVEL_WINDOWS))  # level[k]: after day k + first
    c = np.concatenate([[0.0], np.cumsum(y)])
    horizon = max(TOTALS)
    start = first + segment + MIN_ANALOGS - 1
    origins = np.arange(n - 1 - horizon, start - 1, -EVERY)[::-1]
    scores = np.zeros((origins.size, 2))
    for k, t in enumerate(origins):
        a = np.arange(first, t - segment + 1)  # analogs whose whole segment was known at t
        w = 0.5 ** ((t - a) / half_life)
        w /= w.sum()
        base = level[a - first]
        for h in TOTALS:
            ratio = (c[a + h + 1] - c[a + 1]) / base  # each analog's total relative to its level
            drifted = level[t - first] * ratio
            # summed without BLAS (whose kernels sum in their own order): the same bits on
            # every CPU
            plain = drifted * h / max(float(np.add.reduce(ratio * w)), 1e-12)
            q = np.vstack([weighted_quantiles(np.log1p(v), w, _LEVELS) for v in (plain, drifted)])
            observed = np.log1p(c[t + h + 1] - c[t + 1])
            scores[k] += wis_of_quantiles(q, np.full(2, observed), _LEVELS) / len(TOTALS)
    return origins, scores


def choose_model(
    s: DailySeries, *, spec: ModelSpec | None = None
) -> tuple[ModelSpec, dict[str, Any]]:
    """The model of ``kind = "auto"`` for series `s` (see the module docstring): `spec` (default
    ``ModelSpec("analog")``, its options kept) with ``drift`` set, and a record of the choice:
    ``chosen`` (the spec), ``rule``, ``why`` (a sentence), ``origins``, ``blocks``,
    ``mean_wis_log1p`` of both variants, ``gain`` (mean over blocks of the WIS without drift
    minus with drift) and ``gain_lower_bound``.
    """
    spec = spec or ModelSpec("analog")
    if spec.kind != "analog":
        raise ValueError(f"auto chooses among analog models, got {spec.kind!r}")
    plain = ModelSpec("analog", spec.window, {**spec.options, "drift": False})
    drifted = ModelSpec("analog", spec.window, {**spec.options, "drift": True})
    origins, scores = past_scores(plain, s)
    record: dict[str, Any] = {
        "rule": AUTO_RULE,
        "origins": int(origins.size),
        "blocks": 0,
        "mean_wis_log1p": {"analog": None, "analog with drift": None},
        "gain": None,
        "gain_lower_bound": None,
    }
    chosen, why = plain, f"analog without drift: fewer than {MIN_BLOCKS} blocks of evidence"
    if origins.size:
        record["mean_wis_log1p"] = {
            "analog": float(scores[:, 0].mean()),
            "analog with drift": float(scores[:, 1].mean()),
        }
        block = (origins - origins[0]) // BLOCK
        diff = scores[:, 0] - scores[:, 1]
        means = np.array([diff[block == b].mean() for b in np.unique(block)])
        record["blocks"] = int(means.size)
        if means.size >= MIN_BLOCKS:
            gain = float(means.mean())
            se = float(means.std(ddof=1)) / np.sqrt(means.size)
            bound = gain - float(stats.t.ppf(LEVEL, means.size - 1)) * se
            record["gain"], record["gain_lower_bound"] = gain, bound
            if bound > 0:
                chosen = drifted
                why = (
                    f"analog with drift: keeping the past's growth forecast better over "
                    f"{means.size} blocks ({origins.size} origins), WIS lower by {gain:.3f} "
                    f"(lower bound {bound:.3f})"
                )
            else:
                why = (
                    f"analog without drift: keeping the past's growth forecast no better "
                    f"beyond noise over {means.size} blocks ({origins.size} origins): WIS "
                    f"gain {gain:+.3f}, lower bound {bound:+.3f} (not above 0)"
                )
    record["chosen"] = chosen.to_dict()
    record["why"] = why
    return chosen, record


@dataclass(frozen=True)
class AutoSpec:
    """``kind = "auto"`` where a model spec is expected (a backtest's models): the analog
    model `base` (its options but drift kept), its drift chosen on each series as seen at
    each origin by :meth:`resolve`."""

    base: ModelSpec = field(default_factory=lambda: ModelSpec("analog"))
    kind: ClassVar[str] = "auto"

    def __post_init__(self) -> None:
        if self.base.kind != "analog" or "drift" in self.base.options:
            raise ValueError("auto's base is an analog model without the drift option")

    @property
    def window(self) -> int | None:
        return self.base.window

    @property
    def label(self) -> str:
        return "auto"

    def resolve(self, s: DailySeries) -> tuple[ModelSpec, dict[str, Any]]:
        """The model chosen for `s`, and the record of the choice (:func:`choose_model`)."""
        return choose_model(s, spec=self.base)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: kind ``auto`` and the analog options it passes on."""
        d = self.base.to_dict()
        d["options"].pop("drift")
        return {**d, "kind": "auto"}
