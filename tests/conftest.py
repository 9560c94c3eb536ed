"""Shared fixtures. Tests that need ../shared/data skip with a clear reason when it is absent."""

from __future__ import annotations

from pathlib import Path

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


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Regenerate tests/golden/<run>/ from tests/golden/scenarios/ instead of comparing "
        "(only for a deliberate change; see README, 'Golden runs').",
    )
