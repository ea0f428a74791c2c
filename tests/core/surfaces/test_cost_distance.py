"""Cost-distance: equality with scikit-image's MCP_Geometric / route_through_array, bounded windows, both engines.

scikit-image is the independent reference: its full surfaces are computed here directly with
``MCP_Geometric(costs, sampling=(cell, cell)).find_costs(starts)``; the SciPy engine never touches scikit-image.
"""

import math

import numpy as np
import pytest

from creative_clusters_plugin.core.surfaces.cost_distance import (
    CostDistanceGrid,
    accumulated_cost,
    least_cost_path,
    path_cost,
    path_length,
    validate_costs,
)
from creative_clusters_plugin.core.errors import CreativeClustersError

skgraph = pytest.importorskip("skimage.graph")
ENGINES = ["skimage", "scipy"]


def random_costs(rng, shape, nodata=0.1, low=0.5, high=5.0):
    costs = rng.uniform(low, high, shape)
    costs[rng.random(shape) < nodata] = np.inf
    return costs


def reference(costs, starts, cell):
    surface, _ = skgraph.MCP_Geometric(costs, sampling=(cell, cell)).find_costs([tuple(s) for s in starts])
    return surface


def random_sources(rng, costs, n):
    passable = np.argwhere(np.isfinite(costs))
    return passable[rng.choice(len(passable), size=n, replace=False)]


def test_hand_computed_edges():
    # a row of three cells of cost 1, 2, 3 per metre, 10 m cells: 10·(1+2)/2 = 15, then + 10·(2+3)/2 = 25
    costs = np.array([[1.0, 2.0, 3.0]])
    assert accumulated_cost(costs, [(0, 0)], cell_size=10.0) == pytest.approx(np.array([[0.0, 15.0, 40.0]]))
    # a diagonal step costs √2 × cell × mean
    costs = np.ones((2, 2))
    out = accumulated_cost(costs, [(0, 0)], cell_size=10.0, engine="scipy")
    assert out[1, 1] == pytest.approx(10 * math.sqrt(2))
    assert path_length([(0, 0), (0, 1), (1, 2)], 10.0) == pytest.approx(10 + 10 * math.sqrt(2))
    assert path_cost([[1.0, 3.0, 5.0]], [(0, 0), (0, 1), (0, 2)], 2.0) == pytest.approx(2 * 2 + 2 * 4)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_full_surface_equals_mcp_geometric(engine, seed):
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(30, 90, 2))
    costs = random_costs(rng, shape)
    cell = float(rng.choice([1.0, 25.0, 100.0]))
    starts = random_sources(rng, costs, 3)
    expected = reference(costs, starts, cell)
    got = CostDistanceGrid(costs, cell, engine=engine).search(starts).full(shape)
    assert np.array_equal(np.isfinite(got), np.isfinite(expected))
    finite = np.isfinite(expected)
    np.testing.assert_allclose(got[finite], expected[finite], rtol=1e-10)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("seed", [3, 4])
def test_bounded_windows_give_the_same_values_inside_the_cap(engine, seed):
    rng = np.random.default_rng(seed)
    shape = (120, 150)
    costs = random_costs(rng, shape, nodata=0.15)
    starts = random_sources(rng, costs, 2)
    expected = reference(costs, starts, 10.0)
    cap = float(np.percentile(expected[np.isfinite(expected)], 20))
    grid = CostDistanceGrid(costs, 10.0, engine=engine)
    # a deliberately tiny first window: the search must detect the leak at the border and grow
    surface = grid.search(starts, max_cost=cap, radius=2)
    assert surface.attempts > 1
    got = surface.full(shape)
    inside = expected <= cap
    np.testing.assert_allclose(got[inside], expected[inside], rtol=1e-10)
    assert surface.complete_to >= cap
    # every finite value returned is exact (the cell that stopped the search may exceed the cap)
    finite = np.isfinite(got)
    np.testing.assert_allclose(got[finite], expected[finite], rtol=1e-10)
    assert np.count_nonzero(finite & ~inside) <= 1
    # the window never covered the whole grid for a 20 % cap
    assert surface.cost.size < costs.size


