"""Optimized Hot Spot Analysis: Gi* at a scale chosen from the data by a documented rule, FDR always on.

After ArcGIS Pro's *Optimized Hot Spot Analysis* ("How Optimized Hot Spot Analysis works"), in four steps,
each of which is written to :attr:`OptimizedHotSpotResult.decisions` so an officer can defend the map:

1. **Features.** Either weighted features (points or polygons with an analysis value) or incident points
   aggregated to fishnet squares, hexagons or given polygons (:mod:`.aggregation`; the count per cell is the
   analysis value). At least :data:`MIN_FEATURES` (30) features are needed *after aggregation*, and the values
   must vary; otherwise :class:`CreativeClustersError` says what to do.
2. **Locational outliers.** Nearest-neighbour distances are measured between *distinct* locations
   (coincident features would pull them to 0); a location whose nearest-neighbour distance is at least the
   mean + 3 standard deviations is a locational outlier. Outliers are left out of the scale estimation (they
   would force a band large enough to reach them) but stay in the hot-spot analysis.
3. **Scale of analysis: incremental spatial autocorrelation.** Global Moran's I (:mod:`.global_moran`,
   binary distance-band weights, row-standardised, z under randomisation) of the non-outlier features is
   computed for :data:`N_BANDS` (10) distance bands: the first band is the smallest distance that gives every
   non-outlier location at least one neighbour (the largest nearest-neighbour distance among non-outliers),
   each next band adds the mean nearest-neighbour distance. The band chosen is

   * the **first peak** of the z-score profile (a band whose z is above that of the band before and not
     below that of the band after) with z > 1.65 (90 % confidence);
   * else — no significant peak, the profile rises to the last band or never reaches significance — a **fixed
     band at the average distance to the K nearest neighbours**, K = 5 % of the number of features clamped to
     3…30, capped at one **standard distance** of the features (ArcGIS's fallback: the neighbourhood is defined
     by how far, on average, each feature must look to find K neighbours).

4. **Gi*** (:func:`.getis_ord.gi_star`) with the chosen weights over *all* features (outliers included) and
   the Benjamini–Hochberg false discovery rate correction always on. Features with no neighbour within the
   band (typically locational outliers) get NULL results and a warning. The log also gives the share of
   features with fewer than 8 neighbours (ArcGIS's rule of thumb for a reliable Gi*).

No QGIS import. Complexity: 10 distance-band weight builds and Moran's I in O(n + nnz) each.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .aggregation import locational_outliers
from ..errors import CreativeClustersError, check_callback
from .getis_ord import GiStarResult, gi_star
from .global_moran import moran_from_pairs
from .weights import SpatialWeights, distance_band_weights

MIN_FEATURES = 30
N_BANDS = 10
Z_CRITICAL = 1.65
KNN_SHARE = 0.05
KNN_MIN, KNN_MAX = 3, 30
FEW_NEIGHBOURS = 8
FALLBACK = "average distance to k neighbours"
#: Largest number of (ordered) neighbour links the scale search may hold.
MAX_SCALE_LINKS = 60_000_000


@dataclass
class ScaleProfile:
    """Incremental spatial autocorrelation: Moran's I and its z-score per distance band."""

    distances: np.ndarray
    moran_i: np.ndarray
    z: np.ndarray

    def peaks(self) -> np.ndarray:
        """Indices of the interior peaks (z above the previous band's, not below the next band's)."""
        z = self.z
        idx = [i for i in range(1, len(z) - 1) if np.isfinite(z[i]) and z[i] > z[i - 1] and z[i] >= z[i + 1]]
        return np.asarray(idx, dtype=np.int64)


@dataclass
class ScaleChoice:
    """The chosen neighbourhood: always a fixed distance band (``band``); ``k`` is the K of the fallback."""

    method: str  # "first peak", "average distance to k neighbours", "standard distance"
    band: float | None
    k: int | None
    profile: ScaleProfile | None
    outliers: np.ndarray
    outlier_threshold: float
    start: float | None
    step: float | None
    decisions: list = field(default_factory=list)


@dataclass
class OptimizedHotSpotResult:
    """Gi* results at the chosen scale and the decisions that led there."""

    gi: GiStarResult
    weights: SpatialWeights
    scale: ScaleChoice
    decisions: list
    warnings: list


