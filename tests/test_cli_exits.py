"""Tests of the one error map (simulate.cli.exits) and of the commands' shape.

Every :class:`~simulate.errors.AttritionError` leaving a command is one line on standard error
and the exit status :func:`simulate.errors.exit_code` gives it; no command's body is long.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from simulate import errors
from simulate.cli import cli
from simulate.cli.exits import Command
from simulate.data import load_all
from simulate.errors import AttritionError, DataError, SourceError, exit_code

CLI_DIR = Path(__file__).resolve().parents[1] / "simulate" / "cli"
#: The longest body (statements after the docstring) a Click command may have.
MAX_BODY = 40


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_usage_errors_exit_2() -> None:
    assert run("check")[0] == 2
    assert run("check", "example", "--format", "yaml")[0] == 2
    assert run("series", "example", "-o", "x.csv", "--start", "2024-02-30")[0] == 2
    code, _, err = run("check", "no-such-source")
    assert code == 2 and "neither an existing file nor a known source" in err
    code, _, err = run("check", "example", "--series", "personel")
    assert code == 2 and "series 'personel': not in these figures" in err


def test_real_cli_usage_error_exits_2_and_data_error_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("date,tanks\n2024-01-01,3\n2024-01-02,4x\n")
    for data, kind, status in (("no-such-source", SourceError, 2), (str(bad), DataError, 1)):
        with pytest.raises(kind) as raised:  # what the library says, called directly
            load_all([data])
        assert exit_code(raised.value) == status
        code, out, err = run("check", data)
        assert (code, out, err) == (status, "", f"Error: {raised.value}\n")


def _command_raising(exc: Exception, *, cls: type[click.Command] = Command) -> click.Command:
    @click.command("boom", cls=cls)
    def boom() -> None:
        raise exc

    return boom


ERROR_CLASSES = [
    c
    for c in vars(errors).values()
    if inspect.isclass(c) and issubclass(c, AttritionError) and c.__module__ == errors.__name__
]


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: c.__name__)
def test_every_error_class_gets_one_line_and_its_exit_code(cls: type[AttritionError]) -> None:
    exc = cls("f.csv", "line 3", "bad") if issubclass(cls, errors.LocatedError) else cls("bad")
    result = CliRunner().invoke(_command_raising(exc), [])
    assert result.exit_code == (2 if isinstance(exc, errors.USAGE_ERRORS) else 1)
    assert result.exit_code == exit_code(exc)
    assert (result.stdout, result.stderr) == ("", f"Error: {exc}\n")


def test_other_exceptions_are_not_mapped() -> None:
    result = CliRunner().invoke(_command_raising(RuntimeError("a bug")), [])
    assert result.exit_code == 1 and isinstance(result.exception, RuntimeError)


def _click_commands() -> list[tuple[str, ast.FunctionDef]]:
    found = []
    for path in sorted(CLI_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef):
                continue
            for d in node.decorator_list:
                call = d.func if isinstance(d, ast.Call) else d
                if isinstance(call, ast.Attribute) and call.attr in ("command", "group"):
                    found.append((f"{path.name}:{node.name}", node))
    return found


def _body_lines(node: ast.FunctionDef) -> int:
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring is the command's --help text
    if not body:
        return 0
    return (body[-1].end_lineno or body[-1].lineno) - body[0].lineno + 1


def test_every_command_body_is_short() -> None:
    commands = _click_commands()
    assert len(commands) == len(cli.commands) + 1  # every command, and the group
    long = {name: n for name, node in commands if (n := _body_lines(node)) > MAX_BODY}
    assert not long, f"command bodies over {MAX_BODY} lines: {long}"


def test_body_length_counts_statements_after_the_docstring() -> None:
    source = 'def f():\n    """doc."""\n    a = 1\n\n    return (\n        a\n    )\n'
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.FunctionDef)
    assert _body_lines(node) == 5


def test_every_cli_module_is_at_most_600_lines() -> None:
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in CLI_DIR.glob("*.py")}
    assert sizes and max(sizes.values()) <= 600, sizes
