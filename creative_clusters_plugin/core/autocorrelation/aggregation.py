"""Aggregate incident points into counts per cell: fishnet squares, hexagons, or given polygons.

Used by Optimized Hot Spot Analysis (:mod:`.optimized_hotspots`) when the input holds *incidents* (points
without an analysis field): the hot-spot statistic then runs on the number of incidents per cell.

Grids
-----
* **Fishnet**: square cells of side ``cell_size``, anchored at the lower-left corner of the points' extent
  (or of the bounding polygons' extent). A point belongs to the cell ``(floor((x − x0)/s), floor((y − y0)/s))``:
  a point on a shared edge goes to the cell on its right / above.
* **Hexagons**: pointy-top regular hexagons with *the same area as a fishnet square of side* ``cell_size``
  (side ``a = s · sqrt(2 / (3 √3))``), centres on the lattice ``(√3 a (q + r/2), 1.5 a r)`` from the same
  anchor. A point belongs to the hexagon whose centre is nearest (hexagons are the Voronoi cells of their
  centres), found in O(1) per point by cube-coordinate rounding.

Without bounding polygons only the cells holding at least one incident are kept (ArcGIS: cells without
incidents are not evidence of anything, since incidents could not have happened there). With bounding
polygons every cell that overlaps them (with some area) is kept, zero counts included, and incidents outside the bounding
polygons are left out (and counted).

Cell size rule (``cell_size <= 0``, :func:`automatic_cell_size`), after ArcGIS's "based on the spatial
distribution of the incidents": over the *distinct* incident locations with locational outliers removed
(nearest-neighbour distance at or above mean + 3 SD), the cell side is twice the mean nearest-neighbour
distance — so a typical non-empty cell holds an incident and its nearest neighbour — rounded to 2
significant figures, but never so small that the extent would hold more than :data:`MAX_CELLS` cells nor
so large that it would hold fewer than :data:`MIN_CELLS_TARGET` cells.

Given polygons
--------------
Each incident is counted in the first polygon (in input order) that contains it or has it on its boundary, so
a point on a shared boundary is counted once. Every polygon is kept, zero counts included. Incidents outside
every polygon are left out and counted.

All coordinates are projected (metres). No QGIS import; shapely 1.8/2.x and numpy only.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

from ..errors import CreativeClustersError, check_callback

FISHNET = 0
HEXAGON = 1
POLYGONS = 2
AGGREGATION_LABELS = ("Fishnet grid (square cells)", "Hexagon grid", "Given polygons")

#: The automatic cell size never gives more cells than this over the extent.
MAX_CELLS = 1_000_000
#: Nor fewer than this (a coarser grid could not hold 30 features with a count).
MIN_CELLS_TARGET = 100
#: Hexagon side per unit of cell size, for the same area as a square of side 1.
HEX_SIDE_FACTOR = math.sqrt(2.0 / (3.0 * math.sqrt(3.0)))


@dataclass
class Aggregation:
    """Counts per cell (or per given polygon) and how each incident was assigned.

    Attributes
    ----------
    polygons : list
        Shapely polygons of the kept cells (analysis CRS); for given polygons, the polygons themselves.
    centres : ndarray (m, 2)
        Cell centres (hexagon / square centre; for given polygons a point on the surface).
    counts : ndarray (m,) int64
        Incidents per cell.
    cell_of_point : ndarray (n,) int64
        Index of each incident's cell in ``polygons``, −1 when left out (outside bounding / given polygons).
    cell_size : float or None
        Square side (metres); ``None`` for given polygons.
    kind : int
        :data:`FISHNET`, :data:`HEXAGON` or :data:`POLYGONS`.
    source_index : ndarray (m,) int64
        For given polygons: the index of each kept polygon in the input (all are kept); else ``arange(m)``.
    messages : list of str
        Decisions and warnings for the log.
    """

    polygons: list
    centres: np.ndarray
    counts: np.ndarray
    cell_of_point: np.ndarray
    cell_size: float | None
    kind: int
    source_index: np.ndarray
    messages: list = field(default_factory=list)

    @property
    def n_left_out(self) -> int:
        return int((self.cell_of_point < 0).sum())


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------
def _validate_points(xy) -> np.ndarray:
    arr = np.asarray(xy, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise CreativeClustersError("Incident coordinates must be an (n, 2) array in a projected CRS.")
    arr = np.ascontiguousarray(arr[:, :2])
    if len(arr) == 0:
        raise CreativeClustersError("There are no incidents to aggregate.")
    if not np.all(np.isfinite(arr)):
        raise CreativeClustersError("Some incidents have no valid location (NULL or empty geometry).")
    return arr


def _round_sig(value: float, digits: int = 2) -> float:
    if value <= 0 or not np.isfinite(value):
        return value
    exponent = math.floor(math.log10(value)) - (digits - 1)
    return round(value / 10**exponent) * 10**exponent


def nearest_neighbour_distances(xy) -> np.ndarray:
    """Distance from each point to its nearest *other* point (0 for coincident points); needs n >= 2."""
    arr = np.asarray(xy, dtype=np.float64)
    if len(arr) < 2:
        raise CreativeClustersError("At least two distinct locations are needed to measure spacing.")
    dist, _ = cKDTree(arr).query(arr, k=2)
    return dist[:, 1]


def locational_outliers(xy) -> tuple[np.ndarray, float]:
    """``(mask, threshold)``: points whose nearest-neighbour distance is >= mean + 3 SD of those distances.

    The mean and SD are those of all the given points' nearest-neighbour distances (pass distinct
    locations: coincident points would pull the mean to 0).
    """
    d = nearest_neighbour_distances(xy)
    threshold = float(d.mean() + 3.0 * d.std())
    mask = d >= threshold if d.std() > 0 else np.zeros(len(d), dtype=bool)
    return mask, threshold


def _extent(xy: np.ndarray, bounds=None):
    if bounds is not None:
        return tuple(float(v) for v in bounds)
    return float(xy[:, 0].min()), float(xy[:, 1].min()), float(xy[:, 0].max()), float(xy[:, 1].max())


def automatic_cell_size(xy, bounds=None) -> tuple[float, list]:
    """Cell side (metres) for incident aggregation and the log lines explaining it (module docstring)."""
    arr = _validate_points(xy)
    distinct = np.unique(arr, axis=0)
    if len(distinct) < 3:
        raise CreativeClustersError(
            f"The incidents sit at only {len(distinct)} distinct location(s): there is no spatial pattern to "
            "analyse. Check the geocoding of the points."
        )
    outliers, threshold = locational_outliers(distinct)
    d = nearest_neighbour_distances(distinct[~outliers]) if (~outliers).sum() >= 2 else nearest_neighbour_distances(distinct)
    mean_nn = float(d.mean())
    xmin, ymin, xmax, ymax = _extent(arr, bounds)
    area = max((xmax - xmin) * (ymax - ymin), 0.0)
    base = 2.0 * mean_nn
    lower = math.sqrt(area / MAX_CELLS) if area > 0 else 0.0
    upper = math.sqrt(area / MIN_CELLS_TARGET) if area > 0 else base
    size = min(max(base, lower), upper) if upper > 0 else base
    size = _round_sig(size, 2)
    if size <= 0:
        size = 1.0
    messages = [
        f"Cell size {size:,.0f} m (automatic): twice the mean nearest-neighbour distance ({mean_nn:,.1f} m) "
        f"between the {int((~outliers).sum()):,} distinct incident locations that are not locational outliers "
        f"({int(outliers.sum()):,} outlier location(s), nearest neighbour ≥ {threshold:,.0f} m, set aside), "
        "rounded to 2 significant figures"
        + (" and kept within the grid-size limits." if abs(size - _round_sig(base, 2)) > 1e-9 else ".")
    ]
    return float(size), messages


# --------------------------------------------------------------------------------------------------
# grids
# --------------------------------------------------------------------------------------------------
def _square(cx, cy, s):
    from shapely.geometry import Polygon

    h = s / 2.0
    return Polygon([(cx - h, cy - h), (cx + h, cy - h), (cx + h, cy + h), (cx - h, cy + h)])


def _hexagon(cx, cy, a):
    from shapely.geometry import Polygon

    angles = np.radians(30.0 + 60.0 * np.arange(6))  # pointy top: vertices at 30°, 90°, ...
    return Polygon(list(zip(cx + a * np.cos(angles), cy + a * np.sin(angles))))


def hexagon_of(xy, origin, side) -> tuple[np.ndarray, np.ndarray]:
    """Axial coordinates ``(q, r)`` of the pointy-top hexagon (side ``side``) containing each point."""
    x = (np.asarray(xy)[:, 0] - origin[0]) / side
    y = (np.asarray(xy)[:, 1] - origin[1]) / side
    qf = math.sqrt(3.0) / 3.0 * x - y / 3.0
    rf = 2.0 / 3.0 * y
    # cube rounding (x + y + z = 0)
    cx, cz = qf, rf
    cy = -cx - cz
    rx, ry, rz = np.round(cx), np.round(cy), np.round(cz)
    dx, dy, dz = np.abs(rx - cx), np.abs(ry - cy), np.abs(rz - cz)
    fix_x = (dx > dy) & (dx > dz)
    fix_y = ~fix_x & (dy > dz)
    fix_z = ~fix_x & ~fix_y
    rx = np.where(fix_x, -ry - rz, rx)
    ry = np.where(fix_y, -rx - rz, ry)
    rz = np.where(fix_z, -rx - ry, rz)
    return rx.astype(np.int64), rz.astype(np.int64)


def hexagon_centre(q, r, origin, side) -> np.ndarray:
    q = np.asarray(q, dtype=np.float64)
    r = np.asarray(r, dtype=np.float64)
    return np.column_stack(
        [origin[0] + side * math.sqrt(3.0) * (q + r / 2.0), origin[1] + side * 1.5 * r]
    )


def _bounding_union(bounding):
    from shapely.ops import unary_union

    geoms = [g for g in _as_shapes(bounding) if g is not None and not g.is_empty]
    if not geoms:
        raise CreativeClustersError("The bounding polygon layer holds no polygon.")
    union = unary_union([g if g.is_valid else g.buffer(0) for g in geoms])
    if union.is_empty or union.area <= 0:
        raise CreativeClustersError("The bounding polygons have no area.")
    return union


def _as_shapes(geometries) -> list:
    from shapely import wkb as shapely_wkb

    if hasattr(geometries, "geometry") and not isinstance(geometries, (bytes, bytearray, list, tuple)):
        geometries = geometries.geometry
    out = []
    for g in list(geometries):
        if g is None:
            out.append(None)
        elif isinstance(g, (bytes, bytearray, memoryview)):
            out.append(shapely_wkb.loads(bytes(g)))
        else:
            out.append(g)
    return out


def _points_inside(union, xy: np.ndarray) -> np.ndarray:
    """Mask of points inside or on the boundary of ``union`` (prepared geometry, vectorised when possible)."""
    try:  # shapely 2
        import shapely

        if hasattr(shapely, "intersects_xy"):
            shapely.prepare(union)
            return np.asarray(shapely.intersects_xy(union, xy[:, 0], xy[:, 1]), dtype=bool)
    except ImportError:  # pragma: no cover
        pass
    from shapely.geometry import Point
    from shapely.prepared import prep

    prepared = prep(union)
    return np.fromiter((prepared.intersects(Point(x, y)) for x, y in xy), dtype=bool, count=len(xy))


def aggregate_to_grid(xy, kind: int = FISHNET, cell_size: float = 0.0, bounding=None, callback=None) -> Aggregation:
    """Count incidents per fishnet square or hexagon (see the module docstring for the rules).

    Parameters
    ----------
    xy : array-like (n, 2)
        Incident coordinates, projected (metres).
    kind : {FISHNET, HEXAGON}
    cell_size : float
        Square side in metres (hexagons get the same area); ``<= 0`` for :func:`automatic_cell_size`.
    bounding : sequence of polygons, optional
        Where incidents are possible (shapely polygons, WKB or a GeoSeries): all cells intersecting them are
        kept, zero counts included.
    """
    arr = _validate_points(xy)
    if kind not in (FISHNET, HEXAGON):
        raise CreativeClustersError("Grid aggregation is 0 (fishnet) or 1 (hexagons).")
    check_callback(callback, 0.0)
    messages: list = []
    union = _bounding_union(bounding) if bounding is not None else None
    bounds = union.bounds if union is not None else None
    cell_size = _grid_cell_size(arr, cell_size, bounds, messages)
    extent = _extent(arr, bounds)
    _check_grid_size(extent, cell_size, union)
    inside = np.ones(len(arr), dtype=bool)
    if union is not None:
        inside = _points_inside(union, arr)
        if (~inside).any():
            messages.append(
                f"{int((~inside).sum()):,} incident(s) lie outside the bounding polygons and are left out."
            )
    check_callback(callback, 0.2)
    layout = _fishnet_layout if kind == FISHNET else _hexagon_layout
    keys_pts, candidates, centre_of, make, reach = layout(arr, extent, cell_size, union is not None)
    check_callback(callback, 0.4)

    if union is None:
        keys, inverse, counts = np.unique(keys_pts, axis=0, return_inverse=True, return_counts=True)
        cell_of_point = inverse.astype(np.int64).ravel()
    else:
        keys, cell_of_point, counts = _assign_to_kept_cells(
            union, extent, keys_pts, inside, candidates, centre_of, make, reach, messages
        )
    check_callback(callback, 0.8)
    centres = centre_of(np.asarray(keys).reshape(-1, 2))
    polygons = [make(c) for c in centres]
    messages.append(_grid_summary(kind, len(polygons), len(arr), counts, union is None))
    check_callback(callback, 1.0)
    return Aggregation(
        polygons=polygons,
        centres=centres,
        counts=np.asarray(counts, dtype=np.int64),
        cell_of_point=cell_of_point,
        cell_size=float(cell_size),
        kind=kind,
        source_index=np.arange(len(polygons), dtype=np.int64),
        messages=messages,
    )


def _grid_cell_size(arr: np.ndarray, cell_size, bounds, messages: list) -> float:
    """The given cell size, or :func:`automatic_cell_size` when it is missing or ``<= 0``; logs the choice."""
    if cell_size is None or not np.isfinite(cell_size) or cell_size <= 0:
        cell_size, size_messages = automatic_cell_size(arr, bounds)
        messages += size_messages
    else:
        cell_size = float(cell_size)
        messages.append(f"Cell size {cell_size:,.1f} m (given).")
    return cell_size


def _check_grid_size(extent, cell_size: float, union) -> None:
    """Refuse a grid over bounding polygons that would have far more than :data:`MAX_CELLS` cells."""
    xmin, ymin, xmax, ymax = extent
    n_est = ((xmax - xmin) / cell_size + 1) * ((ymax - ymin) / cell_size + 1)
    if union is not None and n_est > 4 * MAX_CELLS:
        raise CreativeClustersError(
            f"A {cell_size:,.0f} m grid over the bounding polygons would have about {n_est:,.0f} cells. "
            "Use a larger cell size."
        )


def _fishnet_layout(arr: np.ndarray, extent, cell_size: float, with_candidates: bool):
    """Square cells: each point's cell key, every cell over the extent (when asked), and how to draw a cell."""
    xmin, ymin, xmax, ymax = extent
    ix = np.floor((arr[:, 0] - xmin) / cell_size).astype(np.int64)
    iy = np.floor((arr[:, 1] - ymin) / cell_size).astype(np.int64)
    keys_pts = np.column_stack([ix, iy])
    candidates = None
    if with_candidates:
        nx = int(math.floor((xmax - xmin) / cell_size)) + 1
        ny = int(math.floor((ymax - ymin) / cell_size)) + 1
        gx, gy = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
        candidates = np.column_stack([gx.ravel(), gy.ravel()])
    centre_of = lambda keys: np.column_stack(  # noqa: E731
        [xmin + (keys[:, 0] + 0.5) * cell_size, ymin + (keys[:, 1] + 0.5) * cell_size]
    )
    make = lambda c: _square(c[0], c[1], cell_size)  # noqa: E731
    reach = cell_size * math.sqrt(0.5)
    return keys_pts, candidates, centre_of, make, reach


