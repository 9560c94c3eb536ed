"""Backtest outputs: tables, charts and the terminal summary; written as one directory.

``scores.csv`` (per origin, series, model, target, horizon and scale), ``summary.csv``
(:func:`simulate.evaluation.backtest.summarise`), ``pit.csv`` (PIT histogram, 10 bins),
``reliability.png`` (nominal against empirical coverage per model and target, one line per
series), ``bands-<series>.png`` (the reference model's 80% bands of the 30-day totals at every
origin against what was reported, one panel per window after the origin) and
``manifest.json`` (:func:`simulate.outputs.provenance.manifest`). The directory is built beside
its target, validated (:func:`simulate.outputs.validation.validate_run`) and moved into place
complete and valid.
"""

from __future__ import annotations

import json
import os
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..data.policy import DataPolicy
from ..data.reported import ReportedData
from ..errors import RunInvalidError
from ..evaluation.backtest import BacktestResult, summarise
from ..evaluation.scoring import INTERVALS
from ..evaluation.skill import SKILL_LEVEL, SKILL_RESAMPLES
from .atomic import building_dir
from .charts import COLOURS, png_bytes, shade, tint
from .provenance import data_block, describe_files, manifest
from .validation import validate_run

__all__ = ["pit_table", "render_summary", "write_backtest", "TARGET_GROUPS"]

#: The summary rows shown on the terminal and in the reliability chart.
TARGET_GROUPS = ("daily", "total30", "total90")


def pit_table(scores: pl.DataFrame, bins: int = 10) -> pl.DataFrame:
    """PIT histogram (share of forecasts per bin) per series, model and target, natural scale."""
    nat = scores.filter(pl.col("scale") == "natural")
    b = (pl.col("pit") * bins).floor().clip(0, bins - 1).cast(pl.Int64)
    counts = nat.group_by("series", "model", "target", b.alias("bin")).agg(n=pl.len())
    totals = counts.group_by("series", "model", "target").agg(total=pl.col("n").sum())
    return (
        counts.join(totals, on=["series", "model", "target"])
        .with_columns(
            bin_start=pl.col("bin") / bins,
            bin_end=(pl.col("bin") + 1) / bins,
            share=pl.col("n") / pl.col("total"),
        )
        .select("series", "model", "target", "bin_start", "bin_end", "n", "share")
        .sort("series", "model", "target", "bin_start")
    )


def render_summary(summary: pl.DataFrame, reporter: str) -> str:
    """Coverage and skill per series, model and target, as a plain-text table; each skill with
    its bootstrap interval over origins (:mod:`simulate.evaluation.skill`)."""
    level = f"{SKILL_LEVEL:.0%}"
    lines = [
        f"Backtest of projections of the figures as reported by {reporter}",
        f"{'series':<11}{'model':<12}{'target':<9}{'n':>6}{'cov50':>7}{'cov80':>7}"
        f"{'cov95':>7}{'WIS':>11}  {'skill [' + level + ' interval]':<21}"
        f"vs bootstrap [{level} interval]",
    ]
    rows = summary.filter(pl.col("group").is_in(TARGET_GROUPS))
    for r in rows.iter_rows(named=True):
        line = (
            f"{r['series']:<11}{r['model']:<12}{r['group']:<9}{r['n']:>6}"
            f"{r['cov50']:>7.2f}{r['cov80']:>7.2f}{r['cov95']:>7.2f}{r['wis']:>11,.1f}  "
            f"{_with_interval(r, 'skill'):<21}{_with_interval(r, 'skill_vs_bootstrap'):<21}"
        )
        lines.append(line.rstrip())
    lines += [
        "cov: share of reported figures inside the central 50/80/95% bands; skill: 1 - WIS / "
        "WIS of naive (vs bootstrap: of bootstrap) on the same origins;",
        f"[lo, hi]: {level} paired bootstrap interval of the skill over origins "
        f"({SKILL_RESAMPLES:,} resamples)",
    ]
    return "\n".join(lines)


def _with_interval(row: dict[str, Any], column: str) -> str:
    """``0.28 [0.12, 0.41]``: a skill and its interval; empty when there is none."""
    value, lo, hi = (row.get(column + end) for end in ("", "_lo", "_hi"))
    if value is None:
        return ""
    if lo is None or hi is None:
        return f"{value:5.2f}"
    return f"{value:5.2f} [{lo:.2f}, {hi:.2f}]"


