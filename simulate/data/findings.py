"""The finding record: what a check reports, in a form any output can show.

Owns :class:`Finding` (kind, severity, source, series, date, end_date, value, suggested,
detail, reported_by), the documented kinds (:data:`FINDING_KINDS`) and fields
(:data:`FINDING_FIELDS`), the findings as a Polars table (:func:`findings_frame`) and the
verdict on them (:func:`usable`). The checks that produce findings live in
:mod:`simulate.data.checks`, :mod:`simulate.data.slips` and :mod:`simulate.data.crosscheck`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import polars as pl

__all__ = [
    "Finding",
    "Severity",
    "FINDING_FIELDS",
    "FINDING_KINDS",
    "findings_frame",
    "format_count",
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


def format_count(n: int | float) -> str:
    """A figure as the details show it: rounded, with thousands separators (``1,234``)."""
    return f"{n:,.0f}"
