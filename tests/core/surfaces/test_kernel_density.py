"""Kernel density: mass, values against a direct evaluation written here with plain loops, kernels,
weights, automatic bandwidth, relative density and bad input.

Discretisation error of the fast (binned + FFT) surface, as documented in core.kernel_density:
* mass: conserved exactly (linear binning shares each weight, the sampled kernel is rescaled to sum to 1),
  so the raster's integral equals n to floating-point round-off (we allow 1e-6 relative, float32 output);
* values: linear-binning error ≈ (pixel / bandwidth)² of the peak (0.09 % measured at 20 pixels per
  bandwidth): with 20 pixels per bandwidth we allow 0.3 % of the surface's peak.
"""

import math

import numpy as np
import pytest

from creative_clusters_plugin.core.errors import CreativeClustersError
from creative_clusters_plugin.core.surfaces.grid import Grid
from creative_clusters_plugin.core.surfaces.kernel_density import (
    GAUSSIAN,
    QUARTIC,
    VALUES_PER_CELL,
    VALUES_PER_KM2,
    automatic_bandwidth,
    kernel_density,
    kernel_values,
    relative_density,
)


def clustered_points(n=600, seed=3):
    rng = np.random.default_rng(seed)
    centres = np.array([[10_000.0, 20_000.0], [14_000.0, 22_500.0], [11_500.0, 25_000.0]])
    pick = rng.integers(0, 3, n)
    pts = centres[pick] + rng.normal(scale=900.0, size=(n, 2))
    pts[: n // 6] = rng.uniform([6_000, 16_000], [18_000, 28_000], size=(n // 6, 2))
    return pts


def reference_value(xy, weights, cx, cy, kernel, h):
    """Kernel sum at one cell centre, written independently with a plain Python loop over the points."""
    total = 0.0
    for (x, y), w in zip(xy, weights):
        d2 = (cx - x) ** 2 + (cy - y) ** 2
        if kernel == QUARTIC:
            if d2 < h * h:
                total += w * 3.0 / (math.pi * h * h) * (1.0 - d2 / (h * h)) ** 2
        else:
            if d2 <= (4 * h) ** 2:
                total += w * math.exp(-d2 / (2 * h * h)) / (2 * math.pi * h * h * (1 - math.exp(-8.0)))
    return total


def sample_cells(result, count=12, seed=0):
    """Cells spread over the surface: the peak, some random cells with a value, some empty ones."""
    rng = np.random.default_rng(seed)
    values = result.values
    peak = np.unravel_index(np.argmax(values), values.shape)
    nonzero = np.argwhere(values > 0.05 * values.max())
    picks = nonzero[rng.choice(len(nonzero), count, replace=False)]
    zero = np.argwhere(values == 0)
    cells = [tuple(peak)] + [tuple(p) for p in picks]
    if len(zero):
        cells.append(tuple(zero[len(zero) // 2]))
    return cells


@pytest.mark.parametrize("kernel,h,pixel", [(QUARTIC, 1000.0, 50.0), (GAUSSIAN, 400.0, 20.0)])
def test_fast_surface_matches_direct_evaluation_and_sums_to_n(kernel, h, pixel):
    xy = clustered_points()
    w = np.ones(len(xy))
    result = kernel_density(xy, bandwidth=h, pixel_size=pixel, kernel=kernel, units=VALUES_PER_KM2)
    # mass: density per km² × cell area in km² sums to the number of points
    integral = float(result.values.astype(float).sum()) * pixel * pixel / 1e6
    assert integral == pytest.approx(len(xy), rel=1e-6)
    assert result.integral == pytest.approx(len(xy), rel=1e-9)
    assert result.kernel_normalisation == pytest.approx(1.0, abs=2e-3)
    grid = result.grid
    peak_value = float(result.values.max())
    for row, col in sample_cells(result):
        cx, cy = grid.xy(row, col)
        expected = reference_value(xy, w, float(cx), float(cy), kernel, h) * 1e6  # per km²
        assert abs(float(result.values[row, col]) - expected) <= 0.003 * peak_value, (row, col)
    # the exact evaluation in core equals the independent loop to float32 precision
    direct = kernel_density(xy, bandwidth=h, kernel=kernel, grid=grid, method="direct")
    for row, col in sample_cells(result, seed=1):
        cx, cy = grid.xy(row, col)
        expected = reference_value(xy, w, float(cx), float(cy), kernel, h) * 1e6
        assert float(direct.values[row, col]) == pytest.approx(expected, rel=1e-5, abs=1e-9 * peak_value)
    # and the whole fast surface is within the stated binning error of the direct one
    assert np.abs(result.values - direct.values).max() <= 0.003 * peak_value


def test_kernels_integrate_to_one_and_quartic_constant_is_three_over_pi_h2():
    h = 700.0
    step = 2.0
    grid = np.arange(-4 * h, 4 * h + step, step)
    xx, yy = np.meshgrid(grid, grid)
    d = np.hypot(xx, yy)
    for kernel in (QUARTIC, GAUSSIAN):
        mass = kernel_values(kernel, d, h).sum() * step * step
        assert mass == pytest.approx(1.0, abs=1e-4)
    assert float(kernel_values(QUARTIC, 0.0, h)) == pytest.approx(3.0 / (math.pi * h * h))
    # QGIS 3.22 Heatmap's constant 116/(5πh²)·15/16 is 7.25 times larger
    assert 116.0 / (5 * math.pi * h * h) * 15 / 16 / float(kernel_values(QUARTIC, 0.0, h)) == pytest.approx(7.25)
    assert float(kernel_values(QUARTIC, h, h)) == 0.0
    assert float(kernel_values(GAUSSIAN, 4.01 * h, h)) == 0.0


def test_count_per_cell_sums_to_n_and_equals_density_times_cell_area():
    xy = clustered_points(300)
    per_km2 = kernel_density(xy, bandwidth=800, pixel_size=40)
    per_cell = kernel_density(xy, bandwidth=800, pixel_size=40, units=VALUES_PER_CELL)
    assert float(per_cell.values.astype(float).sum()) == pytest.approx(300, rel=1e-6)
    np.testing.assert_allclose(per_cell.values, per_km2.values * (40 * 40 / 1e6), rtol=1e-5, atol=1e-12)


def test_weights_equal_duplicated_points_and_match_direct_loop():
    rng = np.random.default_rng(8)
    xy = clustered_points(200)
    w = rng.integers(1, 5, len(xy)).astype(float)
    weighted = kernel_density(xy, w, bandwidth=900, pixel_size=50)
    duplicated = kernel_density(np.repeat(xy, w.astype(int), axis=0), bandwidth=900, grid=weighted.grid)
    np.testing.assert_allclose(weighted.values, duplicated.values, rtol=1e-5, atol=1e-6 * weighted.values.max())
    assert weighted.integral == pytest.approx(w.sum(), rel=1e-9)
    assert weighted.total_weight == pytest.approx(w.sum())
    peak = float(weighted.values.max())
    for row, col in sample_cells(weighted, count=6):
        cx, cy = weighted.grid.xy(row, col)
        expected = reference_value(xy, w, float(cx), float(cy), QUARTIC, 900.0) * 1e6
        assert abs(float(weighted.values[row, col]) - expected) <= 0.003 * peak
    # zero weight = left out
    w0 = w.copy()
    w0[:50] = 0
    assert kernel_density(xy, w0, bandwidth=900, pixel_size=50).n_points == len(xy) - 50


def test_automatic_bandwidth_is_arcgis_rule():
    xy = clustered_points(500)
    centre = xy.mean(axis=0)
    d = np.sqrt(((xy - centre) ** 2).sum(axis=1))
    sd = math.sqrt((d**2).mean())
    dm = float(np.median(d))
    expected = 0.9 * min(sd, math.sqrt(1 / math.log(2)) * dm) * 500 ** -0.2
    h, details = automatic_bandwidth(xy)
    assert h == pytest.approx(expected, rel=2e-3)  # median of an even count: we take the lower middle value
    assert details["sd"] == pytest.approx(sd)
    sigma, _ = automatic_bandwidth(xy, kernel=GAUSSIAN)
    assert sigma == pytest.approx(h / math.sqrt(8))
    result = kernel_density(xy, bandwidth=0, pixel_size=50)
    assert result.bandwidth == pytest.approx(h)
    assert result.bandwidth_details["radius"] == pytest.approx(h)


def test_relative_density_is_ratio_masked_where_reference_is_low():
    rng = np.random.default_rng(5)
    all_firms = clustered_points(1500, seed=9)
    creative = all_firms[rng.random(len(all_firms)) < 0.3]
    lone = np.array([[30_000.0, 30_000.0]])  # a lone firm far away: reference ≈ 1 peak there
    all_firms = np.vstack([all_firms, lone])
    creative = np.vstack([creative, lone])
    h = 800.0
    sub = kernel_density(creative, bandwidth=h, pixel_size=100)
    ref = kernel_density(all_firms, bandwidth=h, grid=sub.grid)
    ratio, masked = relative_density(sub, ref, min_reference=5)
    floor = 5 * 3 / (math.pi * h * h) * 1e6
    valid = ref.values >= floor
    assert np.isnan(ratio[~valid]).all()
    np.testing.assert_allclose(ratio[valid], sub.values[valid] / ref.values[valid], rtol=1e-6)
    assert masked == pytest.approx(1 - valid.mean())
    assert np.nanmax(ratio) <= 1.0 + 1e-5  # creative firms are a subset of all firms
    row, col = np.floor((sub.grid.y0 - 30_000.0) / 100).astype(int), np.floor((30_000.0 - sub.grid.x0) / 100).astype(int)
    assert np.isnan(ratio[row, col])  # one firm is not enough for a share
    share = np.nanmedian(ratio)
    assert 0.2 < share < 0.4
    # different grids are refused
    other = kernel_density(all_firms, bandwidth=h, pixel_size=50)
    with pytest.raises(CreativeClustersError):
        relative_density(sub, other)


def test_template_grid_and_extent():
    xy = clustered_points(200)
    grid = Grid(5_000.0, 30_000.0, 100.0, 100.0, 150, 140)
    result = kernel_density(xy, bandwidth=1000, grid=grid)
    assert result.values.shape == (150, 140)
    assert result.grid == grid
    clipped = kernel_density(xy, bandwidth=1000, pixel_size=100, extent=(9_000, 19_000, 12_000, 22_000))
    assert clipped.values.shape == (30, 30)
    assert clipped.integral < 200
    assert any("outside the output extent" in w for w in clipped.warnings)


def test_bad_input():
    xy = clustered_points(100)
    with pytest.raises(CreativeClustersError, match="no points"):
        kernel_density(np.empty((0, 2)), bandwidth=100, pixel_size=10)
    same = np.full((20, 2), 5000.0)
    with pytest.raises(CreativeClustersError, match="same place"):
        kernel_density(same, bandwidth=0, pixel_size=10)
    single = kernel_density(same, bandwidth=200, pixel_size=10)
    assert single.integral == pytest.approx(20)
    assert any("same place" in w for w in single.warnings)
    with pytest.raises(CreativeClustersError, match="NULL geometry"):
        kernel_density(np.vstack([xy, [[np.nan, np.nan]]]), bandwidth=100, pixel_size=10)
    for pixel in (0, -5, float("nan")):
        with pytest.raises(CreativeClustersError, match="PIXEL_SIZE"):
            kernel_density(xy, bandwidth=100, pixel_size=pixel)
    with pytest.raises(CreativeClustersError, match="BANDWIDTH"):
        kernel_density(xy, bandwidth=-1, pixel_size=10)
    with pytest.raises(CreativeClustersError, match="negative"):
        kernel_density(xy, -np.ones(len(xy)), bandwidth=100, pixel_size=10)
    with pytest.raises(CreativeClustersError, match=r"would need about .* of memory"):
        kernel_density(xy, bandwidth=100, pixel_size=0.01)
    with pytest.raises(CreativeClustersError, match=r"rows × .* columns"):
        kernel_density(xy, bandwidth=100, pixel_size=10, memory_budget=1e6)
