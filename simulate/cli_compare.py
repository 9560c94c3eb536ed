"""Where ``compare_cmd`` used to live; it is now :mod:`simulate.cli.compare`.

Kept only so that ``from simulate.cli_compare import compare_cmd`` (tests/test_compare.py)
still works; import it from :mod:`simulate.cli.compare` instead.
"""

from __future__ import annotations

from .cli.compare import compare_cmd

__all__ = ["compare_cmd"]
