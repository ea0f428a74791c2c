"""Gi* against esda, a dense evaluation of the Ord–Getis formula and hand-worked numbers.

Monte Carlo tolerance for pseudo p-values (used below and in test_local_moran.py)
---------------------------------------------------------------------------------
A folded pseudo p ``p̂ = (M + 1)/(R + 1)`` counts ``M ~ Binomial(R, p)`` simulated statistics in the smaller
tail, so ``SE(p̂) ≈ sqrt(p (1 − p) / R)``. esda and this code draw independent permutations, so their
difference has ``SD ≈ sqrt(2 p (1 − p) / R)``. We allow ``4.5 SD`` per feature (estimating ``p`` by the mean
of the two values) plus ``2 / (R + 1)`` for the "+1" terms and discreteness: with 900 features a correct
implementation exceeds it with probability ≈ 900 × 7e-6 < 1 %. Folding (taking the smaller tail) only
shrinks the variance, and the bound still holds at p ≈ 0.5.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from scipy import sparse
from shapely.geometry import box

from creative_clusters_plugin.core.autocorrelation.conditional_permutation import (
    conditional_permutation_counts,
    permutation_table,
)
from creative_clusters_plugin.core.errors import CancelledError, CreativeClustersError
from creative_clusters_plugin.core.autocorrelation.getis_ord import gi_star
from creative_clusters_plugin.core.autocorrelation.significance import SIGNIFICANCE_TWO_SIDED, confidence_bins, two_sided_p
from creative_clusters_plugin.core.autocorrelation.weights import (
    SpatialWeights,
    contiguity_weights,
    distance_band_weights,
    inverse_distance_weights,
    knn_weights,
)

R = 999


def lattice(rows, cols):
    return [box(c, r, c + 1, r + 1) for r in range(rows) for c in range(cols)]


def planted_surface(rows, cols, seed=0):
    """A hot spot, a cold spot and noise on a lattice (continuous values: no ties)."""
    rng = np.random.default_rng(seed)
    r, c = np.divmod(np.arange(rows * cols), cols)
    hot = 6 * np.exp(-((r - rows * 0.3) ** 2 + (c - cols * 0.3) ** 2) / 12)
    cold = -4 * np.exp(-((r - rows * 0.75) ** 2 + (c - cols * 0.7) ** 2) / 10)
    return 10 + hot + cold + rng.normal(0, 1, rows * cols)


def dense_gi_star(x, w):
    """The ArcGIS/Ord–Getis formula evaluated literally on a dense matrix (self weight 1)."""
    x = np.asarray(x, float)
    n = len(x)
    w = np.array(w, dtype=float)
    np.fill_diagonal(w, 1.0)
    xbar = x.sum() / n
    s = np.sqrt((x**2).sum() / n - xbar**2)
    out = np.empty(n)
    for i in range(n):
        wi = w[i].sum()
        s1 = (w[i] ** 2).sum()
        out[i] = (w[i] @ x - xbar * wi) / (s * np.sqrt((n * s1 - wi**2) / (n - 1)))
    return out


def mc_tolerance(p_a, p_b, permutations):
    p = np.clip((p_a + p_b) / 2, 0, 1)
    return 4.5 * np.sqrt(2 * p * (1 - p) / permutations) + 2.0 / (permutations + 1)


# --- the statistic ---------------------------------------------------------------------------------
def test_hand_worked_line():
    """Four points 10 m apart, band 10 m, x = 1, 2, 3, 10 (x̄ = 4, S = sqrt(12.5)).

    i=0: (3 − 4·2) / (S sqrt((4·2 − 4)/3)) = −5 / sqrt(50/3) = −1.224745
    i=1: (6 − 4·3) / (S sqrt((4·3 − 9)/3)) = −6 / sqrt(12.5) = −1.697056
    i=2: (15 − 12) / sqrt(12.5) = 0.848528,  i=3: 5 / sqrt(50/3) = 1.224745
    """
    xy = np.array([[0, 0], [10, 0], [20, 0], [30, 0]], float)
    result = gi_star([1, 2, 3, 10], distance_band_weights(xy, 10))
    np.testing.assert_allclose(result.z, [-1.224745, -1.697056, 0.848528, 1.224745], atol=1e-6)
    np.testing.assert_allclose(result.p, 2 * (1 - __import__("scipy").stats.norm.cdf(np.abs(result.z))), atol=1e-12)
    assert result.n_neighbors.tolist() == [1, 2, 2, 1]
    assert result.pseudo_p is None
    assert any("unreliable" in m for m in result.warnings)  # fewer than 30 features


def test_inverse_distance_equals_dense_formula():
    rng = np.random.default_rng(5)
    xy = rng.uniform(0, 5000, size=(250, 2))
    x = rng.gamma(2.0, 3.0, 250)
    for power in (1, 2):
        for cutoff in (None, 1200.0):
            w = inverse_distance_weights(xy, power=power, threshold=cutoff)
            np.testing.assert_allclose(gi_star(x, w).z, dense_gi_star(x, w.matrix.toarray()), atol=1e-10)


def test_invariant_to_row_standardisation():
    w = knn_weights(np.random.default_rng(2).uniform(0, 100, (120, 2)), 6)
    x = np.random.default_rng(3).normal(size=120)
    full = w.matrix + sparse.identity(120)  # Gi* weights, self included
    rows = np.asarray(full.sum(axis=1)).ravel()
    standardised = sparse.diags(1 / rows) @ full  # explicit diagonal = the (scaled) self weights
    np.testing.assert_allclose(gi_star(x, standardised).z, gi_star(x, w).z, atol=1e-12)


def test_negative_values_and_shift_invariance():
    w = knn_weights(np.random.default_rng(4).uniform(0, 100, (80, 2)), 5)
    x = np.random.default_rng(5).normal(size=80)
    np.testing.assert_allclose(gi_star(x - 50, w).z, gi_star(x, w).z, atol=1e-10)
    np.testing.assert_allclose(gi_star(x - 50, w).z, dense_gi_star(x - 50, w.matrix.toarray()), atol=1e-10)


@pytest.fixture(scope="module")
def lattice_case():
    w = contiguity_weights(lattice(30, 30))
    return w, planted_surface(30, 30)


@pytest.fixture(scope="module")
def esda_lattice(lattice_case):
    from tests.reference_esda import run_reference

    w, x = lattice_case
    analytic, permuted = run_reference(
        [
            {"kind": "g_local", "values": x, "matrix": w.matrix},
            {"kind": "g_local", "values": x, "matrix": w.matrix, "permutations": R, "seed": 12345},
        ]
    )
    return analytic, permuted


@pytest.mark.reference
def test_lattice_equals_esda(lattice_case, esda_lattice):
    w, x = lattice_case
    result = gi_star(x, w)
    np.testing.assert_allclose(result.z, esda_lattice[0]["Zs"], atol=1e-9, rtol=0)
    # esda's p_norm is one-sided; ours is two-sided
    np.testing.assert_allclose(result.p, two_sided_p(esda_lattice[0]["Zs"]), atol=1e-12)


@pytest.mark.reference
def test_pseudo_p_agrees_with_esda_within_monte_carlo_error(lattice_case, esda_lattice):
    w, x = lattice_case
    ours = gi_star(x, w, permutations=R, seed=7, alternative="folded").pseudo_p
    theirs = esda_lattice[1]["p_sim"]
    tol = mc_tolerance(ours, theirs, R)
    assert np.all(np.abs(ours - theirs) <= tol), np.max(np.abs(ours - theirs) - tol)
    assert abs(np.mean(ours - theirs)) <= np.mean(tol)
    np.testing.assert_array_equal(gi_star(x, w, permutations=R, seed=7).pseudo_p, ours)  # the default
    two_sided = gi_star(x, w, permutations=R, seed=7, significance=SIGNIFICANCE_TWO_SIDED).pseudo_p
    np.testing.assert_allclose(two_sided, np.minimum(1, 2 * ours))


@pytest.mark.reference
@pytest.mark.shared_data
def test_real_polygons_equal_esda(shared_data):
    """South Yorkshire MSOAs (queen, EPSG:27700), number of firms per MSOA."""
    from tests.core.real_data import require_files, south_yorkshire_msoas
    from tests.reference_esda import run_reference

    require_files(shared_data)
    msoa, counts = south_yorkshire_msoas(shared_data)
    jobs = []
    cases = []
    for rook in (False, True):
        w = contiguity_weights(msoa.geometry, rook=rook)
        cases.append(w)
        jobs.append({"kind": "g_local", "values": counts, "matrix": w.matrix})
    xy = np.column_stack([msoa.geometry.representative_point().x, msoa.geometry.representative_point().y])
    w = knn_weights(xy, 8)
    cases.append(w)
    jobs.append({"kind": "g_local", "values": counts, "matrix": w.matrix})
    for w, ref in zip(cases, run_reference(jobs)):
        assert not w.islands.any()
        np.testing.assert_allclose(gi_star(counts, w).z, ref["Zs"], atol=1e-9, rtol=0)


# --- permutation engine ----------------------------------------------------------------------------
def brute_force_counts(x, matrix, permutations, seed):
    """Literal conditional permutation with the engine's lookup table: draw t -> observation t + (t >= i)."""
    matrix = sparse.csr_matrix(matrix)
    n = len(x)
    xc = x - x.mean()
    cards = np.diff(matrix.indptr)
    table = permutation_table(n, cards.max(), permutations, np.random.default_rng(seed))
    ge = np.full(n, -1)
    le = np.full(n, -1)
    for i in range(n):
        a, b = matrix.indptr[i], matrix.indptr[i + 1]
        if a == b:
            continue
        weights = matrix.data[a:b]
        observed = weights @ xc[matrix.indices[a:b]]
        drawn = table[:, : b - a]
        others = drawn + (drawn >= i)
        assert not np.any(others == i)
        sims = (xc[others] * weights).sum(axis=1)
        ge[i] = np.count_nonzero(sims >= observed - 1e-9)
        le[i] = np.count_nonzero(sims <= observed + 1e-9)
    return ge, le


