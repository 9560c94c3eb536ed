"""Tests of simulate.outputs.provenance: one manifest layout for every output."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from simulate import __version__, pipeline
from simulate.data import load
from simulate.data.policy import DataPolicy
from simulate.data.reported import ReportedData, file_record
from simulate.evaluation.backtest import backtest
from simulate.fingerprint import numerical_platform
from simulate.models import ModelSpec
from simulate.outputs.backtestdir import write_backtest
from simulate.outputs.provenance import (
    data_block,
    describe_files,
    manifest,
    projection_caveat,
    versions,
)
from simulate.outputs.rundir import write_run

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scenarios" / "demo.toml"
HEAD = ["tool", "caveat", "reported_by"]
TAIL = ["outputs", "versions", "platform", "timings"]


def _data(tmp_path: Path) -> ReportedData:
    path = tmp_path / "figures.csv"
    content = b"date,personnel\n2025-01-01,10\n"
    path.write_bytes(content)
    return ReportedData(
        source="figures", reported_by="someone", table=pl.DataFrame(),
        files=(file_record(path, content, "csv", url="https://x.test/f"),),
    )  # fmt: skip


def _minimal(**kw: Any) -> dict[str, Any]:
    args: dict[str, Any] = dict(reported_by="someone", seed=3, data=None, about={}, outputs={})
    return manifest("attrition test", **{**args, **kw})


def test_layout_common_sections_around_the_outputs_own() -> None:
    doc = _minimal(about={"name": "x"}, details={"extra": [1]}, timings={"fit": 0.12345})
    assert list(doc) == [*HEAD, "name", "seed", "data", "extra", *TAIL]
    assert doc["tool"] == "attrition test"
    assert doc["caveat"] == projection_caveat("someone")
    assert "as reported by someone" in doc["caveat"]
    assert doc["seed"] == 3
    assert doc["platform"] == numerical_platform()
    assert doc["versions"] == versions() and doc["versions"]["attrition"] == __version__
    assert doc["timings"]["fit"] == 0.123
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", doc["timings"]["written_at"])
    json.dumps(doc)  # JSON-ready


def test_the_seed_is_recorded_once_and_must_agree() -> None:
    assert list(_minimal(about={"seed": 3})).count("seed") == 1
    nested = _minimal(about={"run": {"seed": 3}})
    assert "seed" not in nested and nested["run"]["seed"] == 3
    with pytest.raises(ValueError, match="about: records seed 4; the seed given is 3"):
        _minimal(about={"run": {"seed": 4}})


def test_a_caveat_of_the_outputs_own() -> None:
    assert _minimal(caveat="Figures as reported.")["caveat"] == "Figures as reported."


def test_data_block_has_every_file_with_its_hash_and_the_policy(tmp_path: Path) -> None:
    data = _data(tmp_path)
    block = data_block(data, DataPolicy(gaps="raise", start=date(2025, 1, 1)))
    assert block["source"] == "figures" and block["reported_by"] == "someone"
    (f,) = block["files"]
    assert f["sha256"] == hashlib.sha256((tmp_path / "figures.csv").read_bytes()).hexdigest()
    assert f["url"] == "https://x.test/f" and "read_at" not in f
    assert block["policy"] == {"gaps": "raise", "corrections": "keep", "correction_window": 7,
                               "slips": "keep", "start": "2025-01-01"}  # fmt: skip
    assert data_block(data, None)["policy"] == data_block(data, DataPolicy())["policy"]


def test_describe_files_adds_hash_and_size(tmp_path: Path) -> None:
    (tmp_path / "b.csv").write_bytes(b"abc")
    (tmp_path / "a.png").write_bytes(b"")
    out = describe_files(tmp_path, {"b.csv": {"rows": 0}, "a.png": {}})
    assert list(out) == ["b.csv", "a.png"]
    assert out["b.csv"] == {"rows": 0, "sha256": hashlib.sha256(b"abc").hexdigest(), "bytes": 3}
    assert out["a.png"]["bytes"] == 0


def _common(doc: dict[str, Any], out_dir: Path) -> None:
    """What every output's manifest carries, checked against the files on disk."""
    keys = list(doc)
    assert keys[:3] == HEAD and keys[-4:] == TAIL
    assert isinstance(doc.get("seed", doc.get("run", {}).get("seed")), int)
    assert "data" in doc
    for name, info in doc["outputs"].items():
        assert info["sha256"] == hashlib.sha256((out_dir / name).read_bytes()).hexdigest()
    assert doc["platform"] == numerical_platform()


def test_run_and_backtest_directories_share_the_common_sections(tmp_path: Path) -> None:
    run = write_run(pipeline.run(DEMO, paths=100), tmp_path / "run", charts=False)
    run_doc = json.loads((run / "manifest.json").read_text())
    _common(run_doc, run)
    assert run_doc["tool"] == "attrition"
    example = load("example", series=["personnel"])
    result = backtest(example, ["personnel"], [ModelSpec("naive")], origins=[date(2025, 7, 1)],
                      horizon=30, n_paths=100, seed=5)  # fmt: skip
    bt = write_backtest(result, tmp_path / "bt", reference_model="naive", charts=False,
                        data=example, policy=None)  # fmt: skip
    bt_doc = json.loads((bt / "manifest.json").read_text())
    _common(bt_doc, bt)
    assert bt_doc["tool"] == "attrition backtest" and bt_doc["seed"] == 5
    assert bt_doc["data"] == data_block(example, None)
    assert bt_doc["outputs"]["scores.csv"]["rows"] == result.scores.height
    assert run_doc["versions"].keys() == bt_doc["versions"].keys()
