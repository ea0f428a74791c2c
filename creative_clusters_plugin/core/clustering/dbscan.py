"""DBSCAN on 2-D points: the same labels as scikit-learn, in bounded memory, fast on millions of points.

Method
------
DBSCAN (Ester, Kriegel, Sander & Xu 1996, *A density-based algorithm for discovering clusters in large
spatial databases with noise*, KDD-96). With ``N(p) = {q : |p - q| <= eps}`` (the point itself included)
and weights ``w`` (1 by default):

* ``p`` is a **core point** when ``sum(w[q] for q in N(p)) >= min_samples``;
* core points within ``eps`` of each other are in the same cluster (connected components of the
  core graph);
* a non-core point within ``eps`` of at least one core point is a **border point**; every other point is
  **noise** (label −1).

Equality with scikit-learn
--------------------------
``sklearn.cluster.DBSCAN`` labels clusters in a depth-first search started from every unlabelled core
point in input order (``_dbscan_inner.pyx``). Hence, exactly:

* clusters are numbered 0, 1, 2 … in the order of their **lowest-index core point**;
* a border point within ``eps`` of core points of several clusters joins the cluster with the **lowest
  label** (the first cluster whose expansion reaches it).

This module uses the same two rules, so its labels equal scikit-learn's *exactly* (not only up to
renumbering), core points included, with and without ``sample_weight``. Distances are compared as
``dx*dx + dy*dy <= eps*eps`` in float64, like scikit-learn's KD-tree.

Algorithm (memory never holds all neighbour lists)
--------------------------------------------------
1. Identical coordinates are merged into one point carrying the sum of their weights (duplicates have
   identical neighbourhoods, so they share core status and label; they still count toward
   ``min_samples``, as in scikit-learn and QGIS).
2. Points are bucketed into a grid of square cells of side ``s`` slightly below ``eps / sqrt(2)``: two
   points of one cell are always within ``eps``, and every neighbour lies in the 5 × 5 block of cells
   around a point (Gunawan 2013, *A faster algorithm for DBSCAN*, MSc thesis TU Eindhoven; de Berg,
   Gunawan & Roeloffzen 2017).
3. Core points: a cell whose total weight reaches ``min_samples`` makes all its points core; a point whose
   5 × 5 block cannot reach ``min_samples`` is not core. For the remaining points, each block cell is
   classified against the point's ``eps`` disc as fully inside, outside or partial; only partial cells
   are compared point by point, in chunks of a bounded number of candidate pairs.
4. Clusters: core points of one cell are connected. Cells are linked when a pair of their core points is
   within ``eps``: first a cheap test on the extreme points of both cells towards each other, then an
   exact all-pairs test only for the cell pairs still in different components (scipy's
   ``connected_components`` is the union-find).
5. Border points: the lowest cluster label among the cells holding a core point within ``eps``.

Memory is O(n) plus one chunk of candidate pairs (``max_pairs``, 2 million by default, ~100 MB).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ..errors import CreativeClustersError, check_callback

#: candidate pairs handled at once (each pair costs about 50 bytes across the temporary arrays)
DEFAULT_MAX_PAIRS = 2_000_000


@dataclass
class DbscanResult:
    """``labels`` (int64, −1 noise, clusters 0..k−1 as scikit-learn), ``core`` (bool mask),
    ``n_clusters``, ``n_noise`` and ``warnings`` (list of str)."""

    labels: np.ndarray
    core: np.ndarray
    n_clusters: int
    n_noise: int
    warnings: list = field(default_factory=list)


def distinct_points(xy) -> np.ndarray:
    """The distinct rows of an (n, 2) array of coordinates, sorted by x then y: ``np.unique(xy, axis=0)``,
    several times faster (each point is one complex number, which NumPy sorts by real then imaginary part)."""
    pts = np.ascontiguousarray(np.asarray(xy, dtype=np.float64).reshape(-1, 2))
    if pts.shape[0] == 0:
        return pts
    return np.unique(pts.view(np.complex128).reshape(-1)).view(np.float64).reshape(-1, 2)


def validate_points(xy, name="points") -> np.ndarray:
    """(n, 2) float64 array of finite coordinates, or :class:`CreativeClustersError`."""
    try:
        xy = np.asarray(xy, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise CreativeClustersError(f"The {name} must be numeric x, y coordinates.") from error
    if xy.ndim != 2 or xy.shape[1] != 2:
        xy = xy.reshape(-1, 2) if xy.size % 2 == 0 and xy.ndim <= 2 else None
        if xy is None:
            raise CreativeClustersError(f"The {name} must be an array of x, y coordinates.")
    if xy.shape[0] == 0:
        raise CreativeClustersError(f"There are no {name} to cluster.")
    if not np.isfinite(xy).all():
        bad = int((~np.isfinite(xy).all(axis=1)).sum())
        raise CreativeClustersError(
            f"{bad} of the {name} have missing or infinite coordinates (NULL geometry?): remove them first."
        )
    return np.ascontiguousarray(xy)


def _segments_to_pairs(seg_query, seg_start, seg_len):
    """Expand segments (query, first target, count) into parallel arrays of (query, target) pairs."""
    seg_len = seg_len.astype(np.int64, copy=False)
    total = int(seg_len.sum())
    if total == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    seg_index = np.repeat(np.arange(seg_len.size, dtype=np.int64), seg_len)
    first = np.cumsum(seg_len) - seg_len
    target = np.arange(total, dtype=np.int64) - first[seg_index] + seg_start[seg_index]
    return seg_query[seg_index], target


def _chunks_by_budget(lengths, budget):
    """Split ``range(len(lengths))`` into consecutive chunks whose summed length stays near ``budget``."""
    if lengths.size == 0:
        return []
    cum = np.cumsum(lengths, dtype=np.int64)
    bounds = [0]
    while bounds[-1] < lengths.size:
        start = bounds[-1]
        base = cum[start - 1] if start > 0 else 0
        stop = int(np.searchsorted(cum, base + budget, side="right"))
        bounds.append(max(stop, start + 1))
    bounds[-1] = min(bounds[-1], lengths.size)
    return list(zip(bounds[:-1], bounds[1:]))


class _Grid:
    """Unique points bucketed into square cells of side ``s`` < eps/√2, sorted by cell id."""

    def __init__(self, xy, weights, eps):
        n = xy.shape[0]
        x, y = xy[:, 0], xy[:, 1]
        self.x0, self.y0 = float(x.min()), float(y.min())
        span = max(float(x.max()) - self.x0, float(y.max()) - self.y0, 0.0)
        scale = max(abs(self.x0), abs(self.y0), span, eps)
        # shrink the cell a little so that rounding can never put two points > eps apart in one cell
        shrink = 1e-9 + 8e-16 * scale / eps
        self.s = eps / math.sqrt(2.0) / (1.0 + shrink)
        self.margin = 1e-9 * scale + 4e-16 * scale
        cx = np.floor((x - self.x0) / self.s).astype(np.int64) + 2
        cy = np.floor((y - self.y0) / self.s).astype(np.int64) + 2
        self.ny = int(cy.max()) + 3
        if (int(cx.max()) + 3) * self.ny >= 2**62:
            raise CreativeClustersError(
                "EPS is too small for the extent of the points (the search grid would be too large)."
            )
        cell = cx * self.ny + cy
        order = np.lexsort((y, x, cell))
        xs, ys, cs = x[order], y[order], cell[order]
        new = np.empty(n, dtype=bool)
        new[0] = True
        np.not_equal(cs[1:], cs[:-1], out=new[1:])
        new[1:] |= xs[1:] != xs[:-1]
        new[1:] |= ys[1:] != ys[:-1]
        ustart = np.flatnonzero(new)
        uid_sorted = np.cumsum(new) - 1
        self.inverse = np.empty(n, dtype=np.int64)
        self.inverse[order] = uid_sorted
        self.m = ustart.size
        self.ux = xs[ustart]
        self.uy = ys[ustart]
        self.ucell = cs[ustart]
        self.uw = np.add.reduceat(weights[order], ustart) if weights is not None else np.diff(
            np.append(ustart, n)
        ).astype(np.float64)
        self.ufirst = np.minimum.reduceat(order, ustart)
        del xs, ys, cs, order, new, uid_sorted
        # cells
        cnew = np.empty(self.m, dtype=bool)
        cnew[0] = True
        np.not_equal(self.ucell[1:], self.ucell[:-1], out=cnew[1:])
        self.cstart = np.append(np.flatnonzero(cnew), self.m)
        self.cid = self.ucell[self.cstart[:-1]]
        self.ncell = self.cid.size
        self.ucellidx = np.cumsum(cnew) - 1  # cell index of each unique point
        self.cw = np.add.reduceat(self.uw, self.cstart[:-1])
        # local coordinates of each unique point inside its cell (0 <= u < s up to rounding)
        ucx = self.ucell // self.ny
        ucy = self.ucell - ucx * self.ny
        self.lu = self.ux - (self.x0 + (ucx - 2) * self.s)
        self.lv = self.uy - (self.y0 + (ucy - 2) * self.s)

    def axis_bounds(self, points):
        """Per offset d in −2..2: squared min and max distance along x and along y from ``points`` to the
        cell column/row at offset d (with a small safety margin for rounding)."""
        s, m = self.s, self.margin
        out = {}
        for axis, local in (("x", self.lu[points]), ("y", self.lv[points])):
            for d in range(-2, 3):
                lo, hi = d * s - m, (d + 1) * s + m
                near = np.maximum(np.maximum(lo - local, local - hi), 0.0)
                far = np.maximum(np.abs(local - lo), np.abs(local - hi))
                out[axis, d] = (near * near, far * far)
        return out


_BLOCK = [(dx, dy) for dx in range(-2, 3) for dy in range(-2, 3)]
_FORWARD = [(dx, dy) for dx, dy in _BLOCK if dx > 0 or (dx == 0 and dy > 0)]
# eight compass directions used by the cheap cell-linking test
_DIRECTIONS = np.array([[1, 0], [1, 1], [0, 1], [-1, 1], [-1, 0], [-1, -1], [0, -1], [1, -1]], dtype=np.float64)


def _direction_index(dx, dy):
    angle = math.atan2(dy, dx)
    return int(round(angle / (math.pi / 4))) % 8


def _lookup(sorted_ids, queries):
    """Index of each query in ``sorted_ids`` or −1."""
    pos = np.searchsorted(sorted_ids, queries)
    pos_c = np.minimum(pos, sorted_ids.size - 1)
    found = (pos < sorted_ids.size) & (sorted_ids[pos_c] == queries)
    return np.where(found, pos_c, -1)


def dbscan(xy, eps, min_samples, sample_weight=None, callback=None, max_pairs=DEFAULT_MAX_PAIRS) -> DbscanResult:
    """Cluster 2-D points with DBSCAN; labels equal ``sklearn.cluster.DBSCAN(eps, min_samples).fit(xy,
    sample_weight=sample_weight).labels_`` (see the module docstring for the two rules that make it so).

    Parameters
    ----------
    xy : (n, 2) array of projected coordinates (metres).
    eps : neighbourhood radius, > 0, same unit as ``xy`` (a point at exactly ``eps`` is a neighbour).
    min_samples : weight a neighbourhood (the point itself included) needs for its centre to be core, > 0.
    sample_weight : optional (n,) non-negative weights (default 1 each).
    callback : optional ``callback(fraction) -> bool``; returning True cancels (CancelledError).
    max_pairs : candidate pairs per chunk (memory bound).
    """
    xy = validate_points(xy)
    eps, min_samples, weights = _check_dbscan_arguments(xy.shape[0], eps, min_samples, sample_weight)
    max_pairs = max(int(max_pairs), 1000)
    eps2 = eps * eps
    warnings = []
    check_callback(callback, 0.0)

    grid = _Grid(xy, weights, eps)
    m = grid.m
    check_callback(callback, 0.1)

    # ---- 1. core points ----------------------------------------------------------------------------
    ucore = _core_points(grid, min_samples, eps2, max_pairs, callback)
    check_callback(callback, 0.5)

    # ---- 2. clusters of core points -----------------------------------------------------------------
    core_ids = np.flatnonzero(ucore)  # sorted by cell
    ulabel = np.full(m, -1, dtype=np.int64)
    n_clusters = 0
    if core_ids.size:
        comp_of_core_cell, core_cell_of_point, kcid, kstart = _link_core_cells(
            grid, core_ids, eps2, max_pairs, callback
        )
        check_callback(callback, 0.8)
        label_of_core_cell, n_clusters = _number_clusters(grid, core_ids, comp_of_core_cell, core_cell_of_point)
        ulabel[core_ids] = label_of_core_cell[core_cell_of_point]

        # ---- 3. border points ------------------------------------------------------------------------
        noncore = np.flatnonzero(~ucore)
        if noncore.size:
            ulabel[noncore] = _border_labels(
                grid, noncore, core_ids, kcid, kstart, label_of_core_cell, eps2, max_pairs, callback
            )
    check_callback(callback, 1.0)

    labels = ulabel[grid.inverse]
    core = ucore[grid.inverse]
    n_noise = int((labels < 0).sum())
    if n_clusters == 0:
        warnings.append(
            f"No cluster: no point has neighbours of total weight {min_samples:g} within {eps:g} (EPS). "
            "Increase EPS or lower the minimum."
        )
    return DbscanResult(labels=labels, core=core, n_clusters=n_clusters, n_noise=n_noise, warnings=warnings)


def _check_dbscan_arguments(n: int, eps, min_samples, sample_weight):
    """EPS and the minimum as floats and the weights as an (n,) array or None; refuses invalid values."""
    try:
        eps = float(eps)
        min_samples = float(min_samples)
    except (TypeError, ValueError) as error:
        raise CreativeClustersError("EPS and the minimum number of points must be numbers.") from error
    if not math.isfinite(eps) or eps <= 0:
        raise CreativeClustersError(f"EPS (the neighbourhood radius) must be greater than 0; got {eps:g}.")
    if not math.isfinite(min_samples) or min_samples <= 0:
        raise CreativeClustersError(f"The minimum number of points must be greater than 0; got {min_samples:g}.")
    weights = None
    if sample_weight is not None:
        weights = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
        if weights.size != n:
            raise CreativeClustersError("There must be one weight per point.")
        if not np.isfinite(weights).all() or (weights < 0).any():
            raise CreativeClustersError("Point weights must be finite and not negative.")
    return eps, min_samples, weights


def _core_points(grid, min_samples: float, eps2: float, max_pairs: int, callback) -> np.ndarray:
    """Core status of each unique point: sure from its own cell's weight, impossible from its 5 x 5 block's,
    exact pair tests for the rest."""
    ucore = grid.cw[grid.ucellidx] >= min_samples
    # block totals per cell (5 x 5 cells): ranges of consecutive cell ids per column dx
    cum_w = np.concatenate(([0.0], np.cumsum(grid.cw)))
    block_w = np.zeros(grid.ncell)
    for dx in range(-2, 3):
        base = grid.cid + dx * grid.ny
        a = np.searchsorted(grid.cid, base - 2, side="left")
        b = np.searchsorted(grid.cid, base + 2, side="right")
        block_w += cum_w[b] - cum_w[a]
    del cum_w
    uncertain = np.flatnonzero(~ucore & (block_w[grid.ucellidx] >= min_samples))
    del block_w
    if uncertain.size:
        ucore[uncertain] = _exact_core(grid, uncertain, eps2, min_samples, max_pairs, callback)
    return ucore


def _number_clusters(grid, core_ids, comp_of_core_cell, core_cell_of_point):
    """Cluster label per core cell, clusters numbered by their lowest original point index (as scikit-learn),
    and the number of clusters."""
    comp_of_point = comp_of_core_cell[core_cell_of_point]
    ncomp = int(comp_of_core_cell.max()) + 1
    first_index = np.full(ncomp, np.iinfo(np.int64).max, dtype=np.int64)
    by_first = np.argsort(grid.ufirst[core_ids], kind="stable")
    comps_sorted = comp_of_point[by_first]
    seen, pos = np.unique(comps_sorted, return_index=True)
    first_index[seen] = grid.ufirst[core_ids][by_first][pos]
    rank = np.empty(ncomp, dtype=np.int64)
    rank[np.argsort(first_index, kind="stable")] = np.arange(ncomp)
    return rank[comp_of_core_cell], ncomp


def _cells_of(points_cell):
    """Unique cells of sorted cell indices and the position of each point's cell among them."""
    new = np.empty(points_cell.size, dtype=bool)
    new[0] = True
    np.not_equal(points_cell[1:], points_cell[:-1], out=new[1:])
    return points_cell[new], np.cumsum(new) - 1