def reliability_chart(
    summary: pl.DataFrame, reporter: str, *, models: tuple[str, ...] = ()
) -> bytes:
    """Nominal against empirical coverage of the central intervals, as PNG bytes: one panel
    per model (rows; `models` first, in their order, then the others, baselines last) and
    target (columns), one line per series in the series' colour, named in the legend."""
    return png_bytes(_reliability_figure(summary, reporter, models=models))


#: What each target of the reliability chart holds, for its panel's title.
_TARGET_TITLES = {
    "daily": "daily: the daily figure, every horizon",
    "total30": "total30: each 30-day total",
    "total90": "total90: each 90-day total",
}
_BASELINES = ("bootstrap", "naive")


def _reliability_figure(
    summary: pl.DataFrame, reporter: str, *, models: tuple[str, ...] = ()
) -> Figure:
    """The reliability chart's figure; see :func:`reliability_chart`."""
    targets = [g for g in TARGET_GROUPS if g in set(summary["group"])] or ["daily"]
    present = set(summary["model"])
    rows = [m for m in models if m in present]
    rows += sorted(present - set(rows), key=lambda m: (m in _BASELINES, m))
    rows = rows or ["none"]
    series = sorted(set(summary["series"]))
    colour = {name: COLOURS[i % len(COLOURS)] for i, name in enumerate(series)}
    nominal = np.array(INTERVALS)
    fig = Figure(figsize=(4.0 * len(targets), 1.3 + 2.5 * len(rows)), dpi=100)
    axes = fig.subplots(len(rows), len(targets), sharex=True, sharey=True, squeeze=False)
    for (r, model), (c, target) in product(enumerate(rows), enumerate(targets)):
        ax = axes[r][c]
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
        part = summary.filter((pl.col("group") == target) & (pl.col("model") == model))
        for row in part.sort("series").iter_rows(named=True):
            cov = [row["cov50"], row["cov80"], row["cov95"]]
            ax.plot(nominal, cov, marker="o", markersize=3.5, linewidth=1.2,
                    color=colour[row["series"]], label=row["series"])  # fmt: skip
        if r == 0:
            ax.set_title(_TARGET_TITLES.get(target, target), fontsize=9)
        if c == 0:
            ax.set_ylabel(f"{model}\nshare of reported figures inside", fontsize=8)
        if r == len(rows) - 1:
            ax.set_xlabel("nominal coverage of the central band", fontsize=8)
        ax.set_xlim(0.4, 1)
        ax.set_ylim(-0.02, 1.02)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    handles = [Line2D([], [], color=colour[n], marker="o", markersize=3.5) for n in series]
    handles.append(Line2D([], [], color="grey", linestyle=":"))
    fig.legend(handles, [*series, "perfect calibration"], loc="upper center", ncol=len(handles),
               bbox_to_anchor=(0.5, 1 - 0.55 / fig.get_figheight()), fontsize=8,
               frameon=False, title="one line per series", title_fontsize=8)  # fmt: skip
    fig.suptitle(f"Backtest coverage per model (rows) and target (columns): figures as reported "
                 f"by {reporter}", fontsize=9, y=1 - 0.1 / fig.get_figheight())  # fmt: skip
    fig.subplots_adjust(left=0.08, right=0.98, top=1 - 1.15 / fig.get_figheight(),
                        bottom=0.6 / fig.get_figheight(), wspace=0.08, hspace=0.12)  # fmt: skip
    return fig


def bands_chart(result: BacktestResult, series: str, model: str) -> bytes:
    """The model's 80% bands of the 30-day totals from every origin against what was reported,
    as PNG bytes: one panel per window after the origin (days 1-30, 31-60, ...)."""
    return png_bytes(_bands_figure(result, series, model))


