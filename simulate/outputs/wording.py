"""The run's answers as sentences: what ``attrition run`` prints and ``report.html`` says.

Built from :func:`simulate.summaries.headline` rows, so the terminal and the report say the
same thing in the same words. Every sentence is about the *reported* figures; the caveat
(:func:`simulate.outputs.provenance.projection_caveat`) goes once in front of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["RANGE_NOTE", "count", "on_paths", "series_sentence", "scenario_sentences"]

#: Said once, before the first range.
RANGE_NOTE = (
    "Ranges are 80% ranges: the middle 80% of the simulated paths, with 1 in 10 below and "
    "1 in 10 above."
)

Row = Mapping[str, Any]


def count(x: float) -> str:
    """A count with thousands separators, rounded to a whole number.

    Examples
    --------
    >>> count(1290067.8000000003)
    '1,290,068'
    """
    return f"{round(x):,}"


def on_paths(p: float) -> str:
    """A share of the paths in words, never rounded to 0% or 100% unless it is exactly that.

    Examples
    --------
    >>> [on_paths(p) for p in (0.0, 0.004, 0.59, 0.995, 1.0)]  # doctest: +NORMALIZE_WHITESPACE
    ['on no path', 'on fewer than 1% of paths', 'on 59% of paths', 'on more than 99% of paths',
     'on every path']
    """
    if p <= 0:
        return "on no path"
    if p >= 1:
        return "on every path"
    if p < 0.01:
        return "on fewer than 1% of paths"
    if p > 0.99:
        return "on more than 99% of paths"
    return f"on {p:.0%} of paths"


def series_sentence(row: Row) -> str:
    """The series' last report used: total, date and reporter."""
    return (
        f"{row['series']}: the last report used gives a total of {count(row['last_total'])} "
        f"on {row['last_date']}, as reported by {row['reported_by']}."
    )


def _difference(x: float) -> str:
    return f"{count(abs(x))} {'more' if x >= 0 else 'fewer'}"


def _vs_reference(row: Row, reference: str) -> str:
    med, lo, hi = (row[f"vs_reference_{k}"] for k in ("median", "lo80", "hi80"))
    if med is None:
        return ""
    if round(lo) == round(hi) == 0:
        return f" That is the same as {reference} by {row['through']} on at least 80% of paths."
    if lo >= 0 or hi <= 0:  # one sign: "74,805 to 209,265 more"
        word = "more" if lo >= 0 else "fewer"
        span = f"{count(min(abs(lo), abs(hi)))} to {count(max(abs(lo), abs(hi)))} {word}"
    else:
        span = f"{_difference(lo)} to {_difference(hi)}"
    return (
        f" That is {_difference(med)} than {reference} by {row['through']} (same paths; "
        f"80% range {span})."
    )


def _thresholds(row: Row) -> str:
    parts = []
    for t in row["thresholds"]:
        text = f"{t['level']:,} {on_paths(t['probability'])}"
        if t["median_date"] is not None:
            text += f" (median date {t['median_date']})"
        elif t["probability"] > 0:
            text += " (reached on fewer than half the paths: no median date)"
        parts.append(text)
    if not parts:
        return ""
    return f" It passes {'; '.join(parts)}."


def _record(row: Row) -> str:
    if row["record_prob"] is None or row["record"] is None:
        return ""
    note = ", a difference of totals the reporter gave as approximate" * bool(
        row["record_approximate"]
    )
    return (
        f" A daily figure above the record so far, {count(row['record'])} "
        f"(reported for {row['record_date']}{note}), {on_paths(row['record_prob'])}."
    )


def scenario_sentences(row: Row, reference: str) -> str:
    """One scenario of one series in plain sentences: the rise of the reported total over the
    horizon and where it ends (medians and 80% ranges), the contrast with the `reference`,
    each threshold's chance and median date, and the chance of a new daily record."""
    name = f"{row['scenario']} (reference)" if row["reference"] else row["scenario"]
    return (
        f"{name}: the reported total rises by {count(row['total_median'])} from {row['start']} "
        f"to {row['through']} (median; 80% range {count(row['total_lo80'])} to "
        f"{count(row['total_hi80'])}), to {count(row['cum_median'])} "
        f"({count(row['cum_lo80'])} to {count(row['cum_hi80'])})."
        + _vs_reference(row, reference)
        + _thresholds(row)
        + _record(row)
    )
