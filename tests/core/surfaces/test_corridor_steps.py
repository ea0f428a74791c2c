"""The corridor steps of :mod:`creative_clusters_plugin.core.surfaces.corridor_steps`, each run alone on tiny hand-built
inputs (the whole pipeline is checked in ``test_corridors.py``), and the analysis-grid rules of the adapter."""

import math

import numpy as np
import pytest

pytest.importorskip("geopandas")
pytest.importorskip("rasterio")

from shapely.geometry import Point, box  # noqa: E402

from creative_clusters_plugin.core.surfaces.corridor_steps import (  # noqa: E402
    Cores,
    RunLog,
    core_step,
    link_groups,
    link_step,
    metrics_step,
    rate_links,
    simplify_path,
    surface_step,
)
from creative_clusters_plugin.core.surfaces.corridors import (  # noqa: E402
    CoreRaster,
    CorridorSettings,
    WidthMode,
    analysis_crs_wkt,
    analysis_grid,
    check_clusters,
    check_settings,
    cluster_cell_size,
    cluster_grid,
    empty_output_grid,
)
from creative_clusters_plugin.core.errors import CreativeClustersError  # noqa: E402
from creative_clusters_plugin.core.surfaces.resistance import RasterData, grid_from_bounds  # noqa: E402

CRS = "EPSG:27700"


def _line_of_three():
    """Three discs 1,200 m apart on a uniform 20 m grid: the path from the first to the third crosses the second."""
    grid = grid_from_bounds((0, 0, 3000, 600), 20.0, CRS)
    clusters, _ = check_clusters([Point(300, 300).buffer(60), Point(1500, 300).buffer(60), Point(2700, 300).buffer(60)], [1, 2, 3])
    return grid, clusters, np.ones(grid.shape)


# ------------------------------------------------------------------------------------------------
# step 1: cores
# ------------------------------------------------------------------------------------------------
def test_two_square_cores_get_their_labels():
    grid = grid_from_bounds((0, 0, 100, 100), 10.0, CRS)  # 10 × 10 cells, row 0 at the top
    clusters, _ = check_clusters([box(10, 10, 30, 30), box(60, 60, 90, 80)], [1, 1])
    report = RunLog()
    cores = core_step(clusters, grid, np.ones(grid.shape), report)
    expected = np.full((10, 10), -1)
    expected[7:9, 1:3] = 0  # cell centres x 15, 25; y 15, 25
    expected[2:4, 6:9] = 1  # cell centres x 65, 75, 85; y 65, 75
    assert np.array_equal(cores.raster.labels, expected)
    assert cores.active == [0, 1] and cores.raster.status == ["ok", "ok"]
    assert cores.centres[0] == pytest.approx((20.0, 20.0)) and cores.centres[1] == pytest.approx((75.0, 70.0))
    assert cores.half_extent == {0: 10.0, 1: 15.0}
    assert report.lines == ["Step 1/5 cores: 2 cluster(s) rasterised on 10 × 10 cells of 10 m."] and report.warnings == []


def test_cores_on_impassable_cells_are_left_out_and_fewer_than_two_is_an_error():
    grid = grid_from_bounds((0, 0, 100, 100), 10.0, CRS)
    costs = np.ones(grid.shape)
    costs[7:9, 1:3] = np.inf
    clusters, _ = check_clusters([box(10, 10, 30, 30), box(60, 60, 90, 80), Point(15, 15)], [1, 1, 1], ["a", "b", "c"])
    report = RunLog()
    cores = core_step(clusters, grid, costs, report)
    assert cores.raster.status == ["impassable", "ok", "ok"] and cores.active == [1, 2]
    assert report.warnings == ["1 cluster(s) lie only on impassable (nodata) cells and were left out: a."]
    with pytest.raises(CreativeClustersError, match="Only 1 of the 2"):
        core_step(check_clusters([box(10, 10, 30, 30), box(60, 60, 90, 80)], [1, 1])[0], grid, costs, RunLog())


