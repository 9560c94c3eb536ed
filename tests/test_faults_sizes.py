"""Issue 13, sizes: what cannot fit is refused before it starts (simulate.budget, the
parse-time bounds of simulate.scenarios.keys, the checks of simulate.pipeline, project() and
backtests), and overflow never reaches a file (simulate.data.reported, simulate.engine).

No test allocates much memory: a refusal is proved immediate by making the engine (or the
fit) fail if it is ever called, and by finding the output folder empty afterwards.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from data_helpers import read_error, write
from memory_support import attrition_peak

from simulate import budget, pipeline
from simulate.cli import cli
from simulate.data import load
from simulate.errors import ModelError, ScenarioError, SizeError, exit_code
from simulate.models import ModelSpec, daily_series, fit
from simulate.notebook import project
from simulate.scenarios import Multiply, Scenario, load_scenario_file
from simulate.scenarios.schema import scenario_json_schema

SCENARIO = """\
[run]
name = "big"
seed = 1
{run}

[data]
source = "example"
series = ["personnel"]

[model]
kind = "naive"

[[scenario]]
name = "status-quo"

[[scenario]]
name = "escalation"
[[scenario.adjust]]
type = "multiply"
factor = {factor}
start = 2026-04-01
"""


def scenario(tmp_path: Path, run: str = "paths = 100\nhorizon = 30", factor: str = "1.2") -> Path:
    path = tmp_path / "big.toml"
    path.write_text(SCENARIO.format(run=run, factor=factor), encoding="utf-8")
    return path


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """The run must never start: fitting or simulating anything fails the test."""

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the run started: it should have been refused before any work")

    monkeypatch.setattr("simulate.pipeline.simulate_scenarios", never)
    monkeypatch.setattr("simulate.batch.executors.project_series", never)
    monkeypatch.setattr("simulate.pipeline.backtest", never)
    monkeypatch.setattr("simulate.notebook.fit", never)
    # the same answer on every machine: 8 GB available, the default time limit
    monkeypatch.setenv("ATTRITION_MEMORY", "8G")
    monkeypatch.delenv("ATTRITION_MAX_HOURS", raising=False)


def run_cli(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


# ------------------------------------------------------------------ the two cases


def test_run_refuses_a_billion_paths_at_once(tmp_path: Path, no_work: None) -> None:
    path = scenario(tmp_path, "paths = 1_000_000_000\nhorizon = 365")
    out = tmp_path / "out"
    out.mkdir()
    result = run_cli("run", str(path), "--out", str(out), "-q")
    assert result.exit_code == 2, result.output
    error = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(error) == 1
    assert error[0].startswith(f"Error: {path}: run.paths: 1,000,000,000 paths: the run needs")
    assert "8.6 GB are available" in error[0] and "paths fit" in error[0]
    assert list(out.iterdir()) == []  # no run directory, no hidden folder or file


def test_a_refused_run_leaves_no_output_folder_behind(tmp_path: Path, no_work: None) -> None:
    """The output folder made for the run's lock is removed again when nothing was written."""
    path = scenario(tmp_path, "paths = 1_000_000_000\nhorizon = 365")
    out = tmp_path / "new" / "out"
    assert run_cli("run", str(path), "--out", str(out), "-q").exit_code == 2
    assert not (tmp_path / "new").exists()


def test_run_refuses_a_million_day_horizon_at_once(tmp_path: Path, no_work: None) -> None:
    path = scenario(tmp_path, "horizon = 1_000_000")
    out = tmp_path / "out"
    out.mkdir()
    result = run_cli("run", str(path), "--out", str(out), "-q")
    assert result.exit_code == 2, result.output
    assert f"Error: {path}: run.horizon: must be at most 36,500 days (100 years of daily " \
        "figures), got 1000000" in result.output  # fmt: skip
    assert list(out.iterdir()) == []


def test_paths_option_is_named_when_it_is_what_does_not_fit(tmp_path: Path, no_work: None) -> None:
    path = scenario(tmp_path)
    out = tmp_path / "out"
    result = run_cli("run", str(path), "--out", str(out), "--paths", "500000000", "-q")
    assert result.exit_code == 2, result.output
    assert f"Error: {path}: --paths: 500,000,000 paths:" in result.output
    assert not out.exists() or list(out.iterdir()) == []


