"""The sensitivity chart of a one-parameter sweep (``sensitivity-<series>.png``), as PNG bytes.

Built like the fan charts (:mod:`simulate.outputs.charts`): a :class:`matplotlib.figure.Figure`
on an Agg canvas, never ``pyplot``, and PNG bytes without the software tag.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ..pipeline import SeriesResult
from .charts import _quantile, png_bytes
from .provenance import projection_caveat

__all__ = ["sensitivity_chart"]


def sensitivity_chart(
    result: SeriesResult, swept: dict[str, dict[str, str]], *, reference: str, title_run: str = ""
) -> bytes | None:
    """The response of one series to a one-parameter sweep, as PNG bytes (None when the file
    does not sweep exactly one parameter).

    Left: the probability that the cumulative total reaches each threshold by the horizon's
    end, against the swept value; right: the total over the horizon (median and 80% band).
    The reference scenario is a dashed line on both.
    """
    params = {k for p in swept.values() for k in p}
    if len(params) != 1:
        return None
    key = params.pop()
    names = [n for n in swept if n in result.projections]
    if not names:
        return None
    raw = [swept[n][key] for n in names]
    x = _axis_values(raw)
    order = np.argsort(x, kind="stable")
    xs = np.asarray(x, dtype=np.float64)[order]
    ps = [result.projections[names[i]] for i in order]
    ref = result.projections[reference]
    fig = Figure(figsize=(10, 4.6), dpi=100)
    left = fig.add_subplot(1, 2, 1)
    right = fig.add_subplot(1, 2, 2)
    for t, level in enumerate(ref.thresholds):
        left.plot(xs, [p.threshold_prob[t] for p in ps], marker="o", color=f"C{t}",
                  label=f"total >= {int(level):,}")  # fmt: skip
        left.axhline(ref.threshold_prob[t], color=f"C{t}", linestyle="--", linewidth=0.8)
    left.set_ylim(-0.02, 1.02)
    left.set_ylabel("probability by the horizon's end")
    if ref.thresholds.size:
        left.legend(fontsize=8, title="dashed: " + reference, title_fontsize=8)
    lv = ref.levels
    med = [_quantile(p.horizon_total_quantiles[None, :], lv, 0.5)[0] for p in ps]
    lo = [_quantile(p.horizon_total_quantiles[None, :], lv, 0.1)[0] for p in ps]
    hi = [_quantile(p.horizon_total_quantiles[None, :], lv, 0.9)[0] for p in ps]
    right.fill_between(xs, lo, hi, color="C0", alpha=0.25, linewidth=0, label="80% band")
    right.plot(xs, med, marker="o", color="C0", label="median")
    right.axhline(_quantile(ref.horizon_total_quantiles[None, :], lv, 0.5)[0], color="grey",
                  linestyle="--", linewidth=0.8, label=f"{reference} median")  # fmt: skip
    right.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:,.0f}"))
    right.set_ylabel("total over the horizon (as reported)")
    right.legend(fontsize=8)
    for ax in (left, right):
        ax.set_xlabel(key)
        ax.grid(alpha=0.3)
        if isinstance(x, list) and raw and _is_date(raw[0]):
            ax.set_xticks(xs, [raw[i] for i in order], rotation=30, fontsize=7)
    head = f"{title_run} — " if title_run else ""
    fig.suptitle(
        f"{head}{result.series.name}: response to {key}\n"
        f"{projection_caveat(result.series.reported_by)}",
        fontsize=8,
    )
    fig.subplots_adjust(left=0.08, right=0.98, top=0.84, bottom=0.16, wspace=0.28)
    return png_bytes(fig)


def _is_date(text: str) -> bool:
    try:
        np.datetime64(text, "D")
    except ValueError:
        return False
    return len(text) == 10


def _axis_values(raw: list[str]) -> list[float]:
    """Numbers as numbers, ISO dates as day numbers, anything else by position."""
    try:
        return [float(v) for v in raw]
    except ValueError:
        pass
    if all(_is_date(v) for v in raw):
        return [float(np.datetime64(v, "D").astype(np.int64)) for v in raw]
    return [float(i) for i in range(len(raw))]
