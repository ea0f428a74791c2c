"""creativeclusters:optimizedhotspots through Processing: demo scale against planted truth, fallback, bad input."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest
from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsProcessingException,
    QgsProject,
    QgsVectorLayer,
)

from tests.processing.stats_helpers import RecordingFeedback, as_float, layer_rows, points_layer

GI_FIELDS = ["GiZScore", "GiPValue", "NNeighbors", "Gi_Bin"]


def chosen_band(feedback):
    """The band the log reports: a first peak ("Distance band … m chosen"), ArcGIS's average distance to K
    neighbours ("Distance band … m: the average distance"), or one standard distance ("… standard distance: … m")."""
    for message in feedback.infos:
        m = re.search(r"Distance band ([\d,.]+) m(?: chosen|: the average)", message) or re.search(
            r"one standard distance: ([\d,.]+) m", message)
        if m:
            return float(m.group(1).replace(",", ""))
    return None


@pytest.fixture(scope="module")
def demo_creative(demo_region, provider, tmp_path_factory):
    """The demo firms classified by creativeclusters:classifyfirms, creative ones extracted as incidents."""
    import processing

    folder = tmp_path_factory.mktemp("ohsa")
    classified = processing.run(
        "creativeclusters:classifyfirms",
        {"INPUT": f"{demo_region['gpkg']}|layername=firms", "RULE": 0, "OUTPUT": str(folder / "classified.gpkg")},
    )["OUTPUT"]
    creative = processing.run(
        "native:extractbyexpression",
        {"INPUT": classified, "EXPRESSION": '"cc_creative" = true', "OUTPUT": str(folder / "creative.gpkg")},
    )["OUTPUT"]
    return creative, demo_region


@pytest.mark.parametrize("aggregation", [0, 1])
def test_demo_incidents_band_in_planted_scale(run_alg, demo_creative, aggregation):
    creative, demo = demo_creative
    truth = demo["truth_data"]
    radii = [c["radius_m"] for c in truth["clusters"]]
    feedback = RecordingFeedback()
    start = time.perf_counter()
    out = run_alg("optimizedhotspots", {"INPUT": creative, "AGGREGATION": aggregation, "OUTPUT": "memory:"},
                  feedback=feedback)["OUTPUT"]
    seconds = time.perf_counter() - start
    print(f"optimizedhotspots on the demo (aggregation {aggregation}): {seconds:.2f} s, band {chosen_band(feedback)}")
    assert out.fields().names() == ["cell_id", "Join_Count"] + GI_FIELDS
    rows = layer_rows(out, "Join_Count", "Gi_Bin")
    assert sum(r[0] for r in rows) == truth["n_creative_first_sic"]
    assert min(r[0] for r in rows) >= 1  # no bounding polygons: only cells with incidents
    band = chosen_band(feedback)
    # a first peak lies within the planted scale; ArcGIS's fallback (average distance to K = 30 neighbours) may
    # reach about a cluster's diameter and a half
    assert band is not None and min(radii) <= band <= 3 * max(radii), feedback.infos
    log = "\n".join(feedback.infos)
    for needle in ("Cell size", "Locational outliers", "Incremental spatial autocorrelation", "fewer than 8 neighbours",
                   "false discovery rate"):
        assert needle in log
    def centres_found(layer):
        hot = [f.geometry().centroid().asPoint() for f in layer.getFeatures() if f["Gi_Bin"] >= 1]
        hot_xy = np.array([(p.x(), p.y()) for p in hot])
        return [c["name"] for c in truth["clusters"]
                if np.min(np.hypot(*(hot_xy - np.array(c["centre"])).T)) < c["radius_m"]]

    # most planted cluster centres lie in or next to a hot cell (90 % or more after FDR)
    found = centres_found(out)
    assert len(found) >= 0.6 * len(truth["clusters"]), found
    advice = re.search(r"fixed distance band of ([\d,]+) m", log)
    if len(found) < len(truth["clusters"]):
        # the fallback band is coarse: the log's advice (Gi* at the first band) finds every planted centre
        assert advice, log
        finer = run_alg("hotspots", {"INPUT": out, "FIELD": "Join_Count", "WEIGHTS": 2, "FDR": True,
                                     "DISTANCE": float(advice.group(1).replace(",", "")) + 1,
                                     "OUTPUT": "memory:"})["OUTPUT"]
        assert len(centres_found(finer)) == len(truth["clusters"])


def test_demo_given_polygons_and_bounding(run_alg, demo_creative):
    creative, demo = demo_creative
    truth = demo["truth_data"]
    areas = f"{demo['gpkg']}|layername=areas"
    feedback = RecordingFeedback()
    out = run_alg("optimizedhotspots", {"INPUT": creative, "AGGREGATION": 2, "POLYGONS": areas, "OUTPUT": "memory:"},
                  feedback=feedback)["OUTPUT"]
    assert out.featureCount() == truth["n_areas"]
    assert out.fields().names()[-5:] == ["Join_Count"] + GI_FIELDS
    counts = {f["area_id"]: f["Join_Count"] for f in out.getFeatures()}
    assert sum(counts.values()) == truth["n_creative_first_sic"]
    for c in truth["clusters"]:  # independent: the generator's own creative count in each centre area
        assert counts[c["centre_area_id"]] == c["centre_area_n_creative"]
    # the first band is the largest nearest-neighbour distance between the areas' points on surface once the
    # locational outliers (NN >= mean + 3 SD) are set aside, recomputed here with scipy
    from scipy.spatial import cKDTree

    pts = np.array([(p.x(), p.y()) for p in (f.geometry().pointOnSurface().asPoint() for f in out.getFeatures())])
    nn = cKDTree(pts).query(pts, k=2)[0][:, 1]
    inliers = pts[nn < nn.mean() + 3 * nn.std()]
    start = cKDTree(inliers).query(inliers, k=2)[0][:, 1].max()
    assert any(f"from {start:,.0f} m" in m for m in feedback.infos), feedback.infos
    # wards are irregular (small in towns, large in the countryside): the first band must reach the largest rural
    # ward, so the scale is coarser than the planted clusters (ArcGIS behaves the same; see the help)
    assert chosen_band(feedback) >= round(start) - 1  # the log rounds to the metre
    # bounding polygon: empty cells are kept with a count of 0
    region = f"{demo['gpkg']}|layername=region"
    out = run_alg("optimizedhotspots", {"INPUT": creative, "AGGREGATION": 0, "BOUNDING": region, "CELL_SIZE": 1000,
                                        "OUTPUT": "memory:"})["OUTPUT"]
    counts = [f["Join_Count"] for f in out.getFeatures()]
    assert sum(counts) == truth["n_creative_first_sic"] and min(counts) == 0
    region_layer = QgsVectorLayer(region, "region", "ogr")
    region_area = next(region_layer.getFeatures()).geometry().area()
    assert len(counts) * 1000**2 >= region_area  # the cells cover the whole region


def test_noise_falls_back_to_average_knn_band(run_alg):
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 10_000, (400, 2)) + (400_000, 300_000)
    feedback = RecordingFeedback()
    out = run_alg("optimizedhotspots", {"INPUT": points_layer(xy, rng.normal(size=400)), "FIELD": "v",
                                        "OUTPUT": "memory:"}, feedback=feedback)["OUTPUT"]
    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    band = float(np.sort(d, axis=1)[:, 20].mean())  # average distance to the 20th neighbour (K = 5 % of 400)
    assert any(f"Distance band {band:,.0f} m: the average distance at which each feature finds its 20" in m
               for m in feedback.infos)
    assert [f["NNeighbors"] for f in out.getFeatures()] == ((d <= band) & (d > 0)).sum(axis=1).tolist()
    assert out.fields().names() == ["v"] + GI_FIELDS


def test_weighted_features_nulls_negatives_duplicates(run_alg):
    rng = np.random.default_rng(2)
    xy = rng.uniform(0, 3000, (120, 2)) + (400_000, 300_000)
    xy = np.vstack([xy, xy[:20]])  # 20 duplicate points
    values = list(xy[:, 0] / 100 - 4030 + rng.normal(0, 1, 140))  # negative, trending west → east
    values[5] = None
    values[77] = None
    feedback = RecordingFeedback()
    out = run_alg("optimizedhotspots", {"INPUT": points_layer(xy, values), "FIELD": "v", "OUTPUT": "memory:"},
                  feedback=feedback)["OUTPUT"]
    assert any("2 feature(s) have a NULL" in m for m in feedback.warnings)
    assert any("share their location" in m for m in feedback.infos)
    z = [as_float(r[0]) for r in layer_rows(out, "GiZScore")]
    assert z[5] is None and z[77] is None
    assert sum(v is not None for v in z) == 138
    bins = [r[0] for r in layer_rows(out, "Gi_Bin") if r[0] is not None]
    assert max(bins) > 0 and min(bins) < 0  # east hot, west cold


def test_geographic_crs_is_projected_with_a_warning(run_alg):
    rng = np.random.default_rng(4)
    xy = rng.uniform(0, 3000, (200, 2)) + (430_000, 380_000)
    values = np.where(np.hypot(xy[:, 0] - 431_500, xy[:, 1] - 381_500) < 600, 5.0, 1.0) + rng.normal(0, 0.3, 200)
    to_wgs84 = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:27700"),
                                      QgsCoordinateReferenceSystem("EPSG:4326"), QgsProject.instance())
    lonlat = [(p.x(), p.y()) for p in (to_wgs84.transform(float(x), float(y)) for x, y in xy)]
    projected_fb, geographic_fb = RecordingFeedback(), RecordingFeedback()
    a = run_alg("optimizedhotspots", {"INPUT": points_layer(xy, values), "FIELD": "v", "OUTPUT": "memory:"},
                feedback=projected_fb)["OUTPUT"]
    b = run_alg("optimizedhotspots", {"INPUT": points_layer(lonlat, values, crs="EPSG:4326"), "FIELD": "v",
                                      "OUTPUT": "memory:"}, feedback=geographic_fb)["OUTPUT"]
    assert any("geographic CRS" in m for m in geographic_fb.warnings)
    assert chosen_band(geographic_fb) == pytest.approx(chosen_band(projected_fb), rel=1e-3)
    assert [r[0] for r in layer_rows(a, "Gi_Bin")] == [r[0] for r in layer_rows(b, "Gi_Bin")]


def test_bad_input(run_alg):
    rng = np.random.default_rng(0)
    # 12 incidents in 12 far-apart cells: fewer than 30 cells, the message says what to do
    xy = np.column_stack([np.arange(12) * 1000.0 + 400_000, np.full(12, 300_000.0)])
    with pytest.raises(QgsProcessingException, match="at least 30 cells.*smaller cell size"):
        run_alg("optimizedhotspots", {"INPUT": points_layer(xy, [1] * 12), "CELL_SIZE": 100, "OUTPUT": "memory:"})
    # every cell holds one incident: zero variance
    xy = np.column_stack([np.arange(40) * 1000.0 + 400_000, np.full(40, 300_000.0)])
    with pytest.raises(QgsProcessingException, match="same value.*larger cell size"):
        run_alg("optimizedhotspots", {"INPUT": points_layer(xy, [1] * 40), "CELL_SIZE": 100, "OUTPUT": "memory:"})
    pts = rng.uniform(0, 1000, (40, 2)) + (400_000, 300_000)
    with pytest.raises(QgsProcessingException, match="same value"):
        run_alg("optimizedhotspots", {"INPUT": points_layer(pts, [3.0] * 40), "FIELD": "v", "OUTPUT": "memory:"})
    with pytest.raises(QgsProcessingException, match="needs a polygon layer"):
        run_alg("optimizedhotspots", {"INPUT": points_layer(pts, [1] * 40), "AGGREGATION": 2, "OUTPUT": "memory:"})
    polygons = QgsVectorLayer("Polygon?crs=EPSG:27700&field=v:double", "p", "memory")
    with pytest.raises(QgsProcessingException, match="incident points"):
        run_alg("optimizedhotspots", {"INPUT": polygons, "OUTPUT": "memory:"})
