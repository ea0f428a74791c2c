"""Spatial weights: the one implementation every statistic in Creative Clusters uses.

A spatial weights matrix ``W`` says which features are neighbours and how much each neighbour counts.
This module builds it, as a sparse ``n × n`` :class:`scipy.sparse.csr_matrix` with a zero diagonal and
non-negative entries, from

* **polygon topology** — queen contiguity (a shared point is enough) or rook contiguity (a shared stretch of
  boundary is needed), tolerant to tiny gaps and slivers through a snap tolerance;
* **distances between points** (polygons are represented by a point on their surface) — a fixed distance
  band, the *k* nearest neighbours, or inverse distance (power 1 or 2) with an optional cut-off.

The matrix is *not* standardised: binary kinds hold 1.0, inverse distance holds ``1 / d**power``. The
statistics apply what they need (Gi* is invariant to row standardisation; local Moran's I row-standardises).

Coordinates must be projected (metres): the Processing adapters reproject geographic input before calling
this module, which therefore never sees degrees.

Conventions (documented here once, used everywhere)
----------------------------------------------------
* Contiguity. Two polygons are **queen** neighbours when the distance between them is at most
  ``snap_tolerance`` (``0``: they touch or overlap). They are **rook** neighbours when, in addition, the part
  of one boundary lying within ``snap_tolerance`` of the other boundary is longer than
  ``max(4 * snap_tolerance, 1e-9 * extent)`` — a single shared corner never qualifies, a shared edge does.
  A fast exact pass finds every pair that shares vertices / edges (within the tolerance, after clustering
  vertices closer than the tolerance); a geometric pass (GEOS through shapely) then settles the remaining
  pairs whose bounding boxes come within the tolerance (T-junctions, gaps, overlaps). Contact regions
  narrower than the rook threshold in both directions are treated as corners.
* Distance band: neighbours at distance ``<= threshold``. ``threshold <= 0`` means the smallest band that
  gives every feature at least one neighbour (:func:`min_connecting_distance`), the ArcGIS default.
* k nearest neighbours: exactly ``k`` neighbours per feature, self excluded; coincident points (distance 0)
  are neighbours like any other; ties at the k-th distance are broken by the k-d tree's deterministic order
  (libpysal and ArcGIS also break them arbitrarily). The matrix is not symmetric.
* Inverse distance: ``w = 1 / max(d, 1 m) ** power`` so coincident features get a finite weight equal to the
  Gi* self-weight (1). Without a cut-off every pair is linked (a dense ``n × n`` problem) and inputs above
  :data:`DENSE_LIMIT` features are refused with a message asking for a cut-off distance.

References: Getis & Aldstadt (2004) *Constructing the spatial weights matrix using a local statistic*,
Geographical Analysis 36(2); Anselin (1988) *Spatial Econometrics*, ch. 3; ArcGIS Pro, "Modeling spatial
relationships"; libpysal ``Queen``/``Rook``/``DistanceBand``/``KNN`` (the vertex-sharing rule).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Sequence

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from ..errors import CreativeClustersError, check_callback
from ..memory import available_memory, format_bytes

#: Largest number of features for inverse-distance weights without a cut-off (n² weights are stored).
DENSE_LIMIT = 4000
#: Distances below this (map units, metres) count as this for inverse-distance weights.
MIN_INVERSE_DISTANCE = 1.0
#: A distance band / kNN graph above this many links is refused (it would not fit in memory).
MAX_LINKS = 300_000_000


class WeightsKind(IntEnum):
    """Neighbourhood definitions, in the order of the Processing ``WEIGHTS`` enum (a public contract)."""

    QUEEN = 0
    ROOK = 1
    DISTANCE_BAND = 2
    KNN = 3
    INVERSE_DISTANCE = 4


WEIGHTS_LABELS = (
    "Queen contiguity (shared edge or corner)",
    "Rook contiguity (shared edge)",
    "Fixed distance band",
    "K nearest neighbours",
    "Inverse distance",
)


@dataclass
class SpatialWeights:
    """A spatial weights matrix and how it was made.

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix
        ``n × n`` float64, zero diagonal, non-negative; row ``i`` holds the weights of ``i``'s neighbours.
    kind : WeightsKind or None
        How the neighbours were defined (``None`` for a user-supplied matrix).
    threshold : float or None
        Distance band / cut-off actually used (metres), ``None`` when not distance based.
    warnings : list of str
        Messages for the log (islands, coincident points, clamped ``k`` ...).
    """

    matrix: sparse.csr_matrix
    kind: WeightsKind | None = None
    threshold: float | None = None
    warnings: list = field(default_factory=list)

    def __post_init__(self):
        self.matrix = _canonical(self.matrix)

    @property
    def n(self) -> int:
        """Number of features."""
        return self.matrix.shape[0]

    @property
    def cardinalities(self) -> np.ndarray:
        """Number of neighbours of each feature, the feature itself excluded."""
        return np.diff(self.matrix.indptr).astype(np.int64)

    @property
    def islands(self) -> np.ndarray:
        """Boolean mask of features without any neighbour."""
        return self.cardinalities == 0

    @property
    def nnz(self) -> int:
        """Number of neighbour links (non-zero weights)."""
        return int(self.matrix.nnz)


def _canonical(matrix) -> sparse.csr_matrix:
    """CSR float64 with sorted indices, no explicit zeros and a zero diagonal."""
    m = sparse.csr_matrix(matrix, dtype=np.float64, copy=True)
    if m.shape[0] != m.shape[1]:
        raise CreativeClustersError(f"A spatial weights matrix must be square; got {m.shape}.")
    if m.nnz and np.any(m.data < 0):
        raise CreativeClustersError("Spatial weights must not be negative.")
    if m.nnz and not np.all(np.isfinite(m.data)):
        raise CreativeClustersError("Spatial weights must be finite numbers.")
    m.sum_duplicates()
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    off_diagonal = (rows != m.indices) & (m.data != 0)
    if not off_diagonal.all():
        m = sparse.csr_matrix(
            (m.data[off_diagonal], (rows[off_diagonal], m.indices[off_diagonal])), shape=m.shape
        )
    m.sort_indices()
    return m


def _binary_from_pairs(n: int, i, j) -> sparse.csr_matrix:
    """Symmetric binary matrix from unordered pairs (duplicates collapse to weight 1)."""
    i = np.asarray(i, dtype=np.int64)
    j = np.asarray(j, dtype=np.int64)
    keep = i != j
    i, j = i[keep], j[keep]
    m = sparse.csr_matrix(
        (np.ones(2 * len(i)), (np.concatenate([i, j]), np.concatenate([j, i]))), shape=(n, n)
    )
    m.sum_duplicates()
    m.data[:] = 1.0
    return m


# --------------------------------------------------------------------------------------------------
# coordinates
# --------------------------------------------------------------------------------------------------
def _validate_xy(xy, minimum: int = 2) -> np.ndarray:
    arr = np.asarray(xy, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise CreativeClustersError("Coordinates must be an (n, 2) array of x, y in a projected CRS.")
    arr = np.ascontiguousarray(arr[:, :2])
    if len(arr) < minimum:
        raise CreativeClustersError(
            f"At least {minimum} features with a location are needed to define neighbours; got {len(arr)}."
        )
    if not np.all(np.isfinite(arr)):
        bad = int((~np.isfinite(arr).all(axis=1)).sum())
        raise CreativeClustersError(f"{bad} feature(s) have no valid location (NULL or empty geometry).")
    return arr


def _duplicate_warning(xy: np.ndarray) -> list:
    keys = np.ascontiguousarray(xy).view([("x", "f8"), ("y", "f8")]).ravel()
    _, counts = np.unique(keys, return_counts=True)
    dup = int(counts[counts > 1].sum())
    if dup:
        return [
            f"{dup} features share their location with at least one other feature; coincident features "
            "are neighbours of each other (distance 0)."
        ]
    return []


def _island_warning(matrix: sparse.csr_matrix, snap_tolerance: float | None = None) -> list:
    islands = int((np.diff(matrix.indptr) == 0).sum())
    if not islands:
        return []
    remedy = "Use a larger distance, k nearest neighbours or a snap tolerance to connect them."
    if snap_tolerance is not None:
        remedy = (
            f"With contiguity, polygons count as neighbours when they are within the snap tolerance "
            f"({snap_tolerance:g} m) of each other: raise SNAP_TOLERANCE, or use a distance band or k nearest "
            "neighbours to connect them."
        )
    return [
        f"{islands} feature(s) have no neighbour with these weights (islands); their statistics are left "
        f"empty (NULL). {remedy}"
    ]


def min_connecting_distance(xy) -> float:
    """Smallest distance band that gives every feature at least one neighbour.

    It is the largest nearest-neighbour distance, ``max_i min_{j != i} d_ij`` (coincident points give 0).

    Parameters
    ----------
    xy : array-like of shape (n, 2)
        Projected coordinates, n >= 2.
    """
    arr = _validate_xy(xy)
    dist, _ = cKDTree(arr).query(arr, k=2)
    return float(dist[:, 1].max())


#: bytes a link of a distance band costs while the weights are built (pair indices, both directions, CSR)
BYTES_PER_LINK = 48


def _check_link_budget(tree: cKDTree, threshold: float, n: int) -> None:
    """Refuse, before building anything, a band that links more pairs than memory holds (counted first)."""
    links = int(tree.count_neighbors(tree, threshold)) - n
    needed = links * BYTES_PER_LINK
    available = available_memory()
    budget = min(MAX_LINKS * BYTES_PER_LINK, 0.5 * available) if available else MAX_LINKS * BYTES_PER_LINK
    if needed > budget:
        raise CreativeClustersError(
            f"A distance band of {threshold:,.0f} m links {links:,} pairs of the {n:,} features (about "
            f"{links / max(n, 1):,.0f} neighbours each): building it needs about {format_bytes(needed)} of memory, "
            f"{'more than the ' + format_bytes(budget) + ' this run may use' if available else 'too much'}. Use a "
            "smaller distance (a band is meant to reach a feature's neighbours, not the whole layer) or k nearest "
            "neighbours."
        )


def distance_band_weights(xy, threshold: float) -> SpatialWeights:
    """Binary weights: ``w_ij = 1`` when ``0 < |x_i - x_j| <= threshold`` or the points coincide (``i != j``).

    Parameters
    ----------
    xy : array-like of shape (n, 2)
        Projected coordinates (metres).
    threshold : float
        Band width; ``<= 0`` means :func:`min_connecting_distance`.
    """
    arr = _validate_xy(xy)
    n = len(arr)
    warnings = []
    if threshold is None or not np.isfinite(threshold) or threshold <= 0:
        threshold = min_connecting_distance(arr)
        warnings.append(
            f"Distance band: {threshold:,.1f} m, the smallest band that gives every feature at least one "
            "neighbour."
        )
        # the farthest nearest neighbour sits exactly on the band: include it despite rounding
        search = threshold * (1 + 1e-9) + 1e-12
    else:
        search = float(threshold)
    tree = cKDTree(arr)
    _check_link_budget(tree, search, n)
    pairs = tree.query_pairs(search, output_type="ndarray")
    matrix = _binary_from_pairs(n, pairs[:, 0], pairs[:, 1])
    warnings += _duplicate_warning(arr) + _island_warning(matrix)
    return SpatialWeights(matrix, WeightsKind.DISTANCE_BAND, float(threshold), warnings)


def knn_weights(xy, k: int) -> SpatialWeights:
    """Binary k-nearest-neighbour weights (row ``i`` has exactly ``k`` ones; not symmetric).

    The feature itself is excluded even when other features share its location; coincident points are
    neighbours at distance 0. ``k >= n`` is reduced to ``n - 1`` with a warning.
    """
    arr = _validate_xy(xy)
    n = len(arr)
    k = int(k)
    warnings = []
    if k < 1:
        raise CreativeClustersError("The number of neighbours k must be at least 1.")
    if k > n - 1:
        warnings.append(f"k = {k} is more than the other {n - 1} features; using k = {n - 1}.")
        k = n - 1
    if n * k > MAX_LINKS:
        raise CreativeClustersError(f"{n:,} features × k = {k} neighbours is too many links to hold in memory.")
    tree = cKDTree(arr)
    _, idx = tree.query(arr, k=k + 1, workers=-1)
    idx = np.asarray(idx, dtype=np.int64).reshape(n, k + 1)
    rows = np.arange(n)
    drop = idx == rows[:, None]
    # with more than k+1 coincident points the feature itself may be missing from its own list:
    # then drop the last (farthest, here also at distance 0) candidate instead
    no_self = ~drop.any(axis=1)
    drop[no_self, -1] = True
    cols = idx[~drop].reshape(n, k)
    indptr = np.arange(0, n * k + 1, k, dtype=np.int64)
    matrix = sparse.csr_matrix((np.ones(n * k), cols.ravel(), indptr), shape=(n, n))
    warnings += _duplicate_warning(arr)
    return SpatialWeights(matrix, WeightsKind.KNN, None, warnings)


def inverse_distance_weights(xy, power: int = 1, threshold: float | None = None) -> SpatialWeights:
    """Inverse-distance weights ``w_ij = 1 / max(d_ij, 1 m) ** power`` for ``i != j``.

    Parameters
    ----------
    xy : array-like of shape (n, 2)
        Projected coordinates (metres).
    power : {1, 2}
        Distance-decay exponent (inverse distance or inverse distance squared).
    threshold : float or None
        Cut-off: only pairs within it are linked. ``None``/``0`` links every pair, which is refused above
        :data:`DENSE_LIMIT` features.
    """
    arr = _validate_xy(xy)
    n = len(arr)
    power = float(power)
    if power not in (1.0, 2.0):
        raise CreativeClustersError("The inverse-distance power must be 1 or 2.")
    warnings = []
    if threshold is None or not np.isfinite(threshold) or threshold <= 0:
        if n > DENSE_LIMIT:
            raise CreativeClustersError(
                f"Inverse distance without a cut-off links every feature to every other one ({n:,} features → "
                f"{n * (n - 1):,} weights). Set a cut-off distance (DISTANCE) or use fewer than "
                f"{DENSE_LIMIT:,} features."
            )
        i, j = np.triu_indices(n, k=1)
        d = np.hypot(arr[i, 0] - arr[j, 0], arr[i, 1] - arr[j, 1])
        threshold = None
    else:
        tree = cKDTree(arr)
        _check_link_budget(tree, float(threshold), n)
        pairs = tree.query_pairs(float(threshold), output_type="ndarray")
        i, j = pairs[:, 0], pairs[:, 1]
        d = np.hypot(arr[i, 0] - arr[j, 0], arr[i, 1] - arr[j, 1])
        threshold = float(threshold)
    w = 1.0 / np.maximum(d, MIN_INVERSE_DISTANCE) ** power
    matrix = sparse.csr_matrix(
        (np.concatenate([w, w]), (np.concatenate([i, j]), np.concatenate([j, i]))), shape=(n, n)
    )
    warnings += _duplicate_warning(arr) + _island_warning(matrix)
    return SpatialWeights(matrix, WeightsKind.INVERSE_DISTANCE, threshold, warnings)


# --------------------------------------------------------------------------------------------------
# contiguity
# --------------------------------------------------------------------------------------------------
def _to_wkb_list(geometries) -> list:
    """WKB bytes (or None) for each geometry: shapely 1.8/2.x objects, GeoSeries, WKB bytes."""
    if hasattr(geometries, "geometry") and not isinstance(geometries, (bytes, bytearray)):
        geometries = geometries.geometry
    items = list(geometries)
    out = []
    pending = []  # shapely objects to convert
    for k, item in enumerate(items):
        if item is None:
            out.append(None)
        elif isinstance(item, (bytes, bytearray, memoryview)):
            out.append(bytes(item))
        else:
            out.append(None)
            pending.append(k)
    if pending:
        try:  # shapely >= 2: vectorised
            import shapely

            if hasattr(shapely, "to_wkb"):
                objs = np.empty(len(pending), dtype=object)
                objs[:] = [items[k] for k in pending]
                blobs = shapely.to_wkb(objs, output_dimension=2)
                for k, blob in zip(pending, blobs):
                    out[k] = None if blob is None else bytes(blob)
                return out
        except ImportError:  # pragma: no cover - shapely is a QGIS dependency
            pass
        for k in pending:
            geom = items[k]
            out[k] = None if geom is None or geom.is_empty else geom.wkb
    return out


class _RingCollector:
    """Parses Polygon/MultiPolygon/GeometryCollection WKB (2D/Z/M, ISO or EWKB) into ring offsets."""

    POLYGON, MULTIPOLYGON, COLLECTION, MULTISURFACE = 3, 6, 7, 12

    def __init__(self, buffer: bytes):
        self.buf = buffer
        self.rings = []  # (byte offset of first double, n points, dims, '<' or '>', owner)
        self.non_polygon = 0

    def parse(self, offset: int, owner: int) -> int:
        buf = self.buf
        order = "<" if buf[offset] == 1 else ">"
        (gtype,) = struct.unpack_from(order + "I", buf, offset + 1)
        offset += 5
        has_z = bool(gtype & 0x80000000)
        has_m = bool(gtype & 0x40000000)
        if gtype & 0x20000000:  # EWKB SRID
            offset += 4
        gtype &= 0x0FFFFFFF
        base, iso = gtype % 1000, gtype // 1000
        dims = 2 + int(has_z or iso in (1, 3)) + int(has_m or iso in (2, 3))
        if base == self.POLYGON:
            (nrings,) = struct.unpack_from(order + "I", buf, offset)
            offset += 4
            for _ in range(nrings):
                (npts,) = struct.unpack_from(order + "I", buf, offset)
                offset += 4
                if npts:
                    self.rings.append((offset, npts, dims, order, owner))
                offset += npts * dims * 8
            return offset
        if base in (self.MULTIPOLYGON, self.COLLECTION, self.MULTISURFACE):
            (count,) = struct.unpack_from(order + "I", buf, offset)
            offset += 4
            for _ in range(count):
                offset = self.parse(offset, owner)
            return offset
        if base in (1, 2, 4, 5):  # points / lines: skip them
            self.non_polygon += 1
            return self._skip(offset, base, dims, order)
        raise CreativeClustersError(
            "Curved or unsupported geometries cannot be used for contiguity; convert them to straight-edged "
            "polygons first (Processing: 'Segmentize by maximum angle')."
        )

    def _skip(self, offset, base, dims, order):
        if base == 1:
            return offset + dims * 8
        if base == 2:
            (npts,) = struct.unpack_from(order + "I", self.buf, offset)
            return offset + 4 + npts * dims * 8
        (count,) = struct.unpack_from(order + "I", self.buf, offset)
        offset += 4
        for _ in range(count):
            offset = self.parse(offset, -1)
        return offset


@dataclass
class _Rings:
    coords: np.ndarray  # (m, 2) ring vertices, closing duplicate removed
    owner: np.ndarray  # (m,) feature index of each vertex
    ring: np.ndarray  # (m,) ring index of each vertex
    next_vertex: np.ndarray  # (m,) index of the following vertex on the same ring (cyclic)
    n_features: int
    has_polygon: np.ndarray  # (n,) bool


def _parse_rings(wkb_list: Sequence) -> _Rings:
    n = len(wkb_list)
    blobs = [b if b is not None else b"" for b in wkb_list]
    starts = np.zeros(n + 1, dtype=np.int64)
    np.cumsum([len(b) for b in blobs], out=starts[1:])
    buffer = b"".join(blobs)
    collector = _RingCollector(buffer)
    for owner in range(n):
        if starts[owner + 1] > starts[owner]:
            collector.parse(int(starts[owner]), owner)
    rings = [r for r in collector.rings if r[4] >= 0]
    if not rings:
        if collector.non_polygon:
            raise CreativeClustersError(
                "Contiguity (queen/rook) weights need polygons; the input holds points or lines. Use a fixed "
                "distance band or k nearest neighbours instead."
            )
        raise CreativeClustersError("No polygon geometry to build contiguity weights from.")
    meta = np.array([(r[0], r[1], r[2], r[3] == "<", r[4]) for r in rings], dtype=np.int64).reshape(-1, 5)
    offset, npts, dims, little, ring_owner = meta.T
    ring_start = np.cumsum(npts) - npts
    # byte position of every point's x; gather the 16 bytes of x and y of all points at once
    point_rank = np.arange(int(npts.sum())) - np.repeat(ring_start, npts)
    start = np.repeat(offset, npts) + point_rank * np.repeat(dims * 8, npts)
    xy_bytes = np.frombuffer(buffer, dtype=np.uint8)[start[:, None] + np.arange(16)]
    point_little = np.repeat(little.astype(bool), npts)
    coords_all = np.empty((len(start), 2))
    coords_all[point_little] = xy_bytes[point_little].view("<f8")
    coords_all[~point_little] = xy_bytes[~point_little].view(">f8")
    # drop the closing vertex of each ring (equal to its first)
    ring_last = ring_start + npts - 1
    closed = (npts > 1) & np.all(coords_all[ring_start] == coords_all[ring_last], axis=1)
    keep = np.ones(len(coords_all), dtype=bool)
    keep[ring_last[closed]] = False
    coords = np.ascontiguousarray(coords_all[keep]) + 0.0  # -0.0 -> 0.0
    if not np.all(np.isfinite(coords)):
        raise CreativeClustersError("Some polygons have invalid (NaN) coordinates.")
    sizes = npts - closed
    new_start = np.cumsum(sizes) - sizes
    next_vertex = np.arange(len(coords), dtype=np.int64) + 1
    next_vertex[new_start + sizes - 1] = new_start  # the last vertex of a ring links back to its first
    owner = np.repeat(ring_owner, sizes)
    has_polygon = np.zeros(n, dtype=bool)
    has_polygon[owner] = True
    ring_of_vertex = np.repeat(np.arange(len(npts)), sizes)
    return _Rings(coords, owner, ring_of_vertex, next_vertex, n, has_polygon)


def _pairs_within_groups(labels_sorted: np.ndarray):
    """All index pairs (a < b) of positions sharing a label in a sorted label array."""
    length = len(labels_sorted)
    if length < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    starts = np.flatnonzero(np.r_[True, labels_sorted[1:] != labels_sorted[:-1]])
    sizes = np.diff(np.r_[starts, length])
    ends = np.repeat(starts + sizes, sizes)
    positions = np.arange(length)
    counts = ends - positions - 1
    a = np.repeat(positions, counts)
    offsets = np.arange(len(a)) - np.repeat(np.cumsum(counts) - counts, counts)
    return a, a + 1 + offsets


def _shared_label_pairs(labels: np.ndarray, owner: np.ndarray, n_features: int):
    """Unordered feature pairs (i < j) that share at least one label."""
    key = np.unique(labels.astype(np.int64) * n_features + owner)
    lab, own = key // n_features, key % n_features
    a, b = _pairs_within_groups(lab)
    i, j = own[a], own[b]
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    pair_key = np.unique(lo * n_features + hi)
    return pair_key // n_features, pair_key % n_features


def _vertex_locations(coords: np.ndarray, tol: float) -> np.ndarray:
    """Location id of each vertex: equal coordinates, or clusters of vertices closer than ``tol``."""
    keys = coords.view([("x", "f8"), ("y", "f8")]).ravel()
    uniq, inverse = np.unique(keys, return_inverse=True)
    if tol <= 0 or len(uniq) < 2:
        return inverse.astype(np.int64)
    pts = np.column_stack([uniq["x"], uniq["y"]])
    pairs = cKDTree(pts).query_pairs(tol, output_type="ndarray")
    if len(pairs) == 0:
        return inverse.astype(np.int64)
    graph = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(pts), len(pts)))
    _, labels = connected_components(graph, directed=False)
    return labels[inverse].astype(np.int64)


def _bounding_boxes(rings: _Rings):
    n = rings.n_features
    lo = np.full((n, 2), np.inf)
    hi = np.full((n, 2), -np.inf)
    order = rings.owner  # vertices are stored feature by feature (owner is non-decreasing)
    starts = np.flatnonzero(np.r_[True, order[1:] != order[:-1]])
    feats = order[starts]
    lo[feats] = np.minimum.reduceat(rings.coords, starts, axis=0)
    hi[feats] = np.maximum.reduceat(rings.coords, starts, axis=0)
    return lo, hi


def _bbox_candidate_pairs(lo, hi, has_polygon, tol):
    """Feature pairs (i < j) whose bounding boxes, grown by ``tol / 2``, overlap."""
    feats = np.flatnonzero(has_polygon)
    lo, hi = lo[feats] - tol / 2, hi[feats] + tol / 2
    centre = (lo + hi) / 2
    half = np.max((hi - lo) / 2, axis=1)
    tree = cKDTree(centre)
    # boxes overlapping => Chebyshev centre distance <= h_i + h_j <= 2 max(h_i, h_j): querying each box with
    # radius 2 h_i finds every overlapping partner from the larger box of the pair
    found = tree.query_ball_point(centre, r=2 * half * (1 + 1e-12) + 1e-12, p=np.inf, return_sorted=False)
    counts = np.fromiter((len(f) for f in found), dtype=np.int64, count=len(found))
    a = np.repeat(np.arange(len(feats)), counts)
    b = np.fromiter((x for f in found for x in f), dtype=np.int64, count=int(counts.sum()))
    keep = a != b
    a, b = a[keep], b[keep]
    overlap = np.all((lo[a] <= hi[b]) & (lo[b] <= hi[a]), axis=1)
    a, b = feats[a[overlap]], feats[b[overlap]]
    n = len(has_polygon)
    key = np.unique(np.minimum(a, b) * n + np.maximum(a, b))
    return key // n, key % n


def _subtract_pairs(i, j, remove_i, remove_j, n):
    key = i * n + j
    drop = np.isin(key, remove_i * n + remove_j)
    return i[~drop], j[~drop]


class _GeometryCache:
    """Lazily decoded shapely geometries (and derived boundaries / buffers) for the geometric pass."""

    def __init__(self, wkb_list):
        from shapely import wkb as shapely_wkb

        self._wkb = wkb_list
        self._loads = shapely_wkb.loads
        self._geom, self._boundary, self._buffered = {}, {}, {}

    def geom(self, i):
        g = self._geom.get(i)
        if g is None:
            g = self._loads(bytes(self._wkb[i]))
            if not g.is_valid:
                g = g.buffer(0)
            self._geom[i] = g
        return g

    def boundary(self, i):
        b = self._boundary.get(i)
        if b is None:
            b = self.geom(i).boundary
            self._boundary[i] = b
        return b

    def buffered_boundary(self, i, tol):
        b = self._buffered.get(i)
        if b is None:
            b = self.boundary(i).buffer(tol, 4)
            self._buffered[i] = b
        return b


def contiguity_weights(geometries, rook: bool = False, snap_tolerance: float = 0.0, callback=None) -> SpatialWeights:
    """Queen or rook contiguity weights from polygon topology.

    Parameters
    ----------
    geometries : sequence
        Polygons or multipolygons: shapely geometries (1.8 or 2.x), a GeoSeries/GeoDataFrame, or WKB bytes
        (what the Processing adapters pass). ``None``/empty geometries become islands.
    rook : bool
        ``False`` for queen contiguity (a shared point is enough), ``True`` for rook (a shared stretch of
        boundary longer than ``max(4 * snap_tolerance, 1e-9 * extent)``).
    snap_tolerance : float
        Polygons closer than this (map units, metres) count as touching; vertices closer than this count as
        the same point. Use a small value (0.01–5 m) for boundaries with slivers or gaps.
    callback : callable, optional
        ``callback(fraction) -> cancelled``.

    Returns
    -------
    SpatialWeights
        Symmetric binary weights.
    """
    tol = float(snap_tolerance or 0.0)
    if tol < 0 or not np.isfinite(tol):
        raise CreativeClustersError("The snap tolerance must be zero or a positive distance.")
    wkb_list = _to_wkb_list(geometries)
    n = len(wkb_list)
    if n < 2:
        raise CreativeClustersError(f"At least 2 polygons are needed to define neighbours; got {n}.")
    rings = _parse_rings(wkb_list)
    check_callback(callback, 0.1)
    extent = np.ptp(rings.coords, axis=0)
    scale = float(np.hypot(*extent)) or 1.0
    rook_min_length = max(4.0 * tol, 1e-9 * scale)

    # 1. exact pass: shared (clustered) vertices -> queen; shared (clustered) edges -> rook
    loc = _vertex_locations(rings.coords, tol)
    qi, qj = _shared_label_pairs(loc, rings.owner, n)
    check_callback(callback, 0.3)

    # 2. geometric pass for bounding-box candidates the vertices did not settle (T-junctions, gaps, overlaps)
    lo, hi = _bounding_boxes(rings)
    ci, cj = _bbox_candidate_pairs(lo, hi, rings.has_polygon, tol)
    ri, rj = _subtract_pairs(ci, cj, qi, qj, n)
    check_callback(callback, 0.4)
    cache = _GeometryCache(wkb_list) if len(ri) else None
    if len(ri):
        close = np.fromiter(
            (cache.geom(a).distance(cache.geom(b)) <= tol for a, b in zip(ri.tolist(), rj.tolist())),
            dtype=bool,
            count=len(ri),
        )
        qi, qj = np.concatenate([qi, ri[close]]), np.concatenate([qj, rj[close]])
    check_callback(callback, 0.7)

    if not rook:
        matrix = _binary_from_pairs(n, qi, qj)
    else:
        la, lb = loc, loc[rings.next_vertex]
        proper = la != lb
        edge_key = np.minimum(la, lb)[proper] * (int(loc.max()) + 1) + np.maximum(la, lb)[proper]
        edge_label = np.unique(edge_key, return_inverse=True)[1].ravel()  # dense ids: no int64 overflow later
        ei, ej = _shared_label_pairs(edge_label, rings.owner[proper], n)
        # queen pairs not yet rook: rook when their common boundary is long enough
        pi, pj = _subtract_pairs(qi, qj, ei, ej, n)
        if len(pi):
            inter = np.minimum(hi[pi], hi[pj]) - np.maximum(lo[pi], lo[pj]) + tol
            possible = np.hypot(np.clip(inter[:, 0], 0, None), np.clip(inter[:, 1], 0, None)) >= rook_min_length
            pi, pj = pi[possible], pj[possible]
        if len(pi):
            cache = cache or _GeometryCache(wkb_list)
            shared = np.empty(len(pi))
            for k, (a, b) in enumerate(zip(pi.tolist(), pj.tolist())):
                other = cache.buffered_boundary(b, tol) if tol > 0 else cache.boundary(b)
                shared[k] = cache.boundary(a).intersection(other).length
            long_enough = shared > rook_min_length
            ei, ej = np.concatenate([ei, pi[long_enough]]), np.concatenate([ej, pj[long_enough]])
        matrix = _binary_from_pairs(n, ei, ej)
    check_callback(callback, 1.0)
    warnings = []
    empty = int((~rings.has_polygon).sum())
    if empty:
        warnings.append(f"{empty} feature(s) have no polygon geometry and no neighbours.")
    warnings += _island_warning(matrix, snap_tolerance=tol)
    kind = WeightsKind.ROOK if rook else WeightsKind.QUEEN
    return SpatialWeights(matrix, kind, tol if tol > 0 else None, warnings)


# --------------------------------------------------------------------------------------------------
# one entry point
# --------------------------------------------------------------------------------------------------
def build_weights(
    kind,
    xy=None,
    geometries=None,
    distance: float = 0.0,
    k: int = 8,
    power: int = 1,
    snap_tolerance: float = 0.0,
    callback=None,
) -> SpatialWeights:
    """Build spatial weights of the given kind (the Processing ``WEIGHTS`` enum).

    Parameters
    ----------
    kind : WeightsKind or int
        0 queen, 1 rook, 2 fixed distance band, 3 k nearest neighbours, 4 inverse distance.
    xy : array-like (n, 2), optional
        Projected point coordinates (points, or a point on each polygon's surface); needed for kinds 2–4.
    geometries : sequence, optional
        Polygons (shapely, GeoSeries or WKB); needed for kinds 0–1.
    distance : float
        Band width (kind 2; 0 = smallest band connecting every feature) or cut-off (kind 4; 0 = none).
    k : int
        Number of neighbours (kind 3).
    power : int
        1 or 2 (kind 4).
    snap_tolerance : float
        Gap/sliver tolerance for contiguity (kinds 0–1).
    """
    try:
        kind = WeightsKind(int(kind))
    except ValueError as error:
        raise CreativeClustersError(f"Unknown weights kind {kind!r}; expected 0–4.") from error
    if kind in (WeightsKind.QUEEN, WeightsKind.ROOK):
        if geometries is None:
            raise CreativeClustersError("Contiguity weights need polygon geometries.")
        return contiguity_weights(geometries, rook=kind == WeightsKind.ROOK, snap_tolerance=snap_tolerance,
                                  callback=callback)
    if xy is None:
        raise CreativeClustersError("Distance-based weights need feature coordinates.")
    if kind == WeightsKind.DISTANCE_BAND:
        return distance_band_weights(xy, distance)
    if kind == WeightsKind.KNN:
        return knn_weights(xy, k)
    return inverse_distance_weights(xy, power=power, threshold=distance if distance and distance > 0 else None)


__all__ = [
    "DENSE_LIMIT",
    "SpatialWeights",
    "WeightsKind",
    "WEIGHTS_LABELS",
    "build_weights",
    "contiguity_weights",
    "distance_band_weights",
    "inverse_distance_weights",
    "knn_weights",
    "min_connecting_distance",
]