def _hexagon_layout(arr: np.ndarray, extent, cell_size: float, with_candidates: bool):
    """Hexagons: each point's axial key, every hexagon near the extent (when asked), and how to draw one."""
    xmin, ymin, xmax, ymax = extent
    origin = (xmin, ymin)
    side = cell_size * HEX_SIDE_FACTOR
    q, r = hexagon_of(arr, origin, side)
    keys_pts = np.column_stack([q, r])
    candidates = None
    if with_candidates:
        # every hexagon whose centre lies within one side of the extent
        rr = np.arange(-1, int(math.ceil((ymax - ymin) / (1.5 * side))) + 2)
        cand = []
        width = math.sqrt(3.0) * side
        for r_ in rr:
            q0 = int(math.floor(-r_ / 2.0)) - 1
            q1 = int(math.ceil((xmax - xmin) / width - r_ / 2.0)) + 1
            qq = np.arange(q0, q1 + 1)
            cand.append(np.column_stack([qq, np.full(len(qq), r_)]))
        candidates = np.vstack(cand)
    centre_of = lambda keys: hexagon_centre(keys[:, 0], keys[:, 1], origin, side)  # noqa: E731
    make = lambda c: _hexagon(c[0], c[1], side)  # noqa: E731
    reach = side
    return keys_pts, candidates, centre_of, make, reach


