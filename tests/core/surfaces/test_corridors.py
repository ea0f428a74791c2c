"""Corridor pipeline: links, corridor surface and chains checked against independent references.

References: scikit-image ``MCP_Geometric`` full surfaces (least-cost distances, corridor surface
CWD_i + CWD_j − LCD), SciPy's minimum spanning tree, hand-made grids (a barrier with one gap), the demo
region's planted chain (ground truth), and random scatters with no chain.
"""

import math
from pathlib import Path

import numpy as np
import pytest

gpd = pytest.importorskip("geopandas")
skgraph = pytest.importorskip("skimage.graph")

from shapely.geometry import LineString, Point, box  # noqa: E402

from creative_clusters_plugin.core.surfaces.corridor_steps import detect_corridors  # noqa: E402
from creative_clusters_plugin.core.surfaces.corridors import (  # noqa: E402
    chain_strokes,
    deflection,
    maximum_spanning_forest,
    rasterise_cores,
)
from creative_clusters_plugin.core.errors import CancelledError, CreativeClustersError  # noqa: E402
from tests.core.real_data import CREATIVE_CLASSES, motorways_path, south_yorkshire_creative_grid_hotspots  # noqa: E402
from creative_clusters_plugin.core.surfaces.resistance import (  # noqa: E402
    RasterData,
    ResistanceWeights,
    build_resistance,
    check_grid_memory,
    grid_from_bounds,
)

CRS = "EPSG:27700"
def mcp_surface(costs, cells, cell):
    rows, cols = cells
    surface, _ = skgraph.MCP_Geometric(costs, sampling=(cell, cell)).find_costs(list(zip(rows.tolist(), cols.tolist())))
    return surface


# ------------------------------------------------------------------------------------------------
# hand-made grid: a barrier with a single gap
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def barrier_case():
    grid = grid_from_bounds((0, 0, 3000, 2000), 20.0, CRS)
    rows, cols = np.mgrid[0 : grid.height, 0 : grid.width]
    x, y = grid.xy(rows, cols)
    costs = np.ones(grid.shape)
    gap = (y > 1600) & (y < 1700)
    wall = (np.abs(x - 1500) < 30) & ~gap
    costs[wall] = np.inf
    geoms = [Point(500, 500).buffer(100), Point(2500, 500).buffer(100)]
    result = detect_corridors(geoms, [10, 20], costs, grid, width=20, width_mode=1)
    return grid, costs, geoms, result, wall, gap


def test_corridor_goes_through_the_gap(barrier_case):
    grid, costs, geoms, result, wall, gap = barrier_case
    assert len(result.links) == 1
    line = result.links.geometry.iloc[0]
    crossing = line.intersection(LineString([(1500, 0), (1500, 2000)]))
    assert 1600 < crossing.y < 1700
    # the corridor raster is nodata on every wall cell and present in the gap
    assert np.all(np.isnan(result.surface[wall]))
    assert np.isfinite(result.surface[gap & (np.abs(grid.xy(*np.mgrid[0 : grid.height, 0 : grid.width])[0] - 1500) < 30)]).any()
    # the straight line would cross the wall: the least cost is much more than the Euclidean distance
    link = result.links.iloc[0]
    assert link.cost_euc > 1.3
    assert link.path_len == pytest.approx(link.cost_dist, rel=1e-9)  # resistance 1: cost = metres


def test_corridor_surface_equals_cwd_sum_minus_least_cost(barrier_case):
    grid, costs, geoms, result, wall, gap = barrier_case
    cores = rasterise_cores(geoms, grid, costs)
    a = mcp_surface(costs, cores.cells[0], grid.cell_size)
    b = mcp_surface(costs, cores.cells[1], grid.cell_size)
    lcd = a[cores.cells[1]].min()
    link = result.links.iloc[0]
    assert link.cost_dist == pytest.approx(lcd, rel=1e-10)
    nlcc = a + b - lcd
    width = 0.2 * lcd
    inside = nlcc <= width
    got = np.isfinite(result.surface)
    # identical except, at most, cells within float32 rounding of the cut
    near_cut = np.abs(nlcc - width) < 1e-3 * lcd
    assert np.array_equal(got[~near_cut], inside[~near_cut])
    np.testing.assert_allclose(result.surface[got & inside], nlcc[got & inside], atol=1e-3 * lcd)
    # the least-cost path has corridor value 0
    assert np.nanmin(result.surface) == pytest.approx(0.0, abs=1e-3)


