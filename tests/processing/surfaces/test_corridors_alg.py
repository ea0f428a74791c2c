"""creativeclusters:corridors through Processing: parameters, outputs and their fields, rasters, bad input."""

import math

import numpy as np
import pytest
from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFeature,
    QgsGeometry,
    QgsPointXY,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProject,
    QgsVectorLayer,
)

rasterio = pytest.importorskip("rasterio")
skgraph = pytest.importorskip("skimage.graph")

from tests.processing.stats_helpers import RecordingFeedback as Feedback

LINK_FIELDS = [
    "link_id", "from_id", "to_id", "euc_dist", "cost_dist", "path_len", "cost_euc", "cost_path", "gravity",
    "strength", "in_mst", "strong", "in_chain", "corridor_id", "origin", "split_from",
]
CORRIDOR_FIELDS = ["corridor_id", "clusters", "n_clusters", "total_mass", "length_m", "mean_strength", "rank"]



def cluster_layer(rows, crs="EPSG:27700", kind="Polygon"):
    """rows: (name, x, y, radius, mass); polygons are discs, points their centres."""
    layer = QgsVectorLayer(f"{kind}?crs={crs}&field=name:string&field=n_firms:integer", "clusters", "memory")
    features = []
    for name, x, y, radius, mass in rows:
        feature = QgsFeature(layer.fields())
        feature.setAttributes([name, mass])
        point = QgsGeometry.fromPointXY(QgsPointXY(x, y))
        feature.setGeometry(point.buffer(radius, 24) if kind == "Polygon" else point)
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    return layer


def write_raster(path, array, transform, crs="EPSG:27700", nodata=None):
    with rasterio.open(path, "w", driver="GTiff", height=array.shape[0], width=array.shape[1], count=1,
                       dtype="float32", transform=transform, crs=crs, nodata=nodata) as dataset:
        dataset.write(array.astype("float32"), 1)
    return str(path)


@pytest.fixture(scope="module")
def demo_run(demo_region, provider, tmp_path_factory):
    import processing

    truth = demo_region["truth_data"]
    rows = [(c["name"], c["centre"][0], c["centre"][1], c["radius_m"], c["n_firms"]) for c in truth["clusters"]]
    folder = tmp_path_factory.mktemp("corridors")
    feedback = Feedback()
    context = QgsProcessingContext()
    out = processing.run(
        "creativeclusters:corridors",
        {
            "CLUSTERS": cluster_layer(rows), "MASS_FIELD": "n_firms", "ID_FIELD": "name", "CELL_SIZE": 200,
            "OUTPUT_LINKS": "memory:", "OUTPUT_CORRIDORS": "memory:", "OUTPUT_RASTER": str(folder / "nlcc.tif"),
        },
        feedback=feedback,
        context=context,
    )
    return truth, out, feedback, context


def _layer(out, key, context):
    value = out[key]
    return value if isinstance(value, QgsVectorLayer) else context.getMapLayer(value)


def test_outputs_fields_and_planted_chain(demo_run):
    truth, out, feedback, context = demo_run
    links = _layer(out, "OUTPUT_LINKS", context)
    corridors = _layer(out, "OUTPUT_CORRIDORS", context)
    assert links.fields().names() == LINK_FIELDS
    assert corridors.fields().names() == CORRIDOR_FIELDS
    assert links.featureCount() >= len(truth["clusters"]) - 1
    chain = truth["chain"]["cluster_names"]
    found = [f["clusters"].split(" > ") for f in corridors.getFeatures()]
    holding = [c for c in found if set(chain) & set(c)]
    assert len(holding) == 1
    sequence = holding[0]
    start = sequence.index(chain[0]) if chain[0] in sequence else -1
    assert sequence[start : start + len(chain)] == chain or sequence[::-1][sequence[::-1].index(chain[0]):][: len(chain)] == chain
    for feature in corridors.getFeatures():
        assert feature.geometry().area() > 0 and feature["rank"] >= 1 and feature["n_clusters"] >= 3
    # link attributes are consistent with each other
    for feature in links.getFeatures():
        assert feature["cost_dist"] >= 0 and feature["path_len"] >= feature["euc_dist"] - 1e-6
        assert feature["gravity"] > 0
        assert feature.geometry().length() == pytest.approx(feature["path_len"], rel=1e-6)
    # each step is logged as it is done, in order
    steps = [next(k for k, line in enumerate(feedback.infos) if line.startswith(f"Step {n}/5")) for n in range(1, 6)]
    assert steps == sorted(steps)


def test_corridor_raster_is_a_valid_geotiff(demo_run):
    truth, out, _, _ = demo_run
    with rasterio.open(out["OUTPUT_RASTER"]) as dataset:
        assert dataset.crs.to_epsg() == 27700
        assert dataset.res == (200.0, 200.0)
        data = dataset.read(1, masked=True)
    assert data.count() > 0
    assert float(data.min()) == pytest.approx(0.0, abs=1e-3)  # the least-cost paths
    assert float(data.max()) > 0


