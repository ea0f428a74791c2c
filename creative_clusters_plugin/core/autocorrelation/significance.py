"""Significance of local statistics: normal p-values, Benjamini–Hochberg FDR, ArcGIS confidence bins.

* :func:`two_sided_p` — ``p = 2 Φ(−|z|)``, the two-sided normal p-value ArcGIS reports in ``GiPValue`` /
  ``LMiPValue``.
* :func:`benjamini_hochberg` — the step-up false discovery rate procedure (Benjamini & Hochberg 1995,
  *J. R. Stat. Soc. B* 57(1) 289–300): sort the ``m`` valid p-values, find the largest ``k`` with
  ``p_(k) <= k α / m`` and call the ``k`` smallest significant.
* :func:`confidence_bins` — ArcGIS ``Gi_Bin``: ±3, ±2, ±1 for 99, 95 and 90 % confidence, the sign of
  ``z``, 0 otherwise. With ``fdr=True`` the FDR procedure is applied separately at α = 0.10, 0.05 and
  0.01 to decide each level, as ArcGIS Pro does; the p-values themselves are never adjusted.

NaN p-values (islands, undefined statistics) are never significant and do not count in ``m``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from ..errors import CreativeClustersError

#: ``SIGNIFICANCE`` conventions for permutation pseudo p-values (the Processing enum's order is public):
#: 0 — the folded pseudo p ``(min(M, R − M) + 1) / (R + 1)``, ``M`` the simulated statistics at least as large
#: as the observed one (ties count as at least as extreme), compared with α directly: GeoDa, esda ``p_sim``
#: and ArcGIS Pro; 1 — two-sided ``min(1, 2 × folded)`` with ties counted on both sides: conservative.
SIGNIFICANCE_FOLDED = 0
SIGNIFICANCE_TWO_SIDED = 1
SIGNIFICANCE_LABELS = (
    "Folded pseudo p compared with α, ties at least as extreme (GeoDa, esda, ArcGIS Pro)",
    "Two-sided pseudo p (2 × folded, ties on both sides): conservative",
)

#: (alpha, bin magnitude) from the weakest to the strongest confidence level.
CONFIDENCE_LEVELS = ((0.10, 1), (0.05, 2), (0.01, 3))
# p-values exactly at a level count as significant despite rounding (e.g. 2 * 5 / 100)
_EPS = 1e-12


def two_sided_p(z) -> np.ndarray:
    """Two-sided p-value of a standard normal score, ``2 Φ(−|z|)``; NaN stays NaN."""
    z = np.asarray(z, dtype=np.float64)
    return 2.0 * ndtr(-np.abs(z))


def benjamini_hochberg(p, alpha: float) -> np.ndarray:
    """Boolean mask of the p-values declared significant at false discovery rate ``alpha``.

    Parameters
    ----------
    p : array-like
        p-values; NaN entries are ignored (never significant, not counted).
    alpha : float
        False discovery rate, 0 < alpha < 1.
    """
    if not 0 < alpha < 1:
        raise CreativeClustersError("The false discovery rate must be between 0 and 1.")
    p = np.asarray(p, dtype=np.float64)
    mask = np.zeros(p.shape, dtype=bool)
    valid = np.isfinite(p)
    m = int(valid.sum())
    if m == 0:
        return mask
    sorted_p = np.sort(p[valid])
    below = sorted_p <= alpha * np.arange(1, m + 1) / m * (1 + _EPS)
    if not below.any():
        return mask
    cutoff = sorted_p[np.flatnonzero(below)[-1]]
    mask[valid] = p[valid] <= cutoff
    return mask


def significant(p, alpha: float, fdr: bool = False) -> np.ndarray:
    """Mask of p-values significant at ``alpha``, with Benjamini–Hochberg when ``fdr``."""
    p = np.asarray(p, dtype=np.float64)
    if fdr:
        return benjamini_hochberg(p, alpha)
    with np.errstate(invalid="ignore"):
        return np.isfinite(p) & (p <= alpha * (1 + _EPS))


def confidence_bins(z, p, fdr: bool = False) -> np.ndarray:
    """ArcGIS-style confidence bins in −3..3 (int8): sign of ``z`` times the strongest level reached.

    Parameters
    ----------
    z : array-like
        Scores giving the direction (hot > 0, cold < 0): the z-score, or with permutations ±1 for the tail of
        the permutation distribution the pseudo p-value came from.
    p : array-like
        Two-sided p-values (normal or pseudo), same length; NaN → bin 0.
    fdr : bool
        Apply Benjamini–Hochberg separately at 0.10, 0.05 and 0.01.
    """
    z = np.asarray(z, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    if z.shape != p.shape:
        raise CreativeClustersError("z-scores and p-values must have the same length.")
    sign = np.sign(np.nan_to_num(z, nan=0.0)).astype(np.int8)
    bins = np.zeros(z.shape, dtype=np.int8)
    for alpha, level in CONFIDENCE_LEVELS:
        bins[significant(p, alpha, fdr)] = level
    return bins * sign


__all__ = ["CONFIDENCE_LEVELS", "SIGNIFICANCE_FOLDED", "SIGNIFICANCE_LABELS", "SIGNIFICANCE_TWO_SIDED",
           "benjamini_hochberg", "confidence_bins", "significant", "two_sided_p"]
