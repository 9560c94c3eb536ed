"""``--resume`` under faults: kept results are data only and never executed, checked against
their hashes and task keys; a run directory is kept only while everything it was made from is
unchanged; ``--samples`` above the paths is refused (simulate/batch/partial.py, keep.py,
runner.py; simulate/cli/run.py)."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import pickle
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner
from fault_support import interrupt_after

from simulate.batch import partial, run_batch
from simulate.batch.executors import Task
from simulate.cli import cli
from simulate.models import MODEL_KINDS
from simulate.pipeline import prepare, project_series
from simulate.scenarios import parse_scenario

FILE = """\
[run]
name = "{name}"
seed = 3
paths = {paths}
horizon = 30

[data]
source = "{source}"
series = {series}

[model]
kind = "{kind}"

[[scenario]]
name = "status-quo"
reference = true

[[scenario]]
name = "escalation"
[[scenario.adjust]]
type = "multiply"
factor = 1.2
start = 2026-01-10

[outputs]
thresholds = [1_000]
"""


def _file(
    d: Path,
    name: str,
    *,
    source: str = "example",
    series: tuple[str, ...] = ("personnel", "tanks"),
    kind: str = "naive",
    paths: int = 120,
) -> Path:
    path = d / f"{name}.toml"
    text = FILE.format(name=name, source=source, series=json.dumps(list(series)), kind=kind,
                       paths=paths)  # fmt: skip
    path.write_text(text, encoding="utf-8")
    return path


def _same(a: object, b: object, where: str = "result") -> None:
    """`a` and `b` equal value for value and type for type (arrays: dtype, shape, values)."""
    assert type(a) is type(b), (where, type(a), type(b))
    if dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            _same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray)
        assert (a.dtype, a.shape) == (b.dtype, b.shape), where
        assert np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"), where
    elif isinstance(a, dict) or type(a).__name__ == "mappingproxy":
        assert list(a) == list(b), where  # type: ignore[call-overload]
        for k in a:  # type: ignore[attr-defined]
            _same(a[k], b[k], f"{where}[{k!r}]")  # type: ignore[index]
    elif isinstance(a, tuple | list):
        assert isinstance(b, tuple | list) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and a != a:
        assert b != b, where
    else:
        assert a == b, (where, a, b)


def _same_run(a: Path, b: Path) -> None:
    """Every file of run directories `a` and `b` byte for byte; the manifests without their
    timings (the only part that differs between two runs of the same inputs)."""
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    for name in names:
        if name == "manifest.json":
            ma, mb = (json.loads((d / name).read_text()) for d in (a, b))
            ma.pop("timings"), mb.pop("timings")
            assert ma == mb
        else:
            assert (a / name).read_bytes() == (b / name).read_bytes(), name


def _run_interrupted(
    tmp: Path, monkeypatch: pytest.MonkeyPatch, path: Path, n: int = 1, **kw: Any
) -> Path:
    with monkeypatch.context() as m:
        interrupt_after(m, n)
        with pytest.raises(KeyboardInterrupt):
            run_batch([path], out=tmp / "o", charts=False, **kw)
    kept = tmp / "o" / f".{path.stem}.partial"
    assert not (tmp / "o" / path.stem).exists() and kept.is_dir()
    return kept


def _keys(path: Path, samples: int = 0) -> list[str]:
    """The task keys of `path`'s tasks (one per series)."""
    p = prepare(path)
    names = tuple(sc.name for sc in p.scenario_file.scenarios)
    return [partial.task_key(p, Task(0, k, names, 1), samples) for k in range(len(p.series))]


# --------------------------------------------------------------------------------------
# Kept results: data only, exactly what was computed


@pytest.mark.parametrize("kind", [*MODEL_KINDS, "auto"])
def test_kept_results_decode_to_exactly_what_was_encoded(kind: str) -> None:
    sf = parse_scenario(
        {
            "run": {"name": "k", "seed": 2, "paths": 60, "horizon": 40},
            "data": {"source": "example", "series": ["personnel"]},
            "model": {"kind": kind},
            "scenario": [{"name": "status-quo"}, {"name": "b", "reference": True}],
            "outputs": {"thresholds": [1_000, 10**9]},
        },
        source="k.toml",
    )
    from simulate.batch import keep

    result = project_series(prepare(sf), 0, samples=7)
    doc, arrays = keep.encode(result)
    text = json.dumps(doc)  # JSON-ready: nothing but plain values
    assert all(type(a) is np.ndarray and not a.dtype.hasobject for a in arrays.values())
    _same(result, keep.decode(json.loads(text), arrays))


