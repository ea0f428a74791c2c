"""Conditional permutation inference for local statistics, in O(n + nnz) memory.

Under conditional randomisation (Anselin 1995, *Local indicators of spatial association — LISA*,
Geographical Analysis 27(2) §4) the value at ``i`` is held fixed and the values of its ``c_i`` neighbours
are replaced by ``c_i`` values drawn *without replacement* from the other ``n − 1`` observations. A local
statistic such as Gi* or local Moran's I is, for fixed ``i``, a monotone function of the weighted lag
``L_i = Σ_j w_ij x_j`` (self excluded), so it is enough to count how many simulated lags lie at or above
(``n_ge``) and at or below (``n_le``) the observed one. From those counts:

* folded pseudo p (esda's ``p_sim``): ``(min(n_ge, n_le) + 1) / (R + 1)``; with no ties this is esda's
  ``(min(M, R − M) + 1) / (R + 1)``, ``M = #{sim >= obs}``. Ties are counted on both sides, so a
  feature whose simulated lags all equal the observed one gets p = 1 (esda would give 1 / (R + 1));
* two-sided pseudo p: ``min(1, 2 × folded)``.

Lookup-table trick (after libgeoda/pygeoda and esda's ``crand``): one table ``T`` of ``R`` rows, each holding
``K = max c_i`` distinct indices drawn from ``{0, …, n − 2}``, is shared by all observations. For
observation ``i`` the draw ``t`` maps to the observation ``t + [t >= i]``, a bijection of ``{0, …, n − 2}``
onto the other ``n − 1`` indices, so each observation gets an exact uniform sample without replacement
(draws for different observations are dependent, as in esda and GeoDa; each p-value is valid).

Speed. With ``X0 = x[T]``, ``X1 = x[T + 1]`` and ``D = X1 − X0``, the simulated neighbour sum of ``i`` in
permutation ``r`` with ``c`` neighbours is::

    S_i[r] = Σ_{k<c} X1[r, k] − Σ_{k<c, T[r, k] < i} D[r, k]

For rows whose weights are all equal (binary and row-standardised binary weights — every contiguity,
distance band and kNN case) the second sum changes only where ``i`` passes one of the ``R c`` table
entries. Sweeping the observations in index order, a chunk of consecutive observations sees only a few
entries: the permutations they touch are counted through a small cumulative sum, all the others through a
binary search in one sorted vector. The work is about O(n log R + R c log R) instead of O(nnz R), and no
``n × R`` array is ever held. Rows with unequal weights (inverse distance) use a vectorised direct
evaluation, chunk by chunk (O(nnz R) work, O(block) memory).

Ties: a simulated lag within ``1e-11 × scale`` of the observed one counts as a tie (both sides), so
integer data give exact comparisons however the sums are rounded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ..errors import CreativeClustersError, check_callback

#: Target number of float64 elements in one working block (8 MB).
BLOCK_ELEMENTS = 1 << 20
_TIE_RTOL = 1e-11


@dataclass
class PermutationCounts:
    """How many simulated lags lie at or above / at or below the observed lag (−1 for islands)."""

    n_ge: np.ndarray
    n_le: np.ndarray
    permutations: int

    def folded_p(self) -> np.ndarray:
        """Folded pseudo p ``(min(n_ge, n_le) + 1) / (R + 1)`` (esda ``p_sim``); NaN for islands."""
        p = (np.minimum(self.n_ge, self.n_le) + 1.0) / (self.permutations + 1.0)
        p[self.n_ge < 0] = np.nan
        return p

    def two_sided_p(self) -> np.ndarray:
        """Two-sided pseudo p ``min(1, 2 × folded)``; NaN for islands."""
        return np.minimum(1.0, 2.0 * self.folded_p())

    def test(self, convention: int, direction=None) -> tuple[np.ndarray, np.ndarray]:
        """``(pseudo p, high)`` under a ``SIGNIFICANCE`` convention (see :mod:`.significance`), both from the
        same permutation distribution: ``high`` is True where the observed statistic lies in the upper tail —
        the tail the p-value measures — and False in the lower one.

        ``direction`` (+1 or −1 per feature, default +1) says whether the statistic rises (+1, Gi*; local
        Moran where x_i is above the mean) or falls (−1) with the neighbours' lag the counts are about.
        Convention 0 (GeoDa, esda): ``M`` = simulated statistics ≥ observed (ties count as at least as
        extreme), ``p = (min(M, R − M) + 1) / (R + 1)``, upper tail where ``M ≤ R − M``. Convention 1:
        ``min(1, 2 (min(n_ge, n_le) + 1) / (R + 1))`` with ties on both sides, upper tail where the
        statistic's count above is the smaller. NaN / False for islands.
        """
        R = float(self.permutations)
        rising = np.ones(len(self.n_ge), dtype=bool) if direction is None else np.asarray(direction) >= 0
        above = np.where(rising, self.n_ge, self.n_le).astype(float)  # simulated statistics ≥ observed
        below = np.where(rising, self.n_le, self.n_ge).astype(float)  # simulated statistics ≤ observed
        if int(convention) == 0:
            p = (np.minimum(above, R - above) + 1.0) / (R + 1.0)
            high = above <= R - above
        elif int(convention) == 1:
            p = np.minimum(1.0, 2.0 * (np.minimum(above, below) + 1.0) / (R + 1.0))
            high = above <= below
        else:
            raise CreativeClustersError(f"Unknown significance convention {convention}: 0 folded, 1 two-sided.")
        islands = self.n_ge < 0
        p[islands] = np.nan
        high = high & ~islands
        return p, high


def canonical_order(xy, values) -> np.ndarray:
    """An order of the features that does not depend on the order they arrive in: by x, then y, then value.

    The permutation table pairs draws with feature positions, so the same seed gives other pseudo p-values
    when a file is re-sorted or a database returns its rows in another order. Analysing the features in this
    order (and putting the results back) makes every permutation result depend on the data alone. Features
    that tie on all three are interchangeable: they get the same results whichever comes first.
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    values = np.asarray(values, dtype=float).reshape(-1)
    return np.lexsort((values, xy[:, 1], xy[:, 0]))


