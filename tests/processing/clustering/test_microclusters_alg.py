"""creativeclusters:microclusters through Processing: demo ground truth, stacks, CRS, bad input."""

import pytest
from qgis.core import (
    QgsFeature, QgsGeometry, QgsPointXY, QgsProcessing, QgsProcessingException, QgsProcessingFeedback, QgsVectorLayer,
)


@pytest.fixture(scope="module")
def flagged(demo_region, tmp_path_factory):
    import processing

    folder = tmp_path_factory.mktemp("micro")
    classified = str(folder / "classified.gpkg")
    processing.run("creativeclusters:classifyfirms", {"INPUT": f"{demo_region['gpkg']}|layername=firms", "OUTPUT": classified})
    out = str(folder / "flagged.gpkg")
    processing.run("creativeclusters:flagstacks", {"INPUT": classified, "POSTCODE_FIELD": "Postcode", "OUTPUT": out,
                                                   "OUTPUT_ADDRESSES": QgsProcessing.TEMPORARY_OUTPUT})
    return out


def _holding(clusters, xy, max_distance=0.0):
    point = QgsGeometry.fromPointXY(QgsPointXY(*xy))
    return [f for f in clusters.getFeatures() if f.geometry().distance(point) <= max_distance]


@pytest.mark.parametrize("method", [0, 1])
def test_planted_clusters_found(provider, run_alg, flagged, demo_region, method):
    truth = demo_region["truth_data"]
    feedback = QgsProcessingFeedback()
    result = run_alg("microclusters", {"INPUT": flagged, "METHOD": method, "OUTPUT_POINTS": "TEMPORARY_OUTPUT",
                                       "OUTPUT_CLUSTERS": "TEMPORARY_OUTPUT"}, feedback=feedback)
    clusters, points = result["OUTPUT_CLUSTERS"], result["OUTPUT_POINTS"]
    for planted in truth["clusters"]:
        found = _holding(clusters, planted["centre"])
        assert found, planted["name"]
        assert found[0]["dominant_subsector"] == planted["dominant_subsector"]
        assert found[0]["lq_creative"] > 1.3
    # exactly the creative firms entered the clustering
    assert points.featureCount() == truth["n_creative_first_sic"]
    assert all(f["cc_creative"] for f in points.getFeatures())
    ids = {f["cc_cluster_id"] for f in points.getFeatures()}
    assert ids == {-1} | {f["cc_cluster_id"] for f in clusters.getFeatures()}
    names = clusters.fields().names()
    for name in ("n_firms", "n_creative", "n_film", "share_film", "dominant_subsector", "herfindahl", "lq_creative",
                 "median_inc_year", "n_recent", "area_ha", "density_ha", "cc_cluster_id"):
        assert name in names


def test_stacks_exclude_removes_formation_agent(provider, run_alg, flagged, demo_region):
    fa = demo_region["truth_data"]["formation_agent"]
    keep = run_alg("microclusters", {"INPUT": flagged, "STACKS": 0, "OUTPUT_POINTS": "TEMPORARY_OUTPUT",
                                     "OUTPUT_CLUSTERS": "TEMPORARY_OUTPUT"})
    assert _holding(keep["OUTPUT_CLUSTERS"], fa["xy"])
    excl = run_alg("microclusters", {"INPUT": flagged, "STACKS": 2, "OUTPUT_POINTS": "TEMPORARY_OUTPUT",
                                     "OUTPUT_CLUSTERS": "TEMPORARY_OUTPUT"})
    assert not _holding(excl["OUTPUT_CLUSTERS"], fa["xy"], max_distance=250)
    assert excl["OUTPUT_CLUSTERS"].featureCount() == len(demo_region["truth_data"]["clusters"])
    assert excl["OUTPUT_POINTS"].featureCount() == demo_region["truth_data"]["n_creative_first_sic"] - fa["n_creative"]


def test_one_subsector_and_downweight(provider, run_alg, flagged, demo_region):
    truth = demo_region["truth_data"]
    result = run_alg("microclusters", {"INPUT": flagged, "FILTER": 1, "SUBSECTOR": "Crafts", "MIN_FIRMS": 30,
                                       "OUTPUT_POINTS": "TEMPORARY_OUTPUT", "OUTPUT_CLUSTERS": "TEMPORARY_OUTPUT"})
    craft = [c for c in truth["clusters"] if c["dominant_subsector"] == "Crafts"][0]
    found = _holding(result["OUTPUT_CLUSTERS"], craft["centre"])
    assert found and found[0]["dominant_subsector"] == "Crafts"
    assert all(f["cc_subsector"] == "Crafts" for f in result["OUTPUT_POINTS"].getFeatures())
    # down-weighting: the formation agent's 150 creative firms at one address weigh 1 in total
    fa = truth["formation_agent"]
    result = run_alg("microclusters", {"INPUT": flagged, "STACKS": 1, "MIN_FIRMS": 20,
                                       "OUTPUT_POINTS": "TEMPORARY_OUTPUT", "OUTPUT_CLUSTERS": "TEMPORARY_OUTPUT"})
    clusters = result["OUTPUT_CLUSTERS"]
    assert clusters.fields().field("n_members").typeName().lower().startswith(("double", "real"))
    assert not _holding(clusters, fa["xy"], max_distance=250)


