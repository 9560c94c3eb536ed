"""Download the public compilations of reported figures into a local cache.

The compilations change every day, so :func:`fetch` downloads every file again on each
call (nothing is skipped because a copy exists). Each file is downloaded into a temporary
file beside its final place, checked to be what was expected (UTF-8 JSON holding a list of
daily records, or a CSV table), and only then moved over the previous copy with
:func:`os.replace`, which is atomic. A failed, truncated or wrong download (an HTML error
page, a captive portal) therefore never replaces a good cached copy, and no partial or
temporary file is left behind.

The cache looks like this::

    <cache_dir>/index.json                  url, sha256, retrieved_at and size of every file
    <cache_dir>/<source>/<file name>        e.g. lod-db/russian-losses.json

Reading the cache back (:func:`~simulate.data.cache.fetched_files`, re-exported here) is
:mod:`simulate.data.cache`'s job, so that :func:`simulate.data.load` can read a source by name
and record where and when its figures were retrieved without importing any network code.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import importlib.util
import json
import math
import os
import secrets
import socket
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import FetchError, SourceError
from .cache import (
    CACHE_ENV,
    INDEX_NAME,
    FetchedFile,
    cache_dir,
    fetched_files,
    read_index,
    require_fetchable,
)
from .sources import SOURCES, Source, SourceFile, get_source

__all__ = [
    "CACHE_ENV",
    "DEFAULT_TIMEOUT",
    "MIRROR_ENV",
    "FetchedFile",
    "cache_dir",
    "fetch",
    "fetched_files",
]

#: Seconds to wait for the server to accept the connection, and then for each read.
DEFAULT_TIMEOUT = 30.0

#: Environment variable holding the base URL of a mirror to download from instead.
MIRROR_ENV = "ATTRITION_MIRROR"

_INDEX_VERSION = 1


def fetch(
    source: str | None = None,
    *,
    dest: str | os.PathLike[str] | None = None,
    mirror: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: bool = False,
    from_dir: str | os.PathLike[str] | None = None,
) -> list[FetchedFile]:
    """Download a public compilation (or all of them) into the cache, or take its files from
    a local folder (`from_dir`).

    Every file is downloaded again on every call, because the compilations grow daily.

    Parameters
    ----------
    source
        Name of a registered source (see :data:`simulate.data.sources.SOURCES`), or
        ``None`` for every source that can be fetched.
    dest
        Cache directory; see :func:`cache_dir`.
    mirror
        Base URL of a mirror laid out as ``<mirror>/<source>/<file name>``, used instead of
        each file's upstream URL. ``None`` uses ``$ATTRITION_MIRROR`` if it is set.
    timeout
        Seconds to wait for the connection and then for each read from the server (not a
        limit on the whole download).
    progress
        Show a progress bar on stderr, only if ``tqdm`` is installed and stderr is a
        terminal; otherwise download silently.
    from_dir
        A local folder holding the compilation's files (a newsroom's shared drive, or
        ``../shared/data/general-staff``), used instead of the network: each file is found as
        ``<from_dir>/<name>``, ``<from_dir>/<source>/<name>`` or with the source's name before
        the extension (``russia_losses_personnel.petroivaniuk.json``), and goes through the
        same checks, hashing and index as a download (its ``url`` is the file's ``file://``
        address). Not together with `mirror`.

    Returns
    -------
    list of FetchedFile
        The downloaded files, in the order of the registry.

    Raises
    ------
    SourceError
        If `source` is unknown or cannot be fetched (``"example"`` ships with attrition;
        ``"romansverdan"`` states no licence).
    FetchError
        If a download fails (offline, refused, timed out, HTTP error), what was downloaded
        is not the expected JSON/CSV, the cache cannot be written, or `mirror` / `timeout`
        is invalid. The message is one line naming the URL.

    Notes
    -----
    Each file is replaced atomically and recorded in ``index.json`` as soon as it has been
    downloaded and checked. When several files are fetched in one call and a later one
    fails, the files that already succeeded stay replaced by their new copies, and the file
    that failed keeps its previous copy (if any); nothing is rolled back. Fetching again
    completes the set.

    Examples
    --------
    >>> files = fetch("lod-db")  # doctest: +SKIP
    >>> files[0].path.name  # doctest: +SKIP
    'russian-losses.json'
    """
    if source is None:
        sources = [s for s in SOURCES.values() if s.fetchable]
    else:
        sources = [get_source(source)]
        require_fetchable(sources[0])
    if isinstance(timeout, bool) or not (
        isinstance(timeout, (int, float)) and math.isfinite(timeout) and timeout > 0
    ):
        raise FetchError(f"timeout must be a positive number of seconds; got {timeout!r}")
    if from_dir is not None and mirror is not None:
        raise FetchError("give a mirror or a local folder to take the files from, not both")
    base = _mirror_base(mirror) if from_dir is None else None
    local = None if from_dir is None else _local_folder(from_dir)
    root = cache_dir(dest)
    show_progress = progress and _can_show_progress()

    fetched: list[FetchedFile] = []
    for src in sources:
        directory = root / src.name
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FetchError(
                f"could not create the cache directory {directory}: {_os_reason(exc)}"
            ) from None
        for file in src.files:
            if local is not None:
                fetched.append(_copy_file(src, file, local, root))
                continue
            url = file.url if base is None else f"{base}/{src.name}/{file.name}"
            fetched.append(
                _fetch_file(src, file, url, root, timeout=float(timeout), progress=show_progress)
            )
    return fetched


# --- helpers -----------------------------------------------------------------------------


def _mirror_base(mirror: str | None) -> str | None:
    """The mirror's base URL without a trailing slash, or ``None`` for upstream URLs."""
    origin = "mirror"
    if mirror is None:
        mirror = os.environ.get(MIRROR_ENV) or None
        origin = f"${MIRROR_ENV}"
    if mirror is None:
        return None
    parts = urlsplit(mirror)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FetchError(
            f"{origin} {mirror!r} is not an http(s) URL; expected e.g. "
            f"'https://example.org/attrition-data' holding <source>/<file name>"
        )
    return mirror.rstrip("/")


