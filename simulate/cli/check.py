"""``attrition check DATA...``: what is wrong with reported figures (exit status 1 if unusable)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import date
from typing import Any

import click

from ..about import CAVEAT
from ..data import FINDING_FIELDS, Finding, ReportedData, check, findings_frame, usable
from ..outputs.atomic import atomic_write
from .exits import Command
from .options import input_options, load_inputs, shown

__all__ = ["check_cmd"]


@click.command("check", cls=Command)
@click.argument("data", nargs=-1, required=True)
@input_options
@shown("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
       help="Output format.")  # fmt: skip
@click.option(
    "--out",
    "-o",
    "output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the findings to this file (atomically) instead of standard output.",
)
@click.option("--force", is_flag=True, help="Replace an existing --out file.")
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
    datasets = load_inputs(data, **kw)
    findings = check(datasets)
    if fmt == "json":
        text = json.dumps(_document(datasets, findings), indent=2) + "\n"
    elif fmt == "csv":
        text = findings_frame(findings).select(FINDING_FIELDS).write_csv()
    else:
        text = _render_table(datasets, findings, group=not show_all)
    if output:
        atomic_write(output, text, force=force)
        click.echo(f"wrote {len(findings)} findings to {output}", err=True)
    else:
        click.echo(text, nl=False)
    if not usable(findings):
        sys.exit(1)


def _document(datasets: Sequence[ReportedData], findings: Sequence[Finding]) -> dict[str, Any]:
    return {
        "sources": [d.provenance() for d in datasets],
        "caveat": [
            CAVEAT.format(reporter=r) for r in dict.fromkeys(d.reported_by for d in datasets)
        ],
        "usable": usable(findings),
        "findings": [f.to_dict() for f in findings],
    }


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
