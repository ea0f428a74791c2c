"""The shared raster grid (core.surfaces.grid.Grid): georeferencing, cell conversions, snapping, windows.

Density, resistance / corridors and GeoTIFF I/O all use this one class; the old names are aliases of it."""

import math

import numpy as np
import pytest
from affine import Affine

from creative_clusters_plugin.core.errors import CreativeClustersError
from creative_clusters_plugin.core.surfaces import kernel_density, resistance
from creative_clusters_plugin.core.surfaces.grid import Grid

BNG = Affine(100.0, 0.0, 412_000.0, 0.0, -100.0, 324_000.0)


def test_one_class_everywhere():
    assert kernel_density.DensityGrid is Grid
    assert resistance.grid_from_bounds((0, 0, 100, 100), 10.0).__class__ is Grid
    assert kernel_density.grid_for_points([[5.0, 5.0]], 10.0).__class__ is Grid


def test_transform_geotransform_bounds_and_sizes():
    grid = Grid(412_000.0, 324_000.0, 100.0, 80.0, 30, 20, "EPSG:27700")
    assert grid.transform == Affine(100.0, 0.0, 412_000.0, 0.0, -80.0, 324_000.0)
    assert grid.geotransform == grid.transform.to_gdal() == (412_000.0, 100.0, 0.0, 324_000.0, 0.0, -80.0)
    assert grid.bounds == (412_000.0, 324_000.0 - 30 * 80.0, 412_000.0 + 20 * 100.0, 324_000.0)
    assert grid.shape == (30, 20) and grid.n_cells == 600
    assert grid.cell_size == 100.0 and grid.cell_area == 8000.0
    assert grid.crs == "EPSG:27700" and grid.with_crs(None).crs is None


def test_from_transform_affine_and_gdal():
    a = Grid.from_transform(BNG, 4, 5, "EPSG:27700")
    b = Grid.from_transform(BNG.to_gdal(), 4, 5, "EPSG:27700")
    assert a == b == Grid(412_000.0, 324_000.0, 100.0, 100.0, 4, 5, "EPSG:27700")
    assert a.transform == BNG
    for bad in (Affine(100.0, 0.0, 0.0, 0.0, 100.0, 0.0), Affine.rotation(10) * BNG, Affine(-100.0, 0, 0, 0, -100.0, 0)):
        with pytest.raises(CreativeClustersError, match="north-up"):
            Grid.from_transform(bad, 4, 5)


def test_cell_centres_and_cells_of_points_agree_with_rasterio():
    import rasterio.transform

    grid = Grid.from_transform(BNG, 40, 50)
    rows, cols = np.mgrid[0:40, 0:50]
    x, y = grid.xy(rows, cols)
    rx, ry = rasterio.transform.xy(BNG, rows.ravel(), cols.ravel(), offset="center")
    np.testing.assert_allclose(x.ravel(), rx, rtol=0, atol=1e-6)
    np.testing.assert_allclose(y.ravel(), ry, rtol=0, atol=1e-6)
    # a centre lies in its own cell; edges belong to the cell to the east / south
    r, c = grid.rowcol(x, y)
    np.testing.assert_array_equal(r, rows)
    np.testing.assert_array_equal(c, cols)
    r, c = grid.rowcol([412_000.0, 412_099.99, 411_999.0], [324_000.0, 323_900.0, 324_000.5])
    assert r.tolist() == [0, 1, -1] and c.tolist() == [0, 0, -1]
    assert r.dtype == np.int64


def test_window():
    grid = Grid.from_transform(BNG, 40, 50, "EPSG:27700")
    sub = grid.window(3, 7)
    assert sub.shape == (37, 43) and sub.crs == grid.crs
    assert sub.transform == Affine(100.0, 0.0, 412_700.0, 0.0, -100.0, 323_700.0) == grid.window_transform(3, 7)
    small = grid.window(3, 7, 2, 4)
    assert small.shape == (2, 4)
    assert tuple(map(float, small.xy(1, 2))) == tuple(map(float, grid.xy(4, 9)))


def test_snapped_and_covering():
    grid = Grid.snapped((123.4, 567.8, 9876.5, 4321.0), 50.0, margin=10.0, crs="EPSG:27700")
    assert grid.bounds == (100.0, 550.0, 9900.0, 4350.0)
    assert grid.shape == (76, 196) and grid.crs == "EPSG:27700"
    xmin, ymin, xmax, ymax = grid.bounds
    assert all(math.isclose(v / 50.0, round(v / 50.0)) for v in grid.bounds)
    assert xmin <= 123.4 - 10 and ymin <= 567.8 - 10 and xmax >= 9876.5 + 10 and ymax >= 4321.0 + 10
    # a single point on a cell corner still gets one cell that contains it
    point = Grid.snapped((1000.0, 2000.0, 1000.0, 2000.0), 100.0)
    assert point.shape == (1, 1) and point.bounds == (1000.0, 2000.0, 1100.0, 2100.0)
    # covering: anchored on the extent's top-left corner, not snapped
    cover = Grid.covering((8000.5, 18000.3, 16000.7, 26000.1), 100.0)
    assert (cover.x0, cover.y0) == (8000.5, 26000.1) and cover.shape == (80, 81)
    assert Grid.covering((0, 0, 300, 200), 100.0).shape == (2, 3)  # exact multiples: no extra cell


def test_grid_is_frozen_and_hashable():
    grid = Grid(0.0, 10.0, 1.0, 1.0, 10, 10)
    with pytest.raises(AttributeError):
        grid.width = 3
    assert len({grid, Grid(0.0, 10.0, 1.0, 1.0, 10, 10)}) == 1
