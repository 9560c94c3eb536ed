"""Transcription slips found in one compilation alone, from the shape of its daily figures.

Owns :class:`Slip` and :func:`find_slips`. A transcription slip in a cumulative total moves
one (or a few) days off the path and the next report returns to it, so the daily figures show
an excursion followed by an equal and opposite one while their sum is ordinary. See
:func:`find_slips` for the exact rule. Reporting slips as findings is
:mod:`simulate.data.checks`' job; repairing them is the data policy's
(:mod:`simulate.data.policy`), and only when asked.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from .steps import granularity, rolling_median

__all__ = ["Slip", "find_slips"]


@dataclass(frozen=True)
class Slip:
    """A likely transcription slip in a cumulative series."""

    start: date
    end: date
    values: tuple[int, ...]
    suggested: tuple[int, ...]
    reason: str


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
    m = rolling_median(rate, 21)
    # The scale changes slowly and a 21-report MAD is itself noisy (too small in some
    # windows, which would flag ordinary noise), so it is measured over 61 reports.
    mad = rolling_median(np.abs(rate - m), 61)
    s = np.maximum.reduce([1.4826 * mad, np.sqrt(np.maximum(m, 1.0)), m / 10.0])
    z = (inc - m * days) / (s * np.sqrt(days))

    slips: list[Slip] = []
    taken = np.zeros(n, dtype=bool)
    for k in (1, 2, 3):
        # Every rule below needs opposite deviations and either a stale copy (a zero
        # increment, then a catch-up of at least _CATCH_UP) or deviations that are large
        # enough on their own: positions failing that are skipped at once (the same float
        # operations as below, so nothing else changes), and a long series costs a few array
        # operations instead of one Python iteration per report.
        za_all, zb_all = z[: len(inc) - k], z[k:]
        small_all = np.minimum(np.abs(za_all), np.abs(zb_all))
        if k == 1:
            large = (small_all >= _BOTH_SIDES) & (
                np.abs(za_all - zb_all) / math.sqrt(2) >= _EXCURSION
            )
        else:
            large = small_all >= _STRONG
        maybe = (za_all * zb_all < 0) & (
            large | ((inc[: len(inc) - k] == 0) & (zb_all >= _CATCH_UP))
        )
        for a in np.flatnonzero(maybe).tolist():
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
