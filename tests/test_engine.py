"""Tests of the vectorised projection engine (simulate/engine.py)."""

from __future__ import annotations

import zlib
from dataclasses import fields
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest

from simulate.data import load
from simulate.engine import MIN_CROSSING_SHARE, Projection, simulate_scenarios
from simulate.models import FittedModel, ModelSpec, daily_series, fit
from simulate.rng import Stream, child, generator, name_key
from simulate.scenarios import (
    Ceasefire,
    LogNormal,
    Multiply,
    Scenario,
    Uniform,
    adjustment_factors,
    factor_draw_spec,
)

LEVELS = np.array([0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975])


@pytest.fixture(scope="module")
def trend() -> FittedModel:
    return fit(ModelSpec("trend-nb"), daily_series(load("example"), "personnel"))


@pytest.fixture(scope="module")
def naive() -> FittedModel:
    return fit(ModelSpec("naive"), daily_series(load("example"), "personnel"))


def _day(model: FittedModel, n: int) -> date:
    """The n-th projected day (1 = the day after the origin)."""
    return model.origin + timedelta(days=n)


def _scenarios(model: FittedModel) -> list[Scenario]:
    return [
        Scenario("status-quo", reference=True),
        Scenario("escalation", (Multiply(Uniform(1.2, 1.4), _day(model, 10)),)),
        Scenario("ceasefire", (Ceasefire(_day(model, 20), 0.1, breakdown_per_day=0.05),)),
        Scenario(
            "mixed",
            (
                Multiply(LogNormal(1.0, 0.2), _day(model, 5), _day(model, 40)),
                Ceasefire(_day(model, 50), 0.3, breakdown_per_day=0.1),
            ),
        ),
    ]


def _run(model: FittedModel, scenarios: list[Scenario], **kw: Any) -> dict[str, Projection]:
    opts: dict[str, Any] = dict(
        horizon=75,
        n_paths=400,
        seed=11,
        series_key=0,
        levels=LEVELS,
        thresholds=(model.last_total + 60_000, model.last_total + 120_000),
        record=3000.0,
    )
    opts.update(kw)
    return simulate_scenarios(model, scenarios, **opts)


def _assert_identical(p: Projection, q: Projection) -> None:
    """Every field equal, arrays byte for byte."""
    for f in fields(Projection):
        a, b = getattr(p, f.name), getattr(q, f.name)
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype and a.shape == b.shape, f.name
            assert a.tobytes() == b.tobytes(), f.name
        elif f.name == "month_totals":
            assert len(a) == len(b)
            for m, n in zip(a, b, strict=True):
                assert (m.month, m.days, m.days_in_month, m.mean) == (
                    n.month,
                    n.days,
                    n.days_in_month,
                    n.mean,
                )
                assert m.quantiles.tobytes() == n.quantiles.tobytes()
        else:
            assert a == b, f.name


def _assert_all_identical(a: dict[str, Projection], b: dict[str, Projection]) -> None:
    assert sorted(a) == sorted(b)
    for name in a:
        _assert_identical(a[name], b[name])


# --------------------------------------------------------------------------------------
# Reproducibility: block size, seed, order, pairing


@pytest.mark.parametrize("kind", ["trend", "naive"])
def test_block_size_does_not_change_results(kind: str, request: pytest.FixtureRequest) -> None:
    model = request.getfixturevalue(kind)
    sc = _scenarios(model)
    ref = _run(model, sc, block=64)
    for block in (1, 7, 75, 500):
        _assert_all_identical(ref, _run(model, sc, block=block))


def test_same_seed_same_results_new_seed_different(trend: FittedModel) -> None:
    sc = _scenarios(trend)
    a, b, c = _run(trend, sc), _run(trend, sc), _run(trend, sc, seed=12)
    _assert_all_identical(a, b)
    for name in a:
        assert not np.array_equal(a[name].daily_quantiles, c[name].daily_quantiles)
        assert not np.array_equal(a[name].final_cumulative, c[name].final_cumulative)


def test_series_key_selects_other_streams(trend: FittedModel) -> None:
    sc = _scenarios(trend)[:1]
    a, b = _run(trend, sc), _run(trend, sc, series_key=1)
    assert not np.array_equal(a["status-quo"].final_cumulative, b["status-quo"].final_cumulative)


def test_reversed_scenario_order_gives_identical_results(trend: FittedModel) -> None:
    sc = _scenarios(trend)
    forward, backward = _run(trend, sc), _run(trend, sc[::-1])
    assert list(backward) == [s.name for s in sc[::-1]]
    _assert_all_identical(forward, backward)


