"""Anselin local Moran's I (ArcGIS Pro "Cluster and Outlier Analysis", esda ``Moran_Local``, GeoDa).

With deviations ``z_i = x_i − x̄`` (x̄ the mean of all n features) and row-standardised weights ``w_ij`` (self
excluded), two conventions for the index (``index_convention``; the Processing enum's order is public):

**0 — ArcGIS Pro** (:data:`INDEX_ARCGIS`, the default), as documented in "How Cluster and Outlier Analysis
(Anselin Local Moran's I) works" (ArcGIS Pro help, *Local Moran's I additional math*)::

    I_i = z_i / S_i² · Σ_{j≠i} w_ij z_j,       S_i² = Σ_{j≠i} z_j² / (n − 1)       (feature i left out)
    E[I_i] = −w_i / (n − 1),                   w_i = Σ_{j≠i} w_ij,  w_i(2) = Σ_{j≠i} w_ij²
    V[I_i] = E[I_i²] − E[I_i]²,   E[I_i²] = A + B
    A = (n − b_2i) w_i(2) / (n − 1)
    B = (2 b_2i − n) Σ_{k≠i} Σ_{h≠i, h≠k} w_ik w_ih / ((n − 1)(n − 2))
      = (2 b_2i − n)(w_i² − w_i(2)) / ((n − 1)(n − 2))
    b_2i = (n − 1) Σ_{j≠i} z_j⁴ / (Σ_{j≠i} z_j²)²
    z_i = (I_i − E[I_i]) / sqrt(V[I_i])

Sources and what was checked. The help page typesets its formulas as images, which could not be read here;
the form above is the one transcribed in issue 11, checked against a public copy of Esri's ArcGIS 10.1
``LocalMoran.py`` (Spatial Statistics toolbox; the last version that computed the statistic in Python —
ArcGIS Pro does it in compiled code, ``ClusterOutlier``, which is not public). That script computes
``b2i = (Σ z⁴/(n − 1)) / (Σ z²/(n − 1))²`` — hence the factor (n − 1) above, which a literal
``Σ z⁴ / (Σ z²)²`` lacks (b_2i would then be ≈ kurtosis / n, not a kurtosis) — and
``V = w_i(2)(n − b2i)/(n − 1) + (w_i² − w_i(2))(2 b2i − n)/((n − 1)(n − 2)) − w_i²/(n − 1)²`` with
``z = (I − E)/sqrt(V)`` (no n/(n − 1) rescaling of I): the cross term is *added* and runs over k ≠ h (Sokal,
Oden & Thomson 1998, eq. A4), whatever sign and range a typeset ``A − B`` suggests.
Uncertainty: ArcGIS 10.1's script divided by one variance over *all* features (S² = Σ_k z_k²/(n − 1)) and
summed ``b2i`` over all features; the Pro help leaves feature i out of ``S_i²`` (and of ``b_2i``), and this
convention follows the Pro help. ArcGIS Pro could not be run here to confirm what its compiled code does.
The index differs from esda's by the factor ``Σ_k z_k² / Σ_{j≠i} z_j²`` (≥ 1: the ArcGIS index is larger,
most for features far from the mean).

**1 — esda / GeoDa** (:data:`INDEX_ESDA`): one variance over all features::

    I_i = z_i / m2 · Σ_j w_ij z_j,      m2 = Σ_k z_k² / (n − 1)

— the index esda's ``Moran_Local.Is`` and GeoDa's ``lisa_values`` report. Its analytic z-score uses the
moments under total randomisation (Anselin 1995, *Local indicators of spatial association — LISA*,
Geographical Analysis 27(2), eqs. 13–14, in the form of Sokal, Oden & Thomson 1998, Geographical Analysis
30(4), eqs. A3–A4) for the index scaled with ``Σ z²/n``::

    E[I_i] = −w_i / (n − 1)
    V[I_i] = w_i(2) (n − b2)/(n − 1) + (w_i² − w_i(2)) (2 b2 − n)/((n − 1)(n − 2)) − E[I_i]²
    b2 = (Σ z⁴ / n) / (Σ z² / n)²

and ``z_i = (I_i · n/(n − 1) − E[I_i]) / sqrt(V[I_i])``: esda's ``EI`` and ``VI`` with the kurtosis ``b2``
summed over all features (esda ≤ 2.7 forgot the sum, esda issue #390) and with ``Is`` brought to the scale of
those moments.

In both conventions a positive ``I_i`` is a feature in a cluster of similar values (HH or LL), a negative one
an outlier (HL, LH); the sign, the quadrant and the COType do not depend on the convention.

Permutation inference (``permutations > 0``): conditional randomisation (see
:mod:`.conditional_permutation`): the value at ``i`` is held fixed and its neighbours are drawn without
replacement from the other n − 1 values. Both ``m2`` and ``S_i²`` stay the same in every permutation of the
neighbours of i (the other n − 1 values are only re-arranged), so ``I_i`` is the lag times a positive
constant in either convention: the pseudo p-values and COTypes do not depend on ``index_convention``.
``pseudo_p`` follows the ``significance`` convention: by default folded as esda's ``p_sim`` and GeoDa,
compared with α directly; two-sided (``min(1, 2 × folded)``) on request. A feature whose value equals the
mean has ``I_i = 0`` in every permutation: its pseudo p is 1.

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
from ..errors import CreativeClustersError, check_callback
from .local_statistics import (
    check_sample,
    permutation_fdr_warning,
    significance_from_alternative,
    split_weights,
    validate_values,
)
from .significance import SIGNIFICANCE_FOLDED, significant, two_sided_p

QUADRANT_LABELS = {1: "HH", 2: "LH", 3: "LL", 4: "HL"}
SIGNIFICANCE_LEVEL = 0.05

#: ``index_convention`` values (the order of the Processing enum ``INDEX_CONVENTION`` is public):
#: 0 — ArcGIS Pro: ``S_i²`` and the kurtosis ``b_2i`` over the other n − 1 features; 1 — esda / GeoDa: one
#: variance ``Σ z² / (n − 1)`` over all features.
INDEX_ARCGIS = 0
INDEX_ESDA = 1
INDEX_CONVENTION_LABELS = (
    "ArcGIS Pro: variance without feature i (S_i²)",
    "esda / GeoDa: one variance over all features",
)
_CONVENTION_NAMES = {"arcgis": INDEX_ARCGIS, "esda": INDEX_ESDA, "geoda": INDEX_ESDA}


def index_convention_code(convention) -> int:
    """``INDEX_ARCGIS`` / ``INDEX_ESDA`` from 0, 1, "arcgis", "esda" or "geoda"."""
    if isinstance(convention, str):
        code = _CONVENTION_NAMES.get(convention.strip().lower())
    elif convention in (INDEX_ARCGIS, INDEX_ESDA) and not isinstance(convention, bool):
        code = int(convention)
    else:
        code = None
    if code is None:
        raise CreativeClustersError("index_convention must be 0 / 'arcgis' or 1 / 'esda' (or 'geoda').")
    return code


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
    index_convention: int = INDEX_ARCGIS

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
    index_convention=INDEX_ARCGIS,
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
    index_convention : {0, 1, "arcgis", "esda", "geoda"}
        How ``I`` and its analytic z-score are scaled (see the module docstring): :data:`INDEX_ARCGIS` (0,
        "arcgis", the default) — ArcGIS Pro's ``S_i²`` and ``b_2i`` without feature i; :data:`INDEX_ESDA`
        (1, "esda" or "geoda") — one variance over all features, esda's ``Is`` and GeoDa's LISA value. The
        pseudo p-values, quadrants and COTypes are the same in both.
    """
    convention = index_convention_code(index_convention)
    significance = significance_from_alternative(alternative, significance)
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
    lag = w @ z
    index, zscore, invalid = _analytic_index_and_z(z, lag, w, convention, islands, warnings)
    p = two_sided_p(zscore)
    quadrant = _quadrants(z, lag, islands)
    pseudo_p = None
    decision_p = p
    kind = quadrant
    if permutations and int(permutations) > 0:
        pseudo_p, kind = _permutation_test(
            z, w, int(permutations), seed, callback, significance, fdr, quadrant, islands, invalid, warnings
        )
        decision_p = pseudo_p
    cotype = _cotypes(decision_p, kind, islands, fdr)
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
        index_convention=convention,
    )


