"""Accumulated cost (cost-distance) from a set of source cells, bounded by a cost cap and by windows.

Model (the same as ArcGIS *Cost Distance*, GRASS ``r.cost`` and scikit-image ``MCP_Geometric``): the grid is
8-connected; ``costs[r, c]`` is the cost of crossing one metre of the cell (a resistance); the move between
neighbours a and b costs::

    edge(a, b) = L_ab · (costs[a] + costs[b]) / 2,    L_ab = cell_size (rook move) or √2 · cell_size (diagonal)

and the accumulated cost of a cell is the cheapest sum of edge costs from any source cell (sources start at
0). Cells whose cost is NaN or infinite are impassable; negative costs are an error. This is Dijkstra's
algorithm (Dijkstra 1959) on the cell graph.

Bounded search, never a full surface when not needed:

* **Cost cap** — Dijkstra settles cells in increasing order of cost, so the search stops as soon as it settles a
  cell above ``max_cost``: every cell with cost ≤ ``max_cost`` is exact, the others are ``inf``.
* **k nearest targets** — with a label raster, the search records the first (cheapest) cell settled in each
  other labelled zone (that cost is the least-cost distance to the zone) and, once ``k_nearest`` zones are
  reached at cost L_k, lowers the cap to ``extra_cost(L_k)`` (e.g. L_k + corridor width).
* **Windows** — the search runs on a window around the sources. Any path that leaves the window crosses its
  border, so every cell whose windowed cost is ≤ B, the cost of the cheapest border cell, is exact. The search
  stops at the first border cell it settles; when that happens before the cap is reached the window is doubled
  and the search restarted. With a finite cap the window never needs to exceed ``max_cost / (min cost ·
  cell_size)`` cells around the sources.

Engines: scikit-image's ``MCP_Geometric`` (Cython, the default when installed; the cap, the targets and the
border are checked in its ``goal_reached`` hook) or ``scipy.sparse.csgraph.dijkstra`` on the window's cell graph
(``limit`` = cap), used when scikit-image is missing. Both give the same costs to floating-point tolerance.

Complexity: O(N log N) for the N cells settled (N ≤ window size).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import CreativeClustersError

SQRT2 = math.sqrt(2.0)

#: offsets used by the SciPy engine; a traceback value t means "the predecessor is (r, c) - OFFSETS[t]"
OFFSETS = np.array([(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)], dtype=np.int64)

#: traceback codes
SOURCE = -1
UNREACHED = -2


def skimage_available() -> bool:
    try:
        import skimage.graph  # noqa: F401
    except ImportError:
        return False
    return True


def pick_engine(engine: str = "auto") -> str:
    """``"skimage"`` when scikit-image is importable (or asked for), else ``"scipy"``."""
    engine = (engine or "auto").lower()
    if engine not in ("auto", "skimage", "scipy"):
        raise CreativeClustersError(f"Unknown cost-distance engine '{engine}' (use auto, skimage or scipy).")
    if engine == "auto":
        return "skimage" if skimage_available() else "scipy"
    if engine == "skimage" and not skimage_available():
        raise CreativeClustersError("scikit-image is not installed: install python3-skimage or use the scipy engine.")
    return engine


def validate_costs(costs) -> np.ndarray:
    """Cost raster as float64 with ``inf`` for impassable (NaN, inf) cells; negative costs are an error."""
    costs = np.asarray(costs, dtype=np.float64)
    if costs.ndim != 2 or costs.size == 0:
        raise CreativeClustersError("The cost raster must be a non-empty 2-D grid.")
    costs = np.where(np.isnan(costs), np.inf, costs)
    if np.any(costs < 0):
        raise CreativeClustersError(
            f"The cost raster has {int(np.count_nonzero(costs < 0)):,} negative cell(s): costs must be zero or positive "
            "(use nodata for impassable cells)."
        )
    return costs


def source_cells(sources, shape) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the source cells, from a boolean mask of ``shape`` or an (n, 2) array of (row, col)."""
    sources = np.asarray(sources)
    if sources.dtype == bool:
        if sources.shape != tuple(shape):
            raise CreativeClustersError("The source mask must have the shape of the cost raster.")
        rows, cols = np.nonzero(sources)
    else:
        sources = np.atleast_2d(sources).astype(np.int64)
        if sources.ndim != 2 or sources.shape[1] != 2:
            raise CreativeClustersError("Sources must be a boolean mask or a list of (row, col) cells.")
        rows, cols = sources[:, 0], sources[:, 1]
    if rows.size == 0:
        raise CreativeClustersError("There is no source cell to start the cost-distance from.")
    if rows.min() < 0 or cols.min() < 0 or rows.max() >= shape[0] or cols.max() >= shape[1]:
        raise CreativeClustersError("A source cell lies outside the cost raster.")
    return rows.astype(np.int64), cols.astype(np.int64)


