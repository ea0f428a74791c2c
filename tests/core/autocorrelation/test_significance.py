"""Normal p-values, Benjamini–Hochberg and ArcGIS confidence bins against hand-worked cases and scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from creative_clusters_plugin.core.errors import CreativeClustersError
from creative_clusters_plugin.core.autocorrelation.significance import (
    benjamini_hochberg,
    confidence_bins,
    significant,
    two_sided_p,
)


def test_two_sided_p_matches_scipy_norm():
    z = np.array([-3.2, -1.96, 0.0, 0.5, 1.645, 2.576, np.nan])
    expected = 2 * stats.norm.sf(np.abs(z))
    np.testing.assert_allclose(two_sided_p(z), expected, rtol=1e-12, equal_nan=True)
    assert two_sided_p(1.959963984540054) == pytest.approx(0.05, rel=1e-12)


def test_benjamini_hochberg_hand_worked():
    # sorted: .005 <= .01, .01 <= .02, .03 <= .03, .04 <= .04, .2 > .05  -> the four smallest
    p = np.array([0.01, 0.04, 0.03, 0.005, 0.2])
    assert benjamini_hochberg(p, 0.05).tolist() == [True, True, True, True, False]
    # step-up: p_(2) fails its own threshold but p_(3) passes, so both are kept
    p = np.array([0.001, 0.03, 0.031])
    assert benjamini_hochberg(p, 0.05).tolist() == [True, True, True]
    assert benjamini_hochberg(np.array([0.5, 0.6]), 0.05).tolist() == [False, False]


def test_benjamini_hochberg_ignores_nan():
    p = np.array([0.01, np.nan, 0.02, np.nan])
    # m = 2 valid values: thresholds .025 and .05
    assert benjamini_hochberg(p, 0.05).tolist() == [True, False, True, False]
    assert not benjamini_hochberg(np.full(3, np.nan), 0.05).any()
    with pytest.raises(CreativeClustersError):
        benjamini_hochberg(p, 1.5)


@pytest.mark.reference
def test_benjamini_hochberg_agrees_with_scipy_false_discovery_control():
    from tests.reference_esda import scipy_fdr_bh

    rng = np.random.default_rng(3)
    p = np.concatenate([rng.uniform(0, 0.02, 40), rng.uniform(0, 1, 400)])
    adjusted = scipy_fdr_bh(p)
    for alpha in (0.10, 0.05, 0.01):
        np.testing.assert_array_equal(benjamini_hochberg(p, alpha), adjusted <= alpha)


def test_confidence_bins_without_fdr():
    z = np.array([3.0, -2.7, 2.0, -1.7, 1.0, 0.0, np.nan])
    p = two_sided_p(z)
    assert confidence_bins(z, p).tolist() == [3, -3, 2, -1, 0, 0, 0]
    assert confidence_bins(z, p).dtype == np.int8


def test_confidence_bins_with_fdr_apply_bh_per_level():
    rng = np.random.default_rng(0)
    z = np.concatenate([rng.normal(0, 1, 300), [4.0, 3.0, -2.8, 2.2, 1.8]])
    p = two_sided_p(z)
    bins = confidence_bins(z, p, fdr=True)
    for alpha, level in ((0.10, 1), (0.05, 2), (0.01, 3)):
        mask = benjamini_hochberg(p, alpha)
        assert np.all(np.abs(bins[mask]) >= level)
        assert np.all(np.abs(bins[~mask]) < level)
    # FDR is stricter than the raw p-values
    assert np.count_nonzero(bins) <= np.count_nonzero(confidence_bins(z, p))
    assert np.all(np.sign(bins[bins != 0]) == np.sign(z[bins != 0]))


def test_significant_threshold_is_inclusive():
    assert significant(np.array([0.05, 0.0500001, np.nan]), 0.05).tolist() == [True, False, False]
    assert significant(np.array([2 * 5 / 100]), 0.10).tolist() == [True]


def test_shape_mismatch():
    with pytest.raises(CreativeClustersError):
        confidence_bins(np.zeros(3), np.zeros(4))
