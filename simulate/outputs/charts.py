"""Fan charts of one series' projections, rendered to PNG bytes.

Figures are built on :class:`matplotlib.figure.Figure` with an Agg canvas, never through
``pyplot``: no global figure registry and no rcParams changes, so charts can be drawn from
any thread or process. Every text element uses DejaVu Sans (shipped with matplotlib) and the
PNG carries no ``Software`` metadata, so the same inputs give byte-identical files.

Writing the bytes is :mod:`simulate.outputs.atomic`' job.
"""

from __future__ import annotations

import io
import textwrap
from typing import Literal

import matplotlib.dates as mdates
import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ..about import CAVEAT
from ..pipeline import SeriesResult

__all__ = ["fan_chart"]

FloatArray = npt.NDArray[np.float64]

#: One colour per scenario, in plotting order (reference first); black is kept for history.
COLOURS: tuple[str, ...] = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#8c564b",
    "#e377c2",
    "#17becf",
)
#: Central bands of the cumulative panel, widest first, with their fill opacity.
_BANDS: tuple[tuple[float, float], ...] = ((0.95, 0.12), (0.80, 0.20), (0.50, 0.32))
_DAILY_BAND = 0.80
_SMOOTH_DAYS = 7
_FONT = "DejaVu Sans"
_WIDTH, _HEIGHT, _DPI = 10.0, 7.0, 100
_TITLE_SIZE, _CAPTION_SIZE = 12.0, 7.5


def _wrap(text: str, size: float) -> list[str]:
    """`text` in lines that fit the figure's width at font `size` (points).

    DejaVu Sans averages about 0.5 em per character; 0.55 leaves some slack.
    """
    return textwrap.wrap(text, int(0.96 * _WIDTH * 72 / (0.55 * size)))


def _height(lines: int, size: float) -> float:
    """Height of `lines` lines of text at font `size`, as a fraction of the figure's height."""
    return lines * size * 1.3 / (72 * _HEIGHT)


def fan_chart(
    result: SeriesResult, *, reference: str, history_days: int = 365, title_run: str = ""
) -> bytes:
    """A fan chart of one series' projections under every scenario, as PNG bytes.

    The top panel shows the reported cumulative total over the last `history_days` days up
    to the origin (the last report used), then per scenario the median and the 50/80/95%
    central bands of the projected cumulative total. The bottom panel shows the reported
    daily figure as a 7-day trailing mean, then per scenario the median and 80% band of the
    projected daily figure. Bands whose levels were not computed are interpolated linearly
    between the available quantile levels (the nearest level is used outside their range).

    Parameters
    ----------
    result
        One series of a run (:attr:`simulate.pipeline.RunResult.results`).
    reference
        The reference scenario: drawn first, in the first colour.
    history_days
        Days of reported history shown before the origin (0 for none).
    title_run
        Put in front of the title when not empty (e.g. the run's name).

    Returns
    -------
    bytes
        A 1000 x 700 pixel PNG; the same inputs give the same bytes.

    Raises
    ------
    ValueError
        `reference` is not one of the result's scenarios, or `history_days` < 0.

    Examples
    --------
    >>> from simulate import pipeline
    >>> from simulate.scenarios import parse_scenario
    >>> sf = parse_scenario({
    ...     "run": {"name": "doc", "seed": 1, "paths": 100, "horizon": 30},
    ...     "data": {"source": "example", "series": ["personnel"]},
    ...     "model": {"kind": "trend-nb"},
    ...     "scenario": [{"name": "status-quo"}],
    ... }, source="doc.toml")
    >>> png = fan_chart(pipeline.run(sf).results[0], reference="status-quo", history_days=90)
    >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """
    fig = _figure(result, reference=reference, history_days=history_days, title_run=title_run)
    return png_bytes(fig, dpi=_DPI)


def png_bytes(fig: Figure, dpi: float | None = None) -> bytes:
    """A figure as PNG bytes, without the software tag, so the same figure gives the same bytes."""
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi or fig.dpi, metadata={"Software": None})
    return buf.getvalue()