def test_samples_are_named_when_they_are_what_does_not_fit(
    tmp_path: Path, no_work: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATTRITION_MEMORY", "1G")
    path = scenario(tmp_path, "paths = 10_000\nhorizon = 365")
    out = tmp_path / "out"
    result = run_cli("run", str(path), "--out", str(out), "--samples", "10000", "-q")
    assert result.exit_code == 2, result.output
    assert f"Error: {path}: --samples: 10,000 samples: the run needs about" in result.output
    assert "samples fit" in result.output
    assert not out.exists() or list(out.iterdir()) == []


def test_fewer_jobs_are_suggested_when_they_would_fit() -> None:
    # two series: with --jobs 2 both are simulated at once, each in its own process
    size = budget.RunSize(paths=4_000_000, horizons=(90, 90), scenarios=3, levels=23,
                          kind="naive")  # fmt: skip
    one = budget.estimate_run(size, jobs=1).bytes
    two = budget.estimate_run(size, jobs=2).bytes
    assert two > one
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ATTRITION_MEMORY", str((one + two) // 2))
        with pytest.raises(SizeError) as info:
            budget.check_run(size, jobs=2, file="f.toml", paths_key="run.paths",
                             horizon_key="run.horizon")  # fmt: skip
        assert "--jobs 1" in str(info.value)
        assert budget.check_run(size, jobs=1, file="f.toml", paths_key="run.paths",
                                horizon_key="run.horizon").bytes == one  # fmt: skip


def test_a_remote_cluster_is_checked_for_this_process_only() -> None:
    size = budget.RunSize(paths=10**8, horizons=(90,), scenarios=3, levels=23)
    # the writing process still gathers every path's final total of every scenario
    remote = budget.estimate_run(size, remote=True).bytes
    assert remote >= 2 * 8 * 10**8 * 3
    assert 10 * remote < budget.estimate_run(size).bytes


def test_time_beyond_the_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTRITION_MEMORY", "1T")
    monkeypatch.setenv("ATTRITION_MAX_HOURS", "1")
    size = budget.RunSize(paths=10**8, horizons=(365,), scenarios=3, levels=23)
    with pytest.raises(SizeError) as info:
        budget.check_run(size, file="f.toml", paths_key="run.paths", horizon_key="run.horizon")
    message = str(info.value)
    assert message.startswith("f.toml: run.paths: 100,000,000 paths: the run would take about")
    assert "more than the 1 hours allowed ($ATTRITION_MAX_HOURS)" in message
    assert exit_code(info.value) == 2


@pytest.mark.parametrize(("raw", "expected"), [("8G", 8 * 2**30), ("512M", 512 * 2**20),
                                              ("1000", 1000), ("1.5 GiB", 3 * 2**29)])  # fmt: skip
def test_memory_override(monkeypatch: pytest.MonkeyPatch, raw: str, expected: int) -> None:
    monkeypatch.setenv("ATTRITION_MEMORY", raw)
    assert budget.available_memory() == expected


def test_bad_memory_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTRITION_MEMORY", "lots")
    with pytest.raises(SizeError, match=r"^\$ATTRITION_MEMORY: must be a size such as 8G"):
        budget.available_memory()


def test_available_memory_is_read_from_the_system(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ATTRITION_MEMORY", raising=False)
    got = budget.available_memory()
    assert got is None or got > 0


# ------------------------------------------------------------------ the library API


def test_pipeline_run_refuses_before_simulating(tmp_path: Path, no_work: None) -> None:
    path = scenario(tmp_path, "paths = 1_000_000_000\nhorizon = 365")
    with pytest.raises(SizeError, match=r"big.toml: run.paths: 1,000,000,000 paths: "):
        pipeline.run(path)


def test_an_end_date_centuries_away_is_refused(tmp_path: Path, no_work: None) -> None:
    path = scenario(tmp_path, "end = 9999-12-31")
    with pytest.raises(ScenarioError, match=r"big.toml: run.end: must be at most 36,500 days"):
        pipeline.prepare(path)


def test_project_refuses_before_fitting(no_work: None) -> None:
    days = [date(2024, 1, 1) + timedelta(i) for i in range(400)]
    counts = np.random.default_rng(1).poisson(50, 400)
    with pytest.raises(SizeError, match=r"^project\(\): paths: 1,000,000,000 paths: "):
        project(days, counts, paths=10**9, model="naive")
    with pytest.raises(SizeError, match=r"^project\(\): horizon: must be at most 36,500 days"):
        project(days, counts, horizon=10**6, model="naive")


def test_backtest_refuses_before_fitting(tmp_path: Path, no_work: None) -> None:
    out = tmp_path / "bt"
    result = run_cli("backtest", "example", "--paths", "1000000000", "--out", str(out), "-q")
    assert result.exit_code == 2, result.output
    assert "Error: backtest: --paths: 1,000,000,000 paths: the run needs" in result.output
    assert not out.exists()
    result = run_cli("backtest", "example", "--horizon", "100000", "--out", str(out), "-q")
    assert result.exit_code == 2, result.output
    assert "Error: backtest: --horizon: must be at most 36,500 days" in result.output


# ------------------------------------------------------------------ parse-time bounds


@pytest.mark.parametrize(
    ("factor", "key", "message"),
    [
        ("1e300", "factor", "must be at most 1,000, got 1e+300"),
        ("inf", "factor", "must be a finite number, got inf"),
        ("{ uniform = [1.0, 1e6] }", "factor.uniform[1]", "must be at most 1,000, got 1000000.0"),
        ("{ lognormal = { median = 1e9, sd_log = 0.1 } }", "factor.lognormal.median",
         "must be at most 1,000, got 1000000000.0"),
        ("{ lognormal = { median = 1, sd_log = 50 } }", "factor.lognormal.sd_log",
         "must be at most 3, got 50"),
    ],
)  # fmt: skip
def test_factors_are_bounded_at_parse_time(
    tmp_path: Path, factor: str, key: str, message: str
) -> None:
    path = scenario(tmp_path, factor=factor)
    with pytest.raises(ScenarioError) as info:
        load_scenario_file(path)
    assert str(info.value) == f"{path}: scenario[1].adjust[0].{key}: {message}"


def test_paths_are_bounded_at_parse_time(tmp_path: Path) -> None:
    path = scenario(tmp_path, "paths = 10_000_000_000\nhorizon = 30")
    with pytest.raises(ScenarioError, match=r"run.paths: must be at most 1,000,000,000, got"):
        load_scenario_file(path)


def test_the_schema_states_the_same_bounds() -> None:
    props = scenario_json_schema()["properties"]
    run = props["run"]["properties"]
    assert run["horizon"]["maximum"] == 36_500
    assert run["paths"]["maximum"] == 1_000_000_000
    factor = json.dumps(props["scenario"]["items"]["properties"]["adjust"])
    assert '"maximum": 1000' in factor and '"maximum": 3' in factor


# ------------------------------------------------------------------ overflow


def test_reported_totals_beyond_2_53_are_refused_when_read(tmp_path: Path) -> None:
    path = write(tmp_path, "huge.csv", f"date,tanks\n2024-01-01,5\n2024-01-02,{2**53 + 1}\n")
    msg = read_error(path, kind="cumulative")
    assert msg.startswith(f"{path}: line 3, 'tanks': cumulative total {2**53 + 1} on 2024-01-02")
    assert "9,007,199,254,740,992" in msg


def naive_model() -> Any:
    return fit(ModelSpec("naive"), daily_series(load("example"), "personnel"))


def project_with(factor: float, horizon: int = 30) -> None:
    from simulate.engine import simulate_scenarios

    model = naive_model()
    start = model.origin + timedelta(days=1)
    s = Scenario("x", (Multiply(factor, start),))
    simulate_scenarios(model, [s], horizon=horizon, n_paths=50, seed=1, series_key=0,
                       levels=[0.5])  # fmt: skip


def test_engine_refuses_a_factor_that_overflows() -> None:
    with pytest.raises(ModelError, match=r"the expected daily figure reaches .* on 20"):
        project_with(1e300)


def test_engine_never_writes_a_wrapped_around_total() -> None:
    # about 7e17 a day: 30 days pass 2**63, which used to wrap to negative totals silently
    with pytest.raises(ModelError, match=r"series 'personnel', scenario 'x': "):
        project_with(3e14)


def test_engine_accepts_large_but_safe_factors() -> None:
    project_with(1000.0)


# ------------------------------------------------------------------ the estimate itself


@pytest.mark.slow
def test_estimate_is_within_its_tolerance_of_the_measured_peak(tmp_path: Path) -> None:
    """The documented tolerance: measured <= estimate <= 2 x measured (it errs high)."""
    paths, horizon = 200_000, 60
    path = scenario(tmp_path, f"paths = {paths}\nhorizon = {horizon}")
    done, measured = attrition_peak(tmp_path, "run", str(path), "--out", str(tmp_path / "o"), "-q")
    assert done.returncode == 0, done.stderr
    sf = load_scenario_file(path)
    size = budget.RunSize(paths=paths, horizons=(horizon,), scenarios=2,
                          levels=len(sf.outputs.quantiles), kind="naive")  # fmt: skip
    estimated = budget.estimate_run(size).bytes
    assert measured <= estimated <= 2 * measured, (measured, estimated)


def test_parse_bounds_accept_the_shipped_scenarios() -> None:
    for path in (Path(__file__).resolve().parents[1] / "scenarios").glob("*.toml"):
        load_scenario_file(path)
