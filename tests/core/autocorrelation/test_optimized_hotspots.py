"""Optimized hot spot analysis: scale on the planted demo region, average-distance fallback on noise, decisions, bad input.

Independent references: the planted ground truth of the demo region (cluster centres and radii written by
``core/demo_region.py``), i.i.d. noise (no autocorrelation by construction), and hand-built profiles.
"""

from __future__ import annotations

import numpy as np
import pytest

from creative_clusters_plugin.core.autocorrelation.aggregation import FISHNET, HEXAGON, aggregate_to_grid
from creative_clusters_plugin.core.errors import CreativeClustersError
from creative_clusters_plugin.core.autocorrelation.getis_ord import gi_star
from creative_clusters_plugin.core.autocorrelation.optimized_hotspots import (
    FALLBACK,
    ScaleProfile,
    fallback_band,
    standard_distance,
    choose_scale,
    knn_fallback_k,
    optimized_hot_spots,
    select_band,
)
from creative_clusters_plugin.core.autocorrelation.weights import distance_band_weights


@pytest.fixture(scope="module")
def demo_incidents(demo_region):
    """Creative firms of the demo region (first-SIC rule), as incident points."""
    import geopandas as gpd

    from creative_clusters_plugin.core.firms.sic_classification import classify_frame

    firms = gpd.read_file(demo_region["gpkg"], layer="firms")
    sic = [c for c in firms.columns if c.startswith("SICCode")]
    creative = classify_frame(firms, sic, 0).table["cc_creative"].to_numpy(dtype=bool)
    xy = np.column_stack([firms.geometry.x, firms.geometry.y])[creative]
    return xy, demo_region["truth_data"]["clusters"]


@pytest.mark.parametrize("kind", [FISHNET, HEXAGON])
def test_demo_band_lands_in_planted_cluster_scale(demo_incidents, kind):
    """Planted clusters are discs of radius 550–800 m on a sparse background. The cells are so clustered that
    Moran's I is strongest at the first band and falls after it (no peak), so ArcGIS's fallback applies: a band at
    the average distance to the K = 30 nearest cells (brute force here), of the order of a cluster's diameter,
    and the cells at every planted centre must come out as 99 % hot spots."""
    xy, clusters = demo_incidents
    radii = [c["radius_m"] for c in clusters]
    agg = aggregate_to_grid(xy, kind, cell_size=0)
    result = optimized_hot_spots(agg.centres, agg.counts, what="cells")
    z = result.scale.profile.z
    assert len(result.scale.profile.peaks()) == 0 or z[result.scale.profile.peaks()].max() <= 1.65 or (
        result.scale.method == "first peak")
    if result.scale.method == "first peak":
        assert min(radii) <= result.scale.band <= 2 * max(radii), result.decisions
    else:
        k = knn_fallback_k(len(agg.counts))
        c = agg.centres
        kth = np.sort(np.hypot(c[:, None, 0] - c[None, :, 0], c[:, None, 1] - c[None, :, 1]), axis=1)[:, k]
        assert result.scale.band == pytest.approx(min(kth.mean(), standard_distance(c)), rel=1e-9)
        assert min(radii) <= result.scale.band <= 3 * max(radii), result.decisions
    assert any("Distance band" in d for d in result.decisions)
    assert any("fewer than 8 neighbours" in d for d in result.decisions)
    assert any("Locational outliers" in d for d in result.decisions)
    # the cell holding most incidents within each planted disc is hot (z > 0), and significant (FDR) for most;
    # the fallback band is coarse, so the log points to the first band for finer detail
    z_best, bins = [], []
    for c in clusters:
        within = np.hypot(agg.centres[:, 0] - c["centre"][0], agg.centres[:, 1] - c["centre"][1]) <= c["radius_m"]
        best = np.flatnonzero(within)[np.argmax(agg.counts[within])]
        z_best.append(result.gi.z[best])
        bins.append(result.gi.gi_bin[best])
    assert min(z_best) > 0
    assert np.mean(np.array(bins) > 0) >= 0.6, bins
    if result.scale.method != "first peak" and np.nanargmax(z) == 0:
        assert any("Clustering is strongest at the first band" in d for d in result.decisions)


def _brute_average_kth_distance(xy, k):
    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    return float(np.sort(d, axis=1)[:, k].mean())  # column 0 is the feature itself