def test_a_resumed_run_writes_the_same_bytes_as_an_uninterrupted_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _file(tmp_path, "r")
    kept = _run_interrupted(tmp_path, monkeypatch, path, samples=4)
    assert sorted(f.suffix for f in kept.iterdir()) == [".json", ".npz"]  # data only
    [o] = run_batch([path], out=tmp_path / "o", charts=True, samples=4, resume=True)
    assert o.error is None and o.resumed_tasks == 1 and o.discarded == 0
    assert not kept.exists()
    [clean] = run_batch([path], out=tmp_path / "clean", charts=True, samples=4)
    _same_run(tmp_path / "o" / "r", tmp_path / "clean" / "r")


def test_a_run_resumed_on_dask_writes_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("distributed")
    path = _file(tmp_path, "k")
    _run_interrupted(tmp_path, monkeypatch, path)
    [o] = run_batch([path], out=tmp_path / "o", charts=False, resume=True, executor="dask")
    assert o.error is None and o.resumed_tasks == 1, o.error
    run_batch([path], out=tmp_path / "clean", charts=False)
    _same_run(tmp_path / "o" / "k", tmp_path / "clean" / "k")


# --------------------------------------------------------------------------------------
# What is found in the folder is never executed, and never used unless it matches


class _Evil:
    """Unpickling this creates the marker file: what a crafted pickle could do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.write_text, (self.marker, "executed"))


def test_a_crafted_pickle_in_the_kept_folder_is_never_executed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _file(tmp_path, "p")
    kept = partial.partial_dir(tmp_path / "o", "p")
    kept.mkdir(parents=True)
    marker = tmp_path / "marker"
    for key in _keys(path):  # where an older version looked for kept results
        (kept / f"{key}.pkl").write_bytes(pickle.dumps(_Evil(marker)))
    result = CliRunner().invoke(cli, ["run", str(path), "--out", str(tmp_path / "o"),
                                      "--no-charts", "--resume"])  # fmt: skip
    assert not marker.exists()
    assert result.exit_code == 0, result.output
    assert "o/p: 2 kept results did not match and were recomputed" in result.output
    run_batch([path], out=tmp_path / "clean", charts=False)
    _same_run(tmp_path / "o" / "p", tmp_path / "clean" / "p")


def _tamper_npz(folder: Path, key: str) -> None:
    """Change one number of the kept arrays (a valid .npz, another SHA-256)."""
    with np.load(folder / f"{key}.npz", allow_pickle=False) as npz:
        arrays = {n: npz[n].copy() for n in npz.files}
    big = max(arrays, key=lambda n: arrays[n].size)
    arrays[big].flat[0] += 1
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    (folder / f"{key}.npz").write_bytes(buf.getvalue())


def _rehash(doc: dict[str, Any]) -> None:
    """Recompute the structure's SHA-256, as a forger would."""
    text = json.dumps(doc["result"], sort_keys=True, separators=(",", ":"))
    doc["result_sha256"] = hashlib.sha256(text.encode()).hexdigest()


def _forge(folder: Path, key: str, field: str, value: object) -> None:
    """Set a field of the kept result's structure, with hashes that match."""
    doc = json.loads((folder / f"{key}.json").read_text())
    recorded = doc["result_sha256"]
    _rehash(doc)
    assert doc["result_sha256"] == recorded  # the forger hashes as the writer does
    doc["result"]["fields"][field] = value
    _rehash(doc)
    (folder / f"{key}.json").write_text(json.dumps(doc))


def _tamper_json_number(folder: Path, key: str) -> None:
    doc = json.loads((folder / f"{key}.json").read_text())
    doc["result"]["fields"]["record"] += 10
    (folder / f"{key}.json").write_text(json.dumps(doc))


def _tamper_json_type(folder: Path, key: str) -> None:
    """A value of a type outside the allowlist, with hashes that match."""
    _forge(folder, key, "choice", {"$": "os.system", "args": ["touch marker"]})


def _tamper_field_type(folder: Path, key: str) -> None:
    """A known value where another type is expected, with hashes that match."""
    _forge(folder, key, "series", "not a series")


