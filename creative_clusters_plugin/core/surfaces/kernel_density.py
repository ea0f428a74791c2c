"""Kernel density of points on a raster grid: quartic and Gaussian kernels, weights, relative density.

Kernels (both integrate to 1 over the plane, so a surface integrates to the number of points, or to the sum
of the weights)::

    quartic (biweight), radius h:   K(d) = 3 / (π h²) · (1 − d²/h²)²        for d < h, 0 beyond
    Gaussian, σ = the bandwidth:    K(d) = exp(−d² / 2σ²) / (2π σ² · (1 − e^(−t²/2)))   for d ≤ t·σ, 0 beyond

The Gaussian is truncated at ``t = GAUSSIAN_TRUNCATION = 4`` standard deviations (the tail beyond holds
e^(−8) ≈ 0.03 % of the mass) and renormalised so it still integrates to 1.

**The quartic constant.** QGIS 3.22's *Heatmap (Kernel Density Estimation)* scales its quartic kernel by
116 / (5 π h²) · 15/16 = 21.75 / (π h²) instead of 3 / (π h²), so its "scaled" surface integrates to about
7.25 times the number of points (fixed upstream in 2025). ArcGIS Pro's *Kernel Density* uses the correct
3 / (π h²) (Silverman 1986, eq. 4.5).

**Output values.** ``VALUES_PER_KM2`` — density in points (or weight) per square kilometre: the surface
times the cell area in km², summed, gives the number of points; ``VALUES_PER_CELL`` — expected number of
points in each cell: the raster sums to the number of points.

**Fast algorithm** (default, ``method="fft"``): points are *linearly binned* to the cell centres (each
point's weight is shared between the four surrounding centres in proportion to its proximity — Wand 1994,
*Fast computation of multivariate kernel estimators*, JCGS 3(4)), then the binned grid is convolved with
the kernel sampled at the cell-centre offsets (real FFTs, ``scipy.fft``). The sampled kernel is
rescaled so its cells sum exactly to 1 (the factor, reported as ``kernel_normalisation``, is the ratio of
the Riemann sum of the continuous kernel to 1: 1.000 ± 0.001 from about 5 cells per bandwidth up; it departs
from 1 when the bandwidth is under two cells — a warning is given then). Consequences, the *discretisation
error* of the fast surface:

* mass: the surface integrates to the points inside the grid's reach exactly (to floating-point round-off,
  ~1e-12 relative), so with the default extent (points' bounds + the kernel's support) it sums to n;
* values: at a cell, the fast value differs from the *direct* evaluation (the continuous kernel at the cell
  centre, from each point's exact position — ``method="direct"``, QGIS's and ArcGIS's way) by the linear-
  binning error, of order (cell/bandwidth)² relative to the peak; measured on clustered points (quartic):
  0.09 % of the peak value at 20 cells per bandwidth, 0.4 % at 10, 1.3 % at 5 (Gaussian, σ = 5 cells:
  0.2 %). Use ``method="direct"`` when exact values matter more than speed.

Round-off of the FFT leaves values of ~1e-16 of the peak where there is no point: anything under
``1e-10`` × a single point's peak is set to exactly 0.

**Automatic bandwidth** (``bandwidth=0``): the spatial variant of Silverman's rule that ArcGIS Pro's Kernel
Density uses for its default search radius::

    h = 0.9 · min(SD, sqrt(1 / ln 2) · Dm) · n^(−0.2)

SD = standard distance of the points about their (weighted) mean centre, sqrt(Σ w d² / Σ w); Dm = the
(weighted) median distance to the mean centre; n = the number of points, or the sum of the weights. h is the
quartic radius. For the Gaussian kernel σ = h / √8, the standard deviation per axis of a quartic kernel of
radius h, so switching kernel keeps the same amount of smoothing.

**Relative density** (:func:`relative_density`): the density of a subset (creative firms) divided by the
density of all firms with the same kernel, bandwidth and grid — the local share. It is masked (NaN, written as
nodata) where the all-firm density is too low to mean anything: where it is below ``min_reference`` times the
peak of a single point's kernel, i.e. where fewer than ``min_reference`` (default 5) firms' worth of kernel
mass reach the cell (a lone firm gives exactly 1 at its own location).

**Memory.** The fast path holds about ``BYTES_PER_CELL`` bytes per cell of the grid padded by the kernel's
radius; a grid that would not fit in the memory budget (default: half the available memory, at most
``MAX_CELLS`` cells) is refused with the size it would need.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import CreativeClustersError, check_callback
from ..memory import available_memory, format_bytes
from .grid import Grid

QUARTIC, GAUSSIAN = 0, 1
KERNEL_NAMES = ("Quartic (biweight)", "Gaussian")
VALUES_PER_KM2, VALUES_PER_CELL = 0, 1
VALUES_NAMES = ("Density (points per km²)", "Expected number of points per cell")
GAUSSIAN_TRUNCATION = 4.0
DEFAULT_MIN_REFERENCE = 5.0
#: peak bytes per cell of the FFT grid (the output padded by twice the kernel's reach) on the fast path:
#: the binned grid (8), the bincount result (8), two half spectra (2 × 8), the inverse transform (8), the
#: float64 and float32 outputs (12)
BYTES_PER_CELL = 52
#: hard ceiling on the number of cells whatever the memory
MAX_CELLS = 500_000_000
#: values below this fraction of one point's kernel peak are FFT round-off and set to 0
ROUNDOFF_FRACTION = 1e-10


# --------------------------------------------------------------------------------------------------------
# kernels
# --------------------------------------------------------------------------------------------------------
def support_radius(kernel: int, bandwidth: float) -> float:
    """Distance beyond which the kernel is 0: h for quartic, t·σ for the truncated Gaussian."""
    return float(bandwidth) * (GAUSSIAN_TRUNCATION if kernel == GAUSSIAN else 1.0)


def kernel_values(kernel: int, distance, bandwidth: float) -> np.ndarray:
    """K(d) per square metre (integrates to 1 over the plane) at distances ``distance`` (metres)."""
    d = np.asarray(distance, dtype=float)
    h = float(bandwidth)
    if kernel == QUARTIC:
        u2 = (d / h) ** 2
        return np.where(u2 < 1.0, 3.0 / (math.pi * h * h) * (1.0 - u2) ** 2, 0.0)
    if kernel == GAUSSIAN:
        t = GAUSSIAN_TRUNCATION
        norm = 2.0 * math.pi * h * h * (1.0 - math.exp(-t * t / 2.0))
        return np.where(d <= t * h, np.exp(-(d * d) / (2.0 * h * h)) / norm, 0.0)
    raise CreativeClustersError(f"Unknown kernel {kernel}: 0 quartic, 1 Gaussian.")


def kernel_peak(kernel: int, bandwidth: float) -> float:
    """K(0) per square metre."""
    return float(kernel_values(kernel, 0.0, bandwidth))


# --------------------------------------------------------------------------------------------------------
# automatic bandwidth
# --------------------------------------------------------------------------------------------------------
def _weighted_median(values, weights):
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cumulative = np.cumsum(w)
    return float(v[np.searchsorted(cumulative, 0.5 * cumulative[-1])])


def automatic_bandwidth(xy, weights=None, kernel: int = QUARTIC) -> tuple[float, dict]:
    """ArcGIS Pro's default search radius (spatial Silverman rule); returns ``(bandwidth, details)``.

    ``bandwidth`` is the quartic radius h, or σ = h / √8 for the Gaussian kernel. ``details`` holds
    ``sd`` (standard distance), ``dm`` (median distance), ``n`` and ``radius`` (h) for the log.
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    w = np.ones(len(xy)) if weights is None else np.asarray(weights, dtype=float)
    n = float(w.sum())
    if len(xy) < 2 or n <= 0:
        raise CreativeClustersError(
            "The automatic bandwidth needs at least two points: set BANDWIDTH (metres) explicitly."
        )
    centre = (xy * w[:, None]).sum(axis=0) / n
    d = np.hypot(xy[:, 0] - centre[0], xy[:, 1] - centre[1])
    sd = math.sqrt(float((w * d * d).sum()) / n)
    dm = _weighted_median(d, w)
    radius = 0.9 * min(sd, math.sqrt(1.0 / math.log(2.0)) * dm) * n ** -0.2
    if not radius > 0:
        raise CreativeClustersError(
            "All points are at the same place (or more than half of them are), so the automatic bandwidth "
            "is 0: set BANDWIDTH (metres) explicitly."
        )
    bandwidth = radius / math.sqrt(8.0) if kernel == GAUSSIAN else radius
    return bandwidth, {"sd": sd, "dm": dm, "n": n, "radius": radius}


