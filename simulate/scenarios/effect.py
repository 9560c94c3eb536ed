"""What a scenario file asks for that the reported figures leave without effect.

Checked once the data are read (:func:`simulate.pipeline.prepare` keeps the lines in
``Prepared.warnings``; ``run`` and ``explain`` print them, the manifest keeps them): nothing
here changes a result, it only says what was ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from ..data import ReportedData
from ..models import DailySeries
from .adjust import last_effective_day
from .config import ScenarioFile

__all__ = ["ineffective"]


def ineffective(
    sf: ScenarioFile, data: ReportedData, series: Sequence[DailySeries]
) -> tuple[str, ...]:
    """What the file asks for that these figures leave without effect, one line each.

    ``run.as_of`` after a series' last reported day (the origin is then that day, not
    ``as_of``), and an adjustment whose last effective day
    (:func:`~simulate.scenarios.last_effective_day`) is before the first projected day of
    every series: both used to be ignored without a word.
    """
    out: list[str] = []
    as_of = sf.run.as_of
    if as_of is not None:
        past: dict[date, list[str]] = {}
        for s in series:
            last = data.series(s.name).get_column("date").max()
            if isinstance(last, date) and last < as_of:
                past.setdefault(last, []).append(s.name)
        for last, names in past.items():
            out.append(
                f"{sf.source}: run.as_of: {as_of} is after the last reported day {last} of "
                f"{', '.join(names)}; the origin is {last}"
            )
    first = min(s.end for s in series) + timedelta(days=1) if series else None
    for i, sc in enumerate(sf.scenarios):
        for j, adj in enumerate(sc.adjust):
            stop = last_effective_day(adj)
            if first is not None and stop is not None and stop < first:
                # a sweep replaces its template by its expansions: positions then no longer
                # match the file's, the scenario's name does
                where = f"scenario[{i}]" if not sf.swept else f"scenario {sc.name!r}"
                out.append(
                    f"{sf.source}: {where}.adjust[{j}]: {adj.type} of scenario {sc.name!r} "
                    f"ends on {stop}, before the first projected day {first}; it changes nothing"
                )
    return tuple(out)