def _distinct(xy: np.ndarray):
    keys = np.ascontiguousarray(xy).view([("x", "f8"), ("y", "f8")]).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return xy[first], inverse.ravel()


def knn_fallback_k(n: int) -> int:
    """k = 5 % of n, rounded, clamped to 3…30 (and to n − 1)."""
    return int(min(max(int(round(KNN_SHARE * n)), KNN_MIN), KNN_MAX, n - 1))


def check_features(values, what: str) -> np.ndarray:
    """ArcGIS's minimums for Optimized Hot Spot Analysis: >= 30 features and values that vary."""
    x = np.asarray(values, dtype=np.float64).ravel()
    if not np.all(np.isfinite(x)):
        raise CreativeClustersError(
            f"{int((~np.isfinite(x)).sum())} feature(s) have no numeric value; drop them before the analysis."
        )
    n = len(x)
    if n < MIN_FEATURES:
        advice = {
            "cells": "Use a smaller cell size, give bounding polygons (cells without incidents then count as 0), "
            "aggregate to polygons with at least 30 features, or add incidents.",
            "polygons": "Aggregate to a layer with at least 30 polygons (e.g. smaller areas), or use a fishnet or "
            "hexagon grid.",
        }.get(what, "Use a larger study area, or give incident points and aggregate them to a grid.")
        raise CreativeClustersError(
            f"Optimized hot spot analysis needs at least {MIN_FEATURES} {what}; there are only {n}. {advice}"
        )
    spread = float(np.ptp(x))
    if spread == 0.0 or spread <= 1e-12 * float(np.abs(x).max()):
        advice = {
            "cells": "Use a larger cell size (so cells hold different numbers of incidents) or give bounding "
            "polygons (empty cells then count as 0).",
            "polygons": "Every polygon holds the same number of incidents; use other polygons or a grid.",
        }.get(what, "Choose a field whose values vary.")
        raise CreativeClustersError(
            f"All {n} {what} have the same value ({x[0]:g}), so there is no hot or cold spot to find. {advice}"
        )
    return x


def select_band(profile: ScaleProfile) -> tuple[str, int | None]:
    """``(method, band index)`` from a z-score profile: the first peak with z > 1.65, else
    ``("average distance to k neighbours", None)``."""
    z = profile.z
    significant_peaks = [int(i) for i in profile.peaks() if z[i] > Z_CRITICAL]
    if significant_peaks:
        return "first peak", significant_peaks[0]
    return FALLBACK, None


def standard_distance(xy) -> float:
    """Standard distance of points: sqrt of the mean squared distance to their mean centre."""
    xy = np.asarray(xy, dtype=np.float64)
    return float(np.sqrt(((xy - xy.mean(axis=0)) ** 2).sum(axis=1).mean()))


def average_knn_distance(xy, k: int) -> float:
    """Average over the features of the distance to their k-th nearest neighbour (coincident ones count)."""
    from scipy.spatial import cKDTree

    xy = np.asarray(xy, dtype=np.float64)
    d, _ = cKDTree(xy).query(xy, k=k + 1)
    return float(d[:, k].mean())


def fallback_band(xy) -> tuple[str, float, int, str]:
    """ArcGIS's fallback scale: the average distance to the K nearest neighbours (K = 5 % of n in 3…30),
    capped at one standard distance. Returns ``(method, band, k, decision)``."""
    n = len(xy)
    k = knn_fallback_k(n)
    band = average_knn_distance(xy, k)
    sd = standard_distance(xy)
    if band > sd:
        return "standard distance", sd, k, (
            f"The average distance to the {k} nearest neighbours ({band:,.0f} m) exceeds one standard distance of "
            f"the features, so the band is one standard distance: {sd:,.0f} m."
        )
    return FALLBACK, band, k, (
        f"Distance band {band:,.0f} m: the average distance at which each feature finds its {k} nearest neighbours "
        f"(K = 5 % of {n:,} features, between {KNN_MIN} and {KNN_MAX})."
    )


