"""What produced a result: the numerical platform a run was made on (and what differs between
two of them), and the SHA-256 digests of the files it read.

Same scenario file, data and seed give byte-identical result files when the whole
*fingerprint* matches: the same Python, NumPy, SciPy and Polars versions, operating system and
CPU architecture, the same SIMD paths NumPy dispatches to (``exp``/``log`` take AVX-512 code on
CPUs that have it), and the same BLAS libraries, versions and OpenBLAS core types (read with
threadpoolctl). Across fingerprints the results agree within the cross-platform tolerance of
:mod:`simulate.compare.tolerance`: the fits use no BLAS, so a different kernel should change
nothing, but a different CPU may round ``exp`` and ``log`` differently in the last bit.

>>> fp = numerical_platform()
>>> sorted(fp) == sorted(FIELDS)
True
>>> differing(fp, fp)
[]
"""

from __future__ import annotations

import functools
import hashlib
import json
import platform
from importlib import import_module, metadata
from pathlib import Path
from typing import Any

__all__ = [
    "FIELDS",
    "numerical_platform",
    "differing",
    "differing_runs",
    "of_manifest",
    "describe",
    "file_sha256",
]

#: The fields of a fingerprint, in the order they are shown.
FIELDS = (
    "python",
    "numpy",
    "scipy",
    "polars",
    "system",
    "machine",
    "numpy_simd",
    "blas",
)


def _simd() -> str:
    """The SIMD targets NumPy dispatches to on this CPU (e.g. ``X86_V3 X86_V4``)."""
    try:
        umath = import_module("numpy._core._multiarray_umath")
    except ImportError:  # pragma: no cover - numpy < 2 lays this out elsewhere
        return "unknown"
    dispatch = getattr(umath, "__cpu_dispatch__", [])
    features = getattr(umath, "__cpu_features__", {})
    on = [f for f in dispatch if features.get(f)]
    return " ".join(on) if on else "baseline"


def _blas() -> list[dict[str, str]]:
    """Each BLAS library loaded by NumPy and SciPy: who loaded it, name, version, core type."""
    import numpy  # noqa: F401  (loads numpy's OpenBLAS)
    import scipy.linalg  # noqa: F401  (loads SciPy's)
    from threadpoolctl import threadpool_info

    out = []
    for info in threadpool_info():
        if info.get("user_api") != "blas":
            continue
        path = Path(str(info.get("filepath", "")))
        owner = path.parent.name.removesuffix(".libs") or "unknown"
        out.append(
            {
                "loaded_by": owner,
                "library": str(info.get("internal_api", "unknown")),
                "version": str(info.get("version") or "unknown"),
                "core_type": str(info.get("architecture") or "unknown"),
            }
        )
    return sorted(out, key=lambda d: (d["loaded_by"], d["library"]))


def numerical_platform() -> dict[str, Any]:
    """This process's numerical platform: versions, CPU architecture, SIMD and BLAS kernels
    (a new dict each call; read once per process, as the kernels are chosen when loaded)."""
    return dict(json.loads(_platform_json()))


@functools.cache
def _platform_json() -> str:
    versions = {}
    for dist in ("numpy", "scipy", "polars"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:  # pragma: no cover - core dependencies
            versions[dist] = "not installed"
    doc = {
        "python": platform.python_version(),
        **versions,
        "system": platform.system(),
        "machine": platform.machine(),
        "numpy_simd": _simd(),
        "blas": _blas(),
    }
    return json.dumps(doc)


def of_manifest(manifest: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Every platform a run was made on: the one that wrote it, and any other that fitted and
    simulated one of its series (a worker of a mixed Dask cluster); empty when none is
    recorded (a run made before platforms were recorded)."""
    if not isinstance(manifest, dict) or not isinstance(manifest.get("platform"), dict):
        return []
    out = [manifest["platform"]]
    for s in manifest.get("series", []):
        for fp in s.get("platforms", []) if isinstance(s, dict) else []:
            if fp not in out:
                out.append(fp)
    return out


def differing_runs(a: dict[str, Any] | None, b: dict[str, Any] | None) -> list[str]:
    """The fingerprint fields in which two runs' platforms differ (empty: the same single
    platform, or none recorded on either side)."""
    pa, pb = of_manifest(a), of_manifest(b)
    if not pa or not pb:
        return []
    every = pa + pb  # one platform in all, or the runs (or one of them) span several
    fields = {f for x in every for y in every for f in differing(x, y)}
    return [f for f in FIELDS if f in fields]


def differing(a: dict[str, Any] | None, b: dict[str, Any] | None) -> list[str]:
    """The fingerprint fields in which `a` and `b` differ (all of them when one is missing)."""
    if not a or not b:
        return list(FIELDS)
    return [f for f in FIELDS if a.get(f) != b.get(f)]


def describe(fp: dict[str, Any], field: str) -> str:
    """One field as a short string (the BLAS list as ``numpy openblas 0.3.31 SkylakeX; ...``)."""
    value = fp.get(field)
    if field == "blas" and isinstance(value, list):
        return "; ".join(
            f"{d.get('loaded_by')} {d.get('library')} {d.get('version')} {d.get('core_type')}"
            for d in value
        )
    return "missing" if value is None else str(value)


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
