"""Kept partial results: every finished task of a batch is kept in a hidden folder beside its
run directory (``.<run name>.partial/``) until the run directory is written, so that an
interrupted run can be resumed task by task; and the check that a run directory is complete
and current.

A kept result is two files named after its task key (:func:`task_key`): ``<key>.npz``, the
arrays, read with ``allow_pickle=False``, and ``<key>.json``, the structure and scalars
(:mod:`.keep`) with the key, the SHA-256 of the ``.npz`` and of the structure itself. Output
folders may be shared, so nothing read from them is ever executed: a kept result that does
not match in every respect (another key or format, a hash, a type, a ``.pkl`` file of an
older version) is not used; its task is run again and :func:`unused` counts it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ..about import __version__
from ..outputs.atomic import atomic_write
from ..outputs.backtestnote import backtest_record, resolve_backtest
from ..outputs.validation import MANIFEST, validate_run
from ..pipeline import Prepared, SeriesResult
from ..scenarios import TableFormat
from . import keep
from .executors import Task

__all__ = ["partial_dir", "task_key", "save", "load", "unused", "stale"]

#: Suffixes of the files of kept results (``.pkl``: written by earlier versions; never read).
KEPT_SUFFIXES = (".json", ".npz", ".pkl")


def partial_dir(out: Path, run_name: str) -> Path:
    """The hidden folder where the finished tasks of run `run_name` are kept."""
    return out / f".{run_name}.partial"


def task_key(p: Prepared, t: Task, samples: int) -> str:
    """What a task's result depends on, hashed: tool version and kept format, scenario file,
    seed, paths, samples, series, scenarios and the data files' SHA-256."""
    data = [f.sha256 for f in p.data.files]
    doc = [__version__, keep.FORMAT, p.scenario_sha256, p.seed, p.paths, samples,
           p.series[t.series].name, list(t.scenarios), data]  # fmt: skip
    return hashlib.sha256(json.dumps(doc).encode()).hexdigest()[:32]


def _digest(body: object) -> str:
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


def save(folder: Path, key: str, result: SeriesResult) -> None:
    """Keep a task's result as ``folder/<key>.npz`` and ``folder/<key>.json`` (each written
    atomically; the JSON, which vouches for the arrays, last)."""
    body, arrays = keep.encode(result)
    buf = io.BytesIO()
    np.savez(buf, allow_pickle=False, **arrays)
    blob = buf.getvalue()
    doc = {
        "format": keep.FORMAT,
        "key": key,
        "npz_sha256": hashlib.sha256(blob).hexdigest(),
        "result_sha256": _digest(body),
        "result": body,
    }
    atomic_write(folder / f"{key}.npz", blob, force=True)
    atomic_write(folder / f"{key}.json", json.dumps(doc) + "\n", force=True)


def load(folder: Path, key: str) -> SeriesResult | None:
    """The result kept for task `key`; None when there is none, or when what is there is not
    exactly what :func:`save` wrote for this key (it is then never used)."""
    try:
        doc = json.loads((folder / f"{key}.json").read_bytes())
        blob = (folder / f"{key}.npz").read_bytes()
        if not (
            isinstance(doc, dict)
            and sorted(doc) == ["format", "key", "npz_sha256", "result", "result_sha256"]
            and doc["format"] == keep.FORMAT
            and doc["key"] == key
            and doc["npz_sha256"] == hashlib.sha256(blob).hexdigest()
            and doc["result_sha256"] == _digest(doc["result"])
        ):
            return None
        # The bytes just hashed are the bytes read: no second read of a file that may change.
        with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        return keep.decode(doc["result"], arrays)
    except Exception:  # noqa: BLE001 - anything unreadable or unexpected: run the task again
        return None


def unused(folder: Path, used: Iterable[str]) -> int:
    """Kept results in `folder` other than the keys `used` (another key, a result that did
    not match, a ``.pkl`` file of an older version): how many were not taken back."""
    if not folder.is_dir():
        return 0
    taken = set(used)
    stems = {
        f.name[: -len(f.suffix)]
        for f in folder.iterdir()
        if f.suffix in KEPT_SUFFIXES and not f.name.startswith(".")
    }
    return len(stems - taken)


def stale(
    target: Path,
    p: Prepared,
    samples: int,
    charts: bool | None,
    table_format: TableFormat | None = None,
    backtest: str | os.PathLike[str] | None = None,
) -> str | None:
    """Why run directory `target` must be made again for these inputs: ``None`` when it is a
    valid run of exactly the prepared file (scenario file, seed, paths, samples, data files
    by SHA-256, tool version, charts, table format, the backtest its report cites), ``""`` when
    there is none, else the reason in words (``"data changed since the run was written"``).
    `charts`, `table_format` and `backtest` override the file's ``outputs.charts``,
    ``outputs.format`` and ``outputs.backtest``."""
    if not target.exists():
        return ""
    if not (target / MANIFEST).is_file() or validate_run(target):
        return "the run directory is incomplete or not valid"
    try:
        m: Any = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
        seed, paths, kept = m["run"]["seed"], m["run"]["paths"], m["run"]["samples"]
        data = m["data"]
        files = [f["sha256"] for f in data["files"]] if isinstance(data, dict) else None
        written_by = m["versions"]["attrition"]
        # a manifest without run.format was written before there was a choice: CSV
        had_format = m["run"].get("format", "csv")
        had_charts = any(str(name).endswith(".png") for name in m["outputs"])
        had_backtest = m["run"].get("backtest")
        sha = m["scenario_file"]["sha256"]
    except (ValueError, KeyError, TypeError):
        return "the run directory's manifest.json is not one this version reads"
    want_charts = p.scenario_file.outputs.charts if charts is None else charts
    want_format = p.scenario_file.outputs.format if table_format is None else table_format
    checks = (
        (sha == p.scenario_sha256, "the scenario file changed since the run was written"),
        (seed == p.seed, f"the seed differs (run: {seed}, now: {p.seed})"),
        (paths == p.paths, f"the paths differ (run: {paths}, now: {p.paths})"),
        (kept == samples, f"the samples differ (run: {kept}, now: {samples})"),
        (files == [f.sha256 for f in p.data.files], "data changed since the run was written"),
        (written_by == __version__,
         f"the run was written by attrition {written_by}, this is {__version__}"),
        (had_charts == bool(want_charts),
         f"charts are {'wanted' if want_charts else 'not wanted'} and the run has "
         f"{'none' if not had_charts else 'some'}"),
        (had_format == want_format,
         f"the tables are {had_format} files and {want_format} files are wanted"),
        (had_backtest == backtest_record(resolve_backtest(p.scenario_file, backtest)),
         "the backtest the report cites is another one, or changed"),
    )  # fmt: skip
    return next((why for ok, why in checks if not ok), None)