def _exact_core(grid, points, eps2, min_samples, max_pairs, callback):
    """Core status of ``points`` (unique ids, sorted by cell) from cell bounds, then exact pair tests."""
    k = points.size
    lower = np.zeros(k)
    upper = np.zeros(k)
    partial_cells = []  # per offset: (point positions, neighbour cell index)
    qcells, local = _cells_of(grid.ucellidx[points])
    qcid = grid.cid[qcells]
    bounds = grid.axis_bounds(points)
    for dx, dy in _BLOCK:
        nb_cell = _lookup(grid.cid, qcid + dx * grid.ny + dy)
        if (nb_cell < 0).all():
            continue
        nb = nb_cell[local]
        has = nb >= 0
        w = np.where(has, grid.cw[nb], 0.0)
        (nx2, fx2), (ny2, fy2) = bounds["x", dx], bounds["y", dy]
        full = (fx2 + fy2) <= eps2
        inside = (nx2 + ny2) <= eps2
        lower += np.where(full, w, 0.0)
        upper += np.where(inside, w, 0.0)
        part = inside & ~full & has
        if part.any():
            pos = np.flatnonzero(part)
            partial_cells.append((pos, nb[pos]))
    core = lower >= min_samples
    undecided = ~core & (upper >= min_samples)
    if not undecided.any():
        return core
    # exact counts for the undecided points over their partial cells
    seg_q = np.concatenate([p for p, _ in partial_cells])
    seg_c = np.concatenate([c for _, c in partial_cells])
    keep = undecided[seg_q]
    seg_q, seg_c = seg_q[keep], seg_c[keep]
    order = np.argsort(seg_q, kind="stable")
    seg_q, seg_c = seg_q[order], seg_c[order]
    seg_start = grid.cstart[seg_c]
    seg_len = grid.cstart[seg_c + 1] - seg_start
    count = lower.copy()
    chunks = _chunks_by_budget(seg_len, max_pairs)
    for i, (a, b) in enumerate(chunks):
        q, t = _segments_to_pairs(seg_q[a:b], seg_start[a:b], seg_len[a:b])
        p = points[q]
        ddx = grid.ux[t] - grid.ux[p]
        ddy = grid.uy[t] - grid.uy[p]
        near = ddx * ddx + ddy * ddy <= eps2
        qmin = int(q[0])
        count[qmin : int(q[-1]) + 1] += np.bincount(q - qmin, weights=grid.uw[t] * near)
        check_callback(callback, 0.1 + 0.4 * (i + 1) / len(chunks))
    return count >= min_samples