def test_resistance_raster_with_a_barrier_and_transport(provider, run_alg, tmp_path):
    from affine import Affine

    transform = Affine(20.0, 0, 0, 0, -20.0, 2000.0)
    costs = np.ones((100, 150), dtype="float32")
    costs[:, 74:76] = -1.0  # a wall of nodata ...
    costs[15:20, 74:76] = 1.0  # ... with one gap (y 1600-1700)
    path = write_raster(tmp_path / "resistance.tif", costs, transform, nodata=-1.0)
    clusters = cluster_layer([("A", 500, 500, 100, 10), ("B", 2500, 500, 100, 20)])
    out = run_alg("corridors", {
        "CLUSTERS": clusters, "MASS_FIELD": "n_firms", "RESISTANCE": path,
        "OUTPUT_LINKS": "memory:", "OUTPUT_CORRIDORS": "memory:", "OUTPUT_RASTER": str(tmp_path / "out.tif"),
    })
    links = out["OUTPUT_LINKS"]
    (link,) = list(links.getFeatures())
    crossing = link.geometry().intersection(QgsGeometry.fromWkt("LINESTRING(1500 0, 1500 2000)"))
    assert 1600 < crossing.asPoint().y() < 1700
    # the same least cost as scikit-image on the same raster (cores: cells whose centre is in the disc)
    grid_costs = np.where(costs < 0, np.inf, costs).astype(float)
    rows, cols = np.mgrid[0:100, 0:150]
    x, y = 10 + 20 * cols, 1990 - 20 * rows
    core_a = np.hypot(x - 500, y - 500) < 100
    core_b = np.hypot(x - 2500, y - 500) < 100
    surface, _ = skgraph.MCP_Geometric(grid_costs, sampling=(20.0, 20.0)).find_costs(list(zip(*np.nonzero(core_a))))
    assert link["cost_dist"] == pytest.approx(surface[core_b].min(), rel=1e-3)
    # a motorway-like line through the gap makes the link cheaper
    road = QgsVectorLayer("LineString?crs=EPSG:27700", "road", "memory")
    feature = QgsFeature()
    feature.setGeometry(QgsGeometry.fromWkt("LINESTRING(500 500, 1500 1650, 2500 500)"))
    road.dataProvider().addFeatures([feature])
    cheaper = run_alg("corridors", {
        "CLUSTERS": clusters, "MASS_FIELD": "n_firms", "RESISTANCE": path, "TRANSPORT": road,
        "OUTPUT_LINKS": "memory:", "OUTPUT_CORRIDORS": "memory:", "OUTPUT_RASTER": str(tmp_path / "out2.tif"),
    })
    (faster,) = list(cheaper["OUTPUT_LINKS"].getFeatures())
    assert faster["cost_dist"] < 0.5 * link["cost_dist"]


def test_points_and_geographic_crs(provider, run_alg, tmp_path):
    to_wgs = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:27700"), QgsCoordinateReferenceSystem("EPSG:4326"), QgsProject.instance())
    rows = []
    for name, x, y in [("a", 430000, 380000), ("b", 434000, 380500), ("c", 438000, 380200), ("d", 431000, 386000)]:
        p = to_wgs.transform(QgsPointXY(x, y))
        rows.append((name, p.x(), p.y(), 0, 50))
    feedback = Feedback()
    out = run_alg("corridors", {
        "CLUSTERS": cluster_layer(rows, crs="EPSG:4326", kind="Point"), "MASS_FIELD": "n_firms", "ID_FIELD": "name",
        "OUTPUT_LINKS": "memory:", "OUTPUT_CORRIDORS": "memory:", "OUTPUT_RASTER": str(tmp_path / "geo.tif"),
    }, feedback=feedback)
    assert any("geographic" in w for w in feedback.warnings)
    links = out["OUTPUT_LINKS"]
    assert links.crs().authid() == "EPSG:27700"
    ab = [f for f in links.getFeatures() if {f["from_id"], f["to_id"]} == {"a", "b"}][0]
    assert ab["euc_dist"] == pytest.approx(math.hypot(4000, 500), abs=5)  # metres, not degrees
    assert any(f["clusters"] == "a > b > c" for f in out["OUTPUT_CORRIDORS"].getFeatures())


def test_one_cluster_gives_empty_outputs_and_says_why(provider, run_alg, tmp_path):
    """A chain (the shipped model) must not stop here: empty outputs, a nodata surface, a warning that says
    what to change."""
    from qgis.core import QgsRasterLayer

    from tests.processing.stats_helpers import RecordingFeedback

    feedback = RecordingFeedback()
    result = run_alg("corridors", {
        "CLUSTERS": cluster_layer([("only", 430000, 380000, 300, 10)]),
        "OUTPUT_LINKS": "memory:", "OUTPUT_CORRIDORS": "memory:", "OUTPUT_RASTER": str(tmp_path / "x.tif"),
    }, feedback=feedback)
    assert result["OUTPUT_LINKS"].featureCount() == 0 and result["OUTPUT_CORRIDORS"].featureCount() == 0
    assert QgsRasterLayer(result["OUTPUT_RASTER"], "r").isValid()
    assert any("a corridor joins two or more" in w and "MIN_FIRMS" in w for w in feedback.warnings)


