"""A composite growth-potential score for creative clusters (after the DCMS / Frontier Economics 2022 framework).

The DCMS framework benchmarks the growth potential of local creative clusters on five dimensions; its exact
indicators were not published, so the score combines one documented indicator per dimension, each
normalised to 0–100, in a weighted mean (weights are user parameters, renormalised over the indicators
that exist):

=================  ==========================================================================================
dimension          indicator (first field found)
=================  ==========================================================================================
scale              log(1 + creative firm count)                         ``n_creative`` / ``n_firms``
specialisation     creative location quotient                            ``lq_creative`` / ``lq``
growth             change in creative LQ, or share of recent firms       ``dlq_creative`` / ``recent_share``
diversity          sub-sector diversity (1 − Herfindahl of the nine sub-sector counts), plus co-location with
                   high-tech and KIBS (mean of their LQs, capped at 3) when present
significance       Getis-Ord z-score (capped to [−3.29, 3.29])           ``GiZScore``
=================  ==========================================================================================

Normalisation (``method``): ``rank`` (default) — percentile rank 0–100, robust to outliers and skew;
``minmax`` — linear 0–100 between the minimum and the maximum; ``zscore`` — 50 + 10·z clipped to 0–100.
NULL indicator values get the indicator's median (documented fallback, counted in the warnings); an
indicator with no value at all is dropped with a warning. ``cc_gp_class`` gives quintiles of the score.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..errors import CreativeClustersError
from ..firms.subsectors import SUBSECTORS

if TYPE_CHECKING:
    import pandas as pd

DIMENSIONS = ("scale", "specialisation", "growth", "diversity", "significance")
#: output field of each dimension's 0-100 score
FIELD_BY_DIMENSION = {
    "scale": "cc_gp_scale",
    "specialisation": "cc_gp_spec",
    "growth": "cc_gp_growth",
    "diversity": "cc_gp_divers",
    "significance": "cc_gp_signif",
}
CLASSES = ("Very low", "Low", "Medium", "High", "Very high")


@dataclass
class GrowthPotentialResult:
    table: pd.DataFrame  # cc_gp_<dimension> (0-100), cc_gp_score, cc_gp_rank, cc_gp_class
    used: dict  # dimension -> description of the indicator used
    warnings: list = field(default_factory=list)


def herfindahl(counts: np.ndarray) -> np.ndarray:
    """Herfindahl index Σ s_k² of the shares in each row of ``counts`` (NaN when a row sums to 0)."""
    counts = np.asarray(counts, dtype=float)
    totals = counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = counts / totals[:, None]
    out = np.sum(shares**2, axis=1)
    return np.where(totals > 0, out, np.nan)


def _rankdata(values, method):
    """scipy.stats's ranks (imported when first needed: scipy.stats takes a fifth of a second to import, which
    every QGIS start and every ``qgis_process`` call would otherwise pay)."""
    from scipy.stats import rankdata

    return rankdata(values, method=method)


def normalise(values: np.ndarray, method: str = "rank") -> np.ndarray:
    """Scale finite ``values`` to 0–100 (NaN stays NaN)."""
    values = np.asarray(values, dtype=float)
    out = np.full(values.shape, np.nan)
    finite = np.isfinite(values)
    x = values[finite]
    if x.size == 0:
        return out
    if method == "rank":
        out[finite] = 100.0 * (_rankdata(x, "average") - 1) / max(x.size - 1, 1) if x.size > 1 else 50.0
    elif method == "minmax":
        span = x.max() - x.min()
        out[finite] = 100.0 * (x - x.min()) / span if span > 0 else 50.0
    elif method == "zscore":
        sd = x.std()
        out[finite] = np.clip(50.0 + 10.0 * (x - x.mean()) / sd, 0, 100) if sd > 0 else 50.0
    else:
        raise CreativeClustersError(f"Unknown normalisation '{method}' (use rank, minmax or zscore).")
    return out


def _first(frame: pd.DataFrame, names):
    import pandas as pd

    for name in names:
        if name in frame.columns:
            return name, pd.to_numeric(frame[name], errors="coerce").to_numpy(float)
    return None, None


def indicators(frame: pd.DataFrame) -> tuple[dict, dict]:
    """Raw indicator per dimension from the fields present in ``frame``; returns (values, descriptions)."""
    import pandas as pd

    values, used = {}, {}
    name, x = _first(frame, ("n_creative", "n_firms"))
    if x is not None:
        values["scale"], used["scale"] = np.log1p(np.clip(x, 0, None)), f"log(1 + {name})"
    name, x = _first(frame, ("lq_creative", "lq", "lq_creative_t1"))
    if x is not None:
        values["specialisation"], used["specialisation"] = x, name
    name, x = _first(frame, ("dlq_creative", "recent_share", "born_3y_share"))
    if x is not None:
        values["growth"], used["growth"] = x, name
    sub_counts = [f"n_{code}" for code in SUBSECTORS]
    if all(c in frame.columns for c in sub_counts):
        counts = frame[sub_counts].apply(pd.to_numeric, errors="coerce").fillna(0).to_numpy(float)
        diversity = 1.0 - herfindahl(counts)
        description = "1 − Herfindahl of the nine sub-sector counts"
        co = [c for c in ("lq_hightech", "lq_kibs") if c in frame.columns]
        if co:
            colocation = _row_mean(np.clip(frame[co].apply(pd.to_numeric, errors="coerce").to_numpy(float), 0, 3)) / 3.0
            diversity = _row_mean(np.column_stack([diversity, colocation]))
            description += f", averaged with co-location ({', '.join(co)} capped at 3, /3)"
        values["diversity"], used["diversity"] = diversity, description
    elif "herfindahl" in frame.columns:
        values["diversity"], used["diversity"] = 1.0 - pd.to_numeric(frame["herfindahl"], errors="coerce").to_numpy(float), "1 − herfindahl"
    name, x = _first(frame, ("GiZScore",))
    if x is not None:
        values["significance"], used["significance"] = np.clip(x, -3.29, 3.29), "GiZScore (capped at ±3.29)"
    return values, used


def growth_potential(frame: pd.DataFrame, weights: dict | None = None, method: str = "rank") -> GrowthPotentialResult:
    """Score every row of ``frame`` (areas or clusters); see the module docstring."""
    import pandas as pd

    if len(frame) == 0:
        raise CreativeClustersError("The input has no features to score.")
    weights = {d: 1.0 for d in DIMENSIONS} | dict(weights or {})
    if any(w < 0 for w in weights.values()):
        raise CreativeClustersError("Indicator weights cannot be negative.")
    values, used = indicators(frame)
    warnings = []
    for dimension in DIMENSIONS:
        if dimension not in values and weights.get(dimension, 0) > 0:
            warnings.append(f"No field for the '{dimension}' dimension: it is left out and the weights renormalised.")
    table = pd.DataFrame(index=frame.index)
    total_weight = 0.0
    score = np.zeros(len(frame))
    for dimension in DIMENSIONS:
        if dimension not in values:
            continue
        raw = values[dimension]
        if not np.isfinite(raw).any():
            warnings.append(f"The '{dimension}' indicator ({used[dimension]}) has no value: it is left out.")
            used.pop(dimension)
            continue
        missing = ~np.isfinite(raw)
        if missing.any():
            warnings.append(f"{int(missing.sum())} NULL value(s) of {used[dimension]} replaced by its median.")
            raw = np.where(missing, np.nanmedian(raw), raw)
        scaled = normalise(raw, method)
        table[FIELD_BY_DIMENSION[dimension]] = scaled
        weight = float(weights.get(dimension, 0.0))
        score += weight * scaled
        total_weight += weight
    if total_weight <= 0:
        raise CreativeClustersError(
            "No usable indicator with a positive weight: the input needs fields such as n_creative, "
            "lq_creative, dlq_creative, n_<sub-sector> or GiZScore (run 'Location quotients by area' first)."
        )
    score /= total_weight
    table["cc_gp_score"] = score
    table["cc_gp_rank"] = _rankdata(-score, "min").astype(int)
    quintile = np.minimum((normalise(score, "rank") / 20.0).astype(int), 4) if len(score) > 1 else np.array([2])
    table["cc_gp_class"] = [CLASSES[q] for q in quintile]
    return GrowthPotentialResult(table=table, used=used, warnings=warnings)


def _row_mean(values: np.ndarray) -> np.ndarray:
    """Mean of each row ignoring NaN; NaN (no warning) for a row with no value."""
    present = ~np.isnan(values)
    counts = present.sum(axis=1)
    sums = np.where(present, values, 0.0).sum(axis=1)
    out = np.full(len(values), np.nan)
    np.divide(sums, counts, out=out, where=counts > 0)
    return out