def test_width_in_cost_units_and_percent_give_nested_corridors(barrier_case):
    grid, costs, geoms, *_ = barrier_case
    narrow = detect_corridors(geoms, [1, 1], costs, grid, width=50, width_mode=0)
    wide = detect_corridors(geoms, [1, 1], costs, grid, width=500, width_mode=0)
    assert np.nanmax(narrow.surface) <= 50 + 1e-3 and np.nanmax(wide.surface) <= 500 + 1e-3
    assert np.isfinite(narrow.surface).sum() < np.isfinite(wide.surface).sum()
    assert np.all(np.isfinite(wide.surface)[np.isfinite(narrow.surface)])


# ------------------------------------------------------------------------------------------------
# links: least costs, k nearest, splitting, reconnection, metrics, spanning tree
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def random_case():
    rng = np.random.default_rng(42)
    grid = grid_from_bounds((0, 0, 4000, 3000), 25.0, CRS)
    costs = rng.uniform(1.0, 4.0, grid.shape)
    costs[rng.random(grid.shape) < 0.05] = np.nan
    centres = rng.uniform((300, 300), (3700, 2700), (9, 2))
    geoms = [Point(x, y) for x, y in centres]
    masses = rng.integers(20, 200, 9).astype(float)
    result = detect_corridors(geoms, masses, costs, grid, max_neighbours=3, beta=1.5)
    return grid, np.where(np.isnan(costs), np.inf, costs), geoms, masses, result


def test_link_costs_equal_mcp_and_metrics_follow_their_formulas(random_case):
    grid, costs, geoms, masses, result = random_case
    cores = rasterise_cores(geoms, grid, costs)
    surfaces = [mcp_surface(costs, cores.cells[i], grid.cell_size) for i in range(len(geoms))]
    links = result.links
    assert len(links) >= len(geoms) - 1
    nn = [min(surfaces[i][cores.cells[j]].min() for j in range(len(geoms)) if j != i) for i in range(len(geoms))]
    d_ref = float(np.median(nn))
    for _, link in links.iterrows():
        i, j = link.from_index, link.to_index
        assert link.cost_dist == pytest.approx(surfaces[i][cores.cells[j]].min(), rel=1e-9)
        assert link.euc_dist == pytest.approx(geoms[i].distance(geoms[j]))
        assert link.cost_euc == pytest.approx(link.cost_dist / link.euc_dist)
        assert link.cost_path == pytest.approx(link.cost_dist / link.path_len)
        assert link.gravity == pytest.approx(masses[i] * masses[j] / link.cost_dist**1.5)
        assert link.strength == pytest.approx(d_ref / link.cost_dist, rel=1e-9)
        # the line runs from a core cell of one cluster to one of the other (a point's core: the 3 × 3 cells around it)
        start, end = Point(link.geometry.coords[0]), Point(link.geometry.coords[-1])
        assert min(start.distance(geoms[i]), start.distance(geoms[j])) <= 2.13 * grid.cell_size
        assert min(end.distance(geoms[i]), end.distance(geoms[j])) <= 2.13 * grid.cell_size
        assert link.geometry.length == pytest.approx(link.path_len, rel=1e-9)
        # the least-cost path itself is scikit-image's: trace MCP_Geometric back from the cheapest cell of the
        # cluster the line ends in, starting from the cluster it starts in
        src = i if start.distance(geoms[i]) <= start.distance(geoms[j]) else j
        dst = j if src == i else i
        mcp = skgraph.MCP_Geometric(costs, sampling=(grid.cell_size, grid.cell_size))
        mcp.find_costs(list(zip(*(c.tolist() for c in cores.cells[src]))))
        cumulative = surfaces[src][cores.cells[dst]]
        k = int(np.argmin(cumulative))
        end = (int(cores.cells[dst][0][k]), int(cores.cells[dst][1][k]))
        cells = np.array(mcp.traceback(end))
        x, y = grid.xy(cells[:, 0], cells[:, 1])
        assert len(cells) > 1 and LineString(np.column_stack([x, y])).equals(link.geometry), (i, j)
    # each cluster is linked to its 3 nearest by least-cost distance (unless that link was split)
    linked = {frozenset((a, b)) for a, b in zip(links.from_index, links.to_index)}
    for i in range(len(geoms)):
        costs_to = sorted((surfaces[i][cores.cells[j]].min(), j) for j in range(len(geoms)) if j != i)
        for _, j in costs_to[:3]:
            assert frozenset((i, j)) in linked or result.stats["splits"] > 0
    # d_ref is the median of the nearest-neighbour least costs
    assert result.stats["d_ref"] == pytest.approx(d_ref, rel=1e-9)


