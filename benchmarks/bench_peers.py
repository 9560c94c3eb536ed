"""Speed against peer tools for the same output (optional extra `peers`; never a core dependency).

    pip install -e '.[peers]'
    python benchmarks/bench_peers.py          # needs ../shared/data beside the checkout

Goal (peers issue): on the shared real personnel series (General Staff via PetroIvaniuk, whole
history), the time to fit and produce 90-day daily quantiles (the 23 hub levels) plus 2,000 joint
paths, ours against statsforecast AutoETS and Prophet, as ratios; ours at least 5x faster than
the fastest peer.

* ours: ``simulate.project(..., model="analog", samples=True)`` (table plus (90, 2000) paths);
  best of 7 after a warm-up.
* AutoETS, model API (one fit): ``AutoETS().fit(y)``, ``predict(90, level=...)`` for the central
  intervals whose ends are the hub quantiles (the mean is the median), and
  ``simulate(90, 2000)`` for the joint paths: statsforecast's own simulation from the fitted
  state-space model (its parameters, last state and residual variance, normal errors). Best of 7
  after a warm-up; the warm-up is printed as the first call.
* AutoETS, DataFrame API: ``StatsForecast.forecast(df, h=90, level=...)`` plus
  ``StatsForecast.simulate(h=90, df, n_paths=2000)`` (which fits the model again). Best of 7.
* Prophet: ``fit``, then ``predictive_samples`` on the 90 future days (``uncertainty_samples=
  2000``) for the joint paths and the quantiles taken from them (``predict`` gives one interval
  width per call); the second Prophet row also runs ``predict`` on the same days. Best of 3.

Prints the machine, the library versions, the table of seconds and ratios, and PASS/MISS.
"""

from __future__ import annotations

import logging
import os
import platform
import time
import warnings
from collections.abc import Callable
from datetime import timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

import simulate
from simulate.data import load
from simulate.models import daily_series
from simulate.scenarios import HUB_QUANTILES

DATA = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "general-staff"
    / "russia_losses_personnel.petroivaniuk.json"
)
HORIZON, PATHS, SEED = 90, 2000, 1
GOAL = 5.0  # ours at least 5x faster than the fastest peer
Q = np.asarray(HUB_QUANTILES)
#: central interval levels (percent) whose ends are the hub quantiles other than the median
LEVELS = sorted({round(100 * (1 - 2 * min(q, 1 - q))) for q in HUB_QUANTILES if q != 0.5})
Output = tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]  # (quantiles x days, days x paths)
PEER_PACKAGES = ("statsforecast", "prophet", "cmdstanpy", "pandas", "polars")


