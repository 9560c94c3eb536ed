"""Tests of `attrition backtest` (simulate.cli.backtest) and of the plan it runs
(simulate.pipeline.plan_backtest / run_backtest): inspected before anything is fitted."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from simulate.cli import cli
from simulate.data import load
from simulate.evaluation.backtest import backtest, default_origins
from simulate.evaluation.selection import AutoSpec
from simulate.models import daily_series
from simulate.pipeline import plan_backtest, run_backtest
from simulate.scenarios import load_scenario_file

DEMO = Path(__file__).resolve().parents[1] / "scenarios" / "demo.toml"


def test_plan_of_data_adds_the_baselines_and_lists_the_origins(tmp_path: Path) -> None:
    plan = plan_backtest(["example"], series=["personnel", "tanks"], models=["analog", "naive"],
                         window=90, every=56, horizon=30, start=date(2025, 3, 1),
                         out=tmp_path / "bt")  # fmt: skip
    assert [s.kind for s in plan.specs] == ["analog", "naive", "bootstrap"]
    assert {s.window for s in plan.specs} == {90}
    data = load("example", series=["personnel", "tanks"])
    expected = set()
    for name in ("personnel", "tanks"):
        end = daily_series(data, name).end
        expected |= set(default_origins(end, horizon=30, every=56, start=date(2025, 3, 1)))
    assert plan.origins == tuple(sorted(expected)) and plan.origins
    assert (plan.series, plan.seed, plan.policy) == (("personnel", "tanks"), 0, None)
    assert plan.out == tmp_path / "bt" and plan.reference_model == "analog"
    assert plan.config["models"] == [s.to_dict() for s in plan.specs]
    assert plan.config["inputs"] == ["example"] and plan.config["train_start"] is None


def test_plan_of_a_scenario_file_takes_its_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    sf = load_scenario_file(DEMO)
    plan = plan_backtest([str(DEMO)], train_start=date(2024, 6, 1))
    assert plan.out == Path("outputs") / f"{sf.run.name}-backtest"
    assert plan.seed == sf.run.seed and plan.series == tuple(sf.data.series)
    assert sf.auto_model  # the demo's kind = "auto": the analog model with the file's options
    assert plan.specs[0] == AutoSpec(sf.model) and plan.reference_model == "auto"
    assert plan.policy is not None and plan.policy.start == date(2024, 6, 1)
    assert plan.config["train_start"] == "2024-06-01"


def test_an_existing_output_is_refused_before_any_fitting(tmp_path: Path) -> None:
    (tmp_path / "bt").mkdir()
    args = ["backtest", "example", "--out", str(tmp_path / "bt"), "--paths", "100000000"]
    result = CliRunner().invoke(cli, args)  # that many paths would take hours
    assert result.exit_code == 2
    assert result.stderr == f"Error: {tmp_path / 'bt'}: already exists; use --force to replace it\n"


def test_run_backtest_is_the_backtest_of_the_plan() -> None:
    plan = plan_backtest(["example"], models=["naive"], every=90, horizon=14,
                         start=date(2025, 9, 1), n_paths=100, seed=3)  # fmt: skip
    got = run_backtest(plan)
    direct = backtest(plan.data, ["personnel"], plan.specs, origins=plan.origins, horizon=14,
                      n_paths=100, seed=3)  # fmt: skip
    assert got.origins == direct.origins and got.origins
    assert got.scores.equals(direct.scores)


def test_no_origin_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["backtest", "example", "--start", "2030-01-01", "--out", str(tmp_path / "bt")]
    )
    assert result.exit_code == 2
    assert "no origin between --start and --end leaves a full horizon" in result.stderr
    assert not (tmp_path / "bt").exists()
