"""One vocabulary across the commands (simulate/cli): output, quiet, dates, help, cache."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from simulate.cli import cli
from simulate.cli.options import CACHE_HELP, DateType

COMMANDS = sorted(cli.commands.items())


def _options(cmd: click.Command) -> list[click.Option]:
    return [p for p in cmd.params if isinstance(p, click.Option)]


@pytest.mark.parametrize(("name", "cmd"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_option_has_help(name: str, cmd: click.Command) -> None:
    missing = [o.opts for o in _options(cmd) if not (o.help or "").strip()]
    assert not missing, f"{name}: options without help: {missing}"


@pytest.mark.parametrize(("name", "cmd"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_dates_are_typed_as_dates(name: str, cmd: click.Command) -> None:
    for o in _options(cmd):
        if o.name in {"start", "end", "train_start", "as_of"}:
            assert isinstance(o.type, DateType), (name, o.opts)
            assert "DATE" in cmd.get_help(click.Context(cmd)), name


@pytest.mark.parametrize("name", ["check", "series", "run", "backtest", "fetch"])
def test_every_command_that_writes_takes_o_and_out(name: str) -> None:
    opts = [o.opts for o in _options(cli.commands[name])]
    assert ["--out", "-o"] in opts or ["-o", "--out"] in opts, (name, opts)


@pytest.mark.parametrize("name", ["run", "backtest", "fetch"])
def test_every_command_with_progress_takes_q_and_quiet(name: str) -> None:
    opts = [sorted(o.opts) for o in _options(cli.commands[name])]
    assert ["--quiet", "-q"] in opts, (name, opts)


def test_cache_is_described_once() -> None:
    helps = {name: o.help for name, cmd in COMMANDS for o in _options(cmd) if o.name == "cache"}
    assert len(helps) >= 5 and set(helps.values()) == {CACHE_HELP}, helps


def test_a_bad_date_is_one_line_naming_the_option() -> None:
    result = CliRunner().invoke(cli, ["backtest", "example", "--start", "2024-13-01"])
    assert result.exit_code == 2
    assert "Invalid value for '--start': '2024-13-01' is not a valid date; expected " \
        "YYYY-MM-DD" in result.output  # fmt: skip


def test_fit_series_takes_the_one_name_its_help_says() -> None:
    result = CliRunner().invoke(cli, ["fit", "example", "--series", "personnel,tanks"])
    assert result.exit_code == 2
    assert "name one series, got 2: personnel, tanks" in result.output
    assert "The one series to use" in CliRunner().invoke(cli, ["fit", "--help"]).output
