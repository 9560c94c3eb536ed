"""Tests of `attrition check` (simulate.cli.check)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from simulate.cli import cli
from simulate.data import FINDING_FIELDS


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_check_example_table_names_the_reporter() -> None:
    code, out, _ = run("check", "example")
    assert code == 0
    assert "figures as reported by nobody: synthetic example figures" in out
    assert "not" in out and "actual losses" in out
    assert "slip" in out and "2024-10-27" in out
    assert out.rstrip().endswith("verdict: usable")


def test_check_json_and_csv_formats() -> None:
    code, out, _ = run("check", "example", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["usable"] is True
    assert doc["sources"][0]["reported_by"].startswith("nobody")
    assert doc["sources"][0]["files"][0]["sha256"]
    assert all(set(f) == set(FINDING_FIELDS) for f in doc["findings"])
    assert "not verified counts of actual losses" in doc["caveat"][0]
    code, out, _ = run("check", "example", "--format", "csv")
    assert code == 0
    assert out.splitlines()[0] == ",".join(FINDING_FIELDS)
    assert len(out.splitlines()) == len(doc["findings"]) + 1


def test_check_output_file_is_atomic_and_not_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "findings.json"
    assert run("check", "example", "--format", "json", "-o", str(target))[0] == 0
    first = target.read_text()
    code, _, err = run("check", "example", "--format", "json", "-o", str(target))
    assert code == 2 and "already exists; use --force" in err
    assert target.read_text() == first
    assert run("check", "example", "--format", "json", "-o", str(target), "--force")[0] == 0


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "file is empty"),
        ("when,tanks\n2024-01-01,3\n", "no 'date' column"),
        ("date,tanks\n2024-01-01,3\n2024-13-45,4\n", "line 3: '2024-13-45' is not a valid date"),
        (
            "date,tanks\n2024-01-01,3\n2024-01-02,4x\n",
            "line 3, column 'tanks': '4x' is not a number",
        ),
        (
            "date,tanks\n2024-01-01,3\n2024-01-01,4\n",
            "listed twice for 'tanks' with different values",
        ),
    ],
)
def test_bad_files_give_one_line_and_exit_1(tmp_path: Path, content: str, expected: str) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    code, out, err = run("check", str(bad))
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("Error: ")
    assert str(bad) in err and expected in err
    assert "Traceback" not in err


def test_unusable_data_exit_1_with_verdict(tmp_path: Path) -> None:
    short = tmp_path / "short.csv"
    short.write_text("date,tanks\n2024-01-01,3\n2024-01-02,4\n2024-01-03,9\n")
    code, out, _ = run("check", str(short))
    assert code == 1
    assert "too_short" in out and "UNUSABLE" in out


def test_unfetched_source_explains_how_to_fetch(tmp_path: Path) -> None:
    code, _, err = run("check", "lod-db", "--cache", str(tmp_path))
    assert code == 2 and "attrition fetch lod-db" in err


def test_real_compilations_check_lists_known_disagreements(shared: dict[str, Path]) -> None:
    code, out, err = run(
        "check",
        str(shared["pi_personnel"]),
        str(shared["loddb"]),
        str(shared["romansverdan"]),
        "--series",
        "personnel",
        "--format",
        "json",
    )
    assert code == 0, err
    dates = {f["date"] for f in json.loads(out)["findings"] if f["kind"] == "disagreement"}
    assert {"2023-01-12", "2025-05-09", "2025-10-27"} <= dates


def test_same_file_twice_is_checked_once_and_namesakes_stay_apart(tmp_path: Path) -> None:
    code, out, _ = run("check", "example", "example", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert len(doc["sources"]) == 1
    assert not [f for f in doc["findings"] if f["kind"] == "disagreement"]
    a, b = tmp_path / "a" / "figures.csv", tmp_path / "b" / "figures.csv"
    for path, extra in ((a, 0), (b, 500)):
        path.parent.mkdir()
        path.write_text(
            "date,personnel\n"
            + "".join(
                f"2024-01-{d:02d},{1000 * d + (extra if d == 10 else 0)}\n" for d in range(1, 21)
            )
        )
    code, out, _ = run("check", str(a), str(b), "--format", "json")
    assert code == 0
    dis = [f for f in json.loads(out)["findings"] if f["kind"] == "disagreement"]
    assert [f["date"] for f in dis] == ["2024-01-10"]


def test_outputs_are_readable_by_others_as_the_umask_allows(tmp_path: Path) -> None:
    import os
    import stat

    target = tmp_path / "f.csv"
    assert run("check", "example", "--format", "csv", "-o", str(target))[0] == 0
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
