"""Global Moran's I with its analytic moments under normality and randomisation.

For values ``x`` with deviations ``z = x − x̄`` and a weights matrix ``W`` (``w_ii = 0``)::

    I = (n / S0) · (Σ_i Σ_j w_ij z_i z_j) / Σ_i z_i²          S0 = Σ_i Σ_j w_ij

Moments (Cliff & Ord 1981, *Spatial Processes*, §1.5 and 2.3; the same formulas as esda ``Moran``)::

    E[I]   = −1 / (n − 1)
    S1     = ½ Σ_i Σ_j (w_ij + w_ji)²
    S2     = Σ_i (w_i. + w_.i)²
    V_N[I] = (n² S1 − n S2 + 3 S0²) / ((n² − 1) S0²) − E[I]²                       (normality)
    b2     = n Σ z⁴ / (Σ z²)²                                                    (sample kurtosis)
    V_R[I] = (n ((n² − 3n + 3) S1 − n S2 + 3 S0²) − b2 ((n² − n) S1 − 2n S2 + 6 S0²))
             / ((n − 1)(n − 2)(n − 3) S0²) − E[I]²                               (randomisation)

``z = (I − E[I]) / sqrt(V)``; p-values are two-sided normal ``2 Φ(−|z|)`` (esda's default ``two_tailed``).

``transform="r"`` (default) row-standardises the weights first, as esda's ``Moran`` does by default and as
ArcGIS's *Incremental Spatial Autocorrelation* does; ``"b"`` makes them binary; ``None`` uses them as given.
Rows without neighbours (islands) stay zero rows; they count in ``n`` and in ``Σ z²`` (esda does the same
with libpysal's island handling) and a warning says how many there are.

Complexity: O(n + nnz) time and memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from ..errors import CreativeClustersError, check_callback
from .significance import two_sided_p
from .weights import SpatialWeights


@dataclass
class GlobalMoranResult:
    """Moran's I and its inference. ``z``/``p`` are the randomisation ones (the ArcGIS default)."""

    I: float
    expected: float
    variance_normal: float
    variance_random: float
    z_normal: float
    z_random: float
    p_normal: float
    p_random: float
    n: int
    s0: float
    warnings: list = field(default_factory=list)

    @property
    def z(self) -> float:
        return self.z_random

    @property
    def p(self) -> float:
        return self.p_random


def _matrix(weights, n: int) -> sparse.csr_matrix:
    matrix = weights.matrix if isinstance(weights, SpatialWeights) else weights
    matrix = sparse.csr_matrix(matrix, dtype=np.float64)
    if matrix.shape != (n, n):
        raise CreativeClustersError(f"The weights describe {matrix.shape[0]} features but {n} values were given.")
    if matrix.nnz and (np.any(matrix.data < 0) or not np.all(np.isfinite(matrix.data))):
        raise CreativeClustersError("Spatial weights must be finite and non-negative.")
    matrix = matrix.tolil() if np.any(matrix.diagonal() != 0) else matrix
    if sparse.isspmatrix_lil(matrix):
        matrix.setdiag(0.0)
        matrix = matrix.tocsr()
    matrix.eliminate_zeros()
    return matrix


def transform_weights(matrix: sparse.csr_matrix, transform: str | None) -> sparse.csr_matrix:
    """Row-standardised (``"r"``), binary (``"b"``) or unchanged (``None``) copy of a CSR matrix."""
    m = matrix.copy()
    if transform is None:
        return m
    transform = transform.lower()
    if transform == "b":
        m.data[:] = 1.0
        return m
    if transform == "r":
        sums = np.asarray(m.sum(axis=1)).ravel()
        scale = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums > 0)
        m.data *= np.repeat(scale, np.diff(m.indptr))
        return m
    raise CreativeClustersError(f"Unknown weights transformation {transform!r}; use 'r', 'b' or None.")