def _can_show_progress() -> bool:
    """True if pooch can draw its tqdm bar and somebody is looking at stderr."""
    # tqdm is optional: look for it rather than let pooch raise because it is missing.
    if importlib.util.find_spec("tqdm") is None:
        return False
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stderr
        return False


def _fetch_file(
    source: Source, file: SourceFile, url: str, root: Path, *, timeout: float, progress: bool
) -> FetchedFile:
    """Download one file to a temporary file, check it, move it into place, index it."""
    target = root / source.name / file.name
    kept = _kept_message(root, source.name, file.name, target)
    with _temporary(target) as tmp:
        problem = _download(url, tmp, timeout=timeout, progress=progress)
        if problem is not None:
            raise FetchError(f"could not download {url}: {problem}; {kept}")
        data = tmp.read_bytes()
        problem = _check_content(data, file.name)
        if problem is not None:
            raise FetchError(f"could not download {url}: {problem}; {kept}")
        retrieved_at = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            os.replace(tmp, target)
        except OSError as exc:
            raise FetchError(f"could not write {target}: {_os_reason(exc)}; {kept}") from None
    return _indexed(source, file, root, url, data, retrieved_at)


def _local_folder(from_dir: str | os.PathLike[str]) -> Path:
    folder = Path(from_dir)
    if not folder.is_dir():
        raise FetchError(f"{folder}: not a folder; expected the folder holding the files")
    return folder


def _local_file(folder: Path, source: Source, file: SourceFile) -> Path:
    """Where `file` of `source` is in `folder` (see :func:`fetch`'s `from_dir`)."""
    stem, dot, ext = file.name.rpartition(".")
    named = f"{stem}.{source.name}.{ext}" if dot else f"{file.name}.{source.name}"
    candidates = [folder / file.name, folder / source.name / file.name, folder / named]
    for path in candidates:
        if path.is_file():
            return path
    raise FetchError(
        f"{folder}: no {file.name} of {source.name}; expected one of "
        + ", ".join(str(c.relative_to(folder)) for c in candidates)
    )