# --------------------------------------------------------------------------------------------------------
# the grid
# --------------------------------------------------------------------------------------------------------
#: the density grid is the shared :class:`.grid.Grid` (old name kept for the benchmarks)
DensityGrid = Grid


def grid_for_points(xy, pixel_size: float, margin: float = 0.0, extent=None) -> Grid:
    """Grid of square ``pixel_size`` cells.

    Without ``extent``: the points' bounds plus ``margin`` on every side, snapped outward to multiples of the
    pixel size (grids of different runs align). With ``extent`` (xmin, ymin, xmax, ymax): that extent's
    top-left corner, enough cells to cover it.
    """
    pixel_size = _check_pixel_size(pixel_size)
    if extent is not None:
        xmin, ymin, xmax, ymax = (float(v) for v in extent)
        if not all(math.isfinite(v) for v in (xmin, ymin, xmax, ymax)) or xmax <= xmin or ymax <= ymin:
            raise CreativeClustersError("The output extent is empty or invalid: give an extent with a positive width and height.")
        return Grid.covering((xmin, ymin, xmax, ymax), pixel_size)
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if len(xy) == 0:
        raise CreativeClustersError("There are no points to compute a density from.")
    xmin, ymin = xy.min(axis=0)
    xmax, ymax = xy.max(axis=0)
    return Grid.snapped((xmin, ymin, xmax, ymax), pixel_size, margin=margin)


