"""Creative microclusters (Creative PEC *Creative Radar* recipe): density clusters of firm points with a
footprint polygon and a profile each.

Method
------
1. **Who is clustered.** The caller passes every input firm (after the ``STACKS`` choice) and a mask of
   the firms that enter the clustering (creative firms by default, one sub-sector, or all firms).
2. **Clustering.** DBSCAN (:mod:`.dbscan`, labels equal to scikit-learn's): a firm with at least
   ``min_firms`` clustered firms within ``eps`` metres (itself included) is a core firm; Creative Radar's
   "at least 50 creative organisations close together" is ``min_firms = 50``. Or HDBSCAN
   (:mod:`.hdbscan_clustering`) with ``min_cluster_size = min_samples = min_firms`` (no radius needed;
   ``eps`` then only sets the footprint). With down-weighted stacks, DBSCAN counts each firm with its
   weight (1/n at an address of n firms); HDBSCAN, which has no weights, clusters one point per
   distinct location and gives every firm its location's label.
3. **Footprint.** The union of discs of radius ``eps / 2`` around the cluster's firms, simplified with a
   tolerance of ``eps / 20``. Discs of two firms closer than ``eps`` touch, so a DBSCAN cluster's footprint
   is one piece that hugs its firms (unlike a convex hull it does not bridge empty land; shapely 1.8
   has no concave hull). A firm lies *inside* a footprint when it is within ``eps / 2`` of one of the
   cluster's firms (the unsimplified union).
4. **Profile** per cluster (``cc_cluster_id`` 1, 2, … by decreasing number of member firms):

   * ``n_members`` – firms of the clustered population labelled with the cluster;
   * ``n_firms`` – every input firm (any sector) inside the footprint; ``n_creative`` – creative firms
     inside it;
   * ``n_<code>`` and ``share_<code>`` for the nine DCMS sub-sectors: creative firms of the sub-sector
     inside the footprint and their share of ``n_creative``;
   * ``dominant_subsector`` – the full name of the largest sub-sector (ties: DCMS order);
     ``herfindahl`` = Σ share² (1 = one sub-sector, 1/9 = even mix);
   * ``lq_creative`` = (n_creative / n_firms) / (creative firms / all firms of the whole input);
   * ``median_inc_year`` and ``n_recent`` – median incorporation year of the members and the members
     incorporated in the ``recent_years`` (3) years up to the reference date (the latest incorporation
     date in the input unless given);
   * ``area_ha`` of the footprint and ``density_ha`` = n_members / area_ha.

   With down-weighting, counts are weighted sums (a firm at an address of n firms counts 1/n).
5. **EPS suggestion** from the k-distance curve (:func:`.dbscan.suggest_eps`): the knee of the sorted
   distances of each clustered firm to its ``min_firms``-th nearest firm, plus the share of firms whose
   distance is within the chosen ``eps`` (the share of potential core firms, ignoring weights).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial import cKDTree

from .dbscan import dbscan, distinct_points, k_distance, suggest_eps, validate_points
from ..errors import CreativeClustersError, check_callback
from ..firms.firm_dates import parse_dates
from .hdbscan_clustering import hdbscan
from ..firms.subsectors import SUBSECTOR_CODES, SUBSECTORS

if TYPE_CHECKING:
    import pandas as pd

METHOD_DBSCAN, METHOD_HDBSCAN = 0, 1

#: profile columns in output order (after ``cc_cluster_id``)
PROFILE_COLUMNS = (
    ["n_members", "n_firms", "n_creative"]
    + [f"n_{c}" for c in SUBSECTOR_CODES]
    + [f"share_{c}" for c in SUBSECTOR_CODES]
    + ["dominant_subsector", "herfindahl", "lq_creative", "median_inc_year", "n_recent", "area_ha", "density_ha"]
)


@dataclass
class MicroclusterResult:
    """``labels`` (per input firm: ``cc_cluster_id`` 1..k, −1 noise or not clustered), ``profiles``
    (DataFrame, one row per cluster: ``cc_cluster_id`` + :data:`PROFILE_COLUMNS`), ``footprints``
    (shapely polygons in the order of ``profiles``), ``eps_suggestion`` (metres or None), ``n_clustered``
    and ``warnings``."""

    labels: np.ndarray
    profiles: pd.DataFrame
    footprints: list
    eps_suggestion: float | None
    n_clustered: int
    warnings: list = field(default_factory=list)
    #: share of the clustered firms whose ``min_firms``-th nearest firm is within ``eps`` (NaN if unknown)
    within_eps_share: float = float("nan")


#: clusters with more distinct locations than this get their footprint traced on a grid (see :func:`footprint`);
#: below it GEOS's union of a few dozen discs is as quick
RASTER_FOOTPRINT_ABOVE = 30


def footprint(xy, radius, tolerance=None):
    """Union of discs of ``radius`` around ``xy`` (distinct points), simplified by ``tolerance``.

    Up to :data:`RASTER_FOOTPRINT_ABOVE` distinct locations the discs are polygons (8 segments a quarter
    circle, within 0.8 % of the radius) unioned by GEOS. Above it — from a few dozen locations to city-sized
    clusters of thousands of postcodes, where unioning overlapping polygons gets slow — it is traced on a grid of
    ``tolerance`` cells: the cells whose centre lies within ``radius`` of a point's cell (an exact Euclidean
    distance transform), outlined as polygons. The outline departs from the true union by at most
    ``tolerance · √2 / 2`` (a point is anywhere in its cell), below the simplification tolerance applied to both.
    """
    from shapely.geometry import MultiPoint, Point
    from shapely.ops import unary_union

    pts = distinct_points(xy)
    if tolerance and len(pts) > RASTER_FOOTPRINT_ABOVE:
        shape = _traced_footprint(pts, radius, tolerance)
    elif len(pts) == 1:
        shape = Point(pts[0]).buffer(radius, 8)
    else:
        shape = unary_union([Point(p).buffer(radius, 8) for p in pts]) if len(pts) < 50 else \
            MultiPoint([tuple(p) for p in pts]).buffer(radius, 8)
    if tolerance:
        shape = _simplified(shape, tolerance)
    return shape


def _simplified(shape, tolerance):
    """``shape`` simplified within ``tolerance``: Douglas–Peucker, several times quicker than GEOS's
    topology-preserving variant on traced outlines (thousands of stair steps); that variant only when
    Douglas–Peucker's result is not a valid polygon (rings touching after simplification)."""
    simple = shape.simplify(tolerance, preserve_topology=False)
    if simple.is_empty or not simple.is_valid or simple.geom_type not in ("Polygon", "MultiPolygon"):
        simple = shape.simplify(tolerance, preserve_topology=True)
    return simple


