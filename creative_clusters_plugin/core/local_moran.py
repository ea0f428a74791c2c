"""Anselin local Moran's I (ArcGIS Pro "Cluster and Outlier Analysis", esda ``Moran_Local``).

With deviations ``z_i = x_i − x̄`` and row-standardised weights ``w_ij`` (self excluded)::

    I_i = z_i / m2 · Σ_j w_ij z_j,      m2 = Σ_k z_k² / (n − 1)

— the index esda's ``Moran_Local.Is`` reports (``LMiIndex``). Positive ``I_i``: a feature in a cluster of
similar values (HH or LL); negative: an outlier (HL, LH).

Analytic z-score (``LMiZScore``). Moments under total randomisation (Anselin 1995, *Local indicators of
spatial association — LISA*, Geographical Analysis 27(2), eqs. 13–14, in the form of Sokal, Oden & Thomson
1998, Geographical Analysis 30(4), eqs. A3–A4) for the index scaled with ``Σ z²/n``::

    E[I_i] = −w_i / (n − 1)
    V[I_i] = w_i(2) (n − b2)/(n − 1) + (w_i² − w_i(2)) (2 b2 − n)/((n − 1)(n − 2)) − E[I_i]²
    w_i = Σ_j w_ij,  w_i(2) = Σ_j w_ij²,  b2 = (Σ z⁴ / n) / (Σ z² / n)²

and ``z_i = (I_i · n/(n − 1) − E[I_i]) / sqrt(V[I_i])``. The z-score does not depend on how ``I`` is scaled.
These are esda's ``EI`` and ``VI`` with the kurtosis ``b2`` summed over all features (esda ≤ 2.7 forgot the
sum, esda issue #390) and with ``Is`` brought to the scale of those moments.

Permutation inference (``permutations > 0``): conditional randomisation (see
:mod:`.conditional_permutation`): the value at ``i`` is held fixed and its neighbours are drawn without
replacement from the other n − 1 values. ``pseudo_p`` follows the ``significance`` convention: by default
folded as esda's ``p_sim`` and GeoDa, compared with α directly; two-sided (``min(1, 2 × folded)``) on
request. A feature whose value equals the mean has ``I_i = 0`` in every permutation: its pseudo p is 1.

Cluster/outlier type (``COType``): esda's quadrants (1 HH: z_i > 0 and lag > 0, 2 LH, 3 LL, 4 HL) — with
permutations, the tail of the permutation distribution decides between cluster and outlier — kept
only where the p-value (pseudo p when permutations were run, else the normal p) is ≤ 0.05 — with the
Benjamini–Hochberg FDR procedure at 0.05 when ``fdr`` — else the empty string. Islands: NaN statistics,
quadrant 0, ``COType`` None, and a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from .conditional_permutation import conditional_permutation_counts
from .errors import CreativeClustersError, check_callback
from .getis_ord import check_sample, permutation_fdr_warning, split_weights, validate_values
from .significance import SIGNIFICANCE_FOLDED, SIGNIFICANCE_TWO_SIDED, significant, two_sided_p

QUADRANT_LABELS = {1: "HH", 2: "LH", 3: "LL", 4: "HL"}
SIGNIFICANCE_LEVEL = 0.05


@dataclass
class LocalMoranResult:
    """Per-feature local Moran results (NaN/None for islands) and messages for the log.

    ``I`` index, ``z`` analytic z-score, ``p`` two-sided normal p-value, ``pseudo_p`` permutation p-value
    (None without permutations), ``n_neighbors`` neighbours (self excluded), ``quadrant`` 1 HH / 2 LH /
    3 LL / 4 HL / 0 island, ``cotype`` "HH", "LL", "HL", "LH", "" (not significant) or None (island).
    """

    I: np.ndarray  # noqa: E741 - the statistic's name
    z: np.ndarray
    p: np.ndarray
    pseudo_p: np.ndarray | None
    n_neighbors: np.ndarray
    cotype: np.ndarray
    quadrant: np.ndarray
    warnings: list = field(default_factory=list)
    permutations: int = 0
    seed: int | None = None

    @property
    def reported_p(self) -> np.ndarray:
        """The p-value ArcGIS reports in ``LMiPValue``: pseudo p with permutations, else normal p."""
        return self.pseudo_p if self.pseudo_p is not None else self.p


def row_standardise(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    """Divide each row by its sum (rows without neighbours stay empty)."""
    sums = np.asarray(matrix.sum(axis=1)).ravel()
    scale = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums > 0)
    out = sparse.csr_matrix(matrix, dtype=np.float64, copy=True)
    out.data *= np.repeat(scale, np.diff(out.indptr))
    return out


def local_moran(
    values,
    weights,
    permutations: int = 999,
    seed=None,
    fdr: bool = False,
    callback=None,
    *,
    alternative: str | None = None,
    row_standardize: bool = True,
    significance: int = SIGNIFICANCE_FOLDED,
) -> LocalMoranResult:
    """Anselin local Moran's I with analytic z-scores, conditional-permutation p-values and COType.

    Parameters
    ----------
    values : array-like (n,)
        The analysis variable; no NaN.
    weights : SpatialWeights or scipy sparse matrix (n × n)
        Non-negative weights; the diagonal is ignored (local Moran excludes the feature itself).
    permutations : int
        Number of conditional permutations (999 by default); 0 for analytic inference only.
    seed : int, optional
        Random seed (same seed, same result).
    fdr : bool
        Benjamini–Hochberg correction for the COType significance.
    callback : callable, optional
        ``callback(fraction) -> cancelled``.
    alternative : {"two-sided", "folded"}, optional
        Older spelling of ``significance`` ("folded" = 0, "two-sided" = 1).
    row_standardize : bool
        Row-standardise the weights (ArcGIS and esda default); ``False`` keeps them as given.
    significance : int
        Pseudo p-value convention (:data:`.significance.SIGNIFICANCE_FOLDED`, the default, as GeoDa and esda; or
        ``SIGNIFICANCE_TWO_SIDED``). The COType follows the tail the pseudo p-value comes from: an unusually
        high I is a cluster (HH, LL), an unusually low one an outlier (HL, LH).
    """
    if alternative is not None:
        if alternative not in ("two-sided", "folded"):
            raise CreativeClustersError("alternative must be 'two-sided' or 'folded'.")
        significance = SIGNIFICANCE_FOLDED if alternative == "folded" else SIGNIFICANCE_TWO_SIDED
    x = validate_values(values)
    n = len(x)
    warnings: list = []
    off, _ = split_weights(weights, n)
    cards = np.diff(off.indptr).astype(np.int64)
    check_sample(x, cards, warnings, "Local Moran's I")
    check_callback(callback, 0.0)
    islands = cards == 0
    w = row_standardise(off) if row_standardize else off

    z = x - x.mean()
    sum_z2 = float(np.dot(z, z))
    lag = w @ z
    index = (n - 1) * z * lag / sum_z2

    m2 = sum_z2 / n
    b2 = (np.sum(z**4) / n) / m2**2
    w_i = np.asarray(w.sum(axis=1)).ravel()
    w_i2 = np.asarray(w.multiply(w).sum(axis=1)).ravel()
    expected = -w_i / (n - 1)
    variance = (
        w_i2 * (n - b2) / (n - 1)
        + (w_i**2 - w_i2) * (2 * b2 - n) / ((n - 1) * (n - 2))
        - expected**2
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        zscore = (index * n / (n - 1) - expected) / np.sqrt(variance)
    undefined = ~islands & ~(variance > 0)
    if undefined.any():
        warnings.append(f"{int(undefined.sum())} feature(s) have an undefined local Moran variance (NULL).")
    invalid = islands | undefined
    index[islands] = np.nan
    zscore[invalid] = np.nan
    p = two_sided_p(zscore)

    high = z > 0
    lag_high = lag > 0
    quadrant = np.where(high, np.where(lag_high, 1, 4), np.where(lag_high, 2, 3)).astype(np.int8)
    quadrant[islands] = 0
    pseudo_p = None
    decision_p = p
    kind = quadrant
    if permutations and int(permutations) > 0:
        counts = conditional_permutation_counts(
            z, w, int(permutations), seed=seed, callback=callback, progress_range=(0.05, 0.95)
        )
        # I_i rises with the neighbours' lag where x_i is above the mean, falls where below
        pseudo_p, cluster = counts.test(significance, direction=np.where(z >= 0, 1, -1))
        at_mean = z == 0  # I_i = 0 in every permutation: never significant
        pseudo_p[at_mean] = 1.0
        pseudo_p[invalid] = np.nan
        decision_p = pseudo_p
        # the type follows the tail the p-value came from: an unusually high I is a cluster, a low one an outlier
        kind = np.where(high, np.where(cluster, 1, 4), np.where(cluster, 3, 2)).astype(np.int8)
        kind[islands] = 0
        against = significant(decision_p, SIGNIFICANCE_LEVEL, fdr=fdr) & (kind != quadrant) & ~invalid
        if against.any():
            warnings.append(
                f"{int(against.sum())} feature(s) are significant in the permutation test on the other side of the "
                "mean lag than their observed neighbours suggest; their COType follows the permutation test."
            )
        if fdr:
            warnings.extend(permutation_fdr_warning(int(permutations), int(np.isfinite(pseudo_p).sum()), 0.05))

    sig = significant(decision_p, SIGNIFICANCE_LEVEL, fdr=fdr)
    labels = np.array(["", "HH", "LH", "LL", "HL"], dtype=object)
    cotype = np.where(sig, labels[kind], "").astype(object)
    cotype[islands] = None
    check_callback(callback, 1.0)
    return LocalMoranResult(
        I=index,
        z=zscore,
        p=p,
        pseudo_p=pseudo_p,
        n_neighbors=cards,
        cotype=cotype,
        quadrant=quadrant,
        warnings=warnings,
        permutations=int(permutations or 0),
        seed=seed,
    )


__all__ = ["LocalMoranResult", "QUADRANT_LABELS", "local_moran", "row_standardise"]
