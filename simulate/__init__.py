"""attrition: models of publicly *reported* daily attrition figures.

The tool models the reported numbers, not ground truth: every output says whose figures it
models. The flow, one package or module per arrow:

* :mod:`simulate.data` — reported figures: read, check, fetch, data policy, daily series;
* :mod:`simulate.models` — fit a model to a daily series; a fitted model simulates paths;
* :mod:`simulate.scenarios` — scenario files: config, parsing, sweeps, adjustment maths;
* :mod:`simulate.engine` — scenario-adjusted paths, reduced block by block to quantiles;
* :mod:`simulate.evaluation` — scoring, backtests, the choice of ``kind = "auto"``;
* :mod:`simulate.pipeline` — the one composer (prepare, run, explain);
* :mod:`simulate.summaries` — the tables of a run;
* :mod:`simulate.outputs` — atomic writes, run and backtest directories, charts;
* :mod:`simulate.compare` — what differs between two runs or tables;
* :mod:`simulate.batch` — many scenario files in parallel;
* :func:`project` — one call for notebooks (:mod:`simulate.notebook`);

and the ``attrition`` command line (:mod:`simulate.cli`) is a thin layer over them;
:mod:`simulate.about` holds the version and the caveat.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .about import CAVEAT, __version__

__all__ = ["CAVEAT", "__version__", "project"]

if TYPE_CHECKING:
    from .notebook import project


def __getattr__(name: str) -> Any:
    # `project` is imported on first use, so that ``import simulate`` stays light.
    if name == "project":
        from .notebook import project

        return project
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
