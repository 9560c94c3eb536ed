"""Tests of the one-call notebook API, simulate.project (simulate/notebook.py)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

import simulate
from simulate.errors import ModelError
from simulate.evaluation.selection import AUTO_CANDIDATES, choose_model
from simulate.notebook import _series

DAYS = [date(2024, 1, 1) + timedelta(i) for i in range(500)]
COUNTS = np.random.default_rng(3).poisson(80 * np.exp(np.linspace(0, 0.3, 500)))


def test_quantile_table_and_samples() -> None:
    table, paths = simulate.project(DAYS, COUNTS, horizon=30, quantiles=[0.1, 0.5, 0.9],
                                    paths=1000, model="analog", seed=4, samples=True,
                                    reported_by="someone")  # fmt: skip
    assert paths.shape == (30, 1000) and paths.min() >= 0
    assert table.columns == ["date", "horizon", "quantile", "daily", "cumulative", "model",
                             "reported_by"]  # fmt: skip
    assert table.height == 90 and table["date"].min() == date(2025, 5, 15)
    assert set(table["reported_by"]) == {"someone"}
    q = table.filter(table["horizon"] == 30)
    np.testing.assert_allclose(q["daily"].to_numpy(), np.quantile(paths[29], [0.1, 0.5, 0.9]))
    cum = COUNTS.sum() + paths.sum(axis=0)
    np.testing.assert_allclose(q["cumulative"].to_numpy(), np.quantile(cum, [0.1, 0.5, 0.9]))
    # the same seed gives the same table
    again = simulate.project(DAYS, COUNTS, horizon=30, quantiles=[0.1, 0.5, 0.9], paths=1000,
                             model="analog", seed=4, reported_by="someone")  # fmt: skip
    assert again.equals(table)


def test_auto_picks_the_best_recent_candidate_deterministically() -> None:
    s = _series(DAYS, COUNTS, "x", "someone")
    best, wis = choose_model(s, seed=1)
    assert best in AUTO_CANDIDATES and set(wis) == set(AUTO_CANDIDATES)
    assert wis[best] == min(wis.values())
    assert choose_model(s, seed=1) == (best, wis)
    table = simulate.project(DAYS, COUNTS, horizon=10, paths=200, seed=1, model="auto")
    assert set(table["model"]) == {best}


def test_the_default_model_is_analog() -> None:
    """The notebook's default is run's and backtest's default, the calibrated analog model,
    not ``auto`` (which scored worse than naive on the General Staff figures)."""
    default = simulate.project(DAYS, COUNTS, horizon=10, paths=200, seed=1)
    assert set(default["model"]) == {"analog"}
    assert default.equals(simulate.project(DAYS, COUNTS, horizon=10, paths=200, seed=1,
                                           model="analog"))  # fmt: skip


@pytest.mark.parametrize(
    ("dates", "values", "message"),
    [
        (DAYS[:10], [1] * 9, "same length"),
        ([*DAYS[:5], DAYS[6]], [1] * 6, "consecutive days; 2024-01-05 is followed by 2024-01-07"),
        (DAYS[:5], [1, 2, -3, 4, 5], "whole numbers >= 0"),
        (DAYS[:5], [1, 2, 3.5, 4, 5], "whole numbers >= 0"),
    ],
)
def test_bad_input_is_a_clear_error(dates: list[date], values: list[float], message: str) -> None:
    with pytest.raises(ModelError, match=message):
        simulate.project(dates, values, model="naive")


def test_unknown_model() -> None:
    with pytest.raises(ModelError, match="model 'prophet' is unknown"):
        simulate.project(DAYS, COUNTS, model="prophet")
