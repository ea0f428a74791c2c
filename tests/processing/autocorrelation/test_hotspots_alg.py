"""creativeclusters:hotspots through Processing: values against the Ord–Getis formula, log, bad input, demo."""

from __future__ import annotations

import numpy as np
import pytest
from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFeature,
    QgsGeometry,
    QgsProcessingException,
    QgsProject,
    QgsVectorLayer,
)
from scipy import stats
from scipy.spatial.distance import cdist

from tests.core.autocorrelation.test_getis_ord import dense_gi_star
from tests.core.autocorrelation.test_weights import lattice_truth
from tests.processing.stats_helpers import (
    RecordingFeedback,
    as_float,
    demo_areas_with_counts,
    lattice_layer,
    layer_rows,
    planted_lattice,
    points_layer,
)


def run_hotspots(run_alg, layer, feedback=None, **params):
    parameters = {"INPUT": layer, "FIELD": "v", "WEIGHTS": 0, "OUTPUT": "memory:"}
    parameters.update(params)
    return run_alg("hotspots", parameters, feedback=feedback)["OUTPUT"]


def test_planted_lattice_matches_formula_and_bins(run_alg):
    values, hot, cold = planted_lattice()
    layer = lattice_layer(values, 10)
    feedback = RecordingFeedback()
    out = run_hotspots(run_alg, layer, feedback)
    names = out.fields().names()
    assert names == ["v", "name", "GiZScore", "GiPValue", "NNeighbors", "Gi_Bin"]
    rows = layer_rows(out, "GiZScore", "GiPValue", "NNeighbors", "Gi_Bin")
    z = np.array([r[0] for r in rows])
    truth = lattice_truth(10, 10, rook=False)
    np.testing.assert_allclose(z, dense_gi_star(values, truth.astype(float)), atol=1e-9)
    np.testing.assert_allclose([r[1] for r in rows], 2 * stats.norm.sf(np.abs(z)), atol=1e-12)
    assert [r[2] for r in rows] == truth.sum(axis=1).tolist()
    bins = np.array([r[3] for r in rows])
    assert bins[11] == 3 and bins[88] == -3  # centres of the planted blocks
    assert np.all(bins[hot] > 0) and np.all(bins[cold] < 0)
    assert any("Hot spots" in m for m in feedback.infos)
    assert any("unreliable" not in m for m in feedback.warnings) or not feedback.warnings


def test_points_with_distance_band_and_knn(run_alg):
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 3000, (80, 2)) + (400000, 300000)
    values = rng.gamma(2, 2, 80)
    layer = points_layer(xy, values)
    out = run_hotspots(run_alg, layer, WEIGHTS=2, DISTANCE=600)
    d = cdist(xy, xy)
    w = ((d <= 600) & (d > 0)).astype(float)
    z = np.array([as_float(f["GiZScore"]) if f["NNeighbors"] else np.nan for f in out.getFeatures()])
    expected = dense_gi_star(values, w)
    expected[w.sum(axis=1) == 0] = np.nan
    np.testing.assert_allclose(z, expected, atol=1e-9)
    out = run_hotspots(run_alg, layer, WEIGHTS=3, K=5)
    assert {f["NNeighbors"] for f in out.getFeatures()} == {5}
    out = run_hotspots(run_alg, layer, WEIGHTS=4, DISTANCE=0, POWER=2)
    inverse = 1 / np.maximum(d, 1) ** 2
    np.fill_diagonal(inverse, 0)
    np.testing.assert_allclose([f["GiZScore"] for f in out.getFeatures()], dense_gi_star(values, inverse), atol=1e-9)


def test_null_values_are_dropped_with_a_count(run_alg):
    values, _, _ = planted_lattice(seed=2)
    with_nulls = list(values)
    with_nulls[5] = None
    with_nulls[44] = None
    feedback = RecordingFeedback()
    out = run_hotspots(run_alg, lattice_layer(with_nulls, 10), feedback)
    rows = layer_rows(out, "GiZScore", "GiPValue", "NNeighbors", "Gi_Bin")
    for k in (5, 44):
        assert all(as_float(v) is None for v in rows[k])
    assert any("2 feature(s) have a NULL" in m for m in feedback.warnings)
    keep = np.ones(100, dtype=bool)
    keep[[5, 44]] = False
    truth = lattice_truth(10, 10, rook=False)[np.ix_(keep, keep)]
    z = np.array([r[0] for k, r in enumerate(rows) if keep[k]])
    np.testing.assert_allclose(z, dense_gi_star(values[keep], truth.astype(float)), atol=1e-9)


