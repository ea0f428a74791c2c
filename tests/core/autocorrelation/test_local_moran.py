"""Local Moran's I against esda ``Moran_Local`` and hand-worked numbers.

The pseudo p-value tolerance is derived in ``test_getis_ord.py``: ``4.5 × sqrt(2 p (1 − p) / R) + 2/(R + 1)``
per feature (two independent Monte Carlo estimates of the same folded p, each with binomial
``SE = sqrt(p (1 − p) / R)``).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse, stats

from creative_clusters_plugin.core.errors import CancelledError, CreativeClustersError
from creative_clusters_plugin.core.autocorrelation.local_moran import (
    INDEX_ARCGIS,
    INDEX_ESDA,
    QUADRANT_LABELS,
    local_moran,
)
from creative_clusters_plugin.core.autocorrelation.significance import SIGNIFICANCE_TWO_SIDED, benjamini_hochberg
from creative_clusters_plugin.core.autocorrelation.weights import (
    SpatialWeights,
    contiguity_weights,
    distance_band_weights,
    inverse_distance_weights,
    knn_weights,
)
from tests.core.autocorrelation.test_getis_ord import lattice, mc_tolerance, planted_surface

R = 999


def test_hand_worked_line():
    """esda / GeoDa convention. x = 1, 2, 3, 10 on a line, band 10 m, row-standardised: z = −3, −2, −1, 6,
    Σz² = 50, n = 4.

    I_i = (n − 1) z_i lag_i / Σz²: I_0 = 3·(−3)(−2)/50 = 0.36, I_1 = 3·(−2)(−2)/50 = 0.24,
    I_2 = 3·(−1)(2)/50 = −0.12, I_3 = 3·6·(−1)/50 = −0.36.
    Moments: m2 = 12.5, m4 = 348.5, b2 = 2.23040. For i = 0 (w_i = 1, w_i(2) = 1):
    V = (4 − b2)/3 − 1/9 = 0.478756, E = −1/3, z = (0.36·4/3 + 1/3)/sqrt(V) = 1.175470.
    For i = 1 (w_i(2) = 1/2): V = 0.5(4 − b2)/3 + 0.5(2 b2 − 4)/6 − 1/9 = 0.222222, z = 1.385929.
    """
    xy = np.array([[0, 0], [10, 0], [20, 0], [30, 0]], float)
    result = local_moran([1, 2, 3, 10], distance_band_weights(xy, 10), permutations=0, index_convention="esda")
    np.testing.assert_allclose(result.I, [0.36, 0.24, -0.12, -0.36], atol=1e-12)
    np.testing.assert_allclose(result.z[:2], [1.175470, 1.385929], atol=1e-6)
    assert result.quadrant.tolist() == [3, 3, 2, 4]  # LL, LL, LH, HL
    assert result.pseudo_p is None
    np.testing.assert_array_equal(result.reported_p, result.p)


def test_hand_worked_line_arcgis():
    """ArcGIS Pro convention (the default), same line: S_i² = Σ_{j≠i} z_j² / (n − 1).

    i = 0: S² = (4 + 1 + 36)/3 = 41/3, lag = −2, I = (−3)(−2)/(41/3) = 18/41 = 0.439024;
    b_20 = 3 (16 + 1 + 1296)/41² = 2.343248, V = (4 − b)/3 − 1/9 = 0.441140, E = −1/3,
    z = (18/41 + 1/3)/sqrt(V) = 1.162868.
    i = 1: S² = 46/3, lag = −2, I = 12/46 = 0.260870; w_i(2) = 1/2 so b cancels: V = 2/9, z = 1.260495.
    i = 3: S² = 14/3, lag = −1, I = −18/14 = −1.285714.
    """
    xy = np.array([[0, 0], [10, 0], [20, 0], [30, 0]], float)
    result = local_moran([1, 2, 3, 10], distance_band_weights(xy, 10), permutations=0)
    assert result.index_convention == INDEX_ARCGIS
    np.testing.assert_allclose(result.I[[0, 1, 3]], [18 / 41, 12 / 46, -18 / 14], atol=1e-12)
    np.testing.assert_allclose(result.z[:2], [1.162868, 1.260495], atol=1e-6)
    assert result.quadrant.tolist() == [3, 3, 2, 4]


def arcgis_by_loops(x, dense):
    """ArcGIS Pro's Cluster and Outlier Analysis written out with explicit loops over j ≠ i, k ≠ h."""
    n = len(x)
    xbar = sum(x) / n
    out_i, out_e, out_v, out_z = [], [], [], []
    for i in range(n):
        row_sum = sum(dense[i][j] for j in range(n) if j != i)
        w = [dense[i][j] / row_sum if j != i else 0.0 for j in range(n)]
        s2 = sum((x[j] - xbar) ** 2 for j in range(n) if j != i) / (n - 1)
        index = (x[i] - xbar) / s2 * sum(w[j] * (x[j] - xbar) for j in range(n) if j != i)
        expected = -sum(w[j] for j in range(n) if j != i) / (n - 1)
        fourth = sum((x[j] - xbar) ** 4 for j in range(n) if j != i)
        second = sum((x[j] - xbar) ** 2 for j in range(n) if j != i)
        b2i = (n - 1) * fourth / second**2
        a = (n - b2i) * sum(w[j] ** 2 for j in range(n) if j != i) / (n - 1)
        cross = sum(w[k] * w[h] for k in range(n) for h in range(n) if k != i and h != i and k != h)
        b = (2 * b2i - n) * cross / ((n - 1) * (n - 2))
        variance = a + b - expected**2
        out_i.append(index)
        out_e.append(expected)
        out_v.append(variance)
        out_z.append((index - expected) / variance**0.5)
    return [np.array(v) for v in (out_i, out_e, out_v, out_z)]


