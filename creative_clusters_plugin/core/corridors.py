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
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
import pandas as pd

from .cost_distance import CostDistanceGrid, path_length
from .errors import CreativeClustersError, check_callback
from .memory import available_memory, format_bytes
from .resistance import Grid, check_grid_memory


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
    """Output of :func:`detect_corridors`.

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


# --------------------------------------------------------------------------------------------------------
# step 1: cores
# --------------------------------------------------------------------------------------------------------
def _is_point(geom) -> bool:
    return geom.geom_type in ("Point", "MultiPoint")


def _is_polygon(geom) -> bool:
    return geom.geom_type in ("Polygon", "MultiPolygon")


def _geometry_parts(geom):
    return list(getattr(geom, "geoms", [geom]))


def rasterise_cores(geometries, grid: Grid, resistance: np.ndarray | None = None) -> CoreRaster:
    """Cells of each cluster geometry (polygons: cells whose centre is inside, at least one; points: the
    3 × 3 block around the point). Impassable cells of ``resistance`` are left out of the cores."""
    from rasterio.features import rasterize

    height, width = grid.shape
    labels = np.full(grid.shape, -1, dtype=np.int32)
    cells, status, warnings = [], [], []
    shared: dict = {}
    overlaps: dict = {}
    partly_outside = 0
    gxmin, gymin, gxmax, gymax = grid.bounds
    for i, geom in enumerate(geometries):
        empty = (np.empty(0, np.int64), np.empty(0, np.int64))
        if geom is None or geom.is_empty:
            cells.append(empty)
            status.append("empty")
            continue
        xmin, ymin, xmax, ymax = geom.bounds
        if xmin < gxmin or ymin < gymin or xmax > gxmax or ymax > gymax:
            partly_outside += 1
        if _is_point(geom):
            rr, cc = [], []
            for part in _geometry_parts(geom):
                r, c = grid.rowcol(part.x, part.y)
                if 0 <= r < height and 0 <= c < width:
                    dr, dc = np.meshgrid(np.arange(-1, 2), np.arange(-1, 2), indexing="ij")
                    rr.append(r + dr.ravel())
                    cc.append(c + dc.ravel())
            if rr:
                rows, cols = np.concatenate(rr), np.concatenate(cc)
                ok = (rows >= 0) & (cols >= 0) & (rows < height) & (cols < width)
                rows, cols = rows[ok], cols[ok]
            else:
                rows, cols = empty
        elif _is_polygon(geom):
            r_top, c_left = grid.rowcol(xmin, ymax)
            r_bottom, c_right = grid.rowcol(xmax, ymin)
            r0, r1 = max(int(r_top), 0), min(int(r_bottom) + 1, height)
            c0, c1 = max(int(c_left), 0), min(int(c_right) + 1, width)
            rows, cols = empty
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
        else:
            raise CreativeClustersError(
                f"Cluster {i + 1} is a {geom.geom_type}: clusters must be polygons (cluster areas) or points "
                "(cluster centres)."
            )
        rows, cols = rows.astype(np.int64), cols.astype(np.int64)
        if rows.size == 0:
            cells.append(empty)
            status.append("outside")
            continue
        if resistance is not None:
            ok = np.isfinite(resistance[rows, cols])
            if not ok.any():
                cells.append(empty)
                status.append("impassable")
                continue
            rows, cols = rows[ok], cols[ok]
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
        cells.append((rows, cols))
        status.append("ok")
    if partly_outside:
        warnings.append(f"{partly_outside} cluster(s) extend beyond the resistance grid; only their part inside is used.")
    return CoreRaster(cells=cells, labels=labels, shared=shared, overlaps=overlaps, status=status, warnings=warnings)


# --------------------------------------------------------------------------------------------------------
# the pipeline
# --------------------------------------------------------------------------------------------------------
@dataclass
class _Pair:
    cost: float
    src: int
    end: tuple


def _width_function(width: float, width_mode: int):
    if int(width_mode) == WidthMode.PERCENT:
        fraction = float(width) / 100.0
        return lambda lcd: lcd * fraction
    return lambda lcd: float(width)


def _simplify_path(points: np.ndarray) -> np.ndarray:
    """Drop the vertices of straight runs of a cell path (keeps its shape and length)."""
    if len(points) <= 2:
        return points
    steps = np.diff(points, axis=0)
    turn = np.any(steps[1:] != steps[:-1], axis=1)
    keep = np.r_[True, turn, True]
    return points[keep]


def maximum_spanning_forest(n_nodes: int, edges, weights, tie_break=None) -> np.ndarray:
    """Kruskal's maximum spanning forest: a boolean per edge ((a, b) pairs), heaviest ``weights`` first
    (ties: smaller ``tie_break`` first, then edge order)."""
    parent = list(range(n_nodes))

    def root(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    tie_break = np.zeros(len(edges)) if tie_break is None else np.asarray(tie_break, dtype=float)
    order = sorted(range(len(edges)), key=lambda k: (-float(weights[k]), float(tie_break[k]), k))
    in_tree = np.zeros(len(edges), dtype=bool)
    for k in order:
        a, b = edges[k]
        ra, rb = root(a), root(b)
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


def chain_strokes(edges, centres: dict, max_turn: float = 60.0) -> list:
    """Split a forest of links into strokes by good continuation (Thomson & Richardson 1999).

    At every cluster, incident links are paired greedily by the smallest turning angle, if it is at most
    ``max_turn`` degrees; a stroke follows paired links through clusters. Returns node sequences (≥ 2
    clusters), each link in exactly one stroke.
    """
    edges = [tuple(e) for e in edges]
    incident: dict = {}
    for k, (a, b) in enumerate(edges):
        incident.setdefault(a, []).append(k)
        incident.setdefault(b, []).append(k)

    def other(k, node):
        a, b = edges[k]
        return b if node == a else a

    partner: dict = {}
    for node in sorted(incident):
        options = []
        links_here = incident[node]
        for x in range(len(links_here)):
            for y in range(x + 1, len(links_here)):
                e1, e2 = links_here[x], links_here[y]
                turn = deflection(centres[other(e1, node)], centres[node], centres[other(e2, node)])
                if turn <= max_turn:
                    options.append((turn, e1, e2))
        used: set = set()
        for turn, e1, e2 in sorted(options):
            if e1 in used or e2 in used:
                continue
            used |= {e1, e2}
            partner[(node, e1)] = e2
            partner[(node, e2)] = e1

    def walk(node, edge, visited):
        sequence = []
        while (node, edge) in partner:
            edge = partner[(node, edge)]
            if edge in visited:
                break
            visited.add(edge)
            node = other(edge, node)
            sequence.append(node)
        return sequence

    visited: set = set()
    strokes = []
    for k in range(len(edges)):
        if k in visited:
            continue
        visited.add(k)
        a, b = edges[k]
        forward = walk(b, k, visited)
        backward = walk(a, k, visited)
        strokes.append(backward[::-1] + [a, b] + forward)
    return strokes


def group_places(active, link_gaps, radii: dict, place_gap: float = 1.0) -> dict:
    """Places: clusters joined (single linkage) when their edge-to-edge gap is at most ``place_gap`` × the sum of
    their radii, i.e. when they lie closer to each other than their own size (the twins and satellites of one
    town). ``link_gaps`` = ((a, b), gap) for the candidate links; ``radii[i]`` = radius of the circle with the area
    of cluster i's core. Returns {cluster index: place number}, places numbered by their first cluster."""
    parent = {i: i for i in active}

    def root(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for (a, b), gap in link_gaps:
        if a in parent and b in parent and gap <= place_gap * (radii[a] + radii[b]):
            ra, rb = root(a), root(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    number: dict = {}
    return {i: number.setdefault(root(i), len(number)) for i in sorted(active)}


def place_reference(place_of: dict, reached: dict, link_costs, c_min: float) -> float:
    """d_ref: median, over places, of the least-cost distance from a place to the nearest other place (each
    floored at one cell step ``c_min``); ``c_min`` when there is a single place."""
    nearest: dict = {}

    def offer(i, j, cost):
        if i in place_of and j in place_of and place_of[i] != place_of[j]:
            p = place_of[i]
            nearest[p] = min(nearest.get(p, math.inf), cost)

    for i, found in reached.items():
        for cost, j in found:
            offer(i, j, cost)
    for (a, b), cost in link_costs:
        offer(a, b, cost)
        offer(b, a, cost)
    values = [max(v, c_min) for v in nearest.values() if math.isfinite(v)]
    return float(np.median(values)) if values else float(c_min)


def _place_centres(place_of: dict, centres: dict, masses) -> dict:
    """Mass-weighted centre of each place's cluster cores (plain mean when the place has no mass)."""
    members: dict = {}
    for i, p in place_of.items():
        members.setdefault(p, []).append(i)
    out = {}
    for p, nodes in members.items():
        xy = np.array([centres[i] for i in nodes], dtype=float)
        w = np.array([masses[i] for i in nodes], dtype=float)
        w = w if w.sum() > 0 else np.ones(len(nodes))
        out[p] = (float(np.average(xy[:, 0], weights=w)), float(np.average(xy[:, 1], weights=w)))
    return out


def _path_inside(place_links, start: int, end: int):
    """Cheapest route from cluster ``start`` to ``end`` over the links inside one place: (clusters, link rows);
    ([start, end], []) when those links do not join them."""
    import heapq

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


def detect_corridors(
    geometries,
    masses,
    resistance: np.ndarray,
    grid: Grid,
    ids=None,
    max_neighbours: int = 4,
    max_cost_distance: float = 0.0,
    width: float = 10.0,
    width_mode: int = WidthMode.PERCENT,
    beta: float = 1.0,
    strength_threshold: float = 0.8,
    max_turn: float = 30.0,
    min_chain_clusters: int = 3,
    place_gap: float = 1.0,
    engine: str = "auto",
    callback=None,
    memory_limit: int | None = None,
    log_callback=None,
) -> CorridorResult:
    """Least-cost links, normalised least-cost corridors and corridor chains between clusters.

    Parameters
    ----------
    geometries : sequence of shapely geometries
        Cluster polygons or points, in the grid CRS (projected, metres).
    masses : sequence of float
        Mass of each cluster (firms, jobs …); NULL/NaN counts as 0 (with a warning), negative is an error.
    resistance : 2-D float array on ``grid``
        Cost per metre of each cell; ``inf``/NaN = impassable (see :mod:`.resistance`).
    grid : Grid
        The analysis grid.
    ids : sequence, optional
        Identifier of each cluster written to ``from_id``/``to_id`` (default 1..n).
    max_neighbours : int
        Candidate links per cluster (its nearest by least-cost distance). Default 4 (Linkage Mapper's demo).
    max_cost_distance : float
        Cost cap: links and corridors costlier than this are never searched (0 = no cap).
    width, width_mode
        Corridor cut-off: ``width`` cost units (mode 0) or ``width`` % above the least cost (mode 1).
    beta : float
        Distance decay of the gravity (mass_i · mass_j / cost^β). Default 1.
    strength_threshold : float
        Links with ``strength`` ≥ this are strong and can join places into chains (see module docstring). Default
        0.8.
    max_turn : float
        Largest turning angle (degrees) of a chain at a place. Default 30.
    min_chain_clusters : int
        Places a chain must pass through (default 3).
    place_gap : float
        Clusters whose edge-to-edge gap is at most ``place_gap`` × the sum of their radii are one place (default 1;
        0 = only overlapping or touching clusters).
    engine : {"auto", "skimage", "scipy"}
        Dijkstra engine (see :mod:`.cost_distance`).
    callback : callable(fraction) -> bool, optional
        Progress; returning True cancels (:class:`CancelledError`).
    memory_limit : int, optional
        Bytes allowed; default 80 % of the available memory.
    log_callback : callable(str), optional
        Receives each log line as soon as its step is done (e.g. ``feedback.pushInfo``); the lines are also
        returned in ``CorridorResult.log``.
    """
    import geopandas as gpd
    from shapely.geometry import LineString

    warnings: list[str] = []

    class _Log(list):
        def append(self, text):  # every line goes to the caller's log as soon as it is known
            super().append(text)
            if log_callback is not None:
                log_callback(text)

    log: list[str] = _Log()
    # ---------------------------------------------------------------- validation
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
    resistance = np.asarray(resistance, dtype=np.float64)
    if resistance.shape != grid.shape:
        raise CreativeClustersError("The resistance raster does not match the analysis grid.")
    check_grid_memory(grid.height, grid.width, memory_limit=memory_limit)
    budget = memory_limit if memory_limit is not None else int(0.6 * (available_memory() or 8 * 2**30))
    cell = grid.cell_size
    width_of = _width_function(width, width_mode)

    def extra(lcd):
        return lcd + width_of(lcd)

    check_callback(callback, 0.0)

    # ---------------------------------------------------------------- step 1: cores
    cores = rasterise_cores(geometries, grid, resistance)
    warnings.extend(cores.warnings)
    status = list(cores.status)
    active = [i for i in range(n) if status[i] == "ok"]
    for label, word in (("outside", "lie outside the resistance grid"), ("impassable", "lie only on impassable (nodata) cells"), ("empty", "have no geometry")):
        bad = [str(ids[i]) for i in range(n) if status[i] == label]
        if bad:
            warnings.append(f"{len(bad)} cluster(s) {word} and were left out: {', '.join(bad[:20])}{' …' if len(bad) > 20 else ''}.")
    if len(active) < 2:
        raise CreativeClustersError(
            f"Only {len(active)} of the {n} clusters lie on passable cells of the resistance grid: a corridor needs two "
            "or more. Check that the clusters and the resistance/density raster overlap and share a CRS."
        )
    if cores.overlaps:
        names = ", ".join(f"{ids[a]}–{ids[b]}" for a, b in list(cores.overlaps)[:10])
        warnings.append(
            f"{len(cores.overlaps)} pair(s) of clusters overlap ({names}); they are linked with cost distance 0 and "
            "their gravity uses one cell step as the minimum cost."
        )
    log.append(f"Step 1/5 cores: {len(active)} cluster(s) rasterised on {grid.height} × {grid.width} cells of {cell:g} m.")
    check_callback(callback, 0.05)

    search_grid = CostDistanceGrid(resistance, cell, labels=cores.labels, engine=engine)
    log.append(f"Cost-distance engine: {'scikit-image MCP_Geometric' if search_grid.engine == 'skimage' else 'SciPy Dijkstra'}.")
    c_min = cell * search_grid.min_cost
    cells_of = {i: np.column_stack(cores.cells[i]) for i in active}
    centres = {i: grid.xy(cores.cells[i][0].mean(), cores.cells[i][1].mean()) for i in active}
    half_extent = {
        i: 0.5 * cell * max(np.ptp(cores.cells[i][0]) + 1, np.ptp(cores.cells[i][1]) + 1) for i in active
    }

    # ---------------------------------------------------------------- step 1b: bounded surfaces
    pairs: dict = {}  # (a, b) a < b -> _Pair

    def remember(source: int, found: dict):
        for other, (value, r, c) in found.items():
            if other == source or other not in cells_of:
                continue
            key = (min(source, other), max(source, other))
            known = pairs.get(key)
            if known is None or value < known.cost:
                pairs[key] = _Pair(float(value), source, (int(r), int(c)))

    for (a, b), flat in cores.overlaps.items():
        if a in cells_of and b in cells_of:
            key = (min(a, b), max(a, b))
            pairs[key] = _Pair(0.0, b, (int(flat // grid.width), int(flat % grid.width)))

    surfaces: dict = {}
    stored = {"bytes": 0, "runs": 0, "extensions": 0, "settled": 0}

    def store(i, surface):
        compact = surface.compact(np.float32)
        if i in surfaces:
            stored["bytes"] -= surfaces[i].nbytes
        stored["bytes"] += compact.nbytes
        stored["settled"] += surface.settled
        if stored["bytes"] > budget:
            raise CreativeClustersError(
                f"The cost-distance surfaces need more than {format_bytes(budget)} of memory "
                f"({format_bytes(stored['bytes'])} so far). Use a larger CELL_SIZE, a MAX_COST_DISTANCE, "
                "a smaller WIDTH or fewer MAX_NEIGHBOURS."
            )
        surfaces[i] = compact
        remember(i, surface.found)

    k_all = min(max_neighbours, len(active) - 1)
    for step, i in enumerate(active):
        check_callback(callback, 0.05 + 0.5 * step / len(active))
        # initial window: the Euclidean gap to the k-th nearest cluster, stretched for detours and the width
        gaps = sorted(
            max(math.hypot(centres[i][0] - centres[j][0], centres[i][1] - centres[j][1]) - half_extent[j], 0.0)
            for j in active
            if j != i
        )
        gap = gaps[k_all - 1] / cell
        radius = 1.5 * gap * (1.0 + (width / 100.0 if int(width_mode) == WidthMode.PERCENT else 0.0))
        if int(width_mode) == WidthMode.COST:
            radius += width / (search_grid.median_cost * cell)
        surface = search_grid.search(
            cells_of[i], max_cost=max_cost, own_label=i, k_nearest=k_all, extra_cost=extra, radius=radius + 4
        )
        stored["runs"] += surface.attempts
        store(i, surface)

    def ensure(i, need):
        """Extend the surface of cluster i so that every cell with cost ≤ need is present."""
        need = min(need, max_cost)
        current = surfaces[i]
        if current.complete_to >= need or current.stop == "exhausted":
            return
        surface = search_grid.search(cells_of[i], max_cost=need, own_label=i, radius=current.radius)
        stored["runs"] += surface.attempts
        stored["extensions"] += 1
        store(i, surface)

    log.append(
        f"Step 1/5 cost-distance surfaces: {len(active)} cluster(s), {stored['runs']} bounded Dijkstra run(s), "
        f"{stored['settled']:,} cells settled (a full surface per cluster would settle "
        f"{len(active) * int(np.isfinite(resistance).sum()):,})."
    )

    # ---------------------------------------------------------------- step 2: candidate links
    check_callback(callback, 0.55)
    origin: dict = {}
    reached: dict = {i: [] for i in active}
    for (a, b), p in pairs.items():
        reached[a].append((p.cost, b))
        reached[b].append((p.cost, a))
    for i in active:
        for _, j in sorted(reached[i])[:k_all]:
            origin.setdefault((min(i, j), max(i, j)), "nearest")
    few = [str(ids[i]) for i in active if len(reached[i]) < k_all]
    if few:
        warnings.append(
            f"{len(few)} cluster(s) reach fewer than {k_all} other cluster(s)"
            f"{' within MAX_COST_DISTANCE' if math.isfinite(max_cost) else ''}: {', '.join(few[:20])}"
            f"{' …' if len(few) > 20 else ''}."
        )

    def members(flat: int, label: int) -> set:
        return cores.shared.get(flat, {label})

    def trace(key):
        p = pairs[key]
        other = key[1] if p.src == key[0] else key[0]
        path = surfaces[p.src].path_to(*p.end)
        flat = path[:, 0] * grid.width + path[:, 1]
        path_labels = cores.labels[path[:, 0], path[:, 1]]
        crossed = []
        for f, lab in zip(flat.tolist(), path_labels.tolist()):
            if lab < 0:
                continue
            here = members(f, lab)
            if p.src in here or other in here:
                continue
            for k in sorted(here):
                if k in cells_of and k not in crossed:
                    crossed.append(k)
        return p.src, other, path, crossed

    links: dict = {}  # key -> dict(path, src, dst)
    split_from: dict = {}
    splits = 0
    queue = deque(sorted(origin))
    unreachable_groups: list = []

    def process_queue():
        nonlocal splits
        while queue:
            key = queue.popleft()
            if key in links or origin.get(key) == "split-parent":
                continue
            src, dst, path, crossed = trace(key)
            if crossed:
                sequence = [src] + crossed + [dst]
                splits += 1
                origin[key] = "split-parent"
                for a, b in zip(sequence[:-1], sequence[1:]):
                    sub = (min(a, b), max(a, b))
                    if sub not in pairs:
                        ensure(a, pairs[key].cost)
                    if sub not in pairs:
                        ensure(b, pairs[key].cost)
                    if sub not in pairs:  # cannot happen: the sub-path is cheaper than the whole
                        warnings.append(f"Link {ids[a]}–{ids[b]} could not be measured and was skipped.")
                        continue
                    if sub not in links and origin.get(sub) != "split-parent":
                        origin.setdefault(sub, "split")
                        split_from.setdefault(sub, f"{ids[key[0]]}-{ids[key[1]]}")
                        queue.append(sub)
                continue
            links[key] = {"src": src, "dst": dst, "path": path}

    process_queue()

    # reconnect groups that would stay disconnected, cheapest proven link first
    attempted: set = set()
    while True:
        check_callback(callback, 0.65)
        parent = {i: i for i in active}

        def find(x):
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for a, b in links:
            parent[find(a)] = find(b)
        groups: dict = {}
        for i in active:
            groups.setdefault(find(i), []).append(i)
        if len(groups) <= 1:
            break
        group_of = {i: g for g, nodes in groups.items() for i in nodes}
        best_link, grow = None, []
        stuck = []
        for g, nodes in groups.items():
            cap = min(surfaces[i].complete_to if surfaces[i].stop != "exhausted" else math.inf for i in nodes)
            options = [
                (p.cost, key) for key, p in pairs.items()
                if (group_of.get(key[0]) == g) != (group_of.get(key[1]) == g)
                and key[0] in group_of and key[1] in group_of
            ]
            cheapest = min(options) if options else None
            if cheapest is not None and cheapest[0] <= cap:
                if best_link is None or cheapest < best_link:
                    best_link = cheapest
                continue
            finished = all(surfaces[i].stop == "exhausted" or surfaces[i].complete_to >= max_cost for i in nodes)
            if finished and cheapest is None:
                stuck.append(g)
                continue
            need = cheapest[0] if cheapest is not None else max(2 * cap, cap + 10 * cell * search_grid.median_cost)
            grow.append((nodes, need))
        if best_link is not None:
            key = best_link[1]
            if key in attempted:  # guard: a joining link that yielded nothing (its parts were unmeasurable)
                break
            attempted.add(key)
            if origin.get(key) != "split-parent":
                origin[key] = "reconnect"
            queue.append(key)
            process_queue()
            continue
        if grow:
            for nodes, need in grow:
                for i in nodes:
                    ensure(i, need)
            continue
        # nothing can be joined any more: the remaining groups are mutually unreachable
        unreachable_groups = [sorted(ids[i] for i in nodes) for nodes in groups.values()]
        text = " | ".join(", ".join(str(x) for x in group[:12]) + (" …" if len(group) > 12 else "") for group in unreachable_groups)
        warnings.append(
            f"{len(groups)} groups of clusters cannot reach each other (impassable cells between them"
            f"{' or costs beyond MAX_COST_DISTANCE' if math.isfinite(max_cost) else ''}): {text}. "
            "Their links are reported within each group only."
        )
        break
    kinds = {}
    for key in links:
        kind = origin.get(key, "nearest")
        kinds[kind] = kinds.get(kind, 0) + 1
    log.append(
        f"Step 2/5 candidate links: {len(links)} link(s) — {kinds.get('nearest', 0)} to the {k_all} nearest "
        f"cluster(s) by cost distance, {kinds.get('split', 0)} more from {splits} path(s) that crossed another "
        f"cluster and were split into consecutive links ({sum(1 for key in links if key in split_from)} link(s) are "
        f"parts of a split path), {kinds.get('reconnect', 0)} joining otherwise disconnected groups"
        + (f"; {len(unreachable_groups)} groups cannot reach each other." if unreachable_groups else ".")
    )

    # ---------------------------------------------------------------- step 3: link metrics
    check_callback(callback, 0.7)
    rows = []
    keys = sorted(links)
    for link_id, key in enumerate(keys, start=1):
        link = links[key]
        a, b = key  # from = the lower index; the path runs from a to b
        cost = pairs[key].cost
        path = link["path"] if link["src"] == a else link["path"][::-1]
        plen = path_length(path, cell)
        euc = float(geometries[a].distance(geometries[b]))
        effective = max(cost, c_min)
        gravity = masses[a] * masses[b] / effective**beta if beta > 0 else masses[a] * masses[b]
        strength = np.nan  # set below, once the spanning tree is known
        if len(path) >= 2:
            x, y = grid.xy(path[:, 0], path[:, 1])
            line = LineString(_simplify_path(np.column_stack([x, y])))
        else:
            line = LineString([geometries[a].representative_point(), geometries[b].representative_point()])
        rows.append(
            {
                "link_id": link_id,
                "from_id": ids[a],
                "to_id": ids[b],
                "from_index": a,
                "to_index": b,
                "euc_dist": euc,
                "cost_dist": cost,
                "path_len": plen,
                "cost_euc": cost / euc if euc > 0 else np.nan,
                "cost_path": cost / plen if plen > 0 else np.nan,
                "gravity": float(gravity),
                "strength": float(strength),
                "in_mst": False,
                "strong": False,
                "in_chain": False,
                "corridor_id": np.nan,
                "origin": origin.get(key, "nearest"),
                "split_from": split_from.get(key),
                "geometry": line,
                "_key": key,
            }
        )
    # the backbone: maximum spanning forest on gravity; strength is measured against its typical link cost
    edge_list = [row["_key"] for row in rows]
    in_tree = maximum_spanning_forest(n, edge_list, [r["gravity"] for r in rows], [r["cost_dist"] for r in rows])
    for k, row in enumerate(rows):
        row["in_mst"] = bool(in_tree[k])
    radii = {i: cell * math.sqrt(len(cores.cells[i][0]) / math.pi) for i in active}
    place_of = group_places(active, [(r["_key"], r["euc_dist"]) for r in rows], radii, place_gap)
    n_places = len(set(place_of.values()))
    d_ref = place_reference(place_of, reached, [(r["_key"], r["cost_dist"]) for r in rows], c_min)
    for row in rows:
        row["strength"] = float(d_ref / max(row["cost_dist"], c_min))
        row["strong"] = bool(row["strength"] >= strength_threshold)
    log.append(
        f"Step 3/5 link metrics: {len(rows)} link(s); {n_places} place(s) (clusters whose gap is at most "
        f"{place_gap:g} × the sum of their radii are one place); median cost distance from a place to the nearest "
        f"other place {d_ref:,.1f} = d_ref (strength = d_ref / cost distance)."
    )

    # ---------------------------------------------------------------- step 4: corridors
    surface_out = np.full(grid.shape, np.inf, dtype=np.float32)
    link_polygons: dict = {}
    from rasterio.features import shapes
    from shapely.geometry import shape as to_shape
    from shapely.ops import unary_union

    for step, row in enumerate(rows):
        check_callback(callback, 0.72 + 0.2 * step / max(len(rows), 1))
        key = row["_key"]
        a, b = key
        lcd = pairs[key].cost
        w = width_of(lcd)
        need = lcd + w
        ensure(a, need)
        ensure(b, need)
        sa, sb = surfaces[a], surfaces[b]
        r0, r1 = max(sa.row0, sb.row0), min(sa.row0 + sa.shape[0], sb.row0 + sb.shape[0])
        c0, c1 = max(sa.col0, sb.col0), min(sa.col0 + sa.shape[1], sb.col0 + sb.shape[1])
        path = links[key]["path"]
        if r0 >= r1 or c0 >= c1:
            r0, r1 = int(path[:, 0].min()), int(path[:, 0].max()) + 1
            c0, c1 = int(path[:, 1].min()), int(path[:, 1].max()) + 1
        nlcc = sa.region(r0, r1, c0, c1).astype(np.float64) + sb.region(r0, r1, c0, c1) - lcd
        tolerance = 1e-5 * max(need, 1.0)
        mask = nlcc <= w + tolerance
        inside = (path[:, 0] >= r0) & (path[:, 0] < r1) & (path[:, 1] >= c0) & (path[:, 1] < c1)
        pr, pc = path[inside, 0] - r0, path[inside, 1] - c0
        mask[pr, pc] = True
        nlcc[pr, pc] = np.minimum(np.where(np.isfinite(nlcc[pr, pc]), nlcc[pr, pc], 0.0), w)
        nlcc = np.clip(nlcc, 0.0, None).astype(np.float32)
        block = surface_out[r0:r1, c0:c1]
        np.minimum(block, np.where(mask, nlcc, np.inf).astype(np.float32), out=block)
        polygons = [
            to_shape(geom)
            for geom, value in shapes(mask.astype(np.uint8), mask=mask, transform=grid.window_transform(r0, c0))
            if value
        ]
        link_polygons[key] = unary_union(polygons) if polygons else None
    surface_out = np.where(np.isfinite(surface_out), surface_out, np.nan).astype(np.float32)
    covered = int(np.isfinite(surface_out).sum())
    log.append(
        f"Step 4/5 corridor surface: {covered:,} cells ({100 * covered / grid.n_cells:.1f} % of the grid) within the width "
        f"({width:g} {'cost units' if int(width_mode) == WidthMode.COST else '% above the least cost'})."
    )

    # ---------------------------------------------------------------- step 5: chains
    check_callback(callback, 0.93)
    place_centres = _place_centres(place_of, centres, masses)
    chain_specs = find_chains(
        [(r["_key"], r["cost_dist"], r["strong"]) for r in rows], place_of, place_centres, max_turn, min_chain_clusters
    )
    corridor_rows = []
    for sequence, chain_rows, between in chain_specs:
        polygons = [link_polygons[rows[k]["_key"]] for k in chain_rows if link_polygons.get(rows[k]["_key"]) is not None]
        geometry = unary_union(polygons) if polygons else unary_union([rows[k]["geometry"] for k in chain_rows]).buffer(cell / 2)
        corridor_rows.append(
            {
                "cluster_index": list(sequence),
                "cluster_ids": [ids[i] for i in sequence],
                "clusters": " > ".join(str(ids[i]) for i in sequence),
                "n_clusters": len(sequence),
                "total_mass": float(sum(masses[i] for i in sequence)),
                "length_m": float(sum(rows[k]["path_len"] for k in chain_rows)),
                "mean_strength": float(np.mean([rows[k]["strength"] for k in between])),
                "n_places": len(between) + 1,
                "_rows": chain_rows,
                "geometry": geometry,
            }
        )
    corridor_rows.sort(key=lambda c: (-c["total_mass"], -c["mean_strength"], c["cluster_index"]))
    for rank, corridor in enumerate(corridor_rows, start=1):
        corridor["rank"] = rank
        corridor["corridor_id"] = rank
        for k in corridor["_rows"]:
            if not rows[k]["in_chain"]:
                rows[k]["in_chain"] = True
                rows[k]["corridor_id"] = rank
    log.append(
        f"Step 5/5 cluster graph: {sum(r['in_mst'] for r in rows)} spanning-tree link(s) on gravity, "
        f"{sum(r['strong'] for r in rows)} strong link(s) (strength ≥ {strength_threshold:g}), "
        f"{sum(1 for r in rows if r['strong'] and place_of[r['from_index']] != place_of[r['to_index']])} of them between places; "
        f"{len(corridor_rows)} corridor chain(s) through ≥ {max(int(min_chain_clusters), 2)} places turning ≤ {max_turn:g}°."
    )
    for corridor in corridor_rows:
        log.append(
            f"  corridor {corridor['corridor_id']}: {corridor['clusters']} — {corridor['n_places']} places, mass "
            f"{corridor['total_mass']:g}, {corridor['length_m'] / 1000:.1f} km, mean strength {corridor['mean_strength']:.2f}"
        )

    # ---------------------------------------------------------------- outputs
    crs = grid.crs
    link_frame = pd.DataFrame([{k: v for k, v in r.items() if k not in ("_key", "geometry")} for r in rows], columns=LINK_COLUMNS)
    links_gdf = gpd.GeoDataFrame(link_frame, geometry=[r["geometry"] for r in rows], crs=crs)
    corridor_frame = pd.DataFrame(
        [{k: v for k, v in c.items() if k not in ("_rows", "geometry", "cluster_index", "n_places")} for c in corridor_rows],
        columns=CORRIDOR_COLUMNS + ["cluster_ids"],
    )
    corridors_gdf = gpd.GeoDataFrame(corridor_frame, geometry=[c["geometry"] for c in corridor_rows], crs=crs)
    degree = {i: 0 for i in range(n)}
    for r in rows:
        degree[r["from_index"]] += 1
        degree[r["to_index"]] += 1
    in_corridor = {i: [] for i in range(n)}
    for c in corridor_rows:
        for i in c["cluster_index"]:
            in_corridor[i].append(c["corridor_id"])
    unreachable_ids = {x for group in unreachable_groups for x in group} if unreachable_groups else set()
    cluster_frame = pd.DataFrame(
        {
            "id": ids,
            "mass": masses,
            "status": [
                ("isolated" if status[i] == "ok" and degree[i] == 0 else status[i]) for i in range(n)
            ],
            "n_cells": [len(cores.cells[i][0]) for i in range(n)],
            "n_links": [degree[i] for i in range(n)],
            "corridors": [",".join(str(c) for c in in_corridor[i]) or None for i in range(n)],
            "unreachable_group": [ids[i] in unreachable_ids for i in range(n)],
            "place": [place_of.get(i, -1) for i in range(n)],
        }
    )
    isolated = [str(ids[i]) for i in range(n) if cluster_frame.at[i, "status"] == "isolated"]
    if isolated:
        warnings.append(
            f"{len(isolated)} cluster(s) reach no other cluster (surrounded by impassable cells"
            f"{' or beyond MAX_COST_DISTANCE' if math.isfinite(max_cost) else ''}): {', '.join(isolated[:20])}."
        )
    stats = {
        "n_clusters": n,
        "n_active": len(active),
        "n_links": len(rows),
        "n_corridors": len(corridor_rows),
        "dijkstra_runs": stored["runs"],
        "surface_extensions": stored["extensions"],
        "cells_settled": stored["settled"],
        "surface_bytes": stored["bytes"],
        "d_ref": d_ref,
        "n_places": n_places,
        "min_step_cost": c_min,
        "splits": splits,
        "engine": search_grid.engine,
    }
    check_callback(callback, 1.0)
    return CorridorResult(
        links=links_gdf,
        corridors=corridors_gdf,
        surface=surface_out,
        grid=grid,
        clusters=cluster_frame,
        unreachable=unreachable_groups,
        log=log,
        warnings=warnings,
        stats=stats,
    )