def _analytic_index_and_z(z, lag, w, convention: int, islands, warnings: list):
    """``I_i`` in the chosen convention and its analytic z-score (NaN where islands or undefined), and the mask
    of features without a defined z-score."""
    n = len(z)
    z2 = z * z
    z4 = z2 * z2
    sum_z2 = float(z2.sum())
    sum_z4 = float(z4.sum())
    w_i = np.asarray(w.sum(axis=1)).ravel()
    w_i2 = np.asarray(w.multiply(w).sum(axis=1)).ravel()
    expected = -w_i / (n - 1)

    def variance_of(b2):
        return (
            w_i2 * (n - b2) / (n - 1)
            + (w_i**2 - w_i2) * (2 * b2 - n) / ((n - 1) * (n - 2))
            - expected**2
        )

    if convention == INDEX_ARCGIS:
        # S_i² and b_2i over the other n − 1 features; both stay > 0 unless all values are equal (refused above)
        others_z2 = sum_z2 - z2
        others_z4 = sum_z4 - z4
        index = (n - 1) * z * lag / others_z2
        variance = variance_of((n - 1) * others_z4 / others_z2**2)
        scaled = index
    else:
        index = (n - 1) * z * lag / sum_z2
        variance = variance_of(n * sum_z4 / sum_z2**2)
        scaled = index * n / (n - 1)  # on the scale of the moments (Σz²/n)
    with np.errstate(invalid="ignore", divide="ignore"):
        zscore = (scaled - expected) / np.sqrt(variance)
    undefined = ~islands & ~(variance > 0)
    if undefined.any():
        warnings.append(f"{int(undefined.sum())} feature(s) have an undefined local Moran variance (NULL).")
    invalid = islands | undefined
    index[islands] = np.nan
    zscore[invalid] = np.nan
    return index, zscore, invalid