def _gdal_environment():
    """rasterio's GDAL environment, entered once around many small raster operations."""
    import rasterio

    return rasterio.Env()


def _traced_footprint(pts, radius, cell):
    """The union of discs around ``pts`` traced on a grid of ``cell`` metres (see :func:`footprint`)."""
    from affine import Affine
    from rasterio import features
    from scipy import ndimage
    from shapely.geometry import MultiPolygon, shape

    margin = radius + 2 * cell
    x0 = pts[:, 0].min() - margin
    y1 = pts[:, 1].max() + margin
    ncol = int(np.ceil((pts[:, 0].max() + margin - x0) / cell))
    nrow = int(np.ceil((y1 - (pts[:, 1].min() - margin)) / cell))
    while nrow * ncol > 40_000_000:  # a very large cluster: coarser cells (still below the tolerance's scale)
        cell *= 1.5
        ncol = int(np.ceil((pts[:, 0].max() + margin - x0) / cell))
        nrow = int(np.ceil((y1 - (pts[:, 1].min() - margin)) / cell))
    empty = np.ones((nrow, ncol), dtype=bool)
    empty[np.floor((y1 - pts[:, 1]) / cell).astype(np.int64), np.floor((pts[:, 0] - x0) / cell).astype(np.int64)] = False
    inside = ndimage.distance_transform_edt(empty, sampling=cell) <= radius
    outlines = features.shapes(inside.astype(np.uint8), mask=inside, transform=Affine(cell, 0, x0, 0, -cell, y1))
    polygons = [shape(geometry) for geometry, _ in outlines]  # disjoint: no union needed
    return polygons[0] if len(polygons) == 1 else MultiPolygon(polygons)


#: the range an EPS suggestion is kept in: microclusters are a few streets to a district across (metres)
URBAN_EPS_RANGE = (50.0, 1000.0)