def test_scenario_results_do_not_depend_on_companions(trend: FittedModel) -> None:
    sc = _scenarios(trend)
    alone = _run(trend, sc[:1])
    with_others = _run(trend, [sc[2], sc[0], sc[1]])
    _assert_identical(alone["status-quo"], with_others["status-quo"])
    # and an uncertain scenario's draws depend on its name, not its position
    _assert_identical(_run(trend, [sc[1]])["escalation"], with_others["escalation"])


def test_scenarios_are_paired(trend: FittedModel) -> None:
    """Before any adjustment starts, every scenario shows exactly the same paths."""
    sc = [Scenario("status-quo"), Scenario("later", (Multiply(2.0, _day(trend, 30)),))]
    out = _run(trend, sc, horizon=60)
    a, b = out["status-quo"], out["later"]
    assert np.array_equal(a.daily_quantiles[:29], b.daily_quantiles[:29])
    assert np.array_equal(a.cum_quantiles[:29], b.cum_quantiles[:29])
    assert not np.array_equal(a.daily_quantiles[29:], b.daily_quantiles[29:])
    # doubling after day 30 raises the total of (almost) every path
    assert np.mean(b.final_cumulative > a.final_cumulative) > 0.99


def test_name_key_is_crc32_of_name() -> None:
    assert name_key("ceasefire") == zlib.crc32(b"ceasefire")
    assert name_key("status-quo") != name_key("status-qu0")


# --------------------------------------------------------------------------------------
# Shapes and invariants


@pytest.mark.parametrize("kind", ["trend", "naive"])
def test_quantiles_ordered_and_cumulative_non_decreasing(
    kind: str, request: pytest.FixtureRequest
) -> None:
    model = request.getfixturevalue(kind)
    for p in _run(model, _scenarios(model)).values():
        assert p.dates[0] == np.datetime64(_day(model, 1), "D")
        assert p.dates.dtype == np.dtype("datetime64[D]") and p.dates.shape == (75,)
        assert p.daily_quantiles.shape == p.cum_quantiles.shape == (75, LEVELS.size)
        assert np.all(p.daily_quantiles >= 0)
        assert np.all(np.diff(p.daily_quantiles, axis=1) >= 0)
        assert np.all(np.diff(p.cum_quantiles, axis=1) >= 0)
        assert np.all(np.diff(p.cum_quantiles, axis=0) >= 0)
        assert np.all(p.cum_quantiles >= model.last_total)
        assert np.all(np.diff(p.cum_mean) >= 0)
        assert np.all(np.diff(p.horizon_total_quantiles) >= 0)
        assert p.final_cumulative.shape == (400,)
        assert np.all(p.final_cumulative >= model.last_total)
        # the last day's cumulative quantiles are those of the final totals
        assert np.array_equal(p.cum_quantiles[-1], np.quantile(p.final_cumulative, LEVELS))
        total = p.final_cumulative - model.last_total
        assert np.array_equal(p.horizon_total_quantiles, np.quantile(total, LEVELS))
        assert p.horizon_total_mean == pytest.approx(total.mean(), rel=1e-12)
        assert p.horizon_total_mean == pytest.approx(p.daily_mean.sum(), rel=1e-9)


def test_month_totals(trend: FittedModel) -> None:
    # origin 2025-12-30: day 1 is 2025-12-31, day 75 is 2026-03-15
    assert trend.origin == date(2025, 12, 30)
    p = _run(trend, _scenarios(trend))["status-quo"]
    months = [(m.month, m.days, m.days_in_month, m.partial) for m in p.month_totals]
    assert months == [
        ("2025-12", 1, 31, True),
        ("2026-01", 31, 31, False),
        ("2026-02", 28, 28, False),
        ("2026-03", 15, 31, True),
    ]
    assert sum(m.mean for m in p.month_totals) == pytest.approx(p.horizon_total_mean, rel=1e-9)
    # a month's mean total is the sum of its days' mean figures
    assert p.month_totals[1].mean == pytest.approx(p.daily_mean[1:32].sum(), rel=1e-9)
    for m in p.month_totals:
        assert m.quantiles.shape == LEVELS.shape and np.all(np.diff(m.quantiles) >= 0)


