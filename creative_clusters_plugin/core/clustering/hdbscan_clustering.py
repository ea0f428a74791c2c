"""HDBSCAN on 2-D points (Campello, Moulavi & Sander 2013), written for scipy/numpy only.

scikit-learn 1.2 (Debian 12) has no ``HDBSCAN`` and the ``hdbscan`` package is not packaged for Debian, so
the plugin carries its own implementation of the standard algorithm with the defaults of
``sklearn.cluster.HDBSCAN`` (≥ 1.3) and of the ``hdbscan`` package: Euclidean distance, ``alpha = 1``,
excess-of-mass selection, no single cluster, ``cluster_selection_epsilon = 0``.

Method
------
1. **Core distance** ``core(p)``: distance to the ``min_samples``-th nearest point, the point itself
   counted first (scikit-learn's convention), from a scipy ``cKDTree``.
2. **Mutual reachability** ``mr(p, q) = max(core(p), core(q), |p − q|)``.
3. **Minimum spanning tree** of the mutual-reachability graph:

   * *exact* for up to ``exact_limit`` distinct locations (default 25,000): Prim's algorithm on the
     complete graph, one vectorised O(n) update per added vertex (O(n²) time, O(n) memory);
   * *candidate graph* above that: the MST of the graph made of each location's ``k`` nearest
     neighbours (``k = max(2 · min_samples, 16)``) plus the Delaunay triangulation edges (which contain
     the Euclidean MST and make the graph connected), weighted by ``mr``. Mutual-reachability MST
     edges join near neighbours, so this is the same tree in practice; it is documented as an
     approximation (the tests measure the agreement with scikit-learn).

   Firms at identical coordinates have the same core distance, so they are merged first and joined to
   each other by edges of weight ``core``; the MST is built on distinct locations.
4. **Single-linkage hierarchy** from the MST edges sorted by weight (union–find).
5. **Condensed tree** with ``min_cluster_size``: walking down from the root at ``λ = 1 / distance``,
   a split where both sides hold at least ``min_cluster_size`` points makes two new clusters; otherwise
   the small side's points *fall out* of the cluster at that λ (λ = ∞ at distance 0, as scikit-learn).
6. **Stability** of cluster C: ``Σ (λ_p − λ_birth(C))`` over the points and child clusters leaving it
   (each weighted by its size).
7. **Excess of mass**: bottom-up, a cluster is kept when its stability is at least the summed
   stability of its selected descendants, and then its descendants are dropped; the root is never
   selected (``allow_single_cluster = False``).
8. **Labels**: a point takes the label of the selected cluster above the cluster it fell out of, else
   −1 (noise). Clusters are numbered 0, 1, … in order of their condensed-tree id, like scikit-learn.

Memory is O(n); the candidate-graph path holds ``k · n`` edges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial import cKDTree

from .dbscan import validate_points
from ..errors import CreativeClustersError, check_callback

DEFAULT_EXACT_LIMIT = 25_000


@dataclass
class HdbscanResult:
    """``labels`` (int64, −1 noise), ``n_clusters``, ``n_noise``, ``core_distances``, ``exact`` (True when
    the MST was computed exactly), ``condensed_tree`` (structured array parent, child, lambda_val,
    child_size) and ``warnings``."""

    labels: np.ndarray
    n_clusters: int
    n_noise: int
    core_distances: np.ndarray
    exact: bool
    condensed_tree: np.ndarray
    warnings: list = field(default_factory=list)


# ------------------------------------------------------------------------------------------------
# minimum spanning tree of the mutual-reachability graph
# ------------------------------------------------------------------------------------------------
def _prim_mst(ux, uy, core, callback=None, start=0.2, end=0.6):
    """Exact MST of the complete mutual-reachability graph on distinct points (Prim, O(n²))."""
    m = ux.size
    src = np.empty(m - 1, dtype=np.int64)
    dst = np.empty(m - 1, dtype=np.int64)
    wts = np.empty(m - 1, dtype=np.float64)
    remaining = np.arange(1, m, dtype=np.int64)
    best = np.full(m - 1, np.inf)
    best_from = np.zeros(m - 1, dtype=np.int64)
    rx, ry, rc = ux[1:].copy(), uy[1:].copy(), core[1:].copy()
    current = 0
    step_report = max(1, (m - 1) // 50)
    for step in range(m - 1):
        dx = rx - ux[current]
        dy = ry - uy[current]
        d = np.sqrt(dx * dx + dy * dy)
        np.maximum(d, rc, out=d)
        np.maximum(d, core[current], out=d)
        better = d < best
        best[better] = d[better]
        best_from[better] = current
        j = int(np.argmin(best))
        src[step] = best_from[j]
        dst[step] = remaining[j]
        wts[step] = best[j]
        current = int(remaining[j])
        # drop j from the remaining arrays (swap with the last element)
        last = remaining.size - 1
        for arr in (remaining, best, best_from, rx, ry, rc):
            arr[j] = arr[last]
        remaining, best, best_from = remaining[:last], best[:last], best_from[:last]
        rx, ry, rc = rx[:last], ry[:last], rc[:last]
        if step % step_report == 0:
            check_callback(callback, start + (end - start) * step / (m - 1))
    return src, dst, wts


def _candidate_mst(ux, uy, core, k):
    """MST of the k-nearest-neighbour ∪ Delaunay graph weighted by mutual reachability."""
    m = ux.size
    pts = np.column_stack([ux, uy])
    tree = cKDTree(pts)
    kk = min(k + 1, m)
    _, idx = tree.query(pts, k=kk)
    idx = idx.reshape(m, -1)[:, 1:]
    a = np.repeat(np.arange(m, dtype=np.int64), idx.shape[1])
    b = idx.reshape(-1).astype(np.int64)
    ok = b < m
    a, b = [a[ok]], [b[ok]]
    if m >= 3:
        try:
            from scipy.spatial import Delaunay

            tri = Delaunay(pts).simplices
            for i, j in ((0, 1), (1, 2), (0, 2)):
                a.append(tri[:, i].astype(np.int64))
                b.append(tri[:, j].astype(np.int64))
        except Exception:  # collinear points: the kNN graph plus a chain along the line
            order = np.lexsort((uy, ux))
            a.append(order[:-1])
            b.append(order[1:])
    a = np.concatenate(a)
    b = np.concatenate(b)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    pair = np.unique(lo * m + hi)
    lo, hi = pair // m, pair % m
    d = np.hypot(ux[lo] - ux[hi], uy[lo] - uy[hi])
    w = np.maximum(np.maximum(d, core[lo]), core[hi])
    # csgraph ignores explicit zeros: shift weights by a tiny positive offset, removed afterwards
    offset = 1.0
    graph = coo_matrix((w + offset, (lo, hi)), shape=(m, m)).tocsr()
    mst = minimum_spanning_tree(graph).tocoo()
    if mst.nnz != m - 1:  # disconnected (should not happen with Delaunay): chain the components
        from scipy.sparse.csgraph import connected_components

        _, comp = connected_components(mst, directed=False)
        firsts = np.unique(comp, return_index=True)[1]
        extra_a = firsts[:-1]
        extra_b = firsts[1:]
        ew = np.maximum(np.maximum(np.hypot(ux[extra_a] - ux[extra_b], uy[extra_a] - uy[extra_b]), core[extra_a]),
                        core[extra_b])
        return (np.concatenate([mst.row, extra_a]).astype(np.int64),
                np.concatenate([mst.col, extra_b]).astype(np.int64),
                np.concatenate([mst.data - offset, ew]))
    return mst.row.astype(np.int64), mst.col.astype(np.int64), mst.data - offset


# ------------------------------------------------------------------------------------------------
# hierarchy, condensed tree, selection
# ------------------------------------------------------------------------------------------------
def _single_linkage(a, b, w, n):
    """Linkage (left, right, distance, size) of the n−1 merges, nodes ≥ n being merges."""
    order = np.argsort(w, kind="stable")
    parent = np.arange(2 * n - 1, dtype=np.int64)
    size = np.ones(2 * n - 1, dtype=np.int64)
    left = np.empty(n - 1, dtype=np.int64)
    right = np.empty(n - 1, dtype=np.int64)
    dist = np.empty(n - 1, dtype=np.float64)
    parent_list = parent.tolist()

    def find(x):
        root = x
        while parent_list[root] != root:
            root = parent_list[root]
        while parent_list[x] != root:
            parent_list[x], x = root, parent_list[x]
        return root

    a_l, b_l, w_l = a[order].tolist(), b[order].tolist(), w[order].tolist()
    size_l = size.tolist()
    for k in range(n - 1):
        ra, rb = find(a_l[k]), find(b_l[k])
        node = n + k
        left[k], right[k], dist[k] = ra, rb, w_l[k]
        size_l[node] = size_l[ra] + size_l[rb]
        parent_list[ra] = node
        parent_list[rb] = node
    return left, right, dist, np.asarray(size_l, dtype=np.int64)


def _condense(left, right, dist, size, n, min_cluster_size):
    """Condensed tree rows (parent, child, lambda, child_size); cluster ids start at n (the root)."""
    root = 2 * n - 2
    relabel = np.full(2 * n - 1, -1, dtype=np.int64)
    relabel[root] = n
    next_label = n + 1
    ignore = np.zeros(2 * n - 1, dtype=bool)
    parents, children, lambdas, sizes = [], [], [], []
    left_l, right_l, dist_l, size_l = left.tolist(), right.tolist(), dist.tolist(), size.tolist()

    def leaves(node):
        out, stack = [], [node]
        while stack:
            x = stack.pop()
            ignore[x] = True
            if x < n:
                out.append(x)
            else:
                stack.append(left_l[x - n])
                stack.append(right_l[x - n])
        return out

    # breadth-first order of the merges from the root
    queue = [root]
    head = 0
    while head < len(queue):
        node = queue[head]
        head += 1
        if node >= n:
            queue.append(left_l[node - n])
            queue.append(right_l[node - n])
    for node in queue:
        if node < n or ignore[node]:
            continue
        l_node, r_node, d = left_l[node - n], right_l[node - n], dist_l[node - n]
        lam = 1.0 / d if d > 0.0 else math.inf
        ls, rs = size_l[l_node], size_l[r_node]
        here = int(relabel[node])
        if ls >= min_cluster_size and rs >= min_cluster_size:
            for child, cs in ((l_node, ls), (r_node, rs)):
                relabel[child] = next_label
                parents.append(here)
                children.append(next_label)
                lambdas.append(lam)
                sizes.append(cs)
                next_label += 1
        elif ls < min_cluster_size and rs < min_cluster_size:
            for child in (l_node, r_node):
                for p in leaves(child):
                    parents.append(here)
                    children.append(p)
                    lambdas.append(lam)
                    sizes.append(1)
        else:
            small, big = (l_node, r_node) if ls < min_cluster_size else (r_node, l_node)
            relabel[big] = here
            for p in leaves(small):
                parents.append(here)
                children.append(p)
                lambdas.append(lam)
                sizes.append(1)
    tree = np.zeros(len(parents), dtype=[("parent", np.int64), ("child", np.int64), ("lambda_val", np.float64),
                                         ("child_size", np.int64)])
    tree["parent"] = parents
    tree["child"] = children
    tree["lambda_val"] = lambdas
    tree["child_size"] = sizes
    return tree


def _select_eom(tree, n):
    """Excess-of-mass selection (as scikit-learn ``_get_clusters``): returns the sorted selected ids."""
    if tree.size == 0:
        return []
    n_clusters_total = int(tree["parent"].max()) + 1 - n
    if tree["child"].max() >= n:
        n_clusters_total = max(n_clusters_total, int(tree["child"].max()) + 1 - n)
    births = np.zeros(n_clusters_total)
    is_child_cluster = tree["child"] >= n
    births[tree["child"][is_child_cluster] - n] = tree["lambda_val"][is_child_cluster]
    with np.errstate(invalid="ignore"):
        contrib = (tree["lambda_val"] - births[tree["parent"] - n]) * tree["child_size"]
    contrib = np.where(np.isnan(contrib), 0.0, contrib)  # inf − inf: a cluster born and dying at λ = ∞
    stability = np.bincount(tree["parent"] - n, weights=contrib, minlength=n_clusters_total)
    cluster_rows = tree[is_child_cluster]
    kids = {}
    for p, c in zip(cluster_rows["parent"].tolist(), cluster_rows["child"].tolist()):
        kids.setdefault(p, []).append(c)
    is_cluster = {c: True for c in range(n + 1, n + n_clusters_total)}  # root (n) never selected
    stab = {c: float(stability[c - n]) for c in range(n, n + n_clusters_total)}
    for node in sorted(is_cluster, reverse=True):
        subtree = sum(stab[c] for c in kids.get(node, []))
        if subtree > stab[node]:
            is_cluster[node] = False
            stab[node] = subtree
        else:
            stack = list(kids.get(node, []))
            while stack:
                c = stack.pop()
                is_cluster[c] = False
                stack.extend(kids.get(c, []))
    return sorted(c for c, keep in is_cluster.items() if keep)


def _labels(tree, selected, n):
    """Point labels: the selected cluster above the cluster each point fell out of, else −1."""
    labels = np.full(n, -1, dtype=np.int64)
    if not selected or tree.size == 0:
        return labels
    n_ids = int(max(tree["parent"].max(), tree["child"].max())) + 1 - n
    cluster_parent = np.full(n_ids, -1, dtype=np.int64)
    rows = tree[tree["child"] >= n]
    cluster_parent[rows["child"] - n] = rows["parent"] - n
    label_of = np.full(n_ids, -1, dtype=np.int64)
    selected_index = {c - n: i for i, c in enumerate(selected)}
    # ids grow from parent to child, so one ascending pass resolves every ancestor first
    for c in range(n_ids):
        if c in selected_index:
            label_of[c] = selected_index[c]
        elif cluster_parent[c] >= 0:
            label_of[c] = label_of[cluster_parent[c]]
    point_rows = tree[tree["child"] < n]
    labels[point_rows["child"]] = label_of[point_rows["parent"] - n]
    return labels


# ------------------------------------------------------------------------------------------------
# public entry point
# ------------------------------------------------------------------------------------------------
def hdbscan(xy, min_cluster_size, min_samples=None, exact_limit=DEFAULT_EXACT_LIMIT, callback=None) -> HdbscanResult:
    """Cluster 2-D points with HDBSCAN (excess of mass); labels match ``sklearn.cluster.HDBSCAN(
    min_cluster_size, min_samples)`` up to renumbering when the MST is exact (``n`` distinct locations ≤
    ``exact_limit``) and there are no ties in the distances.

    Parameters
    ----------
    xy : (n, 2) projected coordinates.
    min_cluster_size : smallest cluster, ≥ 2.
    min_samples : neighbourhood size of the core distance (the point itself included); default
        ``min_cluster_size``.
    exact_limit : above this many distinct locations the MST uses the kNN ∪ Delaunay candidate graph.
    callback : optional ``callback(fraction) -> bool`` (True cancels).
    """
    xy = validate_points(xy)
    n = xy.shape[0]
    try:
        min_cluster_size = int(min_cluster_size)
        min_samples = min_cluster_size if min_samples is None else int(min_samples)
    except (TypeError, ValueError) as error:
        raise CreativeClustersError("The minimum cluster size must be a whole number.") from error
    if min_cluster_size < 2:
        raise CreativeClustersError(f"The minimum cluster size must be at least 2; got {min_cluster_size}.")
    if min_samples < 1:
        raise CreativeClustersError(f"min_samples must be at least 1; got {min_samples}.")
    warnings = []
    empty_tree = np.zeros(0, dtype=[("parent", np.int64), ("child", np.int64), ("lambda_val", np.float64),
                                    ("child_size", np.int64)])
    if n < min_cluster_size or n < 2:
        warnings.append(f"Only {n} point(s): fewer than the minimum cluster size {min_cluster_size}, no cluster.")
        return HdbscanResult(np.full(n, -1, dtype=np.int64), 0, n, np.full(n, np.nan), True, empty_tree, warnings)
    check_callback(callback, 0.0)
    k = min(min_samples, n)
    tree = cKDTree(xy)
    dist, _ = tree.query(xy, k=k)
    core = dist.reshape(n, -1)[:, -1].astype(np.float64)
    check_callback(callback, 0.1)

    # distinct locations (duplicates share the core distance)
    uniq, first, inverse = np.unique(xy, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    m = uniq.shape[0]
    ucore = core[first]
    ux, uy = np.ascontiguousarray(uniq[:, 0]), np.ascontiguousarray(uniq[:, 1])
    exact = m <= exact_limit
    if m == 1:
        ua = ub = np.empty(0, dtype=np.int64)
        uw = np.empty(0)
    elif exact:
        ua, ub, uw = _prim_mst(ux, uy, ucore, callback)
    else:
        ua, ub, uw = _candidate_mst(ux, uy, ucore, max(2 * min_samples, 16))
        warnings.append(
            f"{m} distinct locations: the spanning tree uses each location's nearest neighbours and the "
            f"Delaunay triangulation (above {exact_limit} the exact O(n²) tree would be too slow)."
        )
    check_callback(callback, 0.6)
    # map to point ids; duplicates chained to the first point of their location with weight = core
    rep = first  # representative point of each location
    pa = [rep[ua]]
    pb = [rep[ub]]
    pw = [uw]
    dup = np.flatnonzero(np.arange(n) != rep[inverse])
    if dup.size:
        pa.append(rep[inverse[dup]])
        pb.append(dup)
        pw.append(core[dup])
    pa, pb, pw = np.concatenate(pa), np.concatenate(pb), np.concatenate(pw)
    left, right, dist_, size = _single_linkage(pa, pb, pw, n)
    check_callback(callback, 0.75)
    ctree = _condense(left, right, dist_, size, n, min_cluster_size)
    check_callback(callback, 0.9)
    selected = _select_eom(ctree, n)
    labels = _labels(ctree, selected, n)
    check_callback(callback, 1.0)
    n_clusters = len(selected)
    if n_clusters == 0:
        warnings.append(f"No cluster of at least {min_cluster_size} points stands out; every point is noise.")
    return HdbscanResult(labels, n_clusters, int((labels < 0).sum()), core, exact, ctree, warnings)


__all__ = ["HdbscanResult", "hdbscan", "DEFAULT_EXACT_LIMIT"]