def suggest_urban_eps(xy, min_firms) -> tuple[float | None, str | None]:
    """An EPS a user can take: the knee of the k-distance curve of the *distinct* locations (firms stacked at
    one postcode would otherwise give a curve of zeros), found on a log scale (the distances span orders of
    magnitude), kept within :data:`URBAN_EPS_RANGE`. Returns ``(eps, note)``; the note says when the knee lay
    outside the range."""
    distinct = distinct_points(xy)
    k = min(int(min_firms), len(distinct) - 1)
    if k < 2:
        return None, None
    curve = k_distance(distinct, k, max_points=50_000)
    positive = curve[curve > 0]
    if positive.size < 3 or positive[-1] <= positive[0]:
        return None, None
    logged = np.log(positive)
    x = np.linspace(0.0, 1.0, logged.size)
    gap = x - (logged - logged[0]) / (logged[-1] - logged[0])
    knee = float(positive[int(np.argmax(gap))]) if gap.max() > 0 else float(np.median(positive))
    low, high = URBAN_EPS_RANGE
    eps = float(min(max(knee, low), high))
    note = None
    if eps != knee:
        note = (f"The k-distance curve's knee lies at {knee:,.0f} m, outside the {low:,.0f}–{high:,.0f} m range of "
                f"microclusters; the EPS suggestion is kept at {eps:,.0f} m.")
    return eps, note


def _fewer_than_two_advice(xy, weights, eps, min_firms, found) -> str | None:
    """What to change when DBSCAN finds fewer than two microclusters: the largest smaller MIN_FIRMS that gives
    two or more at this EPS, or else the smallest larger EPS (up to 1 km) that does."""
    def count(e, m):
        labels = dbscan(xy, e, m, sample_weight=weights).labels
        return int(labels.max()) + 1 if labels.size and labels.max() >= 0 else 0

    for m in (40, 30, 25, 20, 15, 10, 5):
        if m < min_firms and count(eps, m) >= 2:
            return (f"Only {found} microcluster(s) with EPS {eps:g} m and MIN_FIRMS {min_firms}: MIN_FIRMS {m} gives "
                    f"{count(eps, m)} at this EPS. Corridors need two or more.")
    for e in (eps * 1.5, eps * 2, eps * 3, 1000.0):
        if eps < e <= 1000.0 and count(e, min_firms) >= 2:
            return (f"Only {found} microcluster(s) with EPS {eps:g} m and MIN_FIRMS {min_firms}: EPS {e:g} m gives "
                    f"{count(e, min_firms)}. Corridors need two or more.")
    return (f"Only {found} microcluster(s) with EPS {eps:g} m and MIN_FIRMS {min_firms}, and no smaller MIN_FIRMS "
            "(down to 5) or larger EPS (up to 1 km) gives two: these firms are not concentrated enough for "
            "microclusters (try all firms, or keep stacked addresses).")


def microclusters(
    xy,
    creative,
    subsector_codes,
    clustered,
    eps,
    min_firms,
    method=METHOD_DBSCAN,
    weights=None,
    incorporation_dates=None,
    reference_date=None,
    recent_years=3,
    callback=None,
) -> MicroclusterResult:
    """Find microclusters among the firms where ``clustered`` is True and profile them against all firms.

    Parameters
    ----------
    xy : (n, 2) projected coordinates (metres) of every input firm.
    creative : (n,) bool, the firm is creative. subsector_codes : (n,) sub-sector code (``"film"``…) or None.
    clustered : (n,) bool, the firm enters the clustering.
    eps : neighbourhood radius of DBSCAN and diameter of the footprint discs, metres, > 0.
    min_firms : DBSCAN ``min_samples`` / HDBSCAN ``min_cluster_size``, ≥ 2.
    method : 0 DBSCAN, 1 HDBSCAN. weights : optional per-firm weights (down-weighted stacks).
    incorporation_dates : optional (n,) dates (ISO strings, datetimes); reference_date : optional date.
    """
    xy, eps, min_firms, creative, clustered, codes, w = _validated_inputs(
        xy, creative, subsector_codes, clustered, eps, min_firms, method, weights)
    n = xy.shape[0]
    warnings = []
    members_idx = np.flatnonzero(clustered)
    n_clustered = int(members_idx.size)
    if n_clustered == 0:
        raise CreativeClustersError("No firm matches the filter: there is nothing to cluster.")
    mxy = xy[members_idx]
    check_callback(callback, 0.0)

    eps_suggestion, within = _eps_diagnostics(mxy, n_clustered, eps, min_firms, warnings)
    member_weights = None if weights is None else w[members_idx]
    raw = _raw_labels(mxy, eps, min_firms, method, member_weights, warnings, callback)
    check_callback(callback, 0.65)

    labels, k = _renumber_by_size(raw, w[members_idx], members_idx, n)
    if k < 2 and method == METHOD_DBSCAN and n_clustered >= 2:
        advice = _fewer_than_two_advice(mxy, member_weights, eps, min_firms, k)
        if advice:
            warnings.append(advice)

    profiles, footprints = _profiles(xy, creative, codes, clustered, labels, k, eps, w, incorporation_dates,
                                     reference_date, recent_years, warnings, callback)
    check_callback(callback, 1.0)
    return MicroclusterResult(labels, profiles, footprints, eps_suggestion, n_clustered, warnings, within)


