"""Tests of the `attrition` command line (Click's CliRunner, tmp_path)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import polars as pl
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


def test_usage_errors_exit_2() -> None:
    assert run("check")[0] == 2
    assert run("check", "example", "--format", "yaml")[0] == 2
    assert run("series", "example", "-o", "x.csv", "--start", "2024-02-30")[0] == 2
    code, _, err = run("check", "no-such-source")
    assert code == 2 and "neither an existing file nor a known source" in err
    code, _, err = run("check", "example", "--series", "personel")
    assert code == 2 and "series 'personel': not in these figures" in err


def test_unfetched_source_explains_how_to_fetch(tmp_path: Path) -> None:
    code, _, err = run("check", "lod-db", "--cache", str(tmp_path))
    assert code == 2 and "attrition fetch lod-db" in err


def test_series_command_writes_table_and_provenance(tmp_path: Path) -> None:
    out = tmp_path / "daily.csv"
    code, _, err = run("series", "example", "-o", str(out), "--repair")
    assert code == 0, err
    table = pl.read_csv(out)
    assert set(table.columns) == {
        "date",
        "series",
        "cumulative",
        "daily",
        "flags",
        "source",
        "reported_by",
    }
    assert table.height == 3 * 730
    assert table.get_column("reported_by").str.starts_with("nobody").all()
    prov = json.loads((tmp_path / "daily.csv.provenance.json").read_text())
    assert prov["policy"]["slips"] == "repair"
    assert "not verified counts of actual losses" in prov["caveat"][0]
    # refuses to overwrite; parquet works too
    assert run("series", "example", "-o", str(out))[0] == 2
    # a leftover provenance file alone also stops the run before anything is written
    (tmp_path / "daily.csv").unlink()
    assert run("series", "example", "-o", str(out))[0] == 2
    assert not out.exists()
    pq = tmp_path / "daily.parquet"
    assert run("series", "example", "-o", str(pq))[0] == 0
    assert pl.read_parquet(pq).height == 3 * 730


def test_fetch_offline_is_one_line(tmp_path: Path) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now: connection refused, like being offline
    code, out, err = run(
        "fetch",
        "lod-db",
        "--dest",
        str(tmp_path),
        "--mirror",
        f"http://127.0.0.1:{port}",
        "--timeout",
        "2",
        "--quiet",
    )
    assert code == 1
    assert err.count("\n") == 1 and "could not download" in err
    assert not any(tmp_path.rglob("*.json"))


def test_sources_lists_every_source(tmp_path: Path) -> None:
    code, out, _ = run("sources", "--cache", str(tmp_path))
    assert code == 0
    for name in ("petroivaniuk", "lod-db", "romansverdan", "example"):
        assert name in out
    assert "not fetched (attrition fetch lod-db)" in out


def test_python_dash_m_runs_the_cli() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "simulate", "--version"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0 and "attrition" in proc.stdout


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


def test_series_rejects_unknown_extension_and_directory_targets(tmp_path: Path) -> None:
    assert run("series", "example", "-o", str(tmp_path / "out.json"))[0] == 2
    (tmp_path / "z.csv.provenance.json").mkdir()
    code, _, err = run("series", "example", "-o", str(tmp_path / "z.csv"), "--force")
    assert code == 2 and "is a directory" in err
    assert not (tmp_path / "z.csv").exists()


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
