"""Reported data: read, validate, check and fetch the reported figures (no fitting here).

The public API:

* :func:`load` / :func:`load_all` — read files or fetched sources into :class:`ReportedData`;
* :func:`check` — list what is wrong with the figures (:class:`Finding`);
* :func:`apply_policy` — turn reported figures into a complete daily series under a
  documented :class:`DataPolicy` (gaps, corrections, slips, start date);
* :func:`fetch` — download the public compilations into a local cache.

One module per job, in the order the figures flow through them:

* ``vocabulary`` — canonical series names and the aliases the compilations use;
* ``sources`` — the known public compilations and the bundled example;
* ``datafile`` — one file on disk: refused unless a regular file, hashed and checked in one
  streaming pass, a CSV's rows gathered column by column in blocks;
* ``readers`` — one reader per file layout (``read_file``, ``detect_format``);
* ``serieslayout`` — the tool's own series files (``attrition series``) read back;
* ``cells`` — one date or count cell, parsed or refused with a message naming the cell;
* ``reported`` — the tidy table (:class:`ReportedData`), its schema and flags, kind detection
  and assembly of a reader's rows into the table;
* ``loading`` — ``load`` / ``load_all``: paths or source names to one table per source;
* ``steps`` — the shape of a daily series: reporting granularity and rolling level;
* ``findings`` — the :class:`Finding` record, its kinds and fields, ``findings_frame``;
* ``checks`` — ``check`` and the per-series checks;
* ``slips`` — transcription slips found from one compilation's own shape;
* ``crosscheck`` — disagreements between compilations;
* ``policy`` — ``apply_policy``: the documented repairs, only when asked;
* ``cache`` — the local cache of fetched sources: ``cache_dir``, its index, ``fetched_files``;
* ``fetching`` — ``fetch``: downloading the public compilations into the cache.
"""

from __future__ import annotations

from .cache import cache_dir, fetched_files
from .checks import check
from .fetching import fetch
from .findings import FINDING_FIELDS, FINDING_KINDS, Finding, findings_frame, usable
from .loading import load, load_all
from .policy import DataPolicy, apply_policy
from .reported import FLAGS, FileRecord, ReportedData
from .sources import GENERAL_STAFF, SOURCES
from .vocabulary import CANONICAL_SERIES, canonical_name

__all__ = [
    "CANONICAL_SERIES",
    "FINDING_FIELDS",
    "FINDING_KINDS",
    "DataPolicy",
    "Finding",
    "apply_policy",
    "cache_dir",
    "fetch",
    "fetched_files",
    "check",
    "findings_frame",
    "usable",
    "FLAGS",
    "GENERAL_STAFF",
    "SOURCES",
    "FileRecord",
    "ReportedData",
    "canonical_name",
    "load",
    "load_all",
]