@pytest.mark.parametrize("case", ["lattice", "inverse_distance", "knn_with_islands", "tiny"])
def test_fast_engine_equals_brute_force(case):
    rng = np.random.default_rng(11)
    permutations = 199
    if case == "lattice":  # equal weights, cardinalities 3, 5, 8
        w = contiguity_weights(lattice(12, 12)).matrix
        n = 144
    elif case == "inverse_distance":  # unequal weights
        n = 150
        w = inverse_distance_weights(rng.uniform(0, 1000, (n, 2)), threshold=250).matrix
    elif case == "tiny":  # few table entries: most observations see no entry between them
        n = 12
        w = contiguity_weights(lattice(3, 4)).matrix
        permutations = 3
    else:  # asymmetric kNN plus rows emptied to make islands
        n = 130
        w = knn_weights(rng.uniform(0, 1000, (n, 2)), 4).matrix.tolil()
        w[5, :] = 0
        w[77, :] = 0
        w = w.tocsr()
        w.eliminate_zeros()
    x = rng.gamma(2, 2, n)
    counts = conditional_permutation_counts(x, w, permutations, seed=3)
    ge, le = brute_force_counts(x, w, permutations, 3)
    np.testing.assert_array_equal(counts.n_ge, ge)
    np.testing.assert_array_equal(counts.n_le, le)


