"""The only place random generators are built.

One seed enters at the entry point and becomes a :class:`numpy.random.SeedSequence`; every
stream is a child *keyed* by what it is for (never ``seed + i``, never by run order), so the
same inputs give the same numbers whatever the number of workers, the block size or the order
in which things run.
"""

from __future__ import annotations

import zlib
from datetime import date
from enum import IntEnum

import numpy as np

__all__ = [
    "Stream",
    "SeedLike",
    "seed_sequence",
    "child",
    "generator",
    "name_key",
    "paths_seed",
    "draw_generator",
    "origin_seed",
    "skill_seed",
]

SeedLike = int | np.random.SeedSequence


class Stream(IntEnum):
    """Keys of the streams a model's simulation uses (one stream, one distribution)."""

    PARAMETERS = 0  # parameter uncertainty, drawn once per path
    PROCESS = 1  # process noise of the intensity, drawn day after day
    OBS_GAMMA = 2  # observation noise: gamma part of the negative binomial
    OBS_POISSON = 3  # observation noise: Poisson part
    OBS_NORMAL = 4  # observation noise: lognormal family
    PROCESS_EXTRA = 5  # a second day-by-day stream for models that need one


def name_key(name: str) -> int:
    """The stable stream key of a name (a series, a scenario): CRC-32 of its UTF-8 bytes.

    Keys come from names, never from positions, so adding, removing or reordering series or
    scenarios leaves every other stream as it was.

    Examples
    --------
    >>> name_key("personnel"), name_key("status-quo")
    (2797401054, 980292282)
    """
    return zlib.crc32(name.encode("utf-8"))


def seed_sequence(seed: SeedLike) -> np.random.SeedSequence:
    """Resolve a seed (int or SeedSequence) into a SeedSequence."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0 or a SeedSequence, got {seed!r}")
    return np.random.SeedSequence(int(seed))


def child(seed: SeedLike, *key: int) -> np.random.SeedSequence:
    """The child of `seed` at `key`: the same key always gives the same stream.

    Unlike ``SeedSequence.spawn`` (which counts how often it was called), a keyed child does
    not depend on what was drawn before or in which order children are requested.
    """
    ss = seed_sequence(seed)
    return np.random.SeedSequence(
        entropy=ss.entropy, spawn_key=(*ss.spawn_key, *(int(k) for k in key))
    )


def generator(seed: SeedLike, *key: int) -> np.random.Generator:
    """A PCG64 generator for the child stream at `key`."""
    return np.random.Generator(np.random.PCG64(child(seed, *key)))


def paths_seed(seed: SeedLike, series_key: int) -> np.random.SeedSequence:
    """The seed of a series' intensity paths (parameter and process noise, :class:`Stream`
    keys below it): the same for every scenario, which pairs the scenarios path by path."""
    return child(seed, series_key)


def draw_generator(
    seed: SeedLike, series_key: int, scenario: str, index: int
) -> np.random.Generator:
    """The generator of a scenario's `index`-th uncertain factor, keyed by the scenario's name."""
    return generator(seed, series_key, name_key(scenario), index)


def origin_seed(seed: SeedLike, series: str, origin: date) -> np.random.SeedSequence:
    """The seed of a backtest forecast: keyed by (seed, series, origin day), so the scores do
    not depend on which origins or series run, or in what order."""
    return child(seed, name_key(series), origin.toordinal())


def skill_seed(seed: SeedLike, series: str, group: str) -> np.random.SeedSequence:
    """The seed of the origins resampled for the skill intervals of a backtest summary
    (:func:`simulate.evaluation.skill.resample_origins`): keyed by (seed, "skill", series,
    target group), so every model of a series and group is resampled on the same origins."""
    return child(seed, name_key("skill"), name_key(series), name_key(group))
