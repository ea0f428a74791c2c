"""Emerging Hot Spot Analysis against independent references.

* Mann–Kendall: S and Var(S) against scipy's Kendall tau-b (series vs time), and hand-worked series.
* Space-time Gi*: a brute-force loop over bins written here, and the project's spatial Gi* run on the
  flattened cube with an explicit space-time weights matrix.
* Categories: hand-made hot/cold sequences read against ArcGIS Pro's definitions, and patterns planted in a
  Poisson background that the whole pipeline must recover.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse, stats

from creative_clusters_plugin.core.autocorrelation.emerging_hotspots import (
    PATTERN_NAMES,
    classify_patterns,
    count_cube,
    emerging_hotspots,
    mann_kendall,
    pattern_names,
    time_steps,
)
from creative_clusters_plugin.core.errors import CancelledError, CreativeClustersError
from creative_clusters_plugin.core.autocorrelation.getis_ord import gi_star


# --------------------------------------------------------------------------------------------------
# Mann–Kendall
# --------------------------------------------------------------------------------------------------
def test_mann_kendall_hand_worked():
    s, var, z, p = mann_kendall([[1, 2, 3, 4, 5], [5, 4, 3, 2, 1], [1, 1, 2, 2, 3], [7, 7, 7, 7, 7]])
    # increasing: every one of the 10 pairs rises; no ties
    assert s[0] == 10 and var[0] == pytest.approx(5 * 4 * 15 / 18)
    assert z[0] == pytest.approx(9 / np.sqrt(300 / 18))
    assert p[0] == pytest.approx(0.027486, abs=1e-5)  # 2 Φ(−2.2045)
    assert s[1] == -10 and z[1] == pytest.approx(-9 / np.sqrt(300 / 18)) and p[1] == pytest.approx(p[0])
    # 1 1 2 2 3: rises 3 + 3 + 1 + 1 = 8, two tie groups of 2 each remove 2·1·9 = 18
    assert s[2] == 8 and var[2] == pytest.approx((300 - 36) / 18)
    assert z[2] == pytest.approx(7 / np.sqrt(264 / 18))
    # constant: no variance → Z 0, p 1
    assert s[3] == 0 and var[3] == 0 and z[3] == 0 and p[3] == 1


def test_mann_kendall_one_series_and_zero_s():
    s, var, z, p = mann_kendall([1.0, 3.0, 2.0])  # +1 +1 −1 = 1 → Z = 0 after continuity correction
    assert s.shape == (1,) and s[0] == 1 and z[0] == 0 and p[0] == 1
    s, var, z, p = mann_kendall([[2.0, 1.0, 1.0, 2.0]])  # −1 −1 0 0 +1 +1 = 0
    assert s[0] == 0 and z[0] == 0 and var[0] > 0


@pytest.mark.parametrize("n", [4, 7, 10, 15])
@pytest.mark.parametrize("tied", [False, True])
def test_mann_kendall_matches_kendall_tau_b(n, tied):
    rng = np.random.default_rng(n + 100 * tied)
    series = rng.integers(0, 4, (30, n)).astype(float) if tied else rng.normal(size=(30, n))
    series[0] = np.arange(n)  # a perfect trend among them
    s, var, z, p = mann_kendall(series)
    n0 = n * (n - 1) / 2
    for k, row in enumerate(series):
        if np.ptp(row) == 0:
            continue
        tau = stats.kendalltau(np.arange(n), row, variant="b", method="asymptotic")
        _, group_sizes = np.unique(row, return_counts=True)
        x_ties = float((group_sizes * (group_sizes - 1) / 2).sum())
        assert s[k] == pytest.approx(tau.statistic * np.sqrt(n0 * (n0 - x_ties)), abs=1e-9)
        # scipy's asymptotic z (no continuity correction) is S / sqrt(Var(S)), tie correction included
        scipy_z = np.sign(tau.statistic) * stats.norm.isf(tau.pvalue / 2)
        if tau.pvalue > 1e-12:
            assert s[k] / np.sqrt(var[k]) == pytest.approx(scipy_z, rel=1e-7, abs=1e-9)
        expected_z = (s[k] - np.sign(s[k])) / np.sqrt(var[k])
        assert z[k] == pytest.approx(expected_z)
        assert p[k] == pytest.approx(2 * stats.norm.sf(abs(expected_z)))


# --------------------------------------------------------------------------------------------------
# space-time Gi*
# --------------------------------------------------------------------------------------------------
TINY_XY = np.array([[0, 0], [100, 0], [0, 100], [250, 250], [120, 90], [1000, 1000]], dtype=float)


def brute_force_gi(xy, counts, distance, window):
    """ArcGIS's Gi* for each bin with explicit loops over the space-time neighbourhood."""
    n_loc, steps = counts.shape
    values = counts.ravel()
    n = values.size
    mean = values.sum() / n
    s = np.sqrt((values**2).sum() / n - mean**2)
    z = np.empty(counts.shape)
    for i in range(n_loc):
        for t in range(steps):
            sum_wx = sum_w = sum_w2 = 0.0
            for j in range(n_loc):
                if np.hypot(*(xy[i] - xy[j])) > distance:
                    continue
                for u in range(max(0, t - window + 1), t + 1):
                    sum_wx += counts[j, u]
                    sum_w += 1.0
                    sum_w2 += 1.0
            z[i, t] = (sum_wx - mean * sum_w) / (s * np.sqrt((n * sum_w2 - sum_w**2) / (n - 1)))
    return z


