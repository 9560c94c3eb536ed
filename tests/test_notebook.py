"""Tests of the one-call notebook API, simulate.project (simulate/notebook.py)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

import simulate
from simulate.errors import ModelError
from simulate.evaluation.selection import choose_model
from simulate.notebook import _series

DAYS = [date(2024, 1, 1) + timedelta(i) for i in range(500)]
COUNTS = np.random.default_rng(3).poisson(80 * np.exp(np.linspace(0, 0.3, 500)))


def test_quantile_table_and_samples() -> None:
    table, paths = simulate.project(DAYS, COUNTS, horizon=30, quantiles=[0.1, 0.5, 0.9],
                                    paths=1000, model="analog", seed=4, samples=True,
                                    reported_by="someone")  # fmt: skip
    assert paths.shape == (30, 1000) and paths.min() >= 0
    assert table.columns == ["date", "horizon", "quantile", "daily", "cumulative", "model",
                             "model_choice", "reported_by"]  # fmt: skip
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


def test_the_default_is_auto_and_the_table_says_what_it_chose_and_why() -> None:
    """The default is ``auto``: the analog model, its drift chosen on the series' own past;
    the table names the model and carries the sentence of the choice."""
    s = _series(DAYS, COUNTS, "x", "someone")
    spec, choice = choose_model(s)
    default = simulate.project(DAYS, COUNTS, horizon=10, paths=200, seed=1)
    assert set(default["model"]) == {spec.label} and set(default["model_choice"]) == {choice["why"]}
    # 500 days hold too few blocks of evidence to depart from the calibrated analog model
    assert spec.label == "analog" and "fewer than 6 blocks" in choice["why"]
    given = simulate.project(DAYS, COUNTS, horizon=10, paths=200, seed=1, model="analog")
    assert default.drop("model_choice").equals(given.drop("model_choice"))
    assert set(given["model_choice"]) == {"given"}


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