def _bands_figure(result: BacktestResult, series: str, model: str) -> Figure:
    """The bands chart's figure; see :func:`bands_chart`."""
    rows = result.scores.filter(
        (pl.col("series") == series) & (pl.col("model") == model)
        & (pl.col("target") == "total30") & (pl.col("scale") == "natural")
    ).sort("origin", "horizon")  # fmt: skip
    horizons = sorted(set(rows["horizon"])) or [30]
    fig = Figure(figsize=(10, 1.3 + 1.9 * len(horizons)), dpi=100)
    axes = fig.subplots(len(horizons), 1, sharex=True, sharey=True, squeeze=False)[:, 0]
    band, median = tint(COLOURS[0], 0.55), shade(COLOURS[0], 0.35)
    for ax, h in zip(axes, horizons, strict=True):
        for r in rows.filter(pl.col("horizon") == h).iter_rows(named=True):
            start = r["origin"] + np.timedelta64(int(h) - 30, "D")
            end = r["origin"] + np.timedelta64(int(h), "D")
            inside = r["lo80"] <= r["observed"] <= r["hi80"]
            # opaque: where windows of consecutive origins overlap, the later one is on top
            ax.fill_between([start, end], r["lo80"] / 30, r["hi80"] / 30, color=band,
                            linewidth=0)  # fmt: skip
            ax.plot([start, end], [r["median"] / 30] * 2, color=median, linewidth=1)
            ax.plot([start, end], [r["observed"] / 30] * 2, color="black" if inside else "C3",
                    linewidth=1.8)  # fmt: skip
        ax.set_title(f"days {int(h) - 29}-{int(h)} after the origin", loc="left", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    handles = [Patch(color=band), Line2D([], [], color=median),
               Line2D([], [], color="black", linewidth=1.8),
               Line2D([], [], color="C3", linewidth=1.8)]  # fmt: skip
    labels = [f"{model}: 80% band", f"{model}: median", "reported, inside the band",
              "reported, outside the band"]  # fmt: skip
    height = fig.get_figheight()
    fig.legend(handles, labels, loc="upper center", ncol=4, fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, 1 - 0.5 / height))  # fmt: skip
    fig.suptitle(f"{series}: daily average of each 30-day total, projected from every origin and "
                 f"as reported by {result.reported_by}", fontsize=9,
                 y=1 - 0.1 / height)  # fmt: skip
    fig.supylabel("daily average over 30 days (as reported)", fontsize=9)
    fig.subplots_adjust(left=0.08, right=0.98, top=1 - 0.9 / height, bottom=0.4 / height,
                        hspace=0.22)  # fmt: skip
    return fig


def write_backtest(
    result: BacktestResult,
    out_dir: str | os.PathLike[str],
    *,
    reference_model: str,
    force: bool = False,
    charts: bool = True,
    config: dict[str, Any] | None = None,
    data: ReportedData | None = None,
    policy: DataPolicy | None = None,
) -> Path:
    """Write the backtest directory atomically; return its path.

    Parameters
    ----------
    result
        What :func:`simulate.evaluation.backtest.backtest` returned.
    out_dir
        The directory to create.
    reference_model
        The model whose bands are drawn per series.
    force
        Replace an existing directory (once the new one is complete).
    charts
        Draw ``reliability.png`` and ``bands-<series>.png``.
    config
        How the backtest was asked for (recorded as is).
    data, policy
        The figures backtested and the data policy applied, recorded in the manifest's
        ``data`` section (``null`` without `data`).

    Raises
    ------
    OutputExistsError
        `out_dir` exists and `force` is false, or another process is writing it.
    OutputError
        A file-system error; nothing is left behind then.
    RunInvalidError
        The new files failed validation (nothing is written then).
    """
    target = Path(out_dir)
    with building_dir(target, force=force) as tmp:
        summary = summarise(result.scores, seed=result.seed)
        files: dict[str, pl.DataFrame] = {
            "scores.csv": result.scores.with_columns(reported_by=pl.lit(result.reported_by)),
            "summary.csv": summary.with_columns(reported_by=pl.lit(result.reported_by)),
            "pit.csv": pit_table(result.scores).with_columns(
                reported_by=pl.lit(result.reported_by)
            ),
        }
        for name, frame in files.items():
            frame.write_csv(tmp / name, null_value="NA", date_format="%Y-%m-%d")
        pngs: list[str] = []
        if charts:
            png = reliability_chart(summary, result.reported_by, models=(reference_model,))
            (tmp / "reliability.png").write_bytes(png)
            pngs.append("reliability.png")
            for s in result.series:
                name = f"bands-{s}.png"
                (tmp / name).write_bytes(bands_chart(result, s, reference_model))
                pngs.append(name)
        written = {
            **{n: {"rows": f.height} for n, f in files.items()},
            **{n: {} for n in pngs},
        }
        doc = manifest(
            "attrition backtest",
            reported_by=result.reported_by,
            seed=result.seed,
            about={
                "series": list(result.series),
                "models": list(result.models),
                "reference_model": reference_model,
                "origins": [d.isoformat() for d in result.origins],
                "horizon": result.horizon,
                "paths": result.n_paths,
                "seed": result.seed,
            },
            data=None if data is None else data_block(data, policy),
            details={"config": config or {}, "failures": list(result.failures)},
            outputs=describe_files(tmp, written),
            timings={"seconds": result.seconds},
        )
        (tmp / "manifest.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        problems = validate_run(tmp)
        if problems:
            raise RunInvalidError(
                f"{target}: the backtest's own files failed validation ({len(problems)} "
                f"problems); first: {problems[0]}"
            )
    return target