@pytest.mark.parametrize("engine", ENGINES)
def test_k_nearest_zones_and_their_least_cost(engine):
    rng = np.random.default_rng(7)
    shape = (100, 100)
    costs = random_costs(rng, shape, nodata=0.05)
    labels = np.full(shape, -1, dtype=np.int32)
    zones = []
    for z in range(8):
        r, c = rng.integers(5, 95, 2)
        labels[r - 2 : r + 3, c - 2 : c + 3] = z
    for z in range(8):
        zones.append(np.argwhere((labels == z) & np.isfinite(costs)))
    own = 0
    expected = reference(costs, zones[own], 5.0)
    lcd = {z: float(expected[tuple(zones[z].T)].min()) for z in range(1, 8) if len(zones[z])}
    nearest = sorted(lcd, key=lcd.get)[:3]
    grid = CostDistanceGrid(costs, 5.0, labels=labels, engine=engine)
    surface = grid.search(zones[own], own_label=own, k_nearest=3, extra_cost=lambda v: v * 1.1, radius=3)
    for z in nearest:
        assert surface.found[z][0] == pytest.approx(lcd[z], rel=1e-10)
        r, c = surface.found[z][1:]
        assert labels[r, c] == z
    # the search stopped at 1.1 × the third least cost: the far zones were not explored
    assert surface.complete_to == pytest.approx(1.1 * lcd[nearest[-1]], rel=1e-10)
    far = [z for z in lcd if lcd[z] > 1.1 * lcd[nearest[-1]]]
    assert all(z not in surface.found for z in far)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("seed", [5, 6])
def test_least_cost_path_equals_route_through_array(engine, seed):
    rng = np.random.default_rng(seed)
    costs = random_costs(rng, (60, 80), nodata=0.1)
    start, end = random_sources(rng, costs, 2)
    expected_path, expected_cost = skgraph.route_through_array(costs, tuple(start), tuple(end), fully_connected=True, geometric=True)
    path, cost = least_cost_path(costs, [start], end, cell_size=1.0, engine=engine)
    assert cost == pytest.approx(expected_cost, rel=1e-10)
    assert path_cost(costs, path, 1.0) == pytest.approx(expected_cost, rel=1e-10)
    assert tuple(path[0]) == tuple(start) and tuple(path[-1]) == tuple(end)
    # consecutive cells are 8-neighbours and never impassable
    steps = np.abs(np.diff(path, axis=0))
    assert steps.max() == 1 and np.all(steps.sum(axis=1) >= 1)
    assert np.all(np.isfinite(costs[path[:, 0], path[:, 1]]))
    # continuous random costs: the least-cost path is unique, so it is the very same sequence of cells
    assert np.array_equal(path, np.array(expected_path))


def test_compact_surface_keeps_paths_and_values():
    rng = np.random.default_rng(9)
    costs = random_costs(rng, (50, 50), nodata=0.0)
    grid = CostDistanceGrid(costs, 2.0)
    surface = grid.search([(25, 25)], max_cost=30.0)
    compact = surface.compact()
    assert compact.cost.dtype == np.float32 and compact.nbytes < surface.nbytes
    r, c = np.argwhere(np.isfinite(surface.cost))[-1] + (surface.row0, surface.col0)
    assert np.array_equal(compact.path_to(r, c), surface.path_to(r, c))
    assert compact.value([r], [c])[0] == pytest.approx(surface.value([r], [c])[0], rel=1e-6)


def test_unreachable_and_bad_input():
    costs = np.ones((10, 10))
    costs[:, 5] = np.nan  # a wall: NaN is impassable
    out = accumulated_cost(costs, [(0, 0)])
    assert np.isinf(out[:, 5:]).all() and np.isfinite(out[:, :5]).all()
    with pytest.raises(CreativeClustersError, match="cannot be reached"):
        least_cost_path(costs, [(0, 0)], (0, 9))
    with pytest.raises(CreativeClustersError, match="negative"):
        validate_costs(-np.ones((3, 3)))
    with pytest.raises(CreativeClustersError, match="outside"):
        accumulated_cost(np.ones((3, 3)), [(5, 5)])
    with pytest.raises(CreativeClustersError, match="impassable"):
        accumulated_cost(costs, [(0, 5)])
    with pytest.raises(CreativeClustersError, match="impassable"):
        CostDistanceGrid(np.full((3, 3), np.inf))
