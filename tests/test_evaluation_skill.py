"""Bootstrap intervals of backtest skill over origins (simulate/evaluation/skill.py, the
``skill_lo``/``skill_hi`` columns of :func:`simulate.evaluation.backtest.summarise`, their
validation and the printed table)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from simulate.evaluation.backtest import summarise
from simulate.evaluation.skill import SKILL_LEVEL, SKILL_RESAMPLES, resample_origins, skill_bounds
from simulate.outputs.backtestdir import render_summary

HORIZONS = 3  # daily rows per origin in the synthetic scores


def _scores(wis: dict[str, np.ndarray], series: str = "tanks") -> pl.DataFrame:
    """Synthetic backtest scores: `wis[model]` is ``(origins, HORIZONS)`` of daily WIS; one
    total30 row per origin whose WIS is the sum of the day's."""
    rows: list[dict[str, object]] = []
    for model, w in wis.items():
        for i, per_day in enumerate(np.atleast_2d(w)):
            origin = date(2024, 1, 1) + timedelta(days=28 * i)
            for h, v in enumerate(per_day, start=1):
                rows.append({"origin": origin, "model": model, "target": "daily", "horizon": h,
                             "bucket": "1-7", "wis": float(v)})  # fmt: skip
            rows.append({"origin": origin, "model": model, "target": "total30", "horizon": 30,
                         "bucket": None, "wis": float(per_day.sum())})  # fmt: skip
    return pl.DataFrame(rows).with_columns(
        series=pl.lit(series), scale=pl.lit("natural"), crps=pl.col("wis"),
        ae_median=pl.col("wis"), cov50=pl.lit(0.5), cov80=pl.lit(0.8), cov95=pl.lit(0.95),
    )  # fmt: skip


def _pairs(n: int, skill: float, noise: float, seed: int) -> dict[str, np.ndarray]:
    """Daily WIS of a baseline and of a model whose true skill against it is `skill`: the
    model's WIS is the baseline's times ``(1 - skill)`` times mean-one lognormal noise."""
    rng = np.random.default_rng(seed)
    base = rng.gamma(2.0, 100.0, size=(n, HORIZONS))
    factor = np.exp(rng.normal(-(noise**2) / 2, noise, size=(n, 1)))
    return {"naive": base, "analog": base * (1 - skill) * factor}


def _row(summary: pl.DataFrame, model: str, group: str) -> dict[str, float]:
    return summary.filter((pl.col("model") == model) & (pl.col("group") == group)).row(
        0, named=True
    )


def test_interval_contains_the_skill_and_the_baseline_has_none_to_speak_of() -> None:
    s = summarise(_scores(_pairs(20, 0.3, 0.3, seed=1)))
    for group in ("daily", "daily 1-7", "total30"):
        a = _row(s, "analog", group)
        assert a["skill_lo"] <= a["skill"] <= a["skill_hi"]
        assert a["skill_lo"] < a["skill_hi"]
        n = _row(s, "naive", group)  # the baseline against itself: 0 on every resample
        assert n["skill"] == n["skill_lo"] == n["skill_hi"] == 0.0
    assert "skill_vs_bootstrap_lo" not in s.columns  # bootstrap was not run


def test_interval_is_deterministic_and_keyed_by_series_and_group() -> None:
    wis = _pairs(15, 0.2, 0.4, seed=2)
    scores = _scores(wis)
    a = summarise(scores)
    assert a.equals(summarise(scores.reverse()))  # row order does not matter
    assert a.equals(summarise(scores))
    # another model run beside them leaves the others' intervals as they were
    more = summarise(_scores({**wis, "bootstrap": wis["naive"] * 1.1}))
    cols = ["series", "model", "group", "skill", "skill_lo", "skill_hi"]
    assert more.filter(pl.col("model") != "bootstrap").select(cols).equals(a.select(cols))
    assert not summarise(scores, seed=1).equals(a)  # the seed draws other origins
    # the origins drawn differ between groups and series, each from its own keyed stream
    assert not np.array_equal(
        resample_origins(15, seed=0, series="tanks", group="daily"),
        resample_origins(15, seed=0, series="tanks", group="total30"),
    )


def test_interval_widens_with_fewer_or_noisier_origins() -> None:
    def width(n: int, noise: float) -> float:
        r = _row(summarise(_scores(_pairs(n, 0.3, noise, seed=3))), "analog", "total30")
        return float(r["skill_hi"] - r["skill_lo"])

    assert width(10, 0.3) > 1.5 * width(80, 0.3)
    assert width(40, 0.6) > 1.5 * width(40, 0.15)
    # a model exactly proportional to its baseline has no uncertainty in its skill at all
    assert width(40, 0.0) == pytest.approx(0.0, abs=1e-12)


