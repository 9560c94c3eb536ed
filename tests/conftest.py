"""Shared fixtures. Tests that need ../shared/data skip with a clear reason when it is absent."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "general-staff"

FILES = {
    "pi_personnel": "russia_losses_personnel.petroivaniuk.json",
    "pi_equipment": "russia_losses_equipment.petroivaniuk.json",
    "pi_correction": "russia_losses_equipment_correction.petroivaniuk.json",
    "loddb": "russian-losses.lod-db.json",
    "romansverdan": "russia_losses.romansverdan.csv",
}


@pytest.fixture(scope="session")
def shared() -> dict[str, Path]:
    """Paths of the real public compilations in ../shared/data/general-staff."""
    if not SHARED.is_dir():
        pytest.skip(
            f"{SHARED} not found: the real-data tests need ../shared/data beside the checkout"
        )
    paths = {key: SHARED / name for key, name in FILES.items()}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        pytest.skip(f"shared data files missing: {', '.join(missing)}")
    return paths


def pytest_collection_finish(session: pytest.Session) -> None:
    # Nearly 900 collected tests (and the modules behind them) live for the whole session:
    # moved out of the collector's reach, they are not traversed again by every full garbage
    # collection while the tests run.
    gc.freeze()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Regenerate tests/golden/<run>/ from tests/golden/scenarios/ instead of comparing "
        "(only for a deliberate change; see README, 'Golden runs').",
    )


#: OpenBLAS core types to try as "another kernel", each with the CPU flag it needs.
_KERNELS = (("Haswell", "avx2"), ("Sandybridge", "avx"), ("Prescott", "sse3"))


@pytest.fixture(scope="session")
def other_kernel() -> str:
    """An OpenBLAS core type this CPU can run that is not the one OpenBLAS picked for it
    (``OPENBLAS_CORETYPE`` for a subprocess): Haswell on an AVX-512 machine."""
    import platform

    from simulate.fingerprint import numerical_platform

    cpuinfo = Path("/proc/cpuinfo")
    if platform.machine() not in ("x86_64", "AMD64") or not cpuinfo.is_file():
        pytest.skip("OpenBLAS kernels are chosen with OPENBLAS_CORETYPE on x86 Linux only")
    flags = set()
    for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            break
    blas = numerical_platform()["blas"]
    if not blas or any(b["library"] != "openblas" for b in blas):
        pytest.skip(f"OPENBLAS_CORETYPE applies to OpenBLAS only; this NumPy/SciPy use {blas}")
    own = {b["core_type"].lower() for b in blas}
    for kernel, flag in _KERNELS:
        if flag in flags and kernel.lower() not in own:
            return kernel
    pytest.skip(f"no second OpenBLAS kernel to try on this CPU (its own: {', '.join(own)})")


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The compare tests' three demo runs (tests/compare_support.py), made once."""
    from compare_support import demo_runs

    return demo_runs(tmp_path_factory)


@pytest.fixture(scope="session")
def row(runs: dict[str, Path]) -> dict[str, Any]:
    """The projections row the compare tests change."""
    from compare_support import changed_row

    return changed_row(runs)