def _assign_to_kept_cells(union, extent, keys_pts, inside, candidates, centre_of, make, reach, messages: list):
    """Keep the candidate cells overlapping the bounding polygons; each inside point's cell and the counts."""
    xmin, ymin, xmax, ymax = extent
    centres_c = centre_of(candidates)
    # quick rejection by distance of the centre to the bounding polygons' bounds, then exact test
    near = (
        (centres_c[:, 0] >= xmin - reach) & (centres_c[:, 0] <= xmax + reach)
        & (centres_c[:, 1] >= ymin - reach) & (centres_c[:, 1] <= ymax + reach)
    )
    candidates = candidates[near]
    centres_c = centres_c[near]
    keep = _cells_intersecting(union, centres_c, make)
    keys = candidates[keep]
    lookup = {(int(a), int(b)): i for i, (a, b) in enumerate(keys)}
    cell_of_point = np.array(
        [lookup.get((int(a), int(b)), -1) if ok else -1 for (a, b), ok in zip(keys_pts, inside)],
        dtype=np.int64,
    )
    counts = np.bincount(cell_of_point[cell_of_point >= 0], minlength=len(keys)).astype(np.int64)
    stray = int(((cell_of_point < 0) & inside).sum())
    if stray:  # inside the bounding polygons but in a cell not kept: cannot happen except by rounding
        messages.append(f"{stray:,} incident(s) fell in no kept cell and are left out.")
    return keys, cell_of_point, counts


