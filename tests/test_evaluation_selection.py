"""Tests of ``kind = "auto"``'s rule (simulate/evaluation/selection.py)."""

from __future__ import annotations

import numpy as np
import pytest

from simulate.evaluation.selection import (
    AUTO_RULE,
    BLOCK,
    MIN_BLOCKS,
    AutoSpec,
    choose_model,
    past_scores,
)
from simulate.models import DailySeries, ModelSpec


def _series(mean: np.ndarray, seed: int) -> DailySeries:
    return DailySeries.from_counts(np.random.default_rng(seed).poisson(mean))


def _wandering(n: int, seed: int, growth: float = 0.0) -> DailySeries:
    """A level wandering as an AR(1) on the log scale around 60 a day, times exp(growth t)."""
    rng = np.random.default_rng(seed)
    x = np.zeros(n)
    for i in range(1, n):
        x[i] = 0.98 * x[i - 1] + rng.normal(0, 0.04)
    return _series(60 * np.exp(x + growth * np.arange(n)), seed + 1)


def test_steady_growth_is_kept_when_the_past_shows_it() -> None:
    """Growing by 0.4% a day for 1,300 days under a wandering level (sd about 0.2 on the log
    scale): forecasting flat at today's level misses by about 20% over 90 days, beyond the
    wandering, so drift wins."""
    s = _wandering(1300, seed=1, growth=0.004)
    spec, record = choose_model(s)
    assert spec.option("drift") is True and spec.label == "analog (drift=true)"
    assert record["blocks"] >= MIN_BLOCKS and record["gain_lower_bound"] > 0
    assert record["why"].startswith("analog with drift")
    assert record["chosen"] == spec.to_dict() and record["rule"] == AUTO_RULE


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_no_growth_keeps_the_calibrated_default(seed: int) -> None:
    """A level that wanders without growth: the past's drift is noise, and auto stays with
    the analog model without drift (what its gain's bound is there for)."""
    s = _wandering(1300, seed=seed)
    spec, record = choose_model(s)
    assert spec == ModelSpec("analog", options={"drift": False})
    assert record["blocks"] >= MIN_BLOCKS and record["gain_lower_bound"] <= 0
    assert "no better beyond noise" in record["why"] and "(not above 0)" in record["why"]


def test_a_short_history_is_not_evidence() -> None:
    """Too few blocks of scored origins: the default, and the record says why."""
    s = _wandering(600, seed=5, growth=0.004)
    origins, _ = past_scores(ModelSpec("analog"), s)
    assert origins.size and (origins[-1] - origins[0]) // BLOCK + 1 < MIN_BLOCKS
    spec, record = choose_model(s)
    assert spec.option("drift") is False and record["gain"] is None
    assert record["why"] == f"analog without drift: fewer than {MIN_BLOCKS} blocks of evidence"


def test_past_scores_are_those_of_the_model_forecasts() -> None:
    """At an origin, the closed-form score of the analog model without drift is the WIS of
    the weighted analog totals: checked against a direct computation at the last origin."""
    from simulate.models.analog import level_of
    from simulate.models.spec import HUB_QUANTILES

    s = _wandering(800, seed=6)
    origins, scores = past_scores(ModelSpec("analog"), s)
    t = int(origins[-1])
    y = s.y.astype(float)
    lv = level_of(y)
    a = np.arange(55, t - 90 + 1)
    w = 0.5 ** ((t - a) / 365.0)
    w /= w.sum()
    levels = np.array(HUB_QUANTILES)
    total = 0.0
    for h in (30, 90):
        ratio = np.array([y[i + 1 : i + h + 1].sum() for i in a]) / lv[a - 55]
        pred = np.log1p(lv[t - 55] * ratio * h / (ratio @ w))
        order = np.argsort(pred)
        cum = np.cumsum(w[order])
        q = pred[order][np.searchsorted(cum, levels * cum[-1])]
        obs = np.log1p(y[t + 1 : t + h + 1].sum())
        # the weighted interval score's definition, interval by interval (Bracher et al. 2021)
        wis = 0.5 * abs(obs - q[11])
        for i in range(11):
            alpha = 2 * levels[i]
            lo, hi = q[i], q[22 - i]
            wis += alpha / 2 * ((hi - lo) + 2 / alpha * (max(lo - obs, 0) + max(obs - hi, 0)))
        total += wis / 11.5 / 2
    assert scores[-1, 0] == pytest.approx(total, rel=1e-12)


def test_auto_spec_resolves_per_series_and_reports_as_auto() -> None:
    spec = AutoSpec(ModelSpec("analog", options={"half_life": 200.0}))
    assert spec.to_dict()["kind"] == "auto" and "drift" not in spec.to_dict()["options"]
    chosen, _ = spec.resolve(_wandering(1300, seed=1, growth=0.004))
    assert chosen.option("half_life") == 200.0 and chosen.option("drift") is True
    with pytest.raises(ValueError, match="without the drift option"):
        AutoSpec(ModelSpec("analog", options={"drift": True}))
