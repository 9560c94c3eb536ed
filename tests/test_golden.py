"""Golden runs: small scenario files re-run and compared with the result tables they gave.

``tests/golden/scenarios/<name>.toml`` is run with :func:`simulate.pipeline.run` and written with
:func:`simulate.rundir.write_run` (no charts); its ``projections.csv``, ``contrasts.csv``,
``summary.csv`` and ``fit.csv`` must match ``tests/golden/<name>/``:

* **byte for byte** when NumPy, SciPy and Polars have the versions, and the platform (operating
  system and machine) is the one, recorded in ``tests/golden/<name>/GOLDEN.json``: the same
  build gives the same random streams and the same floating-point operations, and
  ``attrition run`` promises byte-identical result files;
* otherwise **within rtol = atol = 1e-6** (:data:`RTOL`, :data:`ATOL`). Another build changes
  fits in their last digits (about 1e-12 relative: summation order, fused multiply-add, SIMD
  paths of the special functions), which may occasionally move a simulated count and so a
  quantile; a change beyond 1e-6 is not rounding but a change of random streams or algorithms
  (NumPy does not promise its distributions' streams across versions), and the goldens must then
  be regenerated deliberately, not loosened.

``pytest tests/test_golden.py --update-golden`` regenerates the goldens (README, "Golden runs").
"""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from simulate import pipeline, rundir
from simulate.compare import compare_paths

GOLDEN = Path(__file__).resolve().parent / "golden"
SCENARIOS = GOLDEN / "scenarios"
FILES = ("projections.csv", "contrasts.csv", "summary.csv", "fit.csv")
NAMES = ("demo", "multi-series", "as-of-2024-11-12")
#: Tolerances when the recorded build differs from this one (see the module docstring).
RTOL = 1e-6
ATOL = 1e-6
#: What must match GOLDEN.json for byte-identical files to be required.
BUILD = ("numpy", "scipy", "polars", "system", "machine")
REGENERATE = "pytest tests/test_golden.py --update-golden"


def _environment() -> dict[str, str]:
    env = {dist: metadata.version(dist) for dist in ("numpy", "scipy", "polars")}
    env.update(
        python=platform.python_version(), system=platform.system(), machine=platform.machine()
    )
    return env


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _data_file(scenario: Path) -> Path | None:
    """The data file a scenario file names by path (None for a source name)."""
    source = tomllib.loads(scenario.read_text(encoding="utf-8"))["data"]["source"]
    return None if source == "example" else (scenario.parent / source).resolve()


def _update(name: str, scenario: Path, run_dir: Path, golden: Path) -> None:
    golden.mkdir(exist_ok=True)
    for f in FILES:
        shutil.copyfile(run_dir / f, golden / f)
    doc: dict[str, Any] = {
        "made_by": REGENERATE,
        "scenario": f"tests/golden/scenarios/{scenario.name}",
        "scenario_sha256": _sha256(scenario),
        **_environment(),
        "files": {f: _sha256(golden / f) for f in FILES},
    }
    (golden / "GOLDEN.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def _report(golden: Path, run_dir: Path, f: str, rtol: float, atol: float) -> str | None:
    """None when the files agree within the tolerance, else the largest differences."""
    comparison = compare_paths(golden / f, run_dir / f, rtol=rtol, atol=atol, top=3)
    diff = comparison.files[0].table
    if comparison.same or diff is None:
        return None
    lines = [
        f"{f}: {diff.n_differing:,} of {diff.n_rows_a:,} rows differ, "
        f"{diff.only_in_a.height:,} rows only in the golden, {diff.only_in_b.height:,} only "
        "in this run"
    ]
    shown = [k for k in diff.keys if k not in diff.constant_keys]
    for row in diff.largest.iter_rows(named=True):
        where = ", ".join(f"{k}={row[k]}" for k in shown)
        lines.append(f"  {where}: {row['column']} {row['a']!r} -> {row['b']!r}")
    return "\n".join(lines)


@pytest.mark.parametrize("name", NAMES)
def test_golden(name: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    scenario = SCENARIOS / f"{name}.toml"
    data = _data_file(scenario)
    if data is not None and not data.is_file():
        pytest.skip(
            f"{data} not found: the real-data golden needs ../shared/data beside the checkout"
        )
    run_dir = rundir.write_run(pipeline.run(scenario), tmp_path / name, charts=False)
    golden = GOLDEN / name
    if request.config.getoption("--update-golden"):
        _update(name, scenario, run_dir, golden)
        pytest.skip(f"{golden} regenerated: review `git diff tests/golden` before committing")
    if not (golden / "GOLDEN.json").is_file():
        pytest.fail(f"{golden}/GOLDEN.json missing: make the golden with `{REGENERATE}`")
    recorded = json.loads((golden / "GOLDEN.json").read_text(encoding="utf-8"))
    assert recorded["scenario_sha256"] == _sha256(scenario), (
        f"{scenario} changed since its golden was made: regenerate with `{REGENERATE}`"
    )
    env = _environment()
    same_build = all(recorded.get(k) == env[k] for k in BUILD)
    if same_build:
        build = ", ".join(f"{k} {env[k]}" for k in BUILD)
    else:
        build = ", ".join(
            f"{k} {recorded.get(k)} recorded, {env[k]} here"
            for k in BUILD
            if recorded.get(k) != env[k]
        )
    problems = []
    for f in FILES:
        if same_build:
            if (golden / f).read_bytes() != (run_dir / f).read_bytes():
                problems.append(_report(golden, run_dir, f, 0.0, 0.0) or f"{f}: bytes differ")
        else:
            report = _report(golden, run_dir, f, RTOL, ATOL)
            if report is not None:
                problems.append(report)
    if not problems:
        return
    if same_build:
        why = (
            f"{name}: not byte-identical to its golden on the recorded build ({build}). "
            "Something in the model, engine or output format changed the results"
        )
    else:
        why = (
            f"{name}: differs from its golden beyond rtol={RTOL:g}, atol={ATOL:g} on another "
            f"build ({build}): more than floating-point rounding, e.g. a library upgrade that "
            "changed random streams"
        )
    pytest.fail(
        f"{why}. If the change is understood and intended, regenerate the goldens with "
        f"`{REGENERATE}` and commit them with the reason; otherwise find the cause.\n"
        + "\n".join(problems),
        pytrace=False,
    )