def permutation_table(n: int, max_neighbours: int, permutations: int, rng: np.random.Generator) -> np.ndarray:
    """``(permutations, max_neighbours)`` int64 table; each row holds distinct values in ``[0, n − 2]``.

    Rows are drawn uniformly among ordered tuples of distinct values: independent uniform draws with rows
    containing a repeat drawn again (exact rejection sampling), or a partial shuffle when repeats would be
    frequent.
    """
    others = n - 1
    k = int(max_neighbours)
    if k > others:
        raise CreativeClustersError("A feature cannot have more neighbours than there are other features.")
    if k == 0 or permutations == 0:
        return np.zeros((permutations, k), dtype=np.int64)
    if k * (k - 1) / (2.0 * others) < 0.25:
        table = rng.integers(0, others, size=(permutations, k), dtype=np.int64)
        while True:
            ordered = np.sort(table, axis=1)
            bad = np.flatnonzero(np.any(ordered[:, 1:] == ordered[:, :-1], axis=1))
            if len(bad) == 0:
                return table
            table[bad] = rng.integers(0, others, size=(len(bad), k), dtype=np.int64)
    return np.stack([rng.choice(others, size=k, replace=False) for _ in range(permutations)]).astype(np.int64)


def conditional_permutation_counts(
    values,
    matrix,
    permutations: int,
    seed=None,
    callback=None,
    progress_range=(0.0, 1.0),
) -> PermutationCounts:
    """Count simulated neighbour lags at/above and at/below the observed ``Σ_j w_ij x_j`` for every ``i``.

    Parameters
    ----------
    values : array-like (n,)
        The variable (any location/scale: it is centred internally).
    matrix : scipy sparse (n × n)
        Non-negative weights with a zero diagonal (the self term is constant under conditional
        permutation and must be left out).
    permutations : int
        Number of permutations ``R`` (>= 1).
    seed : int or None
        Seed of the random generator; the same seed gives the same counts.
    callback : callable, optional
        ``callback(fraction) -> cancelled``; raises :class:`CancelledError` on cancel.
    progress_range : (float, float)
        Fractions reported at the start and end of this computation.
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    n = len(x)
    R = int(permutations)
    if R < 1:
        raise CreativeClustersError("The number of permutations must be at least 1.")
    W = sparse.csr_matrix(matrix, dtype=np.float64)
    if W.shape != (n, n):
        raise CreativeClustersError("The weights matrix does not match the number of values.")
    if np.any(W.diagonal() != 0):
        raise CreativeClustersError("Conditional permutation needs weights without self-weights (zero diagonal).")
    if W.nnz and np.any(W.data < 0):
        raise CreativeClustersError("Spatial weights must not be negative.")
    W.sort_indices()
    x = x - x.mean()
    cards = np.diff(W.indptr)
    n_ge = np.full(n, -1, dtype=np.int64)
    n_le = np.full(n, -1, dtype=np.int64)
    active = cards > 0
    if not active.any():
        return PermutationCounts(n_ge, n_le, R)
    K = int(cards.max())
    rng = np.random.default_rng(seed)
    table = permutation_table(n, K, R, rng)
    X0 = x[table]
    X1 = x[table + 1]
    D = X1 - X0
    scale = float(np.abs(x).max()) or 1.0

    # rows whose weights are all equal: compare unweighted neighbour sums
    starts = W.indptr[:-1][active]
    row_max = np.maximum.reduceat(W.data, starts)
    row_min = np.minimum.reduceat(W.data, starts)
    uniform = np.zeros(n, dtype=bool)
    uniform[np.flatnonzero(active)] = row_max == row_min

    start, end = progress_range
    total = max(int(active.sum()), 1)
    done = [0]

    def advance(count):
        done[0] += count
        check_callback(callback, start + (end - start) * done[0] / total)

    check_callback(callback, start)
    if uniform.any():
        pattern = sparse.csr_matrix((np.ones_like(W.data), W.indices, W.indptr), shape=W.shape)
        observed = pattern @ x
        for c in np.unique(cards[uniform]):
            rows = np.flatnonzero(uniform & (cards == c))
            _sweep_equal_weights(rows, int(c), table, X1, D, observed, scale, n_ge, n_le, advance)
    general = active & ~uniform
    if general.any():
        observed = W @ x
        _direct_general(np.flatnonzero(general), W, cards, table, X0, X1, observed, scale, n_ge, n_le, advance)
    return PermutationCounts(n_ge, n_le, R)


def _sweep_equal_weights(rows, c, table, X1, D, observed, scale, n_ge, n_le, advance):
    """Counts for observations ``rows`` (sorted) that all have ``c`` equally weighted neighbours.

    ``current[r]`` is the simulated neighbour sum ``Σ_{k<c} X1[r, k] − Σ_{k<c, T[r,k] < i} D[r, k]`` at the
    first observation ``i`` of a chunk. Inside a chunk only the permutations ``r`` with a table entry in the
    chunk's index range change; the others are compared for all the chunk's observations at once by a binary
    search in their sorted values, the few changing ones through a small cumulative sum.
    """
    R = table.shape[0]
    t = table[:, :c].ravel()
    r = np.repeat(np.arange(R, dtype=np.int64), c)
    d = D[:, :c].ravel()
    order = np.argsort(t, kind="stable")
    t, r, d = t[order], r[order], d[order]
    current = X1[:, :c].sum(axis=1)
    consumed = 0
    tol = _TIE_RTOL * scale * c
    # a chunk holds few table entries (cheap per observation) but not so few that Python overhead dominates:
    # about one chunk per 256 observations at least
    entries_per_chunk = max(32, R // 16, -(-len(t) * 256 // max(len(rows), 1)))
    max_rows = max(1, BLOCK_ELEMENTS // entries_per_chunk)
    lo = 0
    while lo < len(rows):
        first = rows[lo]
        upto = int(np.searchsorted(t, first, side="left"))
        if upto > consumed:  # entries passed since the previous chunk
            np.subtract.at(current, r[consumed:upto], d[consumed:upto])
            consumed = upto
        limit = consumed + entries_per_chunk
        t_limit = t[limit] if limit < len(t) else np.iinfo(np.int64).max
        hi = int(np.searchsorted(rows, t_limit, side="right"))
        hi = min(max(hi, lo + 1), lo + max_rows, len(rows))
        obs = rows[lo:hi]
        m = len(obs)
        inside = int(np.searchsorted(t, obs[-1], side="left"))
        seg_t, seg_r, seg_d = t[consumed:inside], r[consumed:inside], d[consumed:inside]
        target = observed[obs]
        # permutations without an entry in this chunk: one sorted vector serves every observation
        changing, column = np.unique(seg_r, return_inverse=True)
        still = np.ones(R, dtype=bool)
        still[changing] = False
        static = np.sort(current[still])
        ge = len(static) - np.searchsorted(static, target - tol, side="left")
        le = np.searchsorted(static, target + tol, side="right")
        if len(changing):
            # entry with index t enters the sum of every observation i > t of this chunk
            position = np.searchsorted(obs, seg_t, side="right")
            k = len(changing)
            steps = np.bincount(position * k + column.ravel(), weights=seg_d, minlength=m * k)
            steps = np.cumsum(steps.astype(np.float64, copy=False).reshape(m, k), axis=0)
            sims = current[changing][None, :] - steps
            ge = ge + np.count_nonzero(sims >= (target - tol)[:, None], axis=1)
            le = le + np.count_nonzero(sims <= (target + tol)[:, None], axis=1)
        n_ge[obs] = ge
        n_le[obs] = le
        advance(m)
        lo = hi


def _direct_general(rows, W, cards, table, X0, X1, observed, scale, n_ge, n_le, advance):
    """Counts for observations with unequal weights: vectorised ``Σ_k w_ik x[t_rk + (t_rk >= i)]``."""
    R = table.shape[0]
    rows = rows[np.argsort(cards[rows], kind="stable")]
    position = 0
    while position < len(rows):
        m = max(1, BLOCK_ELEMENTS // (R * int(cards[rows[position]])))
        m = max(1, BLOCK_ELEMENTS // (R * int(cards[rows[min(position + m, len(rows)) - 1]])))
        obs = rows[position : position + m]
        c_max = int(cards[obs].max())
        m_obs = len(obs)
        lengths = cards[obs]
        slot = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        source = np.repeat(W.indptr[obs], lengths) + slot
        weights = np.zeros((m_obs, c_max))
        weights[np.repeat(np.arange(m_obs), lengths), slot] = W.data[source]
        shifted = table[None, :, :c_max] >= obs[:, None, None]
        values = np.where(shifted, X1[None, :, :c_max], X0[None, :, :c_max])
        sims = np.matmul(values, weights[:, :, None])[:, :, 0]  # (m, R)
        target = observed[obs][:, None]
        tol = _TIE_RTOL * scale * weights.sum(axis=1)[:, None]
        n_ge[obs] = np.count_nonzero(sims >= target - tol, axis=1)
        n_le[obs] = np.count_nonzero(sims <= target + tol, axis=1)
        position += m_obs
        advance(m_obs)


__all__ = ["PermutationCounts", "conditional_permutation_counts", "permutation_table"]
