"""GeoTIFF writing: values, nodata, CRS, transform, tiling, compression, overviews, atomic replacement.

Files are checked with rasterio directly (not only with our own reader)."""

import os

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS

from creative_clusters_plugin.core.errors import CreativeClustersError
from creative_clusters_plugin.core.surfaces.grid import Grid
from creative_clusters_plugin.core.surfaces.raster_io import overview_factors, read_geotiff, write_geotiff

BNG_TRANSFORM = Affine(100.0, 0.0, 412_000.0, 0.0, -100.0, 324_000.0)


def test_round_trip_values_nodata_crs_and_transform(tmp_path):
    array = np.arange(300 * 280, dtype=float).reshape(300, 280) / 7.0
    array[5, 7] = np.nan
    array[6, 8] = np.inf
    path = write_geotiff(tmp_path / "d.tif", array, BNG_TRANSFORM, 27700, nodata=-9999.0, description="density test")
    with rasterio.open(path) as ds:
        assert ds.crs == CRS.from_epsg(27700)
        assert ds.transform == BNG_TRANSFORM
        assert ds.nodata == -9999.0
        assert ds.dtypes[0] == "float32"
        assert ds.profile["compress"].lower() == "deflate"
        assert ds.profile["tiled"] and ds.block_shapes[0] == (256, 256)
        assert ds.descriptions[0] == "density test"
        raw = ds.read(1)
        assert ds.overviews(1) == []  # small raster: none
    assert raw[5, 7] == -9999.0 and raw[6, 8] == -9999.0
    back = read_geotiff(path)
    assert np.isnan(back.array[5, 7]) and np.isnan(back.array[6, 8])
    finite = np.isfinite(array)
    np.testing.assert_allclose(back.array[finite], array[finite].astype(np.float32), rtol=0)
    assert back.description == "density test"
    assert not [name for name in os.listdir(tmp_path) if name.startswith(".tmp_")]


@pytest.mark.parametrize("crs", ["EPSG:27700", CRS.from_epsg(27700).to_wkt(), 27700])
def test_crs_forms(tmp_path, crs):
    path = write_geotiff(tmp_path / "c.tif", np.ones((4, 5)), (412_000.0, 100.0, 0.0, 324_000.0, 0.0, -100.0), crs)
    with rasterio.open(path) as ds:
        assert ds.crs.to_epsg() == 27700
        assert ds.transform == BNG_TRANSFORM
        assert ds.shape == (4, 5)


def test_overviews_for_large_raster(tmp_path):
    yy, xx = np.mgrid[0:1300, 0:1100]
    array = np.exp(-((xx - 550.0) ** 2 + (yy - 650.0) ** 2) / 2e5)
    array[:10, :10] = np.nan
    path = write_geotiff(tmp_path / "big.tif", array, BNG_TRANSFORM, "EPSG:27700")
    with rasterio.open(path) as ds:
        assert ds.overviews(1) == [2, 4, 8]
        assert ds.tags(ns="rio_overview").get("resampling") == "average"
        small = ds.read(1, out_shape=(1300 // 8 + 1, 1100 // 8 + 1))
        assert small.max() == pytest.approx(1.0, abs=0.01)
    assert read_geotiff(path).overviews == [2, 4, 8]
    assert overview_factors(2400, 2400) == [2, 4, 8, 16]
    assert overview_factors(1024, 500) == []


def test_failed_write_leaves_previous_file(tmp_path):
    path = tmp_path / "keep.tif"
    write_geotiff(path, np.full((3, 3), 2.0), BNG_TRANSFORM, 27700)
    before = path.read_bytes()
    with pytest.raises(CreativeClustersError):
        write_geotiff(path, np.full((3, 3), 5.0), BNG_TRANSFORM, "not a crs at all")
    with pytest.raises(CreativeClustersError):
        write_geotiff(path, np.ones(5), BNG_TRANSFORM, 27700)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["keep.tif"]
    with pytest.raises(CreativeClustersError):
        read_geotiff(tmp_path / "missing.tif")


def test_write_and_read_with_a_grid(tmp_path):
    """The shared Grid carries the transform and CRS both ways; a bare transform writes the same file."""
    grid = Grid(412_000.0, 324_000.0, 100.0, 100.0, 4, 5, "EPSG:27700")
    values = np.arange(20, dtype=float).reshape(4, 5)
    path = write_geotiff(tmp_path / "g.tif", values, grid)
    same = write_geotiff(tmp_path / "t.tif", values, BNG_TRANSFORM, "EPSG:27700")
    with rasterio.open(path) as ds, rasterio.open(same) as other:
        assert ds.transform == BNG_TRANSFORM == other.transform
        assert ds.crs == CRS.from_epsg(27700) == other.crs
        assert ds.nodata == -9999.0 == other.nodata
    back = read_geotiff(path)
    assert back.grid.with_crs(None) == Grid(412_000.0, 324_000.0, 100.0, 100.0, 4, 5)
    assert CRS.from_wkt(back.grid.crs) == CRS.from_epsg(27700)
    assert back.grid.geotransform == BNG_TRANSFORM.to_gdal()
    np.testing.assert_array_equal(back.array, values)
    with pytest.raises(CreativeClustersError, match="does not match"):
        write_geotiff(tmp_path / "bad.tif", np.ones((5, 4)), grid)
    assert not (tmp_path / "bad.tif").exists()
