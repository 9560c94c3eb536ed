"""Tests of :mod:`simulate.data.findings`: the finding record as a table and the verdict."""

from __future__ import annotations

from dataclasses import fields, replace

from simulate.data import check, findings_frame, load, usable
from simulate.data.findings import FINDING_FIELDS, FINDING_KINDS, Finding


def test_findings_frame_has_documented_columns() -> None:
    frame = findings_frame(check(load("example")))
    assert tuple(frame.columns) == FINDING_FIELDS
    assert frame.height > 0
    assert set(frame.get_column("severity").unique()) <= {"info", "warning", "error"}


def test_usable_only_without_errors() -> None:
    gap = Finding("gap", "warning", "a", "tanks", "2024-01-02", None, None, None, "1 day")
    assert usable([]) and usable([gap])
    assert not usable([gap, replace(gap, kind="too_short", severity="error")])


def test_every_kind_is_documented_and_every_field_is_a_column() -> None:
    kinds = {f.kind for f in check(load("example"))}
    assert kinds <= set(FINDING_KINDS)
    assert tuple(f.name for f in fields(Finding)) == FINDING_FIELDS
