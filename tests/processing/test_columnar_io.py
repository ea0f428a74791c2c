"""The bulk data path: GDAL reads the same rows and values as QGIS's feature loop, for every OGR format,
subset, selection and CRS; outputs written in bulk equal those written through QGIS's sink; cancelling
leaves nothing behind."""

import os

import numpy as np
import pytest

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFeature,
    QgsFeatureRequest,
    QgsField,
    QgsGeometry,
    QgsPointXY,
    QgsProcessingContext,
    QgsProcessingFeatureSourceDefinition,
    QgsProcessingFeedback,
    QgsProject,
    QgsVectorFileWriter,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QDate

from creative_clusters_plugin.qt_compat import field_type

from creative_clusters_plugin.processing_provider.base_algorithm import _to_python
from creative_clusters_plugin.processing_provider.columnar_reader import ogr_layer_ref, read_columns

BNG = QgsCoordinateReferenceSystem("EPSG:27700")
FIELDS = ["name", "weight", "n", "flag", "born"]
SIC_TEXTS = ["59111 - Motion picture production activities", "62012 - Business and domestic software development",
             "47110 - Retail sale in non-specialised stores", "None Supplied", None]


def _memory_layer(n=3000, seed=3):
    memory = QgsVectorLayer("Point?crs=EPSG:27700", "pts", "memory")
    memory.dataProvider().addAttributes(
        [QgsField("name", field_type("string")), QgsField("weight", field_type("double")),
         QgsField("n", field_type("int")), QgsField("flag", field_type("bool")), QgsField("born", field_type("date")),
         QgsField("sic", field_type("string"))]
    )
    memory.updateFields()
    rng = np.random.default_rng(seed)
    features = []
    for i in range(n):
        feature = QgsFeature(memory.fields())
        if i % 997 != 5:  # a few NULL geometries
            feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(*(rng.uniform(0, 10000, 2) + [430000, 380000]))))
        feature.setAttributes([
            f"firm {i} – Café" if i % 13 else None,
            float(i % 7) + 0.25 if i % 11 else None,
            i,
            (i % 3 == 0) if i % 17 else None,
            QDate(2000 + i % 20, 1 + i % 12, 1 + i % 28) if i % 19 else None,
            SIC_TEXTS[i % len(SIC_TEXTS)],
        ])
        features.append(feature)
    memory.dataProvider().addFeatures(features)
    return memory


def _write(layer, path, driver, layer_name=None):
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = driver
    if layer_name:
        options.layerName = layer_name
    error = QgsVectorFileWriter.writeAsVectorFormatV2(layer, str(path), layer.transformContext(), options)
    assert error[0] == QgsVectorFileWriter.NoError, error


@pytest.fixture(scope="module")
def layers(tmp_path_factory, qgis_app):
    """The same points as GeoPackage, shapefile, GeoJSON and FlatGeobuf."""
    folder = tmp_path_factory.mktemp("columnar")
    memory = _memory_layer()
    paths = {}
    for driver, name in (("GPKG", "points.gpkg"), ("ESRI Shapefile", "points.shp"), ("GeoJSON", "points.geojson"),
                         ("FlatGeobuf", "points.fgb")):
        _write(memory, folder / name, driver, "points" if driver == "GPKG" else None)
        paths[driver] = str(folder / name)
    return paths


def _loop(layer, fields, crs=None, request=None):
    """What QGIS's feature loop gives: fids, points (NaN for no geometry), Python values."""
    transform = None
    if crs is not None and crs != layer.crs():
        transform = QgsCoordinateTransform(layer.crs(), crs, QgsProject.instance().transformContext())
    fids, xy, columns = [], [], {f: [] for f in fields}
    for feature in layer.getFeatures(request or QgsFeatureRequest()):
        fids.append(feature.id())
        geometry = feature.geometry()
        if geometry.isNull() or geometry.isEmpty():
            xy.append((np.nan, np.nan))
        else:
            if transform is not None:
                geometry.transform(transform)
            point = geometry.asPoint()
            xy.append((point.x(), point.y()))
        for f in fields:
            columns[f].append(_to_python(feature[f]))
    return np.array(fids), np.array(xy, dtype=float).reshape(-1, 2), columns


def _assert_same(bulk, expected, fields):
    fids, xy, columns = expected
    np.testing.assert_array_equal(bulk.fids, fids)
    np.testing.assert_allclose(bulk.xy, xy, rtol=0, atol=1e-6)
    for f in fields:
        got = list(bulk.columns[f])
        want = columns[f]
        if f == "flag":  # shapefile/GeoJSON/FlatGeobuf may store booleans as integers
            got = [None if v is None else bool(v) for v in got]
            want = [None if v is None else bool(v) for v in want]
        if f == "born":  # dates, or their text where a format has no date type
            got = [None if v is None else str(v)[:10].replace("/", "-") for v in got]
            want = [None if v is None else str(v)[:10].replace("/", "-") for v in want]
        assert got == want, f


