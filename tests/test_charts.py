"""Fan charts: PNG bytes of the right size, deterministic, labelled with the reporter."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import matplotlib.image
import numpy as np
import pytest

from simulate import pipeline
from simulate.outputs.charts import _figure, _quantile, fan_chart
from simulate.pipeline import SeriesResult
from simulate.scenarios import parse_scenario

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _result(**extra: Any) -> SeriesResult:
    base = {
        "run": {"name": "t", "seed": 1, "paths": 300, "horizon": 60},
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
    return pipeline.run(parse_scenario(doc, source="t.toml")).results[0]


@pytest.fixture(scope="module")
def result() -> SeriesResult:
    return _result()


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


def test_title_and_caption_name_the_reporter(result: SeriesResult) -> None:
    reporter = result.series.reported_by
    fig = _figure(result, reference="status-quo", history_days=365, title_run="my run")
    texts = [_flat(t.get_text()) for t in fig.texts]
    title = f"my run — personnel: figures as reported by {reporter}"
    assert title in texts
    (caption,) = [t for t in texts if t.startswith("Projections")]
    assert f"as reported by {reporter}, not estimates of actual losses" in caption
    assert "model trend-nb" in caption
    assert f"source: {result.series.source}" in caption
    assert f"figures as reported by {reporter}, not verified counts" in caption
    top, low = fig.axes
    assert top.get_ylabel() == "cumulative total (as reported)"
    assert low.get_ylabel() == "daily figure (as reported)"
    legend = top.get_legend()
    assert legend is not None
    labels = [t.get_text() for t in legend.get_texts()]
    origin = f"last report used: {result.model.origin.isoformat()}"
    assert labels == ["reported", "status-quo (reference)", "ceasefire", origin]


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
