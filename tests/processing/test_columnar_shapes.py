"""Polygons (and lines) on the bulk data path: read through GDAL as WKB, they give exactly what QGIS's feature
loop gives — the same rows, points on surface, reprojected and repaired geometries — for GeoPackage, shapefile
(mixed single and multi parts) and GeoJSON, with subsets and selections; outputs that carry them are written
in bulk and equal QGIS's sink."""

import numpy as np
import pandas as pd
import pytest

from qgis.core import (
    QgsFeature,
    QgsFeatureRequest,
    QgsField,
    QgsGeometry,
    QgsProcessingContext,
    QgsProcessingFeatureSourceDefinition,
    QgsProject,
    QgsVectorLayer,
    QgsWkbTypes,
)

from creative_clusters_plugin.processing_provider.base_algorithm import _to_python
from tests.processing.table_reading import read_input as _read



def _square(x, y, size=100.0):
    return f"(({x} {y}, {x + size} {y}, {x + size} {y + size}, {x} {y + size}, {x} {y}))"


def _polygons(n=400, seed=5):
    """WKT of a tiling of squares, with an invalid bow-tie, a multipolygon, a hole, NULL and empty geometries."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        x, y = 430000 + (i % 20) * 100.0, 380000 + (i // 20) * 100.0
        if i % 97 == 3:
            wkt = None
        elif i % 101 == 7:
            wkt = "POLYGON EMPTY"
        elif i % 37 == 11:  # a bow-tie: invalid, repaired for the analysis only
            wkt = f"POLYGON(({x} {y}, {x + 100} {y + 100}, {x + 100} {y}, {x} {y + 100}, {x} {y}))"
        elif i % 41 == 13:
            wkt = f"MULTIPOLYGON({_square(x, y, 40)}, {_square(x + 60, y + 60, 40)})"
        elif i % 43 == 17:
            wkt = f"POLYGON(({x} {y}, {x + 100} {y}, {x + 100} {y + 100}, {x} {y + 100}, {x} {y}), " \
                  f"({x + 20} {y + 20}, {x + 80} {y + 20}, {x + 80} {y + 80}, {x + 20} {y + 80}, {x + 20} {y + 20}))"
        else:
            jitter = rng.uniform(-5, 5)
            wkt = f"POLYGON(({x} {y}, {x + 100 + jitter} {y}, {x + 100} {y + 100}, {x} {y + 100}, {x} {y}))"
        rows.append((i, f"area {i} – Café" if i % 9 else None, float(i % 13) if i % 7 else None, wkt))
    return rows


def _write_with_ogr(path, driver, geometry_type, crs_epsg=27700, transform_to=None):
    """The polygons written by GDAL itself (a shapefile keeps single and multi parts mixed)."""
    from osgeo import ogr, osr

    srs = osr.SpatialReference()
    srs.ImportFromEPSG(crs_epsg)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    transform = None
    if transform_to is not None:
        bng = osr.SpatialReference()
        bng.ImportFromEPSG(27700)
        bng.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        transform = osr.CoordinateTransformation(bng, srs)
    dataset = ogr.GetDriverByName(driver).CreateDataSource(str(path))
    layer = dataset.CreateLayer("areas", srs, geometry_type)
    for name, kind in (("n", ogr.OFTInteger), ("label", ogr.OFTString), ("value", ogr.OFTReal)):
        layer.CreateField(ogr.FieldDefn(name, kind))
    for n, label, value, wkt in _polygons():
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("n", n)
        if label is not None:
            feature.SetField("label", label)
        if value is not None:
            feature.SetField("value", value)
        if wkt is not None:
            geometry = ogr.CreateGeometryFromWkt(wkt)
            if geometry_type == ogr.wkbMultiPolygon:
                geometry = ogr.ForceToMultiPolygon(geometry)
            if transform is not None:
                geometry.Transform(transform)
            feature.SetGeometry(geometry)
        layer.CreateFeature(feature)
    dataset = None
    return str(path)


@pytest.fixture(scope="module")
def polygon_files(tmp_path_factory, qgis_app):
    from osgeo import ogr

    folder = tmp_path_factory.mktemp("shapes")
    return {
        "gpkg": _write_with_ogr(folder / "areas.gpkg", "GPKG", ogr.wkbMultiPolygon),
        "shp": _write_with_ogr(folder / "areas.shp", "ESRI Shapefile", ogr.wkbPolygon),
        "geojson_wgs84": _write_with_ogr(folder / "areas.geojson", "GeoJSON", ogr.wkbUnknown, 4326, transform_to=True),
    }


def _assert_same_tables(bulk, loop):
    assert bulk.ogr is not None, "the bulk path was not taken"
    assert loop.ogr is None
    np.testing.assert_array_equal(bulk.fids, loop.fids)
    np.testing.assert_array_equal(bulk.xy, loop.xy)
    np.testing.assert_array_equal(bulk.source_xy, loop.source_xy)
    assert bulk.skipped_null_geometry == loop.skipped_null_geometry
    pd.testing.assert_frame_equal(bulk.frame, loop.frame)
    if loop.wkb is not None:
        assert len(bulk.wkb) == len(loop.wkb)
        for i, (got, want) in enumerate(zip(bulk.wkb, loop.wkb)):
            assert got == want, f"geometry of row {i} (fid {loop.fids[i]}) differs"


@pytest.mark.parametrize("kind", ["gpkg", "shp", "geojson_wgs84"])
def test_polygons_read_in_bulk_equal_the_feature_loop(polygon_files, kind):
    layer = QgsVectorLayer(polygon_files[kind], "areas", "ogr")
    assert layer.isValid()
    bulk = _read(layer, ["n", "label", "value"], bulk=True)
    loop = _read(layer, ["n", "label", "value"], bulk=False)
    _assert_same_tables(bulk, loop)
    # what was planted: NULL and empty geometries left out, the bow-tie repaired, points inside their polygons
    assert loop.skipped_null_geometry == sum(1 for *_, wkt in _polygons() if wkt is None or wkt.endswith("EMPTY"))
    shapes = loop.geodataframe()
    assert shapes.geometry.is_valid.all()
    from shapely.geometry import Point

    inside = [geometry.buffer(1e-6).contains(Point(x, y)) for geometry, (x, y) in zip(shapes.geometry, loop.xy)]
    assert all(inside)
    if kind == "shp":  # QGIS shows a shapefile's polygons as multipolygons; so does the bulk path
        assert QgsWkbTypes.isMultiType(layer.wkbType())
        assert set(shapes.geom_type) == {"MultiPolygon"}


def test_points_of_polygons_without_their_geometry(polygon_files):
    """Gi* with a distance band reads only each polygon's point on surface: the same on both paths."""
    layer = QgsVectorLayer(polygon_files["shp"], "areas", "ogr")
    bulk = _read(layer, ["value"], bulk=True, with_geometry=False)
    loop = _read(layer, ["value"], bulk=False, with_geometry=False)
    _assert_same_tables(bulk, loop)
    assert bulk.wkb is None and loop.wkb is None