def test_permutation_table_rows_are_distinct_and_uniform():
    table = permutation_table(50, 8, 4000, np.random.default_rng(0))
    assert table.min() >= 0 and table.max() <= 48
    assert all(len(set(row)) == 8 for row in table)
    freq = np.bincount(table.ravel(), minlength=49) / table.size
    assert np.allclose(freq, 1 / 49, atol=0.004)
    dense = permutation_table(10, 9, 200, np.random.default_rng(1))  # every other value drawn
    assert all(sorted(row) == list(range(9)) for row in dense)


def test_same_seed_same_result_and_seed_matters():
    w = knn_weights(np.random.default_rng(1).uniform(0, 100, (300, 2)), 6)
    x = np.random.default_rng(2).normal(size=300)
    a = gi_star(x, w, permutations=199, seed=42)
    b = gi_star(x, w, permutations=199, seed=42)
    c = gi_star(x, w, permutations=199, seed=43)
    np.testing.assert_array_equal(a.pseudo_p, b.pseudo_p)
    np.testing.assert_array_equal(a.gi_bin, b.gi_bin)
    assert not np.array_equal(a.pseudo_p, c.pseudo_p)
    # bins come from the pseudo p-values when permutations are run
    np.testing.assert_array_equal(a.gi_bin, confidence_bins(a.z, a.pseudo_p))


def test_permutations_never_hold_n_by_r():
    n, permutations = 20_000, 999
    w = knn_weights(np.random.default_rng(0).uniform(0, 1e5, (n, 2)), 8)
    x = np.random.default_rng(1).gamma(2, 2, n)
    tracemalloc.start()
    try:
        gi_star(x, w, permutations=permutations, seed=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    n_by_r = n * permutations * 8
    # O(n + nnz + block): about 20 MB here, against 160 MB for one n × R float array
    assert peak < n_by_r / 5, (peak, n_by_r)


def test_callback_progress_and_cancel():
    w = knn_weights(np.random.default_rng(1).uniform(0, 100, (500, 2)), 6)
    x = np.random.default_rng(2).normal(size=500)
    seen = []
    gi_star(x, w, permutations=99, seed=1, callback=lambda f: seen.append(f) or False)
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)
    with pytest.raises(CancelledError):
        gi_star(x, w, permutations=99, seed=1, callback=lambda f: f > 0.3)


