"""Corridor detection, :func:`detect_corridors`: its steps, one function per step, each testable alone.

The method is described in :mod:`.corridors` (steps 1–5, as in the log lines); this module runs it. Every step takes
its inputs as arguments and returns a small dataclass (or fills the one it is given), and :func:`run_steps` chains
them:

1. :func:`core_step` — the cluster cores rasterised on the grid (:class:`Cores`); :func:`surface_step` — bounded
   cost-distance surfaces, one per cluster, extended on demand (:class:`CostSurfaces`, which also holds the least
   cost found between each pair of clusters, :class:`Pair`).
2. :func:`link_step` — candidate links: the k nearest by least cost, paths through another cluster split into
   consecutive links, disconnected groups joined by their cheapest link (:class:`Links`).
3. :func:`metrics_step` — link metrics (:func:`measure_links`), then :func:`rate_links`: spanning tree on gravity,
   places and strength (:class:`Places`).
4. :func:`corridor_step` — normalised least-cost corridors mosaicked into one raster, one polygon per link
   (:class:`CorridorSurface`).
5. :func:`chain_step` — corridor chains between places (:func:`.corridors.find_chains`), ranked.

:func:`assemble_result` then builds the :class:`.corridors.CorridorResult` (tables, per-cluster summary, stats).
Log lines and warnings go to a :class:`RunLog`; the counts of the cost-distance searches to a :class:`SearchCounts`.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .corridors import (
    CORRIDOR_COLUMNS,
    LINK_COLUMNS,
    Clusters,
    CoreRaster,
    CorridorResult,
    CorridorSettings,
    WidthMode,
    _find_root,
    check_clusters,
    check_resistance,
    check_settings,
    find_chains,
    group_places,
    maximum_spanning_forest,
    place_reference,
    rasterise_cores,
)
from .cost_distance import CostDistanceGrid, path_length
from ..errors import CreativeClustersError, check_callback
from ..memory import format_bytes
from .grid import Grid

if TYPE_CHECKING:
    import pandas as pd


# --------------------------------------------------------------------------------------------------------
# run log and counts
# --------------------------------------------------------------------------------------------------------
@dataclass
class RunLog:
    """Log lines and warnings of one run; every log line also goes to ``log_callback`` as soon as it is written."""

    log_callback: object = None
    lines: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    def info(self, text: str) -> None:
        """Add a log line (and pass it on to ``log_callback``)."""
        self.lines.append(text)
        if self.log_callback is not None:
            self.log_callback(text)

    def warn(self, text: str) -> None:
        """Add a warning."""
        self.warnings.append(text)


@dataclass
class SearchCounts:
    """Work of the cost-distance searches: Dijkstra runs, surface extensions, cells settled, bytes stored."""

    runs: int = 0
    extensions: int = 0
    settled: int = 0
    bytes: int = 0


# --------------------------------------------------------------------------------------------------------
# step 1a: cores
# --------------------------------------------------------------------------------------------------------
@dataclass
class Cores:
    """Step 1a result: the rasterised cores (``raster``), the clusters that have one (``active``), and for each of
    those its core cells as a (k, 2) array, the (x, y) centre of its cells and half the larger side of its cells'
    bounding box (m)."""

    raster: CoreRaster
    active: list
    cells: dict
    centres: dict
    half_extent: dict


def core_geometry(raster: CoreRaster, grid: Grid) -> tuple[dict, dict, dict]:
    """Core cells (k × 2 arrays), centres (x, y) and half extents (m) of the clusters whose status is "ok"."""
    cell = grid.cell_size
    active = [i for i, s in enumerate(raster.status) if s == "ok"]
    cells = {i: np.column_stack(raster.cells[i]) for i in active}
    centres = {i: grid.xy(raster.cells[i][0].mean(), raster.cells[i][1].mean()) for i in active}
    half_extent = {
        i: 0.5 * cell * max(np.ptp(raster.cells[i][0]) + 1, np.ptp(raster.cells[i][1]) + 1) for i in active
    }
    return cells, centres, half_extent


def report_cores(raster: CoreRaster, ids: list, report: RunLog) -> None:
    """Warn about the clusters left out (outside, impassable, empty) and about overlapping clusters; an error when
    fewer than two clusters have a core."""
    n = len(raster.status)
    report.warnings.extend(raster.warnings)
    for label, word in (("outside", "lie outside the resistance grid"), ("impassable", "lie only on impassable (nodata) cells"), ("empty", "have no geometry")):
        bad = [str(ids[i]) for i in range(n) if raster.status[i] == label]
        if bad:
            report.warn(f"{len(bad)} cluster(s) {word} and were left out: {', '.join(bad[:20])}{' …' if len(bad) > 20 else ''}.")
    active = sum(1 for s in raster.status if s == "ok")
    if active < 2:
        raise CreativeClustersError(
            f"Only {active} of the {n} clusters lie on passable cells of the resistance grid: a corridor needs two "
            "or more. Check that the clusters and the resistance/density raster overlap and share a CRS."
        )
    if raster.overlaps:
        names = ", ".join(f"{ids[a]}–{ids[b]}" for a, b in list(raster.overlaps)[:10])
        report.warn(
            f"{len(raster.overlaps)} pair(s) of clusters overlap ({names}); they are linked with cost distance 0 and "
            "their gravity uses one cell step as the minimum cost."
        )


def core_step(clusters: Clusters, grid: Grid, resistance: np.ndarray, report: RunLog) -> Cores:
    """Step 1a: the cores of the clusters on the grid (impassable cells left out), with warnings and a log line."""
    raster = rasterise_cores(clusters.geometries, grid, resistance)
    report_cores(raster, clusters.ids, report)
    cells, centres, half_extent = core_geometry(raster, grid)
    active = list(cells)
    report.info(f"Step 1/5 cores: {len(active)} cluster(s) rasterised on {grid.height} × {grid.width} cells of {grid.cell_size:g} m.")
    return Cores(raster=raster, active=active, cells=cells, centres=centres, half_extent=half_extent)


# --------------------------------------------------------------------------------------------------------
# step 1b: bounded cost-distance surfaces
# --------------------------------------------------------------------------------------------------------
@dataclass
class Pair:
    """Least cost found between two clusters: ``cost``, the cluster ``src`` whose surface found it, and the cell
    ``end`` (row, col) of the other cluster where it is reached."""

    cost: float
    src: int
    end: tuple


class CostSurfaces:
    """The bounded cost-distance surface of each active cluster (``surfaces``), the least costs between clusters
    they found (``pairs``: (a, b) with a < b → :class:`Pair`) and the search counts, within a memory ``budget``."""

    def __init__(self, search_grid: CostDistanceGrid, cells: dict, max_cost: float, budget: int):
        """No surface yet: searches on ``search_grid`` from the core ``cells`` of each cluster, up to ``max_cost``."""
        self.search_grid = search_grid
        self.cells = cells
        self.max_cost = max_cost
        self.budget = budget
        self.surfaces: dict = {}
        self.pairs: dict = {}
        self.counts = SearchCounts()

    def record_pairs(self, source: int, found: dict) -> None:
        """Keep the least cost from ``source`` to every other active cluster its surface reached."""
        for other, (value, r, c) in found.items():
            if other == source or other not in self.cells:
                continue
            key = (min(source, other), max(source, other))
            known = self.pairs.get(key)
            if known is None or value < known.cost:
                self.pairs[key] = Pair(float(value), source, (int(r), int(c)))

    def store(self, i: int, surface) -> None:
        """Keep cluster ``i``'s surface (compacted to float32); an error when the surfaces exceed the budget."""
        compact = surface.compact(np.float32)
        if i in self.surfaces:
            self.counts.bytes -= self.surfaces[i].nbytes
        self.counts.bytes += compact.nbytes
        self.counts.settled += surface.settled
        if self.counts.bytes > self.budget:
            raise CreativeClustersError(
                f"The cost-distance surfaces need more than {format_bytes(self.budget)} of memory "
                f"({format_bytes(self.counts.bytes)} so far). Use a larger CELL_SIZE, a MAX_COST_DISTANCE, "
                "a smaller WIDTH or fewer MAX_NEIGHBOURS."
            )
        self.surfaces[i] = compact
        self.record_pairs(i, surface.found)

    def ensure(self, i: int, need: float) -> None:
        """Extend the surface of cluster ``i`` so that every cell with cost ≤ ``need`` (capped) is present."""
        need = min(need, self.max_cost)
        current = self.surfaces[i]
        if current.complete_to >= need or current.stop == "exhausted":
            return
        surface = self.search_grid.search(self.cells[i], max_cost=need, own_label=i, radius=current.radius)
        self.counts.runs += surface.attempts
        self.counts.extensions += 1
        self.store(i, surface)