def main() -> None:
    if not DATA.is_file():
        print(f"skipped: needs the shared data file {DATA}")
        return
    try:
        import pandas as pd
    except ImportError:
        print("skipped: needs the peers extra: pip install -e '.[peers]'")
        return
    logging.getLogger("cmdstanpy").disabled = True
    logging.getLogger("prophet").setLevel(logging.ERROR)
    logging.getLogger("prophet.plot").disabled = True  # "Importing plotly failed"

    s = daily_series(load(DATA), "personnel")
    dates = [s.start + timedelta(days=i) for i in range(len(s.y))]
    df = pd.DataFrame(
        {
            "unique_id": "personnel",
            "ds": pd.date_range(s.start, periods=len(s.y), freq="D"),
            "y": s.y.astype(np.float64),
        }
    )
    print(f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs")
    print("versions: " + ", ".join(f"{p} {_version(p)}" for p in PEER_PACKAGES))
    print(f"series: personnel, {s.start} .. {s.end} ({len(s.y):,} days); "
          f"{HORIZON} days ahead, {len(Q)} quantiles, {PATHS:,} joint paths")  # fmt: skip

    def ours() -> Output:
        table, paths = simulate.project(
            dates, s.y, horizon=HORIZON, paths=PATHS, model="analog", seed=SEED, samples=True
        )
        q = table.sort("horizon", "quantile")["daily"].to_numpy().reshape(HORIZON, len(Q))
        return q.T, paths

    rows: list[tuple[str, float, int, float | None, Output]] = []
    rows.append(("ours (analog)", *_best(ours, 7)))

    try:
        from statsforecast import StatsForecast
        from statsforecast.models import AutoETS
    except ImportError as e:
        print(f"statsforecast not available ({e}); its rows are skipped")
    else:
        y = df["y"].to_numpy()

        def ets_model() -> Output:
            m = AutoETS()
            m.fit(y)
            fc = m.predict(HORIZON, level=LEVELS)
            paths = m.simulate(HORIZON, PATHS, seed=SEED)
            return _ets_quantiles(fc), paths.T

        def ets_frame() -> Output:
            sf = StatsForecast(models=[AutoETS()], freq="D")
            fc = sf.forecast(df=df, h=HORIZON, level=LEVELS)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "Generating 180,000 simulation points"
                sim = sf.simulate(h=HORIZON, df=df, n_paths=PATHS, seed=SEED)
            paths = sim["AutoETS"].to_numpy().reshape(PATHS, HORIZON).T
            cols = {"mean": fc["AutoETS"].to_numpy()}  # the DataFrame names them AutoETS-lo-98 ..
            cols |= {c.removeprefix("AutoETS-"): fc[c].to_numpy() for c in fc.columns}
            return _ets_quantiles(cols), paths

        rows.append(("statsforecast AutoETS, model API", *_best(ets_model, 7, first=True)))
        rows.append(("statsforecast AutoETS, DataFrame API", *_best(ets_frame, 7)))

    try:
        from prophet import Prophet
    except ImportError as e:
        print(f"prophet not available ({e}); its rows are skipped")
    else:

        def prophet(with_predict: bool) -> Output:
            np.random.seed(SEED)  # noqa: NPY002 (Prophet samples with NumPy's global generator)
            m = Prophet(uncertainty_samples=PATHS)
            m.fit(df[["ds", "y"]])
            future = m.make_future_dataframe(HORIZON, include_history=False)
            paths = m.predictive_samples(future)["yhat"]
            if with_predict:
                m.predict(future)
            return np.quantile(paths, Q, axis=1), paths

        rows.append(("Prophet, fit + predictive_samples", *_best(lambda: prophet(False), 3, True)))
        rows.append(("Prophet, + predict", *_best(lambda: prophet(True), 3)))

    ours_s = rows[0][1]
    print()
    print(f"{'tool':<38}{'seconds':>9}{'best of':>8}{'ratio':>8}{'first call':>11}"
          "   day 90: median [5%, 95%]")  # fmt: skip
    for name, sec, n, first, (q, paths) in rows:
        assert q.shape == (len(Q), HORIZON) and paths.shape == (HORIZON, PATHS), name
        lo, med, hi = (q[list(Q).index(p), -1] for p in (0.05, 0.5, 0.95))
        fc = f"{first:>11.3f}" if first is not None else f"{'':>11}"
        print(f"{name:<38}{sec:>9.3f}{n:>8}{sec / ours_s:>8.1f}{fc}"
              f"   {med:,.0f} [{lo:,.0f}, {hi:,.0f}]")  # fmt: skip
    if len(rows) == 1:
        print("no peer installed: nothing to compare")
        return
    name, fastest = min(((r[0], r[1]) for r in rows[1:]), key=lambda r: r[1])
    speedup = fastest / ours_s
    verdict = "PASS" if speedup >= GOAL else "MISS"
    print(f"\nfastest peer: {name}, {fastest:.3f} s; ours {ours_s:.3f} s: {speedup:.1f}x faster "
          f"(goal >= {GOAL:.0f}x): {verdict}")  # fmt: skip


def _best(
    f: Callable[[], Output], n: int, first: bool = False
) -> tuple[float, int, float | None, Output]:
    """Best of `n` timed calls after one warm-up call (timed too, returned when `first`)."""
    t = time.perf_counter()
    out = f()
    warm = time.perf_counter() - t
    times = []
    for _ in range(n):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
    return min(times), n, (warm if first else None), out


def _ets_quantiles(fc: dict[str, Any]) -> np.ndarray[Any, Any]:
    """The hub quantiles (rows) from statsforecast's mean and central intervals."""
    out = []
    for q in HUB_QUANTILES:
        if q == 0.5:
            out.append(np.asarray(fc["mean"]))
            continue
        level = round(100 * (1 - 2 * min(q, 1 - q)))
        out.append(np.asarray(fc[f"{'lo' if q < 0.5 else 'hi'}-{level}"]))
    return np.vstack(out)


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


if __name__ == "__main__":
    main()