def test_permutations_add_pseudo_p_and_are_reproducible(run_alg):
    values, hot, _ = planted_lattice(seed=4)
    layer = lattice_layer(values, 10)
    a = run_hotspots(run_alg, layer, PERMUTATIONS=199, SEED=5)
    b = run_hotspots(run_alg, layer, PERMUTATIONS=199, SEED=5)
    c = run_hotspots(run_alg, layer, PERMUTATIONS=199, SEED=6)
    assert "GiPseudoP" in a.fields().names()
    pa, pb, pc = (np.array([f["GiPseudoP"] for f in x.getFeatures()]) for x in (a, b, c))
    np.testing.assert_array_equal(pa, pb)
    assert not np.array_equal(pa, pc)
    assert np.all((pa > 0) & (pa <= 1))
    assert np.all(pa[hot] <= 0.05)
    # bins follow the pseudo p-values
    bins = np.array([f["Gi_Bin"] for f in a.getFeatures()])
    z = np.array([f["GiZScore"] for f in a.getFeatures()])
    assert np.all((np.abs(bins) >= 2) == (pa <= 0.05))
    assert np.all(np.sign(bins[bins != 0]) == np.sign(z[bins != 0]))


def test_geographic_input_is_reprojected_with_a_warning(run_alg):
    values, _, _ = planted_lattice(seed=6)
    projected = lattice_layer(values, 10)
    geographic = QgsVectorLayer("Polygon?crs=EPSG:4326&field=v:double&field=name:string", "geo", "memory")
    transform = QgsCoordinateTransform(
        projected.crs(), QgsCoordinateReferenceSystem("EPSG:4326"), QgsProject.instance().transformContext()
    )
    features = []
    for f in projected.getFeatures():
        g = f.geometry()
        g.transform(transform)
        out = QgsFeature(geographic.fields())
        out.setAttributes(f.attributes())
        out.setGeometry(g)
        features.append(out)
    geographic.dataProvider().addFeatures(features)
    for params in ({"WEIGHTS": 0}, {"WEIGHTS": 2, "DISTANCE": 150}):
        feedback = RecordingFeedback()
        out_geo = run_hotspots(run_alg, geographic, feedback, **params)
        out_bng = run_hotspots(run_alg, projected, **params)
        assert any("geographic CRS" in m for m in feedback.warnings)
        assert out_geo.crs().authid() == "EPSG:4326"
        np.testing.assert_allclose(
            [f["GiZScore"] for f in out_geo.getFeatures()], [f["GiZScore"] for f in out_bng.getFeatures()], atol=1e-9
        )


def test_bad_input(run_alg):
    with pytest.raises(QgsProcessingException, match="at least 3"):
        run_hotspots(run_alg, lattice_layer([1.0, 2.0], 2))
    with pytest.raises(QgsProcessingException, match="at least 3"):
        run_hotspots(run_alg, lattice_layer([1.0], 1))
    with pytest.raises(QgsProcessingException, match="same value"):
        run_hotspots(run_alg, lattice_layer([4.0] * 16, 4))
    with pytest.raises(QgsProcessingException, match="needs polygons"):
        run_hotspots(run_alg, points_layer([(0, 0), (1, 1), (2, 2)], [1, 2, 3]), WEIGHTS=0)
    far = points_layer([(0, 0), (1000, 0), (2000, 0), (3000, 0)], [1, 2, 3, 4])
    with pytest.raises(QgsProcessingException, match="No feature has a neighbour"):
        run_hotspots(run_alg, far, WEIGHTS=2, DISTANCE=10)
    feedback = RecordingFeedback()
    run_hotspots(run_alg, lattice_layer(np.arange(16.0), 4), feedback)
    assert any("unreliable" in m for m in feedback.warnings)


def test_islands_and_duplicate_points(run_alg):
    xy = [(0, 0), (0, 0), (10, 0), (20, 0), (30, 0), (5000, 5000)] + [(40 + 10 * i, 0) for i in range(30)]
    values = np.random.default_rng(1).poisson(5, len(xy)).astype(float)
    values[0] += 3
    feedback = RecordingFeedback()
    out = run_hotspots(run_alg, points_layer(xy, values), feedback, WEIGHTS=2, DISTANCE=15)
    rows = layer_rows(out, "GiZScore", "NNeighbors", "Gi_Bin")
    assert as_float(rows[5][0]) is None and rows[5][1] == 0 and as_float(rows[5][2]) is None
    assert rows[0][1] == 2 and rows[1][1] == 2  # the coincident pair are neighbours of each other
    assert np.isfinite(rows[0][0]) and np.isfinite(rows[1][0])
    assert any("islands" in m for m in feedback.warnings)


