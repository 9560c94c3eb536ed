"""Tests of simulate.compare.manifests: manifest fields that differ, by JSON path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from compare_support import invoke, seed_of

from simulate.compare import ABSENT, manifest_differences


def test_manifest_differences_by_field_path(runs: dict[str, Path]) -> None:
    r = invoke(runs["a"], runs["seed"])
    assert r.exit_code == 1
    assert "manifest.json: 1 field differ" in r.output
    assert f"  run.seed: {seed_of(runs['a'])} -> 7\n" in r.output


def test_manifest_ignores_timings_versions_paths_and_compared_checksums() -> None:
    a: dict[str, Any] = {
        "run": {"seed": 1},
        "scenario_file": {"path": "x/demo.toml", "sha256": "aa"},
        "data": {"files": [{"path": "/home/a/data.csv", "sha256": "dd"}]},
        "series": [{"name": "tanks", "origin": "2025-12-30"}],
        "outputs": {"projections.csv": {"rows": 10, "sha256": "p1", "bytes": 100},
                    "chart-x.png": {"sha256": "c1", "bytes": 5}},
        "versions": {"numpy": "2.4.6"},
        "timings": {"project_seconds": 0.5},
    }  # fmt: skip
    b = json.loads(json.dumps(a))
    b["scenario_file"]["path"] = "y/demo.toml"
    b["data"]["files"][0]["path"] = "/home/b/data.csv"
    b["versions"]["numpy"] = "2.5.0"
    b["timings"]["project_seconds"] = 0.7
    b["outputs"]["projections.csv"].update(sha256="p2", bytes=101)
    assert manifest_differences(a, b, compared_files=["projections.csv"]) == ()
    b["outputs"]["chart-x.png"]["sha256"] = "c2"
    b["series"][0]["origin"] = "2026-01-06"
    b["data"]["files"][0]["sha256"] = "ee"
    del b["run"]["seed"]
    got = [str(d) for d in manifest_differences(a, b, compared_files=["projections.csv"])]
    assert got == [
        "run.seed: 1 -> (absent)",
        'data.files[0].sha256: "dd" -> "ee"',
        'series[tanks].origin: "2025-12-30" -> "2026-01-06"',
        'outputs[chart-x.png].sha256: "c1" -> "c2"',
    ]
    assert manifest_differences(a, b)[0].b is ABSENT
