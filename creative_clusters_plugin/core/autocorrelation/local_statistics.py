"""What the local statistics (Gi*, local Moran's I) share: checking the analysis values and the sample, splitting weights into
neighbours and self-weights, and the warning about permutations with FDR. No QGIS import."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from ..errors import CreativeClustersError
from .significance import SIGNIFICANCE_FOLDED, SIGNIFICANCE_TWO_SIDED
from .weights import SpatialWeights

MIN_FEATURES = 3
RECOMMENDED_FEATURES = 30


def validate_values(values, what: str = "analysis field") -> np.ndarray:
    """1-D float array of finite values, or a clear error."""
    x = np.asarray(values, dtype=np.float64).ravel()
    missing = int((~np.isfinite(x)).sum())
    if missing:
        raise CreativeClustersError(
            f"{missing} feature(s) have no numeric value in the {what} (NULL or NaN); remove them or fill them "
            "before the analysis."
        )
    return x


def split_weights(weights, n: int, default_self_weight: float | None = None):
    """``(off_diagonal_csr, diagonal)`` from :class:`SpatialWeights` or a sparse/dense matrix."""
    matrix = weights.matrix if isinstance(weights, SpatialWeights) else weights
    matrix = sparse.csr_matrix(matrix, dtype=np.float64)
    if matrix.shape != (n, n):
        raise CreativeClustersError(
            f"The weights describe {matrix.shape[0]} features but {n} values were given."
        )
    if matrix.nnz and (np.any(matrix.data < 0) or not np.all(np.isfinite(matrix.data))):
        raise CreativeClustersError("Spatial weights must be finite and non-negative.")
    diagonal = matrix.diagonal().copy()
    if np.any(diagonal != 0):
        off = matrix.tolil()
        off.setdiag(0.0)
        off = off.tocsr()
        off.eliminate_zeros()
    else:
        off = matrix.copy()
        off.eliminate_zeros()
    off.sort_indices()
    return off, diagonal


def check_sample(x: np.ndarray, cards: np.ndarray, warnings: list, statistic: str) -> None:
    """ArcGIS minimums and degenerate inputs shared by the local statistics."""
    n = len(x)
    if n < MIN_FEATURES:
        raise CreativeClustersError(
            f"{statistic} needs at least {MIN_FEATURES} features with a value; got {n}."
        )
    if n < RECOMMENDED_FEATURES:
        warnings.append(
            f"Only {n} features: results are unreliable below {RECOMMENDED_FEATURES} features (ArcGIS's "
            "recommended minimum)."
        )
    spread = float(np.ptp(x))
    if spread == 0.0 or spread <= 1e-12 * float(np.abs(x).max()):
        raise CreativeClustersError(
            f"All features have the same value ({x[0]:g}); {statistic} is undefined without variation."
        )
    if np.all(cards == 0):
        raise CreativeClustersError(
            "No feature has a neighbour with these weights. Use a larger distance band, k nearest "
            "neighbours, or a snap tolerance for polygons that do not quite touch."
        )
    islands = int((cards == 0).sum())
    if islands:
        warnings.append(
            f"{islands} feature(s) have no neighbours (islands); their results are left empty (NULL)."
        )


def permutation_fdr_warning(permutations: int, tested: int, alpha: float) -> list:
    """Warn when no pseudo p-value can pass the strictest FDR threshold a lone significant feature faces."""
    smallest = 2.0 / (permutations + 1)
    if tested and smallest > alpha / tested:
        needed = int(np.ceil(2.0 * tested / alpha))
        return [
            f"With {permutations:,} permutations the smallest two-sided pseudo p-value is {smallest:.4f}, while the "
            f"false discovery rate correction over {tested:,} features can ask for p <= {alpha / tested:.2g} at the "
            f"{100 * (1 - alpha):.0f} % level: confidence levels may be understated. Use about {needed:,} "
            "permutations, or analytic p-values, for the strongest levels."
        ]
    return []


def significance_from_alternative(alternative, significance: int) -> int:
    """The ``significance`` convention, overridden by the older ``alternative`` spelling when given."""
    if alternative is not None:
        if alternative not in ("two-sided", "folded"):
            raise CreativeClustersError("alternative must be 'two-sided' or 'folded'.")
        significance = SIGNIFICANCE_FOLDED if alternative == "folded" else SIGNIFICANCE_TWO_SIDED
    return significance
