"""``report.html``: one page an editor can open — the answer, the charts, the caveat, the data
checks and the evidence of calibration.

The page is self-contained: its CSS is inline, the charts are PNGs embedded as ``data:`` URIs,
it has no scripts and refers to nothing outside itself (no fonts, styles or images loaded from
anywhere), so it reads the same offline, mailed, or opened from a shared drive years later. It
holds no timings, so the same run gives the same bytes.

Order: the caveat (once, first and prominent); how to read the ranges; per series the last
report used, the fan chart, a paragraph per scenario (the reference first, then the others by
name; the sentences of :mod:`simulate.outputs.wording`, the same as the terminal's), how well
the model's 80% bands held in a backtest when one is given, and what the data checks found;
then provenance (sources and their SHA-256, scenario file, seed, paths, models, versions).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from ..data.checks import check
from ..data.findings import Finding
from ..pipeline import RunResult, SeriesResult
from ..summaries import headline
from .backtestnote import backtest_sentence
from .chartdata import scenario_order
from .provenance import data_block, projection_caveat, versions
from .wording import RANGE_NOTE, scenario_sentences, series_sentence

__all__ = ["report_html", "data_check_sentence"]

_CSS = """
body { font-family: "DejaVu Sans", Verdana, sans-serif; max-width: 62rem; margin: 1.5rem auto;
       padding: 0 1rem; color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.5rem; margin-bottom: .3rem; }
h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ccc; }
.caveat { background: #fff4d6; border: 2px solid #c98a00; padding: .8rem 1rem; font-size: 1.1rem;
          font-weight: bold; margin: 1rem 0; }