def test_arcgis_convention_equals_explicit_loops():
    """Six features, explicit asymmetric non-binary weights (row-standardised), a skewed variable."""
    x = [3.0, 7.5, 1.2, 12.0, 4.4, 9.1]
    dense = [
        [0, 1, 2, 0, 0, 1],
        [1, 0, 1, 3, 0, 0],
        [2, 1, 0, 1, 1, 0],
        [0, 3, 1, 0, 2, 1],
        [0, 0, 1, 2, 0, 4],
        [1, 0, 0, 1, 4, 0],
    ]
    index, expected, variance, z = arcgis_by_loops(x, dense)
    result = local_moran(x, sparse.csr_matrix(np.array(dense, float)), permutations=0, index_convention="arcgis")
    np.testing.assert_allclose(result.I, index, atol=1e-12)
    np.testing.assert_allclose(result.z, z, atol=1e-12)
    assert np.all(variance > 0) and np.allclose(expected, -1 / 5)
    np.testing.assert_allclose(result.p, 2 * stats.norm.sf(np.abs(z)), atol=1e-12)
    # the two indices differ by Σ_k z_k² / Σ_{j≠i} z_j² > 1 per feature, same sign
    esda = local_moran(x, sparse.csr_matrix(np.array(dense, float)), permutations=0, index_convention=INDEX_ESDA)
    zz = (np.array(x) - np.mean(x)) ** 2
    np.testing.assert_allclose(result.I, esda.I * zz.sum() / (zz.sum() - zz), atol=1e-12)
    np.testing.assert_array_equal(result.quadrant, esda.quadrant)
    assert not np.allclose(result.z, esda.z)


def test_both_conventions_share_pseudo_p_and_cotype():
    """S_i² is the same in every conditional permutation of i's neighbours: the ranking, the pseudo p and the
    COType cannot depend on the convention; only LMiIndex and LMiZScore do."""
    w = contiguity_weights(lattice(20, 20))
    x = planted_surface(20, 20, seed=6)
    for significance in (0, SIGNIFICANCE_TWO_SIDED):
        arcgis = local_moran(x, w, permutations=499, seed=17, significance=significance)
        esda = local_moran(x, w, permutations=499, seed=17, significance=significance, index_convention="geoda")
        np.testing.assert_array_equal(arcgis.pseudo_p, esda.pseudo_p)
        np.testing.assert_array_equal(arcgis.cotype, esda.cotype)
        assert (arcgis.cotype != "").sum() > 10
        assert np.all(np.sign(arcgis.I) == np.sign(esda.I)) and np.all(np.abs(arcgis.I) >= np.abs(esda.I))
        assert not np.allclose(arcgis.I, esda.I)
    with pytest.raises(CreativeClustersError, match="index_convention"):
        local_moran(x, w, permutations=0, index_convention="arcmap")


@pytest.fixture(scope="module")
def lattice_case():
    return contiguity_weights(lattice(30, 30)), planted_surface(30, 30, seed=1)