def choose_scale(xy, values, n_bands: int = N_BANDS, callback=None, progress=(0.0, 1.0)) -> ScaleChoice:
    """Locational outliers, incremental spatial autocorrelation and the chosen band or k (module docstring)."""
    xy = np.asarray(xy, dtype=np.float64)
    x = np.asarray(values, dtype=np.float64)
    n = len(x)
    decisions = []
    distinct, location_of = _distinct(xy)
    if len(distinct) < 3:
        raise CreativeClustersError(
            f"The {n} features sit at only {len(distinct)} distinct location(s): no spatial pattern can be analysed."
        )
    if len(distinct) < n:
        decisions.append(
            f"{n - len(distinct):,} feature(s) share their location with another one; nearest-neighbour "
            f"distances are measured between the {len(distinct):,} distinct locations."
        )
    out_loc, threshold = locational_outliers(distinct)
    outliers = out_loc[location_of]
    decisions.append(
        f"Locational outliers: {int(outliers.sum()):,} feature(s) at {int(out_loc.sum()):,} location(s) whose "
        f"nearest neighbour is {threshold:,.0f} m or farther (mean + 3 SD of nearest-neighbour distances); "
        "they are left out of the scale estimation but kept in the hot-spot analysis."
        if out_loc.any()
        else f"Locational outliers: none (no nearest-neighbour distance reaches mean + 3 SD = {threshold:,.0f} m)."
    )
    core_loc = distinct[~out_loc]
    inlier = ~outliers
    if inlier.sum() < MIN_FEATURES or len(core_loc) < 3:
        method, band, k, decision = fallback_band(xy)
        decisions.append("Too few features outside the locational outliers to estimate a scale. " + decision)
        return ScaleChoice(method, band, k, None, outliers, threshold, None, None, decisions)
    nn = _nn(core_loc)
    start = float(nn.max())
    step = float(nn.mean())
    if step <= 0:
        step = start / n_bands
    distances = start + step * np.arange(n_bands)
    decisions.append(
        f"Incremental spatial autocorrelation over {n_bands} distance bands from {start:,.0f} m (the smallest band "
        f"that gives every non-outlier location a neighbour) in steps of {step:,.0f} m (the mean nearest-neighbour "
        f"distance), global Moran's I on {int(inlier.sum()):,} features, row-standardised weights."
    )
    xi = x[inlier]
    pts = xy[inlier]
    moran_i = np.full(n_bands, np.nan)
    z = np.full(n_bands, np.nan)
    if float(np.ptp(xi)) > 0:
        # one neighbour search at the widest band; each band keeps the pairs within its distance
        pairs, pair_d = _pairs_within(pts, distances[-1] * (1 + 1e-9))
        for b, d in enumerate(distances):
            check_callback(callback, progress[0] + (progress[1] - progress[0]) * (b + 1) / (n_bands + 1))
            within = pair_d <= d * (1 + 1e-9)
            if not within.any():
                continue
            m = moran_from_pairs(xi, pairs[within, 0], pairs[within, 1])
            moran_i[b], z[b] = m.I, m.z_random
    profile = ScaleProfile(distances, moran_i, z)
    decisions.append(
        "Moran's I z-score by band: "
        + ", ".join(f"{d:,.0f} m: {zz:.2f}" for d, zz in zip(distances, z))
        + "."
    )
    method, i = select_band(profile)
    if method == "first peak":
        decisions.append(
            f"Distance band {distances[i]:,.0f} m chosen: the first peak of spatial autocorrelation with z > "
            f"{Z_CRITICAL} (z = {z[i]:.2f})."
        )
        return ScaleChoice(method, float(distances[i]), None, profile, outliers, threshold, start, step, decisions)
    best = f"{np.nanmax(z):.2f}" if np.isfinite(z).any() else "undefined"
    method, band, k, decision = fallback_band(xy)
    decisions.append(
        f"No distance band gives a peak of spatial autocorrelation with z > {Z_CRITICAL} (highest z = {best}). "
        + decision
    )
    if np.isfinite(z[0]) and z[0] > Z_CRITICAL and np.nanargmax(z) == 0:
        decisions.append(
            f"Clustering is strongest at the first band ({distances[0]:,.0f} m) and weakens after it: the pattern is "
            f"finer than the bands tested. For more local hot spots, run Hot Spot Analysis (Getis-Ord Gi*) with a "
            f"fixed distance band of {distances[0]:,.0f} m."
        )
    return ScaleChoice(method, band, k, profile, outliers, threshold, start, step, decisions)


