"""Tests of rolling-origin backtests (simulate/evaluation/backtest.py, outputs/backtestdir.py,
the CLI)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from simulate.cli import cli
from simulate.data import load
from simulate.data.policy import DataPolicy
from simulate.evaluation.backtest import (
    backtest,
    default_origins,
    forecast_paths,
    summarise,
)
from simulate.evaluation.scoring import score_paths
from simulate.evaluation.selection import AutoSpec
from simulate.fingerprint import numerical_platform
from simulate.models import ModelSpec

LEVELS = (0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975)


def _wis_by_hand(x: np.ndarray, y: float) -> float:
    """Bracher et al. (2021): (|y - m| / 2 + sum_k alpha_k / 2 * IS_k) / (K + 1/2)."""
    q = dict(zip(LEVELS, np.quantile(x, LEVELS), strict=True))
    total = 0.5 * abs(y - q[0.5])
    for lo in (0.025, 0.1, 0.25):
        alpha = 2 * lo
        low, up = q[lo], q[1 - lo]
        interval = (up - low) + 2 / alpha * max(low - y, 0) + 2 / alpha * max(y - up, 0)
        total += alpha / 2 * interval
    return total / 3.5


def test_scores_by_hand() -> None:
    rng = np.random.default_rng(1)
    paths = rng.poisson(20, size=(90, 500))
    observed = rng.poisson(20, size=90)
    observed[5] = 60  # far above every path
    s = score_paths(paths, observed, last_total=1000, levels=LEVELS)
    nat = s.filter(pl.col("scale") == "natural")
    assert nat.filter(pl.col("target") == "daily").height == 90
    assert nat.filter(pl.col("target") == "total7").height == 12  # ending 7, 14, ..., 84
    assert nat.filter(pl.col("target") == "total30")["horizon"].to_list() == [30, 60, 90]
    cum = nat.filter(pl.col("target") == "cum").row(0, named=True)
    assert cum["observed"] == 1000 + observed.sum()
    day6 = nat.filter((pl.col("target") == "daily") & (pl.col("horizon") == 6)).row(0, named=True)
    assert day6["wis"] == pytest.approx(_wis_by_hand(paths[5].astype(float), 60.0))
    assert day6["cov95"] == 0 and day6["pit"] == 1.0
    t30 = nat.filter((pl.col("target") == "total30") & (pl.col("horizon") == 60)).row(0, named=True)
    x = paths[30:60].sum(axis=0).astype(float)
    assert t30["observed"] == observed[30:60].sum()
    assert t30["wis"] == pytest.approx(_wis_by_hand(x, float(observed[30:60].sum())))
    # log1p scale: the same scores of the transformed sample
    lg = s.filter(
        (pl.col("scale") == "log1p") & (pl.col("target") == "daily") & (pl.col("horizon") == 6)
    )
    assert lg["wis"][0] == pytest.approx(
        _wis_by_hand(np.log1p(paths[5].astype(float)), np.log1p(60))
    )


def test_pit_of_a_figure_equal_to_every_path_is_one_half() -> None:
    paths = np.full((10, 50), 7)
    s = score_paths(paths, np.full(10, 7), 0, LEVELS).filter(pl.col("target") == "daily")
    assert set(s["pit"]) == {0.5} and set(s["cov50"]) == {1.0} and set(s["wis"]) == {0.0}


def test_default_origins() -> None:
    got = default_origins(date(2026, 2, 28), horizon=90, every=28)
    assert got[-1] == date(2026, 2, 28) - timedelta(days=90)
    assert all((b - a).days == 28 for a, b in zip(got, got[1:], strict=False))
    assert got[0] >= date(2026, 2, 28) - timedelta(days=730)
    assert default_origins(date(2026, 2, 28), start=date(2025, 10, 1)) == [
        date(2025, 10, 5),
        date(2025, 11, 2),
        date(2025, 11, 30),
    ]


@pytest.fixture(scope="module")
def example():  # type: ignore[no-untyped-def]
    return load("example")


def test_forecasts_use_nothing_reported_after_the_origin(example) -> None:  # type: ignore[no-untyped-def]
    origin = date(2025, 6, 1)
    spec = ModelSpec("analog")
    _, a = forecast_paths(spec, example, "personnel", origin, horizon=30, n_paths=200, seed=4)
    later = example.table.with_columns(
        cumulative=pl.when(pl.col("date") > origin)
        .then(pl.col("cumulative") * 2)
        .otherwise(pl.col("cumulative"))
    )
    from dataclasses import replace

    _, b = forecast_paths(spec, replace(example, table=later), "personnel", origin, horizon=30,
                          n_paths=200, seed=4)  # fmt: skip
    np.testing.assert_array_equal(a, b)


def test_scores_do_not_depend_on_which_origins_or_models_run_together(example) -> None:  # type: ignore[no-untyped-def]
    origins = [date(2025, 5, 1), date(2025, 7, 1)]
    kw = dict(horizon=30, n_paths=300, seed=2)
    both = backtest(example, ["personnel"], [ModelSpec("analog"), ModelSpec("naive")],
                    origins=origins, **kw)  # type: ignore[arg-type]  # fmt: skip
    one = backtest(example, ["personnel"], [ModelSpec("analog")], origins=origins[1:], **kw)  # type: ignore[arg-type]
    pick = both.scores.filter((pl.col("model") == "analog") & (pl.col("origin") == origins[1]))
    assert pick.equals(one.scores)


def test_summary_skill_is_relative_to_the_baselines(example) -> None:  # type: ignore[no-untyped-def]
    r = backtest(
        example, ["personnel"], [ModelSpec("analog"), ModelSpec("naive"), ModelSpec("bootstrap")],
        origins=default_origins(date(2025, 12, 30), horizon=30, every=28, start=date(2025, 3, 1)),
        horizon=30, n_paths=300, seed=1,
    )  # fmt: skip
    s = summarise(r.scores)
    naive = s.filter((pl.col("model") == "naive") & (pl.col("group") == "total30"))
    analog = s.filter((pl.col("model") == "analog") & (pl.col("group") == "total30"))
    assert naive["skill"][0] == 0.0
    assert analog["skill"][0] == pytest.approx(1 - analog["wis"][0] / naive["wis"][0])
    boot = s.filter((pl.col("model") == "bootstrap") & (pl.col("group") == "total30"))
    assert analog["skill_vs_bootstrap"][0] == pytest.approx(1 - analog["wis"][0] / boot["wis"][0])
    assert set(s["group"]) >= {"daily", "daily 1-7", "daily 8-30", "total7", "total30", "cum"}


def test_backtest_command_writes_its_directory(tmp_path: Path) -> None:
    out = tmp_path / "bt"
    args = ["backtest", "example", "--series", "personnel,tanks", "--models", "analog,trend-nb",
            "--horizon", "30", "--every", "56", "--start", "2025-03-01", "--paths", "200",
            "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "as reported by nobody" in result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "bands-personnel.png", "bands-tanks.png", "manifest.json", "pit.csv", "reliability.png",
        "scores.csv", "summary.csv",
    ]  # fmt: skip
    m = json.loads((out / "manifest.json").read_text())
    assert m["models"] == ["analog", "trend-nb", "naive", "bootstrap"]
    assert m["caveat"].startswith("These are projections of the figures as reported by nobody")
    assert m["platform"] == numerical_platform()
    scores = pl.read_csv(out / "scores.csv", null_values="NA")
    assert set(scores["model"]) == {"analog", "trend-nb", "naive", "bootstrap"}
    pit = pl.read_csv(out / "pit.csv")
    sums = pit.group_by("series", "model", "target").agg(pl.col("share").sum())["share"]
    assert np.allclose(sums.to_numpy(), 1.0)
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 2 and "already exists" in again.output


def test_backtest_bad_model_name() -> None:
    result = CliRunner().invoke(cli, ["backtest", "example", "--models", "prophet"])
    assert result.exit_code == 2 and "'prophet' is not a model" in result.output


# --------------------------------------------------------------------------------------
# The calibration target of the backtest issue, on the real series (../shared/data)

SERIES = ["personnel", "tanks", "afv", "artillery", "uav"]


GROUPS = ("daily", "total30", "total90")
#: Issue 14's target on the README's backtest: coverage of the central 80% and 95% bands within
#: 5 points of nominal in each of the 30 cells, and skill against naive of at least ...
SKILL_TARGET = {"daily": 0.03, "total30": 0.20, "total90": 0.25}
#: ... on every series, and of at least this on the geometric mean over series.
GEO_TARGET = {"total30": 0.25, "total90": 0.30}
#: The parts of the target the default misses, as measured (README, "Calibration"): each is a
#: strict expected failure, so the day one is met the suite says so.
MISSES = {
    ("personnel", "daily", "cov80"): "0.90",
    ("personnel", "total30", "cov80"): "0.93",
    ("personnel", "total90", "cov80"): "0.92",
    ("tanks", "total90", "cov95"): "0.897",
    ("afv", "total90", "cov95"): "0.897",
    ("tanks", "daily", "skill"): "+1.9%",
    ("afv", "daily", "skill"): "+2.3%",
    ("artillery", "daily", "skill"): "+1.2%",
    ("tanks", "total30", "skill"): "+18.4%",
    ("artillery", "total90", "skill"): "+24.95%",
    ("geo", "total30", "skill"): "+24.9%",
}


def _target(series: str, group: str, what: str) -> pytest.MarkDecorator | tuple[()]:
    miss = MISSES.get((series, group, what))
    if miss is None:
        return ()
    return pytest.mark.xfail(strict=True, reason=f"{series} {group} {what} is {miss}")


@pytest.fixture(scope="module")
def calibration(shared: dict[str, Path]) -> pl.DataFrame:
    """The README's backtest (General Staff, 5 series, origins every 28 days from 2023-01-01,
    training from 2022-04-01, 90 days ahead, 2,000 paths, seed 0) of the default and analog."""
    data = load(shared["pi_personnel"], shared["pi_equipment"], series=SERIES)
    origins = default_origins(date(2026, 2, 28), start=date(2023, 1, 1))
    specs = [AutoSpec(), ModelSpec("analog"), ModelSpec("naive")]
    r = backtest(data, SERIES, specs, origins=origins, n_paths=2000, seed=0,
                 policy=DataPolicy(start=date(2022, 4, 1)))  # fmt: skip
    assert len(r.origins) == 39
    return summarise(r.scores).filter(pl.col("group").is_in(GROUPS))


def _cell(calibration: pl.DataFrame, model: str, series: str, group: str) -> dict[str, float]:
    row = calibration.filter(
        (pl.col("model") == model) & (pl.col("series") == series) & (pl.col("group") == group)
    )
    assert row.height == 1
    return row.row(0, named=True)


@pytest.mark.slow
@pytest.mark.parametrize("series", SERIES)
def test_the_default_scores_at_least_as_well_as_analog(
    calibration: pl.DataFrame, series: str
) -> None:
    """``auto`` departs from the calibrated analog model only on evidence: its mean WIS is
    never above analog's, on any series and target (equal where it keeps analog)."""
    for group in GROUPS:
        auto, analog = (_cell(calibration, m, series, group) for m in ("auto", "analog"))
        assert auto["wis"] <= analog["wis"] * (1 + 1e-12), (group, auto, analog)