def test_summary_matches_a_plain_bootstrap_over_origins() -> None:
    wis = _pairs(7, 0.25, 0.5, seed=4)
    wis["analog"][2, 0] *= 10  # one bad day at one origin
    s = summarise(_scores(wis), seed=3)
    idx = resample_origins(7, seed=3, series="tanks", group="daily")
    assert idx.shape == (7, SKILL_RESAMPLES)
    # by hand: the mean WIS of each origin over its days, then one resample at a time
    model = [float(np.mean(day)) for day in wis["analog"]]
    base = [float(np.mean(day)) for day in wis["naive"]]
    skills = []
    for r in range(SKILL_RESAMPLES):
        picked = [int(i) for i in idx[:, r]]
        m = sum(model[i] for i in picked) / len(picked)
        b = sum(base[i] for i in picked) / len(picked)
        skills.append(1 - m / b)
    tail = (1 - SKILL_LEVEL) / 2
    lo, hi = np.quantile(skills, [tail, 1 - tail])
    got = _row(s, "analog", "daily")
    assert got["skill"] == pytest.approx(1 - np.mean(model) / np.mean(base), rel=1e-12)
    assert (got["skill_lo"], got["skill_hi"]) == pytest.approx((lo, hi), rel=1e-12)


def test_ninety_percent_intervals_cover_the_true_skill_ninety_percent_of_the_time() -> None:
    # 400 replications of 45 origins (the harness) with a true skill of 0.3. If the
    # intervals covered with probability 0.9, the share covering would be 0.9 with standard
    # deviation sqrt(0.9 * 0.1 / 400) = 0.015; 3.3 of those (a 99.9% two-sided band) gives
    # [0.85, 0.95]. The percentile bootstrap is known to cover a little less than nominal with
    # few dozen origins (about 0.88 here over 2,000 replications), still inside the band; an
    # unpaired bootstrap (far wider) or the wrong level would not be.
    rng = np.random.default_rng(20261130)
    n, true_skill, reps = 45, 0.3, 400
    hits = 0
    for i in range(reps):
        base = rng.gamma(2.0, 100.0, n)
        model = base * (1 - true_skill) * np.exp(rng.normal(-0.045, 0.3, n))
        idx = resample_origins(n, seed=0, series=f"replication {i}", group="total30")
        lo, hi = skill_bounds(model[None, :], base, idx)
        hits += bool(lo[0] <= true_skill <= hi[0])
    assert 0.85 <= hits / reps <= 0.95, hits / reps


def test_undefined_intervals_are_empty() -> None:
    # a model missing at an origin gets no interval; a baseline of zero WIS none either
    wis = np.array([[1.0, 2.0, np.nan], [1.0, 2.0, 3.0]])
    lo, hi = skill_bounds(wis, np.array([1.0, 1.0, 1.0]), resample_origins(3, seed=0,
                          series="s", group="g"))  # fmt: skip
    assert np.isnan(lo[0]) and np.isnan(hi[0]) and np.isfinite(lo[1])
    lo, hi = skill_bounds(wis[1:], np.zeros(3), resample_origins(3, seed=0, series="s", group="g"))
    assert np.isnan(lo[0]) and np.isnan(hi[0])


def test_the_printed_table_shows_each_skill_with_its_interval() -> None:
    s = summarise(_scores(_pairs(20, 0.3, 0.3, seed=1)))
    text = render_summary(s, "nobody")
    a = _row(s, "analog", "total30")
    assert f"{a['skill']:5.2f} [{a['skill_lo']:.2f}, {a['skill_hi']:.2f}]" in text
    assert (
        "skill [90% interval]" in text
        and "90% paired bootstrap interval of the skill over origins" in text
    )


def test_backtest_folder_carries_the_intervals_and_validation_checks_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simulate.errors import RunInvalidError
    from simulate.outputs import backtestdir
    from simulate.pipeline import plan_backtest, run_backtest

    plan = plan_backtest(["example"], series=["personnel"], models=["analog"], every=60,
                         horizon=30, n_paths=100, start=None)  # fmt: skip
    result = run_backtest(plan)
    good = backtestdir.write_backtest(result, tmp_path / "good", reference_model="analog",
                                      charts=False)  # fmt: skip
    summary = pl.read_csv(good / "summary.csv", null_values="NA")
    expected = summarise(result.scores, seed=result.seed)
    for c in ("skill_lo", "skill_hi", "skill_vs_bootstrap_lo", "skill_vs_bootstrap_hi"):
        assert summary[c].to_list() == pytest.approx(expected[c].to_list(), rel=1e-12)
    analog = summary.filter((pl.col("model") == "analog") & (pl.col("group") == "daily"))
    assert analog["skill_lo"][0] <= analog["skill"][0] <= analog["skill_hi"][0]
    assert analog["skill_vs_bootstrap_lo"][0] <= analog["skill_vs_bootstrap_hi"][0]

    real = backtestdir.summarise
    monkeypatch.setattr(
        backtestdir, "summarise",
        lambda s, **kw: real(s, **kw).with_columns(skill_hi=pl.col("skill") - 0.01),
    )  # fmt: skip
    target = tmp_path / "bad"
    with pytest.raises(RunInvalidError, match=r"skill outside \[skill_lo, skill_hi\]"):
        backtestdir.write_backtest(result, target, reference_model="analog", charts=False)
    assert not target.exists()
