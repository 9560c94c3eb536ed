"""`check`: what is wrong with these reported figures.

Findings are plain records (kind, severity, source, series, date, end_date, value, suggested,
detail) so they can be shown as a table, JSON or CSV. The checks only *report*; repairing
is the data policy's job (:mod:`simulate.data.policy`) and happens only when asked.

Slip detection works on one compilation alone, from the shape of its daily figures: a
transcription slip in a cumulative total moves one (or a few) days off the path and the next
report returns to it, so the daily figures show an excursion followed by an equal and opposite
one while their sum is ordinary. See :func:`find_slips` for the exact rule.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from typing import Literal

import numpy as np
import polars as pl

from .reported import ReportedData

__all__ = [
    "Finding",
    "Slip",
    "FINDING_FIELDS",
    "FINDING_KINDS",
    "check",
    "find_slips",
    "granularity",
    "findings_frame",
    "usable",
]

Severity = Literal["info", "warning", "error"]

#: Finding kind -> meaning (documented in the README).
FINDING_KINDS: dict[str, str] = {
    "coverage": "date range, number of reported days, last total of a series and whether it "
    "was read as cumulative totals or daily counts",
    "granularity": "daily figures are all multiples of this number (reporting granularity)",
    "gap": "days with no report; the next report's daily figure covers them",
    "duplicate": "a date listed more than once with the same figures",
    "correction": "the reported total went down (a negative daily figure)",
    "official_correction": "the compilation's correction file records a revision on this date",
    "zero_run": "consecutive days with a daily figure of 0 where figures are usually larger",
    "slip": "likely transcription slip: a one- to three-day excursion from the path, then a "
    "return; `suggested` is the total that repairs it",
    "disagreement": "compilations disagree on the total for this date; `suggested` is the value "
    "most of them report (or, without a majority, the one that fits the neighbouring days)",
    "too_short": "too few reported days to fit a model (fewer than 8 daily figures)",
}

FINDING_FIELDS = (
    "kind",
    "severity",
    "source",
    "series",
    "date",
    "end_date",
    "value",
    "suggested",
    "detail",
    "reported_by",
)

MIN_DAILY_FIGURES = 8


@dataclass(frozen=True)
class Finding:
    """One thing worth knowing about the figures."""

    kind: str
    severity: Severity
    source: str
    series: str
    date: str
    end_date: str | None
    value: int | None
    suggested: int | None
    detail: str
    reported_by: str = ""

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Slip:
    """A likely transcription slip in a cumulative series."""

    start: date
    end: date
    values: tuple[int, ...]
    suggested: tuple[int, ...]
    reason: str


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
        for name in data.series_names:
            found = _check_series(data.series(name), data.source, name, corrections)
            findings.extend(replace(f, reported_by=data.reported_by) for f in found)
    if len(datasets) > 1:
        reporters = {d.source: d.reported_by for d in datasets}
        cross = _cross_check(datasets)
        findings = _reconcile(findings, cross, datasets)
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


def _reconcile(
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
                detail=f"{f.detail}; the other compilations report {_fmt(agreed or 0)}",
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


def usable(findings: Iterable[Finding]) -> bool:
    """True when no finding has severity ``"error"``."""
    return all(f.severity != "error" for f in findings)


def findings_frame(findings: Sequence[Finding]) -> pl.DataFrame:
    """Findings as a Polars table with the documented columns."""
    schema = {
        "kind": pl.String(),
        "severity": pl.String(),
        "source": pl.String(),
        "series": pl.String(),
        "date": pl.String(),
        "end_date": pl.String(),
        "value": pl.Int64(),
        "suggested": pl.Int64(),
        "detail": pl.String(),
        "reported_by": pl.String(),
    }
    rows = [[f.to_dict()[k] for k in FINDING_FIELDS] for f in findings]
    return pl.DataFrame(rows, schema=schema, orient="row")


# --------------------------------------------------------------------------- per series


_STEPS = (1000, 500, 100, 50, 10, 5, 2)


def granularity(daily: np.ndarray, *, share: float = 0.98) -> int:
    """The reporting granularity: the largest of 1000, 500, 100, 50, 10, 5, 2 that divides at
    least `share` of the non-zero daily figures (1 when none does).

    A share rather than all figures, because a few real reports break the rounding
    (e.g. personnel totals of 150,605 and 465,054 amid multiples of 10).
    """
    nz = np.abs(daily[daily != 0]).astype(np.int64)
    if nz.size == 0:
        return 1
    for step in _STEPS:
        if np.mean(nz % step == 0) >= share:
            return step
    return 1


def _fmt(n: int | float) -> str:
    return f"{n:,.0f}"


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
    flags = part.get_column("flags").to_list()
    n_daily = int(daily_col.is_not_null().sum())
    flags_all = part.get_column("flags").to_list()
    add(
        "coverage",
        "info",
        dates[0],
        f"{dates[0]} to {dates[-1]}: {len(dates)} reported days, last total {_fmt(cum[-1])}; "
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
        detail = f"daily figures are multiples of {_fmt(g)}"
        if off:
            detail += f" except on {off} day{'s' if off > 1 else ''}"
        if nz.size > 20:
            g_early = granularity(nz[:10], share=1.0)
            if g_early > g:
                k = next(i for i in range(1, len(daily)) if daily[i] % g_early)
                detail += f" (multiples of {_fmt(g_early)} until {dates[k - 1]})"
        add("granularity", "info", dates[0], detail, value=g)

    # Gaps between reported dates.
    for i in range(1, len(dates)):
        missing = (dates[i] - dates[i - 1]).days - 1
        if missing > 0:
            first_missing = dates[i - 1] + timedelta(days=1)
            add(
                "gap",
                "warning",
                first_missing,
                f"{missing} day{'s' if missing > 1 else ''} not reported; the daily figure of "
                f"{_fmt(daily[i])} on {dates[i]} covers {missing + 1} days",
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
        shown = ", ".join(_fmt(v) for v in s.values)
        fix = ", ".join(_fmt(v) for v in s.suggested)
        add(
            "slip",
            "warning",
            s.start,
            f"likely transcription slip ({s.reason}): reported {shown}; {fix} would keep the path",
            end=s.end if s.end != s.start else None,
            value=s.values[0],
            suggested=s.suggested[0],
        )

    for i in range(1, len(dates)):
        if daily[i] < 0 and i not in in_slip:
            add(
                "correction",
                "info",
                dates[i],
                f"total went down by {_fmt(-daily[i])} ({_fmt(cum[i - 1])} -> {_fmt(cum[i])})",
                value=int(daily[i]),
            )
        delta = corrections.get((series, dates[i]))
        if delta is not None:
            add(
                "official_correction",
                "info",
                dates[i],
                f"the correction file says {delta:+,d} of this day's figure {_fmt(daily[i])} "
                "revises earlier totals",
                value=int(delta),
            )

    out.extend(_zero_runs(dates, daily, flags, in_slip, source, series))
    return out


def _zero_runs(
    dates: list[date],
    daily: np.ndarray,
    flags: list[list[str]],
    in_slip: set[int],
    source: str,
    series: str,
) -> list[Finding]:
    level = _rolling_median(np.maximum(daily, 0).astype(float), 29)
    out = []
    i = 1
    while i < len(dates):
        if daily[i] != 0 or "after_gap" in flags[i] or i in in_slip:
            i += 1
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
                    f"typical figure is about {_fmt(typical)}",
                )
            )
        i = j + 1
    return out


def _rolling_median(x: np.ndarray, window: int) -> np.ndarray:
    s = pl.Series(x)
    return s.rolling_median(window, min_samples=1, center=True).to_numpy()


# Thresholds of the slip rule, in robust standard units of the daily figures. They were set
# on synthetic negative-binomial series (false alarms) and on the three public compilations,
# where cross-checking tells which excursions really are slips.
_EXCURSION = 4.5  # one-day excursion: |z_in - z_out| / sqrt(2), the size of the excursion
_BOTH_SIDES = 1.5  # ... and each of the two daily figures deviates at least this much
_STRONG = 4.0  # two- or three-day excursion: both deviations at least this
_CATCH_UP = 2.5  # stale copy: the report after a repeated total is at least this high
_CONSISTENT = 2.5  # the excursion's daily figures must sum to an ordinary figure


def find_slips(dates: Sequence[date], cum: np.ndarray, step: int = 1) -> list[Slip]:
    """Find likely transcription slips in one cumulative series from its own shape.

    Rule: with daily figures r (per day, across gaps), a robust local level m (rolling median
    over 21 reports) and scale s (1.4826 x rolling median absolute deviation over 61 reports,
    at least sqrt(m) and m/10), each report gets z = (r - m) / s. Reports i..i+k-1
    (k = 1, 2, 3) are a slip when the daily figure entering the excursion and the one
    leaving it deviate in opposite directions while their sum over the excursion is
    ordinary (|z| of the sum <= 2.5), and either

    * k = 1, each deviation is at least 1.5 and the excursion |z_in - z_out| / sqrt(2) is
      at least 4.5 (on clean negative-binomial series this raises about one false alarm per
      7,000 days; on the real personnel series every one-day slip it flags is confirmed by
      the other compilations), or
    * k = 2 or 3 and both deviations are at least 4, or
    * the first total repeats the previous day's (a stale copy) and the catch-up is high
      (z >= 2.5).

    Periods where 70% of the daily figures are multiples of 50 or more and of at least a tenth
    of the daily level (the early "about 11,000" reports) are skipped: there rounding
    explains the shape.

    The suggested repair (k = 1) is the adjacent-digit swap of the reported total that makes
    both daily figures ordinary (|z| <= 2.5), or the only one-digit change that makes them
    |z| <= 1.5; otherwise the
    totals on a straight path between the reports on either side, rounded to the reporting
    granularity `step`.
    """
    n = len(cum)
    if n < 8:
        return []
    days = np.array([(dates[i] - dates[i - 1]).days for i in range(1, n)], dtype=float)
    inc = np.diff(cum).astype(float)  # inc[i-1] enters report i
    rate = inc / days
    m = _rolling_median(rate, 21)
    # The scale changes slowly and a 21-report MAD is itself noisy (too small in some
    # windows, which would flag ordinary noise), so it is measured over 61 reports.
    mad = _rolling_median(np.abs(rate - m), 61)
    s = np.maximum.reduce([1.4826 * mad, np.sqrt(np.maximum(m, 1.0)), m / 10.0])
    z = (inc - m * days) / (s * np.sqrt(days))

    slips: list[Slip] = []
    taken = np.zeros(n, dtype=bool)
    for k in (1, 2, 3):
        for a in range(0, len(inc) - k):
            b = a + k  # inc[a] enters report a+1; inc[b] leaves report a+k
            if taken[a + 1 : b + 2].any():
                continue
            za, zb = z[a], z[b]
            if za * zb >= 0:
                continue
            tot_days = days[a : b + 1].sum()
            mm = float(np.mean(m[a : b + 1]))
            ss = float(np.mean(s[a : b + 1]))
            z_tot = (inc[a : b + 1].sum() - mm * tot_days) / (ss * math.sqrt(tot_days))
            if abs(z_tot) > _CONSISTENT:
                continue
            # Early reports were rounded to the nearest 500 or 1,000 ("about"): there a
            # repeated or jumpy total is the rounding, not a slip.
            local = np.abs(inc[max(0, a - 10) : b + 11])
            coarse = granularity(local[local > 0], share=0.7)
            if coarse >= 50 and coarse >= 0.1 * mm:
                continue
            small = min(abs(za), abs(zb))
            reason = None
            # A stale copy repeats the previous total once; several repeats in a row are a
            # pause in reporting (a zero run), not a transcription slip.
            stale = (
                inc[a] == 0
                and bool(np.all(inc[a + 1 : b] != 0))
                and mm * days[a] >= 20
                and zb >= _CATCH_UP
            )
            if stale:
                reason = "the total repeats the previous day's, then catches up"
            elif (
                k == 1 and small >= _BOTH_SIDES and abs(za - zb) / math.sqrt(2) >= _EXCURSION
            ) or (k > 1 and small >= _STRONG):
                reason = "the daily figures jump and fall back by about the same amount"
            if reason is None:
                continue
            suggested: list[int] | None = None
            if k == 1 and not stale:
                fixed = _digit_fix(
                    int(cum[a]),
                    int(cum[a + 1]),
                    int(cum[a + 2]),
                    m[a] * days[a],
                    m[b] * days[b],
                    ss,
                    days[a],
                    days[b],
                )
                if fixed is not None:
                    suggested, reason = [fixed[0]], fixed[1]
            if suggested is None:
                lo, hi = int(cum[a]), int(cum[b + 1])
                elapsed = np.cumsum(days[a:b])
                path = lo + (hi - lo) * elapsed / tot_days
                suggested = [int(round(p / step) * step) for p in path]
            taken[a + 1 : b + 1] = True
            slips.append(
                Slip(
                    start=dates[a + 1],
                    end=dates[b],
                    values=tuple(int(v) for v in cum[a + 1 : b + 1]),
                    suggested=tuple(suggested),
                    reason=reason,
                )
            )
    slips.sort(key=lambda sl: sl.start)
    return slips


def _digit_fix(
    prev: int,
    value: int,
    nxt: int,
    exp_in: float,
    exp_out: float,
    scale: float,
    d_in: float,
    d_out: float,
) -> tuple[int, str] | None:
    """The digit slip that explains `value`, if one does unambiguously.

    Adjacent-digit swaps come first: there are few of them, so one that makes both daily
    figures ordinary (|z| <= 2.5) is strong evidence. Single-digit changes are many (a grid
    of values), so one is used only when exactly one of them fits.
    """
    text = str(value)
    swaps = {
        int(text[:i] + text[i + 1] + text[i] + text[i + 2 :])
        for i in range(len(text) - 1)
        if text[i] != text[i + 1] and not (i == 0 and text[1] == "0")
    }
    singles = {
        int(text[:i] + digit + text[i + 1 :])
        for i, ch in enumerate(text)
        for digit in "0123456789"
        if digit != ch and not (i == 0 and digit == "0")
    } - swaps

    def fits(cand: int, limit: float) -> float | None:
        if not prev <= cand <= nxt:
            return None
        z_in = (cand - prev - exp_in) / (scale * math.sqrt(d_in))
        z_out = (nxt - cand - exp_out) / (scale * math.sqrt(d_out))
        return z_in * z_in + z_out * z_out if max(abs(z_in), abs(z_out)) <= limit else None

    good_swaps = [(c, cost) for c in swaps if (cost := fits(c, 2.5)) is not None]
    if good_swaps:
        return min(good_swaps, key=lambda t: t[1])[0], "two digits swapped"
    good_singles = [c for c in singles if fits(c, 1.5) is not None]
    if len(good_singles) == 1:
        return good_singles[0], "one digit wrong"
    return None


# --------------------------------------------------------------------------- across sources


def _cross_check(datasets: Sequence[ReportedData]) -> list[Finding]:
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
            f"{', '.join(s for s, v2 in zip(sources, values, strict=True) if v2 == v)}: {_fmt(v)}"
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
                f"{listing} (suggested {_fmt(best)}: {how})",
            )
        )
    return out
