"""A missing Python package: the algorithms that need it say what is missing and how to install it, in their
help and when run; the others keep working. Tested by hiding installed modules (``sys.modules[name] = None``)."""

from __future__ import annotations

import sys

from qgis.core import QgsProcessingException

from creative_clusters_plugin.processing_provider import dependencies


def test_hidden_module_is_reported_missing(monkeypatch):
    assert dependencies.is_installed("numpy")
    monkeypatch.setitem(sys.modules, "skimage", None)
    assert not dependencies.is_installed("skimage")
    ok, message = dependencies.check(("numpy", "skimage"))
    assert not ok
    for text in ("scikit-image", "OSGeo4W Shell", "pip install scikit-image", "/Applications/QGIS.app",
                 "sudo apt install python3-skimage", "restart QGIS"):
        assert text in message
    assert dependencies.check(("numpy", "scipy")) == (True, "")
    assert not dependencies.is_installed("no_such_package_here")


def test_algorithms_without_their_package_say_so_and_others_run(monkeypatch, provider):
    monkeypatch.setitem(sys.modules, "skimage", None)
    monkeypatch.setitem(sys.modules, "rasterio", None)
    corridors = provider.algorithm("corridors").create()
    ok, message = corridors.canExecute()
    assert not ok and "scikit-image" in message and "rasterio" in message
    assert corridors.shortHelpString().startswith("<p><b>Not available: </b>This algorithm needs")
    density = provider.algorithm("density").create()
    assert not density.canExecute()[0] and "scikit-image" not in density.canExecute()[1]
    for algorithm_id in ("hotspots", "localmoran", "classifyfirms", "emerginghotspots", "exportatlas"):
        algorithm = provider.algorithm(algorithm_id).create()
        assert algorithm.canExecute() == (True, ""), algorithm_id
        assert not algorithm.shortHelpString().startswith("<p><b>Not available")


def _clusters():
    from qgis.core import QgsFeature, QgsGeometry, QgsPointXY, QgsVectorLayer

    layer = QgsVectorLayer("Polygon?crs=EPSG:27700&field=n_firms:integer", "clusters", "memory")
    features = []
    for k in range(3):
        feature = QgsFeature(layer.fields())
        feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(430_000 + 2_000 * k, 380_000)).buffer(300, 8))
        feature.setAttributes([50 + k])
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    return layer


def test_running_without_the_package_stops_with_the_message(monkeypatch, run_alg, tmp_path):
    clusters = _clusters()
    monkeypatch.setitem(sys.modules, "skimage", None)
    monkeypatch.setitem(sys.modules, "skimage.graph", None)
    error = None
    try:
        run_alg("corridors", {"CLUSTERS": clusters, "MASS_FIELD": "n_firms", "OUTPUT_LINKS": "memory:",
                              "OUTPUT_CORRIDORS": "memory:", "OUTPUT_RASTER": str(tmp_path / "c.tif")})
    except QgsProcessingException as raised:
        error = str(raised)
    assert error is not None and "needs scikit-image" in error and "python3-skimage" in error
    assert not (tmp_path / "c.tif").exists()
    del clusters
