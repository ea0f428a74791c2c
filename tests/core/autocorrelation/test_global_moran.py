"""Global Moran's I against esda ``Moran`` and a hand-worked case.

esda runs in the reference venv (``tests/reference_esda.py`` finds it and skips when it is absent); the weights
go over as a CSR matrix and become a libpysal ``W`` with ``W.from_sparse`` so both sides use the same neighbours.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from creative_clusters_plugin.core.errors import CreativeClustersError
from creative_clusters_plugin.core.autocorrelation.global_moran import global_moran
from creative_clusters_plugin.core.autocorrelation.weights import contiguity_weights, distance_band_weights, knn_weights
from tests.core.autocorrelation.test_getis_ord import lattice, planted_surface

_ESDA_MORAN = r"""
import sys, warnings
import numpy as np
from scipy import sparse
warnings.filterwarnings("ignore")
import esda
from libpysal.weights import W
a = dict(np.load(sys.argv[1]))
out = {}
for k in range(int(a["jobs"])):
    n = int(a[f"n{k}"])
    m = sparse.csr_matrix((a[f"data{k}"], a[f"indices{k}"], a[f"indptr{k}"]), shape=(n, n))
    w = W.from_sparse(m)
    mi = esda.Moran(a[f"y{k}"], w, transformation=str(a[f"t{k}"]), permutations=0)
    for name in ("I", "EI", "VI_norm", "VI_rand", "z_norm", "z_rand", "p_norm", "p_rand"):
        out[f"{name}{k}"] = np.float64(getattr(mi, name))