def _figure(result: SeriesResult, *, reference: str, history_days: int, title_run: str) -> Figure:
    """Build the fan chart's figure (attached to an Agg canvas); see :func:`fan_chart`."""
    if reference not in result.projections:
        known = ", ".join(repr(k) for k in sorted(result.projections))
        raise ValueError(f"reference scenario {reference!r} is unknown; expected one of {known}")
    if history_days < 0:
        raise ValueError(f"history_days must be a whole number >= 0, got {history_days}")
    s, model = result.series, result.model
    reporter = s.reported_by
    order = [reference, *sorted(k for k in result.projections if k != reference)]

    fig = Figure(figsize=(_WIDTH, _HEIGHT), dpi=_DPI)
    FigureCanvasAgg(fig)
    caption = (
        f"Projections of the figures as reported by {reporter}, not estimates of actual "
        f"losses. Median and 50/80/95% bands from the model {model.kind}; source: {s.source}. "
        + CAVEAT.format(reporter=reporter)
    )
    caption_lines = _wrap(caption, _CAPTION_SIZE)
    fig.text(
        0.01,
        0.01,
        "\n".join(caption_lines),
        fontsize=_CAPTION_SIZE,
        fontfamily=_FONT,
        va="bottom",
    )
    title = f"{s.name}: figures as reported by {reporter}"
    title_lines = _wrap(f"{title_run} — {title}" if title_run else title, _TITLE_SIZE)
    fig.suptitle("\n".join(title_lines), y=0.985, va="top", fontsize=_TITLE_SIZE, fontfamily=_FONT)
    # room for the title; for the x tick labels, the dates' offset text and the caption
    fig.subplots_adjust(
        left=0.1,
        right=0.98,
        top=0.965 - _height(len(title_lines), _TITLE_SIZE),
        bottom=0.08 + _height(len(caption_lines), _CAPTION_SIZE),
        hspace=0.08,
    )
    top, low = fig.subplots(2, 1, sharex=True)

    # reported history, up to and including the origin
    origin = np.datetime64(model.origin, "D")
    n_hist = min(history_days, len(s.y))
    y = s.y.astype(np.float64)
    tail = y[len(y) - n_hist :]
    hist_dates = s.dates[len(y) - n_hist :]
    hist_cum = s.last_total - (tail.sum() - np.cumsum(tail))  # cum[i] = last - sum(y[i+1:])
    if n_hist:
        top.plot(hist_dates, hist_cum, color="black", lw=1.4, label="reported")
        low.plot(
            hist_dates,
            _trailing_mean(y, _SMOOTH_DAYS)[len(y) - n_hist :],
            color="black",
            lw=1.0,
            label=f"reported, {_SMOOTH_DAYS}-day trailing mean",
        )

    for i, name in enumerate(order):
        p = result.projections[name]
        colour = COLOURS[i % len(COLOURS)]
        label = f"{name} (reference)" if name == reference else name
        # the cumulative fan opens from the last reported total at the origin
        x = np.concatenate([[origin], p.dates])
        start = float(model.last_total)
        for width, alpha in _BANDS:
            lo, hi = _band(p.cum_quantiles, p.levels, width)
            top.fill_between(x, np.r_[start, lo], np.r_[start, hi], color=colour, alpha=alpha, lw=0)
        median = _quantile(p.cum_quantiles, p.levels, 0.5)
        top.plot(x, np.r_[start, median], color=colour, lw=1.4, label=label)
        lo, hi = _band(p.daily_quantiles, p.levels, _DAILY_BAND)
        low.fill_between(p.dates, lo, hi, color=colour, alpha=_BANDS[1][1], lw=0)
        median = _quantile(p.daily_quantiles, p.levels, 0.5)
        low.plot(p.dates, median, color=colour, lw=1.2, label=label)

    top.axvline(
        origin, color="0.3", ls=":", lw=1.0, label=f"last report used: {model.origin.isoformat()}"
    )
    low.axvline(origin, color="0.3", ls=":", lw=1.0)
    end = max(result.projections[k].dates[-1] for k in order)
    first = hist_dates[0] if n_hist else origin
    top.set_xlim(first, end)
    low.set_ylim(bottom=0)
    # matplotlib.dates has no type hints
    locator = mdates.AutoDateLocator()  # type: ignore[no-untyped-call]
    low.xaxis.set_major_locator(locator)
    low.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    # a cumulative total rises: its upper left corner is free; daily figures go anywhere
    _style(top, "cumulative total (as reported)", "median, 50/80/95% bands", "upper left")
    _style(low, "daily figure (as reported)", "median, 80% band", "best")
    return fig


def _style(ax: Axes, ylabel: str, legend_title: str, loc: Literal["upper left", "best"]) -> None:
    """Axis label, thousands separators, grid, legend and fonts of one panel."""
    ax.set_ylabel(ylabel, fontfamily=_FONT)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.10g}"))
    ax.tick_params(labelfontfamily=_FONT, labelsize=9)
    ax.xaxis.get_offset_text().set_fontfamily(_FONT)
    ax.grid(True, color="0.9", lw=0.6)
    legend = ax.legend(
        loc=loc, title=legend_title, title_fontsize=8, prop={"family": _FONT, "size": 8}
    )
    legend.get_title().set_fontfamily(_FONT)


def _quantile(table: FloatArray, levels: FloatArray, level: float) -> FloatArray:
    """Per day, the `level` quantile interpolated linearly between the columns of `table`.

    Outside ``[levels[0], levels[-1]]`` the nearest level is used.

    Examples
    --------
    >>> table = np.array([[0.0, 10.0], [2.0, 4.0]])
    >>> _quantile(table, np.array([0.1, 0.9]), 0.3)
    array([2.5, 2.5])
    >>> _quantile(table, np.array([0.1, 0.9]), 0.99)
    array([10.,  4.])
    """
    return np.array([np.interp(level, levels, row) for row in table], dtype=np.float64)


def _band(table: FloatArray, levels: FloatArray, width: float) -> tuple[FloatArray, FloatArray]:
    """Lower and upper edges of the central band holding `width` of the probability."""
    tail = (1.0 - width) / 2
    return _quantile(table, levels, tail), _quantile(table, levels, 1.0 - tail)


def _trailing_mean(y: FloatArray, days: int) -> FloatArray:
    """Mean of the last `days` figures up to each day (fewer at the start of the series).

    Examples
    --------
    >>> _trailing_mean(np.array([1.0, 3.0, 5.0, 7.0]), 2)
    array([1., 2., 4., 6.])
    """
    c = np.r_[0.0, np.cumsum(y)]
    i = np.arange(1, len(y) + 1)
    lo = np.maximum(i - days, 0)
    mean: FloatArray = (c[i] - c[lo]) / (i - lo)
    return mean


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
    reporter = result.series.reported_by
    head = f"{title_run} — " if title_run else ""
    fig.suptitle(
        f"{head}{result.series.name}: response to {key}, figures as reported by {reporter}\n"
        f"{CAVEAT.format(reporter=reporter)}",
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