@pytest.mark.parametrize("driver", ["GPKG", "ESRI Shapefile", "GeoJSON", "FlatGeobuf"])
def test_bulk_read_equals_the_feature_loop_in_every_format(layers, driver):
    layer = QgsVectorLayer(layers[driver], "p", "ogr")
    fields = [f for f in FIELDS if layer.fields().lookupField(f) >= 0]
    ref = ogr_layer_ref({"INPUT": layer}, "INPUT", QgsProcessingContext())
    assert ref is not None
    bulk = read_columns(ref, fields, True, BNG)
    assert bulk is not None
    _assert_same(bulk, _loop(layer, fields), fields)


def test_booleans_are_read_right(layers):
    """GDAL 3.6 unpacks Arrow's bit-packed booleans wrongly; the reader reads them another way."""
    layer = QgsVectorLayer(layers["GPKG"], "p", "ogr")
    bulk = read_columns(ogr_layer_ref({"INPUT": layer}, "INPUT", QgsProcessingContext()), ["flag"], False)
    expected = [None if i % 17 == 0 else (i % 3 == 0) for i in range(3000)]
    assert list(bulk.columns["flag"]) == expected


def test_subset_selection_and_limit_are_honoured(layers):
    context = QgsProcessingContext()
    layer = QgsVectorLayer(layers["GPKG"], "p", "ogr")
    layer.setSubsetString('"n" % 5 = 1')
    ref = ogr_layer_ref({"INPUT": layer}, "INPUT", context)
    bulk = read_columns(ref, FIELDS, True, BNG)
    _assert_same(bulk, _loop(layer, FIELDS), FIELDS)
    assert len(bulk.fids) == 600

    selected = QgsVectorLayer(layers["GPKG"], "p", "ogr")
    selected.selectByIds([3, 10, 11, 2000, 2999])
    context.temporaryLayerStore().addMapLayer(selected)
    definition = QgsProcessingFeatureSourceDefinition(selected.id(), True)
    bulk = read_columns(ogr_layer_ref({"INPUT": definition}, "INPUT", context), ["n"], True, BNG)
    assert bulk.fids.tolist() == [3, 10, 11, 2000, 2999]
    assert list(bulk.columns["n"]) == [2, 9, 10, 1999, 2998]
    assert bulk.positions.tolist() == [2, 9, 10, 1999, 2998]

    limited = QgsProcessingFeatureSourceDefinition(layers["GPKG"], False, 7)
    bulk = read_columns(ogr_layer_ref({"INPUT": limited}, "INPUT", context), ["n"], True, BNG)
    assert list(bulk.columns["n"]) == list(range(7))


def test_points_are_reprojected_in_bulk_as_qgis_does(layers):
    layer = QgsVectorLayer(layers["GPKG"], "p", "ogr")
    web = QgsCoordinateReferenceSystem("EPSG:3857")
    bulk = read_columns(ogr_layer_ref({"INPUT": layer}, "INPUT", QgsProcessingContext()), ["n"], True, web)
    _, xy, _ = _loop(layer, [], crs=web)
    np.testing.assert_allclose(bulk.xy, xy, rtol=0, atol=0.01)


def test_tables_and_what_only_qgis_can_read(layers, tmp_path):
    csv = tmp_path / "firms.csv"
    csv.write_text("CompanyName,SIC\nA – Café Ltd,59111\nB Ltd,\nC Ltd,62012\n", encoding="utf-8")
    table = QgsVectorLayer(str(csv), "t", "ogr")
    bulk = read_columns(ogr_layer_ref({"INPUT": table}, "INPUT", QgsProcessingContext()), ["CompanyName", "SIC"], False)
    assert list(bulk.columns["CompanyName"]) == ["A – Café Ltd", "B Ltd", "C Ltd"]
    assert list(bulk.columns["SIC"]) == [_to_python(f["SIC"]) for f in table.getFeatures()]
    memory = QgsVectorLayer("Point?crs=EPSG:27700", "m", "memory")
    assert ogr_layer_ref({"INPUT": memory}, "INPUT", QgsProcessingContext()) is None
    expression = QgsProcessingFeatureSourceDefinition(layers["GPKG"])
    expression.filterExpression = '"n" > 3'
    if getattr(expression, "filterExpression", "") == '"n" > 3':  # QGIS ≥ 3.32
        assert ogr_layer_ref({"INPUT": expression}, "INPUT", QgsProcessingContext()) is None


