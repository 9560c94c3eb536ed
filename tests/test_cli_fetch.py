"""Tests of `attrition fetch` and `attrition sources` (simulate.cli.fetch, simulate.cli.sources)."""

from __future__ import annotations

import socket
from pathlib import Path

from click.testing import CliRunner

from simulate.cli import cli


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_fetch_offline_is_one_line(tmp_path: Path) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now: connection refused, like being offline
    code, out, err = run(
        "fetch",
        "lod-db",
        "--out",
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
