"""attrition: models of publicly *reported* daily attrition figures.

The tool models the reported numbers, not ground truth: every output says whose figures it
models. The library API: :mod:`simulate.data` (read, check, fetch, data policy),
:mod:`simulate.models`, :mod:`simulate.pipeline` (scenario runs), :mod:`simulate.backtest`
and :func:`project` (one call for notebooks); the ``attrition`` command line is a thin layer.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("attrition")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

CAVEAT = "These are the figures as reported by {reporter}, not verified counts of actual losses."

__all__ = ["CAVEAT", "__version__", "project"]


def project(*args: Any, **kwargs: Any) -> Any:
    """Project a daily series under the status quo: see :func:`simulate.quick.project`.

    (Imported on first use, so that ``import simulate`` stays light.)
    """
    from .quick import project as _project

    return _project(*args, **kwargs)
