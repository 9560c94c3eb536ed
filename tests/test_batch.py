"""Batches of scenario files (library level): expansion, outcomes and exit codes, order."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulate.batch import expand, run_batch
from simulate.batch.executors import RETRIES, Task
from simulate.batch.partial import partial_dir, task_key
from simulate.errors import ScenarioError
from simulate.pipeline import prepare

FILE = """\
[run]
name = "{name}"
seed = {seed}
paths = 120
horizon = 20

[data]
source = "example"
series = ["{series}"]

[model]
kind = "naive"

[[scenario]]
name = "status-quo"
"""


def _file(d: Path, name: str, seed: int = 1, series: str = "tanks") -> Path:
    path = d / f"{name}.toml"
    path.write_text(FILE.format(name=name, seed=seed, series=series), encoding="utf-8")
    return path


def test_expand_takes_directories_sorted_and_each_file_once(tmp_path: Path) -> None:
    b, a = _file(tmp_path, "b"), _file(tmp_path, "a")
    (tmp_path / "notes.txt").write_text("not a scenario")
    assert expand([tmp_path, b, tmp_path / "." / "a.toml"]) == [a, b]
    with pytest.raises(ScenarioError, match="no such file or directory"):
        expand([tmp_path / "missing.toml"])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ScenarioError, match=r"no scenario files \(\*\.toml\)"):
        expand([empty])


def test_outcomes_carry_usage_and_data_exit_codes(tmp_path: Path) -> None:
    good = _file(tmp_path, "good")
    unknown = _file(tmp_path, "unknown", series="no-such-series")
    bad = tmp_path / "bad.toml"
    bad.write_text("[run\n", encoding="utf-8")
    outcomes = run_batch([good, unknown, bad], out=tmp_path / "o", charts=False)
    by_name = {o.path.name: o for o in outcomes}
    assert by_name["good.toml"].exit_code == 0 and by_name["good.toml"].error is None
    assert by_name["unknown.toml"].exit_code == 2  # a series the data does not hold
    assert by_name["bad.toml"].exit_code == 2
    assert str(bad) in (by_name["bad.toml"].error or "")
    again = run_batch([good], out=tmp_path / "o", charts=False)
    assert again[0].exit_code == 2 and "use --force" in (again[0].error or "")


def test_the_order_of_the_files_changes_no_output(tmp_path: Path) -> None:
    a, b = _file(tmp_path, "a", seed=1), _file(tmp_path, "b", seed=2, series="personnel")
    run_batch([a, b], out=tmp_path / "ab", charts=False)
    run_batch([b, a], out=tmp_path / "ba", charts=False)
    for run in ("a", "b"):
        for f in ("projections.csv", "summary.csv", "fit.csv"):
            assert (tmp_path / "ab" / run / f).read_bytes() == (
                tmp_path / "ba" / run / f
            ).read_bytes(), (run, f)


def test_kept_task_keys_name_what_the_result_depends_on(tmp_path: Path) -> None:
    p1 = prepare(_file(tmp_path, "k", seed=1))
    p2 = prepare(p1.scenario_file, seed=2)
    t = Task(0, 0, ("status-quo",), 1)
    assert task_key(p1, t, 0) == task_key(prepare(p1.scenario_file, seed=1), t, 0)
    assert len({task_key(p1, t, 0), task_key(p2, t, 0), task_key(p1, t, 5)}) == 3
    assert partial_dir(tmp_path, "k") == tmp_path / ".k.partial"
    assert RETRIES == 1
