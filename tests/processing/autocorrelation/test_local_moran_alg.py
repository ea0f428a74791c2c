"""creativeclusters:localmoran through Processing: index against the formula, COType, log, bad input, demo."""

from __future__ import annotations

import numpy as np
import pytest
from qgis.core import QgsProcessingException
from scipy import stats

from tests.core.autocorrelation.test_weights import lattice_truth
from tests.processing.stats_helpers import (
    RecordingFeedback,
    as_float,
    demo_areas_with_counts,
    lattice_layer,
    layer_rows,
    points_layer,
)

FIELDS = ["LMiIndex", "LMiZScore", "LMiPValue", "NNeighbors", "COType"]


def run_local_moran(run_alg, layer, feedback=None, **params):
    parameters = {"INPUT": layer, "FIELD": "v", "WEIGHTS": 0, "OUTPUT": "memory:"}
    parameters.update(params)
    return run_alg("localmoran", parameters, feedback=feedback)["OUTPUT"]


def dense_local_moran(values, binary):
    """esda / GeoDa: I_i = (n − 1) z_i Σ_j w_ij z_j / Σ z², row-standardised w, written out on a dense matrix."""
    z = values - values.mean()
    w = binary / binary.sum(axis=1, keepdims=True)
    return (len(values) - 1) * z * (w @ z) / (z @ z)


def dense_local_moran_arcgis(values, binary):
    """ArcGIS Pro: I_i = z_i / S_i² · Σ_j w_ij z_j, S_i² = Σ_{j≠i} z_j² / (n − 1)."""
    z = values - values.mean()
    w = binary / binary.sum(axis=1, keepdims=True)
    return (len(values) - 1) * z * (w @ z) / (z @ z - z**2)


def with_outliers():
    """12 × 12 lattice: a 4 × 4 hot block (+8) with one low cell inside (LH), a 4 × 4 cold block (−6) with
    one high cell inside (HL), noise elsewhere."""
    rng = np.random.default_rng(3)
    values = 10 + rng.normal(0, 1, 144)
    r, c = np.divmod(np.arange(144), 12)
    values[(r < 4) & (c < 4)] += 8
    values[(r >= 8) & (c >= 8)] -= 6
    values[1 * 12 + 1] = 2.0  # low among high
    values[10 * 12 + 10] = 22.0  # high among low
    return values


def test_lattice_index_cotype_and_default_permutations(run_alg):
    values = with_outliers()
    feedback = RecordingFeedback()
    out = run_local_moran(run_alg, lattice_layer(values, 12), feedback, SEED=3)
    assert out.fields().names() == ["v", "name"] + FIELDS
    rows = layer_rows(out, *FIELDS)
    truth = lattice_truth(12, 12, rook=False).astype(float)
    # the default index convention is ArcGIS Pro's (S_i² without feature i)
    np.testing.assert_allclose([r[0] for r in rows], dense_local_moran_arcgis(values, truth), atol=1e-9)
    assert any("Index convention: ArcGIS Pro" in m for m in feedback.infos)
    assert [r[3] for r in rows] == truth.sum(axis=1).astype(int).tolist()
    p = np.array([r[2] for r in rows])
    # default 999 permutations, GeoDa's and esda's folded pseudo p-values (M + 1) / 1000, at most 0.5 (1 at the mean)
    grid = p * 1000
    assert np.all((p == 1.0) | (np.isclose(grid, np.round(grid)) & (p <= 0.5)))
    assert any("999 permutations" in m and "geoda" in m.lower() for m in feedback.infos)
    cotype = [r[4] for r in rows]
    assert cotype[10 * 12 + 10] == "HL"
    assert cotype[1 * 12 + 1] == "LH"
    assert cotype[2 * 12 + 2] == "HH" and cotype[2 * 12 + 1] == "HH"
    assert cotype[9 * 12 + 9] == "LL" and cotype[9 * 12 + 10] == "LL"
    significant = np.array([c != "" for c in cotype])
    np.testing.assert_array_equal(significant, p <= 0.05)
    assert any("Significant at 95 %" in m for m in feedback.infos)


def test_index_convention_esda_same_p_and_cotype(run_alg):
    """INDEX_CONVENTION = 1 gives esda's and GeoDa's index; the pseudo p-values and COTypes do not change."""
    values = with_outliers()
    layer = lattice_layer(values, 12)
    truth = lattice_truth(12, 12, rook=False).astype(float)
    feedback = RecordingFeedback()
    esda = layer_rows(run_local_moran(run_alg, layer, feedback, SEED=5, PERMUTATIONS=199, INDEX_CONVENTION=1), *FIELDS)
    arcgis = layer_rows(run_local_moran(run_alg, layer, SEED=5, PERMUTATIONS=199, INDEX_CONVENTION=0), *FIELDS)
    default = layer_rows(run_local_moran(run_alg, layer, SEED=5, PERMUTATIONS=199), *FIELDS)
    assert default == arcgis
    np.testing.assert_allclose([r[0] for r in esda], dense_local_moran(values, truth), atol=1e-9)
    np.testing.assert_allclose([r[0] for r in arcgis], dense_local_moran_arcgis(values, truth), atol=1e-9)
    assert any("Index convention: esda / GeoDa" in m for m in feedback.infos)
    assert [r[2:] for r in esda] == [r[2:] for r in arcgis]  # LMiPValue, NNeighbors, COType
    assert not np.allclose([r[1] for r in esda], [r[1] for r in arcgis])  # LMiZScore differs