def test_spanning_tree_is_scipys_maximum_spanning_tree(random_case):
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import minimum_spanning_tree

    grid, costs, geoms, masses, result = random_case
    links = result.links
    n = len(geoms)
    g = links.gravity.to_numpy()
    # a decreasing transform of gravity turns SciPy's minimum tree into the maximum one
    w = g.max() + 1.0 - g
    tree = minimum_spanning_tree(coo_matrix((w, (links.from_index, links.to_index)), shape=(n, n))).tocoo()
    expected = {frozenset((int(a), int(b))) for a, b in zip(tree.row, tree.col)}
    got = {frozenset((a, b)) for a, b, m in zip(links.from_index, links.to_index, links.in_mst) if m}
    assert got == expected
    assert maximum_spanning_forest(3, [(0, 1), (1, 2), (0, 2)], [5.0, 1.0, 3.0]).tolist() == [True, False, True]


@pytest.mark.parametrize("engine", ["skimage", "scipy"])
def test_a_path_through_another_cluster_is_split_into_a_chain(engine):
    grid = grid_from_bounds((0, 0, 3000, 600), 20.0, CRS)
    costs = np.ones(grid.shape)
    geoms = [Point(300, 300).buffer(60), Point(1500, 300).buffer(60), Point(2700, 300).buffer(60)]
    result = detect_corridors(geoms, [1, 1, 1], costs, grid, max_neighbours=2, engine=engine)
    pairs = {frozenset((a, b)) for a, b in zip(result.links.from_index, result.links.to_index)}
    assert pairs == {frozenset((0, 1)), frozenset((1, 2))}
    assert result.stats["splits"] == 1
    # the chain A > B > C is a corridor in west-to-east order
    assert list(result.corridors.clusters) == ["1 > 2 > 3"]


def test_disconnected_groups_are_joined_by_their_cheapest_link():
    grid = grid_from_bounds((0, 0, 6000, 2000), 25.0, CRS)
    rng = np.random.default_rng(3)
    costs = rng.uniform(1.0, 2.0, grid.shape)
    geoms = [Point(400, 600), Point(700, 1400), Point(5200, 500), Point(5600, 1500)]
    result = detect_corridors(geoms, [1, 1, 1, 1], costs, grid, max_neighbours=1)
    links = result.links
    assert len(links) == 3
    joining = links[links.origin == "reconnect"]
    assert len(joining) == 1
    cores = rasterise_cores(geoms, grid, costs)
    best = min(mcp_surface(costs, cores.cells[i], grid.cell_size)[cores.cells[j]].min() for i in (0, 1) for j in (2, 3))
    assert joining.cost_dist.iloc[0] == pytest.approx(best, rel=1e-9)


def test_strokes_follow_good_continuation():
    centres = {0: (0, 0), 1: (10, 0), 2: (20, 1), 3: (10, 10), 4: (30, 0)}
    strokes = chain_strokes([(0, 1), (1, 2), (1, 3), (2, 4)], centres, max_turn=30)
    assert sorted(map(tuple, strokes)) == sorted([(0, 1, 2, 4), (1, 3)]) or [0, 1, 2, 4] in [s[::-1] for s in strokes]
    assert deflection((0, 0), (1, 0), (2, 0)) == pytest.approx(0)
    assert deflection((0, 0), (1, 0), (1, 1)) == pytest.approx(90)


# ------------------------------------------------------------------------------------------------
# demo region: the planted chain; random scatters: no long corridor
# ------------------------------------------------------------------------------------------------
def _demo_clusters(truth):
    geoms = [Point(*c["centre"]).buffer(c["radius_m"]) for c in truth["clusters"]]
    masses = [c["n_firms"] for c in truth["clusters"]]
    names = [c["name"] for c in truth["clusters"]]
    return geoms, masses, names