def test_subsets_and_selections_of_polygons(polygon_files):
    context = QgsProcessingContext()
    subset = QgsVectorLayer(polygon_files["gpkg"], "areas", "ogr")
    subset.setSubsetString('"n" % 3 = 0')
    _assert_same_tables(_read(subset, ["n"], True), _read(subset, ["n"], False))
    assert set(_read(subset, ["n"], True).frame["n"]) <= set(range(0, 400, 3))

    selected = QgsVectorLayer(polygon_files["shp"], "areas", "ogr")
    context.temporaryLayerStore().addMapLayer(selected)
    selected.selectByIds([0, 5, 6, 40, 399])
    definition = QgsProcessingFeatureSourceDefinition(selected.id(), True)
    bulk = _read(definition, ["n"], True, context=context)
    loop = _read(definition, ["n"], False, context=context)
    _assert_same_tables(bulk, loop)
    assert bulk.frame["n"].tolist() == [0, 5, 6, 40, 399]


@pytest.mark.parametrize("kind", ["gpkg", "shp"])
def test_invalid_geometries_are_skipped_alike_on_both_paths(polygon_files, kind):
    """Processing set to skip invalid features: the same rows left out on both paths."""
    layer = QgsVectorLayer(polygon_files[kind], "areas", "ogr")
    bow_ties = [n for n in range(400) if n % 97 != 3 and n % 101 != 7 and n % 37 == 11]  # as planted
    skipping = QgsProcessingContext()
    skipping.setInvalidGeometryCheck(QgsFeatureRequest.GeometrySkipInvalid)
    bulk = _read(layer, ["n"], True, context=skipping)
    loop = _read(layer, ["n"], False, context=skipping)
    _assert_same_tables(bulk, loop)
    assert len(bow_ties) >= 5 and not set(bow_ties) & set(bulk.frame["n"])


@pytest.fixture
def memory_areas(polygon_files):
    """The GeoPackage's polygons as a memory layer in the project (read only by QGIS's loop); by id, so that no
    test frame holds the layer while an exception passes through it."""
    layer = _memory_copy(polygon_files["gpkg"])
    QgsProject.instance().addMapLayer(layer, False)
    yield layer.id()
    QgsProject.instance().removeMapLayer(layer.id())


def test_invalid_geometries_are_refused_alike_on_both_paths(polygon_files, memory_areas, run_alg):
    """Processing set to stop at invalid features (its default): the same refusal on both paths."""
    from qgis.core import QgsProcessingException

    messages = []
    for value in (polygon_files["gpkg"], memory_areas):  # the bulk path, QGIS's loop
        with pytest.raises(QgsProcessingException) as refused:
            run_alg("hotspots", {"INPUT": value, "FIELD": "value", "WEIGHTS": 0, "OUTPUT": "memory:"})
        messages.append(str(refused.value).split("”", 1)[-1])
    assert messages[0] == messages[1] and "has invalid geometry" in messages[0]