def _check_pixel_size(pixel_size) -> float:
    try:
        value = float(pixel_size)
    except (TypeError, ValueError):
        value = float("nan")
    if not (value > 0 and math.isfinite(value)):
        raise CreativeClustersError(f"PIXEL_SIZE must be a positive number of metres (got {pixel_size}).")
    return value


# --------------------------------------------------------------------------------------------------------
# memory
# --------------------------------------------------------------------------------------------------------
def _fft_shape(rows: int, cols: int, kernel_shape) -> tuple:
    import scipy.fft as sfft

    return (
        sfft.next_fast_len(rows + kernel_shape[0] - 1, real=True),
        sfft.next_fast_len(cols + kernel_shape[1] - 1, real=True),
    )


def check_memory(grid: Grid, pad_rows: int = 0, pad_cols: int = 0, memory_budget: float | None = None) -> int:
    """Bytes the computation needs; raises :class:`CreativeClustersError` when over the budget.

    ``pad_rows``/``pad_cols``: the kernel's reach in cells; the FFT works on the grid padded by twice that.
    """
    rows = grid.height + 4 * pad_rows
    cols = grid.width + 4 * pad_cols
    cells = float(rows) * float(cols)
    needed = cells * BYTES_PER_CELL
    budget = (available_memory() or 4 * 1024**3) * 0.5 if memory_budget is None else float(memory_budget)
    if cells > MAX_CELLS or needed > budget:
        raise CreativeClustersError(
            f"The density raster would have {grid.height:,} rows × {grid.width:,} columns "
            f"({float(grid.height) * grid.width:.3g} cells; {cells:.3g} with the kernel's margin) and would need "
            f"about {format_bytes(needed)} of memory, more than the {format_bytes(min(budget, MAX_CELLS * BYTES_PER_CELL))} "
            "allowed. Use a larger PIXEL_SIZE (doubling it needs a quarter of the memory), a smaller extent or a "
            "smaller bandwidth."
        )
    return int(needed)