def _cell_extremes(kx, ky, kstart_cells):
    """For each core cell and each of 8 directions, the core point (index into kx) furthest that way."""
    ncell = kstart_cells.size - 1
    starts = kstart_cells[:-1]
    cell_of = np.repeat(np.arange(ncell), np.diff(kstart_cells))
    extremes = np.empty((8, ncell), dtype=np.int64)
    idx = np.arange(kx.size)
    for d, (ax, ay) in enumerate(_DIRECTIONS):
        score = kx * ax + ky * ay
        best = np.maximum.reduceat(score, starts)
        candidate = np.where(score == best[cell_of], idx, kx.size)
        extremes[d] = np.minimum.reduceat(candidate, starts)
    return extremes


def _link_core_cells(grid, core_ids, eps2, max_pairs, callback):
    """Connected components of core cells; returns (component per core cell, core cell of each core
    point, core cell ids, start of each core cell in ``core_ids`` plus end)."""
    kcell_full = grid.ucell[core_ids]
    knew = np.empty(core_ids.size, dtype=bool)
    knew[0] = True
    np.not_equal(kcell_full[1:], kcell_full[:-1], out=knew[1:])
    kstart = np.append(np.flatnonzero(knew), core_ids.size)
    kcid = kcell_full[kstart[:-1]]
    core_cell_of_point = np.cumsum(knew) - 1
    ncell = kcid.size
    kx = grid.ux[core_ids]
    ky = grid.uy[core_ids]

    pa, pb, pdir = _candidate_cell_pairs(kcid, grid.ny)
    if pa.size == 0:
        return np.arange(ncell), core_cell_of_point, kcid, kstart

    # cheap test: extreme point of A towards B against extreme point of B towards A
    extremes = _cell_extremes(kx, ky, kstart)
    ia = extremes[pdir, pa]
    ib = extremes[(pdir + 4) % 8, pb]
    ddx = kx[ia] - kx[ib]
    ddy = ky[ia] - ky[ib]
    linked = ddx * ddx + ddy * ddy <= eps2
    del extremes, ia, ib, ddx, ddy

    rest = ~linked
    comp = _link_exactly(kx, ky, kstart, ncell, pa[linked], pb[linked], pa[rest], pb[rest], eps2, max_pairs, callback)
    return comp, core_cell_of_point, kcid, kstart