def _point(feature):
    """(x, y) rounded, or None for no (or an empty) geometry."""
    if not feature.hasGeometry() or feature.geometry().isEmpty():
        return None
    point = feature.geometry().asPoint()
    return None if np.isnan(point.x()) else (round(point.x(), 6), round(point.y(), 6))


def _features_by_n(path):
    layer = QgsVectorLayer(path, "o", "ogr")
    assert layer.isValid(), path
    out = {}
    for feature in layer.getFeatures():
        values = {name: _to_python(feature[name]) for name in layer.fields().names() if name != "fid"}
        out[values["n"]] = (_point(feature), values)
    return out


def _normalise(values):
    out = {}
    for key, value in values.items():
        if isinstance(value, float):
            value = round(value, 9)
        text = {True: "1", False: "0"}.get(value, value) if isinstance(value, bool) else value
        out[key[:10]] = str(text) if value is not None else None  # shapefile names and types
    return out


@pytest.mark.parametrize("suffix", [".gpkg", ".shp", ".geojson"])
def test_output_written_in_bulk_equals_qgis_sink(layers, run_alg, tmp_path, suffix):
    """classifyfirms to a file (bulk) and to a memory layer (QGIS's sink): the same features and values."""
    source = QgsVectorLayer(layers["GPKG"], "p", "ogr")
    source.setSubsetString('"n" >= 100')
    params = {"INPUT": source, "SIC_FIELDS": ["sic"], "RULE": 0}
    bulk_path = str(tmp_path / f"classified{suffix}")
    bulk = run_alg("classifyfirms", {**params, "OUTPUT": bulk_path})["OUTPUT"]
    assert bulk == bulk_path
    memory = run_alg("classifyfirms", {**params, "OUTPUT": "memory:"})["OUTPUT"]
    memory_layer = memory if isinstance(memory, QgsVectorLayer) else QgsProject.instance().mapLayer(memory)
    expected = {}
    for feature in memory_layer.getFeatures():
        values = {name: _to_python(feature[name]) for name in memory_layer.fields().names() if name != "fid"}
        expected[values["n"]] = (_point(feature), values)
    got = _features_by_n(bulk_path)
    assert len(got) == len(expected) == 2900
    for n, (point, values) in expected.items():
        got_point, got_values = got[n]
        assert got_point == point
        assert _normalise(got_values) == _normalise(values), n
    creative = sum(1 for _, values in got.values() if values[("cc_creativ" if suffix == ".shp" else "cc_creative")])
    assert creative == sum(1 for i in range(100, 3000) if i % 5 in (0, 1))
    assert not [p for p in os.listdir(tmp_path) if ".partial-" in p]


class _CancelAt(QgsProcessingFeedback):
    def __init__(self, at):
        super().__init__()
        self.at = at
        self.progressChanged.connect(self._check)

    def _check(self, value):
        if value >= self.at:
            self.cancel()


@pytest.mark.parametrize("at", [5.0, 45.0, 62.0, 90.0])
def test_cancelling_leaves_no_output(layers, run_alg, tmp_path, at):
    from qgis.core import QgsProcessingException

    target = tmp_path / "cancelled.gpkg"
    with pytest.raises(QgsProcessingException):
        run_alg("classifyfirms", {"INPUT": layers["GPKG"], "SIC_FIELDS": ["sic"], "OUTPUT": str(target)},
                feedback=_CancelAt(at))
    assert not target.exists()
    assert os.listdir(tmp_path) == []


def test_kept_rows_only(layers, run_alg, tmp_path):
    """Microclusters writes only the clustered firms: the bulk writer deletes the others."""
    classified = run_alg("classifyfirms", {"INPUT": layers["GPKG"], "SIC_FIELDS": ["sic"],
                                           "OUTPUT": str(tmp_path / "classified.gpkg")})["OUTPUT"]
    common = {"INPUT": classified, "FILTER": 2, "EPS": 400, "MIN_FIRMS": 5, "OUTPUT_CLUSTERS": "memory:"}
    result = run_alg("microclusters", {**common, "OUTPUT_POINTS": str(tmp_path / "points.gpkg")})
    via_memory = run_alg("microclusters", {**common, "OUTPUT_POINTS": "memory:"})
    memory_layer = via_memory["OUTPUT_POINTS"]
    if not isinstance(memory_layer, QgsVectorLayer):
        memory_layer = QgsProject.instance().mapLayer(memory_layer)
    expected = sorted((f["n"], f["cc_cluster_id"])
                      for f in memory_layer.getFeatures())
    got_layer = QgsVectorLayer(result["OUTPUT_POINTS"], "o", "ogr")
    got = sorted((f["n"], f["cc_cluster_id"])
                 for f in got_layer.getFeatures())
    assert got == expected and 0 < len(got) < 3000
