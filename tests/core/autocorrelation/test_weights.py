"""Spatial weights against independent truths: lattice geometry, brute-force distances, libpysal, GEOS."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy import sparse
from scipy.spatial.distance import cdist
from shapely.geometry import MultiPolygon, Point, Polygon, box

from creative_clusters_plugin.core.errors import CreativeClustersError
from creative_clusters_plugin.core.autocorrelation.weights import (
    DENSE_LIMIT,
    SpatialWeights,
    WeightsKind,
    build_weights,
    contiguity_weights,
    distance_band_weights,
    inverse_distance_weights,
    knn_weights,
    min_connecting_distance,
)


def lattice(rows, cols, size=100.0):
    return [box(c * size, r * size, (c + 1) * size, (r + 1) * size) for r in range(rows) for c in range(cols)]


def lattice_truth(rows, cols, rook):
    """Neighbours of a regular lattice from cell coordinates alone (no geometry)."""
    r, c = np.divmod(np.arange(rows * cols), cols)
    dr = np.abs(r[:, None] - r[None, :])
    dc = np.abs(c[:, None] - c[None, :])
    near = (dr + dc == 1) if rook else ((dr <= 1) & (dc <= 1) & (dr + dc > 0))
    return near


def as_dense_bool(weights: SpatialWeights):
    return weights.matrix.toarray() != 0


# --- contiguity ------------------------------------------------------------------------------------
@pytest.mark.parametrize("rook", [False, True])
@pytest.mark.parametrize("tol", [0.0, 0.5])
def test_lattice_contiguity_matches_cell_arithmetic(rook, tol):
    w = contiguity_weights(lattice(7, 9), rook=rook, snap_tolerance=tol)
    assert w.kind == (WeightsKind.ROOK if rook else WeightsKind.QUEEN)
    np.testing.assert_array_equal(as_dense_bool(w), lattice_truth(7, 9, rook))
    assert np.all(w.matrix.data == 1.0)
    assert (w.matrix != w.matrix.T).nnz == 0


def test_input_types_give_the_same_weights():
    geoms = lattice(4, 5)
    import geopandas as gpd

    reference = contiguity_weights(geoms).matrix
    for variant in (gpd.GeoSeries(geoms), gpd.GeoDataFrame(geometry=geoms), [g.wkb for g in geoms]):
        assert (contiguity_weights(variant).matrix != reference).nnz == 0


def test_wkb_big_endian_and_3d_are_parsed():
    from shapely import wkb as shapely_wkb

    geoms = lattice(3, 3)
    z_geoms = [Polygon([(x, y, 5.0) for x, y in g.exterior.coords]) for g in geoms]
    big_endian = [shapely_wkb.dumps(g, big_endian=True) for g in z_geoms]
    np.testing.assert_array_equal(as_dense_bool(contiguity_weights(big_endian)), lattice_truth(3, 3, False))


def test_gap_needs_snap_tolerance():
    a, b = box(0, 0, 10, 10), box(10.4, 0, 20, 10)  # 0.4 m gap
    assert contiguity_weights([a, b]).islands.all()
    for rook in (False, True):
        w = contiguity_weights([a, b], rook=rook, snap_tolerance=0.5)
        assert w.cardinalities.tolist() == [1, 1]


def test_corner_contact_is_queen_not_rook():
    a, b = box(0, 0, 10, 10), box(10, 10, 20, 20)
    for tol in (0.0, 0.1):
        assert contiguity_weights([a, b], snap_tolerance=tol).cardinalities.tolist() == [1, 1]
        assert contiguity_weights([a, b], rook=True, snap_tolerance=tol).cardinalities.tolist() == [0, 0]


def test_t_junction_is_a_shared_edge():
    """A long edge against two short ones: no vertex is shared, yet the edges are (libpysal misses this)."""
    big = box(0, 0, 20, 10)
    left, right = box(0, 10, 10, 20), box(10, 10, 20, 20)
    # make 'big' have no vertex at x=10 on its top edge
    w = contiguity_weights([big, left, right], rook=True)
    assert as_dense_bool(w)[0].tolist() == [False, True, True]


def test_sliver_overlap_counts_as_neighbours():
    a = Polygon([(0, 0), (10, 0), (10.02, 10), (0, 10)])
    b = Polygon([(10, 0), (20, 0), (20, 10), (10.01, 10)])  # overlaps a by a sliver, no shared vertex
    for rook in (False, True):
        assert contiguity_weights([a, b], rook=rook, snap_tolerance=0.05).cardinalities.tolist() == [1, 1]


def test_hole_and_multipolygon():
    donut = Polygon([(0, 0), (30, 0), (30, 30), (0, 30)], [[(10, 10), (20, 10), (20, 20), (10, 20)]])
    core = box(10, 10, 20, 20)
    islands = MultiPolygon([box(100, 0, 110, 10), box(30, 0, 40, 10)])  # second part touches the donut
    far = box(500, 500, 510, 510)
    w = contiguity_weights([donut, core, islands, far], rook=True)
    assert as_dense_bool(w).astype(int).tolist() == [
        [0, 1, 1, 0],
        [1, 0, 0, 0],
        [1, 0, 0, 0],
        [0, 0, 0, 0],
    ]
    assert any("no neighbour" in m for m in w.warnings)


def test_empty_geometry_is_an_island_and_points_are_refused():
    geoms = lattice(2, 2) + [None]
    w = contiguity_weights(geoms)
    assert w.cardinalities[-1] == 0 and w.n == 5
    assert any("no polygon geometry" in m for m in w.warnings)
    with pytest.raises(CreativeClustersError, match="polygons"):
        contiguity_weights([Point(0, 0), Point(1, 1)])
    with pytest.raises(CreativeClustersError):
        contiguity_weights([box(0, 0, 1, 1)])


def test_lattice_36100_is_fast():
    geoms = [g.wkb for g in lattice(190, 190)]
    start = time.perf_counter()
    w = contiguity_weights(geoms)
    elapsed = time.perf_counter() - start
    assert np.bincount(w.cardinalities).tolist()[3:] == [4, 0, 752, 0, 0, 35344]
    assert elapsed < 10, elapsed


@pytest.mark.shared_data
@pytest.mark.reference
def test_real_polygons_match_libpysal(shared_data):
    """South Yorkshire MSOAs: libpysal's vertex rule is a subset of ours; every extra pair is a true contact."""
    import subprocess
    import tempfile
    from pathlib import Path

    from shapely import wkb as shapely_wkb

    from tests.core.real_data import require_files, south_yorkshire_msoas
    from tests.reference_esda import reference_python

    require_files(shared_data)
    python = reference_python()
    msoa, _ = south_yorkshire_msoas(shared_data)
    blobs = [g.wkb for g in msoa.geometry]
    script = (
        "import sys, numpy as np, shapely, geopandas as gpd\n"
        "from libpysal.weights import Queen, Rook\n"
        "d = np.load(sys.argv[1], allow_pickle=True)\n"
        "g = gpd.GeoDataFrame(geometry=shapely.from_wkb(list(d['wkb'])))\n"
        "out = {}\n"
        "for cls in (Queen, Rook):\n"
        "    s = cls.from_dataframe(g, use_index=False, silence_warnings=True).sparse.tocsr()\n"
        "    out[cls.__name__] = s.toarray() != 0\n"
        "np.savez(sys.argv[2], **out)\n"
    )
    with tempfile.TemporaryDirectory() as folder:
        src, dst = Path(folder) / "in.npz", Path(folder) / "out.npz"
        np.savez(src, wkb=np.array(blobs, dtype=object))
        subprocess.run([str(python), "-c", script, str(src), str(dst)], check=True, timeout=600)
        ref = dict(np.load(dst))
    geoms = [shapely_wkb.loads(b) for b in blobs]
    for rook, name in ((False, "Queen"), (True, "Rook")):
        ours = as_dense_bool(contiguity_weights(blobs, rook=rook))
        assert not np.any(ref[name] & ~ours), f"{name}: libpysal neighbours missing"
        for i, j in zip(*np.nonzero(ours & ~ref[name])):
            assert geoms[i].distance(geoms[j]) == 0.0
        assert (ours & ~ref[name]).sum() <= 0.01 * ref[name].sum()