# --------------------------------------------------------------------------------------------------------
# the estimate
# --------------------------------------------------------------------------------------------------------
@dataclass
class KDEResult:
    """A density surface: ``values`` (float32, rows north to south) in ``units`` on ``grid``."""

    values: np.ndarray
    grid: Grid
    kernel: int
    bandwidth: float
    units: int
    n_points: int
    total_weight: float
    #: points (weight) whose kernel mass falls inside the grid: equals values' integral up to discretisation
    integral: float
    #: K(0) of one point in the output units (relative density's mask uses it)
    peak: float
    kernel_normalisation: float = 1.0
    method: str = "fft"
    bandwidth_details: dict | None = None
    warnings: list = field(default_factory=list)

    @property
    def unit_label(self) -> str:
        return "per km²" if self.units == VALUES_PER_KM2 else "per cell"


def _prepare_points(xy, weights):
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if weights is None:
        w = np.ones(len(xy))
    else:
        w = np.asarray(weights, dtype=float).reshape(-1)
        if len(w) != len(xy):
            raise CreativeClustersError("There must be one weight per point.")
    finite = np.isfinite(xy).all(axis=1)
    if not finite.all():
        raise CreativeClustersError(f"{int((~finite).sum())} point(s) have no valid coordinates (NULL geometry).")
    if not np.isfinite(w).all():
        raise CreativeClustersError("Some weights are NULL or not finite: fill or exclude them first.")
    if (w < 0).any():
        raise CreativeClustersError(f"{int((w < 0).sum())} weight(s) are negative: weights must be 0 or more.")
    keep = w > 0
    xy, w = xy[keep], w[keep]
    if len(xy) == 0:
        raise CreativeClustersError("There are no points (with a positive weight) to compute a density from.")
    return xy, w


def kernel_density(
    xy,
    weights=None,
    bandwidth: float = 0.0,
    pixel_size: float | None = None,
    kernel: int = QUARTIC,
    units: int = VALUES_PER_KM2,
    grid: Grid | None = None,
    extent=None,
    method: str = "fft",
    memory_budget: float | None = None,
    callback=None,
) -> KDEResult:
    """Kernel density of points (projected metres) on a grid.

    ``bandwidth`` — quartic radius h or Gaussian σ in metres, 0 = :func:`automatic_bandwidth`.
    ``grid`` — a :class:`.grid.Grid` to use as is (a template); else one of ``pixel_size`` cells over
    ``extent`` or over the points' bounds plus the kernel's support (so all the mass is inside).
    ``method`` — ``"fft"`` (linear binning + convolution, fast) or ``"direct"`` (the kernel at every cell
    centre from each point's exact position: slow, the reference). Weights must be ≥ 0 (0 = left out).
    """
    if kernel not in (QUARTIC, GAUSSIAN):
        raise CreativeClustersError(f"Unknown kernel {kernel}: 0 quartic, 1 Gaussian.")
    if units not in (VALUES_PER_KM2, VALUES_PER_CELL):
        raise CreativeClustersError(f"Unknown output values {units}: 0 per km², 1 per cell.")
    if method not in ("fft", "direct"):
        raise CreativeClustersError(f"Unknown method {method!r}: 'fft' or 'direct'.")
    xy, w = _prepare_points(xy, weights)
    warnings: list[str] = []
    details = None
    try:
        bandwidth = float(bandwidth or 0.0)
    except (TypeError, ValueError):
        bandwidth = float("nan")
    if not (math.isfinite(bandwidth) and bandwidth >= 0):
        raise CreativeClustersError(f"BANDWIDTH must be 0 (automatic) or a positive number of metres (got {bandwidth}).")
    if bandwidth == 0:
        bandwidth, details = automatic_bandwidth(xy, w, kernel)
    support = support_radius(kernel, bandwidth)
    if grid is None:
        if pixel_size is None:
            raise CreativeClustersError("Give PIXEL_SIZE (metres) or a template grid.")
        grid = grid_for_points(xy, pixel_size, margin=support, extent=extent)
    if float(np.ptp(xy, axis=0).max()) < 1e-6:
        warnings.append("All points are at the same place: the surface is a single kernel bump.")
    pad_r = int(math.ceil(support / grid.cell_height)) + 1
    pad_c = int(math.ceil(support / grid.cell_width)) + 1
    check_memory(grid, pad_r, pad_c, memory_budget)
    if min(grid.cell_width, grid.cell_height) * 2 > bandwidth:
        warnings.append(
            f"The bandwidth ({bandwidth:,.0f} m) is less than two pixels ({grid.cell_width:,.0f} m): the surface is "
            "coarse and its values approximate. Use a smaller PIXEL_SIZE or a larger BANDWIDTH."
        )
    check_callback(callback, 0.0)
    if method == "fft":
        per_m2, normalisation = _fft_density(xy, w, grid, kernel, bandwidth, pad_r, pad_c, callback)
    else:
        per_m2, normalisation = _direct_density(xy, w, grid, kernel, bandwidth, callback), 1.0
    check_callback(callback, 0.95)
    factor = 1e6 if units == VALUES_PER_KM2 else grid.cell_area
    integral = float(per_m2.sum() * grid.cell_area)
    values = (per_m2 * factor).astype(np.float32)
    total = float(w.sum())
    if integral < total * (1 - 1e-3):
        warnings.append(
            f"{100 * (1 - integral / total):.1f} % of the points' kernel mass falls outside the output extent."
        )
    check_callback(callback, 1.0)
    return KDEResult(
        values=values,
        grid=grid,
        kernel=kernel,
        bandwidth=float(bandwidth),
        units=units,
        n_points=int(len(xy)),
        total_weight=total,
        integral=integral,
        peak=kernel_peak(kernel, bandwidth) * factor,
        kernel_normalisation=float(normalisation),
        method=method,
        bandwidth_details=details,
        warnings=warnings,
    )


