"""The bulk writer's own parts: the packed R*Tree equals what SQLite's own insertions index, GeoPackage
geometry functions read headers right."""

import sqlite3
import struct

import numpy as np
import pytest

from creative_clusters_plugin.processing_provider.bulk_writer import (
    _envelope,
    _point_blobs,
    bulk_load_rtree,
    output_layer_name,
)


@pytest.mark.parametrize("n", [1, 50, 51, 52, 2_601, 30_000])
def test_packed_rtree_is_valid_and_finds_what_a_scan_finds(n):
    rng = np.random.default_rng(n)
    xy = np.column_stack([rng.uniform(400_000, 460_000, n), rng.uniform(380_000, 420_000, n)])
    xy[: n // 10] = xy[0]  # duplicates (stacked addresses)
    ids = np.arange(1, n + 1) * 3
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE VIRTUAL TABLE r USING rtree(id, minx, maxx, miny, maxy)")
    bulk_load_rtree(connection, "r", ids, xy[:, 0], xy[:, 1])
    assert connection.execute("SELECT rtreecheck('r')").fetchone()[0] == "ok"
    assert connection.execute("SELECT count(*) FROM r").fetchone()[0] == n
    for _ in range(20):
        x0, y0 = rng.uniform(400_000, 460_000), rng.uniform(380_000, 420_000)
        w = rng.uniform(10, 20_000)
        found = {row[0] for row in connection.execute(
            "SELECT id FROM r WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?", (x0, x0 + w, y0, y0 + w))}
        inside = (xy[:, 0] >= x0) & (xy[:, 0] <= x0 + w) & (xy[:, 1] >= y0) & (xy[:, 1] <= y0 + w)
        assert set(ids[inside].tolist()) <= found  # a 32-bit index may add (never lose) boundary points
        assert len(found) - inside.sum() <= 2
    # the tree accepts ordinary edits afterwards
    connection.execute("INSERT INTO r VALUES (1, 0, 1, 0, 1)")
    connection.execute("DELETE FROM r WHERE id = ?", (int(ids[-1]),))
    assert connection.execute("SELECT rtreecheck('r')").fetchone()[0] == "ok"


def test_point_blobs_and_envelopes():
    xy = np.array([[435000.5, 387000.25], [np.nan, np.nan]])
    blob, empty = _point_blobs(xy, 27700)
    assert empty is None
    assert blob[:2] == b"GP" and struct.unpack("<i", blob[4:8])[0] == 27700
    assert struct.unpack("<BIdd", blob[8:]) == (1, 1, 435000.5, 387000.25)
    assert _envelope(blob) == (435000.5, 435000.5, 387000.25, 387000.25)


def test_output_layer_names_avoid_the_reserved_gpkg_prefix():
    assert output_layer_name("/x/classified.gpkg") == "classified"
    assert output_layer_name("/x/gpkg.gpkg") == "layer_gpkg"
    assert output_layer_name("/x/GPKG_results.shp") == "layer_GPKG_results"
