"""Foreseeable mistakes get a message a GIS officer understands (no traceback), before anything is written."""

import numpy as np
import pytest

from qgis.core import QgsProcessingException

from tests.processing.stats_helpers import RecordingFeedback


def _fails(run_alg, algorithm, parameters, pattern):
    with pytest.raises(QgsProcessingException) as caught:
        run_alg(algorithm, parameters)
    message = str(caught.value)
    caught = None  # (no traceback kept past the test: it would hold QGIS objects)
    assert "Traceback" not in message, message
    import re

    assert re.search(pattern, message), message


def test_density_of_polygons(run_alg, demo_region, tmp_path):
    _fails(run_alg, "density", {"INPUT": f"{demo_region['gpkg']}|layername=areas", "BANDWIDTH": 500,
                                "OUTPUT": str(tmp_path / "d.tif")}, "holds polygons, but this algorithm needs points")


def test_a_text_weight_field(run_alg, demo_region, tmp_path):
    _fails(run_alg, "density", {"INPUT": f"{demo_region['gpkg']}|layername=firms", "BANDWIDTH": 500,
                                "WEIGHT_FIELD": "CompanyName", "OUTPUT": str(tmp_path / "d.tif")},
           "weight field 'CompanyName' holds text")


def test_a_table_given_as_clusters(run_alg, tmp_path):
    csv = tmp_path / "clusters.csv"
    csv.write_text("id,n_firms\n1,10\n2,20\n")
    _fails(run_alg, "corridors", {"CLUSTERS": str(csv), "OUTPUT_LINKS": "memory:", "OUTPUT_CORRIDORS": "memory:",
                                  "OUTPUT_RASTER": str(tmp_path / "c.tif")}, "table without geometry")


def test_an_output_folder_that_cannot_exist(run_alg, demo_region, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    for out in (blocker / "classified.gpkg", blocker / "classified.csv"):  # bulk writer and QGIS's writer
        _fails(run_alg, "classifyfirms", {"INPUT": f"{demo_region['gpkg']}|layername=firms", "OUTPUT": str(out)},
               "is a file, not a folder")


@pytest.mark.parametrize("expression,pattern", [
    ("to_int('abc') > 2", "cannot be evaluated.*Cannot convert 'abc'"),
    ('"no_such_field" = 3', "does not have"),
    ('"n_firms" >', "not valid"),
])
def test_an_atlas_filter_that_cannot_work(run_alg, demo_region, tmp_path, expression, pattern):
    _fails(run_alg, "exportatlas", {"COVERAGE": f"{demo_region['gpkg']}|layername=areas", "FILTER": expression,
                                    "OUTPUT": str(tmp_path / "atlas.pdf")}, pattern)
    assert not (tmp_path / "atlas.pdf").exists()


def test_a_template_raster_without_crs_is_said(run_alg, demo_region, tmp_path):
    import rasterio
    from affine import Affine

    template = tmp_path / "template.tif"
    with rasterio.open(template, "w", driver="GTiff", width=60, height=50, count=1, dtype="float32",
                       transform=Affine(200, 0, 425000, 0, -200, 395000)) as dataset:
        dataset.write(np.zeros((1, 50, 60), dtype="float32"))
    feedback = RecordingFeedback()
    run_alg("density", {"INPUT": f"{demo_region['gpkg']}|layername=firms", "BANDWIDTH": 800,
                        "TEMPLATE": str(template), "OUTPUT": str(tmp_path / "d.tif")}, feedback=feedback)
    assert any("template raster has no CRS" in w for w in feedback.warnings)