def _layer(points, crs="EPSG:27700", creative=True):
    layer = QgsVectorLayer(f"Point?crs={crs}&field=cc_creative:boolean&field=cc_subsector:string", "firms", "memory")
    features = []
    for p in points:
        f = QgsFeature(layer.fields())
        if p is not None:
            f.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(*p)))
        f.setAttributes([creative, "Publishing"])
        features.append(f)
    layer.dataProvider().addFeatures(features)
    return layer


def test_geographic_crs_and_null_geometries(provider, run_alg):
    import numpy as np

    rng = np.random.default_rng(0)
    lonlat = [(-1.47 + dx, 53.38 + dy) for dx, dy in rng.normal(0, 0.0005, (80, 2))]  # ~35 m spread
    feedback = QgsProcessingFeedback()
    result = run_alg("microclusters", {"INPUT": _layer(lonlat + [None, None]), "EPS": 100, "MIN_FIRMS": 20,
                                       "OUTPUT_POINTS": "TEMPORARY_OUTPUT", "OUTPUT_CLUSTERS": "TEMPORARY_OUTPUT"},
                     feedback=feedback)
    assert result["OUTPUT_CLUSTERS"].featureCount() == 1
    assert result["OUTPUT_CLUSTERS"].crs().authid() == "EPSG:27700"
    assert result["OUTPUT_POINTS"].featureCount() == 80
    cluster = next(result["OUTPUT_CLUSTERS"].getFeatures())
    assert cluster["n_members"] == 80 and cluster["dominant_subsector"] == "Publishing"


def test_all_points_identical(provider, run_alg):
    result = run_alg("microclusters", {"INPUT": _layer([(430000, 390000)] * 60), "OUTPUT_POINTS": "TEMPORARY_OUTPUT",
                                       "OUTPUT_CLUSTERS": "TEMPORARY_OUTPUT"})
    assert result["OUTPUT_CLUSTERS"].featureCount() == 1
    assert next(result["OUTPUT_CLUSTERS"].getFeatures())["n_members"] == 60


@pytest.mark.parametrize("params,message", [
    ({"EPS": 0}, "EPS"), ({"EPS": -10}, "EPS"), ({"MIN_FIRMS": 1}, "at least 2"),
    ({"STACKS": 2}, "cc_stack"), ({"FILTER": 1, "SUBSECTOR": "Basket weaving"}, "Unknown"),
])
def test_bad_parameters(provider, run_alg, params, message):
    with pytest.raises(QgsProcessingException, match=message):
        run_alg("microclusters", {"INPUT": _layer([(0, 0)] * 10), "OUTPUT_POINTS": "TEMPORARY_OUTPUT",
                                  "OUTPUT_CLUSTERS": "TEMPORARY_OUTPUT", **params})


def test_no_points(provider, run_alg):
    with pytest.raises(QgsProcessingException, match="no firms"):
        run_alg("microclusters", {"INPUT": _layer([]), "OUTPUT_POINTS": "TEMPORARY_OUTPUT",
                                  "OUTPUT_CLUSTERS": "TEMPORARY_OUTPUT"})
    with pytest.raises(QgsProcessingException, match="nothing to cluster"):
        run_alg("microclusters", {"INPUT": _layer([(0, 0)] * 10, creative=False), "OUTPUT_POINTS": "TEMPORARY_OUTPUT",
                                  "OUTPUT_CLUSTERS": "TEMPORARY_OUTPUT"})


@pytest.mark.shared_data
def test_real_defaults_say_what_to_change(provider, run_alg, shared_data, tmp_path):
    """South Yorkshire's creative firms with stacked addresses excluded: the defaults (250 m, 50 firms) give
    fewer than two microclusters; the log names a MIN_FIRMS that gives more (checked by running it), and the
    EPS suggestion is one a user can take."""
    import re

    from tests.processing.stats_helpers import RecordingFeedback

    firms = str(shared_data / "firms" / "companies_house_2024-11_south_yorkshire_points.gpkg")
    classified = run_alg("classifyfirms", {"INPUT": firms, "OUTPUT": str(tmp_path / "c.gpkg")})["OUTPUT"]
    flagged = run_alg("flagstacks", {"INPUT": classified, "POSTCODE_FIELD": "Postcode",
                                     "OUTPUT": str(tmp_path / "f.gpkg"), "OUTPUT_ADDRESSES": "memory:"})["OUTPUT"]
    feedback = RecordingFeedback()
    first = run_alg("microclusters", {"INPUT": flagged, "STACKS": 2, "OUTPUT_POINTS": "memory:",
                                      "OUTPUT_CLUSTERS": str(tmp_path / "m.gpkg")}, feedback=feedback)
    assert QgsVectorLayer(first["OUTPUT_CLUSTERS"], "m", "ogr").featureCount() < 2
    advice = [w for w in feedback.warnings if "Corridors need two or more" in w]
    assert advice, feedback.warnings
    suggested = int(re.search(r"MIN_FIRMS (\d+) gives", advice[0]).group(1))
    second = run_alg("microclusters", {"INPUT": flagged, "STACKS": 2, "MIN_FIRMS": suggested,
                                       "OUTPUT_POINTS": "memory:", "OUTPUT_CLUSTERS": str(tmp_path / "m2.gpkg")})
    assert QgsVectorLayer(second["OUTPUT_CLUSTERS"], "m", "ogr").featureCount() >= 2
    eps = float(re.search(r"EPS suggestion: (\d+) m", " ".join(feedback.infos)).group(1))
    assert 50 <= eps <= 1000
