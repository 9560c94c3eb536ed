"""The tidy table of reported figures and its provenance.

Every reader ends here: a long table with one row per (series, reported date) holding the
cumulative total, the daily figure implied by it and flags, plus a record of where the figures
came from and who reported them. The reporter travels with the data into every later output.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

import polars as pl

from ..errors import DataError, SelectionError
from .vocabulary import CANONICAL_SERIES

__all__ = [
    "Kind",
    "FLAGS",
    "FileRecord",
    "ReportedData",
    "TABLE_SCHEMA",
    "MAX_TOTAL",
    "assemble",
    "detect_kind",
    "file_record",
]

Kind = Literal["cumulative", "daily"]

#: Flag name -> meaning. Flags are attached to rows of :attr:`ReportedData.table`.
FLAGS: dict[str, str] = {
    "first": "first reported date of the series: its daily figure is unknown (null)",
    "after_gap": "the previous reported date is more than one day earlier: the daily figure "
    "covers every day since then",
    "correction": "negative daily figure: the reported total went down (an official correction)",
    "official_correction": "the correction file says part of this day's figure is a revision "
    "of earlier totals",
    "duplicate": "the date was listed more than once with the same value (kept once)",
    "from_daily": "cumulative total rebuilt from daily counts, starting at 0 on the first date",
    "spread": "filled in by spreading a gap's change over the missing days (data policy)",
    "correction_spread": "a correction spread over the preceding days (data policy)",
    "repaired": "a likely transcription slip replaced by the value that repairs it (--repair)",
    "approximate": 'the reporter gave this total as approximate ("about" or "more than", '
    "as PetroIvaniuk's personnel file marks the General Staff's personnel totals)",
}

TABLE_SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "series": pl.String(),
    "cumulative": pl.Int64(),
    "daily": pl.Int64(),
    "flags": pl.List(pl.String()),
}

#: Largest reported total accepted: 2**53, the largest count a float64 (the projections'
#: quantiles and means) holds exactly; beyond it figures can only be typos or corrupt files.
MAX_TOTAL = 2**53

#: Auto-detection rule: a column is read as cumulative totals when it decreases on at most
#: this share of its steps *and* on at most a quarter as many steps as it increases.
MAX_DECREASE_SHARE = 0.02

#: A column that falls more often is still read as cumulative totals (with errors) when it
#: falls on at most this many steps per rising step and its median value is at least
#: MIN_LEVEL_TO_STEP times its median non-zero change (see :func:`detect_kind`).
MAX_FALLS_PER_RISE = 0.5
MIN_LEVEL_TO_STEP = 20.0


@dataclass(frozen=True)
class FileRecord:
    """Where one input file came from."""

    path: str
    sha256: str
    format: str
    read_at: str
    url: str | None = None
    retrieved_at: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "format": self.format,
            "read_at": self.read_at,
            "url": self.url,
            "retrieved_at": self.retrieved_at,
        }


def file_record(
    path: Path,
    content: bytes | str,
    fmt: str,
    *,
    url: str | None = None,
    retrieved_at: str | None = None,
) -> FileRecord:
    """Build the provenance record of a file that has just been read.

    `content` is the file's bytes, or their SHA-256 (hex) when the file was hashed while it
    was read block by block.
    """
    return FileRecord(
        path=str(path),
        sha256=content if isinstance(content, str) else hashlib.sha256(content).hexdigest(),
        format=fmt,
        read_at=datetime.now(UTC).isoformat(timespec="seconds"),
        url=url,
        retrieved_at=retrieved_at,
    )


@dataclass(frozen=True)
class ReportedData:
    """Reported figures of one source, as a tidy table plus provenance.

    Attributes
    ----------
    source
        Short name of the compilation or file, e.g. ``"petroivaniuk"``.
    reported_by
        Who reported the figures, e.g. ``"the General Staff of the Armed Forces of Ukraine"``.
    table
        One row per series and reported date, sorted by series then date, with columns
        ``date`` (Date), ``series`` (str), ``cumulative`` (Int64), ``daily`` (Int64, null on the
        first date) and ``flags`` (list of str, see :data:`FLAGS`).
    files
        Provenance of every file read.
    corrections
        Official corrections known from a correction file: ``date``, ``series``, ``delta``
        (the part of that day's daily figure that revises earlier totals). Often empty.
    policy
        Description of the data policy applied (``None`` for figures as reported).
    """

    source: str
    reported_by: str
    table: pl.DataFrame
    files: tuple[FileRecord, ...] = ()
    corrections: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(
            schema={"date": pl.Date(), "series": pl.String(), "delta": pl.Int64()}
        )
    )
    policy: Mapping[str, object] | None = None

    @property
    def series_names(self) -> list[str]:
        """Series present, in the order of the canonical vocabulary then alphabetically."""
        names = self.table.get_column("series").unique().to_list()
        order = {name: i for i, name in enumerate(CANONICAL_SERIES)}
        return sorted(names, key=lambda n: (order.get(n, len(order)), n))

    def series(self, name: str) -> pl.DataFrame:
        """The rows of one series (raises :class:`DataError` if it is absent)."""
        if name not in self.series_names:
            have = ", ".join(self.series_names) or "none"
            raise SelectionError(
                self.source, f"series {name!r}", f"not in these figures; found: {have}"
            )
        return self.table.filter(pl.col("series") == name)

    def after(self, name: str, origin: date) -> pl.DataFrame:
        """The rows of one series reported after `origin` with a total (what a look-back run's
        model did not see), as reported."""
        return self.series(name).filter(
            (pl.col("date") > origin) & pl.col("cumulative").is_not_null()
        )

    def provenance(self) -> dict[str, object]:
        """A JSON-ready description of where the figures came from."""
        return {
            "source": self.source,
            "reported_by": self.reported_by,
            "files": [f.to_dict() for f in self.files],
            "policy": dict(self.policy) if self.policy is not None else None,
        }


def detect_kind(values: pl.Series) -> Kind:
    """Decide whether a column of figures holds cumulative totals or daily counts.

    The documented rule: a column is **cumulative** when, between consecutive reported dates,
    it decreases on at most 2% of steps (at least one decrease is always allowed, so a short
    file may hold one correction) *and* on at most a quarter as many steps as it increases
    (official corrections make a few decreases normal). A column that never changes is read as
    cumulative. A column that falls more often than that is still **cumulative** (a total with
    errors, which reading then refuses) when it rises on at least twice as many steps as it
    falls *and* its values are at least :data:`MIN_LEVEL_TO_STEP` times its typical change:
    genuine daily counts fall about as often as they rise (on the General Staff series, 0.95
    to 1.06 falls per rise) and change by about their own size from day to day (median value
    at most 10 times the median change), while a total lowered by mistake on some days keeps
    rising between the mistakes. Otherwise it is **daily**.
    """
    v = values.drop_nulls()
    steps = v.diff().drop_nulls()
    n = steps.len()
    if n == 0:
        return "cumulative"
    dec = int((steps < 0).sum())
    inc = int((steps > 0).sum())
    if dec <= max(1.0, MAX_DECREASE_SHARE * n) and dec <= 0.25 * inc:
        return "cumulative"
    if dec == 0 and inc == 0:
        return "cumulative"
    if dec <= MAX_FALLS_PER_RISE * inc and _level_to_step(v, steps) >= MIN_LEVEL_TO_STEP:
        return "cumulative"
    return "daily"


def _level_to_step(values: pl.Series, steps: pl.Series) -> float:
    """Median value over the median size of the non-zero changes (inf when nothing changes)."""
    changes = steps.filter(steps != 0).abs()
    if changes.len() == 0:
        return float("inf")
    return float(values.median() or 0) / float(changes.median() or 1)  # type: ignore[arg-type]


def assemble(raw: pl.DataFrame, *, file: str, kinds: Mapping[str, Kind]) -> pl.DataFrame:
    """Turn a reader's long table into the validated tidy table.

    Parameters
    ----------
    raw
        Columns ``date`` (Date), ``series`` (str), ``value`` (Int64, nulls allowed: not
        reported that day) and ``where`` (str: row/line/item for error messages).
    file
        Name used in error messages.
    kinds
        Series -> ``"cumulative"`` or ``"daily"``.
    """
    raw = raw.filter(pl.col("value").is_not_null())
    if raw.height == 0:
        raise DataError(file, "", "no figures found; expected at least one dated value")

    # Duplicate dates: identical values are harmless (kept once, flagged); different values
    # are an error, because nothing says which one was reported.
    dup = (
        raw.group_by("series", "date", maintain_order=True)
        .agg(
            pl.col("value").n_unique().alias("n_values"),
            pl.len().alias("n"),
            pl.col("value"),
            pl.col("where"),
        )
        .filter(pl.col("n") > 1)
    )
    clash = dup.filter(pl.col("n_values") > 1)
    if clash.height:
        row = clash.row(0, named=True)
        values = " and ".join(str(v) for v in row["value"][:2])
        raise DataError(
            file,
            " and ".join(row["where"][:2]),
            f"date {row['date']} is listed twice for {row['series']!r} with different values "
            f"({values}); expected one value per date",
        )
    dup_keys = dup.select("series", "date", pl.lit(True).alias("is_dup"))
    raw = raw.unique(subset=["series", "date"], keep="first", maintain_order=True)
    raw = raw.join(dup_keys, on=["series", "date"], how="left").with_columns(
        pl.col("is_dup").fill_null(False)
    )
    raw = raw.sort("series", "date")

    parts = []
    for name, part in raw.group_by("series", maintain_order=True):
        series = str(name[0])
        kind = kinds.get(series, "cumulative")
        parts.append(_one_series(part, series=series, kind=kind, file=file))
    table = pl.concat(parts)
    return table.select(list(TABLE_SCHEMA)).cast(TABLE_SCHEMA)  # type: ignore[arg-type]


def _one_series(part: pl.DataFrame, *, series: str, kind: Kind, file: str) -> pl.DataFrame:
    values = part.get_column("value")
    if kind == "cumulative":
        negative = part.filter(pl.col("value") < 0)
        if negative.height:
            r = negative.row(0, named=True)
            raise DataError(
                file,
                f"{r['where']}, {series!r}",
                f"cumulative total {r['value']} on {r['date']} is negative; expected a total >= 0",
            )
        huge = part.filter(pl.col("value") > MAX_TOTAL)
        if huge.height:
            r = huge.row(0, named=True)
            raise DataError(
                file,
                f"{r['where']}, {series!r}",
                f"cumulative total {r['value']} on {r['date']} is more than the {MAX_TOTAL:,} "
                "that can be projected exactly; expected a realistic total",
            )
        steps = values.diff()
        n_steps = max(part.height - 1, 1)
        n_dec = int((steps < 0).sum())
        if n_dec > max(2, MAX_DECREASE_SHARE * n_steps):
            drop = part.filter(steps < 0).row(0, named=True)
            largest = -int(steps.drop_nulls().to_numpy().min())
            raise DataError(
                file,
                f"{drop['where']}, {series!r}",
                f"cumulative totals decrease on {n_dec} of {n_steps} steps (first on "
                f"{drop['date']}; the largest fall is {largest:,d}): totals "
                "with errors; expected totals that only go down for rare corrections (fix the "
                "file, or if the column holds daily counts read it with kind='daily' / "
                "--kind daily)",
            )
        out = part.with_columns(
            pl.col("value").alias("cumulative"), pl.col("value").diff().alias("daily")
        )
        base_flags: list[str] = []
    else:
        # Int64 cum_sum wraps around silently: a huge daily column would give negative totals.
        running = values.cast(pl.Int128).cum_sum()
        too_big = (running > MAX_TOTAL) | (running < -MAX_TOTAL)
        if too_big.any():
            r = part.row(int(too_big.arg_true()[0]), named=True)
            raise DataError(
                file,
                f"{r['where']}, {series!r}",
                f"daily counts add up to more than the {MAX_TOTAL:,} that can be projected "
                f"exactly by {r['date']}; expected realistic counts",
            )
        out = part.with_columns(
            pl.col("value").cum_sum().alias("cumulative"), pl.col("value").alias("daily")
        )
        base_flags = ["from_daily"]

    gap = pl.col("date").diff().dt.total_days() > 1
    first = pl.int_range(pl.len()) == 0
    if kind == "daily":
        # A daily count on the first date is known; only cumulative input loses it.
        first = pl.lit(False)
    flag_exprs = [
        pl.when(first).then(pl.lit("first")),
        pl.when(gap & ~first).then(pl.lit("after_gap")),
        pl.when(pl.col("daily") < 0).then(pl.lit("correction")),
        pl.when(pl.col("is_dup")).then(pl.lit("duplicate")),
    ] + [pl.lit(f) for f in base_flags]
    out = out.with_columns(
        pl.concat_list(flag_exprs).list.drop_nulls().alias("flags"),
        pl.lit(series).alias("series"),
    )
    return out