def global_moran(values, weights, transform: str | None = "r", callback=None) -> GlobalMoranResult:
    """Global Moran's I of ``values`` under ``weights``.

    Parameters
    ----------
    values : array-like (n,)
        Finite numbers, n >= 4 (the randomisation variance divides by (n − 1)(n − 2)(n − 3)).
    weights : SpatialWeights or scipy sparse matrix (n × n)
        Non-negative weights; any diagonal is ignored.
    transform : {"r", "b", None}
        Row-standardise (default), binarise, or use the weights as they are.
    callback : callable, optional
        ``callback(fraction) -> cancelled``.
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    n = len(x)
    if not np.all(np.isfinite(x)):
        raise CreativeClustersError(
            f"{int((~np.isfinite(x)).sum())} value(s) are NULL or not numbers; remove them before Moran's I."
        )
    if n < 4:
        raise CreativeClustersError(f"Moran's I needs at least 4 features; got {n}.")
    check_callback(callback, 0.0)
    w = transform_weights(_matrix(weights, n), transform)
    warnings = []
    cards = np.diff(w.indptr)
    if np.all(cards == 0):
        raise CreativeClustersError("No feature has a neighbour with these weights: Moran's I is undefined.")
    if np.any(cards == 0):
        warnings.append(f"{int((cards == 0).sum())} feature(s) have no neighbours (islands) for Moran's I.")
    z = x - x.mean()
    ss = float(z @ z)
    spread = float(np.ptp(x))
    if ss <= 0.0 or spread <= 1e-12 * float(np.abs(x).max()):
        raise CreativeClustersError(
            f"All features have the same value ({x[0]:g}); Moran's I is undefined without variation."
        )
    s0 = float(w.sum())
    I = float(n / s0 * (z @ (w @ z)) / ss)
    check_callback(callback, 0.5)

    wt = w.T.tocsr()
    sym = w + wt
    s1 = 0.5 * float(sym.multiply(sym).sum())
    s2 = float(((np.asarray(w.sum(axis=1)).ravel() + np.asarray(w.sum(axis=0)).ravel()) ** 2).sum())
    check_callback(callback, 1.0)
    return _inference(I, n, s0, s1, s2, z, ss, warnings)


def _inference(I, n, s0, s1, s2, z, ss, warnings) -> GlobalMoranResult:
    """Moments under normality and randomisation (module docstring) from S0, S1, S2 and the deviations."""
    expected = -1.0 / (n - 1)
    n2 = n * n
    v_norm = (n2 * s1 - n * s2 + 3 * s0 * s0) / ((n2 - 1) * s0 * s0) - expected**2
    b2 = n * float((z**4).sum()) / ss**2
    a = n * ((n2 - 3 * n + 3) * s1 - n * s2 + 3 * s0 * s0)
    b = b2 * ((n2 - n) * s1 - 2 * n * s2 + 6 * s0 * s0)
    c = (n - 1) * (n - 2) * (n - 3) * s0 * s0
    v_rand = (a - b) / c - expected**2
    with np.errstate(invalid="ignore", divide="ignore"):
        z_norm = (I - expected) / np.sqrt(v_norm) if v_norm > 0 else np.nan
        z_rand = (I - expected) / np.sqrt(v_rand) if v_rand > 0 else np.nan
    return GlobalMoranResult(
        I=I,
        expected=expected,
        variance_normal=float(v_norm),
        variance_random=float(v_rand),
        z_normal=float(z_norm),
        z_random=float(z_rand),
        p_normal=float(two_sided_p(z_norm)),
        p_random=float(two_sided_p(z_rand)),
        n=n,
        s0=s0,
        warnings=warnings,
    )


def moran_from_pairs(values, i, j) -> GlobalMoranResult:
    """Moran's I for *binary symmetric, row-standardised* weights given as unordered neighbour pairs.

    Equals ``global_moran(values, W, transform="r")`` with ``W`` the binary matrix of the pairs ``(i, j)``
    (both directions), without building it: O(n + pairs) with a few ``bincount`` passes. Used for the many
    distance bands of incremental spatial autocorrelation. Pairs must be distinct with ``i != j``.
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    n = len(x)
    i = np.asarray(i, dtype=np.int64)
    j = np.asarray(j, dtype=np.int64)
    z = x - x.mean()
    ss = float(z @ z)
    if n < 4 or ss <= 0:
        raise CreativeClustersError("Moran's I needs at least 4 features whose values vary.")
    card = np.bincount(i, minlength=n) + np.bincount(j, minlength=n)
    if not card.any():
        raise CreativeClustersError("No feature has a neighbour with these weights: Moran's I is undefined.")
    warnings = []
    if np.any(card == 0):
        warnings.append(f"{int((card == 0).sum())} feature(s) have no neighbours (islands) for Moran's I.")
    inv = np.divide(1.0, card, out=np.zeros(n), where=card > 0)  # row-standardised weight of each neighbour
    lag = (np.bincount(i, weights=z[j], minlength=n) + np.bincount(j, weights=z[i], minlength=n)) * inv
    s0 = float((card > 0).sum())
    I = float(n / s0 * (z @ lag) / ss)
    s1 = float(((inv[i] + inv[j]) ** 2).sum())  # ½ Σ over both directions of (w_ij + w_ji)²
    col = np.bincount(i, weights=inv[j], minlength=n) + np.bincount(j, weights=inv[i], minlength=n)
    s2 = float(((np.where(card > 0, 1.0, 0.0) + col) ** 2).sum())
    return _inference(I, n, s0, s1, s2, z, ss, warnings)


__all__ = ["GlobalMoranResult", "global_moran", "moran_from_pairs", "transform_weights"]