.lead { font-size: 1.05rem; }
.scenario { margin: .6rem 0; }
.reference { border-left: 4px solid #1f77b4; padding-left: .6rem; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption, .small { font-size: .85rem; color: #444; }
table { border-collapse: collapse; font-size: .85rem; }
td, th { border: 1px solid #ccc; padding: .2rem .5rem; text-align: left; vertical-align: top; }
code { font-size: .85rem; word-break: break-all; }
"""

#: Finding kinds summarised, with their words (singular, plural).
_CHECKED = (
    ("gap", "gap in the reports", "gaps in the reports"),
    ("correction", "correction (the total went down)", "corrections (the total went down)"),
    ("official_correction", "official correction", "official corrections"),
    ("slip", "likely transcription slip", "likely transcription slips"),
    ("duplicate", "duplicated date", "duplicated dates"),
    ("zero_run", "run of zero days", "runs of zero days"),
    ("disagreement", "disagreement between compilations", "disagreements between compilations"),
)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def data_check_sentence(
    result: RunResult, series: str, findings: Sequence[Finding] | None = None
) -> str:
    """What ``attrition check`` finds in the run's figures of `series` up to the last report
    the model used (`findings`: those of :func:`simulate.data.check` on the run's data, when
    already at hand), in one sentence."""
    if findings is None:
        findings = check(result.prepared.data)
    r = next(r for r in result.results if r.series.name == series)
    origin = r.model.origin.isoformat()
    # what a look-back's model never saw is not what its data checks are about
    found = [f for f in findings if f.series == series and f.date <= origin]
    parts = []
    for kind, one, many in _CHECKED:
        hits = [f for f in found if f.kind == kind]
        if not hits:
            continue
        text = f"{len(hits)} {one if len(hits) == 1 else many}"
        if kind in ("slip", "correction", "official_correction", "disagreement"):
            dates = ", ".join(f.date for f in hits[:3])
            text += f" ({dates}{', …' if len(hits) > 3 else ''})"
        parts.append(text)
    where = f"the {result.prepared.data.source} figures up to {origin}"
    if not parts:
        return f"Data checks (attrition check) on {where}: nothing to report."
    policy = result.scenario_file.data.policy
    gaps = {"spread": "spread over the missing days", "raise": "refused"}
    kept = {"keep": "kept as reported", "spread": "spread over the days before them",
            "repair": "repaired"}  # fmt: skip
    return (
        f"Data checks (attrition check) on {where}: {'; '.join(parts)}. Before fitting (the "
        f"run's data policy), gaps were {gaps[policy.gaps]}, corrections "
        f"{kept[policy.corrections]} and likely slips {kept[policy.slips]}."
    )


def _cross_source_note(result: RunResult) -> str:
    data = result.prepared.data
    if "," in data.source:
        return ""
    return (
        f"This run reads one compilation ({data.source}), so cross-source disagreements are "
        "not checked here: <code>attrition check petroivaniuk lod-db romansverdan</code> "
        "compares the General Staff compilations date by date."
    )


def _figure(png: bytes, alt: str, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{_e(alt)}">'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def _fan(name: str, png: bytes | None, reporter: str) -> str:
    if png is None:
        return '<p class="small">No chart: this run was made without charts.</p>'
    alt = (
        f"Fan chart of {name}: the reported cumulative total and daily figure, then per "
        f"scenario the median and bands of the projections of the figures as reported by "
        f"{reporter}."
    )
    caption = f"{name}: reported figures, then the projections under each scenario."
    return _figure(png, alt, caption)


def _series_section(
    result: RunResult,
    r: SeriesResult,
    rows: pl.DataFrame,
    png: bytes | None,
    backtest: Path | None,
    swept: bytes | None,
    findings: Sequence[Finding],
) -> list[str]:
    name = r.series.name
    reference = result.scenario_file.reference.name
    by_name = {row["scenario"]: row for row in rows.iter_rows(named=True)}
    first = next(iter(by_name.values()))
    out = [
        f'<h2 id="{_e(name)}">{_e(name)}</h2>',
        f'<p class="lead">{_e(series_sentence(first))}</p>',
    ]
    out.append(_fan(name, png, r.series.reported_by))
    if swept is not None:
        what = f"{name}: how the threshold chances and the total respond to the swept parameter."
        out.append(_figure(swept, what, what))
    for scenario in scenario_order(reference, by_name):
        css = "scenario reference" if scenario == reference else "scenario"
        out.append(f'<p class="{css}">{_e(scenario_sentences(by_name[scenario], reference))}</p>')
    model = r.model.spec.label
    why = (r.choice or {}).get("why")
    out.append(
        f'<p class="small">Model: {_e(model)}'
        + (f" ({_e(why)})" if why else "")
        + f", fitted on {r.model.n_obs} days from {r.model.start} to {r.model.origin}.</p>"
    )
    if backtest is not None:
        out.append(f"<p>{_e(backtest_sentence(backtest, name, result.scenario_file))}</p>")
    out.append(f'<p class="small">{_e(data_check_sentence(result, name, findings))}</p>')
    return out


def _provenance(result: RunResult) -> list[str]:
    p = result.prepared
    sf = p.scenario_file
    block: dict[str, Any] = data_block(p.data, sf.data.policy)
    rows = [
        ("run", f"{sf.run.name}: seed {p.seed}, {p.paths:,} paths"),
        ("scenario file", f"{sf.source} (SHA-256 {p.scenario_sha256})"),
        ("figures", f"{block['source']}, as reported by {block['reported_by']}"),
    ]
    for f in block["files"]:
        where = f["url"] or f["path"]
        got = f", retrieved {f['retrieved_at']}" if f.get("retrieved_at") else ""
        rows.append(("data file", f"{where} (SHA-256 {f['sha256']}{got})"))
    policy = block["policy"] or {}
    rows.append(("data policy", ", ".join(f"{k} {v}" for k, v in policy.items() if v is not None)))
    rows.append(("versions", ", ".join(f"{k} {v}" for k, v in versions().items())))
    body = "".join(f"<tr><th>{_e(k)}</th><td><code>{_e(v)}</code></td></tr>" for k, v in rows)
    return [
        "<h2>Provenance</h2>",
        f"<table>{body}</table>",
        '<p class="small">The run directory also holds the tables (projections, contrasts, '
        "summary, fit), chart-data-&lt;series&gt;.csv for chart tools and manifest.json with "
        "every file's SHA-256.</p>",
    ]


def report_html(
    result: RunResult,
    charts: Mapping[str, bytes] | None = None,
    *,
    backtest: Path | None = None,
    sensitivity: Mapping[str, bytes] | None = None,
) -> str:
    """The run's report as one self-contained HTML page.

    Parameters
    ----------
    result
        What :func:`simulate.pipeline.run` returned.
    charts
        Per series name, its fan chart's PNG bytes (embedded); none for a run without charts.
    backtest
        A backtest directory of the same model and series (``attrition backtest``): its 80%
        band coverage of the reported 30- and 90-day totals is reported per series.
    sensitivity
        Per series name, its sweep's sensitivity chart (embedded under the fan chart).
    """
    charts, sensitivity = charts or {}, sensitivity or {}
    reporter = result.reported_by
    sf = result.scenario_file
    table = headline(result)
    findings = check(result.prepared.data)
    title = f"{sf.run.name}: projections of the figures as reported by {reporter}"
    body = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="caveat">{_e(projection_caveat(reporter))}</p>',
        f"<p>{_e(RANGE_NOTE)} Scenarios are contrasted with the reference, "
        f"{_e(sf.reference.name)}, on the same simulated paths.</p>",
    ]
    for r in sorted(result.results, key=lambda r: r.series.name):
        rows = table.filter(pl.col("series") == r.series.name)
        name = r.series.name
        body += _series_section(
            result, r, rows, charts.get(name), backtest, sensitivity.get(name), findings
        )
    if not backtest:
        body.append(
            '<p class="small">No backtest was given: <code>attrition backtest</code> measures how '
            "often the model's bands held what was reported, and <code>attrition run "
            "--backtest DIR</code> puts the result here.</p>"
        )
    note = _cross_source_note(result)
    if note:
        body.append(f'<p class="small">{note}</p>')
    body += _provenance(result)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
