"""Location quotients of the creative sub-sectors by area, with confidence intervals and the Nesta 2018 flag.

For sector *s* and area *r*, with x a firm count (or weight)::

    LQ(s, r) = (x_sr / x_.r) / (x_s. / x..)

where x_.r counts **all** firms of the area (every industry), x_s. the sector in the whole study region and
x.. all firms of the study region. LQ > 1: the area is more specialised in *s* than the region.

Confidence interval (Moineddin, Beyene & Boyle 2003, *On the location quotient confidence interval*,
Geographical Analysis 35(3)), a delta-method interval on the log scale::

    Var(ln LQ) ≈ 1/x_sr − 1/x_.r + 1/x_s. − 1/x..
    CI = LQ · exp(± z_(1−α/2) · sqrt(Var))

It is undefined when x_sr = 0 (LQ = 0): the bounds are then NULL. Areas whose all-firm count is below
``min_count`` get NULL LQs (small areas give unstable LQs).

Nesta 2018 (*Creative Nation*): an area is a creative agglomeration when LQ_creative > 1 **and** its creative
count is at or above the ``quantile`` (default 0.75) of the creative counts of all areas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..errors import CreativeClustersError
from ..firms.subsectors import SUBSECTORS

if TYPE_CHECKING:
    import pandas as pd

#: sector columns the output always has, in order: all creative first, then the nine sub-sectors
SECTOR_KEYS = ("creative",) + tuple(SUBSECTORS)


@dataclass
class LocationQuotientResult:
    """``table`` has one row per area (same order as the areas given) with the fields documented in
    :func:`location_quotients`; ``outside`` counts firms that fell in no area."""

    table: pd.DataFrame
    outside: int
    totals: dict
    warnings: list = field(default_factory=list)


def _normal_quantile(p):
    """The standard normal quantile (scipy.stats, imported when first needed: it takes a fifth of a second,
    which every QGIS start and every ``qgis_process`` call would otherwise pay)."""
    from scipy.stats import norm

    return norm.ppf(p)


def lq_confidence_interval(x_sr, x_r, x_s, x_total, confidence: float = 0.95):
    """Moineddin et al. (2003) delta-method interval for LQ; arrays broadcast. Returns (lq, low, high)."""
    x_sr = np.asarray(x_sr, dtype=float)
    x_r = np.asarray(x_r, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        lq = (x_sr / x_r) / (float(x_s) / float(x_total))
        variance = 1.0 / x_sr - 1.0 / x_r + 1.0 / float(x_s) - 1.0 / float(x_total)
        z = _normal_quantile(0.5 + confidence / 2.0)
        half = z * np.sqrt(np.clip(variance, 0.0, None))
        low = lq * np.exp(-half)
        high = lq * np.exp(half)
    undefined = ~(x_sr > 0) | ~np.isfinite(lq)
    low = np.where(undefined, np.nan, low)
    high = np.where(undefined, np.nan, high)
    lq = np.where(x_r > 0, lq, np.nan)
    return lq, low, high


def location_quotients(
    area_index: np.ndarray,
    n_areas: int,
    creative: np.ndarray,
    subsector_codes: np.ndarray,
    weights: np.ndarray | None = None,
    extra_sectors: dict | None = None,
    quantile: float = 0.75,
    confidence: float = 0.95,
    min_count: float = 0.0,
) -> LocationQuotientResult:
    """Counts and LQs per area.

    Parameters
    ----------
    area_index : int array (n_firms,)
        Index of the area holding each firm, −1 when the firm is in no area (counted in ``outside``).
    n_areas : int
        Number of areas (rows of the output).
    creative : bool array (n_firms,)
        True for creative firms.
    subsector_codes : object array (n_firms,)
        Sub-sector code (``core.subsectors``) of each creative firm, None otherwise.
    weights : float array, optional
        Weight of each firm (1 by default; e.g. 1/n for firms sharing a stacked address).
    extra_sectors : dict name -> bool array, optional
        More sectors to count (e.g. ``{"hightech": ..., "kibs": ...}``); they get ``n_<name>`` and ``lq_<name>``.
    quantile : float
        The activity quantile of the Nesta 2018 rule.
    confidence : float
        Confidence level of the LQ interval.
    min_count : float
        Areas with fewer firms (all industries) than this get NULL LQs.

    Output fields: ``n_all``; ``n_creative`` and ``n_<code>`` per sub-sector; ``lq_creative``,
    ``lq_creative_lo``, ``lq_creative_hi`` and the same per sub-sector; ``n_<extra>``/``lq_<extra>``;
    ``cc_nesta2018`` (bool).
    """
    import pandas as pd

    area_index = np.asarray(area_index, dtype=np.int64)
    n = area_index.shape[0]
    creative = np.asarray(creative, dtype=bool)
    subsector_codes = np.asarray(subsector_codes, dtype=object)
    _check_arguments(n, creative, subsector_codes, n_areas, quantile, confidence)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    inside = area_index >= 0
    outside = int(np.count_nonzero(~inside))
    warnings = []
    if outside:
        warnings.append(f"{outside} firm(s) lie outside every area and were not counted.")
    if not inside.any():
        raise CreativeClustersError(
            "No firm lies inside any area: check that the firms and the areas cover the same place "
            "(and that both layers have the right CRS)."
        )
    idx = area_index[inside]
    wi = w[inside]

    def count(mask):
        return np.bincount(idx, weights=wi * mask[inside], minlength=n_areas)[:n_areas]

    table = pd.DataFrame(index=np.arange(n_areas))
    n_all = count(np.ones(n, dtype=bool))
    table["n_all"] = n_all
    counts = {name: count(mask) for name, mask in _sector_masks(creative, subsector_codes, extra_sectors).items()}
    for name, values in counts.items():
        table[f"n_{name}"] = values

    total = float(n_all.sum())
    _add_lq_columns(table, counts, n_all, total, min_count, confidence, warnings)

    threshold = float(np.quantile(counts["creative"], quantile))
    table["cc_nesta2018"] = (np.nan_to_num(table["lq_creative"].to_numpy(), nan=0.0) > 1.0) & (
        counts["creative"] >= threshold
    )
    totals = {"firms": total, "creative": float(counts["creative"].sum()), "nesta2018_threshold": threshold}
    return LocationQuotientResult(table=table, outside=outside, totals=totals, warnings=warnings)


def _check_arguments(n: int, creative, subsector_codes, n_areas: int, quantile: float, confidence: float) -> None:
    """Refuse firm arrays of different lengths, levels outside (0, 1) and an empty areas layer."""
    if creative.shape[0] != n or subsector_codes.shape[0] != n:
        raise CreativeClustersError("Internal error: firm arrays of different lengths.")
    if not 0.0 < confidence < 1.0:
        raise CreativeClustersError("The confidence level must be between 0 and 1 (e.g. 0.95).")
    if not 0.0 <= quantile <= 1.0:
        raise CreativeClustersError("The quantile must be between 0 and 1 (e.g. 0.75).")
    if n_areas < 1:
        raise CreativeClustersError("The areas layer has no features.")


def _sector_masks(creative, subsector_codes, extra_sectors) -> dict:
    """Firm mask per sector, in output order: all creative, the nine sub-sectors, then the extra sectors."""
    sector_masks = {"creative": creative}
    for code in SUBSECTORS:
        sector_masks[code] = creative & (subsector_codes == code)
    for name, mask in (extra_sectors or {}).items():
        sector_masks[name] = np.asarray(mask, dtype=bool)
    return sector_masks


def _add_lq_columns(table: pd.DataFrame, counts: dict, n_all, total: float, min_count: float, confidence: float,
                    warnings: list) -> None:
    """Add ``lq_<sector>`` (and the interval bounds for the creative sectors), NULL for too-small areas."""
    n_areas = len(n_all)
    usable = n_all >= max(min_count, 1e-12)
    small = int(np.count_nonzero((n_all > 0) & ~usable))
    if small:
        warnings.append(f"{small} area(s) hold fewer than {min_count:g} firms: their LQs are left NULL.")
    for name, values in counts.items():
        region = float(values.sum())
        if region <= 0:
            lq = low = high = np.full(n_areas, np.nan)
            if name == "creative":
                warnings.append("No creative firm lies inside the areas: every creative LQ is NULL.")
        else:
            lq, low, high = lq_confidence_interval(values, n_all, region, total, confidence)
        lq = np.where(usable, lq, np.nan)
        table[f"lq_{name}"] = lq
        if name in SECTOR_KEYS:
            table[f"lq_{name}_lo"] = np.where(usable, low, np.nan)
            table[f"lq_{name}_hi"] = np.where(usable, high, np.nan)