@pytest.fixture(scope="module")
def esda_lattice(lattice_case):
    from tests.reference_esda import run_reference

    w, x = lattice_case
    return run_reference([{"kind": "moran_local", "values": x, "matrix": w.matrix, "permutations": R, "seed": 2024}])[0]


@pytest.mark.reference
def test_lattice_index_and_z_equal_esda(lattice_case, esda_lattice):
    w, x = lattice_case
    result = local_moran(x, w, permutations=0, index_convention=INDEX_ESDA)
    np.testing.assert_allclose(result.I, esda_lattice["Is"], atol=1e-9, rtol=0)
    np.testing.assert_allclose(result.z, esda_lattice["z"], atol=1e-9, rtol=0)
    np.testing.assert_array_equal(result.quadrant, esda_lattice["q"])


@pytest.mark.reference
def test_lattice_pseudo_p_and_cotype_agree_with_esda(lattice_case, esda_lattice):
    w, x = lattice_case
    result = local_moran(x, w, permutations=R, seed=99, alternative="folded")
    theirs = esda_lattice["p_sim"]
    tol = mc_tolerance(result.pseudo_p, theirs, R)
    assert np.all(np.abs(result.pseudo_p - theirs) <= tol), np.max(np.abs(result.pseudo_p - theirs) - tol)
    # COType: esda's quadrant label wherever we call the feature significant, blank elsewhere
    significant = result.cotype != ""
    assert significant.sum() > 20
    expected = np.array([QUADRANT_LABELS[q] for q in esda_lattice["q"]], dtype=object)
    np.testing.assert_array_equal(result.cotype[significant], expected[significant])
    # the default convention is GeoDa's and esda's: the folded pseudo p compared with 0.05 directly
    np.testing.assert_array_equal(significant, result.pseudo_p <= 0.05)
    conservative = local_moran(x, w, permutations=R, seed=99, significance=SIGNIFICANCE_TWO_SIDED)
    np.testing.assert_allclose(conservative.pseudo_p, np.minimum(1, 2 * result.pseudo_p))
    np.testing.assert_array_equal(conservative.cotype != "", conservative.pseudo_p <= 0.05)
    assert (conservative.cotype != "").sum() < significant.sum()
    assert set(result.cotype[significant]) <= {"HH", "LL", "HL", "LH"}
    assert {"HH", "LL"} <= set(result.cotype[significant])


@pytest.mark.reference
@pytest.mark.shared_data
def test_real_polygons_equal_esda(shared_data):
    """South Yorkshire MSOAs: firms per km² (continuous) with queen and kNN(6) weights."""
    from tests.core.real_data import require_files, south_yorkshire_msoas
    from tests.reference_esda import run_reference

    require_files(shared_data)
    msoa, counts = south_yorkshire_msoas(shared_data)
    density = counts / (msoa.geometry.area.to_numpy() / 1e6)
    points = msoa.geometry.representative_point()
    cases = [contiguity_weights(msoa.geometry), knn_weights(np.column_stack([points.x, points.y]), 6)]
    jobs = [{"kind": "moran_local", "values": density, "matrix": w.matrix} for w in cases]
    jobs.append({"kind": "moran_local", "values": counts, "matrix": cases[0].matrix})
    refs = run_reference(jobs)
    for (w, values), ref in zip([(cases[0], density), (cases[1], density), (cases[0], counts)], refs):
        result = local_moran(values, w, permutations=0, index_convention=INDEX_ESDA)
        np.testing.assert_allclose(result.I, ref["Is"], atol=1e-9, rtol=0)
        np.testing.assert_allclose(result.z, ref["z"], atol=1e-9, rtol=0)
        np.testing.assert_array_equal(result.quadrant, ref["q"])


def test_value_at_the_mean_has_pseudo_p_one():
    """z_i = 0 makes I_i = 0 in every permutation: not evidence of anything (esda would report 1/(R+1))."""
    rng = np.random.default_rng(0)
    x = rng.permutation(np.arange(61.0) - 30)  # mean exactly 0
    at_mean = int(np.flatnonzero(x == 0)[0])
    w = knn_weights(rng.uniform(size=(61, 2)), 5)
    result = local_moran(x, w, permutations=199, seed=1)
    assert result.I[at_mean] == 0.0
    assert result.pseudo_p[at_mean] == 1.0
    assert result.cotype[at_mean] == ""


