"""HDBSCAN against scikit-learn's HDBSCAN (>= 1.3, in the reference venv .venv-ref), plus edge cases."""

import subprocess
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from creative_clusters_plugin.core.errors import CreativeClustersError
from creative_clusters_plugin.core.clustering.hdbscan_clustering import hdbscan

REF_PYTHON = Path(__file__).resolve().parents[3] / ".venv-ref" / "bin" / "python"
REF_CODE = """
import sys, json, numpy as np
try:
    from sklearn.cluster import HDBSCAN
except ImportError:
    try:
        from hdbscan import HDBSCAN
    except ImportError:
        print("MISSING"); sys.exit(0)
X = np.load(sys.argv[1]); mcs = int(sys.argv[2])
kw = {"copy": True} if "copy" in HDBSCAN.__init__.__code__.co_varnames else {}
np.save(sys.argv[3], HDBSCAN(min_cluster_size=mcs, **kw).fit(X).labels_)
print("OK")
"""


def reference_labels(xy, min_cluster_size, tmp_path):
    if not REF_PYTHON.exists():
        pytest.skip("reference venv .venv-ref absent")
    src, dst = tmp_path / "x.npy", tmp_path / "labels.npy"
    np.save(src, xy)
    out = subprocess.run([str(REF_PYTHON), "-c", REF_CODE, str(src), str(min_cluster_size), str(dst)],
                         capture_output=True, text=True, timeout=120)
    if out.returncode != 0 or "MISSING" in out.stdout:
        pytest.skip(f"no HDBSCAN reference in .venv-ref: {out.stderr[-300:]}")
    return np.load(dst)


def clustered(n, seed):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 10_000, (8, 2))
    parts = [c + rng.normal(0, rng.uniform(100, 400), (n // 12, 2)) for c in centres]
    parts.append(rng.uniform(0, 10_000, (n - sum(len(p) for p in parts), 2)))
    return np.vstack(parts)


def agreement(a, b):
    """Share of points whose label maps one-to-one (majority mapping) between the two labellings."""
    pairs, counts = np.unique(np.column_stack([a, b]), axis=0, return_counts=True)
    best = {}
    for (x, y), c in zip(pairs.tolist(), counts.tolist()):
        if c > best.get(x, (None, 0))[1]:
            best[x] = (y, c)
    return sum(c for _, c in best.values()) / len(a)


@pytest.mark.parametrize("n,seed,mcs", [(3000, 1, 30), (6000, 2, 50), (2000, 3, 10)])
def test_exact_tree_matches_reference(n, seed, mcs, tmp_path):
    xy = clustered(n, seed)
    ref = reference_labels(xy, mcs, tmp_path)
    ours = hdbscan(xy, mcs)
    assert ours.exact
    assert ours.n_clusters == ref.max() + 1
    # equal up to renumbering except at ties of the mutual-reachability distances (a handful of points)
    assert adjusted_rand_score(ref, ours.labels) > 0.99
    assert agreement(ref, ours.labels) > 0.995
    assert abs(int((ours.labels < 0).sum()) - int((ref < 0).sum())) <= 0.005 * n


def test_candidate_graph_matches_reference(tmp_path):
    xy = clustered(8000, 4)
    ref = reference_labels(xy, 40, tmp_path)
    ours = hdbscan(xy, 40, exact_limit=1000)
    assert not ours.exact and ours.warnings
    assert ours.n_clusters == ref.max() + 1
    assert adjusted_rand_score(ref, ours.labels) > 0.99


def test_duplicates_match_reference(tmp_path):
    xy = np.round(clustered(3000, 5) / 50.0) * 50.0  # many identical points (postcode-like)
    ref = reference_labels(xy, 25, tmp_path)
    ours = hdbscan(xy, 25)
    assert adjusted_rand_score(ref, ours.labels) > 0.98


def test_two_blobs_by_hand():
    rng = np.random.default_rng(0)
    a = rng.normal(0, 10, (60, 2))
    b = rng.normal(0, 10, (60, 2)) + 5000
    r = hdbscan(np.vstack([a, b]), 20)
    assert r.n_clusters == 2
    assert len(set(r.labels[:60])) == 1 and len(set(r.labels[60:])) == 1 and r.labels[0] != r.labels[60]


def test_edge_cases():
    assert (hdbscan(np.zeros((40, 2)), 10).labels == -1).all()  # one location: the root only, never selected
    r = hdbscan(np.zeros((3, 2)), 5)
    assert r.n_clusters == 0 and r.warnings
    with pytest.raises(CreativeClustersError):
        hdbscan(np.zeros((10, 2)), 1)
    with pytest.raises(CreativeClustersError):
        hdbscan(np.empty((0, 2)), 5)
    with pytest.raises(CreativeClustersError):
        hdbscan(np.array([[0.0, np.nan]] * 5), 2)