def _chain_in_order(corridor, chain):
    """True when ``chain`` appears as consecutive clusters of ``corridor`` (either direction)."""
    for sequence in (corridor, corridor[::-1]):
        for start in range(len(sequence) - len(chain) + 1):
            if sequence[start : start + len(chain)] == chain:
                return True
    return False


def _creative_density(demo_region, grid):
    from scipy.ndimage import gaussian_filter

    import pandas as pd

    # firms sit at their postcode centroid: join the CSVs (faster than reading the GeoPackage)
    firms = pd.read_csv(demo_region["firms_csv"], usecols=["Postcode", "SICCode.SicText_1"], dtype=str)
    postcodes = pd.read_csv(Path(demo_region["firms_csv"]).parent / "postcodes.csv", usecols=["Postcode", "Eastings", "Northings"])
    key = firms["Postcode"].fillna("").str.replace(" ", "").str.upper()
    lookup = postcodes.set_index(postcodes["Postcode"].str.replace(" ", "").str.upper())
    firms = firms.assign(x=key.map(lookup["Eastings"]), y=key.map(lookup["Northings"])).dropna(subset=["x"])
    first4 = firms["SICCode.SicText_1"].fillna("").str.slice(0, 4)
    firms = firms[first4.isin(CREATIVE_CLASSES)]
    rows, cols = grid.rowcol(firms.x.to_numpy(), firms.y.to_numpy())
    ok = (rows >= 0) & (cols >= 0) & (rows < grid.height) & (cols < grid.width)
    counts = np.zeros(grid.shape)
    np.add.at(counts, (rows[ok], cols[ok]), 1.0)
    return gaussian_filter(counts, 1000.0 / grid.cell_size)


@pytest.mark.parametrize("resistance_kind", ["uniform", "density"])
def test_demo_region_planted_chain_is_one_corridor_in_order(demo_region, resistance_kind):
    truth = demo_region["truth_data"]
    geoms, masses, names = _demo_clusters(truth)
    grid = grid_from_bounds(truth["extent"], 200.0, truth["crs"])
    density = None
    if resistance_kind == "density":
        density = RasterData(_creative_density(demo_region, grid), grid.transform, grid.crs, None)
    resistance = build_resistance(grid, density=density)
    result = detect_corridors(geoms, masses, resistance.values, grid, ids=names)
    chain = truth["chain"]["cluster_names"]
    corridors = [list(ids) for ids in result.corridors.cluster_ids]
    holding = [c for c in corridors if set(chain) & set(c)]
    assert len(holding) == 1, corridors
    assert _chain_in_order(holding[0], chain), holding[0]
    row = result.corridors[result.corridors.cluster_ids.map(lambda ids: set(chain) <= set(ids))].iloc[0]
    assert row.n_clusters == len(row.cluster_ids) and row.total_mass >= sum(
        c["n_firms"] for c in truth["clusters"] if c["name"] in chain
    )
    # the corridor is about as long as the planted line (from the first to the last cluster edge)
    assert row.length_m >= 0.7 * truth["chain"]["length_m"]
    assert result.corridors.geometry.iloc[0].area > 0


def test_demo_chain_from_cluster_centre_points(demo_region):
    """The same with the clusters given as their centre points (a point's core: the 3 × 3 cells around it)."""
    truth = demo_region["truth_data"]
    geoms = [Point(*c["centre"]) for c in truth["clusters"]]
    masses = [c["n_firms"] for c in truth["clusters"]]
    names = [c["name"] for c in truth["clusters"]]
    chain = truth["chain"]["cluster_names"]
    grid = grid_from_bounds(truth["extent"], 200.0, truth["crs"])
    result = detect_corridors(geoms, masses, build_resistance(grid).values, grid, ids=names)
    corridors = [list(ids) for ids in result.corridors.cluster_ids]
    holding = [c for c in corridors if set(chain) & set(c)]
    assert len(holding) == 1, corridors
    assert _chain_in_order(holding[0], chain), holding[0]