@dataclass
class CostSurface:
    """Accumulated cost on a window of the full grid.

    ``cost[i, j]`` is the exact least accumulated cost of full-grid cell (row0 + i, col0 + j), or ``inf``
    when it was not settled (beyond the cap or unreachable). Every cell with cost ≤ ``complete_to`` is present.
    ``traceback`` holds the index (into ``offsets``) of the move that reached each cell: the predecessor of
    (r, c) is (r, c) - offsets[t]; ``SOURCE`` (-1) for source cells, ``UNREACHED`` (-2) elsewhere.
    ``found`` maps each other labelled zone reached to ``(least cost, row, col)`` of its cheapest cell.
    ``stop`` says why the search ended: "cap", "exhausted" (nothing more reachable) or "border" (internal).
    """

    cost: np.ndarray
    traceback: np.ndarray
    offsets: np.ndarray
    row0: int = 0
    col0: int = 0
    complete_to: float = math.inf
    stop: str = "exhausted"
    found: dict = field(default_factory=dict)
    radius: int = 0
    settled: int = 0
    attempts: int = 1

    @property
    def shape(self):
        return self.cost.shape

    @property
    def nbytes(self) -> int:
        return int(self.cost.nbytes + self.traceback.nbytes)

    def value(self, rows, cols) -> np.ndarray:
        """Costs of full-grid cells (``inf`` outside the window)."""
        rows = np.asarray(rows, dtype=np.int64) - self.row0
        cols = np.asarray(cols, dtype=np.int64) - self.col0
        inside = (rows >= 0) & (cols >= 0) & (rows < self.cost.shape[0]) & (cols < self.cost.shape[1])
        out = np.full(rows.shape, np.inf)
        out[inside] = self.cost[rows[inside], cols[inside]]
        return out

    def region(self, row0: int, row1: int, col0: int, col1: int) -> np.ndarray:
        """Costs on the full-grid block [row0:row1, col0:col1], ``inf`` where outside the window."""
        out = np.full((row1 - row0, col1 - col0), np.inf, dtype=self.cost.dtype)
        r0, r1 = max(row0, self.row0), min(row1, self.row0 + self.cost.shape[0])
        c0, c1 = max(col0, self.col0), min(col1, self.col0 + self.cost.shape[1])
        if r0 < r1 and c0 < c1:
            out[r0 - row0 : r1 - row0, c0 - col0 : c1 - col0] = self.cost[
                r0 - self.row0 : r1 - self.row0, c0 - self.col0 : c1 - self.col0
            ]
        return out

    def full(self, shape) -> np.ndarray:
        """The surface as a full-grid array of ``shape`` (``inf`` outside the window)."""
        return self.region(0, shape[0], 0, shape[1])

    def path_to(self, row: int, col: int) -> np.ndarray:
        """Least-cost path (full-grid (row, col) array, source first) to the full-grid cell (row, col)."""
        i, j = int(row) - self.row0, int(col) - self.col0
        if not (0 <= i < self.cost.shape[0] and 0 <= j < self.cost.shape[1]) or not np.isfinite(self.cost[i, j]):
            raise CreativeClustersError("No least-cost path reaches that cell (unreachable or beyond the cost cap).")
        traceback = self.traceback
        offsets = self.offsets
        steps = [(i, j)]
        limit = traceback.size + 1
        while True:
            t = int(traceback[i, j])
            if t == SOURCE:
                break
            if t < 0 or len(steps) > limit:
                raise CreativeClustersError("The least-cost path could not be traced back (internal error).")
            i -= int(offsets[t, 0])
            j -= int(offsets[t, 1])
            steps.append((i, j))
        path = np.array(steps[::-1], dtype=np.int64)
        path[:, 0] += self.row0
        path[:, 1] += self.col0
        return path

    def compact(self, dtype=np.float32) -> "CostSurface":
        """Crop to the settled cells and store costs as ``dtype`` (float32 halves memory; paths stay exact)."""
        finite = np.isfinite(self.cost)
        if not finite.any():
            rows = cols = np.array([0])
        else:
            rows = np.flatnonzero(finite.any(axis=1))
            cols = np.flatnonzero(finite.any(axis=0))
        r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
        cost = self.cost[r0:r1, c0:c1].astype(dtype)
        traceback = np.where(finite[r0:r1, c0:c1], self.traceback[r0:r1, c0:c1], UNREACHED).astype(np.int8)
        return CostSurface(
            cost=cost,
            traceback=traceback,
            offsets=self.offsets,
            row0=self.row0 + r0,
            col0=self.col0 + c0,
            complete_to=self.complete_to,
            stop=self.stop,
            found=dict(self.found),
            radius=self.radius,
            settled=self.settled,
            attempts=self.attempts,
        )


