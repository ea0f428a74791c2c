"""A PostGIS table read through QGIS's own provider: read in bulk through GDAL's PostgreSQL driver (same rows
as QGIS's loop), and a chain that runs on PostGIS's lower-case column names.

Needs a PostgreSQL server with PostGIS (``make test`` starts one when it can install it); the connection is
``CC_TEST_POSTGIS`` (default ``dbname=cc_test``, over the local socket). Skipped cleanly otherwise.
"""

import os

import numpy as np
import pytest

from qgis.core import QgsDataSourceUri, QgsProcessingContext, QgsProject, QgsVectorLayer

from creative_clusters_plugin.processing_provider.base_algorithm import _to_python
from creative_clusters_plugin.processing_provider.columnar_reader import ogr_layer_ref, read_columns

DSN = os.environ.get("CC_TEST_POSTGIS", "dbname=cc_test")


@pytest.fixture(scope="module")
def firms_table(demo_region, qgis_app):
    from osgeo import gdal, ogr

    gdal.PushErrorHandler("CPLQuietErrorHandler")  # (GDAL's exception mode is left as the session has it)
    try:
        connection = ogr.Open("PG:" + DSN, update=1)
        if connection is None:
            pytest.skip(f"no PostGIS server at '{DSN}'")
        connection = None
        copied = gdal.VectorTranslate(
            "PG:" + DSN, f"{demo_region['gpkg']}",
            options=gdal.VectorTranslateOptions(layers=["firms"], layerName="cc_test_firms", accessMode="overwrite",
                                                layerCreationOptions=["LAUNDER=YES", "FID=id", "GEOMETRY_NAME=geom"]),
        )
        if copied is None:
            pytest.skip("the demo firms could not be copied into PostGIS (is the postgis extension there?)")
        copied = None
    except RuntimeError as error:
        pytest.skip(f"no PostGIS server at '{DSN}': {error}")
    finally:
        gdal.PopErrorHandler()
    uri = QgsDataSourceUri(DSN)
    uri.setDataSource("public", "cc_test_firms", "geom", "", "id")
    layer = QgsVectorLayer(uri.uri(False), "firms", "postgres")
    if not layer.isValid():
        pytest.skip("QGIS's PostgreSQL provider could not open the test table")
    QgsProject.instance().addMapLayer(layer, False)
    yield layer
    QgsProject.instance().removeMapLayer(layer.id())


def test_a_postgis_table_is_read_in_bulk_as_qgis_reads_it(firms_table):
    layer = firms_table.clone()  # the subset below stays on this copy
    assert layer.featureCount() > 1000
    layer.setSubsetString('"id" % 3 = 0')
    ref = ogr_layer_ref({"INPUT": layer}, "INPUT", QgsProcessingContext())
    assert ref is not None and ref.path.startswith("PG:") and not ref.copyable
    fields = ["postcode", "incorporationdate", "id"]
    bulk = read_columns(ref, fields, True, layer.crs())
    assert bulk is not None
    fids, xy, columns = [], [], {f: [] for f in fields}
    for feature in layer.getFeatures():
        fids.append(feature.id())
        point = feature.geometry().asPoint()
        xy.append((point.x(), point.y()))
        for f in fields:
            columns[f].append(_to_python(feature[f]))
    assert 0 < len(fids) < layer.dataProvider().featureCount() or len(fids) > 0
    order = np.argsort(bulk.fids)
    expected = np.argsort(fids)
    assert bulk.fids[order].tolist() == np.asarray(fids)[expected].tolist()
    np.testing.assert_allclose(bulk.xy[order], np.asarray(xy)[expected])
    for f in fields:
        assert [bulk.columns[f][i] for i in order] == [columns[f][i] for i in expected], f


def test_a_chain_runs_on_postgis_lower_case_names(run_alg, firms_table, demo_region, tmp_path):
    """ogr2ogr lower-cases IncorporationDate and SICCode.SicText_1 into PostGIS: classification and
    microclusters still find them, and give what they give on the GeoPackage."""
    from_pg = run_alg("classifyfirms", {"INPUT": firms_table, "OUTPUT": str(tmp_path / "pg.gpkg")})["OUTPUT"]
    from_gpkg = run_alg("classifyfirms", {"INPUT": f"{demo_region['gpkg']}|layername=firms",
                                          "OUTPUT": str(tmp_path / "gpkg.gpkg")})["OUTPUT"]
    creative = [sum(1 for f in QgsVectorLayer(p, "c", "ogr").getFeatures() if f["cc_creative"]) for p in (from_pg, from_gpkg)]
    assert creative[0] == creative[1] > 0
    result = run_alg("microclusters", {"INPUT": from_pg, "EPS": 250, "MIN_FIRMS": 50, "OUTPUT_POINTS": "memory:",
                                       "OUTPUT_CLUSTERS": str(tmp_path / "mc.gpkg")})
    clusters = QgsVectorLayer(result["OUTPUT_CLUSTERS"], "m", "ogr")
    assert clusters.featureCount() > 0
    assert any(f["median_inc_year"] for f in clusters.getFeatures())  # dates found under their lower-case name