def test_random_scatter_gives_no_long_corridor(demo_region):
    """The demo's 11 clusters scattered at random: chains of four or more clusters stay rare."""
    truth = demo_region["truth_data"]
    geoms, masses, _ = _demo_clusters(truth)
    radii = [c["radius_m"] for c in truth["clusters"]]
    xmin, ymin, xmax, ymax = truth["extent"]
    grid = grid_from_bounds(truth["extent"], 250.0, truth["crs"])
    costs = np.ones(grid.shape)
    rng = np.random.default_rng(2024)
    long_ones, planted_like = 0, 0
    layouts = 12
    for _ in range(layouts):
        x = rng.uniform(xmin + 1000, xmax - 1000, len(geoms))
        y = rng.uniform(ymin + 1000, ymax - 1000, len(geoms))
        shuffled = [Point(a, b).buffer(r) for a, b, r in zip(x, y, radii)]
        result = detect_corridors(shuffled, masses, costs, grid)
        sizes = list(result.corridors.n_clusters)
        long_ones += any(s >= 4 for s in sizes)
        planted_like += any(s >= 5 for s in sizes)
    assert long_ones <= 3
    assert planted_like == 0


# ------------------------------------------------------------------------------------------------
# real data (skip if absent): South Yorkshire creative grid hotspots with the GB motorways
# ------------------------------------------------------------------------------------------------
@pytest.mark.shared_data
def test_south_yorkshire_hotspots_with_motorways(shared_data):
    # simple 1 km grid hotspots: cells with at least 25 creative firms, touching cells merged into one cluster
    firms, clusters, masses = south_yorkshire_creative_grid_hotspots(shared_data)
    roads_path = motorways_path(shared_data)
    xmin, ymin, xmax, ymax = firms.total_bounds
    roads = gpd.read_file(roads_path, bbox=(-2.4, 53.1, -0.6, 53.9)).to_crs(CRS)  # South Yorkshire and around
    roads = roads.cx[xmin - 5000 : xmax + 5000, ymin - 5000 : ymax + 5000]
    grid = grid_from_bounds((xmin, ymin, xmax, ymax), 200.0, CRS, margin=3000)
    resistance = build_resistance(grid, transport=list(roads.geometry), weights=ResistanceWeights())
    result = detect_corridors(clusters, masses, resistance.values, grid)
    print(f"\nSouth Yorkshire: {len(firms)} creative firms, {len(clusters)} grid hotspots (mass {sorted(masses, reverse=True)})")
    print("\n".join(result.log + result.warnings))
    for i, (c, m) in enumerate(zip(clusters, masses), start=1):
        print(f"  cluster {i}: centre E {c.centroid.x:.0f} N {c.centroid.y:.0f}, {c.area / 1e6:.0f} km², {m} creative firms")
    print(result.links.drop(columns="geometry").round(2).to_string())
    assert len(result.links) >= len(clusters) - 1
    assert np.isfinite(result.links.cost_dist).all()


# ------------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------------
def _small_grid():
    return grid_from_bounds((0, 0, 2000, 2000), 20.0, CRS)


def test_one_cluster_is_a_clear_error():
    grid = _small_grid()
    with pytest.raises(CreativeClustersError, match="no corridor is possible"):
        detect_corridors([Point(500, 500)], [10], np.ones(grid.shape), grid)


def test_clusters_outside_the_raster_are_left_out_with_a_warning():
    grid = _small_grid()
    geoms = [Point(300, 300), Point(1700, 1700), Point(50000, 50000)]
    result = detect_corridors(geoms, [1, 1, 1], np.ones(grid.shape), grid)
    assert any("outside" in w for w in result.warnings)
    assert list(result.clusters.status) == ["ok", "ok", "outside"]
    assert len(result.links) == 1
    with pytest.raises(CreativeClustersError, match="Only 1 of the 2"):
        detect_corridors([Point(300, 300), Point(-9000, 0)], [1, 1], np.ones(grid.shape), grid)


def test_overlapping_clusters_are_linked_at_cost_zero():
    grid = _small_grid()
    geoms = [Point(600, 1000).buffer(200), Point(800, 1000).buffer(200), Point(1700, 1000).buffer(100)]
    result = detect_corridors(geoms, [5, 5, 5], np.ones(grid.shape), grid)
    assert any("overlap" in w for w in result.warnings)
    link = result.links[(result.links.from_index == 0) & (result.links.to_index == 1)].iloc[0]
    assert link.cost_dist == 0.0 and link.euc_dist == 0.0
    assert math.isfinite(link.gravity) and link.gravity == pytest.approx(25 / result.stats["min_step_cost"])
    assert np.isnan(link.cost_euc)