def test_threshold_probability_matches_final_totals(trend: FittedModel) -> None:
    sc = _scenarios(trend)
    first = _run(trend, sc)
    final = first["status-quo"].final_cumulative
    middle = int(np.quantile(final, 0.4))
    thresholds = (trend.last_total, middle, int(final.max()) + 1)
    out = _run(trend, sc, thresholds=thresholds)
    for p in out.values():
        expect = [np.mean(p.final_cumulative >= t) for t in thresholds]
        assert p.threshold_prob.tolist() == expect
    p = out["status-quo"]
    assert p.threshold_prob[1] == pytest.approx(0.6, abs=0.01)
    # already reached at the origin: day 0 on every path
    assert np.array_equal(p.threshold_day_quantiles[0], np.zeros(LEVELS.size))
    # reached during the horizon: a day in 1..horizon, ordered across levels
    assert np.all((p.threshold_day_quantiles[1] >= 1) & (p.threshold_day_quantiles[1] <= 75))
    assert np.all(np.diff(p.threshold_day_quantiles[1]) >= 0)
    # never reached: probability 0, crossing-day quantiles undefined
    assert p.threshold_prob[2] == 0 and np.all(np.isnan(p.threshold_day_quantiles[2]))


def test_crossing_day_quantiles_nan_below_one_percent(trend: FittedModel) -> None:
    sc = _scenarios(trend)[:1]
    final = _run(trend, sc)["status-quo"].final_cumulative
    rare = int(np.sort(final)[-3])  # reached by 3 paths of 400 (< 1%)
    common = int(np.sort(final)[-5])  # reached by 5 paths of 400 (>= 1%)
    p = _run(trend, sc, thresholds=(rare, common))["status-quo"]
    assert p.threshold_prob.tolist() == [3 / 400, 5 / 400]
    assert 3 / 400 < MIN_CROSSING_SHARE <= 5 / 400
    assert np.all(np.isnan(p.threshold_day_quantiles[0]))
    assert not np.any(np.isnan(p.threshold_day_quantiles[1]))


def test_record_probability(trend: FittedModel) -> None:
    sc = _scenarios(trend)[:2]
    assert _run(trend, sc, record=0.0)["status-quo"].record_prob == 1.0
    assert _run(trend, sc, record=1e12)["status-quo"].record_prob == 0.0
    none = _run(trend, sc, record=None)["status-quo"]
    assert none.record is None and none.record_prob is None
    out = _run(trend, sc, record=4000.0)
    sq, esc = out["status-quo"].record_prob, out["escalation"].record_prob
    assert sq is not None and esc is not None and 0 < sq < esc < 1


# --------------------------------------------------------------------------------------
# Adjustments do what they say (tolerances from the simulated paths themselves)


def _ratio_of_means(a: np.ndarray, b: np.ndarray, granularity: int) -> tuple[float, float, float]:
    """Ratio of mean figures of paired runs, its delta-method standard error, and a bound
    on the bias from rounding each figure to the reporting granularity (at most g/2 a day).
    `a` and `b` are per-path means over days, paired path by path."""
    ma, mb = a.mean(), b.mean()
    r = ma / mb
    se = np.std(a - r * b, ddof=1) / np.sqrt(a.size) / mb
    rounding = 0.5 * granularity * (1 + r) / mb
    return float(r), float(se), float(rounding)


def test_ceasefire_cuts_daily_figure_to_a_tenth(trend: FittedModel) -> None:
    horizon, paths = 30, 20_000
    sc = [Scenario("status-quo"), Scenario("ceasefire", (Ceasefire(_day(trend, 1), 0.1),))]
    out = _run(trend, sc, horizon=horizon, n_paths=paths, thresholds=())
    cf, sq = out["ceasefire"], out["status-quo"]
    a = (cf.final_cumulative - trend.last_total) / horizon
    b = (sq.final_cumulative - trend.last_total) / horizon
    r, se, rounding = _ratio_of_means(a, b, trend.observation.granularity)
    assert abs(r - 0.1) <= 5 * se + rounding, (r, se, rounding)
    assert 5 * se + rounding < 0.02  # the test can tell 0.1 from 0.12
    median_ratio = cf.daily_quantiles[:, 3] / sq.daily_quantiles[:, 3]
    assert np.all(np.abs(median_ratio - 0.1) < 0.02), median_ratio


def test_multiply_raises_mean_by_its_factor(trend: FittedModel) -> None:
    horizon, paths = 30, 20_000
    sc = [Scenario("status-quo"), Scenario("more", (Multiply(1.3, _day(trend, 1)),))]
    out = _run(trend, sc, horizon=horizon, n_paths=paths, thresholds=())
    a = (out["more"].final_cumulative - trend.last_total) / horizon
    b = (out["status-quo"].final_cumulative - trend.last_total) / horizon
    r, se, rounding = _ratio_of_means(a, b, trend.observation.granularity)
    assert abs(r - 1.3) <= 5 * se + rounding, (r, se, rounding)
    assert 5 * se + rounding < 0.03
    assert out["more"].daily_mean.mean() / out["status-quo"].daily_mean.mean() == pytest.approx(r)


