"""How close two runs' result tables must be: on one numerical platform, and across platforms.

**The same platform** (the whole :mod:`~simulate.fingerprint` matches): the same scenario
file, data and seed give byte-identical files, so the tables are compared with the default
tolerance of :mod:`simulate.compare.tables` (1e-9), which then finds no difference at all.

**Another platform** (another CPU, BLAS kernel, or library build): the fits use no BLAS and
plain-Python small linear algebra, so another OpenBLAS kernel changes nothing (measured:
every estimate and every result file bit-identical under Haswell, SkylakeX and Zen). Another
CPU may round NumPy's ``exp`` and ``log`` differently in the last bit; the fits converge to
their optimum to about 1e-10 in their parameters, and measured across NumPy's SIMD paths their
estimates moved by at most 5.4e-13 relative (``benchmarks/cross_kernel.py --numpy-baseline``
and an independent check of 525 fits). The cross-platform tolerance follows from that and
from what such a change can do to a simulated table:

* a **fitted value** (``fit.csv``, and every value of a backtest's tables) may differ by
  ``rtol`` = :data:`FIT_RTOL` (1e-9): ten times the fits' convergence (1e-10), over a
  thousand times what was measured;
* a **simulated count** is an integer draw: a change of 1e-12 in its expected value changes
  it only if its uniform lands within 1e-12 of a step of the distribution (measured: never,
  in six runs of up to 10,000 paths); then it moves by one reporting step ``g`` of its
  series (10 for personnel figures reported in tens). One such flipped draw moves a quantile
  of counts by at most ``g`` (order statistics move by no more than the largest change of
  one sample), a mean by ``g / paths``, a paired contrast by twice that, and a probability by
  ``1 / paths``; a threshold-crossing day moves by one day when the path's daily figures are
  at least one step. That is the absolute tolerance of each row, **capped at half of 1% of
  the value**, so that a 1% change of any quantile is always a difference. (A flipped draw
  in a quantile under 200 reporting steps therefore shows as a difference: it is rare
  enough to be worth a look.)

``value_date`` (the date of a ``threshold_day`` quantile, origin + ceil(value)) follows from
``value`` and is not compared on its own across platforms.

Tables are named by their file names; a run's tables get the same tolerance as ``.csv`` or as
``.parquet`` files.

>>> tol = CrossPlatform(paths=300, granularity={"personnel": 10, "tanks": 1})
>>> tol.rtol("fit.csv"), tol.describe().split(";")[0]
(1e-09, 'fitted values rtol 1e-09')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

__all__ = ["FIT_RTOL", "CAP", "CrossPlatform", "from_manifests"]

#: Relative tolerance of fitted values across platforms (see the module docstring).
FIT_RTOL = 1e-9
#: The per-row tolerance of simulated values never exceeds this fraction of the value.
CAP = 0.005

#: The simulated tables of a run (file names without .csv or .parquet).
_SIMULATED = ("projections", "contrasts", "summary", "samples")


def _table(name: str) -> str:
    """Table `name` without its .csv or .parquet: ``projections.parquet`` -> ``projections``."""
    stem, dot, ext = name.rpartition(".")
    return stem if dot and ext.lower() in ("csv", "parquet") else name


@dataclass(frozen=True)
class CrossPlatform:
    """The cross-platform tolerance of one run's tables: its paths and reporting steps.

    `simulated` is False for directories whose tables are not the run tables described in
    the module docstring (a backtest's): every value then gets ``rtol`` only.
    """

    paths: int
    granularity: dict[str, int] = field(default_factory=dict)
    simulated: bool = True

    def rtol(self, name: str) -> float:
        """Relative tolerance of table `name` (a file name such as ``projections.csv``)."""
        return FIT_RTOL

    def _step(self, series: pl.Expr) -> pl.Expr:
        default = float(max(self.granularity.values(), default=1))
        steps = {k: float(v) for k, v in self.granularity.items()}
        return series.replace_strict(steps, default=default, return_dtype=pl.Float64)

    def _flip(self, name: str, columns: list[str]) -> pl.Expr | None:
        """What one flipped draw can move in each row of table `name`, or None."""
        name = _table(name)
        per_path = 1.0 / max(self.paths, 1)
        is_mean = pl.col("output_type") == "mean" if "output_type" in columns else pl.lit(False)
        if name in ("projections", "contrasts", "samples") and "target" in columns:
            step = self._step(pl.col("target").str.replace(r"^\S+ ", ""))
            step = step * (2.0 if name == "contrasts" else 1.0)
            return pl.when(is_mean).then(step * per_path).otherwise(step)
        if name == "summary" and {"series", "measure"} <= set(columns):
            measure = pl.col("measure")
            step = self._step(pl.col("series"))
            return (
                pl.when(measure.str.ends_with("probability"))
                .then(pl.lit(per_path))
                .when(measure == "threshold_day")
                .then(pl.lit(1.0))
                .when(is_mean)
                .then(step * per_path)
                .otherwise(step)
            )
        return None

    def atol(self, name: str, columns: list[str]) -> pl.Expr | float:
        """Absolute tolerance of each row of table `name`: an expression over its key columns
        and its ``value`` (see the module docstring), or 0 for fitted values."""
        simulated = self.simulated and _table(name) in _SIMULATED
        flip = self._flip(name, columns) if simulated else None
        if flip is None or "value" not in columns:
            return 0.0
        return pl.min_horizontal(flip, CAP * pl.col("value").cast(pl.Float64).abs())

    def derived(self, name: str) -> tuple[str, ...]:
        """Columns of table `name` that follow from others and are not compared on their own."""
        return ("value_date",) if self.simulated and _table(name) == "summary" else ()

    def prepare(
        self, name: str, a: pl.DataFrame, b: pl.DataFrame
    ) -> tuple[pl.DataFrame, pl.DataFrame, float, pl.Expr | float]:
        """Tables `a` and `b` of file `name` without their derived columns, and the ``rtol``
        and ``atol`` to compare them with (:func:`simulate.compare.tables.compare_tables`)."""
        derived = [c for c in self.derived(name) if c in a.columns and c in b.columns]
        return a.drop(derived), b.drop(derived), self.rtol(name), self.atol(name, a.columns)

    def describe(self) -> str:
        """One line saying what the tolerance is (printed by ``attrition compare``)."""
        if not self.simulated:
            return f"every value rtol {FIT_RTOL:g} (fitted and scored values)"
        steps = ", ".join(f"{k} {v}" for k, v in sorted(self.granularity.items())) or "none"
        return (
            f"fitted values rtol {FIT_RTOL:g}; simulated values within what one flipped draw "
            f"can move (quantiles one reporting step: {steps}; means a step/{self.paths}; "
            f"contrasts twice that; crossing days one day; probabilities 1/{self.paths}), "
            f"at most {CAP:.1%} of the value"
        )


def from_manifests(*manifests: dict[str, Any] | None) -> CrossPlatform:
    """The cross-platform tolerance for runs with these manifests (the largest step and the
    fewest paths of them). Directories that are not ``attrition run`` outputs (a backtest's)
    get ``rtol`` alone."""
    docs = [m for m in manifests if isinstance(m, dict)]
    simulated = bool(docs) and all(m.get("tool") == "attrition" for m in docs)
    paths = []
    steps: dict[str, int] = {}
    for m in docs:
        run = m.get("run")
        n = run.get("paths") if isinstance(run, dict) else m.get("paths")
        if isinstance(n, int) and not isinstance(n, bool) and n > 0:
            paths.append(n)
        for s in m.get("series", []):
            if not isinstance(s, dict):
                continue
            name, g = s.get("name"), s.get("granularity")
            if isinstance(name, str) and isinstance(g, int) and not isinstance(g, bool):
                steps[name] = max(steps.get(name, 1), g)
    if not paths:
        simulated = False  # nothing to derive a per-path tolerance from
    return CrossPlatform(paths=min(paths, default=1), granularity=steps, simulated=simulated)
