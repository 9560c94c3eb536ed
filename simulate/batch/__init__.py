"""Batches of scenario files: validate all, then fit and project series in parallel.

* :mod:`.runner` — :func:`run_batch`: one run directory and one :class:`Outcome` per file;
* :mod:`.executors` — where tasks run (this process, worker processes, Dask), one retry policy;
* :mod:`.partial` — finished tasks kept until their run directory is written (``--resume``),
  and whether a run directory is complete and current;
* :mod:`.keep` — a kept task result as data only (JSON and ``.npz``, never pickle).

The CLI's ``attrition run`` is a thin layer over :func:`run_batch`.
"""

from __future__ import annotations

from .runner import DEFAULT_OUT, Outcome, expand, run_batch

__all__ = ["DEFAULT_OUT", "Outcome", "expand", "run_batch"]
