"""The canonical series names and how each compilation's column names map onto them.

Every reader renames its columns to these names, so that "tanks" from one compilation
can be cross-checked against "tanks" from another and a scenario file can say
``series = ["personnel", "tanks"]`` whatever file the figures came from.
"""

from __future__ import annotations

import re

__all__ = ["CANONICAL_SERIES", "ALIASES", "canonical_name"]

#: Canonical series name -> human description (used in the README and in chart labels).
CANONICAL_SERIES: dict[str, str] = {
    "personnel": "personnel (killed and wounded, as reported)",
    "tanks": "tanks",
    "afv": "armoured fighting vehicles (APC/IFV)",
    "artillery": "artillery systems",
    "mlrs": "multiple rocket launchers",
    "air_defense": "air-defence systems",
    "aircraft": "fixed-wing aircraft",
    "helicopters": "helicopters",
    "uav": "drones (operational-tactical UAVs)",
    "missiles": "cruise missiles",
    "ships": "warships and boats",
    "submarines": "submarines",
    "vehicles": "vehicles and fuel tanks",
    "special_equipment": "special equipment",
    "srbm": "mobile SRBM systems",
}

#: Normalised alias -> canonical name. Aliases are normalised by :func:`_normalise` first.
ALIASES: dict[str, str] = {
    # PetroIvaniuk
    "tank": "tanks",
    "apc": "afv",
    "field_artillery": "artillery",
    "mrl": "mlrs",
    "drone": "uav",
    "naval_ship": "ships",
    "anti_aircraft_warfare": "air_defense",
    "helicopter": "helicopters",
    "vehicles_and_fuel_tanks": "vehicles",
    "cruise_missiles": "missiles",
    "mobile_srbm_system": "srbm",
    # lod-db (camelCase is normalised to snake_case first)
    "afvs": "afv",
    "rocket_systems": "mlrs",
    "unarmored_vehicles": "vehicles",
    "fixed_wing_aircraft": "aircraft",
    "rotary_wing_aircraft": "helicopters",
    "uavs": "uav",
    # romansverdan
    "apv": "afv",
    "aaws": "air_defense",
    "aircrafts": "aircraft",
    "warships": "ships",
    "vehicles_fuel_tanks": "vehicles",
    # common spellings in hand-kept files
    "air_defence": "air_defense",
    "drones": "uav",
    "ifv": "afv",
    "mlrs_systems": "mlrs",
    "submarine": "submarines",
    "ship": "ships",
    "missile": "missiles",
}

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NON_WORD = re.compile(r"[^0-9a-z]+")


def _normalise(name: str) -> str:
    snake = _CAMEL.sub("_", name.strip())
    return _NON_WORD.sub("_", snake.lower()).strip("_")


def canonical_name(name: str) -> str:
    """Map a column name from any compilation onto the canonical vocabulary.

    Names that are not known aliases are normalised (lower case, words joined by ``_``)
    and kept, so a user's own series such as ``"FPV drones"`` becomes ``"fpv_drones"``.

    Examples
    --------
    >>> canonical_name("field artillery")
    'artillery'
    >>> canonical_name("rotaryWingAircraft")
    'helicopters'
    >>> canonical_name("FPV drones")
    'fpv_drones'
    """
    norm = _normalise(name)
    return ALIASES.get(norm, norm)