np.savez(sys.argv[2], **out)
"""


def esda_moran(cases):
    """esda ``Moran`` for each ``(values, matrix, transformation)``; one subprocess for all."""
    from tests.reference_esda import reference_python

    python = reference_python()
    payload = {"jobs": np.int64(len(cases))}
    for k, (y, matrix, t) in enumerate(cases):
        csr = sparse.csr_matrix(matrix, dtype=np.float64)
        csr.sort_indices()
        payload.update({f"n{k}": np.int64(len(y)), f"y{k}": np.asarray(y, float), f"data{k}": csr.data,
                        f"indices{k}": csr.indices.astype(np.int64), f"indptr{k}": csr.indptr.astype(np.int64),
                        f"t{k}": np.array(t)})
    with tempfile.TemporaryDirectory(prefix="cc_moran_") as folder:
        src, dst = Path(folder) / "in.npz", Path(folder) / "out.npz"
        np.savez(src, **payload)
        done = subprocess.run([str(python), "-c", _ESDA_MORAN, str(src), str(dst)], capture_output=True, text=True,
                              timeout=600)
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-3000:])
        with np.load(dst) as r:
            return [{name: float(r[f"{name}{k}"]) for name in ("I", "EI", "VI_norm", "VI_rand", "z_norm", "z_rand",
                                                              "p_norm", "p_rand")} for k in range(len(cases))]


def test_hand_worked_line():
    """x = 1, 2, 3, 10 on a line, band 10 m, binary weights (pairs 0-1, 1-2, 2-3 both ways).

    z = −3, −2, −1, 6; Σz² = 50; S0 = 6; Σ w_ij z_i z_j = 2 (6 + 2 − 6) = 4; I = (4 / 6) · 4 / 50 = 0.053333.
    S1 = ½ Σ (2)² over 6 ordered pairs = 12; row sums 1, 2, 2, 1 → S2 = Σ (2 w_i)² = 4 + 16 + 16 + 4 = 40.
    V_N = (16·12 − 4·40 + 3·36) / (15·36) − 1/9 = 140/540 − 1/9 = 0.148148.
    """
    xy = np.array([[0, 0], [10, 0], [20, 0], [30, 0]], float)
    result = global_moran([1, 2, 3, 10], distance_band_weights(xy, 10), transform="b")
    assert result.I == pytest.approx(4 / 6 * 4 / 50, abs=1e-12)
    assert result.expected == pytest.approx(-1 / 3)
    assert result.variance_normal == pytest.approx(140 / 540 - 1 / 9, abs=1e-12)
    assert result.z_normal == pytest.approx((4 / 75 + 1 / 3) / np.sqrt(140 / 540 - 1 / 9), abs=1e-12)


@pytest.fixture(scope="module")
def cases():
    rng = np.random.default_rng(7)
    pts = rng.uniform(0, 5000, (300, 2))
    surface = planted_surface(20, 20, seed=3)
    lat = contiguity_weights(lattice(20, 20))
    return [
        (surface, lat.matrix, "r"),
        (surface, lat.matrix, "b"),
        (rng.normal(size=300), knn_weights(pts, 6).matrix, "r"),  # asymmetric weights
        (pts[:, 0] + rng.normal(0, 500, 300), distance_band_weights(pts, 600).matrix, "r"),
        (rng.poisson(2.0, 300).astype(float), distance_band_weights(pts, 900).matrix, "b"),
    ]


@pytest.mark.reference
def test_matches_esda_moran(cases):
    reference = esda_moran(cases)
    for (y, matrix, t), ref in zip(cases, reference):
        ours = global_moran(y, matrix, transform=t)
        assert ours.I == pytest.approx(ref["I"], abs=1e-12)
        assert ours.expected == pytest.approx(ref["EI"], abs=1e-15)
        assert ours.variance_normal == pytest.approx(ref["VI_norm"], rel=1e-10)
        assert ours.variance_random == pytest.approx(ref["VI_rand"], rel=1e-10)
        assert ours.z_normal == pytest.approx(ref["z_norm"], rel=1e-9, abs=1e-9)
        assert ours.z_random == pytest.approx(ref["z_rand"], rel=1e-9, abs=1e-9)
        assert ours.p_normal == pytest.approx(ref["p_norm"], rel=1e-8, abs=1e-12)
        assert ours.p_random == pytest.approx(ref["p_rand"], rel=1e-8, abs=1e-12)


def test_planted_surface_is_autocorrelated_and_noise_is_not():
    lat = contiguity_weights(lattice(20, 20))
    assert global_moran(planted_surface(20, 20, seed=3), lat).z_random > 5
    z = [global_moran(np.random.default_rng(s).normal(size=400), lat).z_random for s in range(200)]
    # under the null z ~ N(0, 1): the mean of 200 draws is within 4 SE of 0 and the SD near 1
    assert abs(np.mean(z)) < 4 / np.sqrt(200)
    assert 0.8 < np.std(z) < 1.2


def test_bad_input():
    xy = np.array([[0, 0], [10, 0], [20, 0], [30, 0], [40, 0]], float)
    w = distance_band_weights(xy, 10)
    with pytest.raises(CreativeClustersError, match="same value"):
        global_moran([2, 2, 2, 2, 2], w)
    with pytest.raises(CreativeClustersError, match="NULL"):
        global_moran([1, np.nan, 2, 3, 4], w)
    with pytest.raises(CreativeClustersError, match="at least 4"):
        global_moran([1, 2, 3], distance_band_weights(xy[:3], 10))
    with pytest.raises(CreativeClustersError, match="transformation"):
        global_moran([1, 2, 3, 4, 5], w, transform="v")
    with pytest.raises(CreativeClustersError, match="No feature has a neighbour"):
        global_moran([1, 2, 3, 4, 5], sparse.csr_matrix((5, 5)))


def test_pairs_shortcut_equals_matrix_path():
    """moran_from_pairs (used for the 10 bands of the scale search) = global_moran on the same binary band,
    row-standardised, including coincident points and islands."""
    from creative_clusters_plugin.core.autocorrelation.global_moran import moran_from_pairs

    rng = np.random.default_rng(11)
    xy = np.vstack([rng.uniform(0, 2000, (150, 2)), [[9000, 9000]]])
    xy[:10] = xy[10:20]  # coincident points
    y = rng.gamma(2, 1, len(xy)) + xy[:, 0] / 1000
    w = distance_band_weights(xy, 250)
    assert w.islands[-1]
    coo = sparse.triu(w.matrix, k=1).tocoo()
    fast, slow = moran_from_pairs(y, coo.row, coo.col), global_moran(y, w, transform="r")
    for name in ("I", "variance_normal", "variance_random", "z_normal", "z_random"):
        assert getattr(fast, name) == pytest.approx(getattr(slow, name), rel=1e-10, abs=1e-13), name
