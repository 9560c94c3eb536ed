"""Tests of :mod:`simulate.data.loading`: `load` and `load_all` turn paths and source names
into one :class:`~simulate.data.reported.ReportedData` per source, merging the files of one
compilation, reading a file named twice once and selecting series after merging.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from data_helpers import check_table, write

from simulate.data.loading import load, load_all
from simulate.data.sources import GENERAL_STAFF, SOURCES, example_path
from simulate.errors import DataError, SelectionError, SourceError

FIGURES = "date,tanks,personnel\n2024-01-01,1,10\n2024-01-02,2,30\n2024-01-03,4,60\n"


# --------------------------------------------------------------------------- references


def test_example_by_name_is_the_bundled_file() -> None:
    data = load("example")
    assert data.source == "example"
    assert [f.path for f in data.files] == [str(example_path())]
    assert data.reported_by == SOURCES["example"].reported_by
    check_table(data.table)


def test_no_data_and_unknown_names() -> None:
    with pytest.raises(SourceError, match="no data given"):
        load_all([])
    with pytest.raises(SourceError, match="no data given"):
        load()
    with pytest.raises(SourceError) as info:
        load("nope")
    assert "'nope' is neither an existing file nor a known source" in str(info.value)
    assert "lod-db" in str(info.value)


# --------------------------------------------------------------------------- options


def test_load_passes_every_option_on(tmp_path: Path) -> None:
    path = write(tmp_path, "k.csv", FIGURES.replace("date", "Datum"))
    options = {
        "kind": "daily",
        "date_column": "Datum",
        "series": ["tanks"],
        "reported_by": "the Ministry of Examples",
    }
    data = load(path, **options)  # type: ignore[arg-type]
    assert data.series_names == ["tanks"]
    assert data.table.get_column("cumulative").to_list() == [1, 3, 7]
    assert data.reported_by == "the Ministry of Examples"
    (same,) = load_all([path], **options)  # type: ignore[arg-type]
    assert same.table.equals(data.table) and same.reported_by == data.reported_by
    with pytest.raises(TypeError):
        load(path, colour="red")  # type: ignore[call-arg]


def test_missing_series_names_what_there_is(tmp_path: Path) -> None:
    path = write(tmp_path, "s.csv", FIGURES)
    with pytest.raises(SelectionError) as info:
        load(path, series=["tanks", "helicopters"])
    msg = str(info.value)
    assert msg.startswith(str(path)) and "series 'helicopters'" in msg
    assert "not in these figures; found: personnel, tanks" in msg
    # Aliases select like canonical names.
    assert load(path, series=["tank"]).series_names == ["tanks"]


# --------------------------------------------------------------------------- sources


def test_load_refuses_several_sources(tmp_path: Path) -> None:
    a = write(tmp_path, "a.csv", FIGURES)
    b = write(tmp_path, "b.csv", FIGURES)
    with pytest.raises(SourceError, match=r"belong to 2 sources \(a, b\); load them with load_all"):
        load(a, b)
    assert [d.source for d in load_all([a, b])] == ["a", "b"]


def test_same_file_named_twice_is_read_once(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", FIGURES)
    (data,) = load_all([path, tmp_path / "." / "a.csv"])
    assert len(data.files) == 1
    assert data.table.equals(load(path).table)


def test_same_file_name_in_two_folders_is_two_sources(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    a = write(tmp_path / "x", "f.csv", FIGURES)
    b = write(tmp_path / "y", "f.csv", FIGURES)
    assert [d.source for d in load_all([a, b])] == ["f", str(b)]


# --------------------------------------------------------------------------- real data


def test_petroivaniuk_files_load_together(shared: dict[str, Path]) -> None:
    loaded = load_all([shared["pi_personnel"], shared["pi_equipment"], shared["pi_correction"]])
    assert len(loaded) == 1
    data = loaded[0]
    assert data.source == "petroivaniuk"
    assert data.reported_by == GENERAL_STAFF
    assert [f.format for f in data.files] == [
        "petroivaniuk-personnel",
        "petroivaniuk-equipment",
        "petroivaniuk-correction",
    ]
    assert {"personnel", "tanks", "afv", "artillery", "vehicles", "fuel_tanks"} <= set(
        data.series_names
    )
    check_table(
        data.table.with_columns(pl.col("flags").list.set_difference(["official_correction"]))
    )

    corr = {(r["date"], r["series"]): r["delta"] for r in data.corrections.to_dicts()}
    assert corr[(dt.date(2022, 10, 13), "afv")] == -25
    assert corr[(dt.date(2022, 10, 13), "artillery")] == 32
    assert corr[(dt.date(2023, 5, 27), "tanks")] == -5
    assert (dt.date(2022, 10, 13), "tanks") not in corr  # a zero delta is no correction

    def flags(series: str, day: dt.date) -> list[str]:
        return list(
            data.table.filter((pl.col("series") == series) & (pl.col("date") == day))
            .get_column("flags")
            .item()
            .to_list()
        )

    assert "official_correction" in flags("afv", dt.date(2022, 10, 13))
    assert "correction" in flags("afv", dt.date(2022, 10, 13))  # the total went down that day
    assert "official_correction" in flags("artillery", dt.date(2023, 5, 27))
    assert "official_correction" not in flags("tanks", dt.date(2022, 10, 13))
    assert "official_correction" not in flags("afv", dt.date(2022, 10, 12))
    # Exactly the (date, series) pairs of the correction file are marked.
    marked = data.table.filter(pl.col("flags").list.contains("official_correction"))
    assert {(r["date"], r["series"]) for r in marked.to_dicts()} == set(corr)


def test_petroivaniuk_correction_file_alone_is_refused(shared: dict[str, Path]) -> None:
    with pytest.raises(DataError, match="only corrections"):
        load_all([shared["pi_correction"]])
