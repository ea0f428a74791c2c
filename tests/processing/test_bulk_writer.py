"""The bulk writer's own parts: the packed R*Tree equals what SQLite's own insertions index, GeoPackage
geometry functions read headers right."""

import os
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


def test_packed_rtree_without_sqlite_json(monkeypatch):
    """Where SQLite has no JSON functions the R*Tree rows go through executemany: the same valid tree."""
    from creative_clusters_plugin.processing_provider import bulk_writer

    monkeypatch.setattr(bulk_writer, "_HAS_JSON", False)
    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 1000, (5_000, 2))
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE VIRTUAL TABLE r USING rtree(id, minx, maxx, miny, maxy)")
    bulk_load_rtree(connection, "r", np.arange(1, 5_001), xy[:, 0], xy[:, 1])
    assert connection.execute("SELECT rtreecheck('r')").fetchone()[0] == "ok"
    assert connection.execute("SELECT count(*) FROM r").fetchone()[0] == 5_000


def test_point_table_writer_joins_rows_to_their_keys_and_refuses_missing_keys(tmp_path):
    """Rows get the point and values of their key; keys missing a value of the column leave
    nothing and the staged copy stays for a second call; the finished file is a valid GeoPackage."""
    from creative_clusters_plugin.processing_provider.bulk_writer import NewColumn, PointTableWriter

    csv = tmp_path / "t.csv"
    csv.write_text("id,key\n1,a\n2,b\n3,\n4,a\n5,c\n")
    target = tmp_path / "out.gpkg"
    writer = PointTableWriter(str(target), 27700)
    assert writer.copy(str(csv), None, 0, None, []) == 5
    keys, counts = writer.distinct_values("key")
    assert dict(zip(keys, counts.tolist())) == {"": 1, "a": 2, "b": 1, "c": 1}

    def columns(values):
        return [NewColumn("label", "string", 8, np.array(values, dtype=object))]

    xy = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert writer.write("key", ["a", "b"], xy, columns(["A", "B"])) is False  # "" and "c" missing
    assert not os.path.exists(writer.partial) and os.path.exists(writer.staging)
    xy = np.array([[1.0, 2.0], [3.0, 4.0], [np.nan, np.nan], [np.nan, np.nan]])
    assert writer.write("key", ["a", "b", "", "c"], xy, columns(["A", "B", "blank", None])) is True
    writer.write_subset(str(tmp_path / "rest.gpkg"), '"label" IS NULL OR "label" = \'blank\'')
    assert writer.publish() == str(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.gpkg", "rest.gpkg", "t.csv"]
    with sqlite3.connect(target) as connection:
        rows = connection.execute('SELECT fid, id, label, geom IS NULL FROM out ORDER BY fid').fetchall()
        assert rows == [(1, "1", "A", 0), (2, "2", "B", 0), (3, "3", "blank", 1), (4, "4", "A", 0), (5, "5", None, 1)]
        assert connection.execute("SELECT rtreecheck('rtree_out_geom')").fetchone()[0] == "ok"
        assert connection.execute("SELECT id FROM rtree_out_geom ORDER BY id").fetchall() == [(1,), (2,), (4,)]
        assert connection.execute("SELECT feature_count FROM gpkg_ogr_contents").fetchone()[0] == 5
        assert connection.execute("SELECT min_x, min_y, max_x, max_y FROM gpkg_contents").fetchone() == (1, 2, 3, 4)
    with sqlite3.connect(tmp_path / "rest.gpkg") as connection:
        assert connection.execute("SELECT fid, id FROM rest ORDER BY fid").fetchall() == [(3, "3"), (5, "5")]
