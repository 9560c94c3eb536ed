"""Fan charts of one series' projections, rendered to PNG bytes.

Figures are built on :class:`matplotlib.figure.Figure` with an Agg canvas, never through
``pyplot``: no global figure registry and no rcParams changes, so charts can be drawn from
any thread or process. Every text element uses DejaVu Sans (shipped with matplotlib) and the
PNG carries no ``Software`` metadata, so the same inputs give byte-identical files.

Bands are drawn so that no colour appears that the legend does not name: the reference
scenario's central bands are opaque tints of one hue (the widest palest), laid over one
another, never blended; every other scenario is a median line and the edges of its 80% band
as dashed lines of its colour.

Writing the bytes is :mod:`simulate.outputs.atomic`' job.
"""

from __future__ import annotations

import io
import textwrap
from datetime import date
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import numpy.typing as npt
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter
from matplotlib.transforms import blended_transform_factory

from ..data.reported import ReportedData
from ..pipeline import SeriesResult
from .provenance import projection_caveat

__all__ = ["fan_chart", "reported_after", "png_bytes", "LOOK_BACK_MIN_DAYS"]

FloatArray = npt.NDArray[np.float64]
#: Reported figures after the origin: dates (``datetime64[D]``) and cumulative totals.
Reported = tuple[npt.NDArray[np.datetime64], FloatArray]

#: One colour per scenario, in plotting order (reference first); black is kept for the
#: reported figures.
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
#: The reference scenario's central bands, widest first, each with the share of white mixed
#: into the reference colour to give its (opaque) tint.
_BANDS: tuple[tuple[float, float], ...] = ((0.95, 0.80), (0.80, 0.60), (0.50, 0.36))
#: Bands of the daily panel (the 95% band of a daily figure spans most of the panel).
_DAILY_BANDS = (0.80, 0.50)
#: The band whose edges are drawn (dashed) for every scenario but the reference.
_OTHER_BAND = 0.80
_SMOOTH_DAYS = 7
#: History shown before the origin, and before a look-back's origin at least this many days
#: (otherwise as many days as the horizon).
_HISTORY_DAYS = 365
LOOK_BACK_MIN_DAYS = 30
#: A threshold further than this share of the plotted range above or below it is not drawn
#: (it would squash the fans); the legend names it as off the chart instead.
_THRESHOLD_REACH = 0.2
_AFTER_LABEL = "reported after the origin (not used by the model)"
_FONT = "DejaVu Sans"
_WIDTH, _HEIGHT, _DPI = 10.0, 7.0, 100
_TITLE_SIZE, _CAVEAT_SIZE, _CAPTION_SIZE, _LEGEND_SIZE = 12.0, 9.0, 7.5, 8.0
#: Right edge of the panels: the legend stands to their right, covering no data.
_PANEL_RIGHT = 0.735
_LEGEND_CHARS = 31


def _wrap(text: str, size: float) -> list[str]:
    """`text` in lines that fit the figure's width at font `size` (points).

    DejaVu Sans averages about 0.5 em per character; 0.55 leaves some slack.
    """
    return textwrap.wrap(text, int(0.96 * _WIDTH * 72 / (0.55 * size)))


def _height(lines: int, size: float) -> float:
    """Height of `lines` lines of text at font `size`, as a fraction of the figure's height."""
    return lines * size * 1.3 / (72 * _HEIGHT)


def tint(colour: str, white: float) -> tuple[float, float, float]:
    """`colour` mixed with a share `white` of white (opaque: nothing shows through it)."""
    r, g, b = (c + (1.0 - c) * white for c in to_rgb(colour))
    return (r, g, b)


def shade(colour: str, black: float) -> tuple[float, float, float]:
    """`colour` mixed with a share `black` of black."""
    r, g, b = (c * (1.0 - black) for c in to_rgb(colour))
    return (r, g, b)


