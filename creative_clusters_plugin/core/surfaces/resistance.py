"""Resistance (cost per metre) grids for corridor analysis: the grid, its inputs, and its memory budget.

A **resistance** value r(x) is the cost of crossing one metre of cell x (Linkage Mapper's "cost-weighted
distance" convention). A move between two neighbouring cells a and b of an 8-connected grid costs
``L · (r_a + r_b) / 2`` with L the distance between the cell centres (the cell size, or √2 × cell size on a
diagonal), as in ArcGIS *Cost Distance*, GRASS ``r.cost`` and scikit-image ``MCP_Geometric``. With the
default base resistance of 1, cost units are "metres of ordinary ground".

The resistance surface is built from an optional given RESISTANCE raster and optional modifiers::

    r = base × f_density × f_transport × f_station

    base        the RESISTANCE raster value, or 1 when no raster is given
    f_density   1 / (1 + a · min(density / p95, 1))    (a = ``density_weight``, default 4; p95 = the 95th
                percentile of the positive density cells; dense creative areas are cheap to cross: the densest
                5 % of cells cost 1 / (1 + a) = 1/5 of ordinary ground by default)
    f_transport ``transport_factor`` (default 0.2) within ``transport_buffer`` metres (default 500 m) of a
                TRANSPORT line (motorway, rail …), else 1
    f_station   ``station_factor`` (default 0.5) within ``station_radius`` metres (default 800 m, a walk)
                of a STATIONS point, else 1

Nodata: a RESISTANCE cell that is nodata, NaN or infinite is **impassable** (the cost-distance never enters
it). A DENSITY cell that is nodata means "no firms there" (density 0): the density modifies costs but never
makes a cell impassable. Resistance values must be positive: zero or negative values are an error (set such
cells to nodata to make them barriers, or to a small positive cost).

Rasters in another CRS, or another cell size, are warped onto the analysis grid with rasterio (values:
average of the finer cells; a resistance cell is impassable when at least half of it is nodata). Coarsening
can open barriers thinner than a cell: keep CELL_SIZE no coarser than the narrowest barrier.

References: McRae & Kavanagh (2011) *Linkage Mapper Connectivity Analysis Software*; Adriaensen et al.
(2003) *The application of 'least-cost' modelling as a functional landscape model*, Landscape and Urban
Planning 64(4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import CreativeClustersError, check_callback
from ..memory import available_memory, format_bytes
from .grid import Grid

#: rough peak bytes per grid cell of the corridor pipeline: resistance (8), labels (4), corridor mosaic (4),
#: one full-grid scikit-image MCP window (~60: costs, cumulative costs, traceback, edge maps, heap), temporaries
BYTES_PER_CELL = 80
#: hard ceiling on the number of cells whatever the memory (index types, run time)
MAX_CELLS = 400_000_000


# --------------------------------------------------------------------------------------------------------
# the grid
# --------------------------------------------------------------------------------------------------------
def grid_from_bounds(bounds, cell_size: float, crs=None, margin: float = 0.0) -> Grid:
    """Grid covering ``bounds`` (xmin, ymin, xmax, ymax) plus ``margin`` metres, snapped to the cell size."""
    cell_size = float(cell_size)
    if not (cell_size > 0 and math.isfinite(cell_size)):
        raise CreativeClustersError(f"The cell size must be a positive number of metres (got {cell_size}).")
    xmin, ymin, xmax, ymax = (float(v) for v in bounds)
    if not all(math.isfinite(v) for v in (xmin, ymin, xmax, ymax)) or xmax < xmin or ymax < ymin:
        raise CreativeClustersError("The clusters have no valid extent: check their geometries and CRS.")
    return Grid.snapped((xmin, ymin, xmax, ymax), cell_size, margin=margin, crs=crs)


def nice_cell_size(extent_length: float, target_cells: int = 1000) -> float:
    """A round cell size (1, 2 or 5 × 10^k metres) giving about ``target_cells`` cells along the extent."""
    raw = max(float(extent_length), 1.0) / float(target_cells)
    exponent = math.floor(math.log10(raw))
    for step in (1.0, 2.0, 5.0, 10.0):
        if step * 10**exponent >= raw:
            return step * 10**exponent
    return 10.0 ** (exponent + 1)


# --------------------------------------------------------------------------------------------------------
# memory
# --------------------------------------------------------------------------------------------------------
def check_grid_memory(height: int, width: int, bytes_per_cell: float = BYTES_PER_CELL, memory_limit=None) -> int:
    """Raise a clear error when a grid of ``height × width`` cells would not fit in memory.

    ``memory_limit`` (bytes) defaults to 80 % of the available memory. Returns the bytes needed.
    """
    n_cells = int(height) * int(width)
    needed = int(n_cells * bytes_per_cell)
    limit = memory_limit
    if limit is None:
        available = available_memory()
        limit = int(0.8 * available) if available else None
    if n_cells > MAX_CELLS or (limit is not None and needed > limit):
        limit_text = f"about {format_bytes(limit)} is available" if limit is not None else "too much for one run"
        raise CreativeClustersError(
            f"The analysis grid would have {int(height):,} × {int(width):,} = {n_cells:,} cells and need about "
            f"{format_bytes(needed)} of memory; {limit_text}"
            f"{'' if n_cells <= MAX_CELLS else f' (and more than the {MAX_CELLS:,}-cell limit)'}. "
            "Use a larger CELL_SIZE (doubling the cell size needs a quarter of the memory) or a smaller area."
        )
    return needed


# --------------------------------------------------------------------------------------------------------
# raster inputs
# --------------------------------------------------------------------------------------------------------
@dataclass
class RasterData:
    """One band of a raster read with rasterio: ``array`` (2-D), ``transform``, ``crs``, ``nodata``."""

    array: np.ndarray
    transform: object
    crs: object = None
    nodata: float | None = None

    @classmethod
    def read(cls, path, band: int = 1) -> "RasterData":
        """Read one band of a GDAL raster file."""
        import rasterio

        try:
            with rasterio.open(path) as dataset:
                if band < 1 or band > dataset.count:
                    raise CreativeClustersError(f"The raster {path} has no band {band}.")
                array = dataset.read(band)
                return cls(array, dataset.transform, dataset.crs, dataset.nodata)
        except rasterio.errors.RasterioIOError as error:
            raise CreativeClustersError(f"The raster {path} could not be read ({error}).") from error

    @property
    def is_north_up(self) -> bool:
        t = self.transform
        return t.b == 0 and t.d == 0 and t.a > 0 and t.e < 0

    def valid_mask(self) -> np.ndarray:
        """True where the raster has a finite value that is not the nodata value."""
        values = np.asarray(self.array)
        valid = np.isfinite(values) if values.dtype.kind == "f" else np.ones(values.shape, dtype=bool)
        if self.nodata is not None and not (isinstance(self.nodata, float) and math.isnan(self.nodata)):
            valid &= values != self.nodata
        return valid

    def bounds(self):
        import rasterio.transform

        height, width = self.array.shape
        return rasterio.transform.array_bounds(height, width, self.transform)[:4]


def _crs_object(crs):
    from .raster_io import to_rasterio_crs

    return to_rasterio_crs(crs)


def crs_to_wkt(crs) -> str | None:
    """WKT of any CRS rasterio understands (None stays None)."""
    crs = _crs_object(crs)
    return None if crs is None else crs.to_wkt()


def auto_cell_size(raster: "RasterData", crs=None, target_cells: int = 1000) -> float:
    """A round cell size giving about ``target_cells`` cells along the raster's extent expressed in ``crs``."""
    from rasterio.warp import transform_bounds

    bounds = raster.bounds()
    if crs is not None and raster.crs is not None and _crs_object(crs) != _crs_object(raster.crs):
        bounds = transform_bounds(_crs_object(raster.crs), _crs_object(crs), *bounds, densify_pts=21)
    return nice_cell_size(max(bounds[2] - bounds[0], bounds[3] - bounds[1]), target_cells)


