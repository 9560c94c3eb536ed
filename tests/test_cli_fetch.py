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


def test_fetch_from_a_local_folder_then_run_offline(
    tmp_path: Path, shared: dict[str, Path]
) -> None:
    """Issue 15's offline route: the compilation's files taken from a folder (named as in
    ../shared/data, with the source before the extension) into the cache, hashed and indexed
    like a download, then a real-data scenario run from that cache with no network."""
    import hashlib
    import json

    folder = shared["pi_personnel"].parent
    cache = tmp_path / "cache"
    code, out, err = run("fetch", "petroivaniuk", "--from", str(folder), "-o", str(cache))
    assert code == 0, err
    index = json.loads((cache / "index.json").read_text())["sources"]["petroivaniuk"]
    assert set(index) == {"russia_losses_personnel.json", "russia_losses_equipment.json",
                          "russia_losses_equipment_correction.json"}  # fmt: skip
    entry = index["russia_losses_personnel.json"]
    original = shared["pi_personnel"].read_bytes()
    assert (
        entry["sha256"]
        == hashlib.sha256(original).hexdigest()
        == (
            hashlib.sha256((cache / "petroivaniuk" / "russia_losses_personnel.json").read_bytes())
        ).hexdigest()
    )
    assert entry["url"] == shared["pi_personnel"].resolve().as_uri()
    scenario = Path(__file__).resolve().parents[1] / "scenarios" / "general-staff-personnel.toml"
    code, out, err = run("run", str(scenario), "--cache", str(cache), "-o", str(tmp_path / "o"),
                         "--paths", "200", "--no-charts", "-q")  # fmt: skip
    assert code == 0, err
    m = json.loads((tmp_path / "o" / "general-staff-personnel" / "manifest.json").read_text())
    assert m["data"]["files"][0]["url"] == entry["url"]


def test_fetch_from_a_folder_missing_a_file_or_holding_a_bad_one(tmp_path: Path) -> None:
    folder = tmp_path / "drive"
    folder.mkdir()
    (folder / "russian-losses.json").write_text("<html>login</html>", encoding="utf-8")
    code, _, err = run("fetch", "lod-db", "--from", str(folder), "-o", str(tmp_path / "c"))
    assert code == 1 and err.count("\n") == 1
    assert "russian-losses.json: expected JSON or CSV, got an HTML/XML page" in err
    assert "no copy was cached before" in err
    assert not (tmp_path / "c" / "lod-db" / "russian-losses.json").exists()
    code, _, err = run("fetch", "petroivaniuk", "--from", str(folder), "-o", str(tmp_path / "c"))
    assert code == 1 and err.count("\n") == 1
    assert (
        "no russia_losses_personnel.json of petroivaniuk; expected one of "
        "russia_losses_personnel.json, petroivaniuk/russia_losses_personnel.json, "
        "russia_losses_personnel.petroivaniuk.json" in err
    )
    code, _, err = run("fetch", "lod-db", "--from", str(folder), "--mirror", "http://x")
    assert code != 0 and "not both" in err