def reported_after(data: ReportedData, series: str, origin: date) -> Reported | None:
    """The cumulative totals of `series` reported after `origin`, as reported (no data policy
    applied), for :func:`fan_chart`'s `reported_after`; None when there are none.

    Examples
    --------
    >>> from simulate.data import load
    >>> data = load("example", series=["personnel"])
    >>> dates, cum = reported_after(data, "personnel", date(2025, 12, 28))
    >>> [str(d) for d in dates], bool(cum[0] < cum[1])
    (['2025-12-29', '2025-12-30'], True)
    >>> reported_after(data, "personnel", date(2025, 12, 30)) is None
    True
    """
    rows = data.after(series, origin)
    if rows.height == 0:
        return None
    dates = rows.get_column("date").to_numpy().astype("datetime64[D]")
    return dates, rows.get_column("cumulative").to_numpy().astype(np.float64)


def fan_chart(
    result: SeriesResult,
    *,
    reference: str,
    history_days: int | None = None,
    title_run: str = "",
    reported_after: Reported | None = None,
) -> bytes:
    """A fan chart of one series' projections under every scenario, as PNG bytes.

    The top panel shows the reported cumulative total up to the origin (the last report
    used), then the projected cumulative total: the reference scenario's median and its
    50/80/95% central bands as opaque tints of one colour, every other scenario's median and
    the edges of its 80% band (dashed). The run's thresholds of the series are horizontal lines
    labelled with their value when they lie within a fifth of the plotted range of it (the axis
    is extended to show them); the legend names the others as off the chart. The bottom panel
    shows the reported daily figure as a 7-day trailing mean, then the projected daily figure
    day by day (the reference's 50% and 80% bands, the others' 80% band edges). Bands whose
    levels were not computed are interpolated linearly between the available quantile levels
    (the nearest level is used outside their range). One legend, right of the panels, names
    every line, tint and colour; the caveat about whose figures these are appears once,
    under the title.

    Parameters
    ----------
    result
        One series of a run (:attr:`simulate.pipeline.RunResult.results`).
    reference
        The reference scenario: drawn first, in the first colour, with filled bands.
    history_days
        Days of reported history shown before the origin (0 for none). Default: 365, or
        for a look-back (`reported_after` given) as many days as the horizon, at least
        :data:`LOOK_BACK_MIN_DAYS`, so the projection fills half the width.
    title_run
        Put in front of the title when not empty (e.g. the run's name).
    reported_after
        Dates and cumulative totals reported after the origin (:func:`reported_after`), which
        a look-back run did not use: drawn up to the horizon, black dashed, in both panels.

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
    fig = _figure(
        result,
        reference=reference,
        history_days=history_days,
        title_run=title_run,
        reported_after=reported_after,
    )
    return png_bytes(fig, dpi=_DPI)


def png_bytes(fig: Figure, dpi: float | None = None) -> bytes:
    """A figure as PNG bytes, without the software tag, so the same figure gives the same bytes."""
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi or fig.dpi, metadata={"Software": None})
    return buf.getvalue()


def _figure(
    result: SeriesResult,
    *,
    reference: str,
    history_days: int | None = None,
    title_run: str = "",
    reported_after: Reported | None = None,
) -> Figure:
    """Build the fan chart's figure (attached to an Agg canvas); see :func:`fan_chart`."""
    if reference not in result.projections:
        known = ", ".join(repr(k) for k in sorted(result.projections))
        raise ValueError(f"reference scenario {reference!r} is unknown; expected one of {known}")
    if history_days is not None and history_days < 0:
        raise ValueError(f"history_days must be a whole number >= 0, got {history_days}")
    s, model = result.series, result.model
    order = [reference, *sorted(k for k in result.projections if k != reference)]
    origin = np.datetime64(model.origin, "D")
    end = max(result.projections[k].dates[-1] for k in order)
    after = _clip(reported_after, origin, end)
    if history_days is None:
        horizon = int((end - origin).astype(np.int64))
        history_days = max(LOOK_BACK_MIN_DAYS, horizon) if after else _HISTORY_DAYS

    fig, top, low = _layout(result, title_run)
    legend: list[tuple[Any, str]] = []

    # reported history, up to and including the origin
    n_hist = min(history_days, len(s.y))
    y = s.y.astype(np.float64)
    hist_cum = s.last_total - (y.sum() - np.cumsum(y))  # cum[i] = last - sum(y[i+1:])
    if n_hist:
        top.plot(s.dates[-n_hist:], hist_cum[-n_hist:], color="black", lw=1.4, label="reported")
        mean = _trailing_mean(y, _SMOOTH_DAYS)[-n_hist:]
        low.plot(s.dates[-n_hist:], mean, color="black", lw=1.0, label="reported")
        legend.append((_line("black", lw=1.4), f"reported (lower panel: {_SMOOTH_DAYS}-day mean)"))
    if after:
        dates, cum = after
        top.plot(dates, cum, color="black", lw=1.6, ls=(0, (4, 2)), zorder=4, label=_AFTER_LABEL)
        days, mean = _after_daily_mean(s.dates, hist_cum, dates, cum)
        low.plot(days, mean, color="black", lw=1.4, ls=(0, (4, 2)), zorder=4, label=_AFTER_LABEL)
        legend.append((_line("black", lw=1.6, ls=(0, (4, 2))), _AFTER_LABEL))

    legend += _draw_reference(top, low, result, reference, COLOURS[0])
    others = order[1:]
    if len(others) < len(COLOURS):
        for i, name in enumerate(others, start=1):
            legend += _draw_other(top, low, result, name, COLOURS[i])
    else:
        legend += _draw_many(top, low, result, others)

    origin_label = f"last report used: {model.origin.isoformat()}"
    # matplotlib.dates has no type hints
    for ax in (top, low):
        ax.axvline(mdates.date2num(origin), color="0.3", ls=":", lw=1.0)  # type: ignore[no-untyped-call]
    legend.append((_line("0.3", lw=1.0, ls=":"), origin_label))
    legend += _draw_thresholds(top, result.projections[reference].thresholds)

    first = s.dates[-n_hist] if n_hist else origin
    top.set_xlim(mdates.date2num(first), mdates.date2num(end))  # type: ignore[no-untyped-call]
    low.set_ylim(bottom=0)
    locator = mdates.AutoDateLocator()  # type: ignore[no-untyped-call]
    low.xaxis.set_major_locator(locator)
    low.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    _style(top, "cumulative total (as reported)")
    _style(low, "daily figure (as reported)")
    _legend(fig, legend, top=top.get_position().y1)
    return fig