@pytest.mark.parametrize("window", [1, 2, 3, 6])
def test_gi_star_brute_force(window):
    counts = np.random.default_rng(window).poisson(4, (len(TINY_XY), 5)).astype(float)
    result = emerging_hotspots(TINY_XY, counts, distance=160, time_window=window)
    expected = brute_force_gi(TINY_XY, counts, 160, window)
    np.testing.assert_allclose(result.gi_z, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(result.gi_p, 2 * stats.norm.sf(np.abs(expected)), rtol=1e-9)
    np.testing.assert_array_equal(result.last_z, result.gi_z[:, -1])
    np.testing.assert_array_equal(result.n_neighbors, [3, 3, 3, 0, 3, 0])  # 0, 1, 2, 4 within 160 m
    assert any("2 location(s) have no other location" in w for w in result.warnings)


@pytest.mark.parametrize("window", [1, 2])
def test_gi_star_equals_spatial_gi_on_space_time_weights(window):
    """The project's spatial Gi*, run on all bins with an explicit (location, step) weights matrix."""
    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 2000, (40, 2))
    counts = rng.poisson(3, (40, 6)).astype(float)
    space = (np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) <= 500).astype(float)
    lag = np.subtract.outer(np.arange(6), np.arange(6))
    time = ((lag >= 0) & (lag < window)).astype(float)  # row t: steps t − window + 1 … t
    weights = sparse.csr_matrix(np.kron(space, time))  # bin (i, t) is row i · steps + t, self included
    expected = gi_star(counts.ravel(), weights).z.reshape(counts.shape)
    result = emerging_hotspots(xy, counts, distance=500, time_window=window)
    np.testing.assert_allclose(result.gi_z, expected, rtol=1e-9, atol=1e-12)


