"""Tests of the `attrition` command group (simulate.cli): its commands and entry points.

Each command's tests are in tests/test_cli_<command>.py; the error map's in test_cli_exits.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from simulate.cli import COMMANDS, cli, main
from simulate.cli.exits import Command

NAMES = {"check", "series", "fit", "run", "explain", "validate", "backtest", "fetch", "sources",
         "compare"}  # fmt: skip


def test_python_dash_m_runs_the_cli() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "simulate", "--version"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0 and "attrition" in proc.stdout


def test_every_command_is_registered_and_ends_through_the_error_map() -> None:
    assert set(cli.commands) == NAMES == {c.name for c in COMMANDS}
    assert all(isinstance(c, Command) for c in cli.commands.values())


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    listed = {line.split()[0] for line in result.output.split("Commands:")[1].splitlines()
              if line.startswith("  ")}  # fmt: skip
    assert listed == NAMES


def test_main_is_the_console_script(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert 'attrition = "simulate.cli:main"' in pyproject
    monkeypatch.setattr(sys, "argv", ["attrition", "--version"])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith("attrition, version ")