def _layout(result: SeriesResult, title_run: str) -> tuple[Figure, Axes, Axes]:
    """The figure with its title, caveat (once), caption and two panels sharing the x-axis."""
    s, model = result.series, result.model
    fig = Figure(figsize=(_WIDTH, _HEIGHT), dpi=_DPI)
    FigureCanvasAgg(fig)
    caption = (
        f"Model {model.kind}; source: {s.source}. Lines are medians; bands hold the central "
        "50/80/95% of the simulated paths. Reported daily figures are shown as a "
        f"{_SMOOTH_DAYS}-day trailing mean, projected ones day by day."
    )
    caption_lines = _wrap(caption, _CAPTION_SIZE)
    fig.text(0.01, 0.01, "\n".join(caption_lines), fontsize=_CAPTION_SIZE, fontfamily=_FONT,
             va="bottom")  # fmt: skip
    title = f"{title_run} — {s.name}" if title_run else s.name
    title_lines = _wrap(title, _TITLE_SIZE)
    fig.suptitle("\n".join(title_lines), y=0.985, va="top", fontsize=_TITLE_SIZE, fontfamily=_FONT)
    below_title = 0.985 - _height(len(title_lines), _TITLE_SIZE) - 0.005
    caveat_lines = _wrap(projection_caveat(s.reported_by), _CAVEAT_SIZE)
    fig.text(0.5, below_title, "\n".join(caveat_lines), ha="center", va="top", color="0.2",
             fontsize=_CAVEAT_SIZE, fontfamily=_FONT)  # fmt: skip
    # room for the title and caveat; for the x tick labels, the dates' offset text and caption
    fig.subplots_adjust(
        left=0.1,
        right=_PANEL_RIGHT,
        top=below_title - _height(len(caveat_lines), _CAVEAT_SIZE) - 0.02,
        bottom=0.08 + _height(len(caption_lines), _CAPTION_SIZE),
        hspace=0.08,
    )
    top, low = fig.subplots(2, 1, sharex=True)
    return fig, top, low


