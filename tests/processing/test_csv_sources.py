"""CSV files with coordinates, as an officer adds them: through QGIS's OGR provider with GDAL's X/Y open options
(read in bulk, the same rows as QGIS's loop) or through the Delimited Text provider (only QGIS can read it:
the lean loop, the same results, and a word in the log when it is large)."""

import numpy as np
import pandas as pd

from qgis.core import QgsProcessingContext, QgsProject, QgsVectorLayer

from creative_clusters_plugin.processing_provider import base_algorithm
from creative_clusters_plugin.processing_provider.columnar_reader import ogr_layer_ref
from tests.processing.stats_helpers import RecordingFeedback
from tests.processing.table_reading import read_input as _read

SIC = ["59111 - Motion picture production activities", "62012 - Business and domestic software development",
       "47110 - Retail sale in non-specialised stores", ""]


def _csv(path, n=600):
    rng = np.random.default_rng(11)
    lines = ["CompanyName,X,Y,SIC1,Postcode"]
    for i in range(n):
        x, y = rng.uniform(430000, 436000), rng.uniform(385000, 391000)
        name = f'"Firm {i}, Café – Ltd"' if i % 5 else f"Firm {i}"
        lines.append(f"{name},{x:.1f},{y:.1f},{SIC[i % len(SIC)]},S{i % 9} {i % 7}AB")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_a_csv_with_coordinates_through_ogr_is_read_in_bulk(tmp_path):
    path = _csv(tmp_path / "firms.csv")
    layer = QgsVectorLayer(f"{path}|option:X_POSSIBLE_NAMES=X|option:Y_POSSIBLE_NAMES=Y|option:KEEP_GEOM_COLUMNS=NO",
                           "firms", "ogr")
    assert layer.isValid() and layer.featureCount() == 600
    assert ogr_layer_ref({"INPUT": layer}, "INPUT", QgsProcessingContext()) is not None
    bulk = _read(layer, ["CompanyName", "SIC1", "Postcode"], True, with_geometry=False, analysis_crs=layer.crs())
    loop = _read(layer, ["CompanyName", "SIC1", "Postcode"], False, with_geometry=False, analysis_crs=layer.crs())
    assert bulk.ogr is not None and loop.ogr is None
    np.testing.assert_array_equal(bulk.fids, loop.fids)
    np.testing.assert_array_equal(bulk.xy, loop.xy)
    pd.testing.assert_frame_equal(bulk.frame, loop.frame)
    assert bulk.frame["CompanyName"].iloc[1] == "Firm 1, Café – Ltd"


def test_a_delimited_text_layer_gives_the_results_of_the_same_file_read_in_bulk(tmp_path, run_alg, monkeypatch):
    path = _csv(tmp_path / "firms.csv")
    text_layer = QgsVectorLayer(
        f"file://{path}?type=csv&xField=X&yField=Y&crs=EPSG:27700&detectTypes=yes", "firms_text", "delimitedtext"
    )
    assert text_layer.isValid() and text_layer.featureCount() == 600
    assert ogr_layer_ref({"INPUT": text_layer}, "INPUT", QgsProcessingContext()) is None  # only QGIS reads it
    ogr_layer = QgsVectorLayer(f"{path}|option:X_POSSIBLE_NAMES=X|option:Y_POSSIBLE_NAMES=Y", "firms", "ogr")
    ogr_layer.setCrs(text_layer.crs())

    monkeypatch.setattr(base_algorithm, "LARGE_FEATURE_LOOP", 500)
    results = {}
    for name, layer in (("text", text_layer), ("ogr", ogr_layer)):
        log = RecordingFeedback()
        output = run_alg("classifyfirms", {"INPUT": layer, "SIC_FIELDS": ["SIC1"], "OUTPUT": "memory:"},
                         feedback=log)["OUTPUT"]
        output = output if isinstance(output, QgsVectorLayer) else QgsProject.instance().mapLayer(output)
        results[name] = sorted((f["CompanyName"], f["cc_creative"], f["cc_subsector"]) for f in output.getFeatures())
        hinted = any("one feature at a time" in line for line in log.infos)
        assert hinted == (name == "text"), log.infos
    assert results["text"] == results["ogr"]
    creative = sum(1 for _, is_creative, _ in results["text"] if is_creative)
    assert creative == sum(1 for i in range(600) if i % 4 in (0, 1))