# --------------------------------------------------------------------------------------------------------
# engines: one Dijkstra run on one window
# --------------------------------------------------------------------------------------------------------
_BOUNDED_MCP = None


def _bounded_mcp_class():
    """MCP_Geometric with a goal_reached hook checking the cap, the labelled targets and the window border."""
    global _BOUNDED_MCP
    if _BOUNDED_MCP is None:
        from skimage.graph import MCP_Geometric

        class BoundedMCP(MCP_Geometric):
            def setup(self, cap, codes, own, k, extra):
                self.cap = cap
                self.codes = codes
                self.own = own
                self.k = k
                self.extra = extra
                self.found = {}
                self.stop = "exhausted"
                self.border_cost = math.inf
                self.settled = 0

            def goal_reached(self, index, cumcost):  # called once per settled cell
                if cumcost > self.cap:
                    self.stop = "cap"
                    return 2
                self.settled += 1
                codes = self.codes
                if codes is not None:
                    code = codes[index]
                    if code:
                        if code & 1:
                            self.stop = "border"
                            self.border_cost = cumcost
                            return 2
                        label = (code >> 1) - 1
                        if label != self.own and label not in self.found:
                            self.found[label] = (cumcost, index)
                            if self.k and len(self.found) == self.k:
                                new_cap = self.extra(cumcost) if self.extra is not None else cumcost
                                if new_cap < self.cap:
                                    self.cap = new_cap
                return 0

        _BOUNDED_MCP = BoundedMCP
    return _BOUNDED_MCP


def _window_codes(labels_w, border_mask):
    """int32 codes: (label + 1) << 1 for labelled cells, | 1 for leaking window-border cells; None if none."""
    codes = None
    if labels_w is not None:
        codes = np.where(labels_w >= 0, (labels_w.astype(np.int32) + 1) << 1, 0).astype(np.int32)
    if border_mask is not None and border_mask.any():
        if codes is None:
            codes = np.zeros(border_mask.shape, dtype=np.int32)
        codes |= border_mask.astype(np.int32)
    return codes