def _candidate_cell_pairs(kcid, ny):
    """Pairs of core cells within the forward offsets of the 5 x 5 block, with the direction from a to b."""
    pair_a, pair_b, pair_dir = [], [], []
    cells = np.arange(kcid.size)
    for dx, dy in _FORWARD:
        nb = _lookup(kcid, kcid + dx * ny + dy)
        has = nb >= 0
        pair_a.append(cells[has])
        pair_b.append(nb[has])
        pair_dir.append(np.full(int(has.sum()), _direction_index(dx, dy), dtype=np.int64))
    return np.concatenate(pair_a), np.concatenate(pair_b), np.concatenate(pair_dir)


def _cell_components(a, b, ncell):
    """Connected component of each of ``ncell`` cells under the undirected edges ``a``–``b``."""
    graph = coo_matrix((np.ones(a.size, dtype=np.int8), (a, b)), shape=(ncell, ncell)).tocsr()
    return connected_components(graph, directed=False)[1]


def _link_exactly(kx, ky, kstart, ncell, linked_a, linked_b, pa, pb, eps2, max_pairs, callback):
    """Components of core cells from the pairs already linked plus exact point-pair tests of the other
    candidate pairs still in different components, cheapest first, in chunks within ``max_pairs``."""
    edge_a, edge_b = [linked_a], [linked_b]
    comp = _cell_components(edge_a[0], edge_b[0], ncell)
    open_ = comp[pa] != comp[pb]
    pa, pb = pa[open_], pb[open_]
    na = kstart[pa + 1] - kstart[pa]
    nb_ = kstart[pb + 1] - kstart[pb]
    cost = na * nb_
    order = np.argsort(cost, kind="stable")
    pa, pb, na, nb_, cost = pa[order], pb[order], na[order], nb_[order], cost[order]
    position = 0
    while position < pa.size:
        # take a chunk of pairs within the budget, skipping those already joined
        sel = slice(position, position + max(1, int(np.searchsorted(np.cumsum(cost[position:]), max_pairs))))
        ca, cb, cna, cnb, ccost = pa[sel], pb[sel], na[sel], nb_[sel], cost[sel]
        position = sel.stop
        still = comp[ca] != comp[cb]
        if not still.any():
            continue
        ca, cb, cna, cnb, ccost = ca[still], cb[still], cna[still], cnb[still], ccost[still]
        total = int(ccost.sum())
        pair_index = np.repeat(np.arange(ca.size), ccost)
        local = np.arange(total, dtype=np.int64) - (np.cumsum(ccost) - ccost)[pair_index]
        i = kstart[ca][pair_index] + local // cnb[pair_index]
        j = kstart[cb][pair_index] + local % cnb[pair_index]
        ddx = kx[i] - kx[j]
        ddy = ky[i] - ky[j]
        near = ddx * ddx + ddy * ddy <= eps2
        hit = np.zeros(ca.size, dtype=bool)
        hit[pair_index[near]] = True
        if hit.any():
            edge_a.append(ca[hit])
            edge_b.append(cb[hit])
            comp = _cell_components(np.concatenate(edge_a), np.concatenate(edge_b), ncell)
        check_callback(callback, 0.5 + 0.3 * position / pa.size)
    return comp