@pytest.mark.slow
def test_default_model_daily_wis_no_worse_than_naive(calibration: pl.DataFrame) -> None:
    daily = calibration.filter((pl.col("model") == "auto") & (pl.col("group") == "daily"))
    assert daily.height == 5
    assert (daily["skill"] >= 0).all(), daily


@pytest.mark.slow
@pytest.mark.parametrize(
    ("series", "group", "level"),
    [
        pytest.param(s, g, c, marks=_target(s, g, f"cov{c}"), id=f"{s}-{g}-{c}")
        for s in SERIES
        for g in GROUPS
        for c in (80, 95)
    ],
)
def test_band_coverage_within_5_points(
    calibration: pl.DataFrame, series: str, group: str, level: int
) -> None:
    cell = _cell(calibration, "auto", series, group)
    assert abs(cell[f"cov{level}"] - level / 100) <= 0.05, cell


@pytest.mark.slow
@pytest.mark.parametrize(
    ("series", "group"),
    [
        pytest.param(s, g, marks=_target(s, g, "skill"), id=f"{s}-{g}")
        for s in SERIES
        for g in GROUPS
    ],
)
def test_skill_against_naive_meets_the_target(
    calibration: pl.DataFrame, series: str, group: str
) -> None:
    cell = _cell(calibration, "auto", series, group)
    assert cell["skill"] >= SKILL_TARGET[group], cell


@pytest.mark.slow
@pytest.mark.parametrize(
    "group", [pytest.param(g, marks=_target("geo", g, "skill"), id=g) for g in GEO_TARGET]
)
def test_geometric_mean_skill_meets_the_target(calibration: pl.DataFrame, group: str) -> None:
    ratios = [1 - _cell(calibration, "auto", s, group)["skill"] for s in SERIES]
    geo = 1 - float(np.exp(np.mean(np.log(ratios))))
    assert geo >= GEO_TARGET[group], geo


def test_an_origin_any_model_cannot_use_is_dropped_for_all(example) -> None:  # type: ignore[no-untyped-def]
    early, later = date(2024, 4, 1), date(2025, 6, 1)  # analog needs 150 days of history
    r = backtest(example, ["tanks"], [ModelSpec("analog"), ModelSpec("naive")],
                 origins=[date(2024, 1, 10), early, later], horizon=30, n_paths=200)  # fmt: skip
    assert r.origins == (later,)
    assert set(r.scores["origin"]) == {later}
    assert any("2024-01-10: fewer than 28 reported days before it" in f for f in r.failures)
    assert any(f"{early} analog" in f and "needs at least 150" in f for f in r.failures)
