"""The only writer of result files: atomic writes that never overwrite silently.

* :func:`reserve` — hold a target for this process (a lock beside it, from the "already
  exists" check to the publishing rename), having checked that its folder can be written;
* :func:`atomic_write` — one file, written beside its target and renamed onto it;
* :func:`building_dir` (:func:`staging_dir`, then :func:`publish`) — a directory built hidden
  beside its target and moved into place complete;
* :func:`check_target` — the one "already exists; use --force" check all of them use;
* :func:`writing` — file-system errors (``OSError``) as one-line :class:`OutputError`.

Two processes writing one target: the second finds the lock taken and stops before doing any
work; should a target appear by other means while a run works, the final rename does not
replace it (``renameat2(RENAME_NOREPLACE)`` on Linux, a link or a checked rename elsewhere).
A lock is an ``flock`` on ``.<name>.lock`` beside the target: the kernel releases it when its
process dies, so a crash never leaves a lock that blocks, and the next holder removes the file.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import functools
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import OutputError, OutputExistsError

__all__ = [
    "atomic_write",
    "building_dir",
    "check_target",
    "output_error",
    "publish",
    "reserve",
    "staging_dir",
    "writing",
]


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


# --- file-system errors as one line --------------------------------------------------------

_OS_ERROR = re.compile(r"os error (\d+)")


def output_error(exc: BaseException, path: str | os.PathLike[str]) -> OutputError | None:
    """``{path}: {reason}`` for a file-system error met writing `path`; None if `exc` is not one.

    Besides ``OSError`` this recognises the I/O errors of Polars' writers, which carry the
    reason only in their text (``... No space left on device (os error 28)``).
    """
    if isinstance(exc, OSError) and exc.strerror:
        return OutputError(f"{path}: {exc.strerror}")
    found = _OS_ERROR.search(str(exc))
    if found is not None and (isinstance(exc, OSError) or "IO error" in str(exc)):
        return OutputError(f"{path}: {os.strerror(int(found.group(1)))}")
    if isinstance(exc, OSError):
        return OutputError(f"{path}: {exc}")
    return None


@contextmanager
def writing(path: str | os.PathLike[str], staged: Path | None = None) -> Iterator[None]:
    """Turn a file-system error in the block into :class:`OutputError` naming `path` (or the
    file of `path` that failed when the block writes into the staging directory `staged`)."""
    try:
        yield
    except Exception as exc:
        named: str | os.PathLike[str] = path
        filename = getattr(exc, "filename", None)
        if staged is not None and isinstance(filename, str) and filename.startswith(f"{staged}/"):
            named = Path(path) / filename[len(f"{staged}/") :]
        error = output_error(exc, named)
        if error is None:
            raise
        raise error from exc


# --- holding a target ----------------------------------------------------------------------

#: Targets this process holds: absolute path -> [lock file descriptor, nesting depth].
_HELD: dict[str, list[int]] = {}


#: ``flock`` errors of file systems that do not lock (some network file systems).
_NO_LOCKS = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL)


def _lock_path(target: Path) -> Path:
    return target.parent / f".{target.name}.lock"


def _take_lock(target: Path) -> int:
    """Lock ``.<name>.lock`` beside `target` (without waiting); its file descriptor."""
    path = _lock_path(target)
    for _ in range(20):
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise OutputExistsError(
                f"{target}: another attrition run is writing it; wait for it to end, "
                f"or choose another output"
            ) from None
        except OSError as exc:
            if exc.errno not in _NO_LOCKS:
                os.close(fd)
                raise
            return fd  # a file system without locks: the no-replace rename still guards
        except BaseException:
            os.close(fd)
            raise
        try:  # the holder before us removes the file as it lets go: ours must still be there
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)
    raise OutputError(f"{path}: lock file keeps being replaced")  # pragma: no cover


def _release(target: Path, fd: int) -> None:
    with contextlib.suppress(OSError):  # still locked: no one else removes it meanwhile
        _lock_path(target).unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # worker processes forked meanwhile share the lock
        fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def _stale(target: Path) -> Iterator[Path]:
    """Staging files and directories of `target` left by a process that died (``tempfile``
    names: ``.<name>.`` then 8 characters, then ``.tmp`` or ``.old``)."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.[a-z0-9_]{{8}}\.(tmp|old)")
    if target.parent.is_dir():
        for entry in target.parent.iterdir():
            if pattern.fullmatch(entry.name):
                yield entry