def _border_labels(grid, noncore, core_ids, kcid, kstart, label_of_core_cell, eps2, max_pairs, callback):
    """Lowest cluster label among core points within eps of each non-core point, −1 when none."""
    k = noncore.size
    none = np.iinfo(np.int64).max
    best = np.full(k, none, dtype=np.int64)
    kx = grid.ux[core_ids]
    ky = grid.uy[core_ids]
    qcells, local = _cells_of(grid.ucellidx[noncore])
    qcid = grid.cid[qcells]
    # only non-core points with a core cell somewhere in their block matter
    any_core = np.zeros(qcells.size, dtype=bool)
    lookups = {}
    for dx, dy in _BLOCK:
        nb_cell = _lookup(kcid, qcid + dx * grid.ny + dy)
        if (nb_cell >= 0).any():
            lookups[dx, dy] = nb_cell
            any_core |= nb_cell >= 0
    sel = np.flatnonzero(any_core[local])
    if sel.size == 0:
        return np.full(k, -1, dtype=np.int64)
    bounds = grid.axis_bounds(noncore[sel])
    local_sel = local[sel]
    partial_q, partial_c = [], []
    for (dx, dy), nb_cell in lookups.items():
        nb = nb_cell[local_sel]
        has = nb >= 0
        (nx2, fx2), (ny2, fy2) = bounds["x", dx], bounds["y", dy]
        full = has & ((fx2 + fy2) <= eps2)
        if full.any():
            pos = np.flatnonzero(full)
            q = sel[pos]
            best[q] = np.minimum(best[q], label_of_core_cell[nb[pos]])
        part = has & ~full & ((nx2 + ny2) <= eps2)
        if part.any():
            pos = np.flatnonzero(part)
            partial_q.append(sel[pos])
            partial_c.append(nb[pos])
    if partial_q:
        seg_q = np.concatenate(partial_q)
        seg_c = np.concatenate(partial_c)
        # only cells whose label could improve the current best
        useful = label_of_core_cell[seg_c] < best[seg_q]
        seg_q, seg_c = seg_q[useful], seg_c[useful]
        order = np.lexsort((label_of_core_cell[seg_c], seg_q))
        seg_q, seg_c = seg_q[order], seg_c[order]
        seg_start = kstart[seg_c]
        seg_len = kstart[seg_c + 1] - seg_start
        seg_lab = label_of_core_cell[seg_c]
        chunks = _chunks_by_budget(seg_len, max_pairs)
        for c_i, (a, b) in enumerate(chunks):
            seg_index_local = np.arange(a, b)
            q_seg, t = _segments_to_pairs(seg_index_local, seg_start[a:b], seg_len[a:b])
            q = seg_q[q_seg]
            p = noncore[q]
            ddx = kx[t] - grid.ux[p]
            ddy = ky[t] - grid.uy[p]
            near = ddx * ddx + ddy * ddy <= eps2
            if near.any():
                _min_into(best, q[near], seg_lab[q_seg[near]])
            check_callback(callback, 0.8 + 0.2 * (c_i + 1) / len(chunks))
    return np.where(best == none, -1, best)


