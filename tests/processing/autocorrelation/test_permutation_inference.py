"""Permutation inference with one rule for Gi* and local Moran: the p-value and the bin's direction come from
the same permutation distribution; the SIGNIFICANCE convention (GeoDa/esda by default, two-sided on request);
results that do not depend on the order the features arrive in."""

from __future__ import annotations

import numpy as np
import pytest

from creative_clusters_plugin.core.autocorrelation.conditional_permutation import PermutationCounts, canonical_order
from creative_clusters_plugin.core.autocorrelation.getis_ord import gi_star
from creative_clusters_plugin.core.autocorrelation.significance import SIGNIFICANCE_FOLDED, SIGNIFICANCE_TWO_SIDED
from creative_clusters_plugin.core.autocorrelation.weights import knn_weights
from tests.processing.stats_helpers import RecordingFeedback, layer_rows, points_layer


def test_conventions_on_hand_counted_permutations():
    """R = 999; features whose lag is beaten by 0, 5, 999 and 500 simulations (ties included)."""
    counts = PermutationCounts(n_ge=np.array([0, 5, 999, 500, -1]), n_le=np.array([999, 995, 0, 500, -1]),
                               permutations=999)
    p, high = counts.test(SIGNIFICANCE_FOLDED)
    # GeoDa / esda: M = sims ≥ observed; p = (min(M, R − M) + 1) / (R + 1)
    np.testing.assert_allclose(p[:4], [1 / 1000, 6 / 1000, 1 / 1000, 500 / 1000])
    assert high[:4].tolist() == [True, True, False, False] and np.isnan(p[4]) and not high[4]
    p2, high2 = counts.test(SIGNIFICANCE_TWO_SIDED)
    np.testing.assert_allclose(p2[:4], [2 / 1000, 12 / 1000, 2 / 1000, 1.0])
    assert high2[:3].tolist() == [True, True, False]
    # a statistic that falls with the lag (local Moran below the mean) reads the counts the other way
    p3, high3 = counts.test(SIGNIFICANCE_FOLDED, direction=np.array([-1, -1, -1, -1, 1]))
    np.testing.assert_allclose(p3[:3], [1 / 1000, 5 / 1000, 1 / 1000])  # M = 995 sims ≤ observed lag
    assert high3[:3].tolist() == [False, False, True]


def _contradiction_case():
    """A feature at 60 whose six neighbours are 6, the rest of 200 points about 10."""
    rng = np.random.default_rng(4)
    xy = rng.uniform(0, 10_000, (200, 2))
    values = rng.normal(10, 1, 200)
    centre = 0
    w = knn_weights(xy, 6)
    values[centre] = 60.0
    values[w.matrix[centre].indices] = 6.0
    return xy, values, w, centre


def test_a_gi_bin_follows_the_tail_its_p_value_came_from():
    xy, values, w, centre = _contradiction_case()
    result = gi_star(values, w, permutations=999, seed=1)
    assert result.z[centre] > 1.96  # the feature's own value pulls z up …
    assert result.pseudo_p[centre] <= 0.01  # … while its neighbours are unusually low
    assert result.gi_bin[centre] == -3  # binned by the tail that gave the p-value, never +3
    assert any("opposite direction to their GiZScore" in w for w in result.warnings)
    analytic = gi_star(values, w)
    assert analytic.gi_bin[centre] > 0  # without permutations the sign of z decides, as ArcGIS


def test_significance_parameter_and_log(run_alg):
    xy, values, _, centre = _contradiction_case()
    layer = points_layer(xy, values)
    feedback = RecordingFeedback()
    common = {"INPUT": layer, "FIELD": "v", "WEIGHTS": 3, "K": 6, "PERMUTATIONS": 999, "SEED": 1,
              "OUTPUT": "memory:"}
    folded = run_alg("hotspots", common, feedback=feedback)["OUTPUT"]
    assert any("geoda" in m.lower() for m in feedback.infos)
    two_sided = run_alg("hotspots", {**common, "SIGNIFICANCE": 1})["OUTPUT"]
    p0 = np.array([r[0] for r in layer_rows(folded, "GiPseudoP")])
    p1 = np.array([r[0] for r in layer_rows(two_sided, "GiPseudoP")])
    np.testing.assert_allclose(p1, np.minimum(1, 2 * p0))  # continuous data: no ties
    bins0 = np.array([r[0] for r in layer_rows(folded, "Gi_Bin")])
    bins1 = np.array([r[0] for r in layer_rows(two_sided, "Gi_Bin")])
    assert (bins0 != 0).sum() >= (bins1 != 0).sum()  # the conservative rule calls fewer features
    assert bins0[centre] == -3


@pytest.mark.parametrize("algorithm,field", [("hotspots", "GiPseudoP"), ("localmoran", "LMiPValue")])
def test_the_same_seed_gives_the_same_result_in_any_order(run_alg, algorithm, field):
    rng = np.random.default_rng(8)
    xy = rng.uniform(0, 5_000, (300, 2))
    values = rng.poisson(4, 300).astype(float)  # ties in the values too
    values[:20] += 10
    shuffle = rng.permutation(300)
    outputs = []
    for order in (np.arange(300), shuffle):
        layer = points_layer(xy[order], values[order])
        out = run_alg(algorithm, {"INPUT": layer, "FIELD": "v", "WEIGHTS": 3, "K": 8, "PERMUTATIONS": 499,
                                  "SEED": 5, "OUTPUT": "memory:"})["OUTPUT"]
        rows = {}
        for f in out.getFeatures():
            point = f.geometry().asPoint()
            rows[(round(point.x(), 6), round(point.y(), 6))] = f[field]
        outputs.append(rows)
    assert outputs[0] == outputs[1]


def test_canonical_order_ignores_arrival_order():
    rng = np.random.default_rng(0)
    xy = rng.integers(0, 5, (50, 2)).astype(float)  # many ties in x and y
    values = rng.integers(0, 3, 50).astype(float)
    order = canonical_order(xy, values)
    shuffle = rng.permutation(50)
    again = canonical_order(xy[shuffle], values[shuffle])
    np.testing.assert_array_equal(np.column_stack([xy[order], values[order]]),
                                  np.column_stack([xy[shuffle][again], values[shuffle][again]]))


def test_star_off_gives_getis_ord_gi(run_alg):
    rng = np.random.default_rng(6)
    xy = rng.uniform(0, 5_000, (120, 2))
    values = rng.poisson(5, 120).astype(float)
    layer = points_layer(xy, values)
    feedback = RecordingFeedback()
    out = run_alg("hotspots", {"INPUT": layer, "FIELD": "v", "WEIGHTS": 3, "K": 6, "STAR": False,
                               "OUTPUT": "memory:"}, feedback=feedback)["OUTPUT"]
    z = np.array([r[0] for r in layer_rows(out, "GiZScore")])
    np.testing.assert_allclose(z, gi_star(values, knn_weights(xy, 6), star=False).z, rtol=1e-12)
    assert any("Getis & Ord 1992" in m for m in feedback.infos)
