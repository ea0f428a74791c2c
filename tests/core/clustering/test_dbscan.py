"""DBSCAN against scikit-learn on clustered random points (labels, core points, weights) and bad input."""

import numpy as np
import pytest
from sklearn.cluster import DBSCAN

from creative_clusters_plugin.core.clustering.dbscan import dbscan, k_distance, suggest_eps
from creative_clusters_plugin.core.errors import CreativeClustersError


def clustered_points(n, seed, n_centres=12, extent=20_000.0, duplicates=True):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, extent, (n_centres, 2))
    sizes = rng.multinomial(int(n * 0.7), np.ones(n_centres) / n_centres)
    parts = [c + rng.normal(0, rng.uniform(80, 400), (s, 2)) for c, s in zip(centres, sizes)]
    parts.append(rng.uniform(0, extent, (n - sum(sizes), 2)))
    xy = np.vstack(parts)
    if duplicates:  # firms at postcode centroids: whole metres, many identical points
        xy = np.round(xy)
        xy[: n // 20] = xy[n // 20 : 2 * (n // 20)]
    return xy[rng.permutation(len(xy))]


@pytest.mark.parametrize("seed,eps,min_samples", [(1, 250.0, 10), (2, 150.0, 5), (3, 400.0, 30), (4, 60.0, 3)])
def test_labels_equal_sklearn(seed, eps, min_samples):
    xy = clustered_points(20_000, seed)
    ref = DBSCAN(eps=eps, min_samples=min_samples).fit(xy)
    ours = dbscan(xy, eps, min_samples)
    core_ref = np.zeros(len(xy), dtype=bool)
    core_ref[ref.core_sample_indices_] = True
    np.testing.assert_array_equal(ours.core, core_ref)
    # exact equality, border points included (lowest-label rule, documented in the module)
    np.testing.assert_array_equal(ours.labels, ref.labels_)
    assert ours.n_clusters == ref.labels_.max() + 1


def test_weights_equal_sklearn():
    xy = clustered_points(8000, 7)
    w = np.random.default_rng(7).choice([0.25, 0.5, 1.0, 2.0], len(xy))
    ref = DBSCAN(eps=200.0, min_samples=12).fit(xy, sample_weight=w)
    ours = dbscan(xy, 200.0, 12, sample_weight=w)
    np.testing.assert_array_equal(ours.labels, ref.labels_)


def test_small_chunks_same_result():
    xy = clustered_points(5000, 9)
    a = dbscan(xy, 250.0, 10)
    b = dbscan(xy, 250.0, 10, max_pairs=1000)
    np.testing.assert_array_equal(a.labels, b.labels)


def test_all_points_identical():
    xy = np.full((30, 2), 5000.0)
    assert (dbscan(xy, 10.0, 30).labels == 0).all()
    r = dbscan(xy, 10.0, 31)
    assert (r.labels == -1).all() and r.warnings


@pytest.mark.parametrize("eps,min_samples", [(0.0, 5), (-3.0, 5), (np.nan, 5), (10.0, 0)])
def test_bad_parameters(eps, min_samples):
    with pytest.raises(CreativeClustersError):
        dbscan(np.zeros((3, 2)), eps, min_samples)


def test_bad_points():
    with pytest.raises(CreativeClustersError, match="no points"):
        dbscan(np.empty((0, 2)), 10.0, 2)
    with pytest.raises(CreativeClustersError, match="NULL"):
        dbscan(np.array([[0.0, 0.0], [np.nan, 1.0]]), 10.0, 2)


def test_k_distance_and_suggestion():
    xy = clustered_points(3000, 5, duplicates=False)
    from scipy.spatial.distance import cdist

    d = np.sort(cdist(xy, xy), axis=1)[:, 9]  # 10th nearest, the point itself first
    np.testing.assert_allclose(k_distance(xy, 10), np.sort(d))
    eps, curve = suggest_eps(xy, 10)
    assert curve.min() < eps < curve.max()
