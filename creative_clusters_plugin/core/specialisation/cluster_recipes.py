"""The published recipes that turn area LQs into "creative clusters" (Nesta 2016 and Nesta 2018).

**Nesta 2016** (Mateos-Garcia & Bakhshi, *The Geography of Creativity in the UK*), as in the authors' code:
for each sub-sector group *g*:

1. keep the areas whose creative activity (creative firm count of the later period) is at or above the
   ``percentile`` (0.75) of all areas' activity;
2. among them take the ``top_n`` (10) areas by LQ_g in the later period (*concentration*) and the ``top_n`` by
   the change LQ_g(later) − LQ_g(earlier) (*growth*);

the clusters are the union of every list of every group. Ties at the cut are broken by the area order given
(stable), so the result is deterministic; areas with a NULL LQ (or NULL change) are never selected.

**Nesta 2018** (*Creative Nation*): an area is an agglomeration when LQ > 1 and its activity is at or above
the ``quantile`` q (0.75 by default; 0.5 also used) of all areas' activity.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import CreativeClustersError


@dataclass
class ClusterSelection:
    """``selected`` (bool per area), ``reasons`` (text per area, "" when not selected), ``threshold`` (the
    activity cut), ``lists`` (name -> area indices in rank order)."""

    selected: np.ndarray
    reasons: list
    threshold: float
    lists: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)


def _top(values: np.ndarray, eligible: np.ndarray, top_n: int) -> np.ndarray:
    """Indices of the ``top_n`` largest finite values among ``eligible`` areas, stable on ties."""
    candidates = np.flatnonzero(eligible & np.isfinite(values))
    order = np.argsort(-values[candidates], kind="stable")
    return candidates[order[:top_n]]


def nesta2016(
    activity: np.ndarray,
    lq_earlier: dict,
    lq_later: dict,
    percentile: float = 0.75,
    top_n: int = 10,
) -> ClusterSelection:
    """Nesta 2016 selection.

    ``activity``: creative activity per area (later period). ``lq_earlier``/``lq_later``: group name ->
    LQ array per area (same groups in both). Returns the union of the concentration and growth lists.
    """
    activity = np.asarray(activity, dtype=float)
    n = activity.shape[0]
    if n == 0:
        raise CreativeClustersError("There are no areas to select clusters from.")
    if not 0.0 <= percentile <= 1.0:
        raise CreativeClustersError("The activity percentile must be between 0 and 1 (e.g. 0.75).")
    if top_n < 1:
        raise CreativeClustersError("The number of areas per list (TOP_N) must be at least 1.")
    if set(lq_earlier) != set(lq_later) or not lq_later:
        raise CreativeClustersError("Both periods must give LQs for the same sub-sector groups.")
    finite = np.isfinite(activity)
    if not finite.any():
        raise CreativeClustersError("No area has a creative activity value.")
    threshold = float(np.quantile(activity[finite], percentile))
    eligible = finite & (activity >= threshold)
    reasons = [[] for _ in range(n)]
    lists = {}
    for group in lq_later:
        later = np.asarray(lq_later[group], dtype=float)
        earlier = np.asarray(lq_earlier[group], dtype=float)
        if later.shape[0] != n or earlier.shape[0] != n:
            raise CreativeClustersError(f"LQs of group '{group}' do not cover every area.")
        change = later - earlier
        for kind, values in (("LQ", later), ("LQ growth", change)):
            top = _top(values, eligible, top_n)
            lists[f"{group}: {kind}"] = top
            for rank, index in enumerate(top, start=1):
                reasons[index].append(f"{group} top {kind} #{rank}")
    selected = np.array([bool(r) for r in reasons])
    warnings = []
    if int(eligible.sum()) < top_n:
        warnings.append(
            f"Only {int(eligible.sum())} area(s) reach the activity percentile, fewer than TOP_N={top_n}: "
            "every eligible area with an LQ is selected."
        )
    return ClusterSelection(selected, ["; ".join(r) for r in reasons], threshold, lists, warnings)


def nesta2018(lq: np.ndarray, activity: np.ndarray, quantile: float = 0.75) -> ClusterSelection:
    """Nesta 2018 agglomerations: LQ > 1 and activity at or above the ``quantile`` of all areas."""
    lq = np.asarray(lq, dtype=float)
    activity = np.asarray(activity, dtype=float)
    if lq.shape != activity.shape or lq.size == 0:
        raise CreativeClustersError("There are no areas to select clusters from.")
    if not 0.0 <= quantile <= 1.0:
        raise CreativeClustersError("The activity quantile must be between 0 and 1 (e.g. 0.75).")
    finite = np.isfinite(activity)
    threshold = float(np.quantile(activity[finite], quantile)) if finite.any() else np.nan
    selected = np.nan_to_num(lq, nan=0.0) > 1.0
    selected &= finite & (activity >= threshold)
    reasons = [f"LQ {v:.2f} > 1 and activity {a:g} >= {threshold:g}" if s else "" for v, a, s in zip(lq, activity, selected)]
    return ClusterSelection(selected, reasons, threshold, {"nesta2018": np.flatnonzero(selected)})