def discrete_kernel(kernel: int, bandwidth: float, cell_width: float, cell_height: float):
    """The kernel sampled at cell-centre offsets, rescaled so that Σ K · cell area = 1.

    Returns ``(array, normalisation)`` where ``normalisation`` = Σ K_continuous · cell area before rescaling.
    """
    support = support_radius(kernel, bandwidth)
    rr = int(math.ceil(support / cell_height))
    rc = int(math.ceil(support / cell_width))
    dy = np.arange(-rr, rr + 1, dtype=float)[:, None] * cell_height
    dx = np.arange(-rc, rc + 1, dtype=float)[None, :] * cell_width
    k = kernel_values(kernel, np.hypot(dx, dy), bandwidth)
    total = float(k.sum() * cell_width * cell_height)
    if total <= 0:  # bandwidth far below the cell: all the mass goes to the point's cell
        k = np.zeros((2 * rr + 1, 2 * rc + 1))
        k[rr, rc] = 1.0 / (cell_width * cell_height)
        total = 0.0
    else:
        k = k / total
    return k, total


def _fft_density(xy, w, grid, kernel, bandwidth, pad_r, pad_c, callback):
    import scipy.fft as sfft

    rows = grid.height + 2 * pad_r
    cols = grid.width + 2 * pad_c
    # continuous index of each point in the padded grid, cell centres at integers
    fc = (xy[:, 0] - grid.x0) / grid.cell_width - 0.5 + pad_c
    fr = (grid.y0 - xy[:, 1]) / grid.cell_height - 0.5 + pad_r
    r0 = np.floor(fr)
    c0 = np.floor(fc)
    tr = fr - r0
    tc = fc - c0
    r0 = r0.astype(np.int64)
    c0 = c0.astype(np.int64)
    binned = np.zeros(rows * cols, dtype=float)
    for dr, dc, share in (
        (0, 0, (1 - tr) * (1 - tc)),
        (0, 1, (1 - tr) * tc),
        (1, 0, tr * (1 - tc)),
        (1, 1, tr * tc),
    ):
        r = r0 + dr
        c = c0 + dc
        inside = (r >= 0) & (r < rows) & (c >= 0) & (c < cols)
        binned += np.bincount(r[inside] * cols + c[inside], weights=(w * share)[inside], minlength=rows * cols)
    binned = binned.reshape(rows, cols)
    check_callback(callback, 0.2)
    k, normalisation = discrete_kernel(kernel, bandwidth, grid.cell_width, grid.cell_height)
    kr, kc = (k.shape[0] - 1) // 2, (k.shape[1] - 1) // 2
    # linear convolution by real FFTs (float64); the output cell (i, j) is centred on padded cell
    # (i + pad_r, j + pad_c), i.e. at index (i + pad_r + kr, j + pad_c + kc) of the full convolution
    shape = _fft_shape(rows, cols, k.shape)
    spectrum = sfft.rfft2(binned, s=shape)
    del binned
    spectrum *= sfft.rfft2(k, s=shape)
    check_callback(callback, 0.6)
    full = sfft.irfft2(spectrum, s=shape)
    del spectrum
    r_off, c_off = pad_r + kr, pad_c + kc
    out = np.array(full[r_off : r_off + grid.height, c_off : c_off + grid.width], dtype=float)
    del full
    out[out < ROUNDOFF_FRACTION * float(k.max())] = 0.0
    return out, normalisation


