"""The raster grid shared by density, resistance / cost distance and GeoTIFF reading and writing.

A :class:`Grid` is north-up (row 0 is the northern edge, no rotation): top-left corner (``x0``, ``y0``),
cells ``cell_width`` × ``cell_height`` map units, ``height`` rows × ``width`` columns, and an optional ``crs``
(anything :func:`rasterio.crs.CRS.from_user_input` accepts — WKT, "EPSG:27700", an EPSG integer, a rasterio
CRS — or None). It gives the rasterio transform (:attr:`Grid.transform`, an ``affine.Affine``) and the GDAL
geotransform (:attr:`Grid.geotransform`), cell centres (:meth:`Grid.xy`), the cells containing points
(:meth:`Grid.rowcol`), sub-windows (:meth:`Grid.window`), and is built from a transform
(:meth:`Grid.from_transform`), from bounds snapped outward to multiples of the cell size
(:meth:`Grid.snapped`), or to cover an extent from its top-left corner (:meth:`Grid.covering`).

No QGIS import; ``affine`` (a rasterio dependency) is imported only when a transform is asked for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..errors import CreativeClustersError


@dataclass(frozen=True)
class Grid:
    """North-up grid: top-left corner (``x0``, ``y0``), cells ``cell_width`` × ``cell_height``, ``height`` rows ×
    ``width`` columns (row 0 is the northern edge), ``crs`` (WKT, "EPSG:n", an EPSG integer, a rasterio CRS, or
    None)."""

    x0: float
    y0: float
    cell_width: float
    cell_height: float
    height: int
    width: int
    crs: object = None

    # --- size -------------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        """(rows, columns)."""
        return (int(self.height), int(self.width))

    @property
    def n_cells(self) -> int:
        return int(self.height) * int(self.width)

    @property
    def cell_size(self) -> float:
        """The cell width (the side of square cells)."""
        return float(abs(self.cell_width))

    @property
    def cell_area(self) -> float:
        return self.cell_width * self.cell_height

    @property
    def bounds(self) -> tuple:
        """(xmin, ymin, xmax, ymax)."""
        return (self.x0, self.y0 - self.height * self.cell_height, self.x0 + self.width * self.cell_width, self.y0)

    # --- georeferencing ---------------------------------------------------------------------------
    @property
    def transform(self):
        """affine.Affine for rasterio."""
        from affine import Affine

        return Affine(self.cell_width, 0.0, self.x0, 0.0, -self.cell_height, self.y0)

    @property
    def geotransform(self) -> tuple:
        """GDAL geotransform (x0, cell width, 0, y0, 0, −cell height)."""
        return (self.x0, self.cell_width, 0.0, self.y0, 0.0, -self.cell_height)

    def xy(self, row, col):
        """Coordinates of the centres of cells (row, col) (float arrays)."""
        x = self.x0 + (np.asarray(col, dtype=float) + 0.5) * self.cell_width
        y = self.y0 - (np.asarray(row, dtype=float) + 0.5) * self.cell_height
        return x, y

    def rowcol(self, x, y):
        """Row and column (int64 arrays, may be outside the grid) of the cells containing points x, y."""
        col = np.floor((np.asarray(x, dtype=float) - self.x0) / self.cell_width).astype(np.int64)
        row = np.floor((self.y0 - np.asarray(y, dtype=float)) / self.cell_height).astype(np.int64)
        return row, col

    def window(self, row0: int, col0: int, height: int | None = None, width: int | None = None) -> "Grid":
        """The sub-grid whose top-left cell is (``row0``, ``col0``); ``height``/``width`` default to the rest."""
        return replace(
            self,
            x0=self.x0 + col0 * self.cell_width,
            y0=self.y0 - row0 * self.cell_height,
            height=int(self.height - row0 if height is None else height),
            width=int(self.width - col0 if width is None else width),
        )

    def window_transform(self, row0: int, col0: int):
        """Transform of the sub-window whose top-left cell is (``row0``, ``col0``)."""
        return self.window(row0, col0).transform

    def with_crs(self, crs) -> "Grid":
        return replace(self, crs=crs)

    # --- construction -----------------------------------------------------------------------------
    @classmethod
    def from_transform(cls, transform, height: int, width: int, crs=None) -> "Grid":
        """From an affine transform (north-up, no rotation) or a GDAL geotransform 6-tuple."""
        if hasattr(transform, "a"):
            a, b, c, d, e, f = transform.a, transform.b, transform.c, transform.d, transform.e, transform.f
        else:
            c, a, b, f, d, e = (float(v) for v in transform)
        if b != 0 or d != 0 or a <= 0 or e >= 0:
            raise CreativeClustersError("The template raster must be north-up without rotation.")
        return cls(float(c), float(f), float(a), float(-e), int(height), int(width), crs)

    @classmethod
    def snapped(cls, bounds, cell_size: float, margin: float = 0.0, crs=None) -> "Grid":
        """Square cells over ``bounds`` (xmin, ymin, xmax, ymax) plus ``margin`` on every side, snapped outward to
        multiples of the cell size (grids of different runs align); at least one cell each way."""
        cell_size = float(cell_size)
        xmin, ymin, xmax, ymax = bounds
        xmin = math.floor((xmin - margin) / cell_size) * cell_size
        ymin = math.floor((ymin - margin) / cell_size) * cell_size
        xmax = max(math.ceil((xmax + margin) / cell_size) * cell_size, xmin + cell_size)
        ymax = max(math.ceil((ymax + margin) / cell_size) * cell_size, ymin + cell_size)
        width = int(round((xmax - xmin) / cell_size))
        height = int(round((ymax - ymin) / cell_size))
        return cls(xmin, ymax, cell_size, cell_size, height, width, crs)

    @classmethod
    def covering(cls, extent, cell_size: float, crs=None) -> "Grid":
        """Square cells from the top-left corner of ``extent`` (xmin, ymin, xmax, ymax), enough to cover it."""
        cell_size = float(cell_size)
        xmin, ymin, xmax, ymax = (float(v) for v in extent)
        width = max(1, math.ceil((xmax - xmin) / cell_size - 1e-9))
        height = max(1, math.ceil((ymax - ymin) / cell_size - 1e-9))
        return cls(xmin, ymax, cell_size, cell_size, height, width, crs)


__all__ = ["Grid"]
