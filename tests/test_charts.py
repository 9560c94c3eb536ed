"""Fan charts: PNG bytes of the right size, deterministic, labelled with the reporter."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import matplotlib.dates as mdates
import matplotlib.image
import numpy as np
import polars as pl
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.text import Text

from simulate import pipeline
from simulate.outputs import rundir
from simulate.outputs.charts import _figure, _quantile, fan_chart, reported_after
from simulate.outputs.provenance import projection_caveat
from simulate.pipeline import RunResult, SeriesResult
from simulate.scenarios import parse_scenario

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
AFTER = "reported after the origin (not used by the model)"


def _run(*, run: dict[str, Any] | None = None, **extra: Any) -> RunResult:
    base = {
        "run": {"name": "t", "seed": 1, "paths": 300, "horizon": 60, **(run or {})},
        "data": {"source": "example", "series": ["personnel"]},
        "model": {"kind": "trend-nb"},
        "scenario": [{"name": "status-quo", "reference": True}],
    }
    end = pipeline.prepare(parse_scenario(base, source="t.toml")).series[0].end
    ceasefire = {"type": "ceasefire", "start": end + timedelta(days=20), "residual": 0.1}
    doc = {
        **base,
        "scenario": [
            {"name": "status-quo", "reference": True},
            {"name": "ceasefire", "adjust": [ceasefire]},
        ],
        **extra,
    }
    return pipeline.run(parse_scenario(doc, source="t.toml"))


def _result(**extra: Any) -> SeriesResult:
    return _run(**extra).results[0]


@pytest.fixture(scope="module")
def run_result() -> RunResult:
    return _run()


@pytest.fixture(scope="module")
def result(run_result: RunResult) -> SeriesResult:
    return run_result.results[0]


def _pixels(png: bytes) -> tuple[int, ...]:
    return tuple(matplotlib.image.imread(io.BytesIO(png), format="png").shape)


def _flat(text: str) -> str:
    """Text with its wrapping undone."""
    return " ".join(text.split())


def test_fan_chart_is_a_1000_by_700_png(result: SeriesResult) -> None:
    png = fan_chart(result, reference="status-quo")
    assert png.startswith(PNG_SIGNATURE)
    assert _pixels(png)[:2] == (700, 1000)


def test_same_inputs_give_the_same_bytes(result: SeriesResult) -> None:
    first = fan_chart(result, reference="status-quo", title_run="t")
    assert fan_chart(result, reference="status-quo", title_run="t") == first
    assert fan_chart(result, reference="ceasefire", title_run="t") != first


def test_unknown_reference_is_named(result: SeriesResult) -> None:
    with pytest.raises(ValueError, match="'no-such'.*'ceasefire', 'status-quo'"):
        fan_chart(result, reference="no-such")


def test_negative_history_is_refused(result: SeriesResult) -> None:
    with pytest.raises(ValueError, match="history_days.*-1"):
        fan_chart(result, reference="status-quo", history_days=-1)


def test_no_history_and_more_history_than_data_render(result: SeriesResult) -> None:
    for days in (0, 10_000):
        png = fan_chart(result, reference="ceasefire", history_days=days)
        assert _pixels(png)[:2] == (700, 1000)


def test_levels_without_the_band_edges_still_render() -> None:
    custom = _result(outputs={"quantiles": [0.1, 0.5, 0.9]})
    assert list(custom.projections["status-quo"].levels) == [0.1, 0.5, 0.9]
    png = fan_chart(custom, reference="status-quo")
    assert png.startswith(PNG_SIGNATURE)
    assert _pixels(png)[:2] == (700, 1000)


def test_quantile_interpolates_and_clamps() -> None:
    table = np.array([[0.0, 10.0, 20.0], [5.0, 5.0, 9.0]])
    levels = np.array([0.1, 0.5, 0.9])
    np.testing.assert_allclose(_quantile(table, levels, 0.3), [5.0, 5.0])
    np.testing.assert_allclose(_quantile(table, levels, 0.7), [15.0, 7.0])
    np.testing.assert_allclose(_quantile(table, levels, 0.025), [0.0, 5.0])
    np.testing.assert_allclose(_quantile(table, levels, 0.975), [20.0, 9.0])


def test_history_is_the_reported_cumulative_total(result: SeriesResult) -> None:
    fig = _figure(result, reference="status-quo", history_days=30, title_run="")
    s = result.series
    history = fig.axes[0].get_lines()[0]
    cum = np.asarray(history.get_ydata(), dtype=np.float64)
    assert len(cum) == 30
    assert cum[-1] == s.last_total
    np.testing.assert_array_equal(np.diff(cum), s.y[-29:])


def _texts(fig: Figure) -> list[str]:
    """Every text the figure shows (title, caveat, caption, labels, legend), unwrapped."""
    return [_flat(t.get_text()) for t in fig.findobj(Text) if t.get_text()]


def _legend(fig: Figure) -> Legend:
    (legend,) = fig.legends
    return legend


def _legend_labels(fig: Figure) -> list[str]:
    return [_flat(t.get_text()) for t in _legend(fig).get_texts()]


def test_the_caveat_appears_once_and_names_the_reporter(result: SeriesResult) -> None:
    reporter = result.series.reported_by
    fig = _figure(result, reference="status-quo", title_run="my run")
    texts = _texts(fig)
    # Before: the reporter in the title and the caveat twice in the caption.
    assert sum(projection_caveat(reporter) in t for t in texts) == 1
    assert sum(reporter in t for t in texts) == 1
    assert "my run — personnel" in texts
    (caption,) = [t for t in texts if t.startswith("Model ")]
    assert "Model trend-nb" in caption
    assert f"source: {result.series.source}" in caption
    top, low = fig.axes
    assert top.get_ylabel() == "cumulative total (as reported)"
    assert low.get_ylabel() == "daily figure (as reported)"


def test_the_legend_names_every_scenario_and_band(result: SeriesResult) -> None:
    fig = _figure(result, reference="status-quo")
    origin = f"last report used: {result.model.origin.isoformat()}"
    assert _legend_labels(fig) == [
        "reported (lower panel: 7-day mean)",
        "status-quo (reference): median",
        "status-quo 95% band (upper panel)",
        "status-quo 80% band",
        "status-quo 50% band",
        "ceasefire: median (solid), 80% band (dashed)",
        origin,
    ]
    # the legend stands right of the panels, over no data
    legend_box = _legend(fig).get_window_extent(fig.canvas.get_renderer())  # type: ignore[attr-defined]
    for ax in fig.axes:
        assert legend_box.x0 > ax.get_window_extent().x1


def _rgba(colour: Any) -> tuple[float, ...]:
    return tuple(round(float(c), 6) for c in to_rgba(colour))


def test_every_colour_drawn_is_in_the_legend_and_bands_are_opaque(result: SeriesResult) -> None:
    fig = _figure(result, reference="status-quo")
    named: set[tuple[float, ...]] = set()
    for handle in _legend(fig).legend_handles:
        if isinstance(handle, Patch):
            named.add(_rgba(handle.get_facecolor()))
        elif isinstance(handle, Line2D):
            named.add(_rgba(handle.get_color()))
    # tuple handles (median and dashed band edges) are drawn as lines of one colour
    named |= {_rgba(h.get_color()) for h in fig.legends[0].findobj(Line2D)}
    drawn: set[tuple[float, ...]] = set()
    for ax in fig.axes:
        for band in ax.findobj(PolyCollection):
            (face,) = band.get_facecolor()
            assert face[3] == 1.0, "bands are opaque: no blends of colours the legend lacks"
            drawn.add(_rgba(face))
        drawn |= {_rgba(line.get_color()) for line in ax.get_lines()}
    assert drawn <= named
    assert len({c for c in drawn}) >= 6  # 3 tints, 2 medians, black history


def test_thresholds_near_the_range_are_labelled_lines_others_named_off_the_chart(
    result: SeriesResult,
) -> None:
    near, far = (result.model.last_total // 10_000 + 2) * 10_000, 5_000_000
    result = _result(outputs={"thresholds": [near, far]})
    fig = _figure(result, reference="status-quo")
    top, low = fig.axes
    levels = [line.get_ydata()[0] for line in top.get_lines() if line.get_label() == "threshold"]
    assert levels == [near]
    labels = [_flat(t.get_text()) for t in top.texts]
    assert labels == [f"threshold {near:,}"]
    lo, hi = top.get_ylim()
    assert lo < near < hi < far
    legend = _legend_labels(fig)
    assert "thresholds (labelled)" in legend
    assert "threshold 5,000,000: off the chart (above)" in legend
    assert not low.texts


def test_no_thresholds_no_threshold_entries(result: SeriesResult) -> None:
    fig = _figure(result, reference="status-quo")
    assert not any("threshold" in t for t in _legend_labels(fig))
    assert not fig.axes[0].texts


@pytest.fixture(scope="module")
def look_back(result: SeriesResult) -> RunResult:
    """A look-back 20 days ahead from 40 days before the example's last report."""
    return _run(run={"horizon": 20, "as_of": result.series.end - timedelta(days=40)})