def test_fdr_is_stricter_and_uses_benjamini_hochberg():
    w = contiguity_weights(lattice(25, 25))
    x = planted_surface(25, 25, seed=4)
    plain = local_moran(x, w, permutations=0)
    fdr = local_moran(x, w, permutations=0, fdr=True)
    assert np.count_nonzero(fdr.cotype != "") <= np.count_nonzero(plain.cotype != "")
    np.testing.assert_array_equal(fdr.cotype != "", benjamini_hochberg(plain.p, 0.05))
    np.testing.assert_array_equal(plain.cotype != "", plain.p <= 0.05)


def test_inverse_distance_weights_are_row_standardised():
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 1000, (90, 2))
    x = rng.gamma(2, 2, 90)
    w = inverse_distance_weights(xy, power=1, threshold=300)
    dense = w.matrix.toarray()
    rows = dense.sum(axis=1, keepdims=True)
    standardised = np.divide(dense, rows, out=np.zeros_like(dense), where=rows > 0)
    z = x - x.mean()
    expected = (len(x) - 1) * z * (standardised @ z) / (z @ z)
    result = local_moran(x, w, permutations=99, seed=5, index_convention="esda")
    finite = ~w.islands
    np.testing.assert_allclose(result.I[finite], expected[finite], atol=1e-12)
    assert np.all((result.pseudo_p[finite] > 0) & (result.pseudo_p[finite] <= 1))


def test_same_seed_same_result():
    w = knn_weights(np.random.default_rng(1).uniform(0, 100, (200, 2)), 5)
    x = np.random.default_rng(2).normal(size=200)
    a = local_moran(x, w, permutations=199, seed=8)
    b = local_moran(x, w, permutations=199, seed=8)
    np.testing.assert_array_equal(a.pseudo_p, b.pseudo_p)
    np.testing.assert_array_equal(a.cotype, b.cotype)
    np.testing.assert_array_equal(a.reported_p, a.pseudo_p)


def test_islands_are_null_with_a_warning():
    xy = np.array([[0, 0], [1, 0], [2, 0], [100, 100]] + [[3 + i, 0] for i in range(40)], float)
    x = np.random.default_rng(0).normal(size=len(xy))
    result = local_moran(x, distance_band_weights(xy, 1.5), permutations=99, seed=1)
    assert np.isnan(result.I[3]) and np.isnan(result.z[3]) and np.isnan(result.pseudo_p[3])
    assert result.cotype[3] is None and result.quadrant[3] == 0 and result.n_neighbors[3] == 0
    assert any("islands" in m for m in result.warnings)


def test_bad_input():
    w = knn_weights(np.random.default_rng(0).uniform(size=(40, 2)), 3)
    with pytest.raises(CreativeClustersError, match="at least 3"):
        local_moran([1.0, 2.0], sparse.csr_matrix(np.array([[0, 1.0], [1.0, 0]])))
    with pytest.raises(CreativeClustersError, match="same value"):
        local_moran(np.full(40, 3.0), w)
    x = np.arange(40, dtype=float)
    x[0] = np.nan
    with pytest.raises(CreativeClustersError, match="no numeric value"):
        local_moran(x, w)
    with pytest.raises(CreativeClustersError, match="No feature has a neighbour"):
        local_moran(np.arange(5.0), SpatialWeights(sparse.csr_matrix((5, 5))))
    small = local_moran(np.arange(10.0), knn_weights(np.random.default_rng(1).uniform(size=(10, 2)), 3), 19, seed=1)
    assert any("unreliable" in m for m in small.warnings)
    with pytest.raises(CancelledError):
        local_moran(np.arange(40.0), w, permutations=99, callback=lambda f: f > 0.5)


def test_negative_values_and_inputs_not_modified():
    w = knn_weights(np.random.default_rng(0).uniform(size=(50, 2)), 4)
    x = np.random.default_rng(1).normal(size=50) - 100
    before, matrix_before = x.copy(), w.matrix.copy()
    result = local_moran(x, w, permutations=49, seed=1)
    shifted = local_moran(x + 100, w, permutations=49, seed=1)
    np.testing.assert_allclose(result.I, shifted.I, atol=1e-9)
    np.testing.assert_allclose(result.z, shifted.z, atol=1e-9)
    np.testing.assert_array_equal(x, before)
    assert (w.matrix != matrix_before).nnz == 0