def _quadrants(z, lag, islands) -> np.ndarray:
    """Observed quadrant per feature: 1 HH, 2 LH, 3 LL, 4 HL, 0 for islands."""
    high = z > 0
    lag_high = lag > 0
    quadrant = np.where(high, np.where(lag_high, 1, 4), np.where(lag_high, 2, 3)).astype(np.int8)
    quadrant[islands] = 0
    return quadrant


def _permutation_test(z, w, permutations: int, seed, callback, significance: int, fdr: bool, quadrant, islands,
                      invalid, warnings: list):
    """Conditional-permutation pseudo p-values and the quadrant implied by the tail each comes from."""
    high = z > 0
    counts = conditional_permutation_counts(
        z, w, permutations, seed=seed, callback=callback, progress_range=(0.05, 0.95)
    )
    # I_i rises with the neighbours' lag where x_i is above the mean, falls where below
    pseudo_p, cluster = counts.test(significance, direction=np.where(z >= 0, 1, -1))
    at_mean = z == 0  # I_i = 0 in every permutation: never significant
    pseudo_p[at_mean] = 1.0
    pseudo_p[invalid] = np.nan
    # the type follows the tail the p-value came from: an unusually high I is a cluster, a low one an outlier
    kind = np.where(high, np.where(cluster, 1, 4), np.where(cluster, 3, 2)).astype(np.int8)
    kind[islands] = 0
    against = significant(pseudo_p, SIGNIFICANCE_LEVEL, fdr=fdr) & (kind != quadrant) & ~invalid
    if against.any():
        warnings.append(
            f"{int(against.sum())} feature(s) are significant in the permutation test on the other side of the "
            "mean lag than their observed neighbours suggest; their COType follows the permutation test."
        )
    if fdr:
        warnings.extend(permutation_fdr_warning(permutations, int(np.isfinite(pseudo_p).sum()), 0.05))
    return pseudo_p, kind


def _cotypes(decision_p, kind, islands, fdr: bool) -> np.ndarray:
    """COType per feature: the quadrant label where significant, "" where not, None for islands."""
    sig = significant(decision_p, SIGNIFICANCE_LEVEL, fdr=fdr)
    labels = np.array(["", "HH", "LH", "LL", "HL"], dtype=object)
    cotype = np.where(sig, labels[kind], "").astype(object)
    cotype[islands] = None
    return cotype


__all__ = [
    "INDEX_ARCGIS",
    "INDEX_CONVENTION_LABELS",
    "INDEX_ESDA",
    "LocalMoranResult",
    "QUADRANT_LABELS",
    "index_convention_code",
    "local_moran",
    "row_standardise",
]
