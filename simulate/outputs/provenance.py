"""The manifest every output carries: one builder for runs, backtests and series files.

Every result the tool writes has a JSON record beside it saying what made it and how to make
it again. :func:`manifest` builds that record with one layout; each output adds its own
sections. The keys, in this order:

``tool``
    Which command wrote the output (``"attrition"``, ``"attrition backtest"``, ...).
``caveat``, ``reported_by``
    Whose figures these are and what the output is not (:func:`projection_caveat`).
*the output's own sections* (``about``)
    What was made, e.g. a run's ``run`` and ``scenario_file`` sections.
``seed``
    The resolved seed, unless ``about`` already records it (top level or in ``run``).
``data``
    The data the output was made from: source, reporter, every input file with its SHA-256,
    and the data policy (:func:`data_block`); ``null`` when the writer was not told.
*the output's further sections* (``details``)
``outputs``
    Every file written, with its SHA-256 and size (:func:`describe_files`) and row counts.
``versions``
    Python, attrition and the numerical libraries.
``platform``
    :func:`simulate.fingerprint.numerical_platform`: where the numbers were computed.
``timings``
    Seconds per step, and ``written_at`` (UTC), the creation time.

``versions`` and ``timings`` change from one run of the same inputs to the next; ``attrition
compare`` ignores them.

Examples
--------
>>> doc = manifest("attrition example", reported_by="nobody", seed=7, data=None,
...                about={"paths": 100}, outputs={})
>>> list(doc)[:6]
['tool', 'caveat', 'reported_by', 'paths', 'seed', 'data']
>>> list(doc)[6:]
['outputs', 'versions', 'platform', 'timings']
"""

from __future__ import annotations

import platform as _platform
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from ..about import __version__
from ..data.policy import DataPolicy
from ..data.reported import ReportedData
from ..fingerprint import file_sha256, numerical_platform

__all__ = ["manifest", "data_block", "describe_files", "projection_caveat", "versions"]

#: The libraries whose versions every manifest records (beside Python and attrition).
LIBRARIES = ("numpy", "scipy", "polars", "matplotlib", "click")


def projection_caveat(reporter: str) -> str:
    """The caveat every run output carries."""
    return (
        f"These are projections of the figures as reported by {reporter}, not estimates of "
        "actual losses."
    )


def versions() -> dict[str, str]:
    """Python, attrition and :data:`LIBRARIES` versions (``"not installed"`` when absent)."""
    out = {"python": _platform.python_version(), "attrition": __version__}
    for dist in LIBRARIES:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:  # pragma: no cover - optional
            out[dist] = "not installed"
    return out


def data_block(data: ReportedData, policy: DataPolicy | None) -> dict[str, Any]:
    """Where the figures came from: source, reporter, input files with SHA-256, data policy.

    ``read_at`` is left out of each file record: when a file was read does not change what
    was made from it. `policy` ``None`` records the default :class:`DataPolicy`, which is
    what reading without a policy applies.
    """
    p = policy or DataPolicy()
    return {
        "source": data.source,
        "reported_by": data.reported_by,
        "files": [{k: v for k, v in f.to_dict().items() if k != "read_at"} for f in data.files],
        "policy": {
            "gaps": p.gaps,
            "corrections": p.corrections,
            "correction_window": p.correction_window,
            "slips": p.slips,
            "start": None if p.start is None else p.start.isoformat(),
        },
    }


def describe_files(
    directory: Path, files: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """`files` (name -> what the writer knows, e.g. rows), each with its ``sha256`` and
    ``bytes`` added as found in `directory`, in the order given."""
    return {
        name: {
            **info,
            "sha256": file_sha256(directory / name),
            "bytes": (directory / name).stat().st_size,
        }
        for name, info in files.items()
    }


def _recorded_seed(about: Mapping[str, Any]) -> tuple[bool, object]:
    for section in (about, about.get("run")):
        if isinstance(section, Mapping) and "seed" in section:
            return True, section["seed"]
    return False, None


def manifest(
    tool: str,
    *,
    reported_by: str,
    seed: int | None,
    data: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
    about: Mapping[str, Any],
    details: Mapping[str, Any] | None = None,
    outputs: Mapping[str, Mapping[str, Any]],
    timings: Mapping[str, float] | None = None,
    caveat: str | None = None,
) -> dict[str, Any]:
    """The manifest of one output: the common sections around the output's own.

    Parameters
    ----------
    tool
        The command that wrote the output, e.g. ``"attrition backtest"``.
    reported_by
        Who reported the figures.
    seed
        The resolved seed (``None`` for an output without randomness). Recorded as ``seed``
        after `about`, unless `about` records it already (then the two must agree).
    data
        :func:`data_block` of the figures used (a list of them for several sources), or
        ``None`` when unknown.
    about
        The output's own sections that say what was made, in order.
    details
        The output's further sections, after ``data``.
    outputs
        The files written (see :func:`describe_files`).
    timings
        Seconds per step; rounded to milliseconds, ``written_at`` is added.
    caveat
        Default: :func:`projection_caveat` of `reported_by`.

    Returns
    -------
    dict
        JSON-ready; the layout is described in the module docstring.

    Raises
    ------
    ValueError
        `about` records a seed other than `seed`.
    """
    doc: dict[str, Any] = {
        "tool": tool,
        "caveat": projection_caveat(reported_by) if caveat is None else caveat,
        "reported_by": reported_by,
        **about,
    }
    recorded, value = _recorded_seed(about)
    if not recorded:
        doc["seed"] = seed
    elif value != seed:
        raise ValueError(f"about: records seed {value!r}; the seed given is {seed!r}")
    doc["data"] = data
    doc.update(details or {})
    doc["outputs"] = dict(outputs)
    doc["versions"] = versions()
    # Byte-identical results are promised on the same platform; across platforms
    # `attrition compare` applies the cross-platform tolerance (simulate.compare.tolerance).
    doc["platform"] = numerical_platform()
    doc["timings"] = {
        **{k: round(v, 3) for k, v in (timings or {}).items()},
        "written_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return doc
