"""What the fault tests share (no tests here): a user pressing Ctrl-C during a run."""

from __future__ import annotations

from typing import Any

import pytest

__all__ = ["interrupt_after"]


def interrupt_after(monkeypatch: pytest.MonkeyPatch, n: int) -> None:
    """The user stops the run while task `n + 1` runs (the first `n` finish); undone with
    `monkeypatch` (e.g. ``monkeypatch.undo()`` or a ``monkeypatch.context()``)."""
    import simulate.batch.executors as ex

    real, calls = ex.project_series, []

    def stopped(*args: Any, **kw: Any) -> Any:
        calls.append(1)
        if len(calls) > n:
            raise KeyboardInterrupt
        return real(*args, **kw)

    monkeypatch.setattr(ex, "project_series", stopped)
