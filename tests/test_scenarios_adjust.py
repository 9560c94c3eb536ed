"""simulate.scenarios.adjust: the adjustments do what they say; what is drawn per path."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pytest

from simulate.scenarios import (
    Ceasefire,
    Decay,
    FactorDraw,
    LogNormal,
    Multiply,
    Ramp,
    Scenario,
    Surge,
    Uniform,
    adjustment_factors,
    factor_draw_spec,
    last_effective_day,
)

DAYS = np.arange("2026-01-01", "2026-01-21", dtype="datetime64[D]")  # 20 days


def factors(*adjust: Any, draws: dict[str, Any] | None = None, **kw: Any) -> np.ndarray:
    return adjustment_factors(Scenario("s", tuple(adjust)), DAYS, draws, **kw)


def test_no_adjustment_is_one() -> None:
    out = factors(n_paths=3)
    assert out.shape == (20, 3)
    assert np.all(out == 1.0)


def test_multiply_window_inclusive() -> None:
    out = factors(Multiply(2.0, date(2026, 1, 5), date(2026, 1, 7)))[:, 0]
    expected = np.ones(20)
    expected[4:7] = 2.0
    np.testing.assert_array_equal(out, expected)


def test_multiply_uncertain_uses_draws_per_path() -> None:
    out = factors(
        Multiply(Uniform(1.2, 1.4), date(2026, 1, 11)),
        draws={"adjust[0].factor": np.array([1.2, 1.3, 1.4])},
    )
    assert out.shape == (20, 3)
    np.testing.assert_array_equal(out[:10], 1.0)
    np.testing.assert_array_equal(out[10:], np.tile([1.2, 1.3, 1.4], (10, 1)))


def test_ramp_midpoint_and_after() -> None:
    out = factors(Ramp(1.0, 2.0, date(2026, 1, 3), date(2026, 1, 13)))[:, 0]
    assert out[1] == 1.0  # before start
    assert out[2] == pytest.approx(1.0)  # start
    assert out[7] == pytest.approx(1.5)  # midpoint
    assert out[12] == pytest.approx(2.0)  # end
    assert out[19] == pytest.approx(2.0)  # held after the end


def test_decay_halves_after_half_life() -> None:
    out = factors(Decay(5.0, date(2026, 1, 2)))[:, 0]
    assert out[0] == 1.0
    assert out[1] == 1.0
    assert out[6] == pytest.approx(0.5)
    assert out[11] == pytest.approx(0.25)


def test_ceasefire_residual() -> None:
    out = factors(Ceasefire(date(2026, 1, 6), 0.1), n_paths=2)
    np.testing.assert_array_equal(out[:5], 1.0)
    np.testing.assert_allclose(out[5:], 0.1)


def test_ceasefire_breakdown_day_per_path() -> None:
    out = factors(
        Ceasefire(date(2026, 1, 6), 0.1, 0.01),
        draws={"adjust[0].breakdown_day": np.array([1, 3, 1000])},
    )
    np.testing.assert_array_equal(out[:5], 1.0)
    np.testing.assert_allclose(out[5:, 0], [0.1] + [1.0] * 14)
    np.testing.assert_allclose(out[5:, 1], [0.1] * 3 + [1.0] * 12)
    np.testing.assert_allclose(out[5:, 2], 0.1)


def test_surge_adds_for_exactly_days() -> None:
    out = factors(Surge(date(2026, 1, 4), 5, 0.5))[:, 0]
    expected = np.ones(20)
    expected[3:8] = 1.5
    np.testing.assert_array_equal(out, expected)


def test_adjustments_multiply_together() -> None:
    out = factors(
        Multiply(2.0, date(2026, 1, 1)),
        Ceasefire(date(2026, 1, 11), 0.1),
        Surge(date(2026, 1, 1), 1, 1.0),
    )[:, 0]
    assert out[0] == pytest.approx(4.0)
    assert out[1] == pytest.approx(2.0)
    assert out[10] == pytest.approx(0.2)


def test_missing_draws_are_an_error() -> None:
    with pytest.raises(ValueError, match=r"draws missing for adjust\[0\]\.factor"):
        factors(Multiply(LogNormal(1.0, 0.1), date(2026, 1, 1)))


def test_draw_spec_describes_what_to_draw() -> None:
    spec = factor_draw_spec(
        Scenario("s", (Ramp(Uniform(1, 2), LogNormal(2, 0.5), date(2026, 1, 1), date(2026, 2, 1)),))
    )
    assert spec == (
        FactorDraw("adjust[0].from", "uniform", {"lo": 1, "hi": 2}),
        FactorDraw("adjust[0].to", "lognormal", {"median": 2, "sd_log": 0.5}),
    )


def test_last_effective_day_agrees_with_the_factors() -> None:
    """After its last effective day an adjustment's factor is 1 (or it has none: it never
    stops), so `pipeline.prepare` can warn that one ending before the origin changes nothing."""
    cases = [
        Multiply(0.5, date(2026, 1, 3), date(2026, 1, 6)),
        Surge(date(2026, 1, 3), 4, 0.5),
        Multiply(0.5, date(2026, 1, 3)),
        Ramp(1.0, 2.0, date(2026, 1, 2), date(2026, 1, 5)),
        Decay(5.0, date(2026, 1, 3)),
        Ceasefire(date(2026, 1, 3), 0.1),
    ]
    for adj in cases:
        f = factors(adj)[:, 0]
        last = last_effective_day(adj)
        if last is None:
            assert f[-1] != 1.0, adj
        else:
            after = np.datetime64(last, "D") < DAYS
            assert last == date(2026, 1, 6), adj
            assert np.all(f[after] == 1.0) and f[~after][-1] != 1.0, adj