def test_hot_and_cold_bins_follow_alpha_and_fdr():
    rng = np.random.default_rng(3)
    xy = np.column_stack(np.divmod(np.arange(400), 20)) * 500.0
    counts = rng.poisson(5, (400, 4)).astype(float)
    counts[:30, :] += 6
    plain = emerging_hotspots(xy, counts, 750)
    assert np.array_equal(plain.hot_cold == 1, (plain.gi_p <= 0.05) & (plain.gi_z > 0))
    assert np.array_equal(plain.hot_cold == -1, (plain.gi_p <= 0.05) & (plain.gi_z < 0))
    fdr = emerging_hotspots(xy, counts, 750, fdr=True)
    for t in range(4):  # Benjamini–Hochberg by hand, per step
        p = plain.gi_p[:, t]
        order = np.sort(p)
        passing = np.flatnonzero(order <= 0.05 * np.arange(1, 401) / 400)
        cutoff = order[passing[-1]] if len(passing) else -1.0
        assert np.array_equal(fdr.hot_cold[:, t] != 0, p <= cutoff)
    assert (fdr.hot_cold != 0).sum() <= (plain.hot_cold != 0).sum()
    np.testing.assert_array_equal(plain.n_hot, (plain.hot_cold == 1).sum(axis=1))
    np.testing.assert_array_equal(plain.n_cold, (plain.hot_cold == -1).sum(axis=1))


# --------------------------------------------------------------------------------------------------
# categories on hand-made sequences
# --------------------------------------------------------------------------------------------------
def classify_one(sequence, trend_z=0.0, trend_p=1.0):
    state = np.array([[{"H": 1, "C": -1, ".": 0}[ch] for ch in sequence]], dtype=np.int8)
    return int(classify_patterns(state, np.array([trend_z]), np.array([trend_p]), 0.05)[0])


@pytest.mark.parametrize(
    "sequence, trend, expected",
    [
        (".........H", None, 1),  # new
        ("......HHHH", None, 2),  # consecutive
        ("HHHHHHHHHH", "up", 3),  # intensifying
        ("HHHHHHHHHH", None, 4),  # persistent
        (".HHHHHHHHH", None, 4),  # 9 of 10 steps is 90 %
        ("HHHHHHHHHH", "down", 5),  # diminishing
        ("H.HH.HH..H", None, 6),  # sporadic
        ("HH.......H", None, 6),  # hot before the final run: not new, not consecutive
        ("..HHHHHHH.", None, 0),  # 7 of 10 hot, then not: no pattern
        ("C........H", None, 7),  # oscillating takes precedence over new
        ("C.....HHHH", None, 7),
        ("HHHHHHHHH.", None, 8),  # historical
        ("HHHHHHHHH.", "up", 8),
        (".........C", None, -1),
        ("......CCCC", None, -2),
        ("CCCCCCCCCC", "down", -3),  # colder and colder
        ("CCCCCCCCCC", None, -4),
        ("CCCCCCCCCC", "up", -5),
        ("C..C.C...C", None, -6),
        ("H..H....CC", None, -7),
        ("CCCCCCCCC.", None, -8),
        ("HHHHHHHHHC", None, -7),  # final step cold: read as a cold pattern
        ("..........", "up", 0),
        ("HHHHH", None, 4),  # 5 steps: 90 % means every step
        ("HHHH.", None, 0),
        (".HHHH", None, 2),
    ],
)
def test_category_rules(sequence, trend, expected):
    trend_z, trend_p = {None: (0.5, 0.6), "up": (3.0, 0.001), "down": (-3.0, 0.001)}[trend]
    assert classify_one(sequence, trend_z, trend_p) == expected


def test_pattern_names():
    assert PATTERN_NAMES[0] == "No Pattern Detected"
    assert [PATTERN_NAMES[k] for k in range(1, 9)] == [
        "New Hot Spot", "Consecutive Hot Spot", "Intensifying Hot Spot", "Persistent Hot Spot",
        "Diminishing Hot Spot", "Sporadic Hot Spot", "Oscillating Hot Spot", "Historical Hot Spot",
    ]
    assert PATTERN_NAMES[-3] == "Intensifying Cold Spot" and PATTERN_NAMES[-8] == "Historical Cold Spot"
    assert list(pattern_names(np.array([0, 4, -7]))) == ["No Pattern Detected", "Persistent Hot Spot",
                                                        "Oscillating Cold Spot"]


