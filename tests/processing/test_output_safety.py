"""Nothing lost, nothing silently wrong: an output never replaces an input, outputs are whole or absent,
get the user's normal permissions and their folder is created; a table without geometry where points are
needed is a clear error."""

import os
import shutil
import sqlite3
import stat

import numpy as np
import pytest

from qgis.core import NULL, QgsProcessingException, QgsProcessingFeedback, QgsVectorLayer


def _tables(gpkg):
    with sqlite3.connect(gpkg) as connection:
        return sorted(row[0] for row in connection.execute("SELECT table_name FROM gpkg_contents"))


@pytest.fixture
def demo_copy(demo_region, tmp_path):
    """A private copy of the demo GeoPackage (five layers) that a test may try to overwrite."""
    path = tmp_path / "demo_region.gpkg"
    shutil.copyfile(demo_region["gpkg"], path)
    return str(path)


def test_an_output_over_its_input_geopackage_is_refused(run_alg, demo_copy):
    before = _tables(demo_copy)
    assert len(before) >= 5
    stamp = os.stat(demo_copy).st_mtime_ns
    with pytest.raises(QgsProcessingException, match="is the file of the input"):
        run_alg("classifyfirms", {"INPUT": f"{demo_copy}|layername=firms", "OUTPUT": demo_copy})
    with pytest.raises(QgsProcessingException, match="every other layer"):
        run_alg("hotspots", {"INPUT": f"{demo_copy}|layername=areas", "FIELD": "fid",
                             "OUTPUT": demo_copy})
    assert _tables(demo_copy) == before
    assert os.stat(demo_copy).st_mtime_ns == stamp


def test_an_output_over_a_second_input_is_refused(run_alg, demo_region, tmp_path):
    areas = tmp_path / "areas.gpkg"
    shutil.copyfile(demo_region["gpkg"], areas)
    size = areas.stat().st_size
    with pytest.raises(QgsProcessingException, match="Choose another file name"):
        run_alg("locationquotients", {"AREAS": f"{areas}|layername=areas", "AREA_ID": "area_id",
                                      "FIRMS": f"{demo_region['gpkg']}|layername=firms", "OUTPUT": str(areas)})
    assert areas.stat().st_size == size


def test_a_density_output_over_its_template_raster_is_refused(run_alg, demo_region, tmp_path):
    template = tmp_path / "template.tif"
    first = run_alg("density", {"INPUT": f"{demo_region['gpkg']}|layername=firms", "BANDWIDTH": 1000,
                                "PIXEL_SIZE": 200, "OUTPUT": str(template)})["OUTPUT"]
    before = open(first, "rb").read()
    with pytest.raises(QgsProcessingException, match="is the file of the input"):
        run_alg("density", {"INPUT": f"{demo_region['gpkg']}|layername=firms", "BANDWIDTH": 1000,
                            "TEMPLATE": str(template), "OUTPUT": str(template)})
    assert open(template, "rb").read() == before


class _CancelAfter(QgsProcessingFeedback):
    """Cancels once progress passes ``at`` per cent."""

    def __init__(self, at):
        super().__init__()
        self.at = at
        self.progressChanged.connect(lambda value: self.cancel() if value >= self.at else None)


@pytest.mark.parametrize("at", [10.0, 70.0, 95.0])
def test_cancelling_a_qgis_written_output_leaves_nothing(run_alg, demo_region, tmp_path, at):
    """A CSV output goes through QGIS's writer (not the bulk path): still written beside and renamed."""
    out = tmp_path / "classified.csv"
    with pytest.raises(QgsProcessingException):
        run_alg("classifyfirms", {"INPUT": f"{demo_region['gpkg']}|layername=firms", "OUTPUT": str(out)},
                feedback=_CancelAfter(at))
    assert os.listdir(tmp_path) == []


def test_outputs_get_normal_permissions_and_missing_folders(run_alg, demo_region, tmp_path):
    old = os.umask(0o022)
    try:
        folder = tmp_path / "new" / "folder"
        firms = f"{demo_region['gpkg']}|layername=firms"
        vector = run_alg("classifyfirms", {"INPUT": firms, "OUTPUT": str(folder / "classified.gpkg")})["OUTPUT"]
        csv = run_alg("classifyfirms", {"INPUT": firms, "OUTPUT": str(folder / "classified.csv")})["OUTPUT"]
        raster = run_alg("density", {"INPUT": firms, "BANDWIDTH": 1000, "PIXEL_SIZE": 200,
                                     "OUTPUT": str(folder / "density.tif")})["OUTPUT"]
    finally:
        os.umask(old)
    for path in (vector, csv, raster):
        assert os.path.exists(path)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o644, path
    assert QgsVectorLayer(vector, "v", "ogr").featureCount() == QgsVectorLayer(firms, "f", "ogr").featureCount()
    assert not [name for name in os.listdir(folder) if ".partial-" in name or name.startswith(".tmp")]