def _run_skimage(costs_w, rows, cols, cell_size, cap, labels_w, border_mask, own, k, extra):
    cls = _bounded_mcp_class()
    mcp = cls(costs_w, fully_connected=True, sampling=(cell_size, cell_size))
    codes = _window_codes(labels_w, border_mask)
    codes_flat = memoryview(codes.ravel(order="F")) if codes is not None else None
    mcp.setup(cap, codes_flat, -1 if own is None else own, k or 0, extra)
    cumulative, traceback = mcp.find_costs(list(zip(rows.tolist(), cols.tolist())))
    cost = np.array(cumulative, dtype=np.float64, order="C")
    height = costs_w.shape[0]
    found = {}
    for label, (value, flat) in mcp.found.items():
        found[label] = (float(value), int(flat % height), int(flat // height))
    stop = mcp.stop
    if stop == "cap":
        complete_to = mcp.cap
    elif stop == "border":
        complete_to = mcp.border_cost
    else:
        complete_to = math.inf
    offsets = np.asarray(mcp.offsets, dtype=np.int64)
    return cost, np.asarray(traceback).astype(np.int8), offsets, found, stop, complete_to, int(mcp.settled)


def _cell_graph(costs_w, cell_size):
    """Directed CSR graph of the 8-connected passable cells of ``costs_w`` with MCP_Geometric edge costs."""
    from scipy.sparse import csr_matrix

    height, width = costs_w.shape
    index = np.arange(height * width, dtype=np.int64).reshape(height, width)
    passable = np.isfinite(costs_w)
    heads, tails, weights = [], [], []
    for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
        a_rows = slice(0, height - dr)
        b_rows = slice(dr, height)
        if dc >= 0:
            a_cols, b_cols = slice(0, width - dc), slice(dc, width)
        else:
            a_cols, b_cols = slice(-dc, width), slice(0, width + dc)
        ok = passable[a_rows, a_cols] & passable[b_rows, b_cols]
        a = index[a_rows, a_cols][ok]
        b = index[b_rows, b_cols][ok]
        length = cell_size * (SQRT2 if dr and dc else 1.0)
        w = 0.5 * length * (costs_w[a_rows, a_cols][ok] + costs_w[b_rows, b_cols][ok])
        heads += [a, b]
        tails += [b, a]
        weights += [w, w]
    n = height * width
    data = np.concatenate(weights) if weights else np.empty(0)
    # zero-cost edges would vanish from a sparse matrix: keep them with the smallest positive float
    data = np.where(data > 0, data, np.finfo(float).tiny)
    return csr_matrix((data, (np.concatenate(heads), np.concatenate(tails))), shape=(n, n))


def _run_scipy(costs_w, rows, cols, cell_size, cap, labels_w, border_mask, own, k, extra):
    from scipy.ndimage import binary_dilation
    from scipy.sparse.csgraph import dijkstra

    height, width = costs_w.shape
    graph = _cell_graph(costs_w, cell_size)
    flat_sources = np.unique(rows * width + cols)
    limit = cap if math.isfinite(cap) else np.inf
    dist, predecessors, _ = dijkstra(
        graph, directed=True, indices=flat_sources, return_predecessors=True, min_only=True, limit=limit
    )
    dist = dist.reshape(height, width)
    dist[np.unravel_index(flat_sources, (height, width))] = 0.0
    if math.isfinite(limit):
        dist[dist > limit] = np.inf
    complete_to, stop = math.inf, "exhausted"
    if border_mask is not None and border_mask.any():
        border_cost = float(np.min(dist[border_mask])) if np.isfinite(dist[border_mask]).any() else math.inf
        if math.isfinite(border_cost):
            complete_to, stop = border_cost, "border"
    if stop != "border" and math.isfinite(limit):
        reached = np.isfinite(dist)
        frontier = binary_dilation(reached, structure=np.ones((3, 3), bool)) & np.isfinite(costs_w) & ~reached
        if frontier.any():
            complete_to, stop = limit, "cap"
    # zones reached, and the k-nearest cap (as the skimage engine does it while searching)
    found = {}
    if labels_w is not None:
        zone = (labels_w >= 0) & np.isfinite(dist) & (dist <= complete_to)
        if own is not None:
            zone &= labels_w != own
        if zone.any():
            zl = labels_w[zone]
            zd = dist[zone]
            zr, zc = np.nonzero(zone)
            order = np.lexsort((zd, zl))
            zl, zd, zr, zc = zl[order], zd[order], zr[order], zc[order]
            first = np.r_[True, zl[1:] != zl[:-1]]
            for label, value, r, c in zip(zl[first], zd[first], zr[first], zc[first]):
                found[int(label)] = (float(value), int(r), int(c))
    if k and len(found) >= k:
        kth = sorted(v[0] for v in found.values())[k - 1]
        new_cap = extra(kth) if extra is not None else kth
        if new_cap < complete_to:
            complete_to, stop = new_cap, "cap"
            dist[dist > new_cap] = np.inf
            found = {label: v for label, v in found.items() if v[0] <= new_cap}
    elif stop == "border":
        dist[dist > complete_to] = np.inf
    # traceback codes from predecessors
    traceback = np.full(height * width, UNREACHED, dtype=np.int8)
    pred = predecessors.astype(np.int64)
    has = pred >= 0
    node = np.flatnonzero(has)
    dr = node // width - pred[has] // width
    dc = node % width - pred[has] % width
    lookup = np.full(9, UNREACHED, dtype=np.int8)
    for t, (orow, ocol) in enumerate(OFFSETS):
        lookup[(orow + 1) * 3 + (ocol + 1)] = t
    traceback[node] = lookup[(dr + 1) * 3 + (dc + 1)]
    traceback[flat_sources] = SOURCE
    traceback = traceback.reshape(height, width)
    traceback[~np.isfinite(dist)] = UNREACHED
    settled = int(np.count_nonzero(np.isfinite(dist)))
    return dist, traceback, OFFSETS.copy(), found, stop, complete_to, settled


# --------------------------------------------------------------------------------------------------------
# bounded search on a grid
# --------------------------------------------------------------------------------------------------------
class CostDistanceGrid:
    """A validated cost raster (and optional zone labels) on which bounded cost-distance searches run.

    Parameters
    ----------
    costs : 2-D array
        Cost per metre of each cell; NaN or inf = impassable.
    cell_size : float
        Cell size in metres (square cells).
    labels : 2-D int array, optional
        Zone of each cell (e.g. a cluster index), -1 for none; used to find the least-cost distance to zones.
    engine : {"auto", "skimage", "scipy"}
    """

    def __init__(self, costs, cell_size: float = 1.0, labels=None, engine: str = "auto"):
        self.costs = validate_costs(costs)
        self.cell_size = float(cell_size)
        if not (self.cell_size > 0 and math.isfinite(self.cell_size)):
            raise CreativeClustersError("The cell size must be positive.")
        if labels is not None:
            labels = np.asarray(labels)
            if labels.shape != self.costs.shape:
                raise CreativeClustersError("The zone labels must have the shape of the cost raster.")
        self.labels = labels
        self.engine = pick_engine(engine)
        finite = self.costs[np.isfinite(self.costs)]
        if finite.size == 0:
            raise CreativeClustersError("Every cell of the cost raster is impassable.")
        self.min_cost = float(finite.min())
        self.median_cost = float(np.median(finite))

    @property
    def shape(self):
        return self.costs.shape

    def reach_radius(self, cost: float) -> float:
        """Cells beyond this many cells (Chebyshev) from the sources cost more than ``cost`` to reach."""
        if not math.isfinite(cost):
            return math.inf
        if self.min_cost <= 0:
            return math.inf
        return cost / (self.min_cost * self.cell_size) + 1.0

    def search(
        self,
        sources,
        max_cost: float = math.inf,
        own_label: int | None = None,
        k_nearest: int | None = None,
        extra_cost=None,
        radius: float | None = None,
    ) -> CostSurface:
        """Accumulated cost from ``sources``, exact for every cell up to the cap.

        Parameters
        ----------
        sources : bool mask or (n, 2) array of (row, col)
            Source cells (cost 0). Impassable source cells are dropped.
        max_cost : float
            Cost cap (``inf`` = none).
        own_label : int, optional
            Label of the sources' own zone (not reported in ``found``).
        k_nearest : int, optional
            Once this many other zones are reached at cost L_k, lower the cap to ``extra_cost(L_k)``.
        extra_cost : callable(float) -> float, optional
            See ``k_nearest``; default identity.
        radius : float, optional
            Initial window half-size in cells around the sources' bounding box (grown ×2 as needed).
        """
        rows, cols = source_cells(sources, self.shape)
        keep = np.isfinite(self.costs[rows, cols])
        if not keep.any():
            raise CreativeClustersError("Every source cell is impassable (nodata in the cost raster).")
        rows, cols = rows[keep], cols[keep]
        height, width = self.shape
        limit_radius = self.reach_radius(max_cost)
        if radius is None:
            radius = (max_cost / (self.median_cost * self.cell_size) * 1.25 + 2) if math.isfinite(max_cost) else max(height, width)
        radius = int(min(max(math.ceil(radius), 2), math.ceil(min(limit_radius, max(height, width)))))
        rmin, rmax, cmin, cmax = int(rows.min()), int(rows.max()), int(cols.min()), int(cols.max())
        run = _run_skimage if self.engine == "skimage" else _run_scipy
        attempts = 0
        while True:
            attempts += 1
            r0, r1 = max(rmin - radius, 0), min(rmax + radius + 1, height)
            c0, c1 = max(cmin - radius, 0), min(cmax + radius + 1, width)
            border = None
            if r0 > 0 or c0 > 0 or r1 < height or c1 < width:
                border = np.zeros((r1 - r0, c1 - c0), dtype=bool)
                if r0 > 0:
                    border[0, :] = True
                if r1 < height:
                    border[-1, :] = True
                if c0 > 0:
                    border[:, 0] = True
                if c1 < width:
                    border[:, -1] = True
            labels_w = self.labels[r0:r1, c0:c1] if self.labels is not None else None
            cost, traceback, offsets, found, stop, complete_to, settled = run(
                self.costs[r0:r1, c0:c1], rows - r0, cols - c0, self.cell_size, max_cost, labels_w, border,
                own_label, k_nearest, extra_cost,
            )
            if stop != "border":
                break
            if k_nearest and len(found) >= k_nearest:
                kth = sorted(v[0] for v in found.values())[k_nearest - 1]
                need = extra_cost(kth) if extra_cost is not None else kth
                if complete_to >= need:
                    break
            if border is None or radius >= max(height, width):
                break  # cannot happen (no leaking border), kept as a guard
            radius = int(min(radius * 2, max(height, width)))
        # a border stop that satisfied the request: everything up to the border cost is exact
        found = {label: (v, r + r0, c + c0) for label, (v, r, c) in found.items()}
        return CostSurface(
            cost=cost,
            traceback=traceback,
            offsets=offsets,
            row0=r0,
            col0=c0,
            complete_to=complete_to,
            stop="cap" if stop == "border" else stop,
            found=found,
            radius=radius,
            settled=settled,
            attempts=attempts,
        )


# --------------------------------------------------------------------------------------------------------
# convenience functions
# --------------------------------------------------------------------------------------------------------
def accumulated_cost(costs, sources, cell_size: float = 1.0, max_cost: float = math.inf, engine: str = "auto") -> np.ndarray:
    """Full-grid accumulated cost from ``sources`` (``inf`` beyond ``max_cost`` or unreachable).

    Equals ``MCP_Geometric(costs, sampling=(cell_size, cell_size)).find_costs(sources)[0]`` wherever that is
    ≤ ``max_cost``, but only explores (and windows) as far as the cap.
    """
    grid = CostDistanceGrid(costs, cell_size, engine=engine)
    return grid.search(sources, max_cost=max_cost).full(grid.shape)


def least_cost_path(costs, sources, end, cell_size: float = 1.0, engine: str = "auto"):
    """(path, cost): the least-cost path (array of (row, col), source first) from ``sources`` to ``end``."""
    grid = CostDistanceGrid(costs, cell_size, engine=engine)
    end = (int(end[0]), int(end[1]))
    if not (0 <= end[0] < grid.shape[0] and 0 <= end[1] < grid.shape[1]):
        raise CreativeClustersError("The end cell lies outside the cost raster.")
    labels = np.full(grid.shape, -1, dtype=np.int32)
    labels[end] = 0
    grid.labels = labels
    surface = grid.search(sources, own_label=-1, k_nearest=1)
    if 0 not in surface.found:
        raise CreativeClustersError("The end cell cannot be reached from the sources (impassable cells).")
    return surface.path_to(*end), surface.found[0][0]


def path_length(path, cell_size: float = 1.0) -> float:
    """Length in metres of a cell path: cell size per rook step, √2 × cell size per diagonal step."""
    path = np.asarray(path)
    if len(path) < 2:
        return 0.0
    steps = np.abs(np.diff(path, axis=0)).sum(axis=1)
    return float(cell_size * (np.count_nonzero(steps == 1) + SQRT2 * np.count_nonzero(steps == 2)))


def path_cost(costs, path, cell_size: float = 1.0) -> float:
    """Accumulated cost along a cell path with the MCP_Geometric edge rule."""
    path = np.asarray(path)
    if len(path) < 2:
        return 0.0
    costs = np.asarray(costs, dtype=float)
    values = costs[path[:, 0], path[:, 1]]
    steps = np.abs(np.diff(path, axis=0)).sum(axis=1)
    lengths = np.where(steps == 2, SQRT2, 1.0) * cell_size
    return float(np.sum(0.5 * lengths * (values[:-1] + values[1:])))
