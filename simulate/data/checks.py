"""`check`: what is wrong with these reported figures.

Owns the entry point :func:`check` and the per-series checks (coverage, granularity, gaps,
duplicates, corrections, official corrections, zero runs, too-short series). Slips come from
:mod:`simulate.data.slips`, cross-source disagreements from :mod:`simulate.data.crosscheck`;
every check returns :class:`~simulate.data.findings.Finding` records. The checks only
*report*; repairing is the data policy's job (:mod:`simulate.data.policy`) and happens only
when asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta
from itertools import accumulate

import numpy as np
import polars as pl

from .crosscheck import cross_check, reconcile
from .findings import FINDING_KINDS, Finding, Severity, format_count
from .reported import ReportedData
from .slips import find_slips
from .steps import granularity, rolling_median

__all__ = ["MIN_DAILY_FIGURES", "check"]

#: A series with fewer daily figures than this cannot be fitted (a ``too_short`` error).
MIN_DAILY_FIGURES = 8


def check(datasets: ReportedData | Sequence[ReportedData]) -> list[Finding]:
    """List what is wrong with reported figures, per series and across sources.

    Parameters
    ----------
    datasets
        One :class:`ReportedData` or several (one per source). With several, every series
        present in more than one source is cross-checked date by date.

    Returns
    -------
    list of Finding
        Sorted by series, date, source and kind.

    Examples
    --------
    >>> from simulate.data import load, check
    >>> findings = check(load("example"))
    >>> sorted({f.kind for f in findings})[:4]
    ['correction', 'coverage', 'duplicate', 'gap']
    """
    if isinstance(datasets, ReportedData):
        datasets = [datasets]
    findings: list[Finding] = []
    for data in datasets:
        corrections = {
            (r["series"], r["date"]): r["delta"] for r in data.corrections.iter_rows(named=True)
        }
        for name, part in _series_parts(data):
            found = _check_series(part, data.source, name, corrections)
            findings.extend(replace(f, reported_by=data.reported_by) for f in found)
    if len(datasets) > 1:
        reporters = {d.source: d.reported_by for d in datasets}
        cross = cross_check(datasets)
        findings = reconcile(findings, cross, datasets)
        findings.extend(
            replace(
                f,
                reported_by="; ".join(
                    dict.fromkeys(reporters[s] for s in f.source.split(",") if s in reporters)
                ),
            )
            for f in cross
        )
    order = {k: i for i, k in enumerate(FINDING_KINDS)}
    findings.sort(key=lambda f: (f.series, f.date, order.get(f.kind, 99), f.source))
    return findings


def _series_parts(data: ReportedData) -> list[tuple[str, pl.DataFrame]]:
    """The rows of every series, in :attr:`ReportedData.series_names` order.

    The table is sorted by series, so each series is one run of rows: a slice of it costs
    nothing, where filtering the whole table once per series would scan millions of rows
    hundreds of times for a big file.
    """
    table = data.table
    runs = table.get_column("series").rle().struct.unnest()
    names = runs.get_column("value").to_list()
    if len(set(names)) < len(names):  # not one run per series (a table built by hand)
        return [(n, table.filter(pl.col("series") == n)) for n in data.series_names]
    lengths = runs.get_column("len").to_list()
    starts = [0, *accumulate(lengths)][:-1]
    bounds = dict(zip(names, zip(starts, lengths, strict=True), strict=True))
    return [(n, table.slice(*bounds[n])) for n in data.series_names]


class _Flags:
    """The flags of a series' rows, ``flags[i]``: most rows have none, so only the flagged
    rows become Python lists (a list per row of a long series is most of its checking time)."""

    def __init__(self, column: pl.Series) -> None:
        rows = (column.list.len() > 0).arg_true()
        self._flagged: dict[int, list[str]] = dict(
            zip(rows.to_list(), column.gather(rows).to_list(), strict=True)
        )

    def __getitem__(self, i: int) -> list[str]:
        return self._flagged.get(i, [])

    def rows_with(self, flag: str) -> list[int]:
        """The rows that carry `flag`."""
        return [i for i, f in self._flagged.items() if flag in f]


# --------------------------------------------------------------------------- per series


def _check_series(
    part: pl.DataFrame, source: str, series: str, corrections: dict[tuple[str, date], int]
) -> list[Finding]:
    out: list[Finding] = []

    def add(
        kind: str,
        sev: Severity,
        d: date,
        detail: str,
        *,
        end: date | None = None,
        value: int | None = None,
        suggested: int | None = None,
    ) -> None:
        out.append(
            Finding(
                kind,
                sev,
                source,
                series,
                d.isoformat(),
                end.isoformat() if end else None,
                value,
                suggested,
                detail,
            )
        )

    dates = part.get_column("date").to_list()
    cum = part.get_column("cumulative").to_numpy().astype(np.int64)
    daily_col = part.get_column("daily")
    flags = _Flags(part.get_column("flags"))
    n_daily = int(daily_col.is_not_null().sum())
    flags_all = part.get_column("flags").to_list()
    add(
        "coverage",
        "info",
        dates[0],
        f"{dates[0]} to {dates[-1]}: {len(dates)} reported days, "
        f"last total {format_count(cum[-1])}; "
        + (
            "read as daily counts (totals rebuilt from 0)"
            if "from_daily" in flags_all[0]
            else "read as cumulative totals"
        ),
        end=dates[-1],
        value=int(cum[-1]),
    )
    if n_daily < MIN_DAILY_FIGURES:
        add(
            "too_short",
            "error",
            dates[0],
            f"only {n_daily} daily figure{'s' if n_daily != 1 else ''}; at least "
            f"{MIN_DAILY_FIGURES} are needed to fit a model",
        )

    daily = daily_col.fill_null(0).to_numpy().astype(np.int64)
    known = daily[1:] if "first" in flags[0] else daily
    g = granularity(known)
    if g > 1:
        nz = known[known != 0]
        off = int(np.sum(nz % g != 0))
        detail = f"daily figures are multiples of {format_count(g)}"
        if off:
            detail += f" except on {off} day{'s' if off > 1 else ''}"
        if nz.size > 20:
            g_early = granularity(nz[:10], share=1.0)
            if g_early > g:
                k = next(i for i in range(1, len(daily)) if daily[i] % g_early)
                detail += f" (multiples of {format_count(g_early)} until {dates[k - 1]})"
        add("granularity", "info", dates[0], detail, value=g)

    # Gaps between reported dates. Only the rows that can report something are visited (a
    # long series has tens of thousands of rows and a handful of gaps): those after a gap,
    # flagged duplicates, and row 1 (which reports a duplicate first row).
    steps = part.get_column("date").diff().dt.total_days().fill_null(1).to_numpy()
    visit = {1, *np.flatnonzero(steps > 1).tolist(), *flags.rows_with("duplicate")}
    for i in sorted(v for v in visit if 1 <= v < len(dates)):
        missing = (dates[i] - dates[i - 1]).days - 1
        if missing > 0:
            first_missing = dates[i - 1] + timedelta(days=1)
            add(
                "gap",
                "warning",
                first_missing,
                f"{missing} day{'s' if missing > 1 else ''} not reported; the daily figure of "
                f"{format_count(daily[i])} on {dates[i]} covers {missing + 1} days",
                end=dates[i] - timedelta(days=1),
            )
        if "duplicate" in flags[i] or (i == 1 and "duplicate" in flags[0]):
            j = i if "duplicate" in flags[i] else 0
            add(
                "duplicate",
                "warning",
                dates[j],
                "date listed more than once with the same figures (kept once)",
                value=int(cum[j]),
            )

    slips = find_slips(dates, cum, g)
    in_slip: set[int] = set()
    for s in slips:
        idx = dates.index(s.start)
        span = (s.end - s.start).days + 1
        in_slip.update(range(idx, idx + span + 1))
        shown = ", ".join(format_count(v) for v in s.values)
        fix = ", ".join(format_count(v) for v in s.suggested)
        add(
            "slip",
            "warning",
            s.start,
            f"likely transcription slip ({s.reason}): reported {shown}; {fix} would keep the path",
            end=s.end if s.end != s.start else None,
            value=s.values[0],
            suggested=s.suggested[0],
        )

    # Only rows with a negative daily figure or an official correction report anything.
    corrected = {d for (name, d) in corrections if name == series}
    visit = set(np.flatnonzero(daily < 0).tolist())
    if corrected:
        visit.update(i for i, d in enumerate(dates) if d in corrected)
    for i in sorted(v for v in visit if v >= 1):
        if daily[i] < 0 and i not in in_slip:
            add(
                "correction",
                "info",
                dates[i],
                f"total went down by {format_count(-daily[i])} "
                f"({format_count(cum[i - 1])} -> {format_count(cum[i])})",
                value=int(daily[i]),
            )
        delta = corrections.get((series, dates[i]))
        if delta is not None:
            add(
                "official_correction",
                "info",
                dates[i],
                f"the correction file says {delta:+,d} of this day's figure "
                f"{format_count(daily[i])} revises earlier totals",
                value=int(delta),
            )

    out.extend(_zero_runs(dates, daily, flags, in_slip, source, series))
    return out


def _zero_runs(
    dates: list[date],
    daily: np.ndarray,
    flags: _Flags,
    in_slip: set[int],
    source: str,
    series: str,
) -> list[Finding]:
    level = rolling_median(np.maximum(daily, 0).astype(float), 29)
    out = []
    after = 1  # runs start at row 1 or later, and after the previous run
    for i in np.flatnonzero(daily == 0).tolist():
        if i < after or "after_gap" in flags[i] or i in in_slip:
            continue
        j = i
        while (
            j + 1 < len(dates)
            and daily[j + 1] == 0
            and (dates[j + 1] - dates[j]).days == 1
            and j + 1 not in in_slip
        ):
            j += 1
        length = j - i + 1
        typical = float(level[i])
        # Flag zeros that are implausible for the level around them: with a typical daily figure
        # m, a run of L zeros is unlikely under any count model once m * L is large.
        if typical >= 3 and (length >= 2 or typical >= 50):
            out.append(
                Finding(
                    "zero_run",
                    "warning",
                    source,
                    series,
                    dates[i].isoformat(),
                    dates[j].isoformat() if j > i else None,
                    0,
                    None,
                    f"{length} day{'s' if length > 1 else ''} with a daily figure of 0 where the "
                    f"typical figure is about {format_count(typical)}",
                )
            )
        after = j + 1
    return out
