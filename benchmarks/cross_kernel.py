"""How much do fits and run outputs move between OpenBLAS kernels (and numpy SIMD paths)?

    python benchmarks/cross_kernel.py                      # Haswell, SkylakeX, Zen
    python benchmarks/cross_kernel.py --kernels Haswell,SkylakeX --skip-runs

Each kernel runs in its own subprocess with ``OPENBLAS_CORETYPE`` set (OpenBLAS reads it once,
when it loads). ``--numpy-baseline`` adds a run in which numpy's runtime SIMD dispatch is limited
to its baseline (``NPY_DISABLE_CPU_FEATURES``), which is what an older CPU would take for
``exp``/``log``. Two measurements, both against the first kernel listed:

* **fits**: every model kind on each real series (``../shared/data``) at several forecast
  origins; the largest relative difference of any estimate or standard error, and whether a
  standard error is shown under one kernel and not the other;
* **runs**: the example scenario files and the golden scenario files, run with ``attrition run``;
  per output file the number of differing values and the largest relative difference.

Needs ``../shared/data`` beside the checkout for the real series (skipped otherwise).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "general-staff"
PERSONNEL = SHARED / "russia_losses_personnel.petroivaniuk.json"
EQUIPMENT = SHARED / "russia_losses_equipment.petroivaniuk.json"
FILES = ("projections.csv", "contrasts.csv", "summary.csv", "fit.csv")
KINDS = tuple(
    os.environ.get("CK_KINDS", "local-trend,trend-nb,changepoint,analog,bootstrap").split(",")
)
ORIGINS = ("2023-06-30", "2024-02-29", "2024-11-12", "2025-06-30", "2026-02-28")

_FIT_SCRIPT = r"""
import json, sys, math
from datetime import date
from simulate.data import load
from simulate.models import ModelSpec, daily_series, fit
from simulate.fingerprint import numerical_platform
out = {"platform": numerical_platform(), "fits": {}}
personnel, equipment = sys.argv[1], sys.argv[2]
datasets = {"personnel": load(personnel), "equipment": load(equipment)}
jobs = [("personnel", "personnel"), ("equipment", "tanks"), ("equipment", "artillery"),
        ("equipment", "uav")]
for origin in sys.argv[3].split(","):
    for dataset, name in jobs:
        s = daily_series(datasets[dataset], name, as_of=date.fromisoformat(origin))
        for kind in sys.argv[4].split(","):
            for window in (120, 180):
                key = f"{name}|{origin}|{kind}|{window}"
                try:
                    m = fit(ModelSpec(kind, window=window), s)
                except Exception as exc:  # a refusal is a result too
                    out["fits"][key] = {"error": type(exc).__name__}
                    continue
                out["fits"][key] = {
                    "params": {k: float(v) for k, v in m.params.items()},
                    "stderr": {k: float(v) for k, v in m.stderr.items()},
                }
