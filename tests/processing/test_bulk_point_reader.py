"""Bulk point reading through GDAL's Arrow stream: same points and values as QGIS's feature loop, and a
clean refusal (None → the caller's feature loop) whenever something restricts or transforms the features."""

import numpy as np
import pytest

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsField,
    QgsGeometry,
    QgsPointXY,
    QgsProcessingContext,
    QgsProcessingFeatureSourceDefinition,
    QgsVectorFileWriter,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QVariant

from creative_clusters_plugin.processing_provider.bulk_point_reader import read_points_in_bulk

BNG = QgsCoordinateReferenceSystem("EPSG:27700")


@pytest.fixture(scope="module")
def points_gpkg(tmp_path_factory, qgis_app):
    memory = QgsVectorLayer("Point?crs=EPSG:27700", "pts", "memory")
    memory.dataProvider().addAttributes(
        [QgsField("name", QVariant.String), QgsField("weight", QVariant.Double), QgsField("n", QVariant.Int),
         QgsField("flag", QVariant.Bool)]
    )
    memory.updateFields()
    rng = np.random.default_rng(3)
    features = []
    for i in range(5000):
        feature = QgsFeature(memory.fields())
        if i % 997 != 5:  # a few NULL geometries
            feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(*(rng.uniform(0, 10000, 2) + [430000, 380000]))))
        feature.setAttributes([f"firm {i}" if i % 13 else None, float(i % 7) if i % 11 else None, i, i % 2 == 0])
        features.append(feature)
    memory.dataProvider().addFeatures(features)
    path = str(tmp_path_factory.mktemp("bulk") / "points.gpkg")
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GPKG"
    options.layerName = "points"
    error = QgsVectorFileWriter.writeAsVectorFormatV2(memory, path, memory.transformContext(), options)
    assert error[0] == QgsVectorFileWriter.NoError
    return f"{path}|layername=points"


def _feature_loop(layer, fields):
    xy, columns = [], {f: [] for f in fields}
    for feature in layer.getFeatures():
        if not feature.hasGeometry() or feature.geometry().isEmpty():
            continue
        point = feature.geometry().asPoint()
        if np.isnan(point.x()):
            continue
        xy.append((point.x(), point.y()))
        for f in fields:
            value = feature[f]
            columns[f].append(None if value is None or (hasattr(value, "isNull") and value.isNull()) else value)
    return np.array(xy), columns


def test_bulk_read_equals_the_feature_loop(points_gpkg):
    fields = ["name", "weight", "n"]
    read = read_points_in_bulk({"INPUT": points_gpkg}, "INPUT", QgsProcessingContext(), BNG, fields)
    assert read is not None
    xy, columns, skipped = read
    expected_xy, expected_columns = _feature_loop(QgsVectorLayer(points_gpkg, "p", "ogr"), fields)
    assert skipped == 5000 - len(expected_xy)
    np.testing.assert_array_equal(xy, expected_xy)
    for f in fields:
        assert columns[f] == expected_columns[f], f


def test_bulk_read_declines_what_it_cannot_reproduce(points_gpkg, tmp_path):
    context = QgsProcessingContext()
    layer = QgsVectorLayer(points_gpkg, "p", "ogr")
    # another CRS: the feature loop reprojects
    assert read_points_in_bulk({"INPUT": points_gpkg}, "INPUT", context, QgsCoordinateReferenceSystem("EPSG:3857")) is None
    # a subset string
    subset = QgsVectorLayer(points_gpkg, "p", "ogr")
    subset.setSubsetString('"n" < 100')
    assert read_points_in_bulk({"INPUT": subset}, "INPUT", context, BNG) is None
    # selected features only
    layer.selectByIds([1, 2, 3])
    definition = QgsProcessingFeatureSourceDefinition(layer.id(), True)
    context.temporaryLayerStore().addMapLayer(layer)
    assert read_points_in_bulk({"INPUT": definition}, "INPUT", context, BNG) is None
    # booleans (GDAL 3.6 unpacks Arrow's bit-packed booleans wrongly)
    assert read_points_in_bulk({"INPUT": points_gpkg}, "INPUT", QgsProcessingContext(), BNG, ["flag"]) is None
    # a memory layer and a CSV are not OGR file layers
    memory = QgsVectorLayer("Point?crs=EPSG:27700", "m", "memory")
    assert read_points_in_bulk({"INPUT": memory}, "INPUT", QgsProcessingContext(), BNG) is None
    csv = tmp_path / "p.csv"
    csv.write_text("x,y\n1,2\n3,4\n")
    text = QgsVectorLayer(f"file://{csv}?xField=x&yField=y&crs=EPSG:27700", "csv", "delimitedtext")
    assert read_points_in_bulk({"INPUT": text}, "INPUT", QgsProcessingContext(), BNG) is None


def test_density_is_the_same_through_both_readers(points_gpkg, run_alg, tmp_path):
    import rasterio

    layer = QgsVectorLayer(points_gpkg, "p", "ogr")
    from qgis.core import QgsFeatureRequest

    memory = layer.materialize(QgsFeatureRequest())
    common = {"BANDWIDTH": 800, "PIXEL_SIZE": 100, "WEIGHT_FIELD": "weight"}
    bulk = run_alg("density", {"INPUT": points_gpkg, **common, "OUTPUT": str(tmp_path / "bulk.tif")})["OUTPUT"]
    loop = run_alg("density", {"INPUT": memory, **common, "OUTPUT": str(tmp_path / "loop.tif")})["OUTPUT"]
    with rasterio.open(bulk) as a, rasterio.open(loop) as b:
        assert a.transform == b.transform
        np.testing.assert_allclose(a.read(1), b.read(1), rtol=1e-6, atol=1e-9)


def test_bulk_read_of_coordinates_alone(points_gpkg):
    """Geometry as the only column read (GDAL 3.6 returned empty blobs for that without the FID column)."""
    read = read_points_in_bulk({"INPUT": points_gpkg}, "INPUT", QgsProcessingContext(), BNG, [])
    assert read is not None
    expected_xy, _ = _feature_loop(QgsVectorLayer(points_gpkg, "p", "ogr"), [])
    np.testing.assert_array_equal(read[0], expected_xy)