def overlap_pairs(overlaps: dict, cells: dict, grid_width: int) -> dict:
    """Pairs of overlapping active clusters at cost 0, reached at their first shared cell."""
    pairs = {}
    for (a, b), flat in overlaps.items():
        if a in cells and b in cells:
            key = (min(a, b), max(a, b))
            pairs[key] = Pair(0.0, b, (int(flat // grid_width), int(flat % grid_width)))
    return pairs


def search_radius(i: int, cores: Cores, k_all: int, settings: CorridorSettings, cell: float, median_cost: float) -> float:
    """Initial search window (cells) of cluster ``i``: 1.5 × the Euclidean gap to its ``k_all``-th nearest cluster,
    stretched for the corridor width, plus 4 cells."""
    gaps = sorted(
        max(math.hypot(cores.centres[i][0] - cores.centres[j][0], cores.centres[i][1] - cores.centres[j][1]) - cores.half_extent[j], 0.0)
        for j in cores.active
        if j != i
    )
    gap = gaps[k_all - 1] / cell
    radius = 1.5 * gap * (1.0 + (settings.width / 100.0 if int(settings.width_mode) == WidthMode.PERCENT else 0.0))
    if int(settings.width_mode) == WidthMode.COST:
        radius += settings.width / (median_cost * cell)
    return radius + 4


def surface_step(cores: Cores, resistance: np.ndarray, grid: Grid, settings: CorridorSettings, budget: int,
                 report: RunLog, callback=None) -> CostSurfaces:
    """Step 1b: one bounded cost-distance surface per active cluster, reaching its ``max_neighbours`` nearest
    clusters plus the corridor width (overlapping clusters are paired at cost 0 first)."""
    search_grid = CostDistanceGrid(resistance, grid.cell_size, labels=cores.raster.labels, engine=settings.engine)
    report.info(f"Cost-distance engine: {'scikit-image MCP_Geometric' if search_grid.engine == 'skimage' else 'SciPy Dijkstra'}.")
    surfaces = CostSurfaces(search_grid, cores.cells, settings.max_cost, budget)
    surfaces.pairs.update(overlap_pairs(cores.raster.overlaps, cores.cells, grid.width))
    k_all = min(settings.max_neighbours, len(cores.active) - 1)
    for step, i in enumerate(cores.active):
        check_callback(callback, 0.05 + 0.5 * step / len(cores.active))
        radius = search_radius(i, cores, k_all, settings, grid.cell_size, search_grid.median_cost)
        surface = search_grid.search(
            cores.cells[i], max_cost=settings.max_cost, own_label=i, k_nearest=k_all, extra_cost=settings.reach, radius=radius
        )
        surfaces.counts.runs += surface.attempts
        surfaces.store(i, surface)
    counts = surfaces.counts
    report.info(
        f"Step 1/5 cost-distance surfaces: {len(cores.active)} cluster(s), {counts.runs} bounded Dijkstra run(s), "
        f"{counts.settled:,} cells settled (a full surface per cluster would settle "
        f"{len(cores.active) * int(np.isfinite(resistance).sum()):,})."
    )
    return surfaces


# --------------------------------------------------------------------------------------------------------
# step 2: candidate links
# --------------------------------------------------------------------------------------------------------
@dataclass
class TracedLink:
    """The least-cost path of a link, from cluster ``src`` to cluster ``dst`` ((k, 2) cells)."""

    src: int
    dst: int
    path: np.ndarray


@dataclass
class Links:
    """Step 2 result: ``paths`` (a, b) → :class:`TracedLink`; ``origin`` of each link ("nearest", "split",
    "reconnect"; "split-parent" for a path that was split); ``split_from`` the link a split part came from;
    ``splits`` paths split; ``reached`` the (cost, cluster) pairs each cluster's first surface found; ``k_all``
    neighbours sought per cluster; ``unreachable`` groups of cluster ids that cannot reach each other."""

    reached: dict
    k_all: int
    origin: dict = field(default_factory=dict)
    paths: dict = field(default_factory=dict)
    split_from: dict = field(default_factory=dict)
    splits: int = 0
    unreachable: list = field(default_factory=list)


def nearest_links(active: list, pairs: dict, k_all: int) -> tuple[dict, dict]:
    """The (cost, other cluster) pairs each active cluster reached, and the links to its ``k_all`` cheapest
    ({key: "nearest"})."""
    origin: dict = {}
    reached: dict = {i: [] for i in active}
    for (a, b), p in pairs.items():
        reached[a].append((p.cost, b))
        reached[b].append((p.cost, a))
    for i in active:
        for _, j in sorted(reached[i])[:k_all]:
            origin.setdefault((min(i, j), max(i, j)), "nearest")
    return origin, reached


def trace_link(key: tuple, surfaces: CostSurfaces, raster: CoreRaster):
    """Least-cost path of link ``key``: (source cluster, other cluster, path cells, active clusters it crosses in
    order)."""
    p = surfaces.pairs[key]
    other = key[1] if p.src == key[0] else key[0]
    path = surfaces.surfaces[p.src].path_to(*p.end)
    flat = path[:, 0] * raster.labels.shape[1] + path[:, 1]
    path_labels = raster.labels[path[:, 0], path[:, 1]]
    crossed = []
    for f, lab in zip(flat.tolist(), path_labels.tolist()):
        if lab < 0:
            continue
        here = raster.shared.get(f, {lab})
        if p.src in here or other in here:
            continue
        for k in sorted(here):
            if k in surfaces.cells and k not in crossed:
                crossed.append(k)
    return p.src, other, path, crossed


def split_link(key: tuple, sequence: list, links: Links, surfaces: CostSurfaces, ids: list, report: RunLog) -> list:
    """Replace link ``key``, whose path runs through the clusters of ``sequence``, by its consecutive parts; returns
    the parts still to trace."""
    links.splits += 1
    links.origin[key] = "split-parent"
    parts = []
    pairs = surfaces.pairs
    for a, b in zip(sequence[:-1], sequence[1:]):
        sub = (min(a, b), max(a, b))
        if sub not in pairs:
            surfaces.ensure(a, pairs[key].cost)
        if sub not in pairs:
            surfaces.ensure(b, pairs[key].cost)
        if sub not in pairs:  # cannot happen: the sub-path is cheaper than the whole
            report.warn(f"Link {ids[a]}–{ids[b]} could not be measured and was skipped.")
            continue
        if sub not in links.paths and links.origin.get(sub) != "split-parent":
            links.origin.setdefault(sub, "split")
            links.split_from.setdefault(sub, f"{ids[key[0]]}-{ids[key[1]]}")
            parts.append(sub)
    return parts


def follow_links(queue: deque, links: Links, surfaces: CostSurfaces, raster: CoreRaster, ids: list, report: RunLog) -> None:
    """Trace every link in ``queue``; a path through other clusters is split into consecutive links (queued)."""
    while queue:
        key = queue.popleft()
        if key in links.paths or links.origin.get(key) == "split-parent":
            continue
        src, dst, path, crossed = trace_link(key, surfaces, raster)
        if crossed:
            queue.extend(split_link(key, [src] + crossed + [dst], links, surfaces, ids, report))
            continue
        links.paths[key] = TracedLink(src, dst, path)


def link_groups(active: list, keys) -> dict:
    """Connected groups of the active clusters over the links ``keys``: {root: [clusters]} in order of ``active``."""
    parent = {i: i for i in active}
    for a, b in keys:
        parent[_find_root(parent, a)] = _find_root(parent, b)
    groups: dict = {}
    for i in active:
        groups.setdefault(_find_root(parent, i), []).append(i)
    return groups


def cheapest_joins(groups: dict, surfaces: CostSurfaces, cell: float):
    """For disconnected ``groups``: the cheapest proven link leaving a group ((cost, key) or None), and the groups
    whose surfaces must grow first ((clusters, cost needed) pairs); groups that can reach nothing are skipped."""
    group_of = {i: g for g, nodes in groups.items() for i in nodes}
    best_link, grow = None, []
    for g, nodes in groups.items():
        cap = min(surfaces.surfaces[i].complete_to if surfaces.surfaces[i].stop != "exhausted" else math.inf for i in nodes)
        options = [
            (p.cost, key) for key, p in surfaces.pairs.items()
            if (group_of.get(key[0]) == g) != (group_of.get(key[1]) == g)
            and key[0] in group_of and key[1] in group_of
        ]
        cheapest = min(options) if options else None
        if cheapest is not None and cheapest[0] <= cap:
            if best_link is None or cheapest < best_link:
                best_link = cheapest
            continue
        finished = all(surfaces.surfaces[i].stop == "exhausted" or surfaces.surfaces[i].complete_to >= surfaces.max_cost for i in nodes)
        if finished and cheapest is None:
            continue  # this group can reach no other
        need = cheapest[0] if cheapest is not None else max(2 * cap, cap + 10 * cell * surfaces.search_grid.median_cost)
        grow.append((nodes, need))
    return best_link, grow


def unreachable_warning(groups: list, max_cost: float) -> str:
    """The warning for groups of clusters (lists of ids) that cannot reach each other."""
    text = " | ".join(", ".join(str(x) for x in group[:12]) + (" …" if len(group) > 12 else "") for group in groups)
    return (
        f"{len(groups)} groups of clusters cannot reach each other (impassable cells between them"
        f"{' or costs beyond MAX_COST_DISTANCE' if math.isfinite(max_cost) else ''}): {text}. "
        "Their links are reported within each group only."
    )


def reconnect_groups(links: Links, surfaces: CostSurfaces, raster: CoreRaster, active: list, ids: list, cell: float,
                     report: RunLog, callback=None) -> None:
    """Join groups of clusters that would stay disconnected, cheapest proven link first (surfaces grow until it is
    proven); groups that cannot reach each other go to ``links.unreachable`` with a warning."""
    attempted: set = set()
    while True:
        check_callback(callback, 0.65)
        groups = link_groups(active, links.paths)
        if len(groups) <= 1:
            return
        best_link, grow = cheapest_joins(groups, surfaces, cell)
        if best_link is not None:
            key = best_link[1]
            if key in attempted:  # guard: a joining link that yielded nothing (its parts were unmeasurable)
                return
            attempted.add(key)
            if links.origin.get(key) != "split-parent":
                links.origin[key] = "reconnect"
            follow_links(deque([key]), links, surfaces, raster, ids, report)
            continue
        if grow:
            for nodes, need in grow:
                for i in nodes:
                    surfaces.ensure(i, need)
            continue
        # nothing can be joined any more: the remaining groups are mutually unreachable
        links.unreachable = [sorted(ids[i] for i in nodes) for nodes in groups.values()]
        report.warn(unreachable_warning(links.unreachable, surfaces.max_cost))
        return


def link_step(cores: Cores, surfaces: CostSurfaces, settings: CorridorSettings, ids: list, cell: float, report: RunLog,
              callback=None) -> Links:
    """Step 2: candidate links — each cluster to its ``max_neighbours`` nearest by least cost, paths through another
    cluster split into consecutive links, disconnected groups joined by their cheapest link."""
    check_callback(callback, 0.55)
    k_all = min(settings.max_neighbours, len(cores.active) - 1)
    origin, reached = nearest_links(cores.active, surfaces.pairs, k_all)
    links = Links(reached=reached, k_all=k_all, origin=origin)
    few = [str(ids[i]) for i in cores.active if len(reached[i]) < k_all]
    if few:
        report.warn(
            f"{len(few)} cluster(s) reach fewer than {k_all} other cluster(s)"
            f"{' within MAX_COST_DISTANCE' if math.isfinite(settings.max_cost) else ''}: {', '.join(few[:20])}"
            f"{' …' if len(few) > 20 else ''}."
        )
    follow_links(deque(sorted(origin)), links, surfaces, cores.raster, ids, report)
    reconnect_groups(links, surfaces, cores.raster, cores.active, ids, cell, report, callback)
    report.info(links_log_line(links))
    return links


def links_log_line(links: Links) -> str:
    """The step-2 log line: how many links, and how each came about."""
    kinds = Counter(links.origin.get(key, "nearest") for key in links.paths)
    return (
        f"Step 2/5 candidate links: {len(links.paths)} link(s) — {kinds['nearest']} to the {links.k_all} nearest "
        f"cluster(s) by cost distance, {kinds['split']} more from {links.splits} path(s) that crossed another "
        f"cluster and were split into consecutive links ({sum(1 for key in links.paths if key in links.split_from)} link(s) are "
        f"parts of a split path), {kinds['reconnect']} joining otherwise disconnected groups"
        + (f"; {len(links.unreachable)} groups cannot reach each other." if links.unreachable else ".")
    )


# --------------------------------------------------------------------------------------------------------
# step 3: link metrics, spanning tree, places and strength
# --------------------------------------------------------------------------------------------------------
@dataclass
class Places:
    """Places of the active clusters (``place_of``: cluster → place number), their count, and d_ref (the median
    least cost from a place to the nearest other place)."""

    place_of: dict
    n_places: int
    d_ref: float


def simplify_path(points: np.ndarray) -> np.ndarray:
    """Drop the vertices of straight runs of a cell path (keeps its shape and length)."""
    if len(points) <= 2:
        return points
    steps = np.diff(points, axis=0)
    turn = np.any(steps[1:] != steps[:-1], axis=1)
    keep = np.r_[True, turn, True]
    return points[keep]


def link_line(path: np.ndarray, grid: Grid, geom_a, geom_b):
    """Line of a link: its least-cost path through the cell centres (simplified), or a straight line between the
    two clusters' representative points when the path has a single cell."""
    from shapely.geometry import LineString

    if len(path) >= 2:
        x, y = grid.xy(path[:, 0], path[:, 1])
        return LineString(simplify_path(np.column_stack([x, y])))
    return LineString([geom_a.representative_point(), geom_b.representative_point()])


def link_row(link_id: int, key: tuple, link: TracedLink, cost: float, clusters: Clusters, grid: Grid, c_min: float,
             beta: float, links: Links) -> dict:
    """One row of the links table: ids, Euclidean and cost distances, path length, ratios and gravity (strength,
    tree and chain flags are filled in later)."""
    a, b = key  # from = the lower index; the path runs from a to b
    geometries, masses = clusters.geometries, clusters.masses
    path = link.path if link.src == a else link.path[::-1]
    plen = path_length(path, grid.cell_size)
    euc = float(geometries[a].distance(geometries[b]))
    effective = max(cost, c_min)
    gravity = masses[a] * masses[b] / effective**beta if beta > 0 else masses[a] * masses[b]
    return {
        "link_id": link_id,
        "from_id": clusters.ids[a],
        "to_id": clusters.ids[b],
        "from_index": a,
        "to_index": b,
        "euc_dist": euc,
        "cost_dist": cost,
        "path_len": plen,
        "cost_euc": cost / euc if euc > 0 else np.nan,
        "cost_path": cost / plen if plen > 0 else np.nan,
        "gravity": float(gravity),
        "strength": float(np.nan),  # set once d_ref is known
        "in_mst": False,
        "strong": False,
        "in_chain": False,
        "corridor_id": np.nan,
        "origin": links.origin.get(key, "nearest"),
        "split_from": links.split_from.get(key),
        "geometry": link_line(path, grid, geometries[a], geometries[b]),
        "_key": key,
    }


def measure_links(links: Links, pairs: dict, clusters: Clusters, grid: Grid, c_min: float, beta: float) -> list:
    """Rows of the links table (see :func:`link_row`), one per link in key order, numbered from 1."""
    return [
        link_row(link_id, key, links.paths[key], pairs[key].cost, clusters, grid, c_min, beta, links)
        for link_id, key in enumerate(sorted(links.paths), start=1)
    ]


def rate_links(rows: list, n: int, cores: Cores, reached: dict, c_min: float, settings: CorridorSettings,
               cell: float) -> Places:
    """Mark the maximum spanning forest on gravity (``in_mst``), group clusters into places, and set each link's
    strength (d_ref / cost) and ``strong`` flag."""
    edge_list = [row["_key"] for row in rows]
    in_tree = maximum_spanning_forest(n, edge_list, [r["gravity"] for r in rows], [r["cost_dist"] for r in rows])
    for k, row in enumerate(rows):
        row["in_mst"] = bool(in_tree[k])
    radii = {i: cell * math.sqrt(len(cores.raster.cells[i][0]) / math.pi) for i in cores.active}
    place_of = group_places(cores.active, [(r["_key"], r["euc_dist"]) for r in rows], radii, settings.place_gap)
    d_ref = place_reference(place_of, reached, [(r["_key"], r["cost_dist"]) for r in rows], c_min)
    for row in rows:
        row["strength"] = float(d_ref / max(row["cost_dist"], c_min))
        row["strong"] = bool(row["strength"] >= settings.strength_threshold)
    return Places(place_of=place_of, n_places=len(set(place_of.values())), d_ref=d_ref)


def metrics_step(links: Links, surfaces: CostSurfaces, clusters: Clusters, cores: Cores, grid: Grid, c_min: float,
                 settings: CorridorSettings, report: RunLog, callback=None) -> tuple[list, Places]:
    """Step 3: the links table rows (metrics, spanning tree, strength) and the places."""
    check_callback(callback, 0.7)
    rows = measure_links(links, surfaces.pairs, clusters, grid, c_min, settings.beta)
    places = rate_links(rows, clusters.n, cores, links.reached, c_min, settings, grid.cell_size)
    report.info(
        f"Step 3/5 link metrics: {len(rows)} link(s); {places.n_places} place(s) (clusters whose gap is at most "
        f"{settings.place_gap:g} × the sum of their radii are one place); median cost distance from a place to the nearest "
        f"other place {places.d_ref:,.1f} = d_ref (strength = d_ref / cost distance)."
    )
    return rows, places


# --------------------------------------------------------------------------------------------------------
# step 4: normalised least-cost corridors
# --------------------------------------------------------------------------------------------------------
@dataclass
class CorridorSurface:
    """Step 4 result: the float32 corridor raster (NaN outside every corridor) and each link's corridor polygon
    (None when empty)."""

    surface: np.ndarray
    polygons: dict


def link_corridor(lcd: float, path: np.ndarray, sa, sb, w: float):
    """Normalised least-cost corridor of one link on the overlap of its two surfaces ``sa``, ``sb`` (or the path's
    bounding box): (row0, col0, mask of cells within the width ``w``, float32 NLCC values; the path is always in,
    at most ``w``)."""
    r0, r1 = max(sa.row0, sb.row0), min(sa.row0 + sa.shape[0], sb.row0 + sb.shape[0])
    c0, c1 = max(sa.col0, sb.col0), min(sa.col0 + sa.shape[1], sb.col0 + sb.shape[1])
    if r0 >= r1 or c0 >= c1:
        r0, r1 = int(path[:, 0].min()), int(path[:, 0].max()) + 1
        c0, c1 = int(path[:, 1].min()), int(path[:, 1].max()) + 1
    nlcc = sa.region(r0, r1, c0, c1).astype(np.float64) + sb.region(r0, r1, c0, c1) - lcd
    tolerance = 1e-5 * max(lcd + w, 1.0)
    mask = nlcc <= w + tolerance
    inside = (path[:, 0] >= r0) & (path[:, 0] < r1) & (path[:, 1] >= c0) & (path[:, 1] < c1)
    pr, pc = path[inside, 0] - r0, path[inside, 1] - c0
    mask[pr, pc] = True
    nlcc[pr, pc] = np.minimum(np.where(np.isfinite(nlcc[pr, pc]), nlcc[pr, pc], 0.0), w)
    return r0, c0, mask, np.clip(nlcc, 0.0, None).astype(np.float32)


def mask_polygon(mask: np.ndarray, grid: Grid, r0: int, c0: int):
    """Union of the cells of ``mask`` (a window at row ``r0``, column ``c0`` of the grid) as one geometry, or None."""
    from rasterio.features import shapes
    from shapely.geometry import shape as to_shape
    from shapely.ops import unary_union

    polygons = [
        to_shape(geom)
        for geom, value in shapes(mask.astype(np.uint8), mask=mask, transform=grid.window_transform(r0, c0))
        if value
    ]
    return unary_union(polygons) if polygons else None


def corridor_step(rows: list, links: Links, surfaces: CostSurfaces, grid: Grid, settings: CorridorSettings,
                  report: RunLog, callback=None) -> CorridorSurface:
    """Step 4: every link's corridor (CWD_i + CWD_j − LCD_ij up to its width) mosaicked by minimum into one raster,
    and polygonised per link."""
    surface = np.full(grid.shape, np.inf, dtype=np.float32)
    polygons: dict = {}
    for step, row in enumerate(rows):
        check_callback(callback, 0.72 + 0.2 * step / max(len(rows), 1))
        key = row["_key"]
        a, b = key
        lcd = surfaces.pairs[key].cost
        w = settings.corridor_width(lcd)
        surfaces.ensure(a, lcd + w)
        surfaces.ensure(b, lcd + w)
        r0, c0, mask, nlcc = link_corridor(lcd, links.paths[key].path, surfaces.surfaces[a], surfaces.surfaces[b], w)
        block = surface[r0 : r0 + mask.shape[0], c0 : c0 + mask.shape[1]]
        np.minimum(block, np.where(mask, nlcc, np.inf).astype(np.float32), out=block)
        polygons[key] = mask_polygon(mask, grid, r0, c0)
    surface = np.where(np.isfinite(surface), surface, np.nan).astype(np.float32)
    covered = int(np.isfinite(surface).sum())
    report.info(
        f"Step 4/5 corridor surface: {covered:,} cells ({100 * covered / grid.n_cells:.1f} % of the grid) within the width "
        f"({settings.width:g} {'cost units' if int(settings.width_mode) == WidthMode.COST else '% above the least cost'})."
    )
    return CorridorSurface(surface=surface, polygons=polygons)


# --------------------------------------------------------------------------------------------------------
# step 5: corridor chains
# --------------------------------------------------------------------------------------------------------
def place_centres(place_of: dict, centres: dict, masses) -> dict:
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


def corridor_row(sequence: list, chain_rows: list, between: list, rows: list, clusters: Clusters, polygons: dict,
                 cell: float) -> dict:
    """One corridor (chain): its clusters in order, mass, length, mean strength between places and polygon (the
    union of its links' corridors, or its lines buffered by half a cell when none has a corridor)."""
    from shapely.ops import unary_union

    ids, masses = clusters.ids, clusters.masses
    parts = [polygons[rows[k]["_key"]] for k in chain_rows if polygons.get(rows[k]["_key"]) is not None]
    geometry = unary_union(parts) if parts else unary_union([rows[k]["geometry"] for k in chain_rows]).buffer(cell / 2)
    return {
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


def rank_corridors(corridor_rows: list, rows: list) -> None:
    """Rank the corridors (largest total mass, then mean strength, first) and mark their links ``in_chain`` with the
    first corridor that uses them."""
    corridor_rows.sort(key=lambda c: (-c["total_mass"], -c["mean_strength"], c["cluster_index"]))
    for rank, corridor in enumerate(corridor_rows, start=1):
        corridor["rank"] = rank
        corridor["corridor_id"] = rank
        for k in corridor["_rows"]:
            if not rows[k]["in_chain"]:
                rows[k]["in_chain"] = True
                rows[k]["corridor_id"] = rank


def chain_step(rows: list, places: Places, cores: Cores, clusters: Clusters, polygons: dict, settings: CorridorSettings,
               cell: float, report: RunLog, callback=None) -> list:
    """Step 5: corridor chains through places joined by strong links that run roughly straight, ranked; returns
    the corridor rows."""
    check_callback(callback, 0.93)
    centres = place_centres(places.place_of, cores.centres, clusters.masses)
    chain_specs = find_chains(
        [(r["_key"], r["cost_dist"], r["strong"]) for r in rows], places.place_of, centres, settings.max_turn,
        settings.min_chain_clusters,
    )
    corridor_rows = [corridor_row(sequence, chain_rows, between, rows, clusters, polygons, cell) for sequence, chain_rows, between in chain_specs]
    rank_corridors(corridor_rows, rows)
    place_of = places.place_of
    report.info(
        f"Step 5/5 cluster graph: {sum(r['in_mst'] for r in rows)} spanning-tree link(s) on gravity, "
        f"{sum(r['strong'] for r in rows)} strong link(s) (strength ≥ {settings.strength_threshold:g}), "
        f"{sum(1 for r in rows if r['strong'] and place_of[r['from_index']] != place_of[r['to_index']])} of them between places; "
        f"{len(corridor_rows)} corridor chain(s) through ≥ {max(int(settings.min_chain_clusters), 2)} places turning ≤ {settings.max_turn:g}°."
    )
    for corridor in corridor_rows:
        report.info(
            f"  corridor {corridor['corridor_id']}: {corridor['clusters']} — {corridor['n_places']} places, mass "
            f"{corridor['total_mass']:g}, {corridor['length_m'] / 1000:.1f} km, mean strength {corridor['mean_strength']:.2f}"
        )
    return corridor_rows


# --------------------------------------------------------------------------------------------------------
# the result
# --------------------------------------------------------------------------------------------------------
def cluster_table(clusters: Clusters, cores: Cores, rows: list, corridor_rows: list, places: Places,
                  unreachable: list) -> pd.DataFrame:
    """One row per input cluster: id, mass, status ("isolated" when it has a core but no link), core cells,
    links, corridors it is on, whether it is in an unreachable group, and its place (-1 none)."""
    import pandas as pd

    n, ids, status = clusters.n, clusters.ids, cores.raster.status
    degree = {i: 0 for i in range(n)}
    for r in rows:
        degree[r["from_index"]] += 1
        degree[r["to_index"]] += 1
    in_corridor = {i: [] for i in range(n)}
    for c in corridor_rows:
        for i in c["cluster_index"]:
            in_corridor[i].append(c["corridor_id"])
    unreachable_ids = {x for group in unreachable for x in group} if unreachable else set()
    return pd.DataFrame(
        {
            "id": ids,
            "mass": clusters.masses,
            "status": [("isolated" if status[i] == "ok" and degree[i] == 0 else status[i]) for i in range(n)],
            "n_cells": [len(cores.raster.cells[i][0]) for i in range(n)],
            "n_links": [degree[i] for i in range(n)],
            "corridors": [",".join(str(c) for c in in_corridor[i]) or None for i in range(n)],
            "unreachable_group": [ids[i] in unreachable_ids for i in range(n)],
            "place": [places.place_of.get(i, -1) for i in range(n)],
        }
    )


def result_frames(rows: list, corridor_rows: list, crs):
    """The links and corridors GeoDataFrames (:data:`LINK_COLUMNS`, :data:`CORRIDOR_COLUMNS` + ``cluster_ids``)."""
    import geopandas as gpd
    import pandas as pd

    link_frame = pd.DataFrame([{k: v for k, v in r.items() if k not in ("_key", "geometry")} for r in rows], columns=LINK_COLUMNS)
    links_gdf = gpd.GeoDataFrame(link_frame, geometry=[r["geometry"] for r in rows], crs=crs)
    corridor_frame = pd.DataFrame(
        [{k: v for k, v in c.items() if k not in ("_rows", "geometry", "cluster_index", "n_places")} for c in corridor_rows],
        columns=CORRIDOR_COLUMNS + ["cluster_ids"],
    )
    corridors_gdf = gpd.GeoDataFrame(corridor_frame, geometry=[c["geometry"] for c in corridor_rows], crs=crs)
    return links_gdf, corridors_gdf


def assemble_result(clusters: Clusters, cores: Cores, surfaces: CostSurfaces, links: Links, rows: list, places: Places,
                    corridor: CorridorSurface, corridor_rows: list, grid: Grid, c_min: float, report: RunLog) -> CorridorResult:
    """The :class:`CorridorResult`: tables, corridor raster, per-cluster summary, warnings about isolated
    clusters, and the run's stats."""
    links_gdf, corridors_gdf = result_frames(rows, corridor_rows, grid.crs)
    cluster_frame = cluster_table(clusters, cores, rows, corridor_rows, places, links.unreachable)
    isolated = [str(clusters.ids[i]) for i in range(clusters.n) if cluster_frame.at[i, "status"] == "isolated"]
    if isolated:
        report.warn(
            f"{len(isolated)} cluster(s) reach no other cluster (surrounded by impassable cells"
            f"{' or beyond MAX_COST_DISTANCE' if math.isfinite(surfaces.max_cost) else ''}): {', '.join(isolated[:20])}."
        )
    counts = surfaces.counts
    stats = {
        "n_clusters": clusters.n,
        "n_active": len(cores.active),
        "n_links": len(rows),
        "n_corridors": len(corridor_rows),
        "dijkstra_runs": counts.runs,
        "surface_extensions": counts.extensions,
        "cells_settled": counts.settled,
        "surface_bytes": counts.bytes,
        "d_ref": places.d_ref,
        "n_places": places.n_places,
        "min_step_cost": c_min,
        "splits": links.splits,
        "engine": surfaces.search_grid.engine,
    }
    return CorridorResult(
        links=links_gdf, corridors=corridors_gdf, surface=corridor.surface, grid=grid, clusters=cluster_frame,
        unreachable=links.unreachable, log=report.lines, warnings=report.warnings, stats=stats,
    )


# --------------------------------------------------------------------------------------------------------
# the pipeline
# --------------------------------------------------------------------------------------------------------
def run_steps(clusters: Clusters, settings: CorridorSettings, resistance: np.ndarray, grid: Grid, budget: int,
              report: RunLog, callback=None) -> CorridorResult:
    """Run the steps in order on checked inputs (see :func:`detect_corridors`)."""
    check_callback(callback, 0.0)
    cores = core_step(clusters, grid, resistance, report)
    check_callback(callback, 0.05)
    surfaces = surface_step(cores, resistance, grid, settings, budget, report, callback)
    c_min = grid.cell_size * surfaces.search_grid.min_cost
    links = link_step(cores, surfaces, settings, clusters.ids, grid.cell_size, report, callback)
    rows, places = metrics_step(links, surfaces, clusters, cores, grid, c_min, settings, report, callback)
    corridor = corridor_step(rows, links, surfaces, grid, settings, report, callback)
    corridor_rows = chain_step(rows, places, cores, clusters, corridor.polygons, settings, grid.cell_size, report, callback)
    result = assemble_result(clusters, cores, surfaces, links, rows, places, corridor, corridor_rows, grid, c_min, report)
    check_callback(callback, 1.0)
    return result


# --- the entry point ---------------------------------------------------------------------------------------
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
    clusters, warnings = check_clusters(geometries, masses, ids)
    settings = check_settings(
        max_neighbours=max_neighbours, max_cost_distance=max_cost_distance, width=width, width_mode=width_mode,
        beta=beta, strength_threshold=strength_threshold, max_turn=max_turn, min_chain_clusters=min_chain_clusters,
        place_gap=place_gap, engine=engine,
    )
    resistance, budget = check_resistance(resistance, grid, memory_limit)
    report = RunLog(log_callback=log_callback, warnings=warnings)
    return run_steps(clusters, settings, resistance, grid, budget, report, callback)
