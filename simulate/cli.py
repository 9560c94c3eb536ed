"""The `attrition` command line: parse, call one library function, report.

No computation lives here. Library errors (:class:`~simulate.errors.AttritionError`) become a
one-line message and exit code 1; usage errors exit 2 (Click's convention).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

import click
import polars as pl

from . import CAVEAT, __version__
from .cli_options import comma_list
from .data import (
    FINDING_FIELDS,
    DataPolicy,
    Finding,
    ReportedData,
    apply_policy,
    check,
    findings_frame,
    load_all,
    usable,
)
from .data.policy import CHOICES as POLICY_CHOICES
from .data.readers import FORMATS
from .data.sources import SOURCES
from .errors import AttritionError, OutputExistsError, ScenarioError, SelectionError, SourceError
from .outputs.atomic import atomic_write

__all__ = ["main", "cli"]


def _fail(exc: AttritionError) -> NoReturn:
    # Naming something that is not there (a source, a series) or an output that exists is a
    # usage error (exit 2); figures that cannot be read or used are exit 1.
    if isinstance(exc, SourceError | SelectionError | OutputExistsError):
        raise click.UsageError(str(exc))
    raise click.ClickException(str(exc))


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a valid date; expected YYYY-MM-DD") from None


def _series(_ctx: click.Context, _param: click.Parameter, value: str | None) -> list[str] | None:
    return comma_list(value, "series names")


_input_options = [
    click.option(
        "--kind",
        type=click.Choice(["cumulative", "daily"]),
        default=None,
        help="Value columns of a generic file hold cumulative totals or daily counts "
        "(default: detected per column).",
    ),
    click.option(
        "--layout",
        type=click.Choice(FORMATS),
        default=None,
        help="File layout (default: detected from the content).",
    ),
    click.option(
        "--date-column",
        default=None,
        help="Date column of a generic file (default: the column called 'date').",
    ),
    click.option(
        "--series",
        "series",
        callback=_series,
        default=None,
        help="Comma-separated series to keep, e.g. personnel,tanks.",
    ),
    click.option(
        "--reported-by",
        default=None,
        help="Who reported the figures of a generic file (recorded in every output).",
    ),
    click.option(
        "--cache",
        type=click.Path(file_okay=False),
        default=None,
        envvar=None,
        help="Cache directory of fetched sources (default: $ATTRITION_CACHE or the user cache).",
    ),
]


def input_options(f: Any) -> Any:
    for option in reversed(_input_options):
        f = option(f)
    return f


def _load(data: Sequence[str], **kw: Any) -> list[ReportedData]:
    return load_all(
        data,
        fmt=kw["layout"],
        kind=kw["kind"],
        date_column=kw["date_column"],
        series=kw.get("series"),
        reported_by=kw["reported_by"],
        cache=kw["cache"],
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="attrition")
def cli() -> None:
    """Fit simple models to publicly reported daily attrition figures.

    attrition models the REPORTED numbers, not ground truth: every output says whose
    figures it models.
    """


# --------------------------------------------------------------------------- check


@cli.command("check")
@click.argument("data", nargs=-1, required=True)
@input_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the findings to this file (atomically) instead of standard output.",
)
@click.option("--force", is_flag=True, help="Replace an existing --output file.")
@click.option(
    "--all",
    "show_all",
    is_flag=True,
    help="Table format: list every finding instead of grouping series that share it.",
)
def check_cmd(
    data: tuple[str, ...], fmt: str, output: str | None, force: bool, show_all: bool, **kw: Any
) -> None:
    """Report what is wrong with reported figures.

    DATA are files (CSV, Parquet, the JSON/CSV of the public compilations) or names of
    fetched sources (petroivaniuk, lod-db) or the bundled 'example'. With several sources,
    every shared series is cross-checked date by date.

    Exit status: 0 usable, 1 unusable (or unreadable), 2 usage error.
    """
    try:
        datasets = _load(data, **kw)
        findings = check(datasets)
    except AttritionError as exc:
        _fail(exc)
    if fmt == "json":
        text = (
            json.dumps(
                {
                    "sources": [d.provenance() for d in datasets],
                    "caveat": [CAVEAT.format(reporter=r) for r in _reporters(datasets)],
                    "usable": usable(findings),
                    "findings": [f.to_dict() for f in findings],
                },
                indent=2,
            )
            + "\n"
        )
    elif fmt == "csv":
        text = findings_frame(findings).select(FINDING_FIELDS).write_csv()
    else:
        text = _render_table(datasets, findings, group=not show_all)
    if output:
        try:
            atomic_write(output, text, force=force)
        except AttritionError as exc:
            _fail(exc)
        click.echo(f"wrote {len(findings)} findings to {output}", err=True)
    else:
        click.echo(text, nl=False)
    if not usable(findings):
        sys.exit(1)


def _reporters(datasets: Sequence[ReportedData]) -> list[str]:
    return list(dict.fromkeys(d.reported_by for d in datasets))


def _render_table(
    datasets: Sequence[ReportedData], findings: Sequence[Finding], *, group: bool
) -> str:
    lines = []
    for d in datasets:
        lines.append(
            f"{d.source}: figures as reported by {d.reported_by} "
            f"({len(d.series_names)} series, {len(d.files)} file(s))"
        )
    lines.append("attrition checks the reported numbers; it says nothing about actual losses.")
    lines.append("")
    rows: list[tuple[str, ...]] = []
    if group:
        # The same gap or correction date usually affects every series of a source: one line.
        merged: dict[tuple[str, ...], list[Finding]] = {}
        for f in findings:
            # Gaps and duplicates read differently per series (the figure they cover);
            # every other kind is merged only when its detail is the same word for word.
            same = f.kind if f.kind in ("gap", "duplicate") else f.detail
            key = (f.kind, f.source, f.date, f.end_date or "", same)
            merged.setdefault(key, []).append(f)
        for group_ in merged.values():
            f = group_[0]
            detail = f.detail
            if f.kind == "gap" and len(group_) > 1:
                n = (date.fromisoformat(f.end_date or f.date) - date.fromisoformat(f.date)).days + 1
                detail = f"{n} day{'s' if n > 1 else ''} not reported"
            names = f.series if len(group_) == 1 else f"{len(group_)} series"
            rows.append((f.severity, f.kind, f.source, names, _when(f), detail))
    else:
        rows = [(f.severity, f.kind, f.source, f.series, _when(f), f.detail) for f in findings]
    header = ("severity", "kind", "source", "series", "date", "detail")
    widths = [
        max(len(header[i]), *(len(r[i]) for r in rows)) if rows else len(header[i])
        for i in range(5)
    ]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths) + "  {}"
    lines.append(fmt.format(*header))
    lines.extend(fmt.format(*r) for r in rows)
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.kind] = counts.get(f.kind, 0) + 1
    lines.append("")
    lines.append("findings: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    lines.append("verdict: " + ("usable" if usable(findings) else "UNUSABLE (see errors above)"))
    return "\n".join(lines) + "\n"


def _when(f: Finding) -> str:
    return f.date if not f.end_date or f.end_date == f.date else f"{f.date}..{f.end_date}"


# --------------------------------------------------------------------------- series


@cli.command("series")
@click.argument("data", nargs=-1, required=True)
@input_options
@click.option(
    "--out",
    "-o",
    type=click.Path(dir_okay=False),
    required=True,
    help="Output file: .csv or .parquet; OUT.provenance.json is written beside it.",
)
@click.option(
    "--gaps",
    type=click.Choice(POLICY_CHOICES["gaps"]),
    default="spread",
    show_default=True,
    help="Missing days: spread the change over them, or fail.",
)
@click.option(
    "--corrections",
    type=click.Choice(POLICY_CHOICES["corrections"]),
    default="keep",
    show_default=True,
    help="Negative daily figures: keep as reported, or spread "
    "over the preceding --correction-window days.",
)
@click.option("--correction-window", type=click.IntRange(min=1), default=7, show_default=True)
@click.option(
    "--repair",
    is_flag=True,
    help="Replace likely transcription slips with the totals that repair them.",
)
@click.option("--start", callback=_date, default=None, help="Drop figures before this date.")
@click.option("--force", is_flag=True, help="Replace existing output files.")
def series_cmd(
    data: tuple[str, ...],
    out: str,
    gaps: str,
    corrections: str,
    correction_window: int,
    repair: bool,
    start: date | None,
    force: bool,
    **kw: Any,
) -> None:
    """Write the validated daily series (one row per series and day) under a data policy.

    Every filled, spread or repaired day is flagged in the 'flags' column.
    """
    if not out.lower().endswith((".csv", ".parquet")):
        raise click.BadParameter(
            f"{out!r} does not end in .csv or .parquet; expected one of those file types",
            param_hint="--out",
        )
    try:
        datasets = _load(data, **kw)
        policy = DataPolicy(
            gaps=gaps,  # type: ignore[arg-type]  # Click's Choice has checked the value
            corrections=corrections,  # type: ignore[arg-type]
            correction_window=correction_window,
            slips="repair" if repair else "keep",
            start=start,
        )
        frames = []
        prepared = []
        for d in datasets:
            daily = apply_policy(d, policy)
            prepared.append(daily)
            frames.append(
                daily.table.with_columns(
                    pl.lit(d.source).alias("source"),
                    pl.lit(d.reported_by).alias("reported_by"),
                )
            )
        table = pl.concat(frames).with_columns(pl.col("flags").list.join("|"))
        target = out
        provenance = {
            "tool": f"attrition {__version__}",
            "caveat": [CAVEAT.format(reporter=r) for r in _reporters(datasets)],
            "policy": policy.to_dict(),
            "sources": [d.provenance() for d in prepared],
        }
        side = target + ".provenance.json"
        # Check both targets before writing either, so a refusal never leaves half a result.
        for path in (target, side):
            if Path(path).is_dir():
                raise OutputExistsError(f"{path}: is a directory; expected a file name")
            if Path(path).exists() and not force:
                raise OutputExistsError.at(path)
        if out.lower().endswith(".parquet"):
            atomic_write(target, lambda p: table.write_parquet(p), force=force)
        else:
            atomic_write(target, table.write_csv(), force=force)
        atomic_write(side, json.dumps(provenance, indent=2) + "\n", force=force)
    except AttritionError as exc:
        _fail(exc)
    click.echo(f"wrote {table.height} rows to {target} (provenance in {side})", err=True)


# --------------------------------------------------------------------------- fit


@cli.command("fit")
@click.argument("data", nargs=-1, required=True)
@input_options
@click.option(
    "--model",
    "model",
    default="local-trend",
    show_default=True,
    help="Model kind (trend-nb, local-trend, changepoint, bootstrap, naive) or 'all' "
    "to compare them on the same window.",
)
@click.option(
    "--window",
    type=click.IntRange(min=14),
    default=180,
    show_default=True,
    help="Fit on the last N days.",
)
@click.option("--whole-history", is_flag=True, help="Fit on the whole history (ignore --window).")
@click.option(
    "--as-of",
    callback=_date,
    default=None,
    help="Use only figures reported up to this date (YYYY-MM-DD).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def fit_cmd(
    data: tuple[str, ...],
    model: str,
    window: int,
    whole_history: bool,
    as_of: date | None,
    fmt: str,
    **kw: Any,
) -> None:
    """Fit a model to one reported series and print estimates and diagnostics.

    DATA as for `check`; --series names the one series to fit (default: personnel).
    """
    from .models import MODEL_KINDS, ModelSpec, compare, daily_series, describe, fit

    if model != "all" and model not in MODEL_KINDS:
        raise click.BadParameter(
            f"{model!r} is not a model; expected one of {', '.join(MODEL_KINDS)} or 'all'",
            param_hint="--model",
        )
    names = kw.pop("series") or ["personnel"]
    if len(names) != 1:
        raise click.BadParameter("name exactly one series to fit", param_hint="--series")
    win = None if whole_history else window
    try:
        datasets = _load(data, series=names, **kw)
        if len(datasets) != 1:
            raise click.BadParameter("fit one source at a time", param_hint="DATA")
        series = daily_series(datasets[0], names[0], as_of=as_of)
        if model == "all":
            rows = compare(series, window=win)
        else:
            spec = ModelSpec(model, window=win)  # type: ignore[arg-type]
            rows = [{"kind": model, "model": fit(spec, series), "pinball": None, "error": None}]
    except AttritionError as exc:
        _fail(exc)
    docs = [dict(describe(r["model"]), pinball=r["pinball"]) for r in rows if r["model"]]
    refused = {r["kind"]: r["error"] for r in rows if r["model"] is None}
    caveat = CAVEAT.format(reporter=series.reported_by)
    if fmt == "json":
        click.echo(json.dumps({"caveat": caveat, "fits": docs, "refused": refused}, indent=2))
        return
    click.echo(f"{series.name} ({series.source}), as reported by {series.reported_by}")
    click.echo(caveat)
    for d in docs:
        click.echo("")
        click.echo(_render_fit(d))
    for kind, why in refused.items():
        click.echo(f"\nmodel {kind}: not fitted ({why})")
    if len(docs) > 1:
        click.echo("")
        click.echo(_render_comparison(docs))


def _render_fit(d: dict[str, Any]) -> str:
    m = d["model"]
    opts = ", ".join(f"{k}={v}" for k, v in m["options"].items())
    lines = [
        f"model {m['kind']} ({opts or 'no options'}), window {d['window_start']} to "
        f"{d['origin']} ({d['n_obs']} days)",
        f"  {'parameter':<22}{'estimate':>14}{'std. error':>14}",
    ]
    for name, value in d["params"].items():
        se = d["stderr"].get(name)
        lines.append(f"  {name:<22}{_g(value):>14}{_g(se):>14}")
    lv, gr = d["level"], d["growth_30d"]
    lines.append(
        f"  implied daily level over {d['level_dates']}: {_g(lv['median'])} "
        f"(95% interval {_g(lv['lo95'])} to {_g(lv['hi95'])})"
    )
    if gr is None:
        lines.append(f"  growth over 30 days: {d['growth_note']}")
    else:
        lines.append(
            f"  growth over 30 days: x{gr['median']:.3f} (95% interval x{gr['lo95']:.3f} to "
            f"x{gr['hi95']:.3f})"
        )
    dg = d["diagnostics"]
    lines.append(
        "  diagnostics: dispersion {} (about 1 if the noise model fits), residual "
        "autocorrelation lag 1 {}, lag 7 {}".format(
            _g(dg.get("dispersion")), _g(dg.get("acf1")), _g(dg.get("acf7"))
        )
    )
    obs = d["observation"]
    lines.append(
        f"  observation model: {obs['family']}, reported in multiples of "
        f"{obs['granularity']}; log-likelihood {_g(d['loglik'])}, AIC {_g(d['aic'])}"
    )
    return "\n".join(lines)


def _render_comparison(docs: list[dict[str, Any]]) -> str:
    lines = [
        "comparison on the same window (lower is better):",
        f"  {'model':<14}{'AIC':>14}{'pinball':>12}   note",
    ]
    for d in sorted(docs, key=lambda d: d["pinball"]):
        kind = d["model"]["kind"]
        note = {
            "local-trend": "AIC on the log scale: not comparable with count models",
            "bootstrap": "no likelihood",
            "naive": "no likelihood",
            "analog": "no likelihood; in-sample pinball of its last 56 days",
        }.get(kind, "")
        lines.append(f"  {kind:<14}{_g(d['aic']):>14}{d['pinball']:>12.2f}   {note}")
    lines.append("  pinball: in-sample mean pinball loss over the 23 hub quantile levels")
    return "\n".join(lines)


def _g(x: float | None) -> str:
    if x is None:
        return "-"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.4g}"


# --------------------------------------------------------------------------- fetch / sources

# --------------------------------------------------------------------------- run


def _show_progress(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty()


@cli.command("run")
@click.argument("files", nargs=-1, required=True, metavar="FILE_OR_DIR...")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="outputs",
    show_default=True,
    help="Directory that receives one run directory per scenario file (named after run.name).",
)
@click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes (each runs one series of one file at a time).")  # fmt: skip
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="Override every file's run.seed.")  # fmt: skip
@click.option("--paths", type=click.IntRange(min=1), default=None,
              help="Override every file's run.paths (simulated paths).")  # fmt: skip
@click.option("--samples", type=click.IntRange(min=0), default=0, show_default=True,
              help="Also write N joint trajectories per scenario and series.")  # fmt: skip
@click.option("--charts/--no-charts", default=None,
              help="Override the files' outputs.charts (fan chart PNG per series).")  # fmt: skip
@click.option("--force", is_flag=True, help="Replace existing run directories.")
@click.option("--resume", is_flag=True,
              help="Skip files whose run directory is complete (same file, seed, paths); "
              "redo the others.")  # fmt: skip
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local",
              show_default=True, help="Local worker processes, or a Dask cluster.")  # fmt: skip
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Dask scheduler address (e.g. tcp://127.0.0.1:8786); default: a local "
              "cluster of --jobs workers.")  # fmt: skip
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary table.")
@click.option("--cache", type=click.Path(file_okay=False), default=None,
              help="Cache directory of fetched sources (default: $ATTRITION_CACHE).")  # fmt: skip
def run_cmd(
    files: tuple[str, ...],
    out: str,
    jobs: int,
    seed: int | None,
    paths: int | None,
    samples: int,
    charts: bool | None,
    force: bool,
    resume: bool,
    executor: str,
    scheduler: str | None,
    quiet: bool,
    cache: str | None,
) -> None:
    """Run scenario files (or directories of them) and write one run directory each.

    Every file is validated before any work. A run directory holds projections.csv,
    contrasts.csv, summary.csv, fit.csv, [samples.parquet], chart-<series>.png, scenario.toml
    and manifest.json; it is validated before it is moved into place. A failing file is
    reported and the others still run; the exit code is then non-zero (2: invalid file or
    existing output, 1: data or model failure).
    """
    from .batch import run_batch

    bar: Any = None

    def on_total(days: int) -> None:
        nonlocal bar
        if _show_progress(quiet) and days:
            bar = click.progressbar(length=days, label="simulating", file=sys.stderr)
            bar.__enter__()

    def progress(days: int) -> None:
        if bar is not None:
            bar.update(days)

    try:
        outcomes = run_batch(
            files, out=out, jobs=jobs, seed=seed, paths=paths, samples=samples, force=force,
            resume=resume, charts=charts, cache=cache, executor=executor, scheduler=scheduler,
            progress=progress, on_total=on_total,
        )  # fmt: skip
    except AttritionError as exc:
        raise click.UsageError(str(exc)) from None
    except KeyboardInterrupt:
        # Run directories are renamed into place only when complete: nothing half-written.
        click.echo("\ninterrupted: runs not yet written were abandoned", err=True)
        sys.exit(130)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    for o in outcomes:
        if o.error is not None:
            click.echo(f"Error: {o.error}", err=True)
        elif o.skipped:
            if not quiet:
                click.echo(f"{o.run_dir}: already complete (--resume); left as it is")
        elif not quiet:
            assert o.headline is not None and o.reported_by is not None
            if o.resumed_tasks:
                click.echo(f"{o.run_dir}: {o.resumed_tasks} tasks kept from an interrupted run")
            click.echo(_render_headline(o.run_dir, o.headline, o.reported_by, o.seconds))
    code = max((o.exit_code for o in outcomes), default=0)
    if code:
        failed = sum(o.error is not None for o in outcomes)
        click.echo(f"{failed} of {len(outcomes)} scenario files failed", err=True)
        sys.exit(code)


def _render_headline(run_dir: Path | None, frame: pl.DataFrame, reporter: str, secs: float) -> str:
    from .outputs.rundir import projection_caveat

    lines = [f"{run_dir}: written and validated in {secs:.1f} s", projection_caveat(reporter)]
    for row in frame.iter_rows(named=True):
        parts = [
            f"  {row['series']} / {row['scenario']}: total to {row['through']} "
            f"{_g(row['total_median'])} (80%: {_g(row['total_lo80'])} to {_g(row['total_hi80'])})"
        ]
        for key, value in row.items():
            if key.startswith("P(cum >= ") and value is not None:
                level = key.removeprefix("P(cum >= ").removesuffix(")")
                when = row[f"median date cum >= {level}"]
                text = f"P(total >= {level}) {value:.0%}"
                if when is not None:
                    text += f", median date {when}"
                parts.append(text)
        if row["P(new daily record)"] is not None:
            parts.append(f"P(new daily record) {row['P(new daily record)']:.0%}")
        lines.append("; ".join(parts))
    return "\n".join(lines)


@cli.command("explain")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Override run.seed.")
@click.option("--cache", type=click.Path(file_okay=False), default=None,
              help="Cache directory of fetched sources.")  # fmt: skip
def explain_cmd(file: str, seed: int | None, cache: str | None) -> None:
    """Print the fitted model(s) and each scenario's median intensity per month.

    Nothing is simulated beyond the intensity paths: this is the check before a run that the
    file says what you meant (windows, factors, dates).
    """
    from .models import describe
    from .pipeline import EXPLAIN_PATHS, explain, prepare

    try:
        prepared = prepare(Path(file), seed=seed, cache=cache)
        models, table = explain(prepared)
    except AttritionError as exc:
        if isinstance(exc, ScenarioError):
            raise click.UsageError(str(exc)) from None
        _fail(exc)
    sf = prepared.scenario_file
    reporter = prepared.data.reported_by
    click.echo(f"{sf.run.name} ({file}): figures as reported by {reporter}")
    click.echo(CAVEAT.format(reporter=reporter))
    for model in models:
        click.echo("")
        click.echo(f"series {model.series}")
        click.echo(_render_fit(describe(model)))
        part = table.filter(pl.col("series") == model.series)
        names = sorted({s.name for s in sf.scenarios})
        wide = part.pivot(on="scenario", index=["month", "days"], values="median_daily")
        click.echo(
            f"  median expected daily figure per month ({EXPLAIN_PATHS} intensity paths; "
            "reference marked *)"
        )
        header = "".join(f"{n + ('*' if n == sf.reference.name else ''):>16}" for n in names)
        click.echo(f"  {'month':<9}{'days':>5}{header}")
        for row in wide.iter_rows(named=True):
            cells = "".join(f"{_g(row[n]):>16}" for n in names)
            click.echo(f"  {row['month']:<9}{row['days']:>5}{cells}")


@cli.command("validate")
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(), metavar="RUN_DIR...")
def validate_cmd(run_dirs: tuple[str, ...]) -> None:
    """Check run directories as the scenario hubs check submissions (exit 1 if any fails)."""
    from .outputs.rundir import validate_run

    bad = 0
    for d in run_dirs:
        problems = validate_run(d)
        if problems:
            bad += 1
            click.echo(f"{d}: INVALID ({len(problems)} problems)")
            for p in problems:
                click.echo(f"  {p}")
        else:
            click.echo(f"{d}: valid")
    if bad:
        sys.exit(1)


# --------------------------------------------------------------------------- backtest


def _kinds(_ctx: click.Context, _param: click.Parameter, value: str | None) -> list[str] | None:
    from .models import MODEL_KINDS

    kinds = comma_list(value, "models")
    for k in kinds or ():
        if k not in MODEL_KINDS:
            raise click.BadParameter(
                f"{k!r} is not a model; expected some of {', '.join(MODEL_KINDS)}"
            )
    return kinds


@cli.command("backtest")
@click.argument("inputs", nargs=-1, required=True, metavar="SCENARIO.toml | DATA...")
@click.option("--series", "series", callback=_series, default=None,
              help="Series to backtest (default: the file's, or personnel).")  # fmt: skip
@click.option("--models", callback=_kinds, default=None,
              help="Models to compare, e.g. analog,local-trend (default: the file's model, "
              "or analog). naive and bootstrap always run as baselines.")  # fmt: skip
@click.option("--window", type=click.IntRange(min=14), default=None,
              help="Fit window in days (default: the file's, or 180).")  # fmt: skip
@click.option("--every", type=click.IntRange(min=1), default=28, show_default=True,
              help="Days between origins.")  # fmt: skip
@click.option("--horizon", type=click.IntRange(min=7), default=90, show_default=True,
              help="Days projected from each origin.")  # fmt: skip
@click.option("--start", type=str, callback=_date, default=None,
              help="First origin (default: two years before the last report).")  # fmt: skip
@click.option("--end", type=str, callback=_date, default=None,
              help="Last origin (default: the last report minus the horizon).")  # fmt: skip
@click.option("--train-start", type=str, callback=_date, default=None,
              help="Ignore figures before this date (the data policy's start).")  # fmt: skip
@click.option("--paths", type=click.IntRange(min=100), default=2000, show_default=True)
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="Seed (default: the file's run.seed, or 0).")  # fmt: skip
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Output directory (default: outputs/<name>-backtest).")  # fmt: skip
@click.option("--charts/--no-charts", default=True, show_default=True)
@click.option("--force", is_flag=True, help="Replace an existing output directory.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary table.")
@click.option("--cache", type=click.Path(file_okay=False), default=None,
              help="Cache directory of fetched sources.")  # fmt: skip
def backtest_cmd(
    inputs: tuple[str, ...],
    series: list[str] | None,
    models: list[str] | None,
    window: int | None,
    every: int,
    horizon: int,
    start: date | None,
    end: date | None,
    train_start: date | None,
    paths: int,
    seed: int | None,
    out: str | None,
    charts: bool,
    force: bool,
    quiet: bool,
    cache: str | None,
) -> None:
    """Rolling-origin backtest: fit on the figures reported up to each origin, project,
    and score against what was reported afterwards.

    Give a scenario file (its data, series, data policy and model) or data files / source
    names with --series and --models. Writes scores.csv, summary.csv, pit.csv, reliability.png,
    bands-<series>.png and manifest.json, and prints coverage and skill per series.
    """
    from dataclasses import replace as dc_replace

    from .data import load
    from .evaluation.backtest import backtest, default_origins
    from .models import ModelSpec, daily_series
    from .outputs.backtestdir import render_summary, write_backtest
    from .pipeline import data_ref
    from .scenarios import load_scenario_file

    try:
        if len(inputs) == 1 and inputs[0].endswith(".toml"):
            sf = load_scenario_file(inputs[0])
            data = load(data_ref(sf), series=list(sf.data.series),
                        reported_by=sf.data.reported_by, cache=cache)  # fmt: skip
            names = list(series or sf.data.series)
            policy = sf.data.policy
            base_spec = sf.model if window is None else dc_replace(sf.model, window=window)
            kinds = models or [sf.model.kind]
            name = f"{sf.run.name}-backtest"
            seed = sf.run.seed if seed is None else seed
        else:
            names = series or ["personnel"]
            data = load(*inputs, series=names, cache=cache)
            policy = None
            base_spec = ModelSpec("analog", window=window or 180)
            kinds = models or ["analog"]
            name = f"{data.source}-backtest"
            seed = 0 if seed is None else seed
        if train_start is not None:
            from .data.policy import DataPolicy

            p0 = policy or DataPolicy()
            policy = dc_replace(p0, start=train_start)
        specs: list[ModelSpec] = []
        for k in [*kinds, "naive", "bootstrap"]:
            if k in [s.kind for s in specs]:
                continue
            opts = base_spec.options if k == base_spec.kind else {}
            specs.append(ModelSpec(k, window=base_spec.window, options=opts))  # type: ignore[arg-type]
        ends = {n: daily_series(data, n, policy=policy).end for n in names}
        origins = sorted(
            {
                d
                for n in names
                for d in default_origins(
                    ends[n], horizon=horizon, every=every, start=start, last=end
                )  # fmt: skip
            }
        )
        if not origins:
            raise click.BadParameter("no origin between --start and --end leaves a full horizon")
        target = Path(out) if out is not None else Path("outputs") / name
        if target.exists() and not force:
            raise OutputExistsError.at(target)
        bar: Any = None
        if _show_progress(quiet):
            bar = click.progressbar(length=len(origins) * len(names), label="backtesting",
                                    file=sys.stderr)  # fmt: skip
            bar.__enter__()
        try:
            result = backtest(
                data, names, specs, origins=origins, horizon=horizon, n_paths=paths,
                seed=seed, policy=policy, progress=None if bar is None else bar.update,
            )  # fmt: skip
        finally:
            if bar is not None:
                bar.__exit__(None, None, None)
        config = {"inputs": list(inputs), "every": every, "horizon": horizon,
                  "train_start": None if train_start is None else train_start.isoformat(),
                  "models": [s.to_dict() for s in specs]}  # fmt: skip
        write_backtest(result, target, reference_model=kinds[0], force=force, charts=charts,
                       config=config)  # fmt: skip
    except AttritionError as exc:
        if isinstance(exc, ScenarioError):
            raise click.UsageError(str(exc)) from None
        _fail(exc)
    if not quiet:
        from .evaluation.backtest import summarise

        click.echo(f"{target}: {len(result.origins)} origins x {len(names)} series in "
                   f"{result.seconds:.1f} s")  # fmt: skip
        click.echo(render_summary(summarise(result.scores), result.reported_by))
        for f in result.failures:
            click.echo(f"skipped: {f}", err=True)


@cli.command("fetch")
@click.argument("source", required=False)
@click.option(
    "--dest",
    type=click.Path(file_okay=False),
    default=None,
    help="Cache directory (default: $ATTRITION_CACHE or the user cache).",
)
@click.option(
    "--mirror",
    default=None,
    help="Base URL of a mirror holding SOURCE/FILE (default: $ATTRITION_MIRROR or the "
    "upstream repositories).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Seconds to wait for the server.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
def fetch_cmd(
    source: str | None, dest: str | None, mirror: str | None, timeout: float, quiet: bool
) -> None:
    """Download the public compilations (all fetchable sources, or SOURCE) into the cache."""
    from .data.fetching import fetch

    try:
        files = fetch(
            source,
            dest=dest,
            mirror=mirror,
            timeout=timeout,
            progress=not quiet and sys.stderr.isatty(),
        )
    except AttritionError as exc:
        _fail(exc)
    if not quiet:
        for f in files:
            click.echo(
                f"{f.source}: {f.name} ({f.size:,} bytes, sha256 {f.sha256[:12]}…) -> {f.path}"
            )


@cli.command("sources")
@click.option(
    "--cache",
    type=click.Path(file_okay=False),
    default=None,
    help="Cache directory to look in (default: $ATTRITION_CACHE or the user cache).",
)
def sources_cmd(cache: str | None) -> None:
    """List the known sources, who reported their figures and whether they are fetched."""
    from .data.fetching import fetched_files

    for name, src in SOURCES.items():
        if name == "example":
            state = "bundled"
        elif not src.fetchable:
            state = "read from a file you provide"
        else:
            try:
                got = fetched_files(name, dest=cache)
                state = f"fetched {min(f.retrieved_at for f in got)}"
            except AttritionError:
                state = "not fetched (attrition fetch " + name + ")"
        click.echo(
            f"{name:<13} {state}\n    {src.description}\n    reported by "
            f"{src.reported_by}; licence {src.licence}"
        )


from .cli_compare import compare_cmd  # noqa: E402 - a command defined in its own module

cli.add_command(compare_cmd)


def main() -> None:
    """Entry point of the `attrition` console script."""
    cli(prog_name="attrition")