def _copy_file(source: Source, file: SourceFile, folder: Path, root: Path) -> FetchedFile:
    """Copy one file from a local folder into the cache, checked and indexed as a download."""
    path = _local_file(folder, source, file)
    target = root / source.name / file.name
    kept = _kept_message(root, source.name, file.name, target)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FetchError(f"could not read {path}: {_os_reason(exc)}; {kept}") from None
    problem = _check_content(data, file.name)
    if problem is not None:
        raise FetchError(f"{path}: {problem}; {kept}")
    retrieved_at = datetime.now(UTC).isoformat(timespec="seconds")
    with _temporary(target) as tmp:
        try:
            with open(tmp, "xb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except OSError as exc:
            raise FetchError(f"could not write {target}: {_os_reason(exc)}; {kept}") from None
    return _indexed(source, file, root, path.resolve().as_uri(), data, retrieved_at)


def _indexed(
    source: Source, file: SourceFile, root: Path, url: str, data: bytes, retrieved_at: str
) -> FetchedFile:
    """Record a file now in the cache (its bytes `data`, taken from `url`) in ``index.json``."""
    fetched = FetchedFile(
        source=source.name,
        name=file.name,
        path=root / source.name / file.name,
        url=url,
        sha256=hashlib.sha256(data).hexdigest(),
        retrieved_at=retrieved_at,
        size=len(data),
    )
    _record(root, fetched)
    return fetched


@contextlib.contextmanager
def _temporary(target: Path) -> Iterator[Path]:
    """A fresh temporary path beside `target`, removed on exit unless it was moved away.

    The name starts with a dot and ends in ``.part`` so that it is never mistaken for data.
    """
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.part")
    try:
        yield tmp
    finally:
        # Also runs on KeyboardInterrupt, so an interrupted download leaves nothing behind.
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _download(url: str, tmp: Path, *, timeout: float, progress: bool) -> str | None:
    """Download `url` into `tmp` with pooch; return ``None``, or why it failed (one line)."""
    # Imported here: pooch pulls in requests, which would slow down every CLI start.
    import pooch  # type: ignore[import-untyped, unused-ignore]  # pooch has no type hints
    import requests
    import urllib3.exceptions

    try:
        downloader = pooch.HTTPDownloader(timeout=timeout, progressbar=progress)
    except ValueError:  # pooch found no usable tqdm after all: download without a bar
        downloader = pooch.HTTPDownloader(timeout=timeout, progressbar=False)
    try:
        # "xb": the name is fresh, and unlike mkstemp's 0600 the file gets the usual
        # permissions (umask), so a cache shared through $ATTRITION_CACHE stays readable.
        with open(tmp, "xb") as out:
            # Pooch's HTTPDownloader is called directly (not through pooch.retrieve), since
            # retrieve() would keep a cached copy instead of downloading the new figures.
            downloader(url=url, output_file=out, pooch=None)
            out.flush()
            # Make the new copy durable before it replaces the old one.
            os.fsync(out.fileno())
    except requests.exceptions.HTTPError as exc:
        response = exc.response
        if response is None:
            return "HTTP error"
        # pooch streams the body; close the unread response so its socket is released.
        response.close()
        return f"HTTP {response.status_code} {response.reason or ''}".rstrip()
    except requests.exceptions.Timeout:
        return f"timed out after {timeout:g} s without an answer (are you offline?)"
    except requests.exceptions.RequestException as exc:
        return _connection_reason(exc)
    except (urllib3.exceptions.HTTPError, http.client.HTTPException) as exc:
        # requests wraps these, but a few slip through on malformed responses.
        return f"bad response from the server ({type(exc).__name__})"
    except OSError as exc:
        # Checked after requests' exceptions, which are OSErrors too: this is the local file.
        return f"could not write {tmp.parent}: {_os_reason(exc)}"
    return None


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and what it wraps: args, urllib3 ``reason``, ``__cause__`` and ``__context__``."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        nested = [a for a in current.args if isinstance(a, BaseException)]
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            nested.append(reason)
        nested += [e for e in (current.__cause__, current.__context__) if e is not None]
        todo.extend(nested)


def _connection_reason(exc: BaseException) -> str:
    """Turn a requests/urllib3 connection error into a short human reason."""
    import urllib3.exceptions

    chain = list(_causes(exc))
    # Most specific first: urllib3's NewConnectionError subclasses its ConnectTimeoutError,
    # so a refused connection also looks like a timeout further up the chain.
    reasons: list[tuple[type[BaseException] | tuple[type[BaseException], ...], str]] = [
        (
            (socket.gaierror, urllib3.exceptions.NameResolutionError),
            "could not resolve the host name (are you offline?)",
        ),
        (ConnectionRefusedError, "connection refused (are you offline?)"),
        (ConnectionResetError, "connection reset by the server"),
        (
            (TimeoutError, urllib3.exceptions.TimeoutError),
            "timed out without an answer (are you offline?)",
        ),
    ]
    for kinds, reason in reasons:
        if any(isinstance(cause, kinds) for cause in chain):
            return reason
    names = {type(c).__name__ for c in chain}
    if "SSLError" in names:
        return "TLS/SSL error (a proxy or captive portal in the way?)"
    if "ProxyError" in names:
        return "could not connect through the proxy"
    if "ChunkedEncodingError" in names or "ProtocolError" in names:
        return "the connection broke off during the download"
    if "InvalidURL" in names or "MissingSchema" in names or "InvalidSchema" in names:
        return "not a valid URL"
    return f"connection failed ({type(exc).__name__}; are you offline?)"


def _os_reason(exc: OSError) -> str:
    """The short text of an OS error, without its errno prefix and path."""
    return exc.strerror or type(exc).__name__


def _check_content(data: bytes, name: str) -> str | None:
    """Return ``None`` if `data` looks like a good copy of file `name`, else why not."""
    if not data:
        return "the server sent an empty file"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"expected UTF-8 text, got undecodable bytes at offset {exc.start}"
    if text.lstrip()[:1] == "<":
        return "expected JSON or CSV, got an HTML/XML page (an error page or a login portal?)"
    if name.endswith(".csv"):
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) < 2 or "," not in lines[0]:
            return "expected a CSV table with a header line and at least one row"
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"expected JSON, got a file that does not parse (line {exc.lineno}: {exc.msg})"
    # An empty list or a JSON object (e.g. an API error) would silently lose every figure.
    if not isinstance(value, list) or not value:
        got = "an empty list" if value == [] else f"a JSON {type(value).__name__}"
        return f"expected a JSON list of daily records, got {got}"
    if not all(isinstance(item, dict) for item in value):
        return "expected a JSON list of daily records (objects), got other values in the list"
    return None


