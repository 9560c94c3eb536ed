"""Exception types of `attrition`.

Every error the library raises on bad input is a subclass of :class:`AttritionError`
(itself a ``ValueError``), carries a one-line message naming the file, the row or key
and what was expected, and is turned into a one-line message and an exit code by the CLI.
This module imports nothing from the rest of the package.
"""

from __future__ import annotations

from os import PathLike

__all__ = [
    "AttritionError",
    "LocatedError",
    "DataError",
    "ScenarioError",
    "SizeError",
    "SelectionError",
    "NotAFileError",
    "FetchError",
    "SourceError",
    "PolicyError",
    "ModelError",
    "OutputExistsError",
    "OutputError",
    "ExecutorError",
    "RunInvalidError",
    "CompareError",
    "USAGE_ERRORS",
    "exit_code",
]


class AttritionError(ValueError):
    """Base class of every error raised by `attrition` on bad input or a failed step."""


class LocatedError(AttritionError):
    """An error at a place in an input file: the message is ``{file}: {where}: {message}``.

    Parameters
    ----------
    file
        The file (or source name) concerned.
    where
        The row, line or key where the problem is, e.g. ``"line 12"`` or
        ``"scenario[1].adjust[0].factor"``; empty when the problem concerns the whole file.
    message
        What is wrong and what was expected.
    """

    def __init__(self, file: str | PathLike[str], where: str, message: str) -> None:
        self.file = str(file)
        self.where = where
        self.message = message
        location = f"{self.file}: {where}" if where else self.file
        super().__init__(f"{location}: {message}")

    def __reduce__(self) -> tuple[type[LocatedError], tuple[str, str, str]]:
        # Rebuilt from its parts, so it survives the trip back from a worker process.
        return (type(self), (self.file, self.where, self.message))


class DataError(LocatedError):
    """Reported figures that cannot be read or do not make sense."""


class ScenarioError(LocatedError):
    """A scenario file that cannot be read or is not valid (key paths use 0-based indices)."""


class SizeError(ScenarioError):
    """A run too big for the memory or time available, refused before it starts (a usage
    error, exit status 2): the message names the setting and what would fit."""


class SelectionError(DataError):
    """A series asked for that the figures do not hold (a usage error, exit status 2)."""


class NotAFileError(DataError):
    """A data path that is not a regular file (a directory, a named pipe, a socket, a device):
    a usage error, exit status 2. Reading a named pipe would wait for a writer forever."""


class SourceError(AttritionError):
    """A data source name that is unknown, or known but not fetched yet."""


class FetchError(AttritionError):
    """Downloading a public compilation failed (offline, timeout, bad checksum, ...)."""


class PolicyError(AttritionError):
    """A data policy that cannot be applied to these figures (e.g. ``gaps="raise"`` with gaps)."""


class ModelError(AttritionError):
    """A model specification that is invalid, or figures a model cannot be fitted to."""


class OutputExistsError(AttritionError):
    """The output file or directory exists and replacing it was not asked for (``--force``)."""

    @classmethod
    def at(cls, target: str | PathLike[str]) -> OutputExistsError:
        """The one message for an existing output: ``{target}: already exists; use --force ...``."""
        return cls(f"{target}: already exists; use --force to replace it")


class OutputError(AttritionError):
    """An output that could not be written: a file-system error (no space left on the device, a
    read-only or unwritable folder, standard output closed). The message is ``{path}: {reason}``;
    a failed step, exit status 1."""


class ExecutorError(AttritionError):
    """An executor that cannot be used as asked (Dask not installed, a scheduler that cannot be
    reached): a usage error, exit status 2."""


class RunInvalidError(AttritionError):
    """A run directory failed validation."""


class CompareError(AttritionError):
    """Two tables, files or runs that cannot be compared (exit status 2 in the CLI)."""


#: Errors in how the tool was asked (a usage error, exit status 2); every other
#: :class:`AttritionError` is a failed step on valid usage (exit status 1).
USAGE_ERRORS: tuple[type[AttritionError], ...] = (
    ScenarioError,
    SelectionError,
    NotAFileError,
    SourceError,
    OutputExistsError,
    CompareError,
    ExecutorError,
)


def exit_code(error: AttritionError) -> int:
    """The exit status of the command line for `error`: 2 for usage errors, else 1."""
    return 2 if isinstance(error, USAGE_ERRORS) else 1
