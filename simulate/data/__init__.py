"""Reported data: read, validate, check and fetch the reported figures (no fitting here).

The public API:

* :func:`load` / :func:`load_all` — read files or fetched sources into :class:`ReportedData`;
* :func:`check` — list what is wrong with the figures (:class:`Finding`);
* :func:`apply_policy` — turn reported figures into a complete daily series under a
  documented :class:`DataPolicy` (gaps, corrections, slips, start date);
* :func:`fetch` — download the public compilations into a local cache.
"""

from __future__ import annotations

from .loading import load, load_all
from .model import FLAGS, FileRecord, ReportedData
from .sources import GENERAL_STAFF, SOURCES
from .vocabulary import CANONICAL_SERIES, canonical_name

__all__ = [
    "CANONICAL_SERIES",
    "FLAGS",
    "GENERAL_STAFF",
    "SOURCES",
    "FileRecord",
    "ReportedData",
    "canonical_name",
    "load",
    "load_all",
]