json.dump(out, sys.stdout)
"""


_BASE: list[str] = []


def _env(kernel: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("NPY_DISABLE_CPU_FEATURES", None)
    if kernel.startswith("numpy-baseline"):
        # the first kernel's BLAS, numpy's SIMD limited to its baseline: isolates numpy's part
        env["NPY_DISABLE_CPU_FEATURES"] = _dispatched_features()
        kernel = _BASE[0]
    if kernel != "default":
        env["OPENBLAS_CORETYPE"] = kernel
    return env


def _dispatched_features() -> str:
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    return " ".join(f for f in __cpu_dispatch__ if __cpu_features__.get(f))


def _rel(a: float, b: float) -> float:
    if a == b or (math.isnan(a) and math.isnan(b)):
        return 0.0
    if math.isnan(a) or math.isnan(b):
        return math.inf
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


def measure_fits(kernels: list[str]) -> None:
    results = {}
    for k in kernels:
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                _FIT_SCRIPT,
                str(PERSONNEL),
                str(EQUIPMENT),
                ",".join(ORIGINS),
                ",".join(KINDS),
            ],
            env=_env(k),
            capture_output=True,
            text=True,
            check=True,
        )
        results[k] = json.loads(proc.stdout)
    base = kernels[0]
    print(
        f"\nfits: {len(results[base]['fits'])} per kernel (4 series x {len(ORIGINS)} origins "
        f"x {len(KINDS)} kinds x windows 120, 180), against {base}"
    )
    for k in kernels[1:]:
        worst: dict[str, tuple[float, str]] = {}
        flips = []
        for key, a in results[base]["fits"].items():
            b = results[k]["fits"][key]
            kind = key.split("|")[2]
            if "error" in a or "error" in b:
                if a.get("error") != b.get("error"):
                    flips.append(f"{key}: refused under one kernel only")
                continue
            for part in ("params", "stderr"):
                for name, va in a[part].items():
                    vb = b[part][name]
                    if math.isnan(va) != math.isnan(vb):
                        flips.append(f"{key}: stderr of {name} {va!r} vs {vb!r}")
                        continue
                    r = _rel(va, vb)
                    if r > worst.get(kind, (-1.0, ""))[0]:
                        worst[kind] = (r, f"{key} {part}.{name}: {va!r} vs {vb!r}")
        print(f"  {k}:")
        for kind in KINDS:
            r, where = worst.get(kind, (0.0, ""))
            print(f"    {kind:<12} largest relative difference {r:.3g}  {where}")
        print(f"    standard errors shown under one kernel only / refusals: {len(flips)}")
        for f in flips[:10]:
            print(f"      {f}")


def _scenario_copies(dest: Path) -> list[Path]:
    """The example and golden scenario files, their data paths made absolute."""
    files = sorted((ROOT / "scenarios").glob("*.toml")) + sorted(
        (ROOT / "tests" / "golden" / "scenarios").glob("*.toml")
    )
    out = []
    for f in files:
        text = f.read_text(encoding="utf-8")
        m = re.search(r'^source\s*=\s*"([^"]+)"', text, flags=re.M)
        if m is None:
            continue
        src = m.group(1)
        if src == "petroivaniuk":
            new = str(PERSONNEL)
        elif src == "example":
            new = src
        else:
            new = str((f.parent / src).resolve())
        if new != "example" and not Path(new).is_file():
            continue
        text = text.replace(m.group(0), f'source = "{new}"')
        copy = dest / f"{f.parent.name}-{f.name}"
        copy.write_text(text, encoding="utf-8")
        out.append(copy)
    return out


def measure_runs(kernels: list[str]) -> None:
    from simulate.compare import compare_runs

    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        (t / "in").mkdir()
        files = _scenario_copies(t / "in")
        for k in kernels:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "simulate",
                    "run",
                    *map(str, files),
                    "--out",
                    str(t / k),
                    "--no-charts",
                    "--quiet",
                ],
                env=_env(k),
                check=True,
            )
        base = kernels[0]
        print(f"\nruns: {len(files)} scenario files, against {base}")
        for k in kernels[1:]:
            print(f"  {k}:")
            for run in sorted(p.name for p in (t / base).iterdir()):
                for f in FILES:
                    c = compare_runs(t / base / run / f, t / k / run / f, rtol=0.0, atol=0.0, top=1)
                    d = c.files[0].table
                    if c.same or d is None:
                        print(f"    {run}/{f}: identical")
                        continue
                    worst = 0.0
                    where = ""
                    for row in d.largest.iter_rows(named=True):
                        a, b = row["a"], row["b"]
                        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
                            worst = _rel(float(a), float(b))
                            where = f"{row['column']} {a!r} -> {b!r}"
                    print(
                        f"    {run}/{f}: {d.n_differing:,} of {d.n_rows_a:,} rows differ, "
                        f"largest relative {worst:.3g} ({where})"
                    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kernels", default="Haswell,SkylakeX,Zen")
    ap.add_argument(
        "--numpy-baseline",
        action="store_true",
        help="also a run with numpy's SIMD dispatch limited to its baseline",
    )
    ap.add_argument("--skip-fits", action="store_true")
    ap.add_argument("--skip-runs", action="store_true")
    args = ap.parse_args()
    kernels = args.kernels.split(",")
    _BASE.append(kernels[0])
    if args.numpy_baseline:
        kernels.append("numpy-baseline")
    if not PERSONNEL.is_file():
        print(f"{PERSONNEL} not found: the real series are needed", file=sys.stderr)
        sys.exit(2)
    if not args.skip_fits:
        measure_fits(kernels)
    if not args.skip_runs:
        measure_runs(kernels)


if __name__ == "__main__":
    main()
