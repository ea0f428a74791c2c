"""Emerging Hot Spot Analysis: where firm clusters are new, growing, fading or gone over time.

This follows ArcGIS Pro's *Space Time Pattern Mining > Emerging Hot Spot Analysis* ("How Emerging Hot Spot
Analysis works", ArcGIS Pro documentation). The input is a space-time cube: one row per location (a fishnet
cell or an area) and one column per time step (for example one year), each bin holding a number of firms.

1. Space-time hot spots (Getis–Ord Gi*)
---------------------------------------
For every bin (location ``i``, step ``t``) the neighbours are all locations within the neighbourhood
``distance`` of ``i`` (``i`` itself included) at step ``t`` and the ``time_window − 1`` steps before it (no
future steps; steps before the first do not exist, so early steps have smaller neighbourhoods). Every
neighbour counts once (binary weights). Gi* is the general ArcGIS form::

    Gi* = (Σ w x − x̄ Σ w) / ( S · sqrt( (n Σ w² − (Σ w)²) / (n − 1) ) )

where ``x̄`` and ``S`` (population standard deviation) are taken over *all* bins of the cube and ``n`` is the
number of bins (locations × steps). Gi* is a z-score; its p-value is two-sided from the normal distribution.
A bin is a **hot spot** when z > 0 and p ≤ α, a **cold spot** when z < 0 and p ≤ α; with the false discovery
rate option the Benjamini–Hochberg procedure is applied to each time step separately instead of p ≤ α.

2. Trends (Mann–Kendall)
------------------------
Each location's series is tested for a monotonic trend: ``S = Σ_{a<b} sign(x_b − x_a)``,
``Var(S) = [n(n−1)(2n+5) − Σ_ties t(t−1)(2t+5)] / 18``, ``Z = (S − 1)/√Var`` when S > 0, ``(S + 1)/√Var``
when S < 0, 0 otherwise, p two-sided from the normal (no variance: Z = 0, p = 1). ``TREND_Z``/``TREND_P`` test
the counts; ``HS_TREND_Z``/``HS_TREND_P`` test the Gi* z-scores, which is the trend the categories use.

3. Categories (one per location)
--------------------------------
"90 %" means at least 90 % of all time steps (with fewer than 10 steps: every step). A significant trend is
the Gi* z trend with p ≤ α.

* The location is a hot spot at the **final step**:

  - hot in ≥ 90 % of the steps: **Intensifying** (z trend significantly up), **Diminishing** (significantly
    down), otherwise **Persistent**;
  - else, a cold spot at some earlier step: **Oscillating**;
  - else, hot only at the final step: **New**;
  - else, hot in one unbroken run of at least two steps ending at the final step: **Consecutive**;
  - else (hot on and off): **Sporadic**.

* A cold spot at the final step: the same rules with hot and cold swapped. For cold spots "Intensifying"
  means getting colder (z trend significantly *down*) and "Diminishing" getting less cold (trend up).
* Neither hot nor cold at the final step: **Historical Hot Spot** when hot in ≥ 90 % of the steps,
  **Historical Cold Spot** when cold in ≥ 90 %, otherwise **No Pattern Detected**.

Where ArcGIS's definitions overlap we chose this order: a location that was once a cold spot and is now
a hot spot is **Oscillating** even if it was never hot before (the cold history is the more telling fact);
the final step decides whether a location is read as a hot or a cold pattern.

``CATEGORY`` codes: 1 New, 2 Consecutive, 3 Intensifying, 4 Persistent, 5 Diminishing, 6 Sporadic,
7 Oscillating, 8 Historical; negative for the same cold spot patterns; 0 no pattern.

No QGIS import: numpy and scipy only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from ..errors import CreativeClustersError, check_callback
from .significance import significant, two_sided_p
from .weights import distance_band_weights, min_connecting_distance

MIN_LOCATIONS = 3
MIN_STEPS = 2
#: ArcGIS's advice for a meaningful trend test; fewer steps only give a warning.
RECOMMENDED_STEPS = 10

NO_PATTERN = 0
NEW, CONSECUTIVE, INTENSIFYING, PERSISTENT, DIMINISHING, SPORADIC, OSCILLATING, HISTORICAL = range(1, 9)
_PATTERN_WORDS = ("New", "Consecutive", "Intensifying", "Persistent", "Diminishing", "Sporadic",
                  "Oscillating", "Historical")
#: ``CATEGORY`` code → ``PATTERN`` text (ArcGIS Pro's names).
PATTERN_NAMES = {NO_PATTERN: "No Pattern Detected"}
PATTERN_NAMES.update({code: f"{word} Hot Spot" for code, word in enumerate(_PATTERN_WORDS, start=1)})
PATTERN_NAMES.update({-code: f"{word} Cold Spot" for code, word in enumerate(_PATTERN_WORDS, start=1)})


@dataclass(frozen=True)
class EmergingHotSpotResult:
    """Per-location patterns and trends, and the per-bin Gi* of the cube.

    Attributes
    ----------
    pattern : ndarray (n,) of str (object)
        ``PATTERN`` text, e.g. "Intensifying Hot Spot", "No Pattern Detected".
    category : ndarray (n,) int
        ``CATEGORY`` code: 1–8 hot spot patterns, −1…−8 the cold spot ones, 0 none.
    trend_z, trend_p : ndarray (n,)
        Mann–Kendall trend of the counts (z with continuity correction, two-sided p).
    hs_trend_z, hs_trend_p : ndarray (n,)
        Mann–Kendall trend of the Gi* z-scores (NaN if a bin's Gi* is undefined).
    n_hot, n_cold : ndarray (n,) int
        Number of time steps the location is a significant hot / cold spot.
    n_neighbors : ndarray (n,) int
        Locations within the distance, the location itself excluded.
    gi_z, gi_p : ndarray (n, steps)
        Space-time Gi* z-score and two-sided p-value of every bin (NaN where undefined).
    hot_cold : ndarray (n, steps) int8
        +1 significant hot spot bin, −1 cold spot bin, 0 neither.
    last_z : ndarray (n,)
        ``gi_z[:, -1]``, the Gi* z-score of the final step.
    warnings : list of str
        Messages for the log.
    """

    pattern: np.ndarray
    category: np.ndarray
    trend_z: np.ndarray
    trend_p: np.ndarray
    hs_trend_z: np.ndarray
    hs_trend_p: np.ndarray
    n_hot: np.ndarray
    n_cold: np.ndarray
    n_neighbors: np.ndarray
    gi_z: np.ndarray
    gi_p: np.ndarray
    hot_cold: np.ndarray
    last_z: np.ndarray
    warnings: list = field(default_factory=list)


# --------------------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------------------
def validate_cube(xy, counts) -> tuple[np.ndarray, np.ndarray]:
    """``(xy, counts)`` as float arrays of shape (n, 2) and (n, steps), or a clear error."""
    arr = np.asarray(xy, dtype=np.float64)
    cube = np.asarray(counts, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise CreativeClustersError("Location coordinates must be an (n, 2) array of x, y in a projected CRS.")
    if cube.ndim != 2 or cube.shape[0] != arr.shape[0]:
        raise CreativeClustersError(
            f"The counts must be a table with one row per location ({arr.shape[0]} locations) and one column per "
            f"time step; got shape {cube.shape}."
        )
    n, steps = cube.shape
    if steps < MIN_STEPS:
        raise CreativeClustersError(
            f"Emerging Hot Spot Analysis needs at least {MIN_STEPS} time steps; got {steps}. Use shorter time steps."
        )
    if n < MIN_LOCATIONS:
        raise CreativeClustersError(
            f"Emerging Hot Spot Analysis needs at least {MIN_LOCATIONS} locations; got {n}."
        )
    if not np.all(np.isfinite(arr[:, :2])):
        raise CreativeClustersError("Some locations have no valid coordinates (NULL or empty geometry).")
    bad = int((~np.isfinite(cube)).sum())
    if bad:
        raise CreativeClustersError(f"{bad} bin(s) of the space-time cube have no numeric count (NULL or NaN).")
    if np.ptp(cube) <= 1e-12 * max(float(np.abs(cube).max()), 1e-300):
        raise CreativeClustersError(
            f"Every bin of the space-time cube has the same count ({cube.flat[0]:g}); hot spots are undefined "
            "without variation."
        )
    return np.ascontiguousarray(arr[:, :2]), cube


def _validate_options(distance: float, time_window: int, alpha: float) -> tuple[float, int, float]:
    distance = float(distance)
    if not np.isfinite(distance) or distance <= 0:
        raise CreativeClustersError(
            f"The neighbourhood distance must be a positive number of metres; got {distance:g}."
        )
    if int(time_window) != time_window or time_window < 1:
        raise CreativeClustersError(
            f"The neighbourhood time window must be a whole number of time steps, at least 1; got {time_window}."
        )
    alpha = float(alpha)
    if not 0 < alpha < 1:
        raise CreativeClustersError(f"The significance level must be between 0 and 1; got {alpha:g}.")
    return distance, int(time_window), alpha


# --------------------------------------------------------------------------------------------------
# space-time Gi*
# --------------------------------------------------------------------------------------------------
def spatial_neighbours(xy: np.ndarray, distance: float) -> tuple[sparse.csr_matrix, list]:
    """Binary distance-band matrix (zero diagonal) and warnings about coincident or lone locations."""
    weights = distance_band_weights(xy, distance)
    # the generic island message says results are left empty; here the location's own bins still count
    warnings = [w for w in weights.warnings if "no neighbour with these weights" not in w]
    lone = int(weights.islands.sum())
    if lone:
        warnings.append(
            f"{lone} location(s) have no other location within {distance:,.0f} m: their hot spot statistic uses "
            "only their own counts over the time window. Use a larger distance to give them neighbours."
        )
    return weights.matrix, warnings


def window_sum(values: np.ndarray, time_window: int) -> np.ndarray:
    """Sum of each row over step ``t`` and the ``time_window − 1`` steps before it (a trailing moving sum).

    Added shift by shift rather than by differences of a cumulative sum, so equal inputs give exactly equal
    sums (ties in the z series stay ties for the trend test).
    """
    total = values.copy()
    for lag in range(1, min(time_window, values.shape[1])):
        total[:, lag:] += values[:, :-lag]
    return total


def space_time_gi_star(counts: np.ndarray, neighbours: sparse.csr_matrix, time_window: int) -> np.ndarray:
    """Gi* z-score of every bin (n, steps); NaN where every bin of the cube is a neighbour (undefined).

    ``neighbours`` is the binary spatial matrix without the diagonal; the location itself is added here.
    """
    n_bins = counts.size
    mean = counts.mean()
    centred = counts - mean
    s = np.sqrt(np.mean(centred**2))  # population standard deviation over the whole cube, as ArcGIS
    numerator = window_sum(neighbours @ centred + centred, time_window)  # Σ w (x − x̄) = Σ w x − x̄ Σ w
    spatial_count = np.diff(neighbours.indptr).astype(np.float64) + 1.0
    steps_in_window = np.minimum(np.arange(counts.shape[1]) + 1, time_window).astype(np.float64)
    w_sum = spatial_count[:, None] * steps_in_window[None, :]  # binary weights: Σ w² = Σ w
    spread = (n_bins * w_sum - w_sum**2) / (n_bins - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = numerator / (s * np.sqrt(spread))
    z[~(spread > 1e-12 * w_sum**2)] = np.nan
    return z


def hot_cold_bins(z: np.ndarray, p: np.ndarray, alpha: float, fdr: bool) -> np.ndarray:
    """+1 significant hot spot, −1 cold spot, 0 neither; with ``fdr`` Benjamini–Hochberg per time step."""
    if fdr:
        mask = np.column_stack([significant(p[:, t], alpha, fdr=True) for t in range(p.shape[1])])
    else:
        mask = significant(p, alpha)
    state = np.zeros(z.shape, dtype=np.int8)
    state[mask & (z > 0)] = 1
    state[mask & (z < 0)] = -1
    return state


# --------------------------------------------------------------------------------------------------
# Mann–Kendall
# --------------------------------------------------------------------------------------------------
def mann_kendall(series) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mann–Kendall trend test of each row: ``(S, Var(S), Z, p)``.

    ``S = Σ_{a<b} sign(x_b − x_a)``; ``Var(S) = [n(n−1)(2n+5) − Σ_ties t(t−1)(2t+5)] / 18`` with ``t`` the size
    of each group of tied values; ``Z = (S − sign(S)) / √Var(S)`` (continuity correction), 0 when S = 0 or
    Var(S) = 0; ``p = 2 Φ(−|Z|)`` (1 when Var(S) = 0). Rows holding NaN give NaN.

    Parameters
    ----------
    series : array-like (rows, n) or (n,)
        One series per row, in time order.
    """
    x = np.atleast_2d(np.asarray(series, dtype=np.float64))
    rows, n = x.shape
    s = np.zeros(rows)
    equal = np.ones((rows, n))  # per value: how many values in its row equal it (itself included)
    for a in range(n - 1):
        later = x[:, a + 1:]
        s += np.sign(later - x[:, a:a + 1]).sum(axis=1)
        same = later == x[:, a:a + 1]
        equal[:, a] += same.sum(axis=1)
        equal[:, a + 1:] += same
    # a tie group of size t holds t values with equal = t: Σ_values (e−1)(2e+5) = Σ_groups t(t−1)(2t+5)
    ties = ((equal - 1) * (2 * equal + 5)).sum(axis=1)
    var = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(var > 0, (s - np.sign(s)) / np.sqrt(var), 0.0)
    p = np.where(var > 0, two_sided_p(z), 1.0)
    missing = ~np.all(np.isfinite(x), axis=1)
    s[missing] = var[missing] = z[missing] = p[missing] = np.nan
    return s, var, z, p


# --------------------------------------------------------------------------------------------------
# categories
# --------------------------------------------------------------------------------------------------
def _final_run_length(flags: np.ndarray) -> np.ndarray:
    """Length of the run of True values ending at the last column of each row."""
    return np.cumprod(flags[:, ::-1], axis=1).sum(axis=1)


def _one_side_categories(same: np.ndarray, other: np.ndarray, trend_up: np.ndarray, trend_down: np.ndarray):
    """Codes 1–7 for rows whose final bin is in ``same`` (hot or cold), 0 elsewhere.

    ``trend_up`` means "getting stronger" on this side (z rising for hot spots, falling for cold spots).
    """
    steps = same.shape[1]
    n_same = same.sum(axis=1)
    mostly = 10 * n_same >= 9 * steps  # at least 90 % of the steps, in integers (no rounding)
    run = _final_run_length(same)
    conditions = [
        mostly & trend_up,
        mostly & trend_down,
        mostly,
        other.any(axis=1),
        n_same == 1,
        (run >= 2) & (run == n_same),
    ]
    codes = [INTENSIFYING, DIMINISHING, PERSISTENT, OSCILLATING, NEW, CONSECUTIVE]
    return np.where(same[:, -1], np.select(conditions, codes, default=SPORADIC), NO_PATTERN)


def classify_patterns(state: np.ndarray, hs_trend_z, hs_trend_p, alpha: float) -> np.ndarray:
    """``CATEGORY`` code of each location from its hot/cold bins (+1/−1/0) and the trend of its Gi* z."""
    hot, cold = state > 0, state < 0
    steps = state.shape[1]
    with np.errstate(invalid="ignore"):
        trend = np.isfinite(hs_trend_p) & (hs_trend_p <= alpha)
        rising, falling = trend & (hs_trend_z > 0), trend & (hs_trend_z < 0)
    hot_codes = _one_side_categories(hot, cold, rising, falling)
    cold_codes = _one_side_categories(cold, hot, falling, rising)
    # final step neither hot nor cold: only "historical" (≥ 90 % of the steps hot, or cold) is possible
    historical = np.select(
        [10 * hot.sum(axis=1) >= 9 * steps, 10 * cold.sum(axis=1) >= 9 * steps], [HISTORICAL, -HISTORICAL], 0
    )
    return np.where(hot[:, -1], hot_codes, np.where(cold[:, -1], -cold_codes, historical))


def pattern_names(category: np.ndarray) -> np.ndarray:
    """``PATTERN`` text for each ``CATEGORY`` code (object array of str)."""
    lookup = np.array([PATTERN_NAMES[c] for c in range(-HISTORICAL, HISTORICAL + 1)], dtype=object)
    return lookup[np.asarray(category, dtype=np.int64) + HISTORICAL]


# --------------------------------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------------------------------
def emerging_hotspots(
    xy, counts, distance: float, time_window: int = 1, alpha: float = 0.05, fdr: bool = False, callback=None
) -> EmergingHotSpotResult:
    """Emerging Hot Spot Analysis of a space-time cube of counts (see the module docstring for the rules).

    Parameters
    ----------
    xy : array-like (n, 2)
        Location coordinates in metres (fishnet cell centres or area centroids), one row per location.
    counts : array-like (n, steps)
        Count of each location at each time step, oldest step first.
    distance : float
        Neighbourhood distance in metres (> 0): locations at most this far apart are neighbours.
    time_window : int
        Time steps in a bin's neighbourhood: its own step and the ``time_window − 1`` before it (1 = none).
    alpha : float
        Significance level for hot/cold bins and for the Gi* z trend.
    fdr : bool
        Benjamini–Hochberg false discovery rate correction of the bins, per time step.
    callback : callable, optional
        ``callback(fraction) -> cancelled`` for progress; cancelling raises :class:`.errors.CancelledError`.
    """
    xy, cube = validate_cube(xy, counts)
    distance, time_window, alpha = _validate_options(distance, time_window, alpha)
    check_callback(callback, 0.0)
    warnings = []
    if cube.shape[1] < RECOMMENDED_STEPS:
        warnings.append(
            f"Only {cube.shape[1]} time steps: with fewer than {RECOMMENDED_STEPS} the trend test has little power "
            "and the 90 % rules (persistent, intensifying, diminishing, historical) need every step."
        )
    neighbours, neighbour_warnings = spatial_neighbours(xy, distance)
    warnings += neighbour_warnings
    check_callback(callback, 0.3)
    gi_z = space_time_gi_star(cube, neighbours, time_window)
    undefined = int(np.isnan(gi_z).sum())
    if undefined:
        warnings.append(
            f"{undefined} bin(s) have every bin of the cube as a neighbour, so their hot spot statistic is undefined "
            "(NULL); use a smaller distance or time window."
        )
    gi_p = two_sided_p(gi_z)
    state = hot_cold_bins(gi_z, gi_p, alpha, fdr)
    check_callback(callback, 0.6)
    _, _, trend_z, trend_p = mann_kendall(cube)
    _, _, hs_trend_z, hs_trend_p = mann_kendall(gi_z)
    check_callback(callback, 0.85)
    category = classify_patterns(state, hs_trend_z, hs_trend_p, alpha)
    check_callback(callback, 1.0)
    return EmergingHotSpotResult(
        pattern=pattern_names(category),
        category=category.astype(np.int64),
        trend_z=trend_z,
        trend_p=trend_p,
        hs_trend_z=hs_trend_z,
        hs_trend_p=hs_trend_p,
        n_hot=(state > 0).sum(axis=1).astype(np.int64),
        n_cold=(state < 0).sum(axis=1).astype(np.int64),
        n_neighbors=np.diff(neighbours.indptr).astype(np.int64),
        gi_z=gi_z,
        gi_p=gi_p,
        hot_cold=state,
        last_z=gi_z[:, -1].copy(),
        warnings=warnings,
    )


# --------------------------------------------------------------------------------------------------
# helpers for the adapter: firms' dates → time steps → cube
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TimeSteps:
    """Time step of each firm and the steps' calendar.

    Attributes
    ----------
    index : ndarray (firms,) int64
        Time step of each firm, −1 when its date is missing or outside ``[start, end]``.
    step_starts, step_ends : ndarray (steps,) datetime64[D]
        First day of each step, and the first day of the next one (exclusive end).
    n_missing : int
        Firms without a date (NaT / NaN), dropped.
    n_out_of_range : int
        Firms dated before ``start`` or after ``end``, dropped.
    warnings : list of str
        Messages for the log (an incomplete final step).
    """

    index: np.ndarray
    step_starts: np.ndarray
    step_ends: np.ndarray
    n_missing: int
    n_out_of_range: int
    warnings: list = field(default_factory=list)


def as_dates(values) -> np.ndarray:
    """``datetime64[D]`` array from dates (datetime64, ISO strings, date objects) or decimal years (2015.5)."""
    arr = np.asarray(values)
    if arr.dtype.kind in "fiu":
        years = arr.astype(np.float64)
        whole = np.floor(np.nan_to_num(years, nan=1970.0))
        first = (whole - 1970).astype(np.int64).astype("datetime64[Y]")
        length = ((first + 1).astype("datetime64[D]") - first.astype("datetime64[D]")).astype(np.float64)
        days = np.floor((np.nan_to_num(years, nan=1970.0) - whole) * length).astype(np.int64)
        dates = first.astype("datetime64[D]") + days
        return np.where(np.isnan(years), np.datetime64("NaT", "D"), dates)
    try:
        return arr.astype("datetime64[D]")
    except (TypeError, ValueError) as error:
        raise CreativeClustersError(f"Cannot read the dates as calendar dates or years: {error}") from error


def _step_boundaries(start: np.datetime64, end: np.datetime64, months: int) -> np.ndarray:
    """Step start days from ``start`` every ``months`` months, through the first one after ``end``."""
    first_month = start.astype("datetime64[M]")
    day_offset = start - first_month.astype("datetime64[D]")
    span = int((end.astype("datetime64[M]") - first_month).astype(np.int64))
    k = np.arange(span // months + 3)
    bounds = (first_month + k * months).astype("datetime64[D]") + day_offset
    return bounds[: int(np.searchsorted(bounds, end, side="right")) + 1]


def step_months(step_years: float) -> int:
    """A time step of ``step_years`` years as a whole number of months; a clear error otherwise."""
    months = float(step_years) * 12
    if not np.isfinite(months) or months < 1 or abs(months - round(months)) > 1e-9:
        raise CreativeClustersError(
            f"The time step must be a whole number of months (e.g. 1 year, 0.25 for quarters); got {step_years} years."
        )
    return int(round(months))


def start_of_steps_ending_on(end, step_years: float, n_steps: int) -> np.datetime64:
    """First day of ``n_steps`` whole steps whose last one ends on ``end`` (ArcGIS aligns steps to the end time)."""
    after = as_dates(end).reshape(()) + np.timedelta64(1, "D")
    month = after.astype("datetime64[M]")
    return (month - n_steps * step_months(step_years)).astype("datetime64[D]") + (after - month.astype("datetime64[D]"))


def neighbourhood_distance(centres, cell_size: float | None = None) -> tuple[float, str]:
    """The automatic space neighbourhood: the eight surrounding cells of a fishnet (√2 × cell size), else the
    smallest distance that gives every location a neighbour. Returns the distance and how it was chosen."""
    if cell_size is not None:
        return float(np.sqrt(2.0) * cell_size * (1 + 1e-9)), "the eight surrounding cells"
    if len(centres) < 2:
        raise CreativeClustersError("At least two areas with a geometry are needed.")
    return min_connecting_distance(centres) * (1 + 1e-9), "the smallest that gives every area a neighbour"


def time_steps(dates, step_years: float, start=None, end=None) -> TimeSteps:
    """Map each firm's date to a time step of ``step_years`` years (a whole number of months).

    Parameters
    ----------
    dates : array-like
        ``datetime64`` dates (NaT allowed), ISO strings, or decimal years (NaN allowed).
    step_years : float
        Step length in years: 1 (yearly), 2, 0.25 (quarterly)... ``step_years × 12`` must be whole.
    start, end : date-like or decimal year, optional
        First day of the first step (default: 1 January of the earliest date's year) and last day analysed
        (default: the latest date). Firms outside are dropped and counted.
    """
    months = step_months(step_years)
    day = as_dates(dates).ravel()
    present = ~np.isnat(day)
    if not present.any():
        raise CreativeClustersError("No firm has a valid date, so no time steps can be built.")
    if start is None:  # 1 January of the earliest date's year
        first = day[present].min().astype("datetime64[Y]").astype("datetime64[D]")
    else:
        first = as_dates(start).reshape(())
    last = as_dates(end).reshape(()) if end is not None else day[present].max()
    if np.isnat(first) or np.isnat(last) or last < first:
        raise CreativeClustersError(f"The analysis period is empty or invalid (start {first}, end {last}).")
    bounds = _step_boundaries(first, last, months)
    inside = present & (day >= first) & (day <= last)
    index = np.full(day.shape, -1, dtype=np.int64)
    index[inside] = np.searchsorted(bounds, day[inside], side="right") - 1
    warnings = []
    covered = (last - bounds[-2]).astype(np.int64) + 1
    length = (bounds[-1] - bounds[-2]).astype(np.int64)
    if covered < length:
        warnings.append(
            f"The last time step ({bounds[-2]} to {bounds[-1] - np.timedelta64(1, 'D')}) is only "
            f"{100 * covered / length:.0f} % covered by the data (end {last}): its counts are incomplete, which "
            "biases the final step the patterns depend on. Set the end date or the step length so the last step is "
            "complete."
        )
    return TimeSteps(index, bounds[:-1], bounds[1:], int((~present).sum()), int((present & ~inside).sum()), warnings)


def count_cube(location_index, step_index, n_locations: int, n_steps: int) -> np.ndarray:
    """Counts per (location, step) as a float array (n_locations, n_steps); index −1 means "not counted"."""
    loc = np.asarray(location_index, dtype=np.int64).ravel()
    step = np.asarray(step_index, dtype=np.int64).ravel()
    if loc.shape != step.shape:
        raise CreativeClustersError("Location and time step indices must have one entry per firm.")
    keep = (loc >= 0) & (step >= 0)
    if np.any(loc[keep] >= n_locations) or np.any(step[keep] >= n_steps):
        raise CreativeClustersError("A location or time step index is beyond the cube's size.")
    flat = np.bincount(loc[keep] * n_steps + step[keep], minlength=n_locations * n_steps)
    return flat.reshape(n_locations, n_steps).astype(np.float64)


__all__ = [
    "EmergingHotSpotResult",
    "PATTERN_NAMES",
    "TimeSteps",
    "as_dates",
    "classify_patterns",
    "count_cube",
    "emerging_hotspots",
    "hot_cold_bins",
    "mann_kendall",
    "neighbourhood_distance",
    "start_of_steps_ending_on",
    "step_months",
    "pattern_names",
    "space_time_gi_star",
    "time_steps",
    "window_sum",
]
