"""Tests of :mod:`simulate.data.fetching` against a local HTTP server (never the internet)."""

from __future__ import annotations

import hashlib
import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from simulate.data.fetching import (
    CACHE_ENV,
    DEFAULT_TIMEOUT,
    MIRROR_ENV,
    FetchedFile,
    cache_dir,
    fetch,
    fetched_files,
)
from simulate.errors import FetchError, SourceError

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

#: Mirror path -> file in ../shared/data/general-staff.
MIRROR_LAYOUT = {
    "/petroivaniuk/russia_losses_personnel.json": "russia_losses_personnel.petroivaniuk.json",
    "/petroivaniuk/russia_losses_equipment.json": "russia_losses_equipment.petroivaniuk.json",
    "/petroivaniuk/russia_losses_equipment_correction.json": (
        "russia_losses_equipment_correction.petroivaniuk.json"
    ),
    "/lod-db/russian-losses.json": "russian-losses.lod-db.json",
}

LOD = "/lod-db/russian-losses.json"


@pytest.fixture(autouse=True)
def _no_ambient_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's own cache, mirror and proxy settings out of every test."""
    for name in (CACHE_ENV, MIRROR_ENV):
        monkeypatch.delenv(name, raising=False)
    # A proxy from the environment would swallow requests to 127.0.0.1.
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("ALL_PROXY", raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@dataclass
class Mirror:
    """A local mirror: `routes` maps a URL path to (status, body); tests may change it."""

    url: str
    routes: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def body(self, path: str) -> bytes:
        return self.routes[path][1]


def _handler(mirror: Mirror) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            mirror.requests.append(self.path)
            status, body = mirror.routes.get(self.path, (404, b"<html>Not Found</html>"))
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep the test output clean

    return Handler


@pytest.fixture
def shared_data() -> Path:
    directory = SHARED_DATA / "general-staff"
    if not directory.is_dir():
        pytest.skip(
            f"../shared/data not found beside the checkout (looked in {directory}); "
            "these tests serve the real compilations from there"
        )
    return directory


@pytest.fixture
def mirror(shared_data: Path) -> Iterator[Mirror]:
    """Serve the shared data files under the mirror layout on 127.0.0.1 (a free port)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    host, port = server.server_address[:2]
    served = Mirror(url=f"http://{host!s}:{port}/")
    served.routes = {
        path: (200, (shared_data / name).read_bytes()) for path, name in MIRROR_LAYOUT.items()
    }
    server.RequestHandlerClass = _handler(served)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and then never answers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.05)
    stop = threading.Event()
    held: list[socket.socket] = []

    def accept_and_hold() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            held.append(conn)  # read nothing, answer nothing

    thread = threading.Thread(target=accept_and_hold)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


def _closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _leftovers(root: Path) -> list[Path]:
    """Temporary files left anywhere in the cache."""
    return [p for p in root.rglob("*") if p.name.startswith(".") or p.suffix == ".part"]


def _index(root: Path) -> dict[str, dict[str, dict[str, object]]]:
    sources: dict[str, dict[str, dict[str, object]]] = json.loads(
        (root / "index.json").read_text(encoding="utf-8")
    )["sources"]
    return sources


# --- fetching ------------------------------------------------------------------------------


def test_fetch_all_sources_from_mirror(mirror: Mirror, tmp_path: Path) -> None:
    files = fetch(dest=tmp_path, mirror=mirror.url)

    assert [(f.source, f.name) for f in files] == [
        ("petroivaniuk", "russia_losses_personnel.json"),
        ("petroivaniuk", "russia_losses_equipment.json"),
        ("petroivaniuk", "russia_losses_equipment_correction.json"),
        ("lod-db", "russian-losses.json"),
    ]
    for f in files:
        served = mirror.body(f"/{f.source}/{f.name}")
        assert f.path == tmp_path / f.source / f.name
        assert f.path.read_bytes() == served
        assert f.size == len(served)
        assert f.url == f"{mirror.url.rstrip('/')}/{f.source}/{f.name}"
    assert _leftovers(tmp_path) == []


def test_index_records_url_checksum_time_and_size(mirror: Mirror, tmp_path: Path) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    fetch(dest=tmp_path, mirror=mirror.url)
    after = datetime.now(UTC)

    index = _index(tmp_path)
    assert set(index) == {"petroivaniuk", "lod-db"}
    for path in MIRROR_LAYOUT:
        source, name = path.strip("/").split("/")
        entry = index[source][name]
        served = mirror.body(path)
        assert entry["sha256"] == hashlib.sha256(served).hexdigest()
        assert entry["size"] == len(served)
        assert entry["url"] == mirror.url + path.lstrip("/")
        retrieved = datetime.fromisoformat(str(entry["retrieved_at"]))
        assert retrieved.utcoffset() is not None and not retrieved.utcoffset()
        assert retrieved.microsecond == 0
        assert before <= retrieved <= after


def test_fetched_files_round_trip(mirror: Mirror, tmp_path: Path) -> None:
    files = fetch(dest=tmp_path, mirror=mirror.url)
    assert fetched_files("petroivaniuk", dest=tmp_path) == files[:3]
    assert fetched_files("lod-db", dest=tmp_path) == files[3:]
    assert all(isinstance(f, FetchedFile) for f in files)


def test_fetch_one_source_only(mirror: Mirror, tmp_path: Path) -> None:
    files = fetch("lod-db", dest=tmp_path, mirror=mirror.url)
    assert [f.name for f in files] == ["russian-losses.json"]
    assert mirror.requests == [LOD]
    assert not (tmp_path / "petroivaniuk").exists()


def test_environment_variables_pick_cache_and_mirror(
    mirror: Mirror, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "from-env"))
    monkeypatch.setenv(MIRROR_ENV, mirror.url)
    assert cache_dir() == tmp_path / "from-env"

    (f,) = fetch("lod-db")
    assert f.path == tmp_path / "from-env" / "lod-db" / "russian-losses.json"
    assert f.url.startswith(mirror.url)
    assert fetched_files("lod-db") == [f]
    # An explicit dest wins over the environment.
    assert cache_dir(tmp_path / "explicit") == tmp_path / "explicit"


def test_refetch_replaces_with_new_content_and_keeps_other_sources(
    mirror: Mirror, tmp_path: Path
) -> None:
    fetch(dest=tmp_path, mirror=mirror.url)
    old_index = _index(tmp_path)
    newer = b'[{"date": "2026-03-01", "personnel": 1}]\n'
    mirror.routes[LOD] = (200, newer)

    (f,) = fetch("lod-db", dest=tmp_path, mirror=mirror.url)

    assert f.path.read_bytes() == newer
    index = _index(tmp_path)
    assert index["lod-db"]["russian-losses.json"]["sha256"] == hashlib.sha256(newer).hexdigest()
    assert index["petroivaniuk"] == old_index["petroivaniuk"]  # merged, not overwritten
    assert fetched_files("lod-db", dest=tmp_path) == [f]
    assert _leftovers(tmp_path) == []


def test_progress_without_a_terminal_is_silent(
    mirror: Mirror, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    fetch("lod-db", dest=tmp_path, mirror=mirror.url, progress=True)
    assert capfd.readouterr().err == ""


def test_progress_on_a_terminal_never_needs_tqdm(
    mirror: Mirror, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # tqdm is optional: with or without it installed, asking for a bar must not fail.
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    (f,) = fetch("lod-db", dest=tmp_path, mirror=mirror.url, progress=True)
    assert f.path.read_bytes() == mirror.body(LOD)


# --- failures keep the good copy -----------------------------------------------------------


def _assert_one_line_kept(exc: FetchError, url: str) -> None:
    message = str(exc)
    assert "\n" not in message
    assert url in message
    assert "kept the copy fetched on 20" in message


def test_http_404_keeps_the_good_copy(mirror: Mirror, tmp_path: Path) -> None:
    (good,) = fetch("lod-db", dest=tmp_path, mirror=mirror.url)
    good_bytes = good.path.read_bytes()
    index_before = (tmp_path / "index.json").read_bytes()
    del mirror.routes[LOD]

    with pytest.raises(FetchError, match="HTTP 404") as info:
        fetch("lod-db", dest=tmp_path, mirror=mirror.url)

    _assert_one_line_kept(info.value, good.url)
    assert good.retrieved_at in str(info.value)
    assert good.path.read_bytes() == good_bytes
    assert (tmp_path / "index.json").read_bytes() == index_before
    assert sorted(p.name for p in (tmp_path / "lod-db").iterdir()) == ["russian-losses.json"]
    assert _leftovers(tmp_path) == []


def test_http_404_with_nothing_cached(mirror: Mirror, tmp_path: Path) -> None:
    del mirror.routes[LOD]
    with pytest.raises(FetchError, match="no copy was cached before"):
        fetch("lod-db", dest=tmp_path, mirror=mirror.url)
    assert not (tmp_path / "lod-db" / "russian-losses.json").exists()
    assert not (tmp_path / "index.json").exists()
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<!DOCTYPE html><html><body>Rate limited</body></html>", "HTML"),
        (b'[{"date": "2026-03-01", "personnel": 1}, {"da', "does not parse"),
        (b'{"message": "Not Found"}', "JSON dict"),
        (b"[]", "empty list"),
        (b"[1, 2, 3]", "objects"),
        (b'["\xff\xfe"]', "UTF-8"),
        (b"", "empty file"),
    ],
    ids=["html", "truncated", "object", "empty-list", "numbers", "not-utf8", "empty"],
)
def test_bad_content_keeps_the_good_copy(
    mirror: Mirror, tmp_path: Path, body: bytes, reason: str
) -> None:
    (good,) = fetch("lod-db", dest=tmp_path, mirror=mirror.url)
    good_bytes = good.path.read_bytes()
    mirror.routes[LOD] = (200, body)

    with pytest.raises(FetchError, match=reason) as info:
        fetch("lod-db", dest=tmp_path, mirror=mirror.url)

    _assert_one_line_kept(info.value, good.url)
    assert good.path.read_bytes() == good_bytes
    assert fetched_files("lod-db", dest=tmp_path) == [good]
    assert _leftovers(tmp_path) == []


def test_failure_midway_keeps_files_already_fetched(mirror: Mirror, tmp_path: Path) -> None:
    del mirror.routes["/petroivaniuk/russia_losses_equipment.json"]

    with pytest.raises(FetchError, match="russia_losses_equipment.json"):
        fetch("petroivaniuk", dest=tmp_path, mirror=mirror.url)

    # Documented: the personnel file succeeded before the failure and stays.
    assert (tmp_path / "petroivaniuk" / "russia_losses_personnel.json").exists()
    assert list(_index(tmp_path)["petroivaniuk"]) == ["russia_losses_personnel.json"]
    with pytest.raises(SourceError, match="partly.*russia_losses_equipment.json"):
        fetched_files("petroivaniuk", dest=tmp_path)
    assert _leftovers(tmp_path) == []


def test_connection_refused_fails_fast(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    start = time.monotonic()
    with pytest.raises(FetchError, match="connection refused") as info:
        fetch("lod-db", dest=tmp_path, mirror=url, timeout=2)
    assert time.monotonic() - start < 2
    message = str(info.value)
    assert "\n" not in message
    assert f"{url}/lod-db/russian-losses.json" in message
    assert "are you offline?" in message
    assert _leftovers(tmp_path) == []


def test_silent_server_times_out(silent_port: int, tmp_path: Path) -> None:
    start = time.monotonic()
    with pytest.raises(FetchError, match=r"timed out after 0\.5 s") as info:
        fetch("lod-db", dest=tmp_path, mirror=f"http://127.0.0.1:{silent_port}", timeout=0.5)
    assert time.monotonic() - start < 3
    assert "\n" not in str(info.value)
    assert _leftovers(tmp_path) == []


def test_unresolvable_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dns(*args: object, **kwargs: object) -> None:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    # Simulate being offline without asking a real resolver.
    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with pytest.raises(FetchError, match="could not resolve the host name") as info:
        fetch("lod-db", dest=tmp_path, mirror="http://mirror.invalid/data", timeout=1)
    assert "http://mirror.invalid/data/lod-db/russian-losses.json" in str(info.value)


# --- bad arguments -------------------------------------------------------------------------


def test_unknown_source() -> None:
    with pytest.raises(SourceError, match="unknown source 'nope'"):
        fetch("nope")
    with pytest.raises(SourceError, match="unknown source 'nope'"):
        fetched_files("nope")


@pytest.mark.parametrize("name", ["example", "romansverdan"])
def test_source_that_cannot_be_fetched(name: str, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=f"source '{name}'") as info:
        fetch(name, dest=tmp_path)
    assert "\n" not in str(info.value)
    assert not any(tmp_path.iterdir())
    with pytest.raises(SourceError, match=f"source '{name}'"):
        fetched_files(name, dest=tmp_path)


@pytest.mark.parametrize("mirror_url", ["ftp://example.org/data", "example.org/data", "http://"])
def test_invalid_mirror(mirror_url: str, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="not an http"):
        fetch("lod-db", dest=tmp_path, mirror=mirror_url)


def test_invalid_mirror_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MIRROR_ENV, "not a url")
    with pytest.raises(FetchError, match=r"\$ATTRITION_MIRROR 'not a url'"):
        fetch("lod-db", dest=tmp_path)


@pytest.mark.parametrize("timeout", [0, -1.0, float("nan"), float("inf"), True])
def test_invalid_timeout(timeout: float, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="timeout must be a positive number"):
        fetch("lod-db", dest=tmp_path, timeout=timeout)


# --- reading the cache ---------------------------------------------------------------------


def test_fetch_repairs_a_corrupt_index(mirror: Mirror, tmp_path: Path) -> None:
    (tmp_path / "index.json").write_text("{not json", encoding="utf-8")
    (f,) = fetch("lod-db", dest=tmp_path, mirror=mirror.url)
    assert fetched_files("lod-db", dest=tmp_path) == [f]


def test_file_listed_in_index_but_missing(mirror: Mirror, tmp_path: Path) -> None:
    (f,) = fetch("lod-db", dest=tmp_path, mirror=mirror.url)
    f.path.unlink()
    with pytest.raises(SourceError, match="missing; run `attrition fetch lod-db`"):
        fetched_files("lod-db", dest=tmp_path)


def test_file_changed_after_fetch(mirror: Mirror, tmp_path: Path) -> None:
    (f,) = fetch("lod-db", dest=tmp_path, mirror=mirror.url)
    f.path.write_bytes(b"[]")
    with pytest.raises(SourceError, match="records .*run `attrition fetch lod-db`"):
        fetched_files("lod-db", dest=tmp_path)


def test_public_constants() -> None:
    assert DEFAULT_TIMEOUT == 30.0
    assert CACHE_ENV == "ATTRITION_CACHE"
    assert MIRROR_ENV == "ATTRITION_MIRROR"


def test_cli_fetch_then_check_by_source_name(mirror: Mirror, tmp_path: Path) -> None:
    """The user's flow: `attrition fetch`, then name the sources instead of paths."""
    import json

    from click.testing import CliRunner

    from simulate.cli import cli

    runner = CliRunner()
    got = runner.invoke(cli, ["fetch", "--out", str(tmp_path), "--mirror", mirror.url, "-q"])
    assert got.exit_code == 0, got.stderr
    listed = runner.invoke(cli, ["sources", "--cache", str(tmp_path)])
    assert "lod-db        fetched 20" in listed.stdout
    got = runner.invoke(
        cli,
        [
            "check",
            "petroivaniuk",
            "lod-db",
            "--cache",
            str(tmp_path),
            "--series",
            "personnel",
            "--format",
            "json",
        ],
    )
    assert got.exit_code == 0, got.stderr
    doc = json.loads(got.stdout)
    files = [f for s in doc["sources"] for f in s["files"]]
    assert all(f["url"].startswith(mirror.url) and f["retrieved_at"] for f in files)
    dates = {f["date"] for f in doc["findings"] if f["kind"] == "disagreement"}
    assert {"2023-01-12", "2024-10-07", "2025-10-27"} <= dates