def _line(colour: Any, *, lw: float, ls: Any = "-") -> Line2D:
    """A legend handle: a line of `colour`, width `lw` and style `ls`."""
    return Line2D([], [], color=colour, lw=lw, ls=ls)


def _draw_reference(
    top: Axes, low: Axes, result: SeriesResult, name: str, colour: str
) -> list[tuple[Any, str]]:
    """The reference's median and opaque graded bands in both panels; its legend entries."""
    p, start = result.projections[name], float(result.model.last_total)
    x = np.concatenate([[np.datetime64(result.model.origin, "D")], p.dates])
    dark = shade(colour, 0.35)
    entries: list[tuple[Any, str]] = [(_line(dark, lw=1.6), f"{name} (reference): median")]
    for width, white in _BANDS:
        # the cumulative fan opens from the last reported total at the origin
        lo, hi = _band(p.cum_quantiles, p.levels, width)
        top.fill_between(x, np.r_[start, lo], np.r_[start, hi], color=tint(colour, white), lw=0)
        if width in _DAILY_BANDS:
            lo, hi = _band(p.daily_quantiles, p.levels, width)
            low.fill_between(p.dates, lo, hi, color=tint(colour, white), lw=0)
        where = "" if width in _DAILY_BANDS else " (upper panel)"
        entries.append((Patch(color=tint(colour, white)), f"{name} {width:.0%} band{where}"))
    median = _quantile(p.cum_quantiles, p.levels, 0.5)
    top.plot(x, np.r_[start, median], color=dark, lw=1.6, zorder=3)
    low.plot(p.dates, _quantile(p.daily_quantiles, p.levels, 0.5), color=dark, lw=1.2, zorder=3)
    return entries


def _draw_other(
    top: Axes, low: Axes, result: SeriesResult, name: str, colour: str
) -> list[tuple[Any, str]]:
    """A scenario's median (solid) and 80% band edges (dashed) in both panels."""
    p, start = result.projections[name], float(result.model.last_total)
    x = np.concatenate([[np.datetime64(result.model.origin, "D")], p.dates])
    dashed = (0, (3, 2))
    lo, hi = _band(p.cum_quantiles, p.levels, _OTHER_BAND)
    for edge in (lo, hi):
        top.plot(x, np.r_[start, edge], color=colour, lw=0.9, ls=dashed, zorder=3)
    top.plot(x, np.r_[start, _quantile(p.cum_quantiles, p.levels, 0.5)], color=colour, lw=1.5,
             zorder=3)  # fmt: skip
    lo, hi = _band(p.daily_quantiles, p.levels, _OTHER_BAND)
    for edge in (lo, hi):
        low.plot(p.dates, edge, color=colour, lw=0.8, ls=dashed, zorder=3)
    low.plot(p.dates, _quantile(p.daily_quantiles, p.levels, 0.5), color=colour, lw=1.2,
             zorder=3)  # fmt: skip
    handle = (_line(colour, lw=1.5), _line(colour, lw=0.9, ls=dashed))
    return [(handle, f"{name}: median (solid), {_OTHER_BAND:.0%} band (dashed)")]