def _firms_table(tmp_path):
    csv = tmp_path / "firms.csv"
    rows = ["CompanyName,Postcode,SICCode.SicText_1"] + [f"Firm {i},S1 {i % 9}AA,59111 - Film" for i in range(40)]
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return csv


def test_a_table_without_geometry_where_points_are_needed(run_alg, tmp_path):
    # (no QGIS layer objects in this function: the tracebacks pytest keeps would hold them past QGIS's exit)
    csv = _firms_table(tmp_path)
    for algorithm, extra in (("flagstacks", {"OUTPUT_ADDRESSES": "memory:"}),
                             ("hotspots", {"FIELD": "CompanyName"}),
                             ("density", {"BANDWIDTH": 500})):
        with pytest.raises(QgsProcessingException, match="table without geometry"):
            run_alg(algorithm, {"INPUT": str(csv), "OUTPUT": "memory:" if algorithm != "density" else
                                str(tmp_path / "d.tif"), **extra})


def test_a_table_is_fine_where_no_geometry_is_needed(run_alg, tmp_path):
    csv = _firms_table(tmp_path)
    result = run_alg("classifyfirms", {"INPUT": str(csv), "OUTPUT": str(tmp_path / "classified.gpkg")})
    layer = QgsVectorLayer(result["OUTPUT"], "c", "ogr")
    assert layer.featureCount() == 40
    assert np.all([f["cc_creative"] for f in layer.getFeatures()])


def test_a_shapefile_chain_finds_its_truncated_fields(run_alg, demo_region, tmp_path):
    """classify → shapefile (cc_creative becomes cc_creativ, cc_subsector cc_subsect) → microclusters and
    location quotients still find the fields; a missing optional field is said in the log."""
    from tests.processing.stats_helpers import RecordingFeedback

    shp = run_alg("classifyfirms", {"INPUT": f"{demo_region['gpkg']}|layername=firms",
                                    "OUTPUT": str(tmp_path / "classified.shp")})["OUTPUT"]
    names = QgsVectorLayer(shp, "s", "ogr").fields().names()
    assert "cc_creativ" in names and "cc_creative" not in names
    feedback = RecordingFeedback()
    via_shp = run_alg("microclusters", {"INPUT": shp, "EPS": 250, "MIN_FIRMS": 20, "OUTPUT_POINTS": "memory:",
                                        "OUTPUT_CLUSTERS": str(tmp_path / "mc.gpkg")}, feedback=feedback)
    gpkg = run_alg("classifyfirms", {"INPUT": f"{demo_region['gpkg']}|layername=firms",
                                     "OUTPUT": str(tmp_path / "classified.gpkg")})["OUTPUT"]
    via_gpkg = run_alg("microclusters", {"INPUT": gpkg, "EPS": 250, "MIN_FIRMS": 20, "OUTPUT_POINTS": "memory:",
                                         "OUTPUT_CLUSTERS": str(tmp_path / "mc2.gpkg")})
    count = [QgsVectorLayer(r["OUTPUT_CLUSTERS"], "m", "ogr").featureCount() for r in (via_shp, via_gpkg)]
    assert count[0] == count[1] > 0
    assert any("cc_creativ → cc_creative" in line for line in feedback.log)
    lq = run_alg("locationquotients", {"AREAS": f"{demo_region['gpkg']}|layername=areas", "AREA_ID": "area_id",
                                       "FIRMS": shp, "OUTPUT": "memory:"})["OUTPUT"]
    assert sum(f["n_creative"] for f in lq.getFeatures()) > 0


def test_missing_incorporation_dates_are_null_not_zero(run_alg, demo_region, tmp_path):
    from tests.processing.stats_helpers import RecordingFeedback

    layer = QgsVectorLayer(f"{demo_region['gpkg']}|layername=firms", "f", "ogr")
    index = layer.fields().lookupField("IncorporationDate")
    assert index >= 0
    classified = run_alg("classifyfirms", {"INPUT": layer, "OUTPUT": str(tmp_path / "c.gpkg")})["OUTPUT"]
    dropped = run_alg("native:deletecolumn", {"INPUT": classified, "COLUMN": ["IncorporationDate"],
                                              "OUTPUT": str(tmp_path / "nodates.gpkg")})["OUTPUT"]
    feedback = RecordingFeedback()
    result = run_alg("microclusters", {"INPUT": dropped, "EPS": 250, "MIN_FIRMS": 20, "OUTPUT_POINTS": "memory:",
                                       "OUTPUT_CLUSTERS": str(tmp_path / "mc.gpkg")}, feedback=feedback)
    clusters = QgsVectorLayer(result["OUTPUT_CLUSTERS"], "m", "ogr")
    assert clusters.featureCount() > 0
    assert all(f["n_recent"] is None or f["n_recent"] == NULL for f in clusters.getFeatures())
    assert any("no IncorporationDate field" in line for line in feedback.log)