def _wrong_key(folder: Path, key: str) -> None:
    """Another task's result under this task's name (the JSON names the other key)."""
    for suffix in (".json", ".npz"):
        (folder / f"{key}{suffix}").rename(folder / f"{'0' * 32}{suffix}")
    doc = json.loads((folder / f"{'0' * 32}.json").read_text())
    (folder / f"{key}.json").write_text(json.dumps({**doc, "key": "0" * 32}))
    (folder / f"{key}.npz").write_bytes((folder / f"{'0' * 32}.npz").read_bytes())
    for suffix in (".json", ".npz"):
        (folder / f"{'0' * 32}{suffix}").unlink()


def _truncate(folder: Path, key: str) -> None:
    data = (folder / f"{key}.npz").read_bytes()
    (folder / f"{key}.npz").write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    "tamper",
    [_tamper_npz, _tamper_json_number, _tamper_json_type, _tamper_field_type, _wrong_key,
     _truncate],
)  # fmt: skip
def test_a_kept_result_that_does_not_match_is_recomputed_and_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tamper: Any
) -> None:
    path = _file(tmp_path, "t")
    kept = _run_interrupted(tmp_path, monkeypatch, path)
    [key] = {f.stem for f in kept.iterdir()}
    tamper(kept, key)
    [o] = run_batch([path], out=tmp_path / "o", charts=False, resume=True)
    assert o.error is None and o.resumed_tasks == 0 and o.discarded == 1
    run_batch([path], out=tmp_path / "clean", charts=False)
    _same_run(tmp_path / "o" / "t", tmp_path / "clean" / "t")
    assert not (tmp_path / "marker").exists()


