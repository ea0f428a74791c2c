"""Microclusters: planted demo clusters, a hand-computed profile, Sheffield city centre, bad input."""

import sqlite3
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from creative_clusters_plugin.core.errors import CreativeClustersError
from creative_clusters_plugin.core.clustering.microclusters import microclusters
from creative_clusters_plugin.core.firms.sic_classification import classify_frame, companies_house_sic_columns, load_definition
from creative_clusters_plugin.core.firms.stacking import apply_stack_choice, flag_stacks
from creative_clusters_plugin.core.firms.subsectors import CODE_BY_NAME


def _classify(frame):
    cols = companies_house_sic_columns(frame.columns)
    table = classify_frame(pd.DataFrame(frame[cols]), cols, 0, load_definition()).table
    creative = table["cc_creative"].fillna(False).astype(bool).to_numpy()
    codes = np.array([CODE_BY_NAME.get(v) if isinstance(v, str) else None for v in table["cc_subsector"]], dtype=object)
    return creative, codes


@pytest.fixture(scope="module")
def demo():
    from creative_clusters_plugin.core.demo_region import generate_demo_region

    data = generate_demo_region()
    firms = data["firms"]
    xy = np.column_stack([firms.geometry.x, firms.geometry.y])
    creative, codes = _classify(firms)
    return data["truth"], firms, xy, creative, codes


@pytest.mark.parametrize("method", [0, 1])
def test_demo_planted_clusters_found(demo, method):
    from shapely.geometry import Point

    truth, firms, xy, creative, codes = demo
    r = microclusters(xy, creative, codes, creative, 250, 50, method=method,
                      incorporation_dates=firms["IncorporationDate"].tolist())
    for planted in truth["clusters"]:
        cx, cy = planted["centre"]
        # the microcluster whose footprint holds the planted centre
        holding = [i for i, f in enumerate(r.footprints) if f.distance(Point(cx, cy)) == 0]
        assert holding, planted["name"]
        row = r.profiles.iloc[holding[0]]
        assert row["dominant_subsector"] == planted["dominant_subsector"], planted["name"]
        assert row["n_members"] >= 0.6 * planted["n_firms"]
    assert len(r.footprints) >= len(truth["clusters"])


def test_demo_formation_agent_flagged_and_excluded(demo):
    truth, firms, xy, creative, codes = demo
    stacks = flag_stacks(xy, firms["Postcode"].tolist())
    fa = truth["formation_agent"]
    flagged_keys = [k for k, f in zip(stacks.keys, stacks.address_flagged) if f]
    assert flagged_keys == [fa["postcode"]]
    at_fa = np.hypot(xy[:, 0] - fa["xy"][0], xy[:, 1] - fa["xy"][1]) < 1
    assert stacks.flagged[at_fa].all() and stacks.flagged.sum() == fa["n_companies"]
    from shapely.geometry import Point

    keep, _ = apply_stack_choice(xy, 0)
    r = microclusters(xy[keep], creative[keep], codes[keep], creative[keep], 250, 50)
    assert any(f.distance(Point(fa["xy"])) < 1 for f in r.footprints)  # kept: the agent makes a microcluster
    keep, _ = apply_stack_choice(xy, 2, stacks.flagged)
    r = microclusters(xy[keep], creative[keep], codes[keep], creative[keep], 250, 50)
    assert not any(f.distance(Point(fa["xy"])) < 250 for f in r.footprints)
    assert len(r.profiles) == len(truth["clusters"])