def _direct_density(xy, w, grid, kernel, bandwidth, callback):
    """The continuous kernel at every cell centre within reach of each point (loop over cell offsets)."""
    support = support_radius(kernel, bandwidth)
    rr = int(math.ceil(support / grid.cell_height)) + 1
    rc = int(math.ceil(support / grid.cell_width)) + 1
    out = np.zeros(grid.n_cells)
    row, col = grid.rowcol(xy[:, 0], xy[:, 1])
    steps = 2 * rr + 1
    for i, dr in enumerate(range(-rr, rr + 1)):
        check_callback(callback, 0.9 * i / steps)
        r = row + dr
        ok_r = (r >= 0) & (r < grid.height)
        if not ok_r.any():
            continue
        cy = grid.y0 - (r + 0.5) * grid.cell_height
        index, value = [], []
        for dc in range(-rc, rc + 1):
            c = col + dc
            cx = grid.x0 + (c + 0.5) * grid.cell_width
            d = np.hypot(cx - xy[:, 0], cy - xy[:, 1])
            ok = ok_r & (c >= 0) & (c < grid.width) & (d <= support)
            if ok.any():
                index.append(r[ok] * grid.width + c[ok])
                value.append(w[ok] * kernel_values(kernel, d[ok], bandwidth))
        if index:
            out += np.bincount(np.concatenate(index), weights=np.concatenate(value), minlength=grid.n_cells)
    return out.reshape(grid.shape)


# --------------------------------------------------------------------------------------------------------
# relative density
# --------------------------------------------------------------------------------------------------------
def relative_density(subset: KDEResult, reference: KDEResult, min_reference: float = DEFAULT_MIN_REFERENCE):
    """Subset density / reference density, NaN where the reference is below ``min_reference`` point peaks.

    Both surfaces must share the grid, kernel, bandwidth and units. Returns ``(ratio, masked_fraction)``
    with ``ratio`` float32.
    """
    if subset.grid != reference.grid or subset.values.shape != reference.values.shape:
        raise CreativeClustersError("The two density surfaces must be on the same grid.")
    if subset.kernel != reference.kernel or not math.isclose(subset.bandwidth, reference.bandwidth) or subset.units != reference.units:
        raise CreativeClustersError("The two density surfaces must use the same kernel, bandwidth and units.")
    if not (min_reference >= 0 and math.isfinite(min_reference)):
        raise CreativeClustersError("The minimum reference density must be 0 or more.")
    floor = max(float(min_reference) * reference.peak, ROUNDOFF_FRACTION * reference.peak)
    ref = reference.values.astype(float)
    valid = ref >= floor
    ratio = np.full(ref.shape, np.nan, dtype=np.float32)
    ratio[valid] = (subset.values[valid].astype(float) / ref[valid]).astype(np.float32)
    return ratio, float(1.0 - valid.mean())


__all__ = [
    "GAUSSIAN",
    "Grid",
    "KDEResult",
    "KERNEL_NAMES",
    "QUARTIC",
    "VALUES_NAMES",
    "VALUES_PER_CELL",
    "VALUES_PER_KM2",
    "automatic_bandwidth",
    "check_memory",
    "discrete_kernel",
    "grid_for_points",
    "kernel_density",
    "kernel_values",
    "relative_density",
]
