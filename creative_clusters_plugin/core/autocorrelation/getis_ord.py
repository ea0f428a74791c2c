"""Getis–Ord local Gi* hot-spot statistic (the general form ArcGIS Pro's Hot Spot Analysis uses).

For feature ``i`` with weights ``w_ij`` to every feature ``j`` — the feature itself included with
``w_ii = 1`` (Gi*) — and values ``x`` with mean ``x̄`` and *population* standard deviation ``S``::

    Gi* = (Σ_j w_ij x_j − x̄ W_i) / ( S · sqrt( (n S1_i − W_i²) / (n − 1) ) )
    W_i = Σ_j w_ij,   S1_i = Σ_j w_ij²

Gi* is already a z-score (Ord & Getis 1995, *Local spatial autocorrelation statistics: distributional
issues and an application*, Geographical Analysis 27(4), eq. 8; Getis & Ord 1992). This general form
accepts any non-negative weights (binary, inverse distance) and is invariant to any rescaling of a row
(row standardisation does not change it). With binary weights it equals esda's
``G_Local(star=True, transform="B").Zs``.

* ``p`` — two-sided normal p-value ``2 Φ(−|z|)`` (``GiPValue``).
* Permutation inference (``permutations > 0``): conditional randomisation (the value at ``i`` fixed, its
  neighbours drawn without replacement from the other n − 1 values), see
  :mod:`.conditional_permutation`. ``pseudo_p`` is two-sided (``min(1, 2 × folded)``) by default or
  folded (esda's ``p_sim``) with ``alternative="folded"``; the bins then use the pseudo p-values.
* ``gi_bin`` — ±3/±2/±1 at 99/95/90 % confidence (:func:`.significance.confidence_bins`), with FDR when
  asked; 0 for islands.
* Islands (no neighbour other than the feature itself) get NaN and a warning; they still count in ``n``,
  ``x̄`` and ``S``. Fewer than 3 features, all-island weights, zero variance and missing values are errors;
  fewer than 30 features is a warning (ArcGIS's minimums).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import check_callback
from .conditional_permutation import conditional_permutation_counts
from .local_statistics import (  # noqa: F401 - MIN_FEATURES, RECOMMENDED_FEATURES: still importable from here
    MIN_FEATURES,
    RECOMMENDED_FEATURES,
    check_sample,
    permutation_fdr_warning,
    significance_from_alternative,
    split_weights,
    validate_values,
)
from .significance import SIGNIFICANCE_FOLDED, confidence_bins, significant, two_sided_p


@dataclass
class GiStarResult:
    """Per-feature Gi* results (NaN for islands) and messages for the log."""

    z: np.ndarray
    p: np.ndarray
    pseudo_p: np.ndarray | None
    n_neighbors: np.ndarray
    gi_bin: np.ndarray
    warnings: list = field(default_factory=list)
    permutations: int = 0
    seed: int | None = None










def gi_star(
    values,
    weights,
    permutations: int = 0,
    seed=None,
    fdr: bool = False,
    callback=None,
    *,
    alternative: str | None = None,
    self_weight: float = 1.0,
    significance: int = SIGNIFICANCE_FOLDED,
    star: bool = True,
) -> GiStarResult:
    """Getis–Ord Gi* z-scores, p-values, optional pseudo p-values and confidence bins.

    Parameters
    ----------
    values : array-like (n,)
        The analysis variable (counts, rates, LQs...). Negative values are allowed. No NaN.
    weights : SpatialWeights or scipy sparse matrix (n × n)
        Non-negative neighbour weights. A zero diagonal is replaced by ``self_weight``; explicit diagonal
        entries are used as the self weights.
    permutations : int
        0 for analytic inference only; otherwise the number of conditional permutations (e.g. 999).
    seed : int, optional
        Random seed for the permutations (same seed, same result).
    fdr : bool
        Benjamini–Hochberg false discovery rate correction for the bins.
    callback : callable, optional
        ``callback(fraction) -> cancelled`` for progress and cancel.
    alternative : {"two-sided", "folded"}, optional
        Older spelling of ``significance`` ("folded" = 0, "two-sided" = 1).
    self_weight : float
        ``w_ii`` used where the matrix has none (1 for ArcGIS's Gi*). 0 leaves the feature out of its own sum
        only, not out of the mean and variance: that is not Getis–Ord's Gi (use ``star=False``).
    star : bool
        True (default): Gi*, the feature itself among its neighbours. False: Getis & Ord's (1992) Gi, the
        feature excluded from its own sum *and* from the mean and variance it is compared with (x̄(i), s(i) over
        the other n − 1 features), as esda's ``G_Local(star=False)``.
    significance : int
        Pseudo p-value convention with permutations (:data:`.significance.SIGNIFICANCE_FOLDED`, the default, as
        GeoDa and esda; or ``SIGNIFICANCE_TWO_SIDED``). The bins' sign is the tail of the permutation
        distribution the pseudo p-value comes from; where it disagrees with the sign of z (a high value among
        unusually low neighbours) a warning says how many features, and they follow the tail.
    """
    significance = significance_from_alternative(alternative, significance)
    x = validate_values(values)
    n = len(x)
    warnings: list = []
    off, diagonal = split_weights(weights, n)
    cards = np.diff(off.indptr).astype(np.int64)
    check_sample(x, cards, warnings, "Gi*")
    check_callback(callback, 0.0)
    islands = cards == 0

    z, invalid = _analytic_z(x, off, diagonal, self_weight, star, islands, warnings)
    p = two_sided_p(z)

    pseudo_p = None
    bin_p, direction = p, z  # without permutations: the normal p-value and the sign of z
    if permutations and int(permutations) > 0:
        pseudo_p, direction = _permutation_test(
            x, off, z, int(permutations), seed, callback, significance, fdr, invalid, warnings
        )
        bin_p = pseudo_p
    gi_bin = confidence_bins(direction, bin_p, fdr=fdr)
    check_callback(callback, 1.0)
    return GiStarResult(
        z=z,
        p=p,
        pseudo_p=pseudo_p,
        n_neighbors=cards,
        gi_bin=gi_bin,
        warnings=warnings,
        permutations=int(permutations or 0),
        seed=seed,
    )


def _analytic_z(x, off, diagonal, self_weight: float, star: bool, islands, warnings: list):
    """Gi* (or Gi with ``star=False``) z-scores, NaN for islands and where every feature is an equal neighbour,
    and the mask of those features."""
    n = len(x)
    w_sum = np.asarray(off.sum(axis=1)).ravel()
    w_sq = np.asarray(off.multiply(off).sum(axis=1)).ravel()
    if star:
        w_self = np.where(diagonal != 0, diagonal, float(self_weight))
        mean = x.mean()
        centred = x - mean
        s = np.sqrt(np.mean(centred**2))  # population standard deviation, as ArcGIS
        w_sum = w_sum + w_self
        w_sq = w_sq + w_self**2
        numerator = off @ centred + w_self * centred
        spread = (n * w_sq - w_sum**2) / (n - 1)
    else:
        # Getis & Ord's (1992) Gi: the feature left out of its own sum and of the mean x̄(i) and population
        # standard deviation s(i) it is compared with (those of the other n − 1 values)
        mean_i = (x.sum() - x) / (n - 1)
        s = np.sqrt(np.maximum((np.square(x).sum() - np.square(x)) / (n - 1) - np.square(mean_i), 0.0))
        numerator = off @ x - w_sum * mean_i
        spread = ((n - 1) * w_sq - w_sum**2) / (n - 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = numerator / (s * np.sqrt(spread))
    undefined = ~islands & ~(spread > 1e-12 * np.maximum(w_sum**2, 1e-300))
    if undefined.any():
        warnings.append(
            f"{int(undefined.sum())} feature(s) have every feature as an equally weighted neighbour, so Gi* is "
            "undefined for them (NULL); use a smaller distance."
        )
    invalid = islands | undefined
    z[invalid] = np.nan
    return z, invalid


def _permutation_test(x, off, z, permutations: int, seed, callback, significance: int, fdr: bool, invalid,
                      warnings: list):
    """Conditional-permutation pseudo p-values and the direction (±1, NaN where z is) of the tail each comes from."""
    counts = conditional_permutation_counts(
        x, off, permutations, seed=seed, callback=callback, progress_range=(0.05, 0.95)
    )
    pseudo_p, high = counts.test(significance)  # Gi* rises with the neighbours' sum
    pseudo_p[invalid] = np.nan
    direction = np.where(high, 1.0, -1.0)
    direction[invalid] = np.nan
    against = significant(pseudo_p, 0.10, fdr) & (np.sign(z) != direction) & np.isfinite(z)
    if against.any():
        warnings.append(
            f"{int(against.sum())} feature(s) are significant in the opposite direction to their GiZScore: "
            "their own value pulls z one way while their neighbours are unusually "
            f"{'low' if (direction[against] < 0).sum() >= (direction[against] > 0).sum() else 'high'} (the "
            "permutations hold each feature's own value fixed). Their Gi_Bin follows the permutation test."
        )
    if fdr:
        warnings.extend(permutation_fdr_warning(permutations, int(np.isfinite(pseudo_p).sum()), 0.01))
    return pseudo_p, direction


__all__ = ["GiStarResult", "check_sample", "gi_star", "permutation_fdr_warning", "split_weights", "validate_values"]