def test_profile_by_hand():
    # cluster A: 6 firms at (0,0)-(40,0), 4 film + 2 IT creative; cluster B: 5 design firms far away;
    # 4 non-creative firms next to A (inside its footprint), 5 isolated non-creative firms
    a = np.column_stack([np.arange(6) * 8.0, np.zeros(6)])
    b = np.column_stack([np.arange(5) * 8.0 + 10_000, np.zeros(5)])
    other_near = np.array([[0.0, 20.0], [10.0, 20.0], [20.0, 20.0], [30.0, 20.0]])
    other_far = np.column_stack([np.arange(5) * 1000.0 + 3000, np.full(5, 5000.0)])
    xy = np.vstack([a, b, other_near, other_far])
    codes = np.array(["film"] * 4 + ["it"] * 2 + ["design"] * 5 + [None] * 9, dtype=object)
    creative = codes != None  # noqa: E711
    dates = ["2024-06-01", "2022-01-01", "2010-05-05", "2021-06-02", "2021-05-31", "2000-01-01"] + ["2015-01-01"] * 5 \
        + [None] * 9
    r = microclusters(xy, creative, codes, creative, 50.0, 5, incorporation_dates=dates)
    p = r.profiles.set_index("cc_cluster_id")
    assert list(p.index) == [1, 2]
    assert p.loc[1, "n_members"] == 6 and p.loc[1, "n_firms"] == 10 and p.loc[1, "n_creative"] == 6
    assert p.loc[1, "n_film"] == 4 and p.loc[1, "share_film"] == pytest.approx(4 / 6)
    assert p.loc[1, "dominant_subsector"] == "Film, TV, video, radio and photography"
    assert p.loc[1, "herfindahl"] == pytest.approx((4 / 6) ** 2 + (2 / 6) ** 2)
    assert p.loc[1, "lq_creative"] == pytest.approx((6 / 10) / (11 / 20))
    assert p.loc[1, "median_inc_year"] == pytest.approx(np.median([2024, 2022, 2010, 2021, 2021, 2000]))
    # reference date = latest (2024-06-01): born after 2021-06-01 -> 2024, 2022, 2021-06-02
    assert p.loc[1, "n_recent"] == 3
    assert p.loc[2, "dominant_subsector"] == "Design and designer fashion" and p.loc[2, "herfindahl"] == 1.0
    # footprint: union of 25 m discs along a 40 m line = 40*50 + π 25² exactly; the polygon (8 segments
    # per quarter circle, simplified by EPS/20 = 2.5 m) cuts the arcs' chords: at most 5 % less
    exact = 40 * 50 + np.pi * 25 ** 2
    assert 0.95 * exact <= p.loc[1, "area_ha"] * 10_000 <= exact
    assert p.loc[1, "density_ha"] == pytest.approx(6 / p.loc[1, "area_ha"])
    assert (r.labels[11:] == -1).all()


def test_bad_input():
    xy = np.zeros((10, 2))
    ok = np.ones(10, dtype=bool)
    codes = np.array(["it"] * 10, dtype=object)
    with pytest.raises(CreativeClustersError, match="EPS"):
        microclusters(xy, ok, codes, ok, 0, 5)
    with pytest.raises(CreativeClustersError, match="at least 2"):
        microclusters(xy, ok, codes, ok, 100, 1)
    with pytest.raises(CreativeClustersError, match="nothing to cluster"):
        microclusters(xy, ok, codes, ~ok, 100, 5)
    with pytest.raises(CreativeClustersError):
        microclusters(np.empty((0, 2)), [], [], [], 100, 5)
    with pytest.raises(CreativeClustersError, match="NULL"):
        microclusters(np.full((10, 2), np.nan), ok, codes, ok, 100, 5)
    # all points identical: one microcluster (DBSCAN), noise for HDBSCAN (a single location never splits)
    r = microclusters(xy, ok, codes, ok, 100, 5)
    assert len(r.profiles) == 1 and r.profiles["n_members"].iloc[0] == 10
    assert len(microclusters(xy, ok, codes, ok, 100, 5, method=1).profiles) == 0


