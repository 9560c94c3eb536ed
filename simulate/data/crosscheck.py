"""Cross-source checks: where compilations of the same report disagree, and what that says.

Owns :func:`cross_check` (one ``disagreement`` finding per series and date on which the
compilations report different totals, with the consensus value as the suggestion) and
:func:`reconcile` (slip findings made to agree with what the other compilations say).
:func:`simulate.data.checks.check` calls both when it is given several sources.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

import numpy as np
import polars as pl

from .findings import Finding, format_count
from .reported import ReportedData

__all__ = ["cross_check", "reconcile"]


def cross_check(datasets: Sequence[ReportedData]) -> list[Finding]:
    """One ``disagreement`` finding per series and date on which the sources' totals differ.

    The suggested value is the one most sources report; without a majority, the tied value
    closest to the path that the neighbouring days' median totals (over the sources) trace.
    The finding's `source` lists the sources that report something else.
    """
    frames = [
        d.table.select("date", "series", "cumulative", pl.lit(d.source).alias("source"))
        for d in datasets
    ]
    long = pl.concat(frames)
    multi = (
        long.group_by("series", "date")
        .agg(
            pl.col("cumulative").n_unique().alias("n_values"),
            pl.col("source"),
            pl.col("cumulative").alias("values"),
        )
        .filter(pl.col("n_values") > 1)
        .sort("series", "date")
    )
    if multi.height == 0:
        return []
    # Consensus path (median over sources per date) to judge ties against the neighbours.
    consensus = long.group_by("series", "date").agg(pl.col("cumulative").median().alias("c"))
    cmap = {(r[0], r[1]): r[2] for r in consensus.iter_rows()}
    typical = {
        name: float(
            np.median(
                np.abs(
                    np.diff(
                        np.sort(
                            long.filter(pl.col("series") == name)
                            .group_by("date")
                            .agg(pl.col("cumulative").median())
                            .sort("date")
                            .get_column("cumulative")
                            .to_numpy()
                        )
                    )
                )
            )
            if name
            else 0.0
        )
        for name in multi.get_column("series").unique().to_list()
    }
    out = []
    for row in multi.iter_rows(named=True):
        series, day = row["series"], row["date"]
        values = [int(v) for v in row["values"]]
        sources = list(row["source"])
        counts = Counter(values)
        top = counts.most_common()
        if len(top) > 1 and top[0][1] == top[1][1]:
            prev = cmap.get((series, day - timedelta(days=1)))
            nxt = cmap.get((series, day + timedelta(days=1)))
            tied = [v for v, c in top if c == top[0][1]]

            def cost(
                v: int,
                prev: float | None = prev,
                nxt: float | None = nxt,
                t: float = typical[series],
            ) -> float:
                c = 0.0
                if prev is not None:
                    c += abs(v - prev - t)
                if nxt is not None:
                    c += abs(nxt - v - t)
                return c

            best = min(tied, key=cost)
            how = "no majority; this value fits the neighbouring days best"
        else:
            best = top[0][0]
            how = "the value most compilations report"
        listing = "; ".join(
            f"{', '.join(s for s, v2 in zip(sources, values, strict=True) if v2 == v)}: "
            f"{format_count(v)}"
            for v in sorted(counts)
        )
        odd = sorted(s for s, v in zip(sources, values, strict=True) if v != best)
        odd_value = next(v for v in values if v != best)
        out.append(
            Finding(
                "disagreement",
                "warning",
                ",".join(odd),
                series,
                day.isoformat(),
                None,
                odd_value,
                best,
                f"{listing} (suggested {format_count(best)}: {how})",
            )
        )
    return out


def reconcile(
    findings: list[Finding], cross: list[Finding], datasets: Sequence[ReportedData]
) -> list[Finding]:
    """Make slip findings agree with what the other compilations say.

    A slip whose date is disagreed on takes the consensus value as its suggestion; a slip
    that every compilation reports identically is in the original report, not in the
    transcription, and says so.
    """
    consensus = {(f.series, f.date): f for f in cross}
    values: dict[tuple[str, str], set[int]] = {}
    counts: dict[tuple[str, str], int] = {}
    for d in datasets:
        for series, day, total in d.table.select("series", "date", "cumulative").iter_rows():
            key = (series, day.isoformat())
            values.setdefault(key, set()).add(int(total))
            counts[key] = counts.get(key, 0) + 1
    out = []
    for f in findings:
        key = (f.series, f.date)
        if f.kind == "slip" and key in consensus and f.source in consensus[key].source:
            agreed = consensus[key].suggested
            f = replace(
                f,
                suggested=agreed,
                detail=f"{f.detail}; the other compilations report {format_count(agreed or 0)}",
            )
        elif f.kind == "slip" and counts.get(key, 0) > 1 and len(values[key]) == 1:
            f = replace(
                f,
                severity="info",
                detail=f"{f.detail}; all {counts[key]} compilations report this figure, so any "
                "slip is in the original report, not in the transcription",
            )
        out.append(f)
    return out
