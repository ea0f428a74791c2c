"""SIC parsing and DCMS classification: hand-made cases and the counts stated in ../shared/data/README.md."""

import pandas as pd
import pytest

from creative_clusters_plugin.core.errors import CreativeClustersError
from creative_clusters_plugin.core.firms.sic_classification import (
    Rule,
    classify_frame,
    companies_house_sic_columns,
    load_definition,
    parse_sic,
)
from creative_clusters_plugin.core.firms.subsectors import SUBSECTOR_NAMES


@pytest.mark.parametrize(
    "text, sic4",
    [
        ("59111 - Motion picture production activities", "5911"),
        ("59111", "5911"),
        ("5911", "5911"),
        ("59.11", "5911"),
        ("59.2", "5920"),
        (" 62012 ", "6201"),
        (62012.0, "6201"),
        ("71.11/1", "7111"),
    ],
)
def test_parse_accepts_every_written_form(text, sic4):
    assert parse_sic(text).sic4 == sic4


@pytest.mark.parametrize("text", [None, "", "   ", "None Supplied", "n/a", float("nan"), "7"])
def test_parse_rejects_blank_and_garbage(text):
    assert parse_sic(text) is None


def test_default_definition_has_the_31_dcms_classes_in_nine_subsectors():
    definition = load_definition()
    creative = {k: v for k, v in definition.klass.items() if "creative" in v[0]}
    assert len(creative) == 31
    assert {sub for _, sub in creative.values()} == set(SUBSECTOR_NAMES)
    hightech = [k for k, v in definition.klass.items() if "hightech" in v[0]]
    assert len(hightech) == 47
    assert creative["7111"][1] == "Architecture"
    assert creative["9102"][1] == "Museums, galleries and libraries"


def _frame(rows):
    return pd.DataFrame(rows, columns=["s1", "s2", "s3", "s4"])


def test_first_versus_any_rule():
    frame = _frame(
        [
            ["68209 - Other letting", "59111 - Motion picture production", None, None],  # creative only under ANY
            ["71111 - Architectural activities", "62012 - Software", None, None],  # Architecture both ways
            ["99999 - Dormant Company", None, None, None],
            ["74990 - Non-trading company", "90030 - Artistic creation", None, None],  # trading code: not dormant
            ["None Supplied", "", None, None],
            ["62020 - IT consultancy", None, None, None],  # creative AND high-tech
            ["69201 - Accounting", None, None, None],  # KIBS
            ["12345", None, None, None],  # parseable, in no list
        ]
    )
    first = classify_frame(frame, ["s1", "s2", "s3", "s4"], Rule.FIRST).table
    anyr = classify_frame(frame, ["s1", "s2", "s3", "s4"], Rule.ANY).table
    assert first["cc_creative"].tolist() == [False, True, False, True, False, True, False, False]
    assert anyr["cc_creative"].tolist() == [True, True, False, True, False, True, False, False]
    assert anyr.loc[0, "cc_subsector"] == "Film, TV, video, radio and photography"
    assert first.loc[0, "cc_subsector"] is None
    assert first.loc[1, "cc_subsector"] == "Architecture" == anyr.loc[1, "cc_subsector"]
    assert first["cc_dormant"].tolist() == [False, False, True, False, False, False, False, False]
    assert first.loc[3, "cc_subsector"] == "Music, performing and visual arts"
    assert first["cc_hightech"].tolist() == [False, False, False, False, False, True, False, False]
    # KIBS divisions 69, 70, 71, 73, 74: architecture (71) and accounting (69)
    assert first["cc_kibs"].tolist() == [False, True, False, False, False, False, True, False]
    assert first["sic4"].tolist()[:3] == ["6820", "7111", "9999"]
    assert first.loc[4, "sic4"] is None


def test_unparseable_codes_are_counted_and_reported():
    frame = _frame([["None Supplied", None, None, None], ["garbage", "59111", None, None], [None, None, None, None]])
    result = classify_frame(frame, ["s1", "s2", "s3", "s4"])
    assert result.unparseable == 2
    assert result.counts["no code"] == 2  # rows 0 and 2
    assert result.table["cc_creative"].tolist() == [False, True, False]
    assert any("no recognisable code" in w for w in result.warnings)


def test_input_frame_is_not_modified():
    frame = _frame([["59111", None, None, None]])
    before = frame.copy()
    classify_frame(frame, ["s1"])
    pd.testing.assert_frame_equal(frame, before)


def test_bad_field_choice_is_a_clear_error():
    frame = _frame([["59111", None, None, None]])
    with pytest.raises(CreativeClustersError, match="between one and four"):
        classify_frame(frame, [])
    with pytest.raises(CreativeClustersError, match="not found"):
        classify_frame(frame, ["nope"])


def test_custom_definition_is_data(tmp_path):
    path = tmp_path / "def.csv"
    path.write_text("code,sector,subsector\n68.20,creative,Architecture\n")
    result = classify_frame(_frame([["68209", None, None, None]]), ["s1"], definition=load_definition(path))
    assert result.table.loc[0, "cc_subsector"] == "Architecture"
    bad = tmp_path / "bad.csv"
    bad.write_text("code,sector,subsector\n68.20,creative,Pottery\n")
    with pytest.raises(CreativeClustersError, match="nine DCMS sub-sectors"):
        load_definition(bad)


@pytest.mark.shared_data
def test_south_yorkshire_counts_match_the_data_readme(shared_data):
    """README: 6,485 firms have at least one creative SIC class, 5,860 as their first SIC."""
    import geopandas as gpd

    frame = gpd.read_file(
        shared_data / "firms" / "companies_house_2024-11_south_yorkshire_points.gpkg", layer="companies", ignore_geometry=True
    )
    columns = companies_house_sic_columns(frame.columns)
    assert columns == [f"SICCode.SicText_{i}" for i in range(1, 5)]
    assert len(frame) == 75740
    assert classify_frame(frame, columns, Rule.ANY).counts["creative"] == 6485
    assert classify_frame(frame, columns, Rule.FIRST).counts["creative"] == 5860