def is_geographic(crs) -> bool:
    """True for a geographic (degrees) CRS."""
    crs = _crs_object(crs)
    return bool(crs is not None and crs.is_geographic)


def same_grid(raster: RasterData, grid: Grid) -> bool:
    """True when ``raster`` is exactly on ``grid`` (same shape, transform and CRS): no warping needed."""
    if raster.array.shape != grid.shape:
        return False
    if not np.allclose(tuple(raster.transform)[:6], tuple(grid.transform)[:6], rtol=0, atol=1e-9 * grid.cell_size):
        return False
    a, b = _crs_object(raster.crs), _crs_object(grid.crs)
    return a is None or b is None or a == b


def resample_to_grid(raster: RasterData, grid: Grid, nodata_share: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Warp ``raster`` onto ``grid``: returns (values float64, valid mask).

    Values are the average of the source cells covering each grid cell (rasterio ``Resampling.average``;
    nearest value when the grid is finer). A grid cell is valid when less than ``nodata_share`` of it is
    nodata or outside the raster.
    """
    from rasterio.enums import Resampling
    from rasterio.warp import reproject

    valid = raster.valid_mask()
    if same_grid(raster, grid):
        values = np.where(valid, np.asarray(raster.array, dtype=np.float64), np.nan)
        return values, valid
    src_crs = _crs_object(raster.crs) or _crs_object(grid.crs)
    dst_crs = _crs_object(grid.crs) or src_crs
    if src_crs is None:  # neither has a CRS: both in the same local metres; any projected CRS warps identically
        src_crs = dst_crs = _crs_object("EPSG:3857")
    source = np.where(valid, np.asarray(raster.array, dtype=np.float64), np.nan)
    values = np.full(grid.shape, np.nan, dtype=np.float64)
    reproject(
        source,
        values,
        src_transform=raster.transform,
        src_crs=src_crs,
        src_nodata=np.nan,
        dst_transform=grid.transform,
        dst_crs=dst_crs,
        dst_nodata=np.nan,
        resampling=Resampling.average,
    )
    coverage = np.zeros(grid.shape, dtype=np.float64)
    reproject(
        valid.astype(np.float64),
        coverage,
        src_transform=raster.transform,
        src_crs=src_crs,
        src_nodata=None,
        dst_transform=grid.transform,
        dst_crs=dst_crs,
        dst_nodata=0.0,
        init_dest_nodata=False,
        resampling=Resampling.average,
    )
    ok = (coverage > 1.0 - nodata_share) & np.isfinite(values)
    return np.where(ok, values, np.nan), ok


def grid_for_raster(raster: RasterData, cell_size: float = 0.0, crs=None) -> Grid:
    """The analysis grid of a raster: its own grid when ``cell_size`` is 0 (or equal) and it is north-up in
    ``crs``; otherwise a north-up grid over its extent (transformed to ``crs``) at ``cell_size``."""
    from rasterio.warp import transform_bounds

    target_crs = _crs_object(crs) or _crs_object(raster.crs)
    same_crs = _crs_object(raster.crs) is None or target_crs is None or _crs_object(raster.crs) == target_crs
    native = abs(raster.transform.a)
    if same_crs and raster.is_north_up and (not cell_size or math.isclose(cell_size, native, rel_tol=1e-9)):
        height, width = raster.array.shape
        return Grid.from_transform(raster.transform, height, width, target_crs)
    bounds = raster.bounds()
    if not same_crs:
        bounds = transform_bounds(_crs_object(raster.crs), target_crs, *bounds, densify_pts=21)
    if not cell_size:
        if not same_crs:
            raise CreativeClustersError(
                "The raster is in another CRS than the analysis: set CELL_SIZE (metres) so it can be warped."
            )
        cell_size = native
    return grid_from_bounds(bounds, cell_size, target_crs)


# --------------------------------------------------------------------------------------------------------
# the resistance surface
# --------------------------------------------------------------------------------------------------------
@dataclass
class ResistanceWeights:
    """Documented default weights of the resistance modifiers (see the module docstring)."""

    base: float = 1.0
    density_weight: float = 4.0
    density_percentile: float = 95.0
    transport_factor: float = 0.2
    transport_buffer: float = 500.0
    station_factor: float = 0.5
    station_radius: float = 800.0

    def validate(self):
        if not (self.base > 0 and math.isfinite(self.base)):
            raise CreativeClustersError("The base resistance must be a positive number.")
        if self.density_weight < 0:
            raise CreativeClustersError("The density weight must be zero or positive.")
        if not 0 < self.density_percentile <= 100:
            raise CreativeClustersError("The density percentile must be in (0, 100].")
        for name in ("transport_factor", "station_factor"):
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                raise CreativeClustersError(f"The {name.replace('_', ' ')} must be a positive multiplier (got {value}).")
        for name in ("transport_buffer", "station_radius"):
            if getattr(self, name) < 0:
                raise CreativeClustersError(f"The {name.replace('_', ' ')} must be zero or positive metres.")


@dataclass
class ResistanceResult:
    """``values`` float64 on ``grid`` (cost per metre; ``inf`` = impassable), a ``summary`` dict for the log
    and ``warnings``."""

    values: np.ndarray
    grid: Grid
    summary: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)

    @property
    def passable(self) -> np.ndarray:
        return np.isfinite(self.values)


def _rasterise_mask(geometries, grid: Grid) -> np.ndarray:
    from rasterio.features import rasterize

    shapes = [(geom, 1) for geom in geometries if geom is not None and not geom.is_empty]
    if not shapes:
        return np.zeros(grid.shape, dtype=bool)
    mask = rasterize(shapes, out_shape=grid.shape, transform=grid.transform, fill=0, all_touched=True, dtype="uint8")
    return mask.astype(bool)


def _within_distance(mask: np.ndarray, distance: float, cell_size: float) -> np.ndarray:
    """Cells whose centre lies within ``distance`` metres of a cell of ``mask`` (Euclidean distance transform)."""
    from scipy.ndimage import distance_transform_edt

    if not mask.any():
        return mask
    if distance < cell_size / 2:
        return mask
    dist = distance_transform_edt(~mask, sampling=(cell_size, cell_size))
    return dist <= distance


def build_resistance(
    grid: Grid,
    resistance: RasterData | None = None,
    density: RasterData | None = None,
    transport=None,
    stations=None,
    weights: ResistanceWeights | None = None,
    callback=None,
    memory_limit=None,
) -> ResistanceResult:
    """Build the resistance (cost per metre) of every cell of ``grid``.

    Parameters
    ----------
    grid : Grid
        The analysis grid (projected CRS, metres).
    resistance : RasterData, optional
        A given resistance raster (cost per metre, positive; nodata = impassable). Default: 1 everywhere.
    density : RasterData, optional
        A creative density raster (any positive unit); cheap to cross where dense (see module docstring).
    transport : sequence of shapely geometries, optional
        Lines (motorways, rail) in the grid CRS; cells within ``weights.transport_buffer`` are cheaper.
    stations : sequence of shapely geometries, optional
        Points (stations) in the grid CRS; cells within ``weights.station_radius`` are cheaper.
    weights : ResistanceWeights, optional
        Modifier weights; documented defaults.
    callback : callable(fraction) -> bool, optional
        Progress; return True to cancel (raises CancelledError).
    memory_limit : int, optional
        Bytes allowed (default 80 % of the available memory); the grid is checked before any allocation.
    """
    weights = weights or ResistanceWeights()
    weights.validate()
    check_grid_memory(grid.height, grid.width, memory_limit=memory_limit)
    warnings: list[str] = []
    summary: dict = {"cells": f"{grid.height} × {grid.width}", "cell_size": grid.cell_size, "components": []}
    check_callback(callback, 0.0)
    values = _base_resistance(grid, resistance, weights, summary)
    check_callback(callback, 0.3)
    values = _apply_density(values, grid, density, weights, summary, warnings)
    check_callback(callback, 0.55)
    values = _apply_transport(values, grid, transport, weights, summary, warnings)
    check_callback(callback, 0.8)
    values = _apply_stations(values, grid, stations, weights, summary, warnings)
    check_callback(callback, 1.0)
    _summarise_resistance(values, summary, warnings)
    return ResistanceResult(values=values, grid=grid, summary=summary, warnings=warnings)


def _base_resistance(grid: Grid, resistance, weights: ResistanceWeights, summary: dict) -> np.ndarray:
    """The base cost per cell: the RESISTANCE raster warped onto ``grid`` (nodata = inf) or the uniform base."""
    if resistance is None:
        summary["components"].append(f"uniform base cost {weights.base:g}")
        return np.full(grid.shape, float(weights.base), dtype=np.float64)
    values, valid = resample_to_grid(resistance, grid)
    given = values[valid]
    if given.size == 0:
        raise CreativeClustersError(
            "The resistance raster has no valid cell inside the analysis area: check its extent, CRS and nodata."
        )
    bad = int(np.count_nonzero(given <= 0))
    if bad:
        raise CreativeClustersError(
            f"The resistance raster has {bad:,} cell(s) with zero or negative cost. Resistance is a cost per "
            "metre and must be positive: set barrier cells to nodata (impassable) and free cells to a small "
            "positive cost."
        )
    values = np.where(valid, values * weights.base, np.inf)
    summary["components"].append("resistance raster")
    impassable = int(np.count_nonzero(~valid))
    if impassable:
        summary["impassable_cells"] = impassable
    return values


def _apply_density(values, grid: Grid, density, weights: ResistanceWeights, summary: dict, warnings: list):
    """Divide ``values`` by 1 + a · min(density / percentile, 1) (f_density); unchanged without density."""
    if density is None or not weights.density_weight > 0:
        return values
    dens, dvalid = resample_to_grid(density, grid)
    dens = np.where(dvalid & np.isfinite(dens), dens, 0.0)
    negative = int(np.count_nonzero(dens < 0))
    if negative:
        warnings.append(f"The density raster has {negative:,} negative cell(s); they were read as 0.")
        dens = np.clip(dens, 0.0, None)
    positive = dens[dens > 0]
    if positive.size == 0:
        warnings.append("The density raster is empty (no positive cell) inside the analysis area; it was ignored.")
        return values
    reference = float(np.percentile(positive, weights.density_percentile))
    ratio = np.minimum(dens / reference, 1.0)
    summary["components"].append(
        f"density (cost / (1 + {weights.density_weight:g} × density / {reference:.4g}), "
        f"p{weights.density_percentile:g} = {reference:.4g})"
    )
    return values / (1.0 + weights.density_weight * ratio)


def _apply_transport(values, grid: Grid, transport, weights: ResistanceWeights, summary: dict, warnings: list):
    """Multiply ``values`` by the transport factor within the transport buffer of a TRANSPORT line (f_transport)."""
    return _apply_near(
        values, grid, transport, weights.transport_factor, weights.transport_buffer, summary, warnings,
        missing="No TRANSPORT line crosses the analysis area; transport was ignored.",
        describe=lambda mask, near: (f"transport × {weights.transport_factor:g} within {weights.transport_buffer:g} m "
                                     f"({100 * near.mean():.1f} % of cells)"),
    )


def _apply_stations(values, grid: Grid, stations, weights: ResistanceWeights, summary: dict, warnings: list):
    """Multiply ``values`` by the station factor within the station radius of a STATIONS point (f_station)."""
    return _apply_near(
        values, grid, stations, weights.station_factor, weights.station_radius, summary, warnings,
        missing="No STATIONS point lies inside the analysis area; stations were ignored.",
        describe=lambda mask, near: (f"stations × {weights.station_factor:g} within {weights.station_radius:g} m "
                                     f"({int(mask.sum())} station cell(s))"),
    )


def _apply_near(values, grid: Grid, features, factor: float, distance: float, summary: dict, warnings: list,
                missing: str, describe):
    """Multiply ``values`` by ``factor`` within ``distance`` of ``features`` (none, or a factor of 1: unchanged)."""
    if features is None or not len(features) or factor == 1.0:
        return values
    mask = _rasterise_mask(features, grid)
    if not mask.any():
        warnings.append(missing)
        return values
    near = _within_distance(mask, distance, grid.cell_size)
    summary["components"].append(describe(mask, near))
    return np.where(near, values * factor, values)


def _summarise_resistance(values: np.ndarray, summary: dict, warnings: list) -> None:
    """Refuse an all-impassable surface, warn when most of it is impassable, and add min/median/max to ``summary``."""
    passable = np.isfinite(values)
    if not passable.any():
        raise CreativeClustersError("Every cell of the resistance surface is nodata (impassable): nothing can be crossed.")
    share = 1.0 - passable.mean()
    if share > 0.5:
        warnings.append(f"{100 * share:.0f} % of the analysis area is impassable (nodata in the resistance raster).")
    finite = values[passable]
    summary.update(min=float(finite.min()), median=float(np.median(finite)), max=float(finite.max()))