def test_unreachable_clusters_are_reported_not_crashed():
    grid = _small_grid()
    costs = np.ones(grid.shape)
    rows, cols = np.mgrid[0 : grid.height, 0 : grid.width]
    x, y = grid.xy(rows, cols)
    ring = (np.hypot(x - 1500, y - 1500) > 250) & (np.hypot(x - 1500, y - 1500) < 320)
    costs[ring] = np.nan  # nodata ring around the third cluster
    geoms = [Point(300, 300), Point(700, 300), Point(1500, 1500)]
    result = detect_corridors(geoms, [1, 1, 1], costs, grid)
    assert len(result.links) == 1
    assert len(result.unreachable) == 2 and [3] in result.unreachable
    assert any("cannot reach" in w for w in result.warnings)
    assert result.clusters.status.tolist()[2] == "isolated"


def test_nodata_in_the_resistance_is_impassable():
    grid = _small_grid()
    costs = np.ones(grid.shape)
    costs[20:100, 40:60] = -9999.0
    raster = RasterData(costs, grid.transform, CRS, nodata=-9999.0)
    resistance = build_resistance(grid, resistance=raster)
    assert np.isinf(resistance.values[20:100, 40:60]).all()
    assert resistance.summary["impassable_cells"] == 80 * 20
    result = detect_corridors([Point(500, 1000), Point(1500, 1000)], [1, 1], resistance.values, grid)
    line = result.links.geometry.iloc[0]
    assert not line.intersects(box(*grid.xy(99, 40), *grid.xy(20, 59)))
    with pytest.raises(CreativeClustersError, match="positive"):
        build_resistance(grid, resistance=RasterData(np.zeros(grid.shape), grid.transform, CRS))


def test_geographic_raster_is_warped_onto_the_projected_grid():
    from affine import Affine
    from rasterio.warp import transform_bounds

    grid = grid_from_bounds((430000, 380000, 440000, 390000), 100.0, CRS)
    west, south, east, north = transform_bounds(CRS, "EPSG:4326", *grid.bounds)
    step = 0.001
    width, height = int((east - west) / step) + 20, int((north - south) / step) + 20
    values = np.full((height, width), 3.0)
    values[:, : width // 2] = np.nan  # western half nodata
    transform = Affine(step, 0, west - 10 * step, 0, -step, north + 10 * step)
    resistance = build_resistance(grid, resistance=RasterData(values, transform, "EPSG:4326", None))
    finite = resistance.values[np.isfinite(resistance.values)]
    assert np.allclose(finite, 3.0)
    # the nodata half stays impassable after warping: the western columns are inf, the eastern ones finite
    assert np.isinf(resistance.values[:, :5]).all() and np.isfinite(resistance.values[:, -5:]).all()


def test_density_transport_and_stations_lower_the_cost():
    grid = _small_grid()
    density = np.zeros(grid.shape)
    density[:, :20] = 10.0
    weights = ResistanceWeights()
    out = build_resistance(
        grid,
        density=RasterData(density, grid.transform, CRS),
        transport=[LineString([(0, 1010), (2000, 1010)])],  # along the centres of row 49
        stations=[Point(1900, 100)],
        weights=weights,
    )
    values = out.values
    assert values[49, 10] == pytest.approx(1 / (1 + weights.density_weight) * weights.transport_factor)  # dense + road
    assert values[10, 10] == pytest.approx(1 / (1 + weights.density_weight))
    assert values[10, 50] == pytest.approx(1.0)
    assert values[95, 95] == pytest.approx(weights.station_factor)
    # rows whose centre is within 500 m of the road are cheap, the others are not
    y = grid.xy(np.arange(grid.height), 0)[1]
    assert np.array_equal(values[:, 50] < 1, np.abs(y - 1010) <= weights.transport_buffer)


def test_grid_exceeding_memory_is_an_error_with_the_size():
    with pytest.raises(CreativeClustersError, match=r"cells and need about .* of memory"):
        check_grid_memory(200_000, 200_000)
    huge = grid_from_bounds((0, 0, 500_000, 500_000), 5.0, CRS)
    with pytest.raises(CreativeClustersError, match=r"100,000 × 100,000"):
        build_resistance(huge)
    with pytest.raises(CreativeClustersError, match="GB"):
        check_grid_memory(10_000, 10_000, memory_limit=2**30)


def test_lines_are_refused_and_cancel_stops():
    grid = _small_grid()
    with pytest.raises(CreativeClustersError, match="polygons"):
        detect_corridors([LineString([(0, 0), (10, 10)]), Point(5, 5)], [1, 1], np.ones(grid.shape), grid)
    with pytest.raises(CancelledError):
        detect_corridors([Point(300, 300), Point(1700, 1700)], [1, 1], np.ones(grid.shape), grid, callback=lambda f: f > 0.3)


def test_progress_is_reported_in_order():
    grid = _small_grid()
    seen = []
    detect_corridors([Point(300, 300), Point(1700, 1700), Point(300, 1700)], [1, 2, 3], np.ones(grid.shape), grid,
                     callback=lambda f: seen.append(f) or False)
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)