def _grid_summary(kind: int, n_cells: int, n_points: int, counts, without_bounding: bool) -> str:
    """The log line saying how many cells were kept and why."""
    label = "square" if kind == FISHNET else "hexagon"
    if without_bounding:
        return (
            f"{n_cells:,} {label} cells hold the {n_points:,} incidents (cells without incidents are left "
            "out: give bounding polygons to keep them)."
        )
    return (
        f"{n_cells:,} {label} cells cover the bounding polygons, {int((counts == 0).sum()):,} of them "
        "without incidents (kept, count 0)."
    )


def _cells_intersecting(union, centres: np.ndarray, make) -> np.ndarray:
    from shapely.prepared import prep

    prepared = prep(union)
    inside = _points_inside(union, centres)
    keep = inside.copy()
    for i in np.flatnonzero(~inside):  # cells whose centre is outside may still overlap the edge
        cell = make(centres[i])
        # overlap with an area, not a mere touch along an edge or at a corner
        keep[i] = prepared.intersects(cell) and union.intersection(cell).area > 1e-9 * cell.area
    return keep


def aggregate_to_polygons(xy, polygons, callback=None) -> Aggregation:
    """Count incidents per given polygon (each incident in the first polygon that contains it).

    Parameters
    ----------
    xy : array-like (n, 2)
        Incident coordinates, projected (metres).
    polygons : sequence
        Shapely polygons, WKB or a GeoSeries, in the same CRS. Empty/NULL geometries get count 0.
    """
    arr = _validate_points(xy)
    shapes = _as_shapes(polygons)
    if not shapes:
        raise CreativeClustersError("The aggregation polygon layer holds no polygon.")
    check_callback(callback, 0.0)
    shapes = [g if (g is None or g.is_valid) else g.buffer(0) for g in shapes]
    from shapely.geometry import Point
    from shapely.prepared import prep
    from shapely.strtree import STRtree

    valid = [i for i, g in enumerate(shapes) if g is not None and not g.is_empty]
    cell_of_point = np.full(len(arr), -1, dtype=np.int64)
    if valid:
        tree_geoms = [shapes[i] for i in valid]
        with warnings.catch_warnings():  # shapely 1.8 announces the 2.0 API change; both are handled below
            warnings.simplefilter("ignore")
            tree = STRtree(tree_geoms)
        prepared = [prep(g) for g in tree_geoms]
        ids = {id(g): k for k, g in enumerate(tree_geoms)}
        step = max(1, len(arr) // 20)
        for n, (x, y) in enumerate(arr):
            if n % step == 0:
                check_callback(callback, 0.9 * n / len(arr))
            pt = Point(x, y)
            hits = tree.query(pt)
            hits = [int(h) if isinstance(h, (int, np.integer)) else ids[id(h)] for h in hits]
            for k in sorted(hits):
                if prepared[k].intersects(pt):
                    cell_of_point[n] = valid[k]
                    break
    counts = np.bincount(cell_of_point[cell_of_point >= 0], minlength=len(shapes)).astype(np.int64)
    centres = np.full((len(shapes), 2), np.nan)
    for i in valid:
        p = shapes[i].representative_point()
        centres[i] = (p.x, p.y)
    messages = []
    outside = int((cell_of_point < 0).sum())
    if outside:
        messages.append(f"{outside:,} incident(s) lie outside every aggregation polygon and are left out.")
    empty = len(shapes) - len(valid)
    if empty:
        messages.append(f"{empty:,} aggregation polygon(s) have no geometry and are left out.")
    messages.append(
        f"{int(counts.sum()):,} incidents counted in {len(valid):,} polygons "
        f"({int((counts[valid] == 0).sum()):,} without incidents, kept with count 0)."
    )
    check_callback(callback, 1.0)
    return Aggregation(
        polygons=shapes,
        centres=centres,
        counts=counts,
        cell_of_point=cell_of_point,
        cell_size=None,
        kind=POLYGONS,
        source_index=np.arange(len(shapes), dtype=np.int64),
        messages=messages,
    )


__all__ = [
    "AGGREGATION_LABELS",
    "Aggregation",
    "FISHNET",
    "HEXAGON",
    "HEX_SIDE_FACTOR",
    "POLYGONS",
    "aggregate_to_grid",
    "aggregate_to_polygons",
    "automatic_cell_size",
    "hexagon_centre",
    "hexagon_of",
    "locational_outliers",
    "nearest_neighbour_distances",
]