def _validated_inputs(xy, creative, subsector_codes, clustered, eps, min_firms, method, weights):
    """Check and normalise the inputs: returns (xy, eps, min_firms, creative, clustered, codes, weights)."""
    xy = validate_points(xy, "firms")
    n = xy.shape[0]
    try:
        eps = float(eps)
        min_firms_f = float(min_firms)
    except (TypeError, ValueError) as error:
        raise CreativeClustersError("EPS and the minimum number of firms must be numbers.") from error
    if not np.isfinite(eps) or eps <= 0:
        raise CreativeClustersError(f"EPS (the neighbourhood radius) must be greater than 0 metres; got {eps:g}.")
    if not np.isfinite(min_firms_f) or min_firms_f < 2:
        raise CreativeClustersError(f"The minimum number of firms must be at least 2; got {min_firms_f:g}.")
    min_firms = int(round(min_firms_f))
    if method not in (METHOD_DBSCAN, METHOD_HDBSCAN):
        raise CreativeClustersError(f"Unknown clustering method {method}: 0 DBSCAN, 1 HDBSCAN.")
    creative = np.asarray(creative, dtype=bool).reshape(-1)
    clustered = np.asarray(clustered, dtype=bool).reshape(-1)
    codes = np.asarray(list(subsector_codes), dtype=object).reshape(-1)
    if not (len(creative) == len(clustered) == len(codes) == n):
        raise CreativeClustersError("There must be one creative flag, sub-sector and clustering flag per firm.")
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float).reshape(-1)
    return xy, eps, min_firms, creative, clustered, codes, w


def _eps_diagnostics(mxy, n_clustered, eps, min_firms, warnings):
    """The EPS suggestion and the share of firms whose ``min_firms``-th neighbour is within ``eps`` (NaN if unknown)."""
    eps_suggestion, within = None, float("nan")
    try:
        if n_clustered > min_firms:
            _, curve = suggest_eps(mxy, min_firms, max_points=50_000)
            within = float(np.mean(curve <= eps))
            eps_suggestion, note = suggest_urban_eps(mxy, min_firms)
            if note:
                warnings.append(note)
    except CreativeClustersError:
        eps_suggestion = None
    return eps_suggestion, within


def _raw_labels(mxy, eps, min_firms, method, member_weights, warnings, callback):
    """Cluster the member firms with DBSCAN or HDBSCAN: raw labels 0..k-1, −1 noise (progress 0.05–0.65)."""
    n_clustered = mxy.shape[0]
    sub = None if callback is None else (lambda f: callback(0.05 + 0.6 * f))
    if method == METHOD_DBSCAN:
        if n_clustered < min_firms and member_weights is None:
            warnings.append(f"Only {n_clustered} firms to cluster: fewer than the minimum {min_firms}; no cluster.")
            return np.full(n_clustered, -1, dtype=np.int64)
        result = dbscan(mxy, eps, min_firms, sample_weight=member_weights, callback=sub)
        warnings.extend(result.warnings)
        return result.labels
    if member_weights is not None:
        uniq, inverse = np.unique(mxy, axis=0, return_inverse=True)
        result = hdbscan(uniq, min_firms, callback=sub)
        raw = result.labels[inverse.reshape(-1)]
    else:
        result = hdbscan(mxy, min_firms, callback=sub)
        raw = result.labels
    warnings.extend(result.warnings)
    return raw


def _renumber_by_size(raw, member_w, members_idx, n):
    """Per-firm labels 1..k by decreasing weighted size (ties: original label), −1 elsewhere; returns (labels, k)."""
    k = int(raw.max()) + 1 if raw.size and raw.max() >= 0 else 0
    labels = np.full(n, -1, dtype=np.int64)
    if k:
        sizes = np.bincount(raw[raw >= 0], weights=member_w[raw >= 0], minlength=k)
        order = np.lexsort((np.arange(k), -sizes))
        new_id = np.empty(k, dtype=np.int64)
        new_id[order] = np.arange(1, k + 1)
        labels[members_idx[raw >= 0]] = new_id[raw[raw >= 0]]
    return labels, k