def _min_into(target, index, values):
    """``target[index] = min(target[index], values)`` with repeated indices (faster than ufunc.at)."""
    if index.size == 0:
        return
    order = np.lexsort((values, index))
    index, values = index[order], values[order]
    first = np.empty(index.size, dtype=bool)
    first[0] = True
    np.not_equal(index[1:], index[:-1], out=first[1:])
    idx, val = index[first], values[first]
    target[idx] = np.minimum(target[idx], val)


def k_distance(xy, k, max_points=200_000, seed=0):
    """Distance of each point to its k-th nearest neighbour, the point itself counted as the first
    (scikit-learn's convention for ``min_samples``); sorted ascending. A random sample of ``max_points``
    is used for larger inputs (seeded)."""
    from scipy.spatial import cKDTree

    xy = validate_points(xy)
    k = int(k)
    if k < 1:
        raise CreativeClustersError("k must be at least 1.")
    if xy.shape[0] > max_points:
        rng = np.random.default_rng(seed)
        sample = xy[rng.choice(xy.shape[0], max_points, replace=False)]
    else:
        sample = xy
    k_eff = min(k, xy.shape[0])
    tree = cKDTree(xy)
    dist, _ = tree.query(sample, k=k_eff, workers=-1)
    dist = dist.reshape(sample.shape[0], -1)[:, -1]
    return np.sort(dist)


def suggest_eps(xy, min_samples, max_points=200_000, seed=0):
    """EPS suggestion from the k-distance curve (Ester et al. 1996 §4.2): the sorted distances of every
    point to its ``min_samples``-th neighbour (itself included) rise slowly inside clusters and steeply
    among noise; the suggestion is the knee of that curve, found as the point furthest below the chord
    from the first to the last value (Satopää et al. 2011, "Kneedle"). Returns ``(eps, curve)``; eps is
    None when the curve is flat (all points identical or evenly spaced)."""
    curve = k_distance(xy, min_samples, max_points=max_points, seed=seed)
    positive = curve[curve > 0]
    if positive.size < 3 or positive[-1] <= positive[0]:
        return None, curve
    y = positive
    x = np.linspace(0.0, 1.0, y.size)
    yn = (y - y[0]) / (y[-1] - y[0])
    gap = x - yn  # convex rising curve: the knee is where the curve is furthest below the chord
    knee = int(np.argmax(gap))
    if gap[knee] <= 0:
        return None, curve
    return float(y[knee]), curve


__all__ = ["DbscanResult", "dbscan", "distinct_points", "k_distance", "suggest_eps", "validate_points"]