# --------------------------------------------------------------------------------------------------
# planted patterns
# --------------------------------------------------------------------------------------------------
SIDE, STEPS = 20, 10
_T = np.arange(STEPS)
#: category → ((block centre row, column), counts added to the 3 × 3 block's Poisson(20) background per step,
#: or None for a block set to FLAT_VALUE everywhere). The seed is fixed: a background-level step of a block can
#: still be a chance cold spot (about 2 seeds in 100 turn New/Consecutive into Oscillating that way).
PLANTS = {
    1: ((3, 3), np.where(_T == 9, 15.0, 0.0)),
    2: ((3, 9), np.where(_T >= 7, 15.0, 0.0)),
    3: ((3, 15), np.linspace(12, 40, STEPS)),
    4: ((9, 3), None),  # exactly 40 in every cell and step: flat, so no trend at all
    5: ((9, 9), np.linspace(40, 16, STEPS)),
    6: ((9, 15), np.where(_T % 2 == 1, 15.0, 0.0)),
    7: ((15, 9), np.where(_T == 9, 15.0, 0.0)),  # and zero counts in steps 0–2 (cold then hot)
    8: ((15, 3), np.where(_T <= 8, 20.0, 0.0)),
    -4: ((15, 15), None),  # zero counts throughout
}
FLAT_VALUE = {4: 40.0, -4: 0.0}


def planted_cube(seed=42):
    rng = np.random.default_rng(seed)
    row, col = np.divmod(np.arange(SIDE * SIDE), SIDE)
    xy = np.column_stack([col * 500.0, row * 500.0])
    counts = rng.poisson(20, (SIDE * SIDE, STEPS)).astype(float)
    near_block = np.zeros(SIDE * SIDE, dtype=bool)
    for category, ((r, c), added) in PLANTS.items():
        block = (abs(row - r) <= 1) & (abs(col - c) <= 1)
        near_block |= (abs(row - r) <= 3) & (abs(col - c) <= 3)
        if added is None:
            counts[block] = FLAT_VALUE[category]
        else:
            counts[block] += added
        if category == 7:
            counts[np.ix_(block, _T <= 2)] = 0.0
    centres = {category: r * SIDE + c for category, ((r, c), _) in PLANTS.items()}
    return xy, counts, centres, ~near_block


@pytest.mark.parametrize("fdr", [False, True])
def test_planted_patterns_are_recovered(fdr):
    xy, counts, centres, background = planted_cube()
    result = emerging_hotspots(xy, counts, distance=750, time_window=1, fdr=fdr)
    found = {category: int(result.category[i]) for category, i in centres.items()}
    assert found == {category: category for category in centres}
    for category, i in centres.items():
        assert result.pattern[i] == PATTERN_NAMES[category]
    assert np.mean(result.category[background] == 0) >= 0.9
    # the trend fields say what was planted
    assert result.hs_trend_z[centres[3]] > 0 and result.hs_trend_p[centres[3]] <= 0.05
    assert result.hs_trend_z[centres[5]] < 0 and result.hs_trend_p[centres[5]] <= 0.05
    assert result.trend_z[centres[3]] > 0 and result.trend_p[centres[3]] <= 0.05
    assert result.n_hot[centres[4]] == STEPS and result.n_cold[centres[-4]] == STEPS
    assert result.hs_trend_z[centres[4]] == 0 and result.hs_trend_p[centres[4]] == 1  # flat: all z tied
    assert result.n_cold[centres[7]] == 3 and result.n_hot[centres[7]] == 1