def _kept_message(root: Path, source: str, name: str, target: Path) -> str:
    """What a failed download leaves in place, for the end of the error message."""
    if not target.exists():
        return "no copy was cached before"
    try:
        entry = read_index(root / INDEX_NAME).get(source, {}).get(name)
    except SourceError:
        entry = None
    if entry is None:
        return f"kept the previous copy {target}"
    return f"kept the copy fetched on {entry['retrieved_at']}"


def _record(root: Path, fetched: FetchedFile) -> None:
    """Merge one file's entry into ``index.json`` and rewrite it atomically."""
    path = root / INDEX_NAME
    try:
        sources = read_index(path)
    except SourceError:
        # Fetching is how a broken index gets repaired: start a new one. Entries of other
        # sources are lost, so those read as "not fetched", which says what to do.
        sources = {}
    sources.setdefault(fetched.source, {})[fetched.name] = {
        "url": fetched.url,
        "sha256": fetched.sha256,
        "retrieved_at": fetched.retrieved_at,
        "size": fetched.size,
    }
    text = json.dumps({"version": _INDEX_VERSION, "sources": sources}, indent=2, sort_keys=True)
    with _temporary(path) as tmp:
        try:
            with open(tmp, "x", encoding="utf-8") as out:
                out.write(text + "\n")
                out.flush()
                # Make the new index durable before it replaces the old one.
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            raise FetchError(
                f"downloaded {fetched.path} but could not update {path}: {_os_reason(exc)}"
            ) from None