def test_without_require_geometry_rows_without_one_are_kept(polygon_files):
    layer = QgsVectorLayer(polygon_files["gpkg"], "areas", "ogr")
    bulk = _read(layer, ["n"], True, require_geometry=False)
    loop = _read(layer, ["n"], False, require_geometry=False)
    assert len(bulk) == len(loop) == 400
    np.testing.assert_array_equal(np.isnan(bulk.xy), np.isnan(loop.xy))
    np.testing.assert_array_equal(bulk.xy[~np.isnan(bulk.xy).any(axis=1)], loop.xy[~np.isnan(loop.xy).any(axis=1)])
    assert [w is None for w in bulk.wkb] == [w is None for w in loop.wkb]


def test_real_boundaries_read_in_bulk_equal_the_feature_loop(shared_data):
    """The MSOAs of England and Wales (7,201 polygons) and the local authorities (a shapefile, mixed parts)."""
    for path, field_name in ((shared_data / "boundaries" / "msoa2011_ew_vsimple.gpkg", "msoa11cd"),
                             (shared_data / "boundaries" / "rbnduk_LAD.shp", "id")):
        layer = QgsVectorLayer(str(path), "areas", "ogr")
        assert layer.isValid()
        _assert_same_tables(_read(layer, [field_name], True), _read(layer, [field_name], False))


def _memory_copy(path):
    """The same polygons as a memory layer: read only by QGIS's loop, written only through QGIS's sink."""
    source = QgsVectorLayer(path, "areas", "ogr")
    memory = QgsVectorLayer(f"{QgsWkbTypes.displayString(source.wkbType())}?crs=EPSG:27700", "m", "memory")
    memory.dataProvider().addAttributes([QgsField(f.name(), f.type()) for f in source.fields() if f.name() != "fid"])
    memory.updateFields()
    features = []
    for feature in source.getFeatures():
        copy = QgsFeature(memory.fields())
        copy.setGeometry(QgsGeometry(feature.geometry()))
        copy.setAttributes([feature[f.name()] for f in memory.fields()])
        features.append(copy)
    memory.dataProvider().addFeatures(features)
    return memory


@pytest.mark.parametrize("kind", ["gpkg", "shp"])
def test_gi_star_on_polygons_written_in_bulk_equals_the_qgis_path(polygon_files, run_alg, tmp_path, kind):
    """Queen-contiguity Gi* of the polygons' values: a file in and a file out (bulk both ways) gives the same
    features, geometries and statistics as a memory layer in and out (QGIS both ways)."""
    params = {"FIELD": "value", "WEIGHTS": 0, "PERMUTATIONS": 0}
    target = str(tmp_path / f"gi.{kind}")

    def ignoring_invalid():  # the planted bow-tie is repaired for the analysis, not refused
        context = QgsProcessingContext()
        context.setInvalidGeometryCheck(QgsFeatureRequest.GeometryNoCheck)
        return context

    run_alg("hotspots", {**params, "INPUT": polygon_files[kind], "OUTPUT": target}, context=ignoring_invalid())
    memory = _memory_copy(polygon_files[kind])
    via_qgis = run_alg("hotspots", {**params, "INPUT": memory, "OUTPUT": "memory:"},
                       context=ignoring_invalid())["OUTPUT"]
    if not isinstance(via_qgis, QgsVectorLayer):
        via_qgis = QgsProject.instance().mapLayer(via_qgis)
    written = QgsVectorLayer(target, "gi", "ogr")
    assert written.isValid()
    assert QgsWkbTypes.isMultiType(written.wkbType()) == QgsWkbTypes.isMultiType(via_qgis.wkbType())

    def by_n(layer):
        rows = {}
        for feature in layer.getFeatures():
            geometry = feature.geometry()
            rows[feature["n"]] = (
                None if geometry.isNull() or geometry.isEmpty() else geometry.asWkt(3),
                {name[:10]: _to_python(feature[name]) for name in layer.fields().names() if name not in ("fid", "n")},
            )
        return rows

    got, want = by_n(written), by_n(via_qgis)
    assert got.keys() == want.keys()
    for n, (geometry, values) in want.items():
        assert got[n][0] == geometry, n
        for name, value in values.items():
            other = got[n][1][name]
            if isinstance(value, float):
                assert other == pytest.approx(value, rel=1e-12, abs=1e-12), (n, name)
            else:
                assert other == value, (n, name)
    z = [values["GiZScore"] for _, values in want.values() if values.get("GiZScore") is not None]
    assert len(z) > 300 and np.std(z) > 0.1  # real statistics, not NULLs
