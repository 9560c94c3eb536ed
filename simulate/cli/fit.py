"""``attrition fit DATA...``: fit a model to one reported series; estimates and diagnostics."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import click

from ..about import CAVEAT
from .exits import Command
from .formatting import g, render_fit
from .options import DATE, load_inputs, one_series_input_options, shown

__all__ = ["fit_cmd"]


@click.command("fit", cls=Command)
@click.argument("data", nargs=-1, required=True)
@one_series_input_options
@shown(
    "--model",
    "model",
    default="auto",
    help="Model kind: auto (the default of run and backtest: analog, with drift only on "
    "evidence), analog, trend-nb, local-trend, changepoint, bootstrap, naive; or 'all' to "
    "compare the kinds on the same window.",
)
@shown("--window", type=click.IntRange(min=14), default=180, help="Fit on the last N days.")
@click.option("--whole-history", is_flag=True, help="Fit on the whole history (ignore --window).")
@click.option(
    "--as-of",
    type=DATE,
    default=None,
    help="Use only figures reported up to this date (YYYY-MM-DD).",
)
@shown("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
       help="Output format.")  # fmt: skip
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
    from ..evaluation.selection import choose_model
    from ..models import MODEL_KINDS, ModelSpec, compare, daily_series, describe, fit

    if model not in ("auto", "all", *MODEL_KINDS):
        raise click.BadParameter(
            f"{model!r} is not a model; expected auto, one of {', '.join(MODEL_KINDS)} or 'all'",
            param_hint="--model",
        )
    names = kw.pop("series") or ["personnel"]  # one name at most (one_series_input_options)
    win = None if whole_history else window
    datasets = load_inputs(data, series=names, **kw)
    if len(datasets) != 1:
        raise click.BadParameter("fit one source at a time", param_hint="DATA")
    series = daily_series(datasets[0], names[0], as_of=as_of)
    choice: dict[str, Any] | None = None
    if model == "all":
        rows = compare(series, window=win)
    else:
        if model == "auto":
            spec, choice = choose_model(series, spec=ModelSpec("analog", window=win))
        else:
            spec = ModelSpec(model, window=win)  # type: ignore[arg-type]
        rows = [{"kind": spec.kind, "model": fit(spec, series), "pinball": None, "error": None}]
    docs = [dict(describe(r["model"]), pinball=r["pinball"]) for r in rows if r["model"]]
    refused = {r["kind"]: r["error"] for r in rows if r["model"] is None}
    caveat = CAVEAT.format(reporter=series.reported_by)
    if fmt == "json":
        doc = {"caveat": caveat, "fits": docs, "refused": refused}
        click.echo(json.dumps({**doc, "model_choice": choice} if choice else doc, indent=2))
    else:
        header = f"{series.name} ({series.source}), as reported by {series.reported_by}"
        if choice:
            header += f"\nmodel: auto chose {choice['why']}"
        click.echo(_render_fits(header, caveat, docs, refused))


def _render_fits(
    header: str, caveat: str, docs: list[dict[str, Any]], refused: dict[str, str]
) -> str:
    lines = [header, caveat]
    for d in docs:
        lines += ["", render_fit(d)]
    lines += [f"\nmodel {kind}: not fitted ({why})" for kind, why in refused.items()]
    if len(docs) > 1:
        lines += ["", _render_comparison(docs)]
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
            "analog": "no likelihood; one-day-ahead forecasts, refitted each day",
        }.get(kind, "")
        lines.append(f"  {kind:<14}{g(d['aic']):>14}{d['pinball']:>12.2f}   {note}")
    lines.append(
        "  pinball: mean pinball loss over the 23 hub quantile levels on the window's days "
        "(naive, bootstrap, analog: each day against their forecast from the days before it)"
    )
    return "\n".join(lines)
