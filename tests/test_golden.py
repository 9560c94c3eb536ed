"""Golden runs: small scenario files re-run and compared with the result tables they gave.

``tests/golden/scenarios/<name>.toml`` is run with :func:`simulate.pipeline.run` and written with
:func:`simulate.outputs.rundir.write_run` (no charts); its ``projections.csv``, ``contrasts.csv``,
``summary.csv`` and ``fit.csv`` must match ``tests/golden/<name>/``:

* **byte for byte** when the numerical platform recorded in ``tests/golden/<name>/GOLDEN.json``
  (:func:`simulate.fingerprint.numerical_platform`: Python, NumPy, SciPy and Polars versions,
  operating system, CPU architecture, NumPy's SIMD targets, and each BLAS library's version and
  OpenBLAS core type) is this one: ``attrition run`` promises byte-identical result files;
* otherwise **within the cross-platform tolerance** of :mod:`simulate.compare.tolerance`,
  derived from the model: fitted values within 1e-9 relative (the fits use no BLAS; across
  NumPy's SIMD paths they moved by at most 5.4e-13), simulated values within what one flipped
  draw can move (one reporting step of the series for a quantile; 1/paths for a probability),
  never more than half of 1% of the value, so that a 1% change of any quantile fails. Another NumPy
  version may change the random streams (NumPy does not promise them across versions): that
  is a failure to understand, not to tolerate.

The golden tests run under the machine's own OpenBLAS kernel and, in ``.ci/run``, once more
under ``OPENBLAS_CORETYPE=Haswell`` (README, "Golden runs"). ``pytest tests/test_golden.py
--update-golden`` regenerates the goldens, for a deliberate, understood change only.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from simulate import fingerprint, pipeline
from simulate.compare import compare_tables, read_table
from simulate.compare.tolerance import CrossPlatform, from_manifests
from simulate.outputs import rundir

GOLDEN = Path(__file__).resolve().parent / "golden"
SCENARIOS = GOLDEN / "scenarios"
FILES = ("projections.csv", "contrasts.csv", "summary.csv", "fit.csv")
NAMES = ("demo", "multi-series", "as-of-2024-11-12")
REGENERATE = "pytest tests/test_golden.py --update-golden"


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
        "platform": fingerprint.numerical_platform(),
        "files": {f: _sha256(golden / f) for f in FILES},
    }
    (golden / "GOLDEN.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def _report(golden: Path, run_dir: Path, f: str, tolerance: CrossPlatform | None) -> str | None:
    """None when the files agree (bytes, or within the tolerance), else the largest
    differences."""
    a, b = read_table(golden / f), read_table(run_dir / f)
    if tolerance is None:
        if (golden / f).read_bytes() == (run_dir / f).read_bytes():
            return None
        rtol: float = 0.0
        atol: Any = 0.0
    else:
        a, b, rtol, atol = tolerance.prepare(f, a, b)
    diff = compare_tables(a, b, rtol=rtol, atol=atol, top=3, labels=(str(golden / f), f))
    if diff.same:
        return None if tolerance is not None else f"{f}: bytes differ, values do not"
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
    here = fingerprint.numerical_platform()
    then = recorded.get("platform") or {}
    differs = fingerprint.differing(then, here)
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["platform"] == here, "the run's manifest must record this platform"
    tolerance = from_manifests(manifest) if differs else None
    problems = [p for f in FILES if (p := _report(golden, run_dir, f, tolerance)) is not None]
    if not problems:
        return
    if not differs:
        why = (
            f"{name}: not byte-identical to its golden on the platform it was made on. "
            "Something in the model, engine or output format changed the results"
        )
    else:
        fields = "; ".join(
            f"{k}: {fingerprint.describe(then, k)} recorded, {fingerprint.describe(here, k)} here"
            for k in differs
        )
        why = (
            f"{name}: differs from its golden beyond the cross-platform tolerance "
            f"({tolerance.describe() if tolerance else ''}). The numerical platform differs "
            f"from the golden's in {fields}. Differences this large are not rounding: look for "
            "a change of random streams (another NumPy version), of a model or of the engine"
        )
    pytest.fail(
        f"{why}.\n" + "\n".join(problems) + "\nFind the cause first; only for an understood, "
        f"intended change regenerate with `{REGENERATE}` and commit the reason.",
        pytrace=False,
    )


_RUN_GOLDENS = """
import sys
from pathlib import Path
from simulate import pipeline
from simulate.outputs import rundir
for scenario in sys.argv[2:]:
    rundir.write_run(pipeline.run(scenario), Path(sys.argv[1]) / Path(scenario).stem, charts=False)
"""


def test_goldens_are_byte_identical_under_another_openblas_kernel(
    other_kernel: str, tmp_path: Path
) -> None:
    """The golden runs made under this machine's own OpenBLAS kernel and, in a subprocess,
    under another (OPENBLAS_CORETYPE): the same bytes in every result table. The fits use
    no BLAS, so the kernel must not matter at all (before: 302 of 1,920 projection rows of
    the look-back run moved, by up to 0.5%)."""
    scenarios = [SCENARIOS / f"{n}.toml" for n in NAMES]
    scenarios = [s for s in scenarios if (d := _data_file(s)) is None or d.is_file()]
    env = {**os.environ, "OPENBLAS_CORETYPE": other_kernel}
    subprocess.run(
        [sys.executable, "-c", _RUN_GOLDENS, str(tmp_path / "other"), *map(str, scenarios)],
        env=env, check=True, cwd=GOLDEN.parents[1],
    )  # fmt: skip
    for scenario in scenarios:
        own = rundir.write_run(
            pipeline.run(scenario), tmp_path / "own" / scenario.stem, charts=False
        )
        other = tmp_path / "other" / scenario.stem
        blas = json.loads((other / "manifest.json").read_text(encoding="utf-8"))["platform"]["blas"]
        assert {b["core_type"] for b in blas} == {other_kernel}
        for f in FILES:
            assert (own / f).read_bytes() == (other / f).read_bytes(), (
                f"{scenario.stem}/{f} differs between this machine's OpenBLAS kernel and "
                f"{other_kernel}: {_report(own, other, f, None)}"
            )
