"""Plain-text pieces shared by the command modules: numbers, and a fitted model's report."""

from __future__ import annotations

from typing import Any

__all__ = ["g", "render_fit"]


def g(x: float | None) -> str:
    """A number for a table: thousands separators from 1,000 up, else 4 significant digits;
    ``-`` for None."""
    if x is None:
        return "-"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.4g}"


def render_fit(d: dict[str, Any]) -> str:
    """A fitted model as :func:`simulate.models.describe` gives it, as plain text."""
    m = d["model"]
    opts = ", ".join(f"{k}={v}" for k, v in m["options"].items())
    lines = [
        f"model {m['kind']} ({opts or 'no options'}), window {d['window_start']} to "
        f"{d['origin']} ({d['n_obs']} days)",
        f"  {'parameter':<22}{'estimate':>14}{'std. error':>14}",
    ]
    for name, value in d["params"].items():
        se = d["stderr"].get(name)
        lines.append(f"  {name:<22}{g(value):>14}{g(se):>14}")
    lv, gr = d["level"], d["growth_30d"]
    lines.append(
        f"  implied daily level over {d['level_dates']}: {g(lv['median'])} "
        f"(95% interval {g(lv['lo95'])} to {g(lv['hi95'])})"
    )
    if gr is None:
        lines.append(f"  growth over 30 days: {d['growth_note']}")
    else:
        lines.append(
            f"  growth over 30 days: x{gr['median']:.3f} (95% interval x{gr['lo95']:.3f} to "
            f"x{gr['hi95']:.3f})"
        )
    dg = d["diagnostics"]
    lines.append(
        "  diagnostics: dispersion {} (about 1 if the noise model fits), residual "
        "autocorrelation lag 1 {}, lag 7 {}".format(
            g(dg.get("dispersion")), g(dg.get("acf1")), g(dg.get("acf7"))
        )
    )
    obs = d["observation"]
    lines.append(
        f"  observation model: {obs['family']}, reported in multiples of "
        f"{obs['granularity']}; log-likelihood {g(d['loglik'])}, AIC {g(d['aic'])}"
    )
    return "\n".join(lines)