# --- bad input -------------------------------------------------------------------------------------
def test_islands_are_nan_with_a_warning():
    xy = np.array([[0, 0], [1, 0], [2, 0], [100, 100]] + [[3 + i, 0] for i in range(40)], float)
    x = np.random.default_rng(0).normal(size=len(xy))
    result = gi_star(x, distance_band_weights(xy, 1.5), permutations=99, seed=1)
    assert np.isnan(result.z[3]) and np.isnan(result.p[3]) and np.isnan(result.pseudo_p[3])
    assert result.gi_bin[3] == 0 and result.n_neighbors[3] == 0
    assert np.isfinite(np.delete(result.z, 3)).all()
    assert any("islands" in m for m in result.warnings)


def test_all_islands_is_an_error():
    w = SpatialWeights(sparse.csr_matrix((5, 5)))
    with pytest.raises(CreativeClustersError, match="No feature has a neighbour"):
        gi_star([1, 2, 3, 4, 5], w)


@pytest.mark.parametrize("n", [1, 2])
def test_fewer_than_three_features_is_an_error(n):
    with pytest.raises(CreativeClustersError, match="at least 3"):
        gi_star(np.arange(n, dtype=float), sparse.csr_matrix(np.ones((n, n)) - np.eye(n)))


def test_zero_variance_and_missing_values_are_errors():
    w = knn_weights(np.random.default_rng(0).uniform(size=(40, 2)), 3)
    with pytest.raises(CreativeClustersError, match="same value"):
        gi_star(np.full(40, 7.0), w)
    x = np.arange(40, dtype=float)
    x[3] = np.nan
    with pytest.raises(CreativeClustersError, match="no numeric value"):
        gi_star(x, w)
    with pytest.raises(CreativeClustersError):
        gi_star(np.arange(39.0), w)  # length mismatch


def test_duplicate_points_give_finite_scores():
    rng = np.random.default_rng(9)
    xy = rng.uniform(0, 1000, (60, 2))
    xy[1] = xy[0]
    xy[2] = xy[0]
    x = rng.poisson(4, 60).astype(float)
    for w in (knn_weights(xy, 5), distance_band_weights(xy, 0), inverse_distance_weights(xy, 2, 400)):
        z = gi_star(x, w).z
        assert np.isfinite(z[:3]).all()
        np.testing.assert_allclose(z, dense_gi_star(x, w.matrix.toarray()), atol=1e-10)


def test_inputs_are_never_modified():
    w = knn_weights(np.random.default_rng(0).uniform(size=(50, 2)), 4)
    matrix_before = w.matrix.copy()
    x = np.random.default_rng(1).normal(size=50)
    x_before = x.copy()
    gi_star(x, w, permutations=49, seed=1, fdr=True)
    np.testing.assert_array_equal(x, x_before)
    assert (w.matrix != matrix_before).nnz == 0


def test_fdr_with_too_few_permutations_warns():
    """With R = 99 the smallest two-sided pseudo p is 0.02: FDR at 99 % over 100 features can never pass."""
    w = contiguity_weights(lattice(10, 10))
    x = planted_surface(10, 10)
    few = gi_star(x, w, permutations=99, seed=1, fdr=True)
    assert any("permutations" in m and "understated" in m for m in few.warnings)
    enough = gi_star(x, w, permutations=99, seed=1, fdr=False)
    assert not any("understated" in m for m in enough.warnings)
    assert np.all(np.abs(few.gi_bin) < 3)


def _gi_by_hand(x, matrix):
    """Getis & Ord (1992) Gi, one feature at a time, straight from the paper's definitions."""
    dense = np.asarray(matrix.todense(), dtype=float)
    n = len(x)
    out = np.empty(n)
    for i in range(n):
        others = np.arange(n) != i
        w = dense[i, others]
        xo = x[others]
        mean, s = xo.mean(), xo.std()
        W, S1 = w.sum(), (w**2).sum()
        out[i] = (w @ xo - W * mean) / (s * np.sqrt(((n - 1) * S1 - W**2) / (n - 2)))
    return out


def test_non_star_gi_leaves_the_feature_out_of_its_mean_and_variance():
    rng = np.random.default_rng(2)
    xy = rng.uniform(0, 1000, (60, 2))
    x = rng.poisson(5, 60).astype(float)
    w = knn_weights(xy, 5)
    ours = gi_star(x, w, star=False).z
    np.testing.assert_allclose(ours, _gi_by_hand(x, w.matrix), rtol=1e-12, atol=1e-12)
    assert np.max(np.abs(ours - gi_star(x, w).z)) > 0.05  # not Gi*


@pytest.mark.reference
def test_non_star_gi_equals_esda():
    from tests.reference_esda import run_reference

    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 1000, (200, 2))
    x = rng.gamma(2, 3, 200)
    w = knn_weights(xy, 6)
    (reference,) = run_reference([{"kind": "g_local", "values": x, "matrix": w.matrix, "star": False}])
    np.testing.assert_allclose(gi_star(x, w, star=False).z, reference["Zs"], rtol=1e-9, atol=1e-9)