def test_input_is_not_modified_and_cancel(run_alg):
    values, _, _ = planted_lattice(seed=8)
    layer = lattice_layer(values, 10)
    before = [(f.attributes(), f.geometry().asWkt()) for f in layer.getFeatures()]
    fields_before = layer.fields().names()
    run_hotspots(run_alg, layer, PERMUTATIONS=99, FDR=True)
    assert [(f.attributes(), f.geometry().asWkt()) for f in layer.getFeatures()] == before
    assert layer.fields().names() == fields_before
    with pytest.raises(QgsProcessingException):
        run_hotspots(run_alg, layer, RecordingFeedback(cancel_after_progress=30), PERMUTATIONS=999)


@pytest.mark.slow
def test_demo_region_planted_clusters_are_significant_hot_spots(run_alg, demo_region, provider):
    from qgis.core import QgsApplication

    areas = demo_areas_with_counts(demo_region, QgsApplication.processingRegistry())
    analytic = run_alg(
        "hotspots", {"INPUT": areas, "FIELD": "n_creative", "WEIGHTS": 0, "FDR": True, "OUTPUT": "memory:"}
    )["OUTPUT"]
    permuted = run_alg(
        "hotspots",
        {"INPUT": areas, "FIELD": "n_creative", "WEIGHTS": 0, "PERMUTATIONS": 999, "SEED": 1, "OUTPUT": "memory:"},
    )["OUTPUT"]
    by_area = [{f["area_id"]: f for f in layer.getFeatures()} for layer in (analytic, permuted)]
    clusters = demo_region["truth_data"]["clusters"]
    pseudo = []
    for cluster in clusters:
        fdr_row, perm_row = (rows[cluster["centre_area_id"]] for rows in by_area)
        assert fdr_row["Gi_Bin"] >= 2, (cluster["name"], fdr_row["GiZScore"])
        assert perm_row["GiPseudoP"] <= 0.10 and perm_row["Gi_Bin"] >= 1, (cluster["name"], perm_row["GiPseudoP"])
        pseudo.append(perm_row["GiPseudoP"])
    # the conditional test holds the area's own count fixed, so it only weighs the neighbours: a cluster that
    # sits mostly inside one area is weaker there than under the analytic z, which counts the area itself
    assert np.mean(np.array(pseudo) <= 0.05) >= 0.75, pseudo
    for layer in (analytic, permuted):
        hot = sum(1 for f in layer.getFeatures() if as_float(f["Gi_Bin"]) is not None and f["Gi_Bin"] >= 2)
        assert hot < 0.35 * layer.featureCount()


def test_snap_tolerance_is_metres_on_a_geographic_layer(run_alg):
    """Squares of 100 m with 0.5 m gaps, stored in WGS 84 degrees: the default SNAP_TOLERANCE (1) is 1 metre of
    the analysis CRS, so the gaps close (queen neighbours as on an exact lattice: 3 at corners, 5 at edges, 8
    inside) while a square 50 m away stays an island, and the log names the tolerance. Read as 1 degree, every
    square would neighbour every other."""
    cols, rows, size, gap = 6, 5, 100.0, 0.5
    layer = QgsVectorLayer("Polygon?crs=EPSG:4326&field=v:double", "geographic", "memory")
    to_wgs84 = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:27700"),
                                      QgsCoordinateReferenceSystem("EPSG:4326"), QgsProject.instance())
    rng = np.random.default_rng(4)
    features = []
    squares = [(c * (size + gap), r * (size + gap)) for r in range(rows) for c in range(cols)]
    squares.append((cols * (size + gap) + 50.0, 0.0))  # 50 m beyond the last column: an island at 1 m
    for x0, y0 in squares:
        x0, y0 = 430_000 + x0, 380_000 + y0
        g = QgsGeometry.fromWkt(f"POLYGON(({x0} {y0},{x0 + size} {y0},{x0 + size} {y0 + size},{x0} {y0 + size},"
                                f"{x0} {y0}))")
        g.transform(to_wgs84)
        f = QgsFeature(layer.fields())
        f.setAttributes([float(rng.poisson(5))])
        f.setGeometry(g)
        features.append(f)
    layer.dataProvider().addFeatures(features)
    feedback = RecordingFeedback()
    out = run_hotspots(run_alg, layer, feedback)
    neighbours = [r[0] for r in layer_rows(out, "NNeighbors")]
    expected = [(3 if r in (0, rows - 1) else 5) if c in (0, cols - 1) else (5 if r in (0, rows - 1) else 8)
                for r in range(rows) for c in range(cols)]
    assert neighbours == expected + [0]
    log = "\n".join(feedback.infos + feedback.warnings)
    assert "Snap tolerance 1 m (SNAP_TOLERANCE, in metres of the analysis CRS EPSG:" in log
    assert "within the snap tolerance (1 m)" in log