# ------------------------------------------------------------------------------------------------
# steps 2 and 3: surfaces and links
# ------------------------------------------------------------------------------------------------
def test_surfaces_and_links_of_a_line_of_three_split_the_long_link():
    grid, clusters, costs = _line_of_three()
    settings = check_settings(max_neighbours=2)
    report = RunLog()
    cores = core_step(clusters, grid, costs, report)
    surfaces = surface_step(cores, costs, grid, settings, 2**30, report)
    assert set(surfaces.surfaces) == {0, 1, 2} and surfaces.counts.runs >= 3
    assert set(surfaces.pairs) == {(0, 1), (1, 2), (0, 2)}
    links = link_step(cores, surfaces, settings, clusters.ids, grid.cell_size, report)
    # 0–2 runs through cluster 1: it is split into 0–1 and 1–2, which are also each cluster's nearest links
    assert sorted(links.paths) == [(0, 1), (1, 2)]
    assert links.splits == 1 and links.origin[(0, 2)] == "split-parent" and links.unreachable == []
    assert report.lines[-1].startswith("Step 2/5 candidate links: 2 link(s) — 2 to the 2 nearest cluster(s)")


def test_link_groups_are_the_connected_components_in_cluster_order():
    groups = link_groups([0, 1, 2, 3, 4], [(0, 3), (3, 4)])
    assert sorted(groups.values()) == [[0, 3, 4], [1], [2]]
    assert [nodes[0] for nodes in groups.values()] == [0, 1, 2]


# ------------------------------------------------------------------------------------------------
# step 4: metrics, places and strength
# ------------------------------------------------------------------------------------------------
def _row(a, b, cost, gravity, euc=1000.0):
    return {"_key": (a, b), "cost_dist": cost, "gravity": gravity, "euc_dist": euc, "from_index": a, "to_index": b}


def test_strengths_of_a_three_cluster_line():
    """Clusters 0 — 1 — 2 on a line, costs 100 and 200 (and 300 end to end): each is its own place, the nearest
    other place is 100, 100 and 200 away, so d_ref = 100 and the strengths are 1, 1/2 and 1/3."""
    one_cell = (np.array([0]), np.array([0]))
    raster = CoreRaster(cells=[one_cell] * 3, labels=np.zeros((1, 1)), shared={}, overlaps={}, status=["ok"] * 3)
    cores = Cores(raster=raster, active=[0, 1, 2], cells={}, centres={}, half_extent={})
    rows = [_row(0, 1, 100.0, 5.0), _row(0, 2, 300.0, 1.0), _row(1, 2, 200.0, 3.0)]
    places = rate_links(rows, 3, cores, {0: [], 1: [], 2: []}, 10.0, CorridorSettings(strength_threshold=0.8), 10.0)
    assert places.place_of == {0: 0, 1: 1, 2: 2} and places.n_places == 3 and places.d_ref == 100.0
    assert [r["strength"] for r in rows] == pytest.approx([1.0, 1 / 3, 0.5])
    assert [r["strong"] for r in rows] == [True, False, False]
    assert [r["in_mst"] for r in rows] == [True, False, True]  # the two heaviest links by gravity
    # touching clusters (gap 0) are one place: d_ref is then the cost between the two places
    merged = rate_links([_row(0, 1, 100.0, 5.0, euc=0.0), _row(1, 2, 200.0, 3.0)], 3, cores, {0: [], 1: [], 2: []}, 10.0,
                        CorridorSettings(), 10.0)
    assert merged.place_of == {0: 0, 1: 0, 2: 1} and merged.d_ref == 200.0


def test_metrics_step_on_a_line_of_three_gives_equal_strengths():
    grid, clusters, costs = _line_of_three()
    settings = check_settings(max_neighbours=2)
    report = RunLog()
    cores = core_step(clusters, grid, costs, report)
    surfaces = surface_step(cores, costs, grid, settings, 2**30, report)
    links = link_step(cores, surfaces, settings, clusters.ids, grid.cell_size, report)
    rows, places = metrics_step(links, surfaces, clusters, cores, grid, grid.cell_size, settings, report)
    assert [r["_key"] for r in rows] == [(0, 1), (1, 2)] and [r["link_id"] for r in rows] == [1, 2]
    assert rows[0]["cost_dist"] == pytest.approx(rows[1]["cost_dist"])  # symmetric layout
    assert places.d_ref == pytest.approx(rows[0]["cost_dist"]) and places.n_places == 3
    assert [r["strength"] for r in rows] == pytest.approx([1.0, 1.0], rel=1e-9)
    assert rows[0]["gravity"] == pytest.approx(1 * 2 / rows[0]["cost_dist"])
    assert rows[0]["path_len"] == pytest.approx(rows[0]["cost_dist"])  # resistance 1: cost = metres


