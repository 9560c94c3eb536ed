"""Regenerate the bundled synthetic example series (``synthetic_reports.csv``).

The figures are SYNTHETIC: nobody reported them. They imitate the shape of daily reported
attrition figures so that the tool can be tried offline:

* ``personnel``: daily figures ~ NegBin(mean=mu_t, dispersion k=40) rounded to multiples of 10,
  where log(mu_t) = log(1100) + 0.0004 t + x_t and x_t is AR(1) with coefficient 0.99 and
  innovation sd 0.025;
* ``tanks``: NegBin(mean=mu_t / 120, k=8); ``uav``: NegBin(mean=mu_t * 0.3 * exp(t / 400), k=10);
* a few imperfections that `attrition check` is meant to find: three missing days, a date listed
  twice, a digit swap in the personnel total and an official-style negative correction in tanks.

Run ``python -m simulate.examples.make_example`` to rewrite the file (seed 20240101).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np

START = date(2024, 1, 1)
DAYS = 730
SEED = 20240101


def _nb(rng: np.random.Generator, mean: np.ndarray, k: float) -> np.ndarray:
    # Gamma-Poisson mixture: NegBin with mean `mean` and variance mean + mean^2 / k.
    return rng.poisson(rng.gamma(k, mean / k))


def make_rows() -> list[tuple[str, int, int, int]]:
    rng = np.random.default_rng(np.random.SeedSequence(SEED))
    x = 0.0
    log_mu = np.empty(DAYS)
    for t in range(DAYS):  # one series, one loop over days: clarity over speed here
        x = 0.99 * x + rng.normal(0, 0.025)
        log_mu[t] = np.log(1100.0) + 0.0004 * t + x
    mu = np.exp(log_mu)
    personnel = np.round(_nb(rng, mu, 40.0) / 10.0).astype(np.int64) * 10
    tanks = _nb(rng, mu / 120.0, 8.0)
    uav = _nb(rng, mu * 0.3 * np.exp(np.arange(DAYS) / 400.0), 10.0)
    tanks[400] = -25  # an official correction: the day's figure is negative
    cum = [np.cumsum(x) + base for x, base in ((personnel, 350_000), (tanks, 8_000), (uav, 9_000))]
    rows = []
    for t in range(DAYS):
        rows.append(
            ((START + timedelta(t)).isoformat(), int(cum[0][t]), int(cum[1][t]), int(cum[2][t]))
        )
    # A digit swap in one day's personnel total (e.g. 412,350 written as 421,350).
    d, p, tk, u = rows[300]
    s = str(p)
    swapped = int(s[:2] + s[3] + s[2] + s[4:]) if s[2] != s[3] else p + 900
    rows[300] = (d, swapped, tk, u)
    del rows[500:503]  # three days not reported
    rows.insert(200, rows[199])  # one date listed twice with the same figures
    return rows


def main() -> None:
    path = Path(__file__).with_name("synthetic_reports.csv")
    lines = ["date,personnel,tanks,uav"]
    lines += [",".join(str(x) for x in row) for row in make_rows()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {path} ({len(lines) - 1} rows)")


if __name__ == "__main__":
    main()
