"""Corridors between creative clusters: least-cost links, normalised least-cost corridors and corridor chains.

This is an open implementation of the Linkage Mapper method (McRae & Kavanagh 2011) for creative clusters, with
a gravity-weighted cluster graph on top (Creative PEC *Geographies of Creativity* 2023 and RSA/PEC/ACE
*Creative Corridors* 2024 describe corridors as chains joining creative hotspots; they publish no method).

Steps
-----
1. **Cores.** Each cluster is rasterised on the resistance grid: a polygon to the cells whose centre it contains
   (at least the cell under its representative point), a point to its cell and the 8 around it. Cells that are
   impassable (nodata) are not part of a core. One cost-distance surface CWD_i per cluster (Dijkstra on the
   8-connected grid, see :mod:`.cost_distance`), computed only as far as needed: up to the cost of its
   ``max_neighbours``-th nearest cluster plus the corridor width, never beyond ``max_cost_distance``, on a window
   around the cluster; a surface is extended only when a later step needs more. Never one surface per pair.
2. **Candidate links.** Each cluster is linked to its ``max_neighbours`` nearest clusters by least-cost distance
   (LCD_ij = min over the cells of j of CWD_i). A link whose least-cost path crosses another cluster k is
   **split** into consecutive links i–k, k–j (a chain; Linkage Mapper drops such links). Groups of clusters that
   would stay disconnected are joined by their cheapest link, group by group (exact: caps are raised until the
   cheapest link is proven). Groups that cannot reach each other (impassable cells, or beyond
   ``max_cost_distance``) are reported, not an error.
3. **Link metrics** (Linkage Mapper's, plus gravity). ``euc_dist``: shortest Euclidean distance between the two
   cluster geometries (edge to edge); ``cost_dist``: LCD_ij; ``path_len``: length of the least-cost path between
   cell centres; ``cost_euc`` = cost_dist / euc_dist and ``cost_path`` = cost_dist / path_len (NULL when the
   distance is 0); ``gravity`` = m_i · m_j / max(cost_dist, c_min)^β with c_min the cost of one cell step on the
   cheapest ground (so touching clusters get a finite gravity).
4. **Normalised least-cost corridors.** For each link, NLCC_ij = CWD_i + CWD_j − LCD_ij (0 on the least-cost
   path), kept where NLCC_ij ≤ W_ij, with W_ij = ``width`` cost units (``width_mode`` 0) or ``width`` % of
   LCD_ij (``width_mode`` 1); the links are mosaicked by minimum into one raster, and each link's corridor is
   polygonised.
5. **Corridor chains** join *places*, not single clusters. A corridor is a string of towns or districts along a
   route; a town usually holds several clusters (the microclusters of one centre, twins, a formation-agent address
   beside a cluster), and their spacing says nothing about the route between towns. So:

   * **Places.** Two clusters are one place when they lie closer to each other than their own size: edge-to-edge
     gap ``euc_dist`` ≤ ``place_gap`` × (r_i + r_j), r = radius of the circle with the area of the cluster's core
     (single linkage over the candidate links; ``place_gap`` 0 = only overlapping or touching clusters). This is a
     geometric, unit-free rule: on South Yorkshire's creative microclusters the gap/size ratio is below 2 inside a
     town and above 2.5 between towns, and the demo region's clusters stay one place each.
   * **Strength** measures how close two clusters are compared with the layer's typical *neighbouring places*::

         strength_ij = d_ref / max(cost_dist_ij, c_min)
         d_ref       = median over places of the least-cost distance to the nearest other place

     Strength 1 = as close as a typical pair of neighbouring places; the default threshold 0.8 keeps links up to
     1.25 × that cost. Strength is scale-free (it does not depend on the units of the resistance) and mass-free, so
     one big cluster does not make every link to it "strong" (gravity builds the spanning tree ``in_mst``, the
     backbone that keeps every cluster on the graph, and ranks the chains). Because d_ref is taken between places,
     close pairs of clusters inside one town no longer shrink it and weaken every link between towns (the
     limitation of the previous, cluster-level reference).
   * **Chains.** Two places are joined by their cheapest link, if it is strong. A chain follows these
     place-to-place links by good continuation: at each place, its links are paired greedily by the smallest
     turning angle between the place centres (mass-weighted centres of the cores), at most ``max_turn`` degrees
     (default 30°), the "stroke" rule of Thomson & Richardson (1999) for road networks. Each place-to-place link
     belongs to one stroke; a place can be a junction of several chains. Strokes through ``min_chain_clusters``
     (default 3) or more places are corridors: branching hubs and compact groups (whose links turn sharply) are
     not. Inside a place a chain runs from the cluster where it arrives to the cluster where it leaves over the
     place's own links (cheapest route), so its ``clusters`` list every cluster it passes. A chain is oriented west
     to east (south to north when vertical) and ranked by total mass, then the mean strength of its links between
     places (rank 1 = the largest).

   What the defaults mean: a corridor link is at most 25 % costlier than the typical hop between neighbouring
   places, and the route bends by at most 30° at each place. They hold on the demo region (the planted chain comes
   out in order from discs or centre points, uniform or density resistance; random scatters of its clusters rarely
   give four places in a row) and on real data: South Yorkshire's creative microclusters (Companies House, stacked
   addresses excluded, DBSCAN 250 m / 10 firms, motorways as transport) give a chain from east Sheffield through
   the Advanced Manufacturing Park at M1 junction 33 to the M1/M18 junction 31 area (see the tests). Coarser
   microclusters (fewer, larger ones) may give no chain: then no three places line up with close enough links.

Reference: McRae B.H., Kavanagh D.M. (2011) *Linkage Mapper Connectivity Analysis Software*, The Nature
Conservancy; Adriaensen F. et al. (2003) Landscape and Urban Planning 64(4); Thomson R.C., Richardson D.E.
(1999) *The 'good continuation' principle of perceptual organization applied to the generalization of road
networks*, Proc. 19th International Cartographic Conference.

Code layout
-----------
This module holds the method's parameters and their checks (:class:`CorridorSettings`, :class:`Clusters`), its result
(:class:`CorridorResult`), the building blocks the steps use (:func:`rasterise_cores`, :func:`maximum_spanning_forest`, :func:`chain_strokes`, :func:`group_places`,
:func:`place_reference`, :func:`find_chains`) and the analysis-grid rules of the Processing adapter (automatic cell
size, grid margins, analysis CRS). The entry point :func:`.corridor_steps.detect_corridors` and the steps
themselves, one function per step with a small dataclass per intermediate result, are in :mod:`.corridor_steps`.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING

import numpy as np

from ..errors import CreativeClustersError
from ..memory import available_memory
from .grid import Grid
from .resistance import (
    auto_cell_size,
    check_grid_memory,
    crs_to_wkt,
    grid_for_raster,
    grid_from_bounds,
    is_geographic,
    nice_cell_size,
)

if TYPE_CHECKING:
    import pandas as pd


class WidthMode(IntEnum):
    """How WIDTH is read: 0 = cost units above the least cost, 1 = percent above the least cost."""

    COST = 0
    PERCENT = 1


LINK_COLUMNS = [
    "link_id", "from_id", "to_id", "from_index", "to_index", "euc_dist", "cost_dist", "path_len", "cost_euc",
    "cost_path", "gravity", "strength", "in_mst", "strong", "in_chain", "corridor_id", "origin", "split_from",
]
CORRIDOR_COLUMNS = ["corridor_id", "clusters", "n_clusters", "total_mass", "length_m", "mean_strength", "rank"]


@dataclass
class CoreRaster:
    """Cells of each cluster on the grid. ``cells[i]`` = (rows, cols) (empty when outside or impassable);
    ``labels`` int32 grid (-1 none; a cell shared by overlapping clusters keeps the first cluster);
    ``shared`` maps a flat cell index to the set of clusters that share it; ``status[i]`` is "ok", "outside",
    "impassable" or "empty"."""

    cells: list
    labels: np.ndarray
    shared: dict
    overlaps: dict
    status: list
    warnings: list = field(default_factory=list)


@dataclass
class CorridorResult:
    """Output of :func:`.corridor_steps.detect_corridors`.

    ``links`` (GeoDataFrame, LineString least-cost paths) with :data:`LINK_COLUMNS`; ``corridors``
    (GeoDataFrame, polygons, one per chain) with :data:`CORRIDOR_COLUMNS` plus ``cluster_ids`` (list);
    ``surface`` float32 normalised least-cost corridor raster on ``grid`` (NaN outside every corridor);
    ``clusters`` one row per input cluster; ``unreachable`` groups of cluster ids that cannot reach the other
    clusters; ``log`` lines for the user; ``warnings``; ``stats`` (counts, reference values)."""

    links: object
    corridors: object
    surface: np.ndarray
    grid: Grid
    clusters: pd.DataFrame
    unreachable: list
    log: list
    warnings: list
    stats: dict


@dataclass
class Clusters:
    """The checked clusters: ``geometries`` (list), ``masses`` (float array, NULL read as 0) and ``ids`` (list)."""

    geometries: list
    masses: np.ndarray
    ids: list

    @property
    def n(self) -> int:
        """Number of clusters given (active or not)."""
        return len(self.geometries)


@dataclass
class CorridorSettings:
    """The checked parameters of :func:`.corridor_steps.detect_corridors` (``max_cost`` is ``inf`` when there is no cap)."""

    max_neighbours: int = 4
    max_cost: float = math.inf
    width: float = 10.0
    width_mode: int = WidthMode.PERCENT
    beta: float = 1.0
    strength_threshold: float = 0.8
    max_turn: float = 30.0
    min_chain_clusters: int = 3
    place_gap: float = 1.0
    engine: str = "auto"

    @property
    def in_percent(self) -> bool:
        """True when the width is a percentage of the least cost (width mode 1)."""
        return int(self.width_mode) == WidthMode.PERCENT

    def corridor_width(self, lcd: float) -> float:
        """Width W_ij of the corridor of a link of least cost ``lcd`` (cost units above the least cost)."""
        if self.in_percent:
            return lcd * (float(self.width) / 100.0)
        return float(self.width)

    def reach(self, lcd: float) -> float:
        """Cost up to which the surfaces of a link of least cost ``lcd`` are needed: ``lcd`` + its corridor width."""
        return lcd + self.corridor_width(lcd)


# --------------------------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------------------------
def check_clusters(geometries, masses, ids=None) -> tuple[Clusters, list]:
    """The clusters checked (at least two, one mass and one id each, no negative mass) and the warnings
    (NULL masses counted as 0)."""
    import pandas as pd

    warnings = []
    geometries = list(geometries)
    n = len(geometries)
    if n == 0:
        raise CreativeClustersError("There is no cluster: a corridor joins at least two clusters.")
    if n == 1:
        raise CreativeClustersError(
            "Only one cluster was given: a corridor joins two or more clusters, so no corridor is possible. "
            "Use a layer with several clusters (e.g. the microclusters or hotspot areas of a whole region)."
        )
    masses = pd.to_numeric(pd.Series(list(masses)), errors="coerce").to_numpy(dtype=float)
    if masses.shape[0] != n:
        raise CreativeClustersError("There must be one mass per cluster.")
    if np.any(masses < 0):
        raise CreativeClustersError("Cluster masses must be zero or positive (a count of firms or jobs).")
    missing = ~np.isfinite(masses)
    if missing.any():
        warnings.append(f"{int(missing.sum())} cluster(s) have no mass (NULL); they count as 0 (gravity 0).")
        masses = np.where(missing, 0.0, masses)
    ids = list(range(1, n + 1)) if ids is None else list(ids)
    if len(ids) != n:
        raise CreativeClustersError("There must be one id per cluster.")
    return Clusters(geometries, masses, ids), warnings


def check_settings(
    max_neighbours=4, max_cost_distance=0.0, width=10.0, width_mode=WidthMode.PERCENT, beta=1.0,
    strength_threshold=0.8, max_turn=30.0, min_chain_clusters=3, place_gap=1.0, engine="auto",
) -> CorridorSettings:
    """The parameters of :func:`.corridor_steps.detect_corridors` checked (a clear error for each bad value) as settings."""
    max_neighbours = int(max_neighbours)
    if max_neighbours < 1:
        raise CreativeClustersError("MAX_NEIGHBOURS must be at least 1.")
    if width < 0 or not math.isfinite(width):
        raise CreativeClustersError("WIDTH must be zero or a positive number.")
    if int(width_mode) not in (WidthMode.COST, WidthMode.PERCENT):
        raise CreativeClustersError("WIDTH_MODE must be 0 (cost units) or 1 (percent above the least cost).")
    if beta < 0 or not math.isfinite(beta):
        raise CreativeClustersError("BETA must be zero or positive.")
    if strength_threshold < 0:
        raise CreativeClustersError("The strength threshold must be zero or positive.")
    if place_gap < 0 or not math.isfinite(place_gap):
        raise CreativeClustersError("The place gap must be zero or a positive number.")
    if not 0 <= max_turn <= 180:
        raise CreativeClustersError("The maximum turning angle must be between 0 and 180 degrees.")
    max_cost = float(max_cost_distance) if max_cost_distance and max_cost_distance > 0 else math.inf
    return CorridorSettings(
        max_neighbours=max_neighbours, max_cost=max_cost, width=width, width_mode=width_mode, beta=beta,
        strength_threshold=strength_threshold, max_turn=max_turn, min_chain_clusters=min_chain_clusters,
        place_gap=place_gap, engine=engine,
    )


def check_resistance(resistance, grid: Grid, memory_limit: int | None = None) -> tuple[np.ndarray, int]:
    """The resistance as float64 on ``grid`` (an error when it does not match or the grid does not fit in
    memory) and the memory budget (bytes) for the cost-distance surfaces."""
    resistance = np.asarray(resistance, dtype=np.float64)
    if resistance.shape != grid.shape:
        raise CreativeClustersError("The resistance raster does not match the analysis grid.")
    check_grid_memory(grid.height, grid.width, memory_limit=memory_limit)
    budget = memory_limit if memory_limit is not None else int(0.6 * (available_memory() or 8 * 2**30))
    return resistance, budget


# --------------------------------------------------------------------------------------------------------
# the analysis grid (the rules of the Processing adapter, without QGIS)
# --------------------------------------------------------------------------------------------------------
def analysis_crs_wkt(resistance=None, density=None) -> str | None:
    """WKT of the analysis CRS the rasters decide: the resistance (else density) raster's CRS when it is
    projected; None when there is no raster, it has no CRS or it is geographic (the clusters' CRS is used)."""
    raster = resistance if resistance is not None else density
    if raster is not None and raster.crs is not None and not is_geographic(raster.crs):
        return crs_to_wkt(raster.crs)
    return None


def cluster_cell_size(bounds) -> float:
    """Automatic cell size with no raster: a round number giving about 1,000 cells along 1.3 × the larger side
    of the clusters' extent (``bounds`` = xmin, ymin, xmax, ymax)."""
    xmin, ymin, xmax, ymax = bounds
    span = max(xmax - xmin, ymax - ymin, 1.0)
    return nice_cell_size(span * 1.3, 1000)


def cluster_grid(bounds, cell_size: float, crs=None) -> Grid:
    """Analysis grid with no raster: the clusters' extent plus a margin of 15 % of its larger side and two cells."""
    xmin, ymin, xmax, ymax = bounds
    span = max(xmax - xmin, ymax - ymin, 1.0)
    return grid_from_bounds((xmin, ymin, xmax, ymax), cell_size, crs, margin=0.15 * span + 2 * cell_size)


def empty_output_grid(bounds, cell_size: float, crs=None) -> Grid:
    """Grid of the (nodata) corridor raster written when there are fewer than two clusters: their extent plus one
    cell, at ``cell_size`` or 100 m."""
    return grid_from_bounds(tuple(float(b) for b in bounds), cell_size or 100.0, crs, margin=cell_size or 100.0)


def analysis_grid(bounds, cell_size: float, crs=None, resistance=None, density=None, crs_name: str = "the analysis CRS",
                  info=None, warning=None) -> Grid:
    """The analysis grid: the resistance (else density) raster's own grid, or a grid over it at ``cell_size`` (chosen
    automatically for a geographic raster), else a grid over the clusters' ``bounds`` (:func:`cluster_grid`, cell size
    :func:`cluster_cell_size` when 0). ``info``/``warning`` receive the messages for the user as they arise."""
    info = info or (lambda text: None)
    warning = warning or (lambda text: None)
    raster = resistance if resistance is not None else density
    if raster is None:
        if not cell_size:
            cell_size = cluster_cell_size(bounds)
            info(f"Cell size chosen automatically: {cell_size:g} m.")
        return cluster_grid(bounds, cell_size, crs)
    if raster.crs is not None and is_geographic(raster.crs):
        warning(
            "The raster is in a geographic CRS (degrees): it is warped onto a grid in "
            f"{crs_name} (average resampling; a cell is nodata when half of it is)."
        )
        if not cell_size:
            cell_size = auto_cell_size(raster, crs)
            info(f"Cell size chosen automatically: {cell_size:g} m.")
    grid = grid_for_raster(raster, cell_size, crs)
    if (resistance is not None and density is not None) or (cell_size and not math.isclose(cell_size, abs(raster.transform.a))):
        info("Rasters are resampled onto the analysis grid (average of the finer cells).")
    return grid


# --------------------------------------------------------------------------------------------------------
# step 1: cores
# --------------------------------------------------------------------------------------------------------
_NO_CELLS = (np.empty(0, np.int64), np.empty(0, np.int64))


def _is_point(geom) -> bool:
    """True for a point or multipoint."""
    return geom.geom_type in ("Point", "MultiPoint")


def _is_polygon(geom) -> bool:
    """True for a polygon or multipolygon."""
    return geom.geom_type in ("Polygon", "MultiPolygon")


def _geometry_parts(geom):
    """The parts of a multi-geometry (the geometry itself when single)."""
    return list(getattr(geom, "geoms", [geom]))


def _point_cells(geom, grid: Grid):
    """(rows, cols) of the 3 × 3 block of cells around each part of a (multi)point, clipped to the grid."""
    height, width = grid.shape
    rr, cc = [], []
    for part in _geometry_parts(geom):
        r, c = grid.rowcol(part.x, part.y)
        if 0 <= r < height and 0 <= c < width:
            dr, dc = np.meshgrid(np.arange(-1, 2), np.arange(-1, 2), indexing="ij")
            rr.append(r + dr.ravel())
            cc.append(c + dc.ravel())
    if not rr:
        return _NO_CELLS
    rows, cols = np.concatenate(rr), np.concatenate(cc)
    ok = (rows >= 0) & (cols >= 0) & (rows < height) & (cols < width)
    return rows[ok], cols[ok]


def _polygon_cells(geom, grid: Grid):
    """(rows, cols) of the cells whose centre a (multi)polygon contains; else the cells it touches; else the cell
    under its representative point (empty when outside the grid)."""
    from rasterio.features import rasterize

    height, width = grid.shape
    xmin, ymin, xmax, ymax = geom.bounds
    r_top, c_left = grid.rowcol(xmin, ymax)
    r_bottom, c_right = grid.rowcol(xmax, ymin)
    r0, r1 = max(int(r_top), 0), min(int(r_bottom) + 1, height)
    c0, c1 = max(int(c_left), 0), min(int(c_right) + 1, width)
    rows, cols = _NO_CELLS
    if r0 < r1 and c0 < c1:
        transform = grid.window_transform(r0, c0)
        shape = (r1 - r0, c1 - c0)
        for touched in (False, True):
            mask = rasterize([(geom, 1)], out_shape=shape, transform=transform, fill=0, all_touched=touched, dtype="uint8")
            rows, cols = np.nonzero(mask)
            if rows.size:
                rows, cols = rows + r0, cols + c0
                break
    if rows.size == 0:
        point = geom.representative_point()
        r, c = grid.rowcol(point.x, point.y)
        if 0 <= r < height and 0 <= c < width:
            rows, cols = np.array([int(r)]), np.array([int(c)])
    return rows, cols


def _label_core(i: int, rows, cols, labels: np.ndarray, shared: dict, overlaps: dict) -> None:
    """Write cluster ``i``'s cells into ``labels``; cells already labelled go to ``shared`` and ``overlaps``."""
    width = labels.shape[1]
    existing = labels[rows, cols]
    clash = existing >= 0
    if clash.any():
        flat = rows[clash] * width + cols[clash]
        for f, other in zip(flat.tolist(), existing[clash].tolist()):
            shared.setdefault(f, {other}).add(i)
            overlaps.setdefault((other, i), f)
        free = ~clash
        labels[rows[free], cols[free]] = i
    else:
        labels[rows, cols] = i


def rasterise_cores(geometries, grid: Grid, resistance: np.ndarray | None = None) -> CoreRaster:
    """Cells of each cluster geometry (polygons: cells whose centre is inside, at least one; points: the
    3 × 3 block around the point). Impassable cells of ``resistance`` are left out of the cores."""
    labels = np.full(grid.shape, -1, dtype=np.int32)
    cells, status, warnings = [], [], []
    shared: dict = {}
    overlaps: dict = {}
    partly_outside = 0
    gxmin, gymin, gxmax, gymax = grid.bounds
    for i, geom in enumerate(geometries):
        if geom is None or geom.is_empty:
            cells.append(_NO_CELLS)
            status.append("empty")
            continue
        xmin, ymin, xmax, ymax = geom.bounds
        if xmin < gxmin or ymin < gymin or xmax > gxmax or ymax > gymax:
            partly_outside += 1
        if _is_point(geom):
            rows, cols = _point_cells(geom, grid)
        elif _is_polygon(geom):
            rows, cols = _polygon_cells(geom, grid)
        else:
            raise CreativeClustersError(
                f"Cluster {i + 1} is a {geom.geom_type}: clusters must be polygons (cluster areas) or points "
                "(cluster centres)."
            )
        rows, cols = rows.astype(np.int64), cols.astype(np.int64)
        if rows.size == 0:
            cells.append(_NO_CELLS)
            status.append("outside")
            continue
        if resistance is not None:
            ok = np.isfinite(resistance[rows, cols])
            if not ok.any():
                cells.append(_NO_CELLS)
                status.append("impassable")
                continue
            rows, cols = rows[ok], cols[ok]
        _label_core(i, rows, cols, labels, shared, overlaps)
        cells.append((rows, cols))
        status.append("ok")
    if partly_outside:
        warnings.append(f"{partly_outside} cluster(s) extend beyond the resistance grid; only their part inside is used.")
    return CoreRaster(cells=cells, labels=labels, shared=shared, overlaps=overlaps, status=status, warnings=warnings)


# --------------------------------------------------------------------------------------------------------
# graph building blocks: spanning forest, strokes, places, chains
# --------------------------------------------------------------------------------------------------------
def _find_root(parent, x):
    """Root of ``x`` in a union-find ``parent`` table (list or dict), halving the path on the way."""
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


def maximum_spanning_forest(n_nodes: int, edges, weights, tie_break=None) -> np.ndarray:
    """Kruskal's maximum spanning forest: a boolean per edge ((a, b) pairs), heaviest ``weights`` first
    (ties: smaller ``tie_break`` first, then edge order)."""
    parent = list(range(n_nodes))
    tie_break = np.zeros(len(edges)) if tie_break is None else np.asarray(tie_break, dtype=float)
    order = sorted(range(len(edges)), key=lambda k: (-float(weights[k]), float(tie_break[k]), k))
    in_tree = np.zeros(len(edges), dtype=bool)
    for k in order:
        a, b = edges[k]
        ra, rb = _find_root(parent, a), _find_root(parent, b)
        if ra != rb:
            parent[ra] = rb
            in_tree[k] = True
    return in_tree


def deflection(previous_xy, node_xy, next_xy) -> float:
    """Turning angle in degrees at ``node`` when going previous → node → next (0 = straight on)."""
    v1 = np.subtract(node_xy, previous_xy, dtype=float)
    v2 = np.subtract(next_xy, node_xy, dtype=float)
    n1, n2 = np.hypot(*v1), np.hypot(*v2)
    if n1 == 0 or n2 == 0:
        return 0.0
    cosine = float(np.clip(np.dot(v1, v2) / (n1 * n2), -1.0, 1.0))
    return math.degrees(math.acos(cosine))


def _other_end(edge, node):
    """The end of ``edge`` (a, b) that is not ``node``."""
    a, b = edge
    return b if node == a else a


def _stroke_partners(edges: list, centres: dict, max_turn: float) -> dict:
    """At every node, incident edges paired greedily by the smallest turning angle (at most ``max_turn``):
    {(node, edge): partner edge}."""
    incident: dict = {}
    for k, (a, b) in enumerate(edges):
        incident.setdefault(a, []).append(k)
        incident.setdefault(b, []).append(k)
    partner: dict = {}
    for node in sorted(incident):
        options = []
        links_here = incident[node]
        for x in range(len(links_here)):
            for y in range(x + 1, len(links_here)):
                e1, e2 = links_here[x], links_here[y]
                turn = deflection(centres[_other_end(edges[e1], node)], centres[node], centres[_other_end(edges[e2], node)])
                if turn <= max_turn:
                    options.append((turn, e1, e2))
        used: set = set()
        for turn, e1, e2 in sorted(options):
            if e1 in used or e2 in used:
                continue
            used |= {e1, e2}
            partner[(node, e1)] = e2
            partner[(node, e2)] = e1
    return partner


def _walk_stroke(node, edge, edges: list, partner: dict, visited: set) -> list:
    """Nodes reached from ``node`` by following paired edges, starting after ``edge`` (edges taken go to ``visited``)."""
    sequence = []
    while (node, edge) in partner:
        edge = partner[(node, edge)]
        if edge in visited:
            break
        visited.add(edge)
        node = _other_end(edges[edge], node)
        sequence.append(node)
    return sequence


def chain_strokes(edges, centres: dict, max_turn: float = 60.0) -> list:
    """Split a forest of links into strokes by good continuation (Thomson & Richardson 1999).

    At every cluster, incident links are paired greedily by the smallest turning angle, if it is at most
    ``max_turn`` degrees; a stroke follows paired links through clusters. Returns node sequences (≥ 2
    clusters), each link in exactly one stroke.
    """
    edges = [tuple(e) for e in edges]
    partner = _stroke_partners(edges, centres, max_turn)
    visited: set = set()
    strokes = []
    for k in range(len(edges)):
        if k in visited:
            continue
        visited.add(k)
        a, b = edges[k]
        forward = _walk_stroke(b, k, edges, partner, visited)
        backward = _walk_stroke(a, k, edges, partner, visited)
        strokes.append(backward[::-1] + [a, b] + forward)
    return strokes


def group_places(active, link_gaps, radii: dict, place_gap: float = 1.0) -> dict:
    """Places: clusters joined (single linkage) when their edge-to-edge gap is at most ``place_gap`` × the sum of
    their radii, i.e. when they lie closer to each other than their own size (the twins and satellites of one
    town). ``link_gaps`` = ((a, b), gap) for the candidate links; ``radii[i]`` = radius of the circle with the area
    of cluster i's core. Returns {cluster index: place number}, places numbered by their first cluster."""
    parent = {i: i for i in active}
    for (a, b), gap in link_gaps:
        if a in parent and b in parent and gap <= place_gap * (radii[a] + radii[b]):
            ra, rb = _find_root(parent, a), _find_root(parent, b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    number: dict = {}
    return {i: number.setdefault(_find_root(parent, i), len(number)) for i in sorted(active)}


def place_reference(place_of: dict, reached: dict, link_costs, c_min: float) -> float:
    """d_ref: median, over places, of the least-cost distance from a place to the nearest other place (each
    floored at one cell step ``c_min``); ``c_min`` when there is a single place."""
    offers = [(i, j, cost) for i, found in reached.items() for cost, j in found]
    for (a, b), cost in link_costs:
        offers.extend([(a, b, cost), (b, a, cost)])
    nearest: dict = {}
    for i, j, cost in offers:
        if i in place_of and j in place_of and place_of[i] != place_of[j]:
            p = place_of[i]
            nearest[p] = min(nearest.get(p, math.inf), cost)
    values = [max(v, c_min) for v in nearest.values() if math.isfinite(v)]
    return float(np.median(values)) if values else float(c_min)


def _path_inside(place_links, start: int, end: int):
    """Cheapest route from cluster ``start`` to ``end`` over the links inside one place: (clusters, link rows);
    ([start, end], []) when those links do not join them."""
    if start == end:
        return [start], []
    adjacent: dict = {}
    for k, a, b, cost in place_links:
        adjacent.setdefault(a, []).append((cost, b, k))
        adjacent.setdefault(b, []).append((cost, a, k))
    best = {start: (0.0, None, None)}
    heap = [(0.0, start)]
    while heap:
        d, node = heapq.heappop(heap)
        if node == end:
            break
        if d > best[node][0]:
            continue
        for cost, other, k in adjacent.get(node, []):
            if other not in best or d + cost < best[other][0]:
                best[other] = (d + cost, node, k)
                heapq.heappush(heap, (d + cost, other))
    if end not in best:
        return [start, end], []
    nodes, ks = [end], []
    while nodes[-1] != start:
        _, previous, k = best[nodes[-1]]
        nodes.append(previous)
        ks.append(k)
    return nodes[::-1], ks[::-1]


def find_chains(links, place_of: dict, place_centres: dict, max_turn: float = 30.0, min_places: int = 3, tolerance: float = 0.0):
    """Corridor chains on the graph of places.

    ``links`` = ((a, b), cost, strong) per link row. Two places are joined by their cheapest link, if it is
    strong; strokes of good continuation (:func:`chain_strokes`, turning angles measured at the place centres) through
    ``min_places`` or more places are chains. Inside a place a chain goes from the cluster where it arrives to the
    cluster where it leaves over the place's own links (cheapest route). Returns (clusters in order, link rows of
    the chain, link rows between places) per chain, oriented west to east (south to north when the ends are
    within ``tolerance`` of the same easting).
    """
    best: dict = {}
    inside: dict = {}
    for k, ((a, b), cost, strong) in enumerate(links):
        pa, pb = place_of.get(a), place_of.get(b)
        if pa is None or pb is None:
            continue
        if pa == pb:
            inside.setdefault(pa, []).append((k, a, b, cost))
            continue
        pair = (min(pa, pb), max(pa, pb))
        if strong and (pair not in best or (cost, k) < (best[pair][1], best[pair][0])):
            best[pair] = (k, cost)
    strokes = chain_strokes(sorted(best), place_centres, max_turn)
    chains = []
    for stroke in strokes:
        if len(stroke) < max(int(min_places), 2):
            continue
        first, last = place_centres[stroke[0]], place_centres[stroke[-1]]
        if math.isclose(first[0], last[0], abs_tol=tolerance):
            if first[1] > last[1]:
                stroke = stroke[::-1]
        elif first[0] > last[0]:
            stroke = stroke[::-1]
        sequence, chain_rows, between = [], [], []
        for here, there in zip(stroke[:-1], stroke[1:]):
            k = best[(min(here, there), max(here, there))][0]
            a, b = links[k][0]
            if place_of[a] != here:
                a, b = b, a
            if sequence:
                nodes, ks = _path_inside(inside.get(here, []), sequence[-1], a)
                sequence.extend(nodes[1:])
                chain_rows.extend(ks)
            else:
                sequence.append(a)
            sequence.append(b)
            chain_rows.append(k)
            between.append(k)
        chains.append((sequence, chain_rows, between))
    return chains


