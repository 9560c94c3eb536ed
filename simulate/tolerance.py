"""How close two runs' result tables must be: on one numerical platform, and across platforms.

**The same platform** (the whole :mod:`~simulate.fingerprint` matches): the same scenario
file, data and seed give byte-identical files, so the tables are compared with the default
tolerance of :mod:`simulate.compare` (1e-9), which then finds no difference at all.

**Another platform** (another CPU, BLAS kernel, or library build): the fits use no BLAS and
plain-Python small linear algebra, so another OpenBLAS kernel changes nothing (measured:
every estimate bit-identical under Haswell, SkylakeX and Zen). Another CPU may round NumPy's
``exp`` and ``log`` differently in the last bit; the fits converge to their optimum to about
1e-10 in their parameters, and measured across NumPy's SIMD paths their estimates moved by at
most 2.2e-13 relative (``benchmarks/cross_kernel.py --numpy-baseline``). The cross-platform
tolerance follows from that and from what such a change can do to a simulated table:

* a **fitted value** (``fit.csv``) may differ by ``rtol`` = :data:`FIT_RTOL` (1e-9): ten
  times the fits' convergence (1e-10), over a thousand times what was measured;
* a **simulated count** is an integer draw: a change of 1e-12 in its expected value changes
  it only if its uniform lands within 1e-12 of a step of the distribution; then it moves by
  one reporting step ``g`` of its series (10 for personnel figures reported in tens). One such
  flipped draw moves any quantile, total or mean of counts by at most ``g`` (order statistics
  and means move by no more than the largest change of one sample), a paired contrast by at
  most ``2 g``, a threshold-crossing day by at most one day, and a probability over ``paths``
  simulated paths by ``1 / paths``. That is the absolute tolerance of each row.

A 1% change of a quantile of more than 100 reporting steps (1,000 for personnel) is therefore
always a difference; a change below one reporting step is not, across platforms.

>>> tol = CrossPlatform(paths=300, granularity={"personnel": 10, "tanks": 1})
>>> tol.rtol("fit.csv"), tol.describe().split(";")[0]
(1e-09, 'fitted values rtol 1e-09')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

__all__ = ["FIT_RTOL", "CrossPlatform", "from_manifests"]

#: Relative tolerance of fitted values across platforms (see the module docstring).
FIT_RTOL = 1e-9


@dataclass(frozen=True)
class CrossPlatform:
    """The cross-platform tolerance of one run's tables: its paths and reporting steps."""

    paths: int
    granularity: dict[str, int] = field(default_factory=dict)

    def rtol(self, name: str) -> float:
        """Relative tolerance of table `name` (a file name such as ``projections.csv``)."""
        return FIT_RTOL

    def _step(self, series: pl.Expr) -> pl.Expr:
        default = float(max(self.granularity.values(), default=1))
        steps = {k: float(v) for k, v in self.granularity.items()}
        return series.replace_strict(steps, default=default, return_dtype=pl.Float64)

    def atol(self, name: str, columns: list[str]) -> pl.Expr | float:
        """Absolute tolerance of each row of table `name` (an expression over its keys)."""
        per_path = 1.0 / max(self.paths, 1)
        if name in ("projections.csv", "contrasts.csv", "samples.parquet") and "target" in columns:
            step = self._step(pl.col("target").str.replace(r"^\S+ ", ""))
            return step * (2.0 if name == "contrasts.csv" else 1.0)
        if name == "summary.csv" and {"series", "measure"} <= set(columns):
            measure = pl.col("measure")
            return (
                pl.when(measure.str.ends_with("probability"))
                .then(pl.lit(per_path))
                .when(measure == "threshold_day")
                .then(pl.lit(1.0))
                .otherwise(self._step(pl.col("series")))
            )
        return 0.0

    def describe(self) -> str:
        """One line saying what the tolerance is (printed by ``attrition compare``)."""
        steps = ", ".join(f"{k} {v}" for k, v in sorted(self.granularity.items())) or "none"
        return (
            f"fitted values rtol {FIT_RTOL:g}; simulated counts within one reporting step "
            f"({steps}), paired contrasts two, crossing days one day, probabilities "
            f"1/{self.paths} (what one flipped draw can move)"
        )


def from_manifests(*manifests: dict[str, Any] | None) -> CrossPlatform:
    """The cross-platform tolerance for runs with these manifests (the largest step and the
    fewest paths of them)."""
    paths = [int(m["run"]["paths"]) for m in manifests if m and "run" in m]
    steps: dict[str, int] = {}
    for m in manifests:
        for s in (m or {}).get("series", []):
            name, g = s.get("name"), s.get("granularity")
            if isinstance(name, str) and isinstance(g, int):
                steps[name] = max(steps.get(name, 1), g)
    return CrossPlatform(paths=min(paths, default=1), granularity=steps)
