"""Tests of `attrition fit` (simulate.cli.fit)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from simulate.cli import cli


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_fit_prints_estimates_level_and_diagnostics() -> None:
    code, out, err = run(
        "fit", "example", "--series", "personnel", "--model", "naive", "--window", "90"
    )
    assert code == 0, err
    assert "as reported by nobody" in out and "not verified counts of actual losses" in out
    assert "model naive (k=28)" in out and "(90 days)" in out
    assert "implied daily level over 2025-12-31..2026-01-06" in out
    assert "growth over 30 days" in out
    assert "dispersion" in out and "autocorrelation" in out


def test_fit_json_and_errors(tmp_path: Path) -> None:
    code, out, _ = run(
        "fit",
        "example",
        "--series",
        "tanks",
        "--model",
        "bootstrap",
        "--format",
        "json",
        "--as-of",
        "2025-06-30",
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["fits"][0]["origin"] == "2025-06-30"
    assert doc["fits"][0]["model"]["kind"] == "bootstrap"
    assert run("fit", "example", "--model", "arima")[0] == 2
    assert run("fit", "example", "--series", "personnel,tanks")[0] == 2
    assert run("fit", "example", "--window", "5")[0] == 2
    code, _, err = run("fit", "example", "--series", "ships")
    assert code == 2 and "series 'ships': not in these figures" in err


def test_fit_defaults_to_auto_like_run_and_backtest() -> None:
    """``fit``'s default is run's and backtest's: auto, which says what it chose and why."""
    from simulate.data import load
    from simulate.evaluation.selection import choose_model
    from simulate.models import ModelSpec, daily_series

    spec, choice = choose_model(
        daily_series(load("example"), "tanks"), spec=ModelSpec("analog", window=180)
    )
    code, out, err = run("fit", "example", "--series", "tanks")
    assert code == 0, err
    assert f"model: auto chose {choice['why']}" in out
    assert f"model {spec.kind} (" in out
    code, out, err = run("fit", "example", "--series", "tanks", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["model_choice"]["chosen"] == spec.to_dict()
    assert doc["fits"][0]["model"] == spec.to_dict()