def test_noise_falls_back_to_average_knn_band_and_says_so():
    """i.i.d. values on uniform random points have no autocorrelation: with 10 bands tested at z > 1.65
    (one-sided 5 % each, strongly correlated) most samples have no significant peak. The fallback is ArcGIS's:
    a fixed band at the average distance to the K = 5 % nearest neighbours (brute force in the test)."""
    methods = []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        xy = rng.uniform(0, 10_000, (400, 2))
        methods.append(choose_scale(xy, rng.normal(size=400)).method)
    assert methods.count(FALLBACK) >= 28
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 10_000, (400, 2))
    result = optimized_hot_spots(xy, rng.normal(size=400))
    assert result.scale.method == FALLBACK
    assert result.scale.k == knn_fallback_k(400) == 20
    expected = _brute_average_kth_distance(xy, 20)
    assert result.scale.band == pytest.approx(expected, rel=1e-12)
    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    expected_cards = ((d <= expected) & (d > 0)).sum(axis=1)
    assert result.weights.cardinalities.tolist() == expected_cards.tolist()
    assert any(f"Distance band {expected:,.0f} m: the average distance at which each feature finds its 20 nearest" in x
               for x in result.decisions)
    assert (result.gi.gi_bin != 0).sum() <= 4  # FDR keeps false hot spots rare on noise


def test_fallback_band_capped_at_one_standard_distance():
    """Hand-computed: the corners of a 2 m square centred on the origin. K = 3 (the minimum, n − 1 = 3): the
    3rd neighbour is the opposite corner, 2·√2 m away, beyond one standard distance (√2 m), so the band is √2."""
    xy = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
    assert standard_distance(xy) == pytest.approx(np.sqrt(2))
    method, band, k, decision = fallback_band(xy)
    assert (method, k) == ("standard distance", 3)
    assert band == pytest.approx(np.sqrt(2))
    assert "exceeds one standard distance" in decision
    # 40 points on a line 1 m apart: K = 3, average 3rd-neighbour distance (3·34 + 2·... by brute force) < SD
    line = np.c_[np.arange(40.0), np.zeros(40)]
    method, band, k, _ = fallback_band(line)
    assert (method, k) == (FALLBACK, 3)
    assert band == pytest.approx(_brute_average_kth_distance(line, 3))


def test_knn_fallback_k_clamped():
    assert knn_fallback_k(30) == 3
    assert knn_fallback_k(100) == 5
    assert knn_fallback_k(10_000) == 30


def test_select_band_rules():
    d = np.arange(10.0)
    assert select_band(ScaleProfile(d, d, np.array([1, 2, 3, 2, 5, 6, 4, 3, 2, 1.0]))) == ("first peak", 2)
    # first peak below 1.65 is skipped for the next significant one
    assert select_band(ScaleProfile(d, d, np.array([0, 1.5, 1, 2, 3, 2, 1, 1, 1, 1.0]))) == ("first peak", 4)
    # monotone profiles have no interior peak: ArcGIS's average-distance fallback
    assert select_band(ScaleProfile(d, d, np.linspace(9, 1, 10))) == (FALLBACK, None)
    assert select_band(ScaleProfile(d, d, np.linspace(1, 9, 10))) == (FALLBACK, None)
    assert select_band(ScaleProfile(d, d, np.array([0, 1, 0.5, 1.6, 0, 0, 0, 0, 0, 0.0]))) == (FALLBACK, None)


def test_planted_blobs_give_first_peak_near_their_scale():
    """Gaussian bumps of SD 500 m on a 100 m lattice: Moran's I peaks at a band of a few hundred metres."""
    g = np.arange(0, 6000, 100.0)
    xy = np.array([(x, y) for x in g for y in g])
    rng = np.random.default_rng(3)
    centres = rng.uniform(500, 5500, (8, 2))
    v = sum(np.exp(-((xy[:, 0] - cx) ** 2 + (xy[:, 1] - cy) ** 2) / (2 * 500**2)) for cx, cy in centres)
    v = v + rng.normal(0, 0.05, len(v))
    scale = choose_scale(xy, v)
    assert scale.band is not None and 100 <= scale.band <= 1000
    assert scale.start == pytest.approx(100) and scale.step == pytest.approx(100)


