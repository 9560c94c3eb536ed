"""What the tool is: its version, and the caveat every output carries about whose figures it
models (imports nothing from the rest of the package)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["CAVEAT", "__version__"]

try:
    __version__ = version("attrition")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

#: The caveat, with the reporter named (``CAVEAT.format(reporter=...)``).
CAVEAT = "These are the figures as reported by {reporter}, not verified counts of actual losses."