@contextmanager
def reserve(target: Path, *, force: bool, directory: bool) -> Iterator[None]:
    """Hold `target` for this process until the block ends.

    Takes the lock beside `target`, checks it (:func:`check_target`), checks that its folder
    can be written (a staging directory is created and removed) and removes staging left there
    by processes that died while writing `target`. Re-entrant within one process. When the
    block ends without `target` written, the folders made for it are removed again if empty.

    Raises
    ------
    OutputExistsError
        `target` exists (and not `force`), or another process holds it.
    OutputError
        Its folder cannot be created or written.
    """
    key = os.path.abspath(target)
    if key in _HELD:
        check_target(target, force=force, directory=directory)
        _HELD[key][1] += 1
        try:
            yield
        finally:
            _HELD[key][1] -= 1
        return
    made = [d for d in (target.parent, *target.parent.parents) if not d.exists()]
    with writing(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = _take_lock(target)
    try:
        check_target(target, force=force, directory=directory)
        with writing(target):
            os.rmdir(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
            for stale in _stale(target):
                if stale.is_dir() and not stale.is_symlink():
                    shutil.rmtree(stale, ignore_errors=True)
                else:
                    stale.unlink(missing_ok=True)
        _HELD[key] = [fd, 1]
        yield
    finally:
        _HELD.pop(key, None)
        _release(target, fd)
        if not target.exists():  # nothing was written: the folders made for it go too
            for d in made:  # deepest first; one in use (not empty) stops it
                try:
                    d.rmdir()
                except OSError:
                    break


# --- renaming without replacing ------------------------------------------------------------

_AT_FDCWD = -100
_RENAME_NOREPLACE = 1


@functools.cache
def _renameat2_call() -> Any:
    """The C library's ``renameat2`` (glibc 2.28+), or None."""
    try:
        call = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    call.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    call.restype = ctypes.c_int
    return call


def _renameat2(src: Path, dst: Path) -> bool:
    """``renameat2(RENAME_NOREPLACE)``; False when this system or file system lacks it."""
    call = _renameat2_call()
    if call is None:
        return False
    if call(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), _RENAME_NOREPLACE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(src), None, str(dst))


def _rename_noreplace(src: Path, dst: Path) -> None:
    """Rename `src` to `dst`; ``FileExistsError`` if `dst` exists (then `src` is unchanged)."""
    if _renameat2(src, dst):
        return
    if src.is_file():
        os.link(src, dst)  # fails if dst exists
        os.unlink(src)
        return
    # A directory renamed onto an empty one replaces it: check (we hold the lock).
    if os.path.lexists(dst):
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(dst))
    os.rename(src, dst)


def _appeared(target: Path, what: str) -> OutputExistsError:
    return OutputExistsError(
        f"{target}: appeared while this run was working; use --force to replace it "
        f"or choose another {what}"
    )


# --- files and directories -----------------------------------------------------------------


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def atomic_write(
    path: str | os.PathLike[str],
    content: bytes | str | Callable[[Path], None],
    *,
    force: bool = False,
) -> Path:
    """Write a file atomically: to a temporary file beside it, then rename onto the target.

    Parameters
    ----------
    path
        Target file. Its directory is created if needed.
    content
        Bytes, text (written as UTF-8), or a function that writes the temporary path it is
        given (e.g. ``frame.write_parquet``).
    force
        Replace an existing file; otherwise :class:`OutputExistsError` is raised (also when
        the file appears while this one is written).

    A reader never sees a half-written file, and a failure leaves no temporary file behind.

    Raises
    ------
    OutputExistsError
        The file exists and not `force`, or another process is writing it.
    OutputError
        A file-system error (``{path}: No space left on device``, ...).
    """
    target = Path(path)
    if force:  # a rename replaces atomically: no lock needed
        check_target(target, force=True, directory=False)
        _write_file(target, content, force=True)
    else:
        with reserve(target, force=False, directory=False):
            _write_file(target, content, force=False)
    return target


def _write_file(
    target: Path, content: bytes | str | Callable[[Path], None], *, force: bool
) -> None:
    with writing(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with writing(target):
            if callable(content):
                os.close(fd)
                content(tmp)
            else:
                data = content.encode("utf-8") if isinstance(content, str) else content
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
            # mkstemp creates the file readable by its owner only; results are for everyone
            # the user's umask allows, like any other file they write.
            os.chmod(tmp, 0o666 & ~_umask())
            if force:
                os.replace(tmp, target)
            else:
                try:
                    _rename_noreplace(tmp, target)
                except FileExistsError:
                    raise _appeared(target, "output file") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def staging_dir(target: Path, force: bool) -> Path:
    """A hidden temporary directory beside `target` to build it in (checks `force` first)."""
    check_target(target, force=force, directory=True)
    with writing(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))


def publish(tmp: Path, target: Path, *, force: bool = True) -> None:
    """Move a complete directory into place, replacing `target` only once `tmp` is complete,
    and only if `force` (else :class:`OutputExistsError` if `target` appeared meanwhile)."""
    with writing(target):
        os.chmod(tmp, 0o777 & ~_umask())
        if not force:
            try:
                _rename_noreplace(tmp, target)
            except FileExistsError:
                raise _appeared(target, "--out") from None
        elif target.exists():
            old = Path(
                tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent)
            )
            os.replace(target, old / "run")
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)


@contextmanager
def building_dir(target: Path, *, force: bool) -> Iterator[Path]:
    """Build the directory `target`: yield a staging directory, publish it when the block
    ends, remove it when the block raises (then `target` is as it was).

    `target` is held (:func:`reserve`) from the check to the rename. A file-system error in
    the block becomes :class:`OutputError` naming the file of `target` that failed.

    Raises
    ------
    OutputExistsError
        `target` exists and `force` is false (before anything is built), or another process
        is writing it, or it appeared meanwhile.
    OutputError
        A file-system error.
    """
    with reserve(target, force=force, directory=True):
        tmp = staging_dir(target, force)
        try:
            with writing(target, staged=tmp):
                yield tmp
            publish(tmp, target, force=force)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