# --------------------------------------------------------------------------------------
# Arguments


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"horizon": 0}, "`horizon` must be a whole number >= 1. Got: 0"),
        ({"n_paths": 0}, "`n_paths` must be a whole number >= 1. Got: 0"),
        ({"block": 0}, "`block` must be a whole number >= 1. Got: 0"),
        ({"series_key": -1}, "`series_key` must be a whole number >= 0. Got: -1"),
        ({"levels": [0.5, 0.1]}, "`levels` must be strictly increasing numbers in [0, 1]"),
        ({"levels": [0.5, 1.5]}, "`levels` must be strictly increasing numbers in [0, 1]"),
        ({"seed": -3}, "seed must be a whole number >= 0"),
    ],
)
def test_bad_arguments(trend: FittedModel, kw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as err:
        _run(trend, _scenarios(trend)[:1], **kw)
    assert message in str(err.value)


def test_scenario_names_must_be_unique(trend: FittedModel) -> None:
    with pytest.raises(ValueError, match="unique"):
        _run(trend, [Scenario("a"), Scenario("a")])
    with pytest.raises(ValueError, match="at least one"):
        _run(trend, [])


# --------------------------------------------------------------------------------------
# The slow loop oracle


def _oracle(
    model: FittedModel,
    scenario: Scenario,
    *,
    horizon: int,
    n_paths: int,
    seed: int,
    series_key: int,
    thresholds: tuple[int, ...],
    record: float,
) -> dict[str, Any]:
    """The documented stream keys, all days at once, then a plain loop over paths and days."""
    base = child(seed, series_key)
    mu = model.start_paths(n_paths, seed=base).step(horizon)
    draws = {}
    for i, spec in enumerate(factor_draw_spec(scenario)):
        rng = generator(seed, series_key, zlib.crc32(scenario.name.encode()), i)
        p = spec.parameters
        if spec.distribution == "uniform":
            draws[spec.name] = p["lo"] + (p["hi"] - p["lo"]) * rng.random(n_paths)
        elif spec.distribution == "lognormal":
            draws[spec.name] = p["median"] * np.exp(p["sd_log"] * rng.standard_normal(n_paths))
        else:
            draws[spec.name] = rng.geometric(p["p"], n_paths).astype(float)
    dates = np.datetime64(_day(model, 1), "D") + np.arange(horizon)
    factors = adjustment_factors(scenario, dates, draws, n_paths=n_paths)
    rngs = tuple(
        generator(base, s) for s in (Stream.OBS_GAMMA, Stream.OBS_POISSON, Stream.OBS_NORMAL)
    )
    y = model.observation.draw(mu * factors, rngs)  # type: ignore[arg-type]

    cum = [[0] * horizon for _ in range(n_paths)]
    first = [[-1] * n_paths for _ in thresholds]
    largest = [0] * n_paths
    months: dict[str, list[int]] = {}
    for k in range(n_paths):
        total = model.last_total
        for t, level in enumerate(thresholds):
            if total >= level:
                first[t][k] = 0
        for d in range(horizon):
            figure = int(y[d, k])
            assert figure >= 0
            total += figure
            cum[k][d] = total
            largest[k] = max(largest[k], figure)
            month = str(dates[d])[:7]
            months.setdefault(month, [0] * n_paths)[k] += figure
            for t, level in enumerate(thresholds):
                if first[t][k] < 0 and total >= level:
                    first[t][k] = d + 1
    return {
        "daily_quantiles": np.array([np.quantile([y[d, k] for k in range(n_paths)], LEVELS)
                                     for d in range(horizon)]),
        "daily_mean": np.array([sum(int(y[d, k]) for k in range(n_paths)) / n_paths
                                for d in range(horizon)]),
        "cum_quantiles": np.array([np.quantile([cum[k][d] for k in range(n_paths)], LEVELS)
                                   for d in range(horizon)]),
        "final_cumulative": np.array([cum[k][-1] for k in range(n_paths)]),
        "threshold_prob": np.array([sum(f >= 0 for f in fs) / n_paths for fs in first]),
        "first": first,
        "record_prob": sum(m > record for m in largest) / n_paths,
        "months": {m: (np.quantile(v, LEVELS), sum(v) / n_paths) for m, v in months.items()},
    }  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["trend", "naive"])