def test_a_look_back_zooms_on_the_projection_and_draws_what_was_reported_after(
    look_back: RunResult,
) -> None:
    r = look_back.results[0]
    after = reported_after(look_back.prepared.data, "personnel", r.model.origin)
    assert after is not None
    assert len(after[0]) == 40  # the example has every day
    fig = _figure(r, reference="status-quo", reported_after=after)
    top, low = fig.axes
    origin = np.datetime64(r.model.origin, "D")
    # 30 days of history (the minimum; the horizon is 20), not a year: the fan gets 40% of it
    first, last = top.get_xlim()
    assert first == pytest.approx(mdates.date2num(origin - 29))
    assert last == pytest.approx(mdates.date2num(origin + 20))
    (history,) = [x for x in top.get_lines() if x.get_label() == "reported"]
    assert len(history.get_xdata()) == 30
    assert history.get_ydata()[-1] == r.series.last_total
    # what was reported after the origin, up to the horizon, as reported
    rows = (
        look_back.prepared.data.series("personnel").filter(pl.col("date") > r.model.origin).head(20)
    )
    (cum,) = [x for x in top.get_lines() if x.get_label() == AFTER]
    np.testing.assert_array_equal(cum.get_xdata(), rows["date"].to_numpy())
    np.testing.assert_array_equal(cum.get_ydata(), rows["cumulative"].to_numpy())
    # and its 7-day trailing mean daily figure: (C(t) - C(t - 7)) / 7
    all_rows = look_back.prepared.data.series("personnel")
    c = dict(zip(all_rows["date"].to_numpy(), all_rows["cumulative"].to_numpy(), strict=True))
    (daily,) = [x for x in low.get_lines() if x.get_label() == AFTER]
    days = np.asarray(daily.get_xdata())
    np.testing.assert_array_equal(days, rows["date"].to_numpy())
    want = [(c[d] - c[d - np.timedelta64(7, "D")]) / 7 for d in days]
    np.testing.assert_allclose(daily.get_ydata(), want)
    assert AFTER in _legend_labels(fig)