def _draw_many(
    top: Axes, low: Axes, result: SeriesResult, names: list[str]
) -> list[tuple[Any, str]]:
    """More scenarios than :data:`COLOURS` can tell apart (a sweep): their medians only, thin,
    coloured along a sequential scale in name order; three legend entries (the first, how many
    between, the last). Their bands are in ``chart-data-<series>.csv``."""
    scale = colormaps["viridis"]
    colours = [scale(0.9 * k / (len(names) - 1)) for k in range(len(names))]
    start = float(result.model.last_total)
    for name, colour in zip(names, colours, strict=True):
        p = result.projections[name]
        x = np.concatenate([[np.datetime64(result.model.origin, "D")], p.dates])
        median = _quantile(p.cum_quantiles, p.levels, 0.5)
        top.plot(x, np.r_[start, median], color=colour, lw=0.9, zorder=3)
        low.plot(p.dates, _quantile(p.daily_quantiles, p.levels, 0.5), color=colour, lw=0.7,
                 zorder=3)  # fmt: skip
    middle = colours[len(names) // 2]
    return [
        (_line(colours[0], lw=1.5), f"{names[0]}: median"),
        (_line(middle, lw=1.5), f"… {len(names) - 2} more by name, medians only"),
        (_line(colours[-1], lw=1.5), f"{names[-1]}: median"),
    ]


def _draw_thresholds(top: Axes, thresholds: npt.NDArray[Any]) -> list[tuple[Any, str]]:
    """Thresholds near the plotted range as labelled lines; legend entries for all of them."""
    if not thresholds.size:
        return []
    y0, y1 = float(top.dataLim.y0), float(top.dataLim.y1)
    reach = _THRESHOLD_REACH * max(y1 - y0, 1.0)
    colour, dash_dot = "0.35", (0, (6, 2, 1, 2))
    at_left = blended_transform_factory(top.transAxes, top.transData)
    entries: list[tuple[Any, str]] = []
    drawn: list[float] = []
    for t in sorted(float(v) for v in thresholds):
        if y0 - reach <= t <= y1 + reach:
            top.axhline(t, color=colour, lw=0.9, ls=dash_dot, zorder=2, label="threshold")
            top.text(0.01, t, f"threshold {t:,.0f}", transform=at_left, va="bottom",
                     fontsize=_LEGEND_SIZE, fontfamily=_FONT, color="0.25")  # fmt: skip
            drawn.append(t)
        else:
            where = "above" if t > y1 else "below"
            entries.append((Patch(color="none"), f"threshold {t:,.0f}: off the chart ({where})"))
    if drawn:
        entries.insert(0, (_line(colour, lw=0.9, ls=dash_dot), "thresholds (labelled)"))
        lo, hi = top.get_ylim()
        top.set_ylim(lo, max(hi, drawn[-1] + 0.1 * (hi - lo)))  # room for the top one's label
    return entries


def _legend(fig: Figure, entries: list[tuple[Any, str]], *, top: float) -> None:
    """One legend for both panels, right of them, its top level with theirs."""
    handles = [h for h, _ in entries]
    labels = [textwrap.fill(label, _LEGEND_CHARS) for _, label in entries]
    legend = fig.legend(
        handles,
        labels,
        loc="upper left",
        bbox_to_anchor=(_PANEL_RIGHT + 0.01, top),
        frameon=False,
        prop={"family": _FONT, "size": _LEGEND_SIZE},
        handler_map={tuple: HandlerTuple(ndivide=None, pad=0.3)},
        handlelength=2.6,
        labelspacing=0.7,
    )
    legend.set_zorder(5)


def _style(ax: Axes, ylabel: str) -> None:
    """Axis label, thousands separators, grid and fonts of one panel."""
    ax.set_ylabel(ylabel, fontfamily=_FONT)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.10g}"))
    ax.tick_params(labelfontfamily=_FONT, labelsize=9)
    ax.xaxis.get_offset_text().set_fontfamily(_FONT)
    ax.grid(True, color="0.9", lw=0.6)
    ax.set_axisbelow(True)


def _clip(after: Reported | None, origin: np.datetime64, end: np.datetime64) -> Reported | None:
    """The reported figures after `origin` up to `end` (None when there are none)."""
    if after is None:
        return None
    dates, cum = after
    keep = (dates > origin) & (dates <= end)
    return (dates[keep], cum[keep]) if keep.any() else None


def _after_daily_mean(
    hist_dates: npt.NDArray[np.datetime64],
    hist_cum: FloatArray,
    dates: npt.NDArray[np.datetime64],
    cum: FloatArray,
) -> tuple[npt.NDArray[np.datetime64], FloatArray]:
    """The 7-day trailing mean daily figure on every day from the origin's next to the last of
    `dates`: ``(C(t) - C(t - 7)) / 7`` with ``C`` the reported cumulative total (history, then
    the figures after the origin), linear between reports on days without one."""
    known = np.concatenate([hist_dates, dates]).astype(np.int64).astype(np.float64)
    total = np.concatenate([hist_cum, cum])
    days = np.arange(hist_dates[-1] + 1, dates[-1] + 1)
    t = days.astype(np.int64).astype(np.float64)
    mean = (np.interp(t, known, total) - np.interp(t - _SMOOTH_DAYS, known, total)) / _SMOOTH_DAYS
    return days, mean


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
