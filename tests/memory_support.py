"""Peak memory of one ``attrition`` command, measured in the process that ran it.

``resource.getrusage`` is no good for this from a test: a child's ``ru_maxrss`` starts from
the resident size of the process it was forked from (Linux keeps the old memory map's
high-water mark across ``exec``), so a child of a big pytest process reports the parent's
size; and ``RUSAGE_CHILDREN`` is the largest of all children so far. The kernel's per-map
high-water mark, ``VmHWM`` in ``/proc/self/status``, starts afresh at ``exec``: the command
reads it as it exits and writes it to a file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

__all__ = ["attrition_peak"]

REPO = Path(__file__).resolve().parents[1]

_WRAPPER = """
import atexit, sys
_report = sys.argv[1]
def _peak():
    with open("/proc/self/status") as fh:
        kb = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
    with open(_report, "w") as out:
        out.write(str(kb * 1024))
atexit.register(_peak)
from simulate.cli import main
sys.argv = ["attrition", *sys.argv[2:]]
main()
"""


def attrition_peak(
    tmp_path: Path, *args: str, timeout: float = 900
) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run ``attrition ARGS`` in a fresh interpreter importing this checkout; the completed
    process and its peak resident memory in bytes (skips where there is no /proc)."""
    if not Path("/proc/self/status").is_file():
        pytest.skip("no /proc/self/status here to read a process's peak memory from")
    report = tmp_path / "peak-bytes"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", _WRAPPER, str(report), *args],
        capture_output=True, text=True, timeout=timeout, env=env, check=False,
    )  # fmt: skip
    return done, int(report.read_text())