def test_grid_too_large_for_memory_is_refused_with_its_size(provider, run_alg, tmp_path):
    clusters = cluster_layer([("a", 100000, 100000, 300, 10), ("b", 600000, 900000, 300, 10)])
    with pytest.raises(QgsProcessingException, match=r"cells and need about .* of memory"):
        run_alg("corridors", {
            "CLUSTERS": clusters, "CELL_SIZE": 1.0,
            "OUTPUT_LINKS": "memory:", "OUTPUT_CORRIDORS": "memory:", "OUTPUT_RASTER": str(tmp_path / "x.tif"),
        })


def test_unreachable_cluster_is_reported(provider, run_alg, tmp_path):
    from affine import Affine

    costs = np.ones((100, 100), dtype="float32")
    rows, cols = np.mgrid[0:100, 0:100]
    ring = np.hypot(rows - 70, cols - 70)
    costs[(ring > 10) & (ring < 13)] = np.nan  # a ring of nodata around cluster c
    path = write_raster(tmp_path / "ring.tif", costs, Affine(20.0, 0, 0, 0, -20.0, 2000.0))
    feedback = Feedback()
    out = run_alg("corridors", {
        "CLUSTERS": cluster_layer([("a", 200, 1800, 60, 5), ("b", 600, 1800, 60, 5), ("c", 1410, 590, 60, 5)]),
        "ID_FIELD": "name", "RESISTANCE": path,
        "OUTPUT_LINKS": "memory:", "OUTPUT_CORRIDORS": "memory:", "OUTPUT_RASTER": str(tmp_path / "o.tif"),
    }, feedback=feedback)
    assert out["OUTPUT_LINKS"].featureCount() == 1
    assert any("cannot reach each other" in w for w in feedback.warnings)
    assert out["OUTPUT_CORRIDORS"].featureCount() == 0


def test_clusters_outside_the_raster_and_overlapping_clusters(provider, run_alg, tmp_path):
    from affine import Affine

    path = write_raster(tmp_path / "flat.tif", np.full((100, 100), 2.0), Affine(20.0, 0, 0, 0, -20.0, 2000.0))
    feedback = Feedback()
    out = run_alg("corridors", {
        "CLUSTERS": cluster_layer([
            ("a", 400, 1000, 200, 5), ("b", 600, 1000, 200, 7),  # overlapping discs
            ("c", 1600, 1000, 100, 3), ("far", 90000, 90000, 100, 9),  # "far" lies outside the raster
        ]),
        "MASS_FIELD": "n_firms", "ID_FIELD": "name", "RESISTANCE": path,
        "OUTPUT_LINKS": "memory:", "OUTPUT_CORRIDORS": "memory:", "OUTPUT_RASTER": str(tmp_path / "o.tif"),
    }, feedback=feedback)
    assert any("outside the resistance grid" in w and "far" in w for w in feedback.warnings)
    assert any("overlap" in w for w in feedback.warnings)
    links = {frozenset((f["from_id"], f["to_id"])): f for f in out["OUTPUT_LINKS"].getFeatures()}
    assert "far" not in {x for pair in links for x in pair}
    assert links[frozenset(("a", "b"))]["cost_dist"] == 0.0
    # a–c and b–c against scikit-image on the same raster (resistance 2 per metre)
    rows, cols = np.mgrid[0:100, 0:100]
    x, y = 10 + 20 * cols, 1990 - 20 * rows
    core_b = np.hypot(x - 600, y - 1000) < 200
    core_c = np.hypot(x - 1600, y - 1000) < 100
    surface, _ = skgraph.MCP_Geometric(np.full((100, 100), 2.0), sampling=(20.0, 20.0)).find_costs(list(zip(*np.nonzero(core_b))))
    assert links[frozenset(("b", "c"))]["cost_dist"] == pytest.approx(surface[core_c].min(), rel=1e-6)


def test_cancel_stops_without_output(provider, tmp_path):
    import processing

    class Cancelling(QgsProcessingFeedback):
        def setProgress(self, value):  # noqa: N802 - QGIS API
            super().setProgress(value)
            if value > 25:
                self.cancel()

    with pytest.raises(QgsProcessingException, match="[Cc]ancel"):
        processing.run("creativeclusters:corridors", {
            "CLUSTERS": cluster_layer([("a", 430000, 380000, 300, 10), ("b", 436000, 381000, 300, 10), ("c", 442000, 380000, 300, 10)]),
            "OUTPUT_LINKS": "memory:", "OUTPUT_CORRIDORS": "memory:", "OUTPUT_RASTER": str(tmp_path / "c.tif"),
        }, feedback=Cancelling())
    assert not (tmp_path / "c.tif").exists()
