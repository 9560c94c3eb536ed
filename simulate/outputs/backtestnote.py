"""The report's sentence on calibration: how often a backtest's 80% bands held the reported 30-
and 90-day totals, for the run's model and series.

A backtest directory (``attrition backtest``) records its models' full configuration in its
manifest and the coverage per series, model and target group in ``summary.csv``. The run's
model matches a backtest model when kind, window and options are the same (``auto`` runs match
a backtest's ``auto``, whose manifest leaves out ``drift``, which auto chooses itself).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import polars as pl

from ..errors import ScenarioError
from ..fingerprint import file_sha256
from ..scenarios.config import ScenarioFile
from .validation import BACKTEST_TOOL, MANIFEST

__all__ = [
    "backtest_record",
    "backtest_sentence",
    "check_backtest_dir",
    "model_entry",
    "resolve_backtest",
]


def check_backtest_dir(path: str | os.PathLike[str], source: str, where: str) -> Path:
    """`path` if it is a complete backtest directory; else :class:`ScenarioError` naming the
    scenario file `source` and `where` (the option or key that gave the path)."""
    root = Path(path)

    def fail(what: str) -> ScenarioError:
        return ScenarioError(source, where, f"{root} {what}; expected a directory written by "
                             "attrition backtest")  # fmt: skip

    try:
        doc = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise fail("has no readable manifest.json") from None
    if not isinstance(doc, dict) or doc.get("tool") != BACKTEST_TOOL:
        raise fail("is not a backtest directory (its manifest.json is another tool's)")
    if not (root / "summary.csv").is_file():
        raise fail("has no summary.csv")
    return root


def resolve_backtest(sf: ScenarioFile, given: str | os.PathLike[str] | None) -> Path | None:
    """The backtest directory of a run: `given` (``--backtest``), else the file's
    ``outputs.backtest`` taken relative to the scenario file; checked; None when neither."""
    if given is not None:
        return check_backtest_dir(given, sf.source, "--backtest")
    if sf.outputs.backtest is None:
        return None
    path = Path(sf.outputs.backtest)
    if not path.is_absolute():
        path = Path(sf.source).parent / path
    return check_backtest_dir(path, sf.source, "outputs.backtest")


def backtest_record(root: Path | None) -> dict[str, str] | None:
    """How a run's manifest records the backtest its report cites (``run.backtest``): the
    directory and its ``summary.csv``'s SHA-256, so that ``--resume`` sees a change."""
    if root is None:
        return None
    return {"path": str(root), "summary_sha256": file_sha256(root / "summary.csv")}


def model_entry(sf: ScenarioFile) -> dict[str, Any]:
    """The run's model as a backtest manifest records it (``config.models[]``)."""
    entry = sf.model.to_dict()
    if sf.auto_model:
        options = {k: v for k, v in entry["options"].items() if k != "drift"}
        entry = {**entry, "kind": "auto", "options": options}
    return entry


def backtest_sentence(root: Path, series: str, sf: ScenarioFile) -> str:
    """One sentence: the 80% coverage of the reported 30- and 90-day totals in the backtest at
    `root` for `series` and the run's model; or why there is none."""
    doc = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    want = model_entry(sf)
    models = doc.get("config", {}).get("models", [])
    same = [m for m in models if m == want]
    if not same:
        kinds = [m for m in models if m.get("kind") == want["kind"]]
        detail = "with other options" if kinds else "at all"
        return (
            f"The backtest at {root} did not test this run's model ({want['kind']}, window "
            f"{want['window']}, options {want['options']}) {detail}, so it says nothing about "
            "these bands."
        )
    label = str(same[0]["kind"])  # the model column of summary.csv
    summary = pl.read_csv(root / "summary.csv", null_values="NA")
    rows = summary.filter(
        (pl.col("series") == series)
        & (pl.col("model") == label)
        & pl.col("group").is_in(["total30", "total90"])
    )
    if rows.height < 2:
        return f"The backtest at {root} has no forecasts of {series} with {label}."
    got = {r["group"]: r for r in rows.iter_rows(named=True)}
    origins = doc.get("origins", [])
    span = "its origins"
    if origins:
        span = f"{len(origins)} origins from {origins[0]} to {origins[-1]}"
    parts = []
    for group, words in (("total30", "30-day"), ("total90", "90-day")):
        r = got[group]
        held = round(r["cov80"] * r["n"])
        parts.append(f"the reported {words} totals {held} times in {r['n']} ({r['cov80']:.0%})")
    return (
        f"In a backtest of the same model on the {series} figures ({span}, "
        f"{doc.get('horizon')} days ahead; {root}), its 80% bands held {parts[0]} and "
        f"{parts[1]}; a calibrated model holds them about 80% of the time."
    )
