"""The only writer of result files: atomic writes that never overwrite silently.

* :func:`atomic_write` — one file, written beside its target and renamed over it;
* :func:`building_dir` (:func:`staging_dir`, then :func:`publish`) — a directory built hidden
  beside its target and moved into place complete;
* :func:`check_target` — the one "already exists; use --force" check both use.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import OutputExistsError

__all__ = ["atomic_write", "building_dir", "check_target", "publish", "staging_dir"]


def check_target(target: Path, *, force: bool, directory: bool) -> None:
    """Refuse to write `target` if it exists and `force` is false, or if it is a file where a
    directory is to go (or the reverse).

    Raises
    ------
    OutputExistsError
        ``{target}: already exists; use --force to replace it`` (:meth:`OutputExistsError.at`),
        or ``{target}: is a file; expected a directory`` (``is a directory; expected a file
        name``).
    """
    if not target.exists():
        return
    if not force:
        raise OutputExistsError.at(target)
    if directory and not target.is_dir():
        raise OutputExistsError(f"{target}: is a file; expected a directory")
    if not directory and target.is_dir():
        raise OutputExistsError(f"{target}: is a directory; expected a file name")


def atomic_write(
    path: str | os.PathLike[str],
    content: bytes | str | Callable[[Path], None],
    *,
    force: bool = False,
) -> Path:
    """Write a file atomically: to a temporary file beside it, then rename over the target.

    Parameters
    ----------
    path
        Target file. Its directory is created if needed.
    content
        Bytes, text (written as UTF-8), or a function that writes the temporary path it is
        given (e.g. ``frame.write_parquet``).
    force
        Replace an existing file; otherwise :class:`OutputExistsError` is raised.

    A reader never sees a half-written file, and a failure leaves no temporary file behind.
    """
    target = Path(path)
    check_target(target, force=force, directory=False)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        if callable(content):
            os.close(fd)
            content(tmp)
        else:
            data = content.encode("utf-8") if isinstance(content, str) else content
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        # mkstemp creates the file readable by its owner only; results are for everyone the
        # user's umask allows, like any other file they write.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def staging_dir(target: Path, force: bool) -> Path:
    """A hidden temporary directory beside `target` to build it in (checks `force` first)."""
    check_target(target, force=force, directory=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))


def publish(tmp: Path, target: Path) -> None:
    """Move a complete directory into place, replacing `target` only once `tmp` is complete."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
        os.replace(target, old / "run")
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, target)


@contextmanager
def building_dir(target: Path, *, force: bool) -> Iterator[Path]:
    """Build the directory `target`: yield a staging directory, publish it when the block
    ends, remove it when the block raises (then `target` is as it was).

    Raises
    ------
    OutputExistsError
        `target` exists and `force` is false (before anything is built).
    """
    tmp = staging_dir(target, force)
    try:
        yield tmp
        publish(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