def _pairs_within(xy: np.ndarray, distance: float):
    """Unordered neighbour pairs within ``distance`` and their lengths (refused when far too many)."""
    from scipy.spatial import cKDTree

    tree = cKDTree(xy)
    if len(xy) > 50_000:
        links = int(tree.count_neighbors(tree, distance)) - len(xy)
        if links > MAX_SCALE_LINKS:
            raise CreativeClustersError(
                f"The widest distance band of the scale search ({distance:,.0f} m) links about {links:,} pairs of "
                "features, too many to hold in memory. Use a larger cell size or fewer features."
            )
    pairs = tree.query_pairs(distance, output_type="ndarray")
    d = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T) if len(pairs) else np.empty(0)
    return pairs, d


def _nn(xy: np.ndarray) -> np.ndarray:
    from scipy.spatial import cKDTree

    d, _ = cKDTree(xy).query(xy, k=2)
    return d[:, 1]


def optimized_hot_spots(xy, values, what: str = "features", callback=None) -> OptimizedHotSpotResult:
    """Gi* with FDR at the scale chosen by :func:`choose_scale`.

    Parameters
    ----------
    xy : array-like (n, 2)
        Projected coordinates of the features (points, polygon points on surface, or cell centres).
    values : array-like (n,)
        Analysis values (incident counts per cell, or the weighted features' field). Negative values allowed.
    what : str
        How to call the features in messages ("features", "cells", "polygons").
    callback : callable, optional
        ``callback(fraction) -> cancelled``.
    """
    arr = np.asarray(xy, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] < 2 or len(arr) != len(np.ravel(values)):
        raise CreativeClustersError("Coordinates and values must describe the same features.")
    if not np.all(np.isfinite(arr)):
        raise CreativeClustersError("Some features have no valid location (NULL or empty geometry).")
    x = check_features(values, what)
    check_callback(callback, 0.0)
    scale = choose_scale(arr, x, callback=callback, progress=(0.0, 0.8))
    decisions = list(scale.decisions)
    weights = distance_band_weights(arr, scale.band * (1 + 1e-9))
    weights.threshold = scale.band
    check_callback(callback, 0.85)
    gi = gi_star(x, weights, permutations=0, fdr=True)
    cards = weights.cardinalities
    few = int((cards < FEW_NEIGHBOURS).sum())
    decisions.append(
        f"Neighbours per feature: min {cards.min()}, mean {cards.mean():.1f}, max {cards.max()}; {few:,} of {len(cards):,} "
        f"feature(s) ({100.0 * few / len(cards):.1f} %) have fewer than {FEW_NEIGHBOURS} neighbours."
    )
    defined = np.isfinite(gi.z)
    counts = {b: int(np.count_nonzero(gi.gi_bin[defined] == b)) for b in (3, 2, 1, -1, -2, -3)}
    decisions.append(
        "Gi* with false discovery rate correction: hot spots (99/95/90 %) {} / {} / {}, cold spots {} / {} / {}, "
        "not significant {}.".format(
            counts[3], counts[2], counts[1], counts[-3], counts[-2], counts[-1],
            int(defined.sum()) - sum(counts.values()),
        )
    )
    warnings = list(gi.warnings)
    if few and few / len(cards) > 0.5:
        warnings.append(
            f"{100.0 * few / len(cards):.0f} % of the features have fewer than {FEW_NEIGHBOURS} neighbours: Gi* is "
            "less reliable with so few neighbours."
        )
    check_callback(callback, 1.0)
    return OptimizedHotSpotResult(gi=gi, weights=weights, scale=scale, decisions=decisions, warnings=warnings)


__all__ = [
    "FALLBACK",
    "MIN_FEATURES",
    "N_BANDS",
    "OptimizedHotSpotResult",
    "ScaleChoice",
    "ScaleProfile",
    "check_features",
    "choose_scale",
    "knn_fallback_k",
    "select_band",
    "standard_distance",
    "average_knn_distance",
    "fallback_band",
    "optimized_hot_spots",
]
