"""Tests of the model foundation: specs, daily series, observation models, naive/bootstrap,
keyed random streams, fitted models as plain data (pickling, equality, no hidden simulation)."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from simulate.data import load
from simulate.errors import ModelError
from simulate.models import (
    MODEL_KINDS,
    SUMMARY_PATHS,
    SUMMARY_SEED,
    DailySeries,
    FittedModel,
    ModelSpec,
    ObservationModel,
    base,
    compare,
    daily_series,
    describe,
    fit,
    start_paths,
    summary_quantiles,
)
from simulate.rng import child, generator


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "arima"}, "model kind 'arima' is unknown; expected one of trend-nb"),
        ({"kind": "naive", "window": 5}, "window: must be a whole number of days >= 14, got 5"),
        ({"kind": "naive", "options": {"k": 0}}, "option 'k': must be >= 1, got 0"),
        ({"kind": "naive", "options": {"kk": 3}}, "option 'kk' is unknown; allowed: k"),
        ({"kind": "local-trend", "options": {"damped": "yes"}}, "must be true or false"),
        ({"kind": "changepoint", "options": {"changepoint_range": 1.5}}, "must be in (0, 1]"),
    ],
)
def test_bad_specs_are_clear_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ModelError) as info:
        ModelSpec(**kwargs)  # type: ignore[arg-type]
    assert message in str(info.value)


def test_spec_defaults_and_immutability() -> None:
    spec = ModelSpec("bootstrap", window=None)
    assert spec.to_dict() == {
        "kind": "bootstrap",
        "window": None,
        "options": {"block": 7, "recent": 56},
    }
    with pytest.raises(TypeError):
        spec.options["block"] = 3  # type: ignore[index]


def test_daily_series_applies_the_fit_policy() -> None:
    s = daily_series(load("example"), "tanks")
    assert (s.y >= 0).all()
    assert s.n_clipped == 0  # the -25 correction is netted against the week before it
    assert s.end == date(2025, 12, 30) and s.start == date(2024, 1, 2)
    assert len(s.y) == (s.end - s.start).days + 1  # the three missing days are filled
    assert s.last_total == 17031
    cut = daily_series(load("example"), "tanks", as_of=date(2024, 11, 12))
    assert cut.end == date(2024, 11, 12)
    with pytest.raises(ModelError, match="no figures on or before 2023-01-01"):
        daily_series(load("example"), "tanks", as_of=date(2023, 1, 1))
    with pytest.raises(ModelError, match="at least 14 are"):
        daily_series(load("example"), "tanks", as_of=date(2024, 1, 10))


def test_keyed_streams_are_deterministic_and_distinct() -> None:
    a = generator(7, 1).standard_normal(5)
    assert np.array_equal(a, generator(7, 1).standard_normal(5))
    assert not np.array_equal(a, generator(7, 2).standard_normal(5))
    assert not np.array_equal(a, generator(8, 1).standard_normal(5))
    # a keyed child does not depend on what was asked before (unlike spawn)
    ss = np.random.SeedSequence(7)
    ss.spawn(3)
    assert child(ss, 1).generate_state(2).tolist() == child(7, 1).generate_state(2).tolist()
    with pytest.raises(ValueError, match="seed must be a whole number >= 0"):
        generator(-1)


@pytest.mark.parametrize("kind", ["naive", "bootstrap"])
def test_empirical_models_invariants(kind: str) -> None:
    s = daily_series(load("example"), "personnel")
    model = fit(ModelSpec(kind), s)
    mu, y = model.simulate(60, 3000, seed=5, block=60)
    mu2, y2 = model.simulate(60, 3000, seed=5, block=7)
    assert np.array_equal(y, y2) and np.array_equal(mu, mu2)
    assert not np.array_equal(y, model.simulate(60, 3000, seed=6)[1])
    # every simulated figure is one of the recent reported figures
    assert set(np.unique(y)) <= set(np.unique(model.empirical))
    q = np.quantile(y, [0.1, 0.5, 0.9], axis=1)
    assert (np.diff(q, axis=0) >= 0).all()
    assert model.loglik is None and model.aic is None


def test_naive_draws_the_last_k_days_uniformly() -> None:
    y = np.arange(100, dtype=np.int64) * 10
    model = fit(ModelSpec("naive", options={"k": 10}), DailySeries.from_counts(y))
    _, sim = model.simulate(50, 2000, seed=1)
    values, counts = np.unique(sim, return_counts=True)
    assert values.tolist() == list(range(900, 1000, 10))
    # chi-square test of uniformity at the 0.1% level
    assert stats.chisquare(counts).pvalue > 1e-3


def test_bootstrap_keeps_blocks_of_consecutive_days() -> None:
    y = np.arange(1, 201, dtype=np.int64)  # strictly increasing: blocks are visible
    model = fit(
        ModelSpec("bootstrap", options={"block": 7, "recent": 56}),
        DailySeries.from_counts(y, step=1),
    )
    _, sim = model.simulate(21, 500, seed=2)
    steps = np.diff(sim, axis=0)
    inside = np.delete(steps, [6, 13], axis=0)  # day-to-day steps within each block
    assert (inside == 1).all()
    assert sim.min() >= 145 and sim.max() <= 200


def test_negbin_observation_matches_its_distribution() -> None:
    obs = ObservationModel("negbin", dispersion=5.0, granularity=1)
    mu = np.full((20_000, 1), 8.0)
    rngs = (generator(1, 2), generator(1, 3), generator(1, 4))
    y = obs.draw(mu, rngs)[:, 0]
    # mean 8, variance 8 + 64/5 = 20.8; tolerances are 4 standard errors
    assert abs(y.mean() - 8.0) < 4 * np.sqrt(20.8 / len(y))
    assert abs(y.var() - 20.8) < 4 * 20.8 * np.sqrt(2 / len(y)) * 2
    q = obs.quantiles(np.array([8.0]), np.array([0.1, 0.5, 0.9]))[0]
    emp = np.quantile(y, [0.1, 0.5, 0.9])
    assert np.all(np.abs(q - emp) <= 1)


def test_lognormal_observation_mean_and_rounding() -> None:
    obs = ObservationModel("lognormal", sigma=0.3, offset=5.0, granularity=10)
    mu = np.full((40_000, 1), 1200.0)
    y = obs.draw(mu, (generator(2, 2), generator(2, 3), generator(2, 4)))[:, 0]
    assert (y % 10 == 0).all() and (y >= 0).all()
    sd = 1205 * np.sqrt(np.exp(0.09) - 1)
    assert abs(y.mean() - 1200) < 4 * sd / np.sqrt(len(y)) + 5  # +5: rounding to tens


def test_compare_scores_every_model_on_one_window() -> None:
    s = daily_series(load("example"), "personnel")
    rows = compare(s, window=120, kinds=["naive", "bootstrap"])
    assert [r["model"].kind for r in rows] == ["naive", "bootstrap"]
    assert all(r["model"].n_obs == 120 and r["pinball"] > 0 for r in rows)


def test_model_json_is_complete(tmp_path: Path) -> None:
    d = describe(fit(ModelSpec("naive"), daily_series(load("example"), "personnel")))
    assert d["reported_by"].startswith("nobody")
    assert d["level"]["lo95"] <= d["level"]["median"] <= d["level"]["hi95"]
    assert set(d["diagnostics"]) >= {"dispersion", "acf1", "acf7", "n_zero", "n_clipped"}


def test_summary_is_weekly_and_growth_undefined_when_sparse() -> None:
    # a series of rare events: the naive model's recent days are all 0
    y = np.zeros(200, dtype=np.int64)
    y[50] = 3
    model = fit(ModelSpec("naive", options={"k": 28}), DailySeries.from_counts(y, step=1))
    summary = summary_quantiles(model)
    assert summary["level"] == {"median": 0.0, "lo95": 0.0, "hi95": 0.0}
    assert summary["growth_30d"] is None and "undefined" in summary["growth_note"]
    assert np.isnan(model.diagnostics["dispersion"])
    steady = fit(ModelSpec("naive"), DailySeries.from_counts(np.full(100, 50) + np.arange(100) % 7))
    g = summary_quantiles(steady)["growth_30d"]
    assert g["lo95"] <= g["median"] <= g["hi95"] and 0.7 < g["median"] < 1.4


def test_simulate_rejects_empty_horizon_or_block() -> None:
    model = fit(ModelSpec("naive"), daily_series(load("example"), "personnel"))
    for horizon, block in ((0, 7), (5, 0), (-3, 7)):
        with pytest.raises(ValueError, match="must be whole numbers of days >= 1"):
            model.simulate(horizon, 10, seed=1, block=block)


def test_infinite_option_is_refused() -> None:
    with pytest.raises(ModelError, match="prior_scale': must be > 0, got inf"):
        ModelSpec("changepoint", options={"prior_scale": float("inf")})


def test_trailing_quantiles_match_a_slow_loop() -> None:
    from simulate.models.fitting import PINBALL_LEVELS, _trailing_quantiles

    y = np.random.default_rng(np.random.SeedSequence(3)).poisson(100, size=60).astype(float)
    k = 7
    fast = _trailing_quantiles(y, k, PINBALL_LEVELS)
    for t in range(len(y)):
        before = y[max(t - k, 0) : t] if t >= k else y[:k]
        assert np.allclose(fast[t], np.quantile(before, PINBALL_LEVELS)), t


# --- fitted models are plain data ------------------------------------------------------------


@pytest.fixture(scope="module")
def every_kind() -> dict[str, FittedModel]:
    s = daily_series(load("example"), "personnel")
    return {kind: fit(ModelSpec(kind), s) for kind in MODEL_KINDS}


def test_every_kind_has_a_path_function() -> None:
    assert set(base.PATH_FUNCTIONS) == set(MODEL_KINDS)
    for kind in MODEL_KINDS:
        assert callable(base.path_function(kind))


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_fitted_models_pickle_and_simulate_the_same(
    every_kind: dict[str, FittedModel], kind: str
) -> None:
    model = every_kind[kind]
    back = pickle.loads(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    assert back == model and back is not model
    for a, b in zip(model.simulate(40, 200, seed=9), back.simulate(40, 200, seed=9), strict=True):
        assert np.array_equal(a, b)
    assert np.array_equal(
        start_paths(model, 50, seed=2).step(10), start_paths(back, 50, seed=2).step(10)
    )


def test_fitted_models_compare_by_value(every_kind: dict[str, FittedModel]) -> None:
    model = every_kind["trend-nb"]
    assert model == replace(model)  # a copy, arrays and NaN standard errors included
    assert model != replace(model, params={**model.params, "slope": 0.0})
    assert model != replace(model, fitted=model.fitted + 1.0)
    assert model != every_kind["changepoint"]
    assert model != "trend-nb"


def test_to_dict_simulates_nothing(
    every_kind: dict[str, FittedModel], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(kind: str) -> object:
        raise AssertionError(f"{kind}: simulated")

    monkeypatch.setattr(base, "path_function", refuse)
    for model in every_kind.values():
        d = model.to_dict()
        assert json.loads(json.dumps(d)) == d  # JSON-ready as it is
        assert "level_dates" not in d and d["params"].keys() == model.params.keys()
    with pytest.raises(AssertionError, match="simulated"):
        summary_quantiles(every_kind["naive"])


def test_summary_quantiles_take_their_paths_and_seed(every_kind: dict[str, FittedModel]) -> None:
    model = every_kind["local-trend"]
    default = summary_quantiles(model)
    assert default == summary_quantiles(model, n_paths=SUMMARY_PATHS, seed=SUMMARY_SEED)
    assert describe(model) == {**model.to_dict(), **default}
    other = summary_quantiles(model, seed=SUMMARY_SEED + 1)
    assert other["level"] != default["level"]
    small = summary_quantiles(model, n_paths=100, seed=SUMMARY_SEED)
    assert small["level"] != default["level"]
    assert small["level_dates"] == default["level_dates"]


def test_a_pickled_model_simulates_in_a_fresh_process(
    every_kind: dict[str, FittedModel], tmp_path: Path
) -> None:
    # The other process has imported no model module when it unpickles: the kind's path
    # function is found from the kind alone.
    model = every_kind["changepoint"]
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(model))
    code = (
        "import pickle, sys; import numpy as np; "
        "m = pickle.loads(open(sys.argv[1], 'rb').read()); "
        "np.save(sys.argv[2], m.simulate(30, 40, seed=4)[1])"
    )
    out = tmp_path / "y.npy"
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "model.pkl"), str(out)], check=True)
    assert np.array_equal(np.load(out), model.simulate(30, 40, seed=4)[1])
