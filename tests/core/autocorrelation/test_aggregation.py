"""Incident aggregation: fishnet, hexagons, given polygons — counts checked by hand and by shapely."""

from __future__ import annotations

import math

import numpy as np
import pytest
from shapely.geometry import Point, Polygon, box

from creative_clusters_plugin.core.autocorrelation.aggregation import (
    FISHNET,
    HEX_SIDE_FACTOR,
    HEXAGON,
    aggregate_to_grid,
    aggregate_to_polygons,
    automatic_cell_size,
    locational_outliers,
)
from creative_clusters_plugin.core.errors import CreativeClustersError


def test_fishnet_hand_counted():
    """Cell size 10 anchored at (0, 0) (the points' lower-left corner).

    (0,0) (1,1) (9.9,9.9) → cell [0,10)×[0,10): 3;  (10,0) on the edge goes right → [10,20)×[0,10): 1;
    (15,25) (19,29) → [10,20)×[20,30): 2;  (25,5) → [20,30)×[0,10): 1.  The empty cells are not kept.
    """
    xy = np.array([[0, 0], [1, 1], [9.9, 9.9], [10, 0], [15, 25], [19, 29], [25, 5]], float)
    agg = aggregate_to_grid(xy, FISHNET, cell_size=10)
    by_centre = {tuple(np.round(c, 6)): int(n) for c, n in zip(agg.centres, agg.counts)}
    assert by_centre == {(5.0, 5.0): 3, (15.0, 5.0): 1, (15.0, 25.0): 2, (25.0, 5.0): 1}
    assert agg.counts.sum() == len(xy)
    for i, (x, y) in enumerate(xy):  # each point lies in (or on the lower/left edge of) its cell
        minx, miny, maxx, maxy = agg.polygons[agg.cell_of_point[i]].bounds
        assert minx <= x < maxx and miny <= y < maxy
    assert all(math.isclose(p.area, 100.0) for p in agg.polygons)


def test_hexagons_are_nearest_centre_cells_with_the_square_area():
    rng = np.random.default_rng(5)
    xy = rng.uniform(0, 1000, (2000, 2))
    agg = aggregate_to_grid(xy, HEXAGON, cell_size=100)
    assert agg.counts.sum() == len(xy)
    side = 100 * HEX_SIDE_FACTOR
    for poly in agg.polygons[:20]:
        assert poly.area == pytest.approx(100 * 100, rel=1e-9)
        assert poly.length == pytest.approx(6 * side, rel=1e-9)
    # independent check 1: the point lies in its hexagon (shapely)
    for i in range(0, len(xy), 7):
        assert agg.polygons[agg.cell_of_point[i]].buffer(1e-6).contains(Point(xy[i]))
    # independent check 2: its hexagon centre is the nearest of all kept centres (brute force)
    d = np.hypot(xy[:, None, 0] - agg.centres[None, :, 0], xy[:, None, 1] - agg.centres[None, :, 1])
    assert np.allclose(d[np.arange(len(xy)), agg.cell_of_point], d.min(axis=1))
    # recount from the assignments
    np.testing.assert_array_equal(np.bincount(agg.cell_of_point, minlength=len(agg.counts)), agg.counts)


def test_hexagon_hand_case():
    """Side a = 10 / sqrt(3) spaces the centres 10 apart along x: (0, 0), (10, 0), and (5, 1.5 a = 8.660) above.

    Anchor (0, 0) = the points' lower-left corner. (0, 0) and (4, 0) are nearest (0, 0); (6, 0) and (10, 0) are
    nearest (10, 0); (5, 8.5) is nearest (5, 8.660). The cell size is the s with s · HEX_SIDE_FACTOR = a.
    """
    a = 10 / math.sqrt(3)
    s = a / HEX_SIDE_FACTOR
    xy = np.array([[0, 0], [4, 0], [6, 0], [10, 0], [5, 8.5]], float)
    agg = aggregate_to_grid(xy, HEXAGON, cell_size=s)
    got = {tuple(np.round(c, 3)): int(n) for c, n in zip(agg.centres, agg.counts)}
    assert got == {(0.0, 0.0): 2, (10.0, 0.0): 2, (5.0, round(1.5 * a, 3)): 1}


def test_bounding_polygon_keeps_empty_cells_and_drops_outside_points():
    bounding = [box(0, 0, 30, 20)]
    xy = np.array([[1, 1], [2, 2], [25, 15], [40, 5]], float)  # the last one lies outside
    agg = aggregate_to_grid(xy, FISHNET, cell_size=10, bounding=bounding)
    assert len(agg.polygons) == 6  # 3 × 2 cells over the bounding box, 4 of them empty
    assert sorted(agg.counts.tolist()) == [0, 0, 0, 0, 1, 2]
    assert agg.cell_of_point.tolist()[3] == -1 and agg.n_left_out == 1
    assert any("outside the bounding" in m for m in agg.messages)
    hexes = aggregate_to_grid(xy, HEXAGON, cell_size=10, bounding=bounding)
    assert hexes.counts.sum() == 3
    union = bounding[0]
    assert all(p.intersects(union) for p in hexes.polygons)
    assert sum(p.intersection(union).area for p in hexes.polygons) == pytest.approx(union.area, rel=1e-9)


def test_given_polygons_count_each_point_once():
    polys = [box(0, 0, 10, 10), box(10, 0, 20, 10), box(0, 10, 10, 20), Polygon()]
    # (10, 5) is on the shared edge of the first two: counted once, in the first; (50, 50) is outside
    xy = np.array([[5, 5], [10, 5], [15, 5], [15, 6], [5, 15], [50, 50]], float)
    agg = aggregate_to_polygons(xy, polys)
    assert agg.counts.tolist() == [2, 2, 1, 0]
    assert agg.cell_of_point.tolist() == [0, 0, 1, 1, 2, -1]
    assert any("outside every" in m for m in agg.messages)
    assert any("no geometry" in m for m in agg.messages)


def test_automatic_cell_size_rule_by_hand():
    """A 20 × 20 lattice of spacing 50 m plus one far point: the far point is an outlier, mean NN = 50 m → 100 m."""
    g = np.arange(20) * 50.0
    xy = np.array([(x, y) for x in g for y in g] + [(5000.0, 5000.0)])
    xy = np.vstack([xy, xy[:10]])  # duplicates do not change the distinct-location statistics
    mask, threshold = locational_outliers(np.unique(xy, axis=0))
    assert mask.sum() == 1
    size, messages = automatic_cell_size(xy)
    assert size == 100.0
    assert "mean nearest-neighbour distance (50.0 m)" in messages[0]


def test_bad_input():
    with pytest.raises(CreativeClustersError, match="no incidents"):
        aggregate_to_grid(np.empty((0, 2)), FISHNET, 10)
    with pytest.raises(CreativeClustersError, match="distinct location"):
        aggregate_to_grid(np.array([[0, 0], [0, 0], [1, 1]], float), FISHNET, 0)
    with pytest.raises(CreativeClustersError, match="no valid location"):
        aggregate_to_grid(np.array([[0, 0], [np.nan, 1]], float), FISHNET, 10)
    with pytest.raises(CreativeClustersError, match="no polygon"):
        aggregate_to_grid(np.array([[0, 0], [1, 1]], float), FISHNET, 10, bounding=[])