def test_a_run_without_later_reports_keeps_a_year_of_history(run_result: RunResult) -> None:
    result = run_result.results[0]
    assert reported_after(run_result.prepared.data, "personnel", result.model.origin) is None
    fig = _figure(result, reference="status-quo")
    first, _ = fig.axes[0].get_xlim()
    origin = np.datetime64(result.model.origin, "D")
    assert first == pytest.approx(mdates.date2num(origin - 364))
    assert not any("after the origin" in t for t in _legend_labels(fig))


def test_a_look_back_run_directory_draws_the_later_reports(
    look_back: RunResult, tmp_path: Path
) -> None:
    seen: dict[str, Any] = {}

    def recording(r: SeriesResult, **kw: Any) -> bytes:
        seen.update(kw)
        return fan_chart(r, **kw)

    rundir.write_run(look_back, tmp_path / "run", charts=True, chart_maker=recording)
    dates, cum = seen["reported_after"]
    assert len(dates) == 40 and dates[0] == np.datetime64(look_back.results[0].model.origin) + 1
    png = (tmp_path / "run" / "chart-personnel.png").read_bytes()
    assert png == fan_chart(look_back.results[0], reference="status-quo", title_run="t",
                            reported_after=(dates, cum))  # fmt: skip
    assert png != fan_chart(look_back.results[0], reference="status-quo", title_run="t")


def test_a_sweep_of_many_scenarios_draws_medians_on_a_scale_with_three_legend_entries() -> None:
    """More scenarios than the palette tells apart: their medians only, in name order along one
    sequential scale, named by the first and last and counted between (no repeated colours)."""
    from simulate.outputs.charts import COLOURS

    factors = [round(1.0 + 0.1 * k, 1) for k in range(len(COLOURS) + 2)]
    scenarios = [{"name": "status-quo", "reference": True}] + [
        {"name": f"x-{f}", "adjust": [{"type": "multiply", "factor": f, "start": date(2026, 2, 1)}]}
        for f in factors
    ]
    doc = {
        "run": {"name": "t", "seed": 1, "paths": 100, "horizon": 60},
        "data": {"source": "example", "series": ["personnel"]},
        "model": {"kind": "trend-nb"},
        "scenario": scenarios,
    }
    result = pipeline.run(parse_scenario(doc, source="t.toml")).results[0]
    fig = _figure(result, reference="status-quo")
    labels = _legend_labels(fig)
    others = [label for label in labels if "x-" in label or "more by name" in label]
    assert others == ["x-1.0: median", f"… {len(factors) - 2} more by name, medians only",
                      f"x-{factors[-1]}: median"]  # fmt: skip
    top = fig.axes[0]
    colours = {to_rgba(line.get_color()) for line in top.get_lines()[-len(factors) :]}
    assert len(colours) == len(factors)  # one colour each, none repeated
    assert not [line for line in top.get_lines() if line.get_linestyle() == "--"]  # no edges