def _profiles(xy, creative, codes, clustered, labels, k, eps, w, dates, reference_date, recent_years, warnings, callback):
    import pandas as pd

    n = xy.shape[0]
    columns = ["cc_cluster_id"] + PROFILE_COLUMNS
    if k == 0:
        return pd.DataFrame(columns=columns), []
    radius = eps / 2.0
    member = labels > 0
    midx = np.flatnonzero(member)
    # each input firm: the cluster of its nearest member within eps/2 (inside the footprint) or 0
    tree = cKDTree(xy[midx])
    dist, near = tree.query(xy, k=1, distance_upper_bound=radius * (1 + 1e-12), workers=-1)
    inside = np.zeros(n, dtype=np.int64)
    ok = np.isfinite(dist)
    inside[ok] = labels[midx[near[ok]]]
    total_w = w.sum()
    region_share = (w * creative).sum() / total_w if total_w > 0 else np.nan
    parsed = parse_dates(dates, n)
    years = parsed.dt.year.to_numpy(dtype=float, na_value=np.nan)
    if reference_date is not None:
        ref = pd.Timestamp(reference_date)
    else:
        ref = parsed.max() if parsed.notna().any() else None
    if ref is not None and not pd.isna(ref):
        start = ref - pd.DateOffset(years=int(recent_years))
        recent = ((parsed > start) & (parsed <= ref)).to_numpy()
    else:
        recent = np.zeros(n, dtype=bool)
    code_ids = np.array([SUBSECTOR_CODES.index(c) if c in SUBSECTOR_CODES else -1 for c in codes], dtype=np.int64)

    n_firms = np.bincount(inside, weights=w, minlength=k + 1)[1:]
    n_creative = np.bincount(inside, weights=w * creative, minlength=k + 1)[1:]
    n_members = np.bincount(labels[member], weights=w[member], minlength=k + 1)[1:]
    n_recent = np.bincount(labels[member], weights=w[member] * recent[member], minlength=k + 1)[1:]
    per_code = np.zeros((k, len(SUBSECTOR_CODES)))
    sel = (inside > 0) & creative & (code_ids >= 0)
    np.add.at(per_code, (inside[sel] - 1, code_ids[sel]), w[sel])
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = per_code / per_code.sum(axis=1, keepdims=True)
    shares = np.where(np.isfinite(shares), shares, 0.0)
    frame = pd.DataFrame({"cc_cluster_id": np.arange(1, k + 1), "n_members": n_members, "n_firms": n_firms,
                          "n_creative": n_creative})
    for j, c in enumerate(SUBSECTOR_CODES):
        frame[f"n_{c}"] = per_code[:, j]
    for j, c in enumerate(SUBSECTOR_CODES):
        frame[f"share_{c}"] = shares[:, j]
    has_creative = per_code.sum(axis=1) > 0
    dominant = np.argmax(per_code, axis=1)
    frame["dominant_subsector"] = [SUBSECTORS[SUBSECTOR_CODES[d]] if h else None for d, h in zip(dominant, has_creative)]
    frame["herfindahl"] = np.where(has_creative, (shares ** 2).sum(axis=1), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["lq_creative"] = (n_creative / n_firms) / region_share if region_share > 0 else np.nan
    # the members of each cluster, grouped once (not one pass over all firms per cluster)
    by_label = midx[np.argsort(labels[midx], kind="stable")]
    bounds = np.searchsorted(labels[by_label], np.arange(1, k + 2))
    groups = [by_label[bounds[c]:bounds[c + 1]] for c in range(k)]
    medians = []
    for group in groups:
        yrs = years[group]
        yrs = yrs[np.isfinite(yrs)]
        medians.append(float(np.median(yrs)) if yrs.size else np.nan)
    frame["median_inc_year"] = medians
    frame["n_recent"] = n_recent if dates is not None else np.nan  # unknown, not zero, without dates
    footprints = []
    with _gdal_environment():  # one GDAL environment for every traced footprint, not one each
        for c, group in enumerate(groups, start=1):
            footprints.append(footprint(xy[group], radius, tolerance=eps / 20.0))
            if c % 10 == 0:
                check_callback(callback, 0.7 + 0.3 * c / k)
    area_ha = np.array([g.area / 10_000.0 for g in footprints])
    frame["area_ha"] = area_ha
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["density_ha"] = n_members / area_ha
    return frame[columns], footprints


__all__ = ["MicroclusterResult", "microclusters", "footprint", "PROFILE_COLUMNS", "METHOD_DBSCAN",
           "METHOD_HDBSCAN", "suggest_eps"]
