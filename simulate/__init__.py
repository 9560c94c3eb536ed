"""attrition: models of publicly *reported* daily attrition figures.

The tool models the reported numbers, not ground truth: every output says whose figures it
models. The library API lives in :mod:`simulate.data` (read, check, fetch, data policy);
the ``attrition`` command line is a thin layer over it.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("attrition")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

CAVEAT = "These are the figures as reported by {reporter}, not verified counts of actual losses."

__all__ = ["CAVEAT", "__version__"]