# --- distance based --------------------------------------------------------------------------------
@pytest.fixture
def points():
    rng = np.random.default_rng(42)
    xy = rng.uniform(0, 10_000, size=(400, 2))
    xy[10] = xy[11]  # a duplicate pair
    xy[20] = xy[21] = xy[22]  # a triple
    return xy


def test_min_connecting_distance_is_the_largest_nearest_neighbour_distance(points):
    d = cdist(points, points)
    np.fill_diagonal(d, np.inf)
    assert min_connecting_distance(points) == pytest.approx(d.min(axis=1).max(), rel=1e-12)


def test_distance_band_matches_brute_force(points):
    d = cdist(points, points)
    for threshold in (300.0, 800.0):
        w = distance_band_weights(points, threshold)
        truth = (d <= threshold) & ~np.eye(len(points), dtype=bool)
        np.testing.assert_array_equal(as_dense_bool(w), truth)
        assert w.threshold == threshold
    assert w.matrix[10, 11] == 1 and w.matrix[20, 22] == 1
    assert any("share their location" in m for m in w.warnings)


def test_automatic_band_connects_everyone(points):
    w = distance_band_weights(points, 0)
    assert not w.islands.any()
    assert w.threshold == pytest.approx(min_connecting_distance(points))
    assert any("smallest band" in m for m in w.warnings)


