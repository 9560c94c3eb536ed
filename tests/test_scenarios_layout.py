"""The layout of simulate.scenarios: what importing the engine or the package pulls in."""

from __future__ import annotations

import ast
import subprocess
import sys

import simulate.scenarios as scenarios


def _imported(code: str) -> list[str]:
    """The heavy or upper-layer modules imported by `code`, run in a fresh interpreter."""
    probe = (
        f"{code}; import sys; "
        "print(sorted(m for m in sys.modules if m in {'tomllib', 'click', 'matplotlib'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout  # PYTHONPATH is inherited: the tree under test
    return ast.literal_eval(out)  # type: ignore[no-any-return]


def test_the_engine_imports_neither_tomllib_click_nor_matplotlib() -> None:
    assert _imported("import simulate.engine") == []


def test_the_package_and_its_adjustments_do_not_import_tomllib() -> None:
    assert _imported("import simulate.scenarios.adjust, simulate.scenarios.config") == []
    assert _imported("from simulate.scenarios import Scenario, adjustment_factors") == []


def test_parsing_imports_tomllib_when_first_used() -> None:
    assert _imported("from simulate.scenarios import parse_scenario") == ["tomllib"]


def test_every_exported_name_is_importable_from_the_package() -> None:
    for name in scenarios.__all__:
        assert getattr(scenarios, name) is not None, name
    from simulate.scenarios import load_scenario_file, parse_scenario, scenario_json_schema
    from simulate.scenarios.parse import load_scenario_file as load
    from simulate.scenarios.schema import scenario_json_schema as schema

    assert (load_scenario_file, scenario_json_schema) == (load, schema)
    assert parse_scenario.__module__ == "simulate.scenarios.parse"


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        scenarios.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("no AttributeError")