def test_time_window_reaches_back():
    """With a window of 3 steps, a burst in step 5 stays in the neighbourhood of steps 5–7."""
    xy, counts, _, _ = planted_cube(seed=5)
    counts = np.random.default_rng(5).poisson(20, counts.shape).astype(float)
    block = np.flatnonzero((np.abs(np.arange(400) // 20 - 10) <= 1) & (np.abs(np.arange(400) % 20 - 10) <= 1))
    counts[block, 5] += 40
    centre = 10 * 20 + 10
    one = emerging_hotspots(xy, counts, 750, time_window=1)
    three = emerging_hotspots(xy, counts, 750, time_window=3)
    assert list(np.flatnonzero(one.hot_cold[centre] == 1)) == [5]
    assert list(np.flatnonzero(three.hot_cold[centre] == 1)) == [5, 6, 7]


# --------------------------------------------------------------------------------------------------
# errors, warnings, progress
# --------------------------------------------------------------------------------------------------
GOOD_XY = np.array([[0, 0], [100, 0], [0, 100], [100, 100]], dtype=float)
GOOD_COUNTS = np.array([[1, 2, 3], [0, 1, 0], [2, 2, 5], [1, 0, 0]], dtype=float)


@pytest.mark.parametrize(
    "xy, counts, kwargs, message",
    [
        (GOOD_XY, GOOD_COUNTS[:, :1], {}, "at least 2 time steps"),
        (GOOD_XY[:2], GOOD_COUNTS[:2], {}, "at least 3 locations"),
        (GOOD_XY, np.full((4, 3), 4.0), {}, "same count"),
        (GOOD_XY, np.where(GOOD_COUNTS == 5, np.nan, GOOD_COUNTS), {}, "1 bin"),
        (GOOD_XY, np.where(GOOD_COUNTS == 5, np.inf, GOOD_COUNTS), {}, "no numeric count"),
        (GOOD_XY, GOOD_COUNTS, {"distance": 0}, "distance must be a positive"),
        (GOOD_XY, GOOD_COUNTS, {"distance": -5}, "distance must be a positive"),
        (GOOD_XY, GOOD_COUNTS, {"time_window": 0}, "time window"),
        (GOOD_XY, GOOD_COUNTS, {"time_window": 1.5}, "time window"),
        (GOOD_XY, GOOD_COUNTS, {"alpha": 1.5}, "significance level"),
        (GOOD_XY, GOOD_COUNTS[:3], {}, "one row per location"),
    ],
)
def test_bad_input_raises(xy, counts, kwargs, message):
    options = {"distance": 150.0, **kwargs}
    with pytest.raises(CreativeClustersError, match=message):
        emerging_hotspots(xy, counts, **options)


def test_warnings_for_few_steps_and_lone_locations():
    result = emerging_hotspots(GOOD_XY, GOOD_COUNTS, distance=50)
    assert any("Only 3 time steps" in w for w in result.warnings)
    assert any("4 location(s) have no other location within 50 m" in w for w in result.warnings)
    np.testing.assert_array_equal(result.n_neighbors, 0)
    assert np.all(np.isfinite(result.gi_z))  # a lone location still has its own bins


def test_every_bin_a_neighbour_is_undefined():
    """3 locations within the distance and a 2-step window: at step 1 every bin of the cube is a neighbour."""
    counts = np.array([[1.0, 4.0], [2.0, 0.0], [5.0, 3.0]])
    result = emerging_hotspots(GOOD_XY[:3], counts, distance=500, time_window=2)
    assert np.all(np.isnan(result.gi_z[:, 1])) and np.all(np.isfinite(result.gi_z[:, 0]))
    assert np.all(np.isnan(result.hs_trend_z)) and np.all(result.category == 0)
    assert any("3 bin(s) have every bin of the cube as a neighbour" in w for w in result.warnings)


def test_mann_kendall_nan_row():
    s, var, z, p = mann_kendall([[1.0, np.nan, 3.0], [1.0, 2.0, 3.0]])
    assert np.isnan([s[0], var[0], z[0], p[0]]).all() and s[1] == 3


def test_progress_and_cancel():
    seen = []
    emerging_hotspots(GOOD_XY, GOOD_COUNTS, 150, callback=lambda f: seen.append(f) and False)
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)
    with pytest.raises(CancelledError):
        emerging_hotspots(GOOD_XY, GOOD_COUNTS, 150, callback=lambda f: f > 0.5)


# --------------------------------------------------------------------------------------------------
# dates → steps → cube
# --------------------------------------------------------------------------------------------------
def test_time_steps_two_year_steps_with_missing_and_out_of_range():
    dates = np.array(["2011-03-05", "NaT", "2012-12-31", "2013-01-01", "2016-06-30", "2009-12-31", "2016-07-01"],
                     dtype="datetime64[D]")
    steps = time_steps(dates, 2, start="2011-01-01", end="2016-06-30")
    np.testing.assert_array_equal(steps.index, [0, -1, 0, 1, 2, -1, -1])
    np.testing.assert_array_equal(steps.step_starts, np.array(["2011-01-01", "2013-01-01", "2015-01-01"],
                                                              dtype="datetime64[D]"))
    np.testing.assert_array_equal(steps.step_ends, np.array(["2013-01-01", "2015-01-01", "2017-01-01"],
                                                            dtype="datetime64[D]"))
    assert steps.n_missing == 1 and steps.n_out_of_range == 2
    assert any("only 75 % covered" in w for w in steps.warnings)  # 2015-01-01 … 2016-06-30 of two years


def test_time_steps_defaults_floor_to_first_january():
    dates = np.array(["2014-05-01", "2016-12-31", "2015-01-01", "NaT"], dtype="datetime64[D]")
    steps = time_steps(dates, 1)
    np.testing.assert_array_equal(steps.step_starts, np.array(["2014-01-01", "2015-01-01", "2016-01-01"],
                                                              dtype="datetime64[D]"))
    np.testing.assert_array_equal(steps.index, [0, 2, 1, -1])
    assert steps.n_missing == 1 and steps.n_out_of_range == 0 and steps.warnings == []


def test_time_steps_quarters_and_decimal_years():
    steps = time_steps(np.array([2020.0, 2020.3, 2020.99, np.nan]), 0.25)
    np.testing.assert_array_equal(steps.index, [0, 1, 3, -1])
    assert steps.step_starts[1] == np.datetime64("2020-04-01") and steps.n_missing == 1


def test_time_steps_rejects_bad_input():
    with pytest.raises(CreativeClustersError, match="whole number of months"):
        time_steps(np.array(["2020-01-01"], dtype="datetime64[D]"), 0.3)
    with pytest.raises(CreativeClustersError, match="No firm has a valid date"):
        time_steps(np.array(["NaT"], dtype="datetime64[D]"), 1)
    with pytest.raises(CreativeClustersError, match="period is empty"):
        time_steps(np.array(["2020-01-01"], dtype="datetime64[D]"), 1, start="2021-01-01", end="2020-06-01")


def test_count_cube():
    cube = count_cube([0, 0, 2, 1, 2, -1, 0], [1, 1, 0, -1, 2, 0, 0], n_locations=3, n_steps=3)
    np.testing.assert_array_equal(cube, [[1, 2, 0], [0, 0, 0], [1, 0, 1]])
    assert cube.dtype == np.float64
    with pytest.raises(CreativeClustersError, match="beyond"):
        count_cube([3], [0], 3, 3)


def test_dates_to_cube_to_analysis():
    dates = np.array(["2010-02-01", "2011-07-01", "2011-08-01", "NaT"], dtype="datetime64[D]")
    steps = time_steps(dates, 1, end="2011-12-31")
    cube = count_cube([0, 1, 1, 2], steps.index, 3, len(steps.step_starts))
    np.testing.assert_array_equal(cube, [[1, 0], [0, 2], [0, 0]])


# --------------------------------------------------------------------------------------------------
# scale
# --------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_hundred_thousand_locations_twelve_steps():
    """100,489 cells × 12 steps, 8 neighbours each, with FDR: about a second here."""
    side = 317
    row, col = np.divmod(np.arange(side * side), side)
    xy = np.column_stack([col * 500.0, row * 500.0])
    counts = np.random.default_rng(0).poisson(3, (side * side, 12)).astype(float)
    result = emerging_hotspots(xy, counts, distance=750, time_window=2, fdr=True)
    assert result.gi_z.shape == (side * side, 12) and np.all(np.isfinite(result.gi_z))
    assert np.mean(result.category == 0) > 0.95  # noise only