# ------------------------------------------------------------------------------------------------
# places: clusters closer than their own size are one place; chains run between places
# ------------------------------------------------------------------------------------------------
def test_places_group_clusters_closer_than_their_size():
    from creative_clusters_plugin.core.surfaces.corridors import group_places

    radii = {0: 100.0, 1: 100.0, 2: 100.0, 3: 50.0}
    # 0–1 gap 150 ≤ 200 (one place), 1–2 gap 250 > 200, 2–3 touching
    place_of = group_places([0, 1, 2, 3], [((0, 1), 150.0), ((1, 2), 250.0), ((2, 3), 0.0)], radii, 1.0)
    assert place_of[0] == place_of[1] != place_of[2] == place_of[3]
    only_touching = group_places([0, 1, 2, 3], [((0, 1), 150.0), ((1, 2), 250.0), ((2, 3), 0.0)], radii, 0.0)
    assert len({only_touching[i] for i in range(3)}) == 3 and only_touching[2] == only_touching[3]


def test_chain_crosses_a_place_through_its_own_links():
    from creative_clusters_plugin.core.surfaces.corridors import find_chains

    # places 0 = {0}, 1 = {1, 2} (1 and 2 linked inside), 2 = {3}; a straight line west to east
    place_of = {0: 0, 1: 1, 2: 1, 3: 2}
    centres = {0: (0.0, 0.0), 1: (10.0, 0.0), 2: (20.0, 0.0)}
    links = [((2, 3), 9.0, True), ((0, 1), 9.0, True), ((1, 2), 1.0, True), ((0, 3), 30.0, False)]
    chains = find_chains(links, place_of, centres, max_turn=30, min_places=3)
    assert len(chains) == 1
    sequence, rows, between = chains[0]
    assert sequence == [0, 1, 2, 3] and sorted(rows) == [0, 1, 2] and sorted(between) == [0, 1]
    assert find_chains(links, place_of, centres, max_turn=30, min_places=4) == []


def test_twins_in_each_town_do_not_hide_the_demo_chain(demo_region):
    """Every demo cluster gets a small twin just outside its edge (a second microcluster of the same town, a
    formation-agent address): with a cluster-level reference the twins shrink d_ref and no link between towns is
    strong; between places the planted chain is found as before, in order, and each town is one place."""
    truth = demo_region["truth_data"]
    geoms, masses, names = _demo_clusters(truth)
    twins, twin_masses, twin_names = [], [], []
    for c in truth["clusters"]:
        r = c["radius_m"]
        twins.append(Point(c["centre"][0], c["centre"][1] + 1.4 * r).buffer(0.3 * r))
        twin_masses.append(5)
        twin_names.append(c["name"] + " twin")
    grid = grid_from_bounds(truth["extent"], 200.0, truth["crs"])
    result = detect_corridors(geoms + twins, masses + twin_masses, build_resistance(grid).values, grid, ids=names + twin_names)
    assert result.stats["n_places"] == len(geoms)
    chain = truth["chain"]["cluster_names"]
    corridors = [[x for x in ids if not x.endswith(" twin")] for ids in result.corridors.cluster_ids]
    holding = [c for c in corridors if set(chain) & set(c)]
    assert len(holding) == 1, list(result.corridors.clusters)
    assert _chain_in_order(holding[0], chain), holding[0]
    # the untwinned demo: every cluster is its own place
    plain = detect_corridors(geoms, masses, build_resistance(grid).values, grid, ids=names)
    assert plain.stats["n_places"] == len(geoms)
