"""The only writer of result files: atomic writes that never overwrite silently."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..errors import OutputExistsError

__all__ = ["atomic_write"]


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
    if target.exists() and not force:
        raise OutputExistsError.at(target)
    if target.exists() and target.is_dir():
        raise OutputExistsError(f"{target}: is a directory; expected a file name")
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
