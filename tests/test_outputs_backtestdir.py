"""Backtest charts: the reliability chart names each series, the bands chart each window."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.text import Text

from simulate.evaluation.backtest import BacktestResult
from simulate.outputs.backtestdir import (
    _bands_figure,
    _reliability_figure,
    bands_chart,
    reliability_chart,
)

REPORTER = "nobody: test figures"


def _summary() -> pl.DataFrame:
    rows = [
        {"series": s, "model": m, "group": g, "cov50": c, "cov80": c + 0.2, "cov95": c + 0.3}
        for s, c in (("tanks", 0.3), ("personnel", 0.5))
        for m in ("naive", "analog", "bootstrap")
        for g in ("daily", "total30", "total90", "cum")
    ]
    return pl.DataFrame(rows)


def _legend_labels(fig: Figure) -> list[str]:
    (legend,) = fig.legends
    return [t.get_text() for t in legend.get_texts()]


def test_reliability_chart_names_each_series_model_and_target() -> None:
    fig = _reliability_figure(_summary(), REPORTER, models=("analog",))
    # Before: one legend of models; which line was which series was not said anywhere.
    assert _legend_labels(fig) == ["personnel", "tanks", "perfect calibration"]
    axes = fig.axes
    assert len(axes) == 9  # models (rows) x targets (columns)
    titles = [ax.get_title() for ax in axes[:3]]
    assert titles == [
        "daily: the daily figure, every horizon",
        "total30: each 30-day total",
        "total90: each 90-day total",
    ]
    # the reference model first, then the others with the baselines last
    rows = [axes[i].get_ylabel().split("\n")[0] for i in (0, 3, 6)]
    assert rows == ["analog", "bootstrap", "naive"]
    (legend,) = fig.legends
    colour = {
        t.get_text(): to_rgba(h.get_color())
        for t, h in zip(legend.get_texts(), legend.legend_handles, strict=True)
    }
    for ax in axes:
        lines = {ln.get_label(): ln for ln in ax.get_lines() if not ln.get_label().startswith("_")}
        assert sorted(lines) == ["personnel", "tanks"]
        for name, line in lines.items():
            assert to_rgba(line.get_color()) == colour[name]
    (personnel,) = [ln for ln in axes[3].get_lines() if ln.get_label() == "personnel"]
    assert list(personnel.get_ydata()) == [0.5, 0.7, 0.8]
    texts = [t.get_text() for t in fig.findobj(Text)]
    assert sum(REPORTER in t for t in texts) == 1


def test_reliability_chart_is_deterministic() -> None:
    first = reliability_chart(_summary(), REPORTER)
    assert first.startswith(b"\x89PNG") and reliability_chart(_summary(), REPORTER) == first


def _backtest() -> BacktestResult:
    origins = (date(2025, 1, 1), date(2025, 1, 29))
    rows: list[dict[str, Any]] = []
    for o in origins:
        for h, observed in ((30, 3000.0), (60, 9000.0)):
            rows.append({"origin": o, "series": "tanks", "model": "analog", "target": "total30",
                         "horizon": h, "scale": "natural", "observed": observed,
                         "median": 3100.0, "lo80": 2500.0, "hi80": 3600.0})  # fmt: skip
    return BacktestResult(
        scores=pl.DataFrame(rows),
        origins=origins,
        series=("tanks",),
        models=("analog",),
        reported_by=REPORTER,
        horizon=60,
        n_paths=100,
        seed=0,
        seconds=0.0,
    )


def test_bands_chart_has_one_panel_per_window_opaque_bands_and_a_legend() -> None:
    fig = _bands_figure(_backtest(), "tanks", "analog")
    first, second = fig.axes
    assert first.get_title(loc="left") == "days 1-30 after the origin"
    assert second.get_title(loc="left") == "days 31-60 after the origin"
    assert _legend_labels(fig) == [
        "analog: 80% band",
        "analog: median",
        "reported, inside the band",
        "reported, outside the band",
    ]
    for ax in fig.axes:
        bands = ax.findobj(PolyCollection)
        assert len(bands) == 2  # one per origin
        assert all(b.get_facecolor()[0][3] == 1.0 for b in bands)  # overlaps never blend
    # 3000 is inside [2500, 3600] (black); 9000 is outside (red)
    observed = [ln for ln in first.get_lines() if ln.get_linewidth() == 1.8]
    assert {to_rgba(ln.get_color()) for ln in observed} == {to_rgba("black")}
    observed = [ln for ln in second.get_lines() if ln.get_linewidth() == 1.8]
    assert {to_rgba(ln.get_color()) for ln in observed} == {to_rgba("C3")}
    assert list(observed[0].get_ydata()) == [300.0, 300.0]
    png = bands_chart(_backtest(), "tanks", "analog")
    assert png == bands_chart(_backtest(), "tanks", "analog")
