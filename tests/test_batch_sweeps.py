"""Swept runs (the batch runner), task chunks, the Dask executor, retries and --resume.

How ``[[sweep]]`` grids expand into scenarios is tested in tests/test_scenarios_sweep.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner
from sweep_support import SCENARIOS

from simulate import pipeline
from simulate.batch import run_batch
from simulate.batch.executors import CHUNK
from simulate.batch.executors import retry as _retry
from simulate.cli import cli
from simulate.outputs import rundir

BASE = (
    """
[run]
name = "{name}"
seed = 7
paths = 300
horizon = 120
"""
    + SCENARIOS
    + """{sweeps}
[outputs]
thresholds = [1_600_000, 1_650_000]
charts = false
"""
)

FACTOR = """
[[sweep]]
scenario = "escalation"
set = "adjust[0].factor"
values = [{values}]
"""


def _file(tmp: Path, name: str, sweeps: str) -> Path:
    path = tmp / f"{name}.toml"
    path.write_text(BASE.format(name=name, sweeps=sweeps), encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------
# Runs


@pytest.fixture(scope="module")
def swept_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("sweep")
    path = _file(tmp, "sweep", FACTOR.format(values="1.0, 1.1, 1.2, 1.3, 1.4, 1.5"))
    [outcome] = run_batch([path], out=tmp / "out", charts=True)
    assert outcome.error is None, outcome.error
    return tmp / "out" / "sweep"


def test_summary_has_the_swept_values_and_a_response_curve(swept_run: Path) -> None:
    s = pl.read_csv(swept_run / "summary.csv", null_values="NA", infer_schema_length=None)
    assert "sweep adjust[0].factor" in s.columns
    p = s.filter(
        (pl.col("measure") == "threshold_probability") & (pl.col("threshold") == 1_650_000)
    )
    by = dict(zip(p["scenario_id"], p["value"], strict=True))
    curve = [by[f"escalation.factor-{v}"] for v in ("1.0", "1.1", "1.2", "1.3", "1.4", "1.5")]
    # analog paths are paired and the factor scales each path: monotone, path by path
    assert curve == sorted(curve) and curve[-1] > curve[0]
    assert by["escalation.factor-1.0"] == by["status-quo"]  # factor 1 is the status quo
    column = pl.col("sweep adjust[0].factor").cast(pl.String)
    factor = s.filter(pl.col("scenario_id") == "escalation.factor-1.3").select(column)
    assert set(factor.to_series()) == {"1.3"}
    assert s.filter(pl.col("scenario_id") == "ceasefire")["sweep adjust[0].factor"].is_null().all()
    assert (swept_run / "sensitivity-personnel.png").read_bytes()[:4] == b"\x89PNG"
    assert rundir.validate_run(swept_run) == []


def test_scenarios_split_into_tasks_give_the_same_files(tmp_path: Path) -> None:
    values = ", ".join(f"{1 + i / 100:.2f}" for i in range(CHUNK + 5))  # more than one task
    path = _file(tmp_path, "many", FACTOR.format(values=values))
    [o] = run_batch([path], out=tmp_path / "tasks", charts=False)
    assert o.error is None
    whole = pipeline.run(path)  # every scenario in one call
    rundir.write_run(whole, tmp_path / "whole" / "many", charts=False)
    for name in ("projections.csv", "contrasts.csv", "summary.csv", "fit.csv"):
        a = (tmp_path / "tasks" / "many" / name).read_bytes()
        assert a == (tmp_path / "whole" / "many" / name).read_bytes(), name


def test_dask_executor_gives_byte_identical_files(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    path = _file(tmp_path, "d", FACTOR.format(values="1.1, 1.3"))
    [a] = run_batch([path], out=tmp_path / "local", charts=False)
    [b] = run_batch([path], out=tmp_path / "dask", charts=False, executor="dask", jobs=2)
    assert a.error is None and b.error is None, (a.error, b.error)
    for f in ("projections.csv", "contrasts.csv", "summary.csv", "fit.csv"):
        assert (tmp_path / "local" / "d" / f).read_bytes() == (
            tmp_path / "dask" / "d" / f
        ).read_bytes()


def test_dask_executor_with_a_scheduler_address(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    path = _file(tmp_path, "s", "")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=":0") as cluster:  # fmt: skip
        [o] = run_batch([path], out=tmp_path / "o", charts=False, executor="dask",
                        scheduler=cluster.scheduler_address)  # fmt: skip
    assert o.error is None and (tmp_path / "o" / "s" / "manifest.json").is_file()


def test_unreachable_scheduler_is_a_one_line_error(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    path = _file(tmp_path, "u", "")
    result = CliRunner().invoke(
        cli, ["run", str(path), "--out", str(tmp_path / "o"), "--executor", "dask",
              "--scheduler", "tcp://127.0.0.1:9", "-q"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "cannot reach the Dask scheduler tcp://127.0.0.1:9" in result.output
    assert "Traceback" not in result.output


def test_resume_skips_complete_runs_and_redoes_the_rest(tmp_path: Path) -> None:
    one = _file(tmp_path, "one", "")
    two = _file(tmp_path, "two", "")
    args = ["run", str(one), str(two), "--out", str(tmp_path / "o"), "--no-charts"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    stamp = (tmp_path / "o" / "one" / "projections.csv").stat().st_mtime_ns
    (tmp_path / "o" / "two" / "summary.csv").unlink()  # an incomplete run directory
    again = CliRunner().invoke(cli, [*args, "--resume"])
    assert again.exit_code == 0, again.output
    assert "o/one: already complete (--resume); left as it is" in again.output
    assert (tmp_path / "o" / "one" / "projections.csv").stat().st_mtime_ns == stamp
    assert rundir.validate_run(tmp_path / "o" / "two") == []
    # a changed scenario file is not "complete" any more
    one.write_text(one.read_text().replace("seed = 7", "seed = 8"))
    third = CliRunner().invoke(cli, [*args, "--resume"])
    assert "one: already complete" not in third.output
    assert json.loads((tmp_path / "o" / "one" / "manifest.json").read_text())["run"]["seed"] == 8


def test_a_task_that_fails_for_another_reason_is_retried_once() -> None:
    calls: list[int] = []

    def flaky() -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("worker lost")
        return "ok"

    assert _retry(flaky) == "ok" and len(calls) == 2
    calls.clear()

    def broken() -> Any:
        calls.append(1)
        raise OSError("still lost")

    with pytest.raises(OSError, match="still lost"):
        _retry(broken)
    assert len(calls) == 2


def test_an_interrupted_sweep_resumes_without_redoing_finished_tasks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import simulate.batch.executors as batch

    values = ", ".join(f"{1 + i / 100:.2f}" for i in range(CHUNK + 5))  # two tasks per series
    path = _file(tmp_path, "big", FACTOR.format(values=values))
    real = batch.project_series
    calls: list[tuple[str, ...]] = []

    def interrupted(*args: Any, **kw: Any) -> Any:
        calls.append(tuple(kw["scenarios"]))
        if len(calls) == 2:
            raise KeyboardInterrupt  # the user stops the run during the second task
        return real(*args, **kw)

    monkeypatch.setattr(batch, "project_series", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_batch([path], out=tmp_path / "o", charts=False)
    assert not (tmp_path / "o" / "big").exists()  # nothing half-written
    kept = tmp_path / "o" / ".big.partial"
    assert len(list(kept.glob("*.json"))) == 1  # the first task is kept (.json and .npz)

    calls.clear()
    monkeypatch.setattr(
        batch, "project_series", lambda *a, **kw: (calls.append(1), real(*a, **kw))[1]
    )
    [o] = run_batch([path], out=tmp_path / "o", charts=False, resume=True)
    assert o.error is None and o.resumed_tasks == 1 and len(calls) == 1  # only the second task
    assert not (tmp_path / "o" / ".big.partial").exists()
    # the same files as an uninterrupted run
    monkeypatch.setattr(batch, "project_series", real)
    [clean] = run_batch([path], out=tmp_path / "clean", charts=False)
    for name in ("projections.csv", "contrasts.csv", "summary.csv", "fit.csv"):
        assert (tmp_path / "o" / "big" / name).read_bytes() == (
            tmp_path / "clean" / "big" / name
        ).read_bytes()
