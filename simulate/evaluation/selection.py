"""Model choice for ``kind = "auto"``: score each candidate on the series' own recent past."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from ..errors import ModelError
from ..models import DailySeries, ModelSpec, fit
from ..rng import cut_seed
from .scoring import score_paths

__all__ = ["AUTO_CANDIDATES", "choose_model"]

#: Models ``model="auto"`` chooses from.
AUTO_CANDIDATES = ("analog", "local-trend", "trend-nb", "bootstrap")


def _cut(s: DailySeries, n: int) -> DailySeries:
    """The first `n` days of `s` (its total counted from the series' own start)."""
    head = s.y[:n]
    return DailySeries(s.name, s.source, s.reported_by, s.start, head,
                       int(s.last_total - s.y[n:].sum()), s.granularity)  # fmt: skip


def choose_model(
    s: DailySeries,
    *,
    candidates: Sequence[str] = AUTO_CANDIDATES,
    horizon: int = 30,
    origins: int = 6,
    every: int = 28,
    n_paths: int = 500,
    seed: int = 0,
) -> tuple[str, dict[str, float]]:
    """The candidate with the lowest mean WIS (log1p scale, daily figures and 7/30-day totals)
    over the most recent `origins` origins, `every` days apart, `horizon` days ahead.

    Returns the chosen kind and every candidate's mean WIS (``inf`` when it could not be
    fitted at some origin).
    """
    ends = [len(s.y) - horizon - k * every for k in range(origins)]
    ends = [e for e in ends if e >= 60]
    if not ends:
        return candidates[0], {}
    wis: dict[str, float] = {}
    for kind in candidates:
        scores = []
        try:
            for e in ends:
                model = fit(ModelSpec(kind), _cut(s, e))  # type: ignore[arg-type]
                _, y = model.simulate(horizon, n_paths, seed=cut_seed(seed, e))
                sc = score_paths(y.astype(np.int64), s.y[e : e + horizon], model.last_total)
                keep = sc.filter((pl.col("scale") == "log1p") & (pl.col("target") != "cum"))
                scores.append(float(keep["wis"].mean()))  # type: ignore[arg-type]
        except ModelError:
            wis[kind] = float("inf")
            continue
        wis[kind] = float(np.mean(scores))
    best = min(wis, key=lambda k: (wis[k], candidates.index(k)))
    return best, wis
