"""Kept partial results: every finished task of a batch is kept in a hidden folder beside its
run directory (``.<run name>.partial/``) until the run directory is written, so that an
interrupted run can be resumed task by task; and the check that a run directory is complete.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

from ..about import __version__
from ..fingerprint import file_sha256
from ..outputs.atomic import atomic_write
from ..outputs.validation import MANIFEST, validate_run
from ..pipeline import Prepared, SeriesResult
from ..scenarios import ScenarioFile
from .executors import Task

__all__ = ["partial_dir", "task_key", "save", "load", "complete"]


def partial_dir(out: Path, run_name: str) -> Path:
    """The hidden folder where the finished tasks of run `run_name` are kept."""
    return out / f".{run_name}.partial"


def task_key(p: Prepared, t: Task, samples: int) -> str:
    """What a task's result depends on, hashed: file, seed, paths, samples, series, scenarios."""
    doc = [__version__, p.scenario_sha256, p.seed, p.paths, samples, p.series[t.series].name,
           list(t.scenarios), [f.sha256 for f in p.data.files]]  # fmt: skip
    return hashlib.sha256(json.dumps(doc).encode()).hexdigest()[:32]


def save(path: Path, result: SeriesResult) -> None:
    """Keep a task's result at `path` (written atomically)."""
    atomic_write(path, pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL), force=True)


def load(path: Path) -> SeriesResult | None:
    """A kept task result (our own file, written atomically); None when absent or unreadable."""
    try:
        with path.open("rb") as fh:
            got = pickle.load(fh)  # noqa: S301 - written by this tool beside the run directory
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None
    return got if isinstance(got, SeriesResult) else None


def complete(
    target: Path, path: Path, sf: ScenarioFile, seed: int | None, paths: int | None
) -> bool:
    """Whether `target` is a valid run of this very scenario file, seed and paths."""
    if not (target / MANIFEST).is_file() or validate_run(target):
        return False
    m = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
    return bool(
        m["scenario_file"]["sha256"] == file_sha256(path)
        and m["run"]["seed"] == (sf.run.seed if seed is None else seed)
        and m["run"]["paths"] == (sf.run.paths if paths is None else paths)
    )