def test_analytic_only_reports_normal_p(run_alg):
    values = with_outliers()
    out = run_local_moran(run_alg, lattice_layer(values, 12), PERMUTATIONS=0)
    rows = layer_rows(out, *FIELDS)
    z = np.array([r[1] for r in rows])
    np.testing.assert_allclose([r[2] for r in rows], 2 * stats.norm.sf(np.abs(z)), atol=1e-12)
    np.testing.assert_array_equal([r[4] != "" for r in rows], np.array([r[2] for r in rows]) <= 0.05)
    fdr = run_local_moran(run_alg, lattice_layer(values, 12), PERMUTATIONS=0, FDR=True)
    assert sum(f["COType"] != "" for f in fdr.getFeatures()) <= sum(r[4] != "" for r in rows)


def test_same_seed_same_result(run_alg):
    layer = lattice_layer(with_outliers(), 12)
    a, b = (run_local_moran(run_alg, layer, PERMUTATIONS=199, SEED=11) for _ in range(2))
    assert layer_rows(a, *FIELDS) == layer_rows(b, *FIELDS)


def test_nulls_islands_and_points(run_alg):
    rng = np.random.default_rng(2)
    xy = [(0, 0), (0, 0), (10, 0), (9000, 9000)] + [(20 + 10 * i, 0) for i in range(40)]
    values = list(rng.normal(10, 2, len(xy)))
    values[10] = None
    feedback = RecordingFeedback()
    out = run_local_moran(run_alg, points_layer(xy, values), feedback, WEIGHTS=2, DISTANCE=15, PERMUTATIONS=99)
    rows = layer_rows(out, *FIELDS)
    assert all(as_float(v) is None for v in rows[10][:3]) and rows[10][4] is None or not rows[10][4]
    assert as_float(rows[3][0]) is None and rows[3][3] == 0  # island
    assert rows[0][3] == 2  # coincident points are neighbours
    assert any("1 feature(s) have a NULL" in m for m in feedback.warnings)
    assert any("islands" in m for m in feedback.warnings)


def test_bad_input_and_input_untouched(run_alg):
    with pytest.raises(QgsProcessingException, match="at least 3"):
        run_local_moran(run_alg, lattice_layer([1.0, None, 2.0], 3))
    with pytest.raises(QgsProcessingException, match="same value"):
        run_local_moran(run_alg, lattice_layer([2.0] * 9, 3))
    with pytest.raises(QgsProcessingException, match="needs polygons"):
        run_local_moran(run_alg, points_layer([(0, 0), (5, 5), (9, 9)], [1, 2, 3]), WEIGHTS=1)
    feedback = RecordingFeedback()
    layer = lattice_layer(np.arange(9.0) - 4, 3)  # negative values are fine
    before = [f.attributes() for f in layer.getFeatures()]
    run_local_moran(run_alg, layer, feedback, WEIGHTS=1)
    assert any("unreliable" in m for m in feedback.warnings)
    assert [f.attributes() for f in layer.getFeatures()] == before


@pytest.mark.slow
def test_demo_region_planted_clusters_are_high_high(run_alg, demo_region, provider):
    from qgis.core import QgsApplication

    areas = demo_areas_with_counts(demo_region, QgsApplication.processingRegistry())
    out = run_alg(
        "localmoran",
        {"INPUT": areas, "FIELD": "n_creative", "WEIGHTS": 0, "PERMUTATIONS": 999, "SEED": 1, "OUTPUT": "memory:"},
    )["OUTPUT"]
    rows = {f["area_id"]: f for f in out.getFeatures()}
    clusters = demo_region["truth_data"]["clusters"]
    centres = [rows[cluster["centre_area_id"]]["COType"] for cluster in clusters]
    # local Moran also asks the neighbours to be high: a planted cluster that sits mostly in one area can fall
    # just short of 95 %, so ask for most centres (Gi*, which counts the area itself, finds all of them)
    assert sum(c == "HH" for c in centres) >= 0.75 * len(clusters), list(zip([c["name"] for c in clusters], centres))
    assert not any(c in ("LL", "LH") for c in centres)
    clustered = sum(1 for f in out.getFeatures() if f["COType"] == "HH")
    assert clustered < 0.35 * out.featureCount()