def test_engine_agrees_with_loop_oracle(kind: str, request: pytest.FixtureRequest) -> None:
    model = request.getfixturevalue(kind)
    horizon, n_paths = 40, 9
    thresholds = (model.last_total, model.last_total + 30_000, model.last_total + 60_000)
    scenarios = _scenarios(model)
    out = simulate_scenarios(
        model,
        scenarios,
        horizon=horizon,
        n_paths=n_paths,
        seed=5,
        series_key=3,
        levels=LEVELS,
        thresholds=thresholds,
        block=6,
        record=2500.0,
    )
    for s in scenarios:
        want = _oracle(
            model,
            s,
            horizon=horizon,
            n_paths=n_paths,
            seed=5,
            series_key=3,
            thresholds=thresholds,
            record=2500.0,
        )
        got = out[s.name]
        for key in ("daily_quantiles", "daily_mean", "cum_quantiles", "final_cumulative"):
            assert np.array_equal(getattr(got, key), want[key]), (s.name, key)
        assert np.array_equal(got.threshold_prob, want["threshold_prob"])
        assert got.record_prob == want["record_prob"]
        for t, crossed in enumerate(want["first"]):
            days = [f for f in crossed if f >= 0]
            if len(days) >= MIN_CROSSING_SHARE * n_paths and days:
                assert np.array_equal(got.threshold_day_quantiles[t], np.quantile(days, LEVELS))
            else:
                assert np.all(np.isnan(got.threshold_day_quantiles[t]))
        assert [m.month for m in got.month_totals] == list(want["months"])
        for m in got.month_totals:
            q, mean = want["months"][m.month]
            assert np.array_equal(m.quantiles, q) and m.mean == mean


# --------------------------------------------------------------------------------------
# Contrasts with the reference scenario and kept sample paths


def test_contrasts_are_quantiles_of_paired_differences(trend: FittedModel) -> None:
    sc = _scenarios(trend)
    out = _run(trend, sc, reference="status-quo", keep_paths=7)
    ref = out["status-quo"]
    assert ref.contrast_quantiles is None and ref.contrast_mean is None
    for name in ("escalation", "ceasefire", "mixed"):
        p = out[name]
        assert p.contrast_quantiles is not None and p.contrast_mean is not None
        diff = p.final_cumulative - ref.final_cumulative
        # the last day's contrast is exactly the quantile of the per-path differences
        np.testing.assert_array_equal(
            p.contrast_quantiles[-1], np.quantile(diff, LEVELS, method="linear")
        )
        assert p.contrast_mean[-1] == diff.mean()
        assert np.all(np.diff(p.contrast_quantiles, axis=1) >= 0)
    # before the escalation starts (day 10) the paired paths are identical: zero difference
    esc = out["escalation"].contrast_quantiles
    assert esc is not None
    assert np.all(esc[:9] == 0) and np.all(esc[-1] > 0)
    cf = out["ceasefire"].contrast_quantiles
    assert cf is not None and np.all(cf[:19] == 0) and np.all(cf[-1] < 0)


def test_a_scenario_identical_to_the_reference_contrasts_to_zero(trend: FittedModel) -> None:
    sc = [Scenario("a", reference=True), Scenario("b", (Multiply(1.0, _day(trend, 3)),))]
    out = _run(trend, sc, reference="a")
    q = out["b"].contrast_quantiles
    assert q is not None and not q.any()


def test_kept_paths_are_the_first_paths(trend: FittedModel) -> None:
    out = _run(trend, _scenarios(trend), keep_paths=5)
    for p in out.values():
        assert p.samples is not None and p.samples.shape == (75, 5)
        assert p.samples.min() >= 0
        np.testing.assert_array_equal(
            trend.last_total + p.samples.sum(axis=0), p.final_cumulative[:5]
        )
    # kept paths do not change any other result
    plain = _run(trend, _scenarios(trend))
    for name, p in plain.items():
        assert p.samples is None
        assert p.cum_quantiles.tobytes() == out[name].cum_quantiles.tobytes()


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"reference": "nope"}, "`reference` must be one of"),
        ({"keep_paths": 401}, "`keep_paths` must be a whole number in [0, n_paths]"),
        ({"keep_paths": -1}, "`keep_paths` must be"),
    ],
)
def test_bad_contrast_and_sample_arguments(
    trend: FittedModel, kw: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        _run(trend, _scenarios(trend), **kw)


def test_progress_reports_every_day_once(trend: FittedModel) -> None:
    seen: list[int] = []
    _run(trend, _scenarios(trend), block=16, progress=seen.append)
    assert seen == [16, 16, 16, 16, 11]