def test_locational_outliers_left_out_of_scale_but_kept_in_gi():
    rng = np.random.default_rng(1)
    xy = np.vstack([rng.uniform(0, 1000, (200, 2)), [[50_000, 50_000], [-40_000, 0]]])
    v = rng.normal(size=202)
    result = optimized_hot_spots(xy, v)
    assert result.scale.outliers.tolist()[-2:] == [True, True]
    assert result.scale.outliers[:200].sum() == 0
    assert any("Locational outliers: 2 feature(s)" in d for d in result.decisions)
    if result.scale.band is not None:  # far outliers have no neighbour within the band: NULL
        assert np.isnan(result.gi.z[-2:]).all()
    assert result.scale.start < 1000  # the band was not stretched to reach the outliers


def test_gi_matches_direct_gi_star_with_fdr():
    rng = np.random.default_rng(4)
    xy = rng.uniform(0, 3000, (300, 2))
    v = np.where(np.hypot(xy[:, 0] - 1500, xy[:, 1] - 1500) < 600, 5.0, 1.0) + rng.normal(0, 0.5, 300)
    result = optimized_hot_spots(xy, v)
    assert result.scale.band is not None
    direct = gi_star(v, distance_band_weights(xy, result.scale.band * (1 + 1e-9)), fdr=True)
    np.testing.assert_allclose(result.gi.z, direct.z, equal_nan=True)
    np.testing.assert_array_equal(result.gi.gi_bin, direct.gi_bin)


def test_negative_values_and_duplicates():
    rng = np.random.default_rng(2)
    xy = rng.uniform(0, 2000, (150, 2))
    xy = np.vstack([xy, xy[:50]])  # 50 duplicated locations
    v = xy[:, 0] / 100 + rng.normal(0, 1, 200) - 30  # mostly negative, trending west → east
    result = optimized_hot_spots(xy, v)
    assert any("50 feature(s) share their location" in d for d in result.decisions)
    flipped = optimized_hot_spots(xy, -v)  # Gi* is odd in the values: negating flips hot and cold
    np.testing.assert_allclose(flipped.gi.z, -result.gi.z, equal_nan=True)
    assert (result.gi.gi_bin > 0).any() and (result.gi.gi_bin < 0).any()


def test_bad_input():
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 1000, (29, 2))
    with pytest.raises(CreativeClustersError, match="at least 30 cells.*smaller cell size"):
        optimized_hot_spots(xy, rng.normal(size=29), what="cells")
    with pytest.raises(CreativeClustersError, match="at least 30 features"):
        optimized_hot_spots(xy, rng.normal(size=29))
    with pytest.raises(CreativeClustersError, match="at least 30 polygons.*smaller areas"):
        optimized_hot_spots(xy, rng.normal(size=29), what="polygons")
    xy = rng.uniform(0, 1000, (40, 2))
    with pytest.raises(CreativeClustersError, match="same value.*larger cell size"):
        optimized_hot_spots(xy, np.ones(40), what="cells")
    with pytest.raises(CreativeClustersError, match="no numeric value"):
        optimized_hot_spots(xy, np.r_[np.nan, np.arange(39.0)])
    with pytest.raises(CreativeClustersError, match="distinct location"):
        optimized_hot_spots(np.array([[0, 0]] * 20 + [[1, 1]] * 20, float), np.arange(40.0))


def test_incidents_under_30_cells_message():
    """12 incidents spread so that each holds its own cell: 12 cells < 30 → error saying what to do."""
    xy = np.column_stack([np.arange(12) * 1000.0, np.zeros(12)])
    agg = aggregate_to_grid(xy, FISHNET, cell_size=100)
    with pytest.raises(CreativeClustersError, match="only 12.*bounding polygons"):
        optimized_hot_spots(agg.centres, agg.counts, what="cells")


def test_scale_profile_equals_global_moran_per_band():
    from creative_clusters_plugin.core.autocorrelation.global_moran import global_moran

    rng = np.random.default_rng(8)
    xy = rng.uniform(0, 4000, (250, 2))
    v = np.sin(xy[:, 0] / 700) + rng.normal(0, 0.5, 250)
    scale = choose_scale(xy, v)
    inl = ~scale.outliers  # the scale search runs on the features that are not locational outliers
    for d, z in zip(scale.profile.distances, scale.profile.z):
        w = distance_band_weights(xy[inl], d * (1 + 1e-9))
        assert z == pytest.approx(global_moran(v[inl], w).z_random, rel=1e-9)