def test_the_cli_says_how_many_kept_results_were_recomputed_even_when_quiet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _file(tmp_path, "q")
    kept = _run_interrupted(tmp_path, monkeypatch, path)
    [key] = {f.stem for f in kept.iterdir()}
    _tamper_npz(kept, key)
    result = CliRunner().invoke(cli, ["run", str(path), "--out", str(tmp_path / "o"),
                                      "--no-charts", "--resume", "-q"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "o/q: 1 kept result did not match and was recomputed".replace(
        "o/q", str(tmp_path / "o" / "q")
    )


# --------------------------------------------------------------------------------------
# A run directory is kept only while what it was made from is unchanged


def _append_day(csv: Path) -> date:
    """Add the day after the last to a copy of a romansverdan-style CSV; the new last day."""
    lines = csv.read_text(encoding="utf-8").rstrip("\n").split("\n")
    cells = lines[-1].split(",")
    day = date.fromisoformat(cells[0]) + timedelta(days=1)
    cells[0], cells[1] = day.isoformat(), str(int(cells[1]) + 1)
    cells[2] = str(int(cells[2]) + 1_000)
    csv.write_text("\n".join([*lines, ",".join(cells)]) + "\n", encoding="utf-8")
    return day


def test_resume_after_new_reports_recomputes_from_the_new_origin(
    tmp_path: Path, shared: dict[str, Path]
) -> None:
    data = tmp_path / "losses.csv"
    data.write_bytes(shared["romansverdan"].read_bytes())
    path = _file(tmp_path, "d", source=data.name, series=("personnel",))
    args = ["run", str(path), "--out", str(tmp_path / "o"), "--no-charts"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    before = json.loads((tmp_path / "o" / "d" / "manifest.json").read_text())
    new_day = _append_day(data)
    assert before["series"][0]["origin"] == (new_day - timedelta(days=1)).isoformat()
    result = CliRunner().invoke(cli, [*args, "--resume"])
    assert result.exit_code == 0, result.output
    assert "already complete" not in result.output
    assert f"{tmp_path / 'o' / 'd'}: data changed since the run was written; recomputed" in (
        result.output
    )
    after = json.loads((tmp_path / "o" / "d" / "manifest.json").read_text())
    assert after["series"][0]["origin"] == new_day.isoformat()
    assert after["data"]["files"][0]["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    again = CliRunner().invoke(cli, [*args, "--resume"])  # now it is current
    assert "already complete (--resume); left as it is" in again.output


def test_resume_with_samples_writes_the_samples(tmp_path: Path) -> None:
    path = _file(tmp_path, "s")
    args = ["run", str(path), "--out", str(tmp_path / "o"), "--no-charts"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    result = CliRunner().invoke(cli, [*args, "--resume", "--samples", "50"])
    assert result.exit_code == 0, result.output
    assert "the samples differ (run: 0, now: 50); recomputed" in result.output
    samples = pl.read_parquet(tmp_path / "o" / "s" / "samples.parquet")
    per = samples.group_by("scenario_id", "target").agg(pl.col("output_type_id").n_unique())
    assert per.height == 2 * 2 * 2  # scenarios x series x (inc, cum)
    assert set(per["output_type_id"]) == {50}
    manifest = json.loads((tmp_path / "o" / "s" / "manifest.json").read_text())
    assert manifest["run"]["samples"] == 50


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        (["--seed", "4"], "the seed differs (run: 3, now: 4)"),
        (["--paths", "130"], "the paths differ (run: 120, now: 130)"),
        (["--charts"], "charts are wanted and the run has none"),
        (
            ["--no-charts", "--format", "parquet"],
            "the tables are csv files and parquet files are wanted",
        ),
        ([], "the run was written by attrition"),
    ],
)
def test_resume_redoes_a_run_made_from_anything_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: list[str], why: str
) -> None:
    path = _file(tmp_path, "x")
    args = ["run", str(path), "--out", str(tmp_path / "o")]
    assert CliRunner().invoke(cli, [*args, "--no-charts"]).exit_code == 0
    if not extra:  # a newer version of the tool
        monkeypatch.setattr(partial, "__version__", "999.0")
    result = CliRunner().invoke(cli, [*args, *(extra or ["--no-charts"]), "--resume"])
    assert result.exit_code == 0, result.output
    assert why in result.output and "recomputed" in result.output
    assert "already complete" not in result.output


# --------------------------------------------------------------------------------------
# --samples above the paths


def test_samples_above_the_paths_are_refused_per_file(tmp_path: Path) -> None:
    few = _file(tmp_path, "few", paths=120, series=("personnel",))
    many = _file(tmp_path, "many", paths=300, series=("personnel",))
    result = CliRunner().invoke(cli, ["run", str(few), str(many), "--out", str(tmp_path / "o"),
                                      "--no-charts", "--samples", "200", "-q"])  # fmt: skip
    assert result.exit_code == 2
    assert (
        f"Error: {few}: --samples: 200 trajectories asked for, but the run simulates 120 "
        "paths (run.paths); at most 120 can be kept"
    ) in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o" / "few").exists()
    samples = pl.read_parquet(tmp_path / "o" / "many" / "samples.parquet")
    assert samples["output_type_id"].n_unique() == 200
    [o] = run_batch([many], out=tmp_path / "p", paths=100, samples=200, charts=False)
    assert o.exit_code == 2 and "simulates 100 paths (--paths)" in (o.error or "")


def test_the_library_refuses_samples_above_the_paths_too(tmp_path: Path) -> None:
    from simulate.errors import ScenarioError
    from simulate.pipeline import run

    path = _file(tmp_path, "lib", series=("personnel",))
    with pytest.raises(ScenarioError, match=r"lib\.toml: samples: 121 trajectories asked for, "
                       r"but the run simulates 120 paths; at most 120 can be kept"):  # fmt: skip
        run(path, samples=121)
    assert run(path, samples=120).results[0].projections["status-quo"].samples.shape == (30, 120)


def test_an_interrupted_run_resumed_after_the_data_changed_uses_none_of_its_kept_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Interrupted after one of two tasks; the data lose their last report; the resumed run
    keeps nothing from before, says so, and writes what a fresh run on the new data writes."""
    import simulate.examples

    data = tmp_path / "reports.csv"
    lines = (
        (Path(simulate.examples.__file__).parent / "synthetic_reports.csv")
        .read_text(encoding="utf-8")
        .splitlines()
    )
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path = _file(tmp_path, "changed", source=data.name)
    kept = _run_interrupted(tmp_path, monkeypatch, path, n=1)
    assert len(list(kept.glob("*.json"))) == 1
    data.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")  # a report withdrawn

    args = ["run", str(path), "--out", str(tmp_path / "o"), "--no-charts", "--resume"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert f"{tmp_path / 'o' / 'changed'}: 1 kept result did not match and was recomputed" in (
        result.output
    )
    assert not kept.exists()
    fresh = CliRunner().invoke(
        cli, ["run", str(path), "--out", str(tmp_path / "fresh"), "--no-charts"]
    )
    assert fresh.exit_code == 0, fresh.output
    _same_run(tmp_path / "o" / "changed", tmp_path / "fresh" / "changed")
    manifest = json.loads((tmp_path / "o" / "changed" / "manifest.json").read_text())
    last = date.fromisoformat(lines[-2].split(",")[0])
    assert {s["origin"] for s in manifest["series"]} == {last.isoformat()}
