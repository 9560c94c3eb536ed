"""Random streams: keyed children of one seed, the same keys wherever a stream is drawn.

These tests compute the expected :class:`numpy.random.SeedSequence` by hand (entropy and
spawn key) rather than through :mod:`simulate.rng`, so a change of keying anywhere — in rng,
the engine, ``explain`` or the backtest — fails here.
"""

from __future__ import annotations

import zlib
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from simulate import pipeline, rng
from simulate.data import load
from simulate.evaluation.backtest import forecast_paths
from simulate.models import FittedModel, ModelSpec, daily_series, fit

DEMO = Path(__file__).resolve().parents[1] / "scenarios" / "demo.toml"


def _crc(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


def test_name_keys_are_crc32_of_the_utf8_name() -> None:
    for name in ("personnel", "status-quo", "échelle", ""):
        assert rng.name_key(name) == _crc(name)


def test_a_child_depends_on_its_key_not_on_what_was_drawn_before() -> None:
    a = rng.generator(7, 1, 2).standard_normal(5)
    rng.generator(7, 9).standard_normal(1000)  # drawing elsewhere changes nothing
    assert np.array_equal(rng.generator(7, 1, 2).standard_normal(5), a)
    expected = np.random.Generator(
        np.random.PCG64(np.random.SeedSequence(entropy=7, spawn_key=(1, 2)))
    ).standard_normal(5)
    assert np.array_equal(a, expected)
    assert not np.array_equal(rng.generator(7, 2, 1).standard_normal(5), a)


def test_children_of_a_child_extend_its_spawn_key() -> None:
    parent = rng.child(11, 3)
    assert rng.child(parent, 4).spawn_key == (3, 4)
    assert rng.child(parent, 4).entropy == 11


@pytest.mark.parametrize("bad", [-1, 1.5, True, "3"])
def test_a_seed_must_be_a_whole_number_or_a_seed_sequence(bad: Any) -> None:
    with pytest.raises(ValueError, match="seed must be a whole number >= 0"):
        rng.seed_sequence(bad)


def test_backtest_streams_are_seed_sequence_children_keyed_by_series_and_origin() -> None:
    data = load("example")
    origin = date(2025, 6, 30)
    spec = ModelSpec("naive")
    s, y = forecast_paths(spec, data, "tanks", origin, horizon=20, n_paths=300, seed=5)
    # By hand: SeedSequence(entropy=seed, spawn_key=(crc32(series), origin day number)) --
    # not seed + origin.toordinal(), the pattern NumPy warns against.
    key = np.random.SeedSequence(entropy=5, spawn_key=(_crc("tanks"), origin.toordinal()))
    _, expected = fit(spec, daily_series(data, "tanks", as_of=origin)).simulate(20, 300, seed=key)
    assert np.array_equal(y, expected)
    # and the keys differ from the pattern seed + origin
    flat = np.random.SeedSequence(5 + origin.toordinal())
    _, other = fit(spec, s).simulate(20, 300, seed=flat)
    assert not np.array_equal(y, other)


def test_explain_draws_the_same_streams_as_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """``explain`` shows the run's first paths: the same intensity seeds and factor draws."""
    seen: dict[str, list[tuple[Any, ...]]] = {"engine": [], "explain": []}
    where = ["engine"]
    start_paths = FittedModel.start_paths

    def spy_start(self: FittedModel, n_paths: int, *, seed: Any) -> Any:
        ss = rng.seed_sequence(seed)
        seen[where[0]].append(("paths", ss.entropy, tuple(ss.spawn_key)))
        return start_paths(self, n_paths, seed=seed)

    draws = pipeline.scenario_draws

    def spy_draws(scenario: Any, seed: Any, series_key: int, n_paths: int) -> Any:
        got = draws(scenario, seed, series_key, n_paths)
        cut = {k: np.asarray(v)[:50].tobytes() for k, v in sorted(got.items())}
        seen[where[0]].append(("draws", scenario.name, series_key, tuple(cut.items())))
        return got

    import simulate.engine as engine

    monkeypatch.setattr(FittedModel, "start_paths", spy_start)
    monkeypatch.setattr(engine, "scenario_draws", spy_draws)
    monkeypatch.setattr(pipeline, "scenario_draws", spy_draws)
    prepared = pipeline.prepare(DEMO, paths=50)
    pipeline.run(prepared.scenario_file, paths=50)
    where[0] = "explain"
    pipeline.explain(prepared, n_paths=50)
    seed = prepared.seed
    expected_paths = {("paths", seed, (_crc(s.name),)) for s in prepared.series}
    assert {e for e in seen["engine"] if e[0] == "paths"} == expected_paths
    assert {e for e in seen["explain"] if e[0] == "paths"} == expected_paths
    engine_draws = {e for e in seen["engine"] if e[0] == "draws"}
    assert engine_draws  # the demo's escalation draws a factor per path
    assert {e for e in seen["explain"] if e[0] == "draws"} == engine_draws