def test_simplify_path_keeps_the_corners_only():
    points = np.array([[0, 0], [1, 0], [2, 0], [3, 1], [4, 2], [4, 3]])
    assert simplify_path(points).tolist() == [[0, 0], [2, 0], [4, 2], [4, 3]]


# ------------------------------------------------------------------------------------------------
# settings, log
# ------------------------------------------------------------------------------------------------
def test_settings_width_and_errors():
    percent = check_settings(width=10.0, width_mode=WidthMode.PERCENT)
    assert percent.corridor_width(500.0) == pytest.approx(50.0) and percent.reach(500.0) == pytest.approx(550.0)
    cost = check_settings(width=30.0, width_mode=WidthMode.COST, max_cost_distance=0.0)
    assert cost.corridor_width(500.0) == 30.0 and cost.max_cost == math.inf
    assert check_settings(max_cost_distance=2500).max_cost == 2500.0
    with pytest.raises(CreativeClustersError, match="MAX_NEIGHBOURS"):
        check_settings(max_neighbours=0)
    with pytest.raises(CreativeClustersError, match="WIDTH_MODE"):
        check_settings(width_mode=2)
    clusters, warnings = check_clusters([Point(0, 0), Point(1, 1)], [None, 3])
    assert clusters.masses.tolist() == [0.0, 3.0] and clusters.ids == [1, 2] and "no mass" in warnings[0]


def test_run_log_passes_lines_on_as_they_come():
    seen = []
    report = RunLog(log_callback=seen.append)
    report.info("one")
    report.warn("careful")
    report.info("two")
    assert seen == ["one", "two"] and report.lines == ["one", "two"] and report.warnings == ["careful"]


# ------------------------------------------------------------------------------------------------
# the analysis grid (the adapter's rules)
# ------------------------------------------------------------------------------------------------
def test_automatic_cell_size_and_margins_over_the_clusters():
    bounds = (0.0, 0.0, 20000.0, 10000.0)
    # 1.3 × 20 km / 1,000 cells = 26 m, rounded up to 50 m
    assert cluster_cell_size(bounds) == 50.0
    assert cluster_cell_size((0.0, 0.0, 700.0, 300.0)) == 1.0
    grid = cluster_grid(bounds, 50.0, CRS)
    # margin 15 % of 20 km + 2 cells = 3,100 m on every side
    assert grid.bounds == pytest.approx((-3100.0, -3100.0, 23100.0, 13100.0))
    assert grid.shape == (324, 524) and grid.cell_size == 50.0
    messages = []
    automatic = analysis_grid(bounds, 0.0, CRS, info=messages.append)
    assert automatic.cell_size == 50.0 and automatic.shape == grid.shape
    assert messages == ["Cell size chosen automatically: 50 m."]
    assert analysis_grid(bounds, 200.0, CRS, info=messages.append).cell_size == 200.0 and len(messages) == 1
    empty = empty_output_grid((1000.0, 1000.0, 1000.0, 1000.0), 0.0, CRS)
    assert empty.cell_size == 100.0 and empty.bounds == pytest.approx((900.0, 900.0, 1100.0, 1100.0))


def test_raster_grid_and_analysis_crs():
    from affine import Affine

    raster = RasterData(np.ones((50, 80)), Affine(20.0, 0, 1000.0, 0, -20.0, 5000.0), CRS)
    messages = []
    grid = analysis_grid((0, 0, 1, 1), 0.0, CRS, resistance=raster, info=messages.append, warning=messages.append)
    assert grid.shape == (50, 80) and grid.cell_size == 20.0 and messages == []
    coarser = analysis_grid((0, 0, 1, 1), 40.0, CRS, resistance=raster, info=messages.append)
    assert coarser.shape == (25, 40) and messages == ["Rasters are resampled onto the analysis grid (average of the finer cells)."]
    assert "27700" in analysis_crs_wkt(raster) or "British_National_Grid" in analysis_crs_wkt(raster)
    assert analysis_crs_wkt(None, raster) == analysis_crs_wkt(raster)
    geographic = RasterData(np.ones((10, 10)), Affine(0.01, 0, -1.5, 0, -0.01, 53.5), "EPSG:4326")
    assert analysis_crs_wkt(geographic) is None and analysis_crs_wkt() is None
