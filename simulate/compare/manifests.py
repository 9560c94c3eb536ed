"""Manifest diffs: the meaningful fields in which two runs' ``manifest.json`` differ.

A manifest is flattened to its leaves by JSON path (``run.seed``, ``series[tanks].origin``,
``data.files[0].sha256``) and the two sets of leaves are compared. What says when, where and
with which builds a run was made is not a difference (:data:`IGNORED_MANIFEST_FIELDS`); the
numerical platform is compared separately, by :func:`simulate.fingerprint.differing_runs`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["ABSENT", "IGNORED_MANIFEST_FIELDS", "FieldDiff", "manifest_differences"]

#: Manifest fields that never count as differences: when and by what a run was made, and where
#: its files were (paths and retrieval times differ between machines and fetches; the SHA-256
#: of the data and of the scenario file say whether their content differs).
_IGNORED_SECTIONS = ("timings", "versions")
_IGNORED_LEAVES = ("path", "retrieved_at", "platform", "platforms")
IGNORED_MANIFEST_FIELDS = _IGNORED_SECTIONS + _IGNORED_LEAVES

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class _Absent:
    """The value of a manifest field that one side does not have."""

    def __repr__(self) -> str:
        return "(absent)"


#: Stands for a manifest field missing on one side of a :class:`FieldDiff`.
ABSENT: Any = _Absent()


def _json_value(v: Any) -> str:
    if v is ABSENT:
        return "(absent)"
    return json.dumps(v, ensure_ascii=False, default=str)


@dataclass(frozen=True)
class FieldDiff:
    """A manifest field that differs: its JSON path (``run.seed``) and the two values.

    A value is :data:`ABSENT` when that side's manifest does not have the field.
    """

    path: str
    a: Any
    b: Any

    def __str__(self) -> str:
        return f"{self.path}: {_json_value(self.a)} -> {_json_value(self.b)}"


def _flatten(
    value: Any, path: str, raw: tuple[str, ...], keep: Callable[[tuple[str, ...]], bool]
) -> dict[str, Any]:
    """JSON leaves by path: ``run.seed``, ``series[personnel].origin``, ``data.files[0].sha256``."""
    if not keep(raw):
        return {}
    out: dict[str, Any] = {}  # an empty object or list has no leaves
    if isinstance(value, dict):
        for k, v in value.items():
            key = str(k)
            sub = (f"{path}.{key}" if path else key) if _IDENT.fullmatch(key) else f"{path}[{key}]"
            out.update(_flatten(v, sub, (*raw, key), keep))
        return out
    if isinstance(value, list):
        names = [v.get("name") for v in value if isinstance(v, dict)]
        by_name = len(names) == len(value) and all(isinstance(n, str) for n in names)
        if by_name and len(set(names)) == len(names):
            labels = [str(n) for n in names]
        else:
            labels = [str(i) for i in range(len(value))]
        for label, v in zip(labels, value, strict=True):
            out.update(_flatten(v, f"{path}[{label}]", (*raw, label), keep))
        return out
    return {path: value}


def manifest_differences(
    a: dict[str, Any],
    b: dict[str, Any],
    *,
    compared_files: Iterable[str] = (),
    renamed: Mapping[str, str] | None = None,
) -> tuple[FieldDiff, ...]:
    """The meaningful fields in which two run manifests differ, by JSON path.

    Ignored: ``timings``, ``versions``, ``platform`` and ``platforms``, every ``path`` and
    ``retrieved_at`` (where and when, not what), and the ``sha256`` and ``bytes`` of
    ``outputs`` entries for `compared_files` (files compared themselves, so their checksums
    would only repeat that comparison). A number equals the same number of another type
    (``1`` and ``1.0``). `renamed` maps B's tables held in the other format to A's names
    (``projections.parquet`` to ``projections.csv``): B's ``outputs`` entries are compared
    under A's names, and ``run.format`` is not compared (the tables were compared themselves).

    Examples
    --------
    >>> a = {"run": {"seed": 1, "paths": 200}, "timings": {"project_seconds": 0.5}}
    >>> b = {"run": {"seed": 2, "paths": 200}, "timings": {"project_seconds": 0.7}}
    >>> [str(d) for d in manifest_differences(a, b)]
    ['run.seed: 1 -> 2']
    """
    files = set(compared_files)
    if renamed:
        a, b = _without_format(a), _without_format(b)
        outputs = b.get("outputs")
        if isinstance(outputs, dict):
            b["outputs"] = {renamed.get(k, k): v for k, v in outputs.items()}

    def keep(raw: tuple[str, ...]) -> bool:
        if not raw:
            return True
        if raw[0] in _IGNORED_SECTIONS or raw[-1] in _IGNORED_LEAVES:
            return False
        return not (
            len(raw) == 3 and raw[0] == "outputs" and raw[1] in files
            and raw[2] in ("sha256", "bytes")
        )  # fmt: skip

    fa = _flatten(a, "", (), keep)
    fb = _flatten(b, "", (), keep)
    out = []
    for p in list(fa) + [p for p in fb if p not in fa]:
        va, vb = fa.get(p, ABSENT), fb.get(p, ABSENT)
        if va is ABSENT or vb is ABSENT or va != vb or type(va) is not type(vb):
            if isinstance(va, int | float) and isinstance(vb, int | float) and va == vb:
                continue
            out.append(FieldDiff(p, va, vb))
    return tuple(out)


def _without_format(doc: dict[str, Any]) -> dict[str, Any]:
    """A shallow copy of manifest `doc` without ``run.format``."""
    out = dict(doc)
    if isinstance(out.get("run"), dict):
        out["run"] = {k: v for k, v in out["run"].items() if k != "format"}
    return out