def _read_real(path):
    envelope = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
    cols = ["Postcode", "IncorporationDate"] + [f"SICCode.SicText_{i}" for i in range(1, 5)]
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        rows = connection.execute("SELECT geom, " + ", ".join(f'"{c}"' for c in cols) + " FROM companies").fetchall()
    xy = np.empty((len(rows), 2))
    for k, row in enumerate(rows):
        blob = row[0]
        offset = 8 + envelope[(blob[3] >> 1) & 7]
        xy[k] = struct.unpack_from("<dd" if blob[offset] == 1 else ">dd", blob, offset + 5)
    return xy, pd.DataFrame([r[1:] for r in rows], columns=cols)


def test_real_sheffield_city_centre(shared_data):
    path = Path(shared_data) / "firms" / "companies_house_2024-11_south_yorkshire_points.gpkg"
    if not path.exists():
        pytest.skip("South Yorkshire firms absent")
    xy, frame = _read_real(path)
    creative, codes = _classify(frame)
    assert creative.sum() == 5860
    stacks = flag_stacks(xy, frame["Postcode"].tolist())
    from shapely.geometry import Point

    # Sheffield city centre: Town Hall / Peace Gardens, OS grid SK 3535 8710
    centre = Point(435350, 387100)
    for choice in (0, 2):
        keep, _ = apply_stack_choice(xy, choice, stacks.flagged)
        r = microclusters(xy[keep], creative[keep], codes[keep], creative[keep], 250, 50,
                          incorporation_dates=frame["IncorporationDate"].to_numpy()[keep])
        near = [i for i, f in enumerate(r.footprints) if f.distance(centre) < 1000]
        assert near, f"no microcluster within 1 km of Sheffield city centre (STACKS={choice})"
        assert r.profiles.iloc[near[0]]["n_members"] >= 150
        assert r.profiles.iloc[near[0]]["lq_creative"] > 1.5
        assert not any(np.isnan(r.profiles["median_inc_year"]))


def test_traced_footprint_of_a_large_cluster_matches_the_union_of_discs():
    """Above RASTER_FOOTPRINT_ABOVE locations the footprint is traced on a grid: it must agree with GEOS's
    union of the same discs within the simplification tolerance (area within 2 %, outline within 2 × tol)."""
    from shapely.geometry import MultiPoint, Point

    from creative_clusters_plugin.core.clustering.microclusters import RASTER_FOOTPRINT_ABOVE, footprint

    rng = np.random.default_rng(5)
    centres = rng.uniform(0, 3000, (6, 2))
    pts = np.concatenate([c + rng.normal(0, 250, (150, 2)) for c in centres])
    assert len(pts) > RASTER_FOOTPRINT_ABOVE
    traced = footprint(pts, 125, tolerance=12.5)
    exact = MultiPoint([tuple(p) for p in pts]).buffer(125, 64)
    assert abs(traced.area - exact.area) / exact.area < 0.02
    assert traced.symmetric_difference(exact).area / exact.area < 0.05
    # the outline stays within the tolerance of the true one (a cell's half-diagonal plus the simplification)
    slack = 12.5 * (1 + np.sqrt(2) / 2) + 1
    assert exact.buffer(slack).contains(traced)
    assert traced.contains(exact.buffer(-slack))
    # every firm lies inside its cluster's footprint
    assert all(traced.buffer(1e-6).contains(Point(p)) for p in pts[::7])


def test_distinct_points_equal_numpys_unique_rows():
    """The quick distinct-locations step gives exactly ``np.unique(xy, axis=0)`` (stacked firms, ties in x)."""
    from creative_clusters_plugin.core.clustering.dbscan import distinct_points

    rng = np.random.default_rng(8)
    xy = np.round(rng.uniform(0, 50, (5000, 2)))  # many repeats and equal x with different y
    xy = np.concatenate([xy, xy[:700], [[-3.5, 2.0], [-3.5, -2.0]]])
    np.testing.assert_array_equal(distinct_points(xy), np.unique(xy, axis=0))
    assert distinct_points(np.empty((0, 2))).shape == (0, 2)