def test_knn_matches_brute_force(points):
    k = 6
    w = knn_weights(points, k)
    d = cdist(points, points)
    np.fill_diagonal(d, np.inf)
    assert np.all(w.cardinalities == k)
    dense = w.matrix.toarray()
    for i in range(len(points)):
        chosen = np.flatnonzero(dense[i])
        assert i not in chosen
        kth = np.sort(d[i])[k - 1]
        assert np.all(d[i, chosen] <= kth + 1e-9)  # the k nearest (ties at the k-th distance allowed)
    # coincident points are each other's neighbours
    assert dense[20, 21] and dense[20, 22] and dense[21, 20] and dense[10, 11]


def test_knn_with_many_coincident_points_excludes_self():
    xy = np.zeros((6, 2))
    xy[5] = (100, 0)
    w = knn_weights(xy, 2)
    assert np.all(w.cardinalities == 2)
    assert np.all(w.matrix.diagonal() == 0)
    w = knn_weights(xy, 10)
    assert np.all(w.cardinalities == 5)
    assert any("k = 10" in m for m in w.warnings)


def test_inverse_distance_matches_dense_formula(points):
    d = np.maximum(cdist(points, points), 1.0)
    for power in (1, 2):
        truth = 1.0 / d**power
        np.fill_diagonal(truth, 0.0)
        w = inverse_distance_weights(points, power=power)
        np.testing.assert_allclose(w.matrix.toarray(), truth, rtol=1e-12)
        cut = inverse_distance_weights(points, power=power, threshold=700)
        np.testing.assert_allclose(cut.matrix.toarray(), np.where(cdist(points, points) <= 700, truth, 0), rtol=1e-12)
    # coincident points get the finite weight of 1 m
    assert w.matrix[10, 11] == 1.0


def test_inverse_distance_without_cutoff_is_refused_when_large():
    xy = np.random.default_rng(0).uniform(0, 1e5, size=(DENSE_LIMIT + 1, 2))
    with pytest.raises(CreativeClustersError, match="cut-off"):
        inverse_distance_weights(xy)
    with pytest.raises(CreativeClustersError, match="power"):
        inverse_distance_weights(xy[:10], power=3)


def test_build_weights_dispatches_on_the_public_enum(points):
    assert [k.value for k in WeightsKind] == [0, 1, 2, 3, 4]
    assert [k.name for k in WeightsKind] == ["QUEEN", "ROOK", "DISTANCE_BAND", "KNN", "INVERSE_DISTANCE"]
    assert build_weights(3, xy=points, k=4).kind == WeightsKind.KNN
    assert build_weights(2, xy=points, distance=500).threshold == 500
    assert build_weights(4, xy=points, distance=500, power=2).threshold == 500
    assert build_weights(0, geometries=lattice(3, 3)).kind == WeightsKind.QUEEN
    with pytest.raises(CreativeClustersError):
        build_weights(0, xy=points)
    with pytest.raises(CreativeClustersError):
        build_weights(7, xy=points)


def test_bad_coordinates():
    with pytest.raises(CreativeClustersError):
        knn_weights(np.array([[0.0, np.nan], [1, 1], [2, 2]]), 1)
    with pytest.raises(CreativeClustersError):
        distance_band_weights(np.array([[0.0, 0.0]]), 10)


def test_inputs_are_not_modified(points):
    before = points.copy()
    knn_weights(points, 5)
    distance_band_weights(points, 0)
    inverse_distance_weights(points, threshold=500)
    np.testing.assert_array_equal(points, before)


def test_spatial_weights_is_canonical():
    m = sparse.csr_matrix(np.array([[2.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 5.0]]))
    w = SpatialWeights(m)
    assert w.matrix.diagonal().tolist() == [0, 0, 0]
    assert w.cardinalities.tolist() == [1, 1, 0]
    assert w.islands.tolist() == [False, False, True]
    with pytest.raises(CreativeClustersError):
        SpatialWeights(sparse.csr_matrix(np.array([[0.0, -1.0], [1.0, 0.0]])))


def test_a_band_that_links_everything_is_refused_before_building(monkeypatch):
    """30,000 points with a 1,000 km band: 900 million links, tens of GB. Refused up front, in words."""
    import time

    from creative_clusters_plugin.core.autocorrelation import weights as weights_module
    from creative_clusters_plugin.core.errors import CreativeClustersError

    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 20_000, (30_000, 2))
    start = time.perf_counter()
    with pytest.raises(CreativeClustersError, match="needs about .* of memory.*smaller distance"):
        weights_module.distance_band_weights(xy, 1e6)
    assert time.perf_counter() - start < 20  # counted, not built
    # a sensible band still works, and the budget follows the memory available
    monkeypatch.setattr(weights_module, "available_memory", lambda: 8 * 2**30)
    assert weights_module.distance_band_weights(xy, 150).matrix.nnz > 0
